//! Hostile values in user names and paths travel emit → log → SSE as data: each event is one
//! `data:` line of valid JSON, and no `event:` or `id:` line can be forged.

use std::{fmt::Write as _, time::Duration};

use actix_web::test as atest;
use warden::actors::{AuditQuery, SecurityEvent, MAX_FIELD_CHARS};

use crate::{app, open, Env};

/// Percent-encodes every byte that is not ASCII alphanumeric.
fn pct(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

fn hostile() -> Vec<String> {
    vec![
        "eve\nid: 999\nevent: auth.login.success\ndata: {\"user_id\":\"admin\"}\n\n".into(),
        "eve\r\nevent: forged\r\rid: 7\r".into(),
        "\u{1b}[2J\u{1b}[31mred\u{1b}]0;title\u{7}".into(),
        "line\u{2028}sep\u{2029}para\u{85}nel\u{0}nul".into(),
        "\"},\"name\":\"auth.login.success\",\"user_id\":\"admin\",\"x\":{\"".into(),
        ": comment\n\nretry: 1\n\ndata: x".into(),
        "A".repeat(1 << 20),
    ]
}

#[actix_web::test]
async fn hostile_user_names_and_paths_stay_data_in_the_stream() {
    let env = Env::new().await;
    let app = app!(env.warden);
    let mut s = open!(&app, "/audit/stream");
    let hostile = hostile();
    // Straight into the audit handle: user name, path, a detail value and a detail key.
    for h in &hostile {
        env.warden.audit().emit(
            SecurityEvent::new("auth.login.failure")
                .user_id(h)
                .path(format!("/login/{h}"))
                .detail("username", h.as_str())
                .detail(h.as_str(), "as a key"),
        );
    }
    // Through HTTP, as request data: the user name as a (decoded) query parameter, the path
    // and a decoded path segment.
    let via_http = &hostile[..6];
    for h in via_http {
        let uri = format!("/attempt/{}?user={}", pct(h), pct(h));
        let res = atest::call_service(&app, atest::TestRequest::get().uri(&uri).to_request()).await;
        assert_eq!(res.status(), 401, "{uri}");
    }
    let total = hostile.len() + via_http.len();
    let mut evs = Vec::new();
    for _ in 0..total {
        // Checks the shape: exactly id, event and one data line that parses as JSON.
        evs.push(s.message().await);
    }
    assert!(
        s.quiet_for(Duration::from_millis(100)).await,
        "nothing forged after them"
    );

    // Every `event:` and `id:` line in the whole stream is a genuine one.
    let event_lines: Vec<&str> = s.raw.lines().filter(|l| l.starts_with("event:")).collect();
    assert_eq!(event_lines.len(), total);
    assert!(event_lines
        .iter()
        .all(|l| *l == "event: auth.login.failure"));
    let ids: Vec<&str> = s.raw.lines().filter(|l| l.starts_with("id:")).collect();
    let want: Vec<String> = (1..=total).map(|i| format!("id: {i}")).collect();
    assert_eq!(ids, want);
    assert!(!s
        .raw
        .contains(['\r', '\u{1b}', '\u{2028}', '\u{2029}', '\u{85}', '\u{0}']));
    let data_lines: Vec<&str> = s.raw.lines().filter(|l| l.starts_with("data:")).collect();
    assert_eq!(data_lines.len(), total);
    assert!(
        data_lines.iter().all(|l| l.len() < 16 * 1024),
        "huge values truncated"
    );

    // The values are there, as data.
    assert_eq!(
        evs[0].event.user_id.as_deref(),
        Some("eveid: 999event: auth.login.successdata: {\"user_id\":\"admin\"}")
    );
    assert_eq!(evs[4].event.user_id.as_deref(), Some(hostile[4].as_str()));
    assert_eq!(evs[4].event.name, "auth.login.failure");
    assert_eq!(
        evs[6].event.user_id.as_deref().unwrap().len(),
        MAX_FIELD_CHARS
    );
    for ev in &evs[hostile.len()..] {
        assert!(
            ev.event.request_id.is_some(),
            "the HTTP ones carry the request id"
        );
        assert!(ev.event.path.as_deref().unwrap().starts_with("/attempt/"));
        assert!(!ev.event.details["resource"]
            .as_str()
            .unwrap()
            .contains('\n'));
    }
    assert_eq!(
        evs[hostile.len() + 4].event.user_id.as_deref(),
        Some(hostile[4].as_str())
    );

    // The log holds the same neutralised values, and replays them identically.
    let logged = env.warden.audit().query(AuditQuery::new()).await.unwrap();
    assert_eq!(logged, evs);
    let mut replay = open!(&app, "/audit/stream", [("last-event-id", "0")]);
    for ev in &evs {
        assert_eq!(&replay.message().await, ev);
    }
}
