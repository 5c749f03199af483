//! `GET /audit/stream`: the audit events as Server-Sent Events.

use std::{convert::Infallible, fmt::Write as _, time::Duration};

use actix_web::{
    http::header::{self, ContentEncoding},
    web::{self, Bytes},
    HttpRequest, HttpResponse,
};
use futures_util::stream;
use serde::Deserialize;

use crate::{
    actors::{AuditHandle, AuditQuery, StoredEvent, Subscription},
    Error, Warden,
};

/// Longest accepted `filter`.
const MAX_FILTER: usize = 64;
/// Live events gathered into one chunk when several are queued.
const LIVE_BATCH: usize = 64;

/// The query string of [`audit_stream`].
#[derive(Debug, Default, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct StreamQuery {
    /// Only events whose name starts with this (`csrf.`, `auth.*`): up to 64 characters of
    /// `a-z 0-9 . _` with an optional trailing `*`.
    pub filter: Option<String>,
    /// Resume after this event id, for clients that cannot send `Last-Event-ID` (browsers send
    /// the header themselves when they reconnect; the header wins).
    pub last_event_id: Option<u64>,
}

impl StreamQuery {
    /// A query with this filter.
    pub fn filter(filter: impl Into<String>) -> Self {
        Self {
            filter: Some(filter.into()),
            last_event_id: None,
        }
    }
}

/// Settings of the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SseOptions {
    /// A `: keep-alive` comment is sent after this long without an event (so proxies and load
    /// balancers keep the connection open). Default: 15 s.
    pub keep_alive: Duration,
    /// The reconnection delay sent to the client (`retry:`). Default: 3 s.
    pub retry: Duration,
    /// Events per page of the replay from the log. Default: 500.
    pub replay_page: usize,
}

impl Default for SseOptions {
    fn default() -> Self {
        Self {
            keep_alive: Duration::from_secs(15),
            retry: Duration::from_secs(3),
            replay_page: 500,
        }
    }
}

impl SseOptions {
    /// Sets [`SseOptions::keep_alive`].
    #[must_use]
    pub fn keep_alive(mut self, d: Duration) -> Self {
        self.keep_alive = d;
        self
    }
    /// Sets [`SseOptions::retry`].
    #[must_use]
    pub fn retry(mut self, d: Duration) -> Self {
        self.retry = d;
        self
    }
    /// Sets [`SseOptions::replay_page`].
    #[must_use]
    pub fn replay_page(mut self, n: usize) -> Self {
        self.replay_page = n;
        self
    }
}

/// One event as an SSE message: `id:`, `event:` and one `data:` line of JSON, then a blank
/// line.
///
/// Event fields are data: the JSON encoder escapes every control character (so a newline or
/// carriage return in a user name cannot end the `data:` line and forge an `event:` or `id:`
/// line), and events are sanitised before they are recorded (control characters, ANSI escapes,
/// U+2028/U+2029 removed; strings truncated). As a last line of defence, any CR or LF left is
/// removed here, and the name is restricted to `a-z 0-9 . _ * -`.
///
/// ```
/// use warden::actors::{SecurityEvent, StoredEvent};
///
/// let ev = StoredEvent::new(7, SecurityEvent::new("auth.login.failure").user_id("eve\nid: 99"));
/// let frame = warden::audit_http::sse_frame(&ev);
/// assert!(frame.starts_with("id: 7\nevent: auth.login.failure\ndata: {"));
/// assert!(frame.ends_with("}\n\n"));
/// assert_eq!(frame.trim_end().lines().count(), 3, "the newline in the user name is gone");
/// ```
pub fn sse_frame(ev: &StoredEvent) -> String {
    let name: String = ev
        .event
        .name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '*' | '-'))
        .collect();
    let mut data = ev.to_json_line();
    data.retain(|c| c != '\n' && c != '\r');
    let mut out = String::with_capacity(data.len() + name.len() + 40);
    let _ = write!(out, "id: {}\nevent: {}\ndata: {}\n\n", ev.id, name, data);
    out
}

fn valid_filter(f: &str) -> bool {
    let body = f.strip_suffix('*').unwrap_or(f);
    f.len() <= MAX_FILTER
        && body
            .bytes()
            .all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'.' | b'_'))
}

/// `GET /audit/stream`: the audit events as `text/event-stream`.
///
/// - Each event is `id: <id>`, `event: <name>`, `data: <one line of JSON>` (see [`sse_frame`]).
/// - `?filter=csrf.` (or `csrf.reject.*`) keeps the events whose name starts with it.
/// - `Last-Event-ID: <id>` (or `?last_event_id=`) resumes: the events after that id are first
///   replayed from the persisted log, then the stream goes live. The live subscription is opened
///   **before** the log is read and events are deduplicated by id, so nothing falls in between.
/// - `: keep-alive` comments every 15 s of silence; `retry: 3000` up front.
/// - A client that reads too slowly is dropped (its bounded subscription queue overflows): its
///   stream ends with a comment, and it reconnects with `Last-Event-ID` to catch up from the log.
///   Other clients and the audit actor are never held up by it.
/// - `Cache-Control: no-store`, `X-Accel-Buffering: no` (nginx must not buffer), no
///   compression.
///
/// A bad `filter` or `Last-Event-ID` is a 400; an audit actor that does not answer, a 503.
/// Mount it behind an admin check (see the [module docs](crate::audit_http)).
///
/// # Errors
///
/// [`Error::BadRequest`], [`Error::Unavailable`].
pub async fn audit_stream(
    req: HttpRequest,
    warden: web::Data<Warden>,
) -> Result<HttpResponse, Error> {
    let query = web::Query::<StreamQuery>::from_query(req.query_string())
        .map_err(|_| Error::BadRequest)?
        .into_inner();
    audit_stream_with(&req, &warden, query, SseOptions::default()).await
}

