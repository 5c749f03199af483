//! The audit stream over HTTP (issue 8): the SSE handler and the `/metrics` handler in a real
//! actix-web app over a real `Warden` (temporary data directory, manual clock).
//!
//! What is proven: events arrive in order as `id:`/`event:`/`data:` frames and resume from
//! `Last-Event-ID` (replay from the log, then live, without gap or duplicate, even while events
//! are being recorded during the connection); name-prefix filters; keep-alive comments; a slow
//! client is dropped while a fast one keeps receiving; the response headers (`no-store`,
//! `X-Accel-Buffering: no`, no compression); bad filters and ids are a 400; hostile values
//! (newlines, CR, ANSI escapes, U+2028, 1 MB strings, JSON-looking strings) in user names and
//! paths stay data: one JSON `data:` line per event, no forged `event:`/`id:` lines; `/metrics`
//! parses and counts, in both text formats; both handlers behind `Requires::new(["admin"])`.

#[path = "../common/mod.rs"]
mod common;

mod guard;
mod hostile;
mod metrics;
mod stream;

use std::{
    future::poll_fn,
    pin::Pin,
    sync::Arc,
    time::{Duration, Instant},
};

use actix_web::{
    body::{BoxBody, MessageBody},
    dev::{ServiceFactory, ServiceRequest, ServiceResponse},
    web, App, HttpRequest, HttpResponse,
};
use serde::Deserialize;
use warden::{
    actors::{ManualClock, StoredEvent},
    audit::request_event,
    audit_http::{audit_stream, audit_stream_with, metrics, SseOptions, StreamQuery},
    config::RawConfig,
    Warden,
};

use crate::common::{manual_clock, test_warden};

/// A started warden on a temporary directory.
struct Env {
    _dir: tempfile::TempDir,
    _clock: Arc<ManualClock>,
    warden: Warden,
}

impl Env {
    async fn new() -> Env {
        Env::with(|_| {}).await
    }

    async fn with(tweak: impl FnOnce(&mut RawConfig)) -> Env {
        let dir = tempfile::tempdir().unwrap();
        let clock = manual_clock();
        let warden = test_warden(dir.path(), &clock, tweak);
        // The audit actor runs (and has its configured mailbox) before the test emits.
        warden.audit().ping().await.unwrap();
        Env {
            _dir: dir,
            _clock: clock,
            warden,
        }
    }
}

/// The app: `/audit/stream`, `/audit/fast` (keep-alive every 50 ms, replay pages of 3),
/// `/metrics`, and `/attempt/{tail}?user=` which records an `auth.login.failure` with the
/// request's path and the given user name (as a login form would).
fn build_app(
    warden: &Warden,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    App::new()
        .app_data(warden.data())
        .wrap(warden.request_context())
        .route("/audit/stream", web::get().to(audit_stream))
        .route("/audit/fast", web::get().to(fast_stream))
        .route("/metrics", web::get().to(metrics))
        .route("/attempt/{tail:.*}", web::get().to(attempt))
}

async fn fast_stream(
    req: HttpRequest,
    warden: web::Data<Warden>,
    query: web::Query<StreamQuery>,
) -> Result<HttpResponse, warden::Error> {
    let opts = SseOptions::default()
        .keep_alive(Duration::from_millis(50))
        .replay_page(3);
    audit_stream_with(&req, &warden, query.into_inner(), opts).await
}

#[derive(Deserialize)]
struct Attempt {
    user: String,
}

async fn attempt(
    req: HttpRequest,
    warden: web::Data<Warden>,
    q: web::Query<Attempt>,
) -> HttpResponse {
    let resource = req.match_info().get("tail").unwrap_or_default().to_owned();
    warden.audit().emit(
        request_event(&req, "auth.login.failure")
            .user_id(&q.user)
            .detail("username", q.user.as_str())
            .detail("resource", resource),
    );
    HttpResponse::Unauthorized().finish()
}

/// Builds the app for a warden; evaluates to the initialised service.
macro_rules! app {
    ($warden:expr) => {
        actix_web::test::init_service(crate::build_app(&$warden)).await
    };
}
pub(crate) use app;

/// One SSE block (the lines up to a blank line).
#[derive(Debug, Clone, Default)]
struct Block {
    lines: Vec<String>,
}

impl Block {
    fn field(&self, name: &str) -> Vec<&str> {
        let prefix = format!("{name}: ");
        self.lines
            .iter()
            .filter_map(|l| l.strip_prefix(prefix.as_str()))
            .collect()
    }