/// [`audit_stream`] with an explicit query and options (for custom routes and tests).
///
/// # Errors
///
/// As [`audit_stream`].
pub async fn audit_stream_with(
    req: &HttpRequest,
    warden: &Warden,
    query: StreamQuery,
    opts: SseOptions,
) -> Result<HttpResponse, Error> {
    let filter = query.filter.filter(|f| !f.is_empty());
    if filter.as_deref().is_some_and(|f| !valid_filter(f)) {
        return Err(Error::BadRequest);
    }
    let resume = match req.headers().get("last-event-id") {
        Some(v) => Some(
            v.to_str()
                .ok()
                .and_then(|s| s.trim().parse::<u64>().ok())
                .ok_or(Error::BadRequest)?,
        ),
        None => query.last_event_id,
    };
    let audit = warden.audit().clone();
    // Subscribe first: whatever is recorded from now on reaches the subscription, and
    // whatever was recorded before is in the log the replay reads afterwards.
    let sub = audit.subscribe(filter.as_deref()).await?;
    let mut log_query = AuditQuery::new();
    if let Some(f) = &filter {
        log_query = log_query.name_prefix(f.clone());
    }
    let state = State {
        audit,
        sub,
        query: log_query,
        phase: Phase::Hello { resume },
        last_id: 0,
        opts,
    };
    let body = stream::unfold(state, |mut st| async move {
        let chunk = st.next_chunk().await?;
        Some((Ok::<_, Infallible>(chunk), st))
    });
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header(("x-accel-buffering", "no"))
        .insert_header(ContentEncoding::Identity)
        .streaming(body))
}

enum Phase {
    Hello { resume: Option<u64> },
    Replay { after: u64 },
    Live,
    Done,
}

struct State {
    audit: AuditHandle,
    sub: Subscription,
    query: AuditQuery,
    phase: Phase,
    /// The highest id sent: live copies of replayed events are skipped.
    last_id: u64,
    opts: SseOptions,
}

impl State {
    fn push(&mut self, out: &mut String, ev: &StoredEvent) {
        if ev.id > self.last_id {
            self.last_id = ev.id;
            out.push_str(&sse_frame(ev));
        }
    }

    async fn next_chunk(&mut self) -> Option<Bytes> {
        loop {
            match self.phase {
                Phase::Hello { resume } => {
                    // Duplicates are the events both replayed and delivered live, so the
                    // threshold is the highest id replayed, not the client's id: a client
                    // whose id is ahead of the log (a wiped data directory) still gets the
                    // new events.
                    self.phase = match resume {
                        Some(after) => Phase::Replay { after },
                        None => Phase::Live,
                    };
                    let ms = self.opts.retry.as_millis();
                    return Some(Bytes::from(format!("retry: {ms}\n\n")));
                }
                Phase::Replay { after } => {
                    let page = match self
                        .audit
                        .page_after(&self.query, after, self.opts.replay_page)
                        .await
                    {
                        Ok(p) => p,
                        Err(e) => {
                            tracing::warn!(error = %e, "audit stream replay failed; closing the stream");
                            self.phase = Phase::Done;
                            return Some(Bytes::from_static(
                                b": replay unavailable; reconnect with Last-Event-ID\n\n",
                            ));
                        }
                    };
                    self.phase = match page.next_after {
                        Some(a) => Phase::Replay { after: a },
                        None => Phase::Live,
                    };
                    let mut out = String::new();
                    for ev in &page.events {
                        self.push(&mut out, ev);
                    }
                    if !out.is_empty() {
                        return Some(Bytes::from(out));
                    }
                }
                Phase::Live => {
                    let keep_alive = actix_web::rt::time::sleep(self.opts.keep_alive);
                    let ev = tokio::select! {
                        ev = self.sub.recv() => ev,
                        () = keep_alive => return Some(Bytes::from_static(b": keep-alive\n\n")),
                    };
                    let Some(ev) = ev else {
                        self.phase = Phase::Done;
                        return Some(Bytes::from_static(
                            b": stream closed (client too slow or server stopping); reconnect with Last-Event-ID\n\n",
                        ));
                    };
                    let mut out = String::new();
                    self.push(&mut out, &ev);
                    for _ in 0..LIVE_BATCH {
                        match self.sub.try_recv() {
                            Some(ev) => self.push(&mut out, &ev),
                            None => break,
                        }
                    }
                    if !out.is_empty() {
                        return Some(Bytes::from(out));
                    }
                }
                Phase::Done => return None,
            }
        }
    }
}