    fn id(&self) -> Option<u64> {
        self.field("id").first().map(|v| v.parse().unwrap())
    }

    fn event(&self) -> Option<&str> {
        self.field("event").first().copied()
    }

    /// The event of a message block, checking its shape: exactly `id`, `event` and one `data`
    /// line of JSON that agrees with them.
    fn message(&self) -> StoredEvent {
        assert_eq!(self.lines.len(), 3, "id, event, data: {self:?}");
        assert!(self.lines[0].starts_with("id: "), "{self:?}");
        assert!(self.lines[1].starts_with("event: "), "{self:?}");
        assert!(self.lines[2].starts_with("data: "), "{self:?}");
        let data = self.field("data");
        let ev: StoredEvent = serde_json::from_str(data[0]).expect("data is one JSON object");
        assert_eq!(Some(ev.id), self.id());
        assert_eq!(Some(ev.event.name.as_str()), self.event());
        ev
    }

    fn is_comment(&self) -> bool {
        !self.lines.is_empty() && self.lines.iter().all(|l| l.starts_with(':'))
    }
}

/// Reads an SSE response body block by block.
struct Sse {
    body: Pin<Box<BoxBody>>,
    buf: String,
    ended: bool,
    /// Everything read so far.
    raw: String,
}

impl Sse {
    fn new<B: MessageBody + 'static>(res: ServiceResponse<B>) -> Sse {
        Sse {
            body: Box::pin(res.into_body().boxed()),
            buf: String::new(),
            ended: false,
            raw: String::new(),
        }
    }

    /// The next block within `wait`; `None` at the end of the stream.
    async fn next_within(&mut self, wait: Duration) -> Option<Block> {
        let deadline = Instant::now() + wait;
        loop {
            if let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                return Some(Block {
                    lines: block
                        .trim_end_matches('\n')
                        .lines()
                        .map(str::to_owned)
                        .collect(),
                });
            }
            if self.ended {
                assert!(
                    self.buf.is_empty(),
                    "a partial block at the end: {:?}",
                    self.buf
                );
                return None;
            }
            let left = deadline
                .checked_duration_since(Instant::now())
                .unwrap_or_else(|| {
                    panic!("no SSE block within {wait:?}; read so far: {}", self.raw)
                });
            let body = &mut self.body;
            let chunk =
                actix_web::rt::time::timeout(left, poll_fn(|cx| body.as_mut().poll_next(cx)))
                    .await
                    .unwrap_or_else(|_| {
                        panic!("no SSE block within {wait:?}; read so far: {}", self.raw)
                    });
            match chunk {
                Some(Ok(bytes)) => {
                    let text = std::str::from_utf8(&bytes).expect("UTF-8");
                    self.buf.push_str(text);
                    self.raw.push_str(text);
                }
                Some(Err(e)) => panic!("body error: {e}"),
                None => self.ended = true,
            }
        }
    }

    async fn next(&mut self) -> Option<Block> {
        self.next_within(Duration::from_secs(5)).await
    }

    /// The next message (skipping comments and the `retry:` block).
    async fn message(&mut self) -> StoredEvent {
        loop {
            let b = self.next().await.expect("stream ended");
            if b.is_comment() || b.lines.iter().all(|l| l.starts_with("retry: ")) {
                continue;
            }
            return b.message();
        }
    }

    /// Whether nothing arrives within `wait` (the stream is still open).
    async fn quiet_for(&mut self, wait: Duration) -> bool {
        let body = &mut self.body;
        self.buf.is_empty()
            && actix_web::rt::time::timeout(wait, poll_fn(|cx| body.as_mut().poll_next(cx)))
                .await
                .is_err()
    }
}

/// Checks an SSE response and wraps its body.
fn sse<B: MessageBody + 'static>(res: ServiceResponse<B>, what: &str) -> Sse {
    assert_eq!(res.status(), 200, "{what}");
    assert_eq!(
        res.headers().get("content-type").unwrap(),
        "text/event-stream",
        "{what}"
    );
    Sse::new(res)
}

/// Opens a stream: GET `$uri` on `$app`, with optional `(name, value)` headers.
macro_rules! open {
    ($app:expr, $uri:expr) => {
        open!($app, $uri, [])
    };
    ($app:expr, $uri:expr, [$(($k:expr, $v:expr)),* $(,)?]) => {{
        let req = actix_web::test::TestRequest::get().uri($uri)
            $(.insert_header(($k, $v)))*;
        crate::sse(actix_web::test::call_service($app, req.to_request()).await, $uri)
    }};
}
pub(crate) use open;
