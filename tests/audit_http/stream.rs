//! The SSE stream: framing, order, resumption, filters, keep-alive, slow clients, headers.

use std::time::Duration;

use actix_web::test as atest;
use warden::actors::SecurityEvent;

use crate::{app, common::Reply, open, Env};

#[actix_web::test]
async fn events_arrive_in_order_as_sse_frames_with_streaming_headers() {
    let env = Env::new().await;
    let app = app!(env.warden);
    let res = atest::call_service(
        &app,
        atest::TestRequest::get().uri("/audit/stream").to_request(),
    )
    .await;
    let h = |n: &str| res.headers().get(n).unwrap().to_str().unwrap().to_owned();
    assert_eq!(h("content-type"), "text/event-stream");
    assert_eq!(h("cache-control"), "no-store");
    assert_eq!(h("x-accel-buffering"), "no");
    assert_eq!(h("content-encoding"), "identity");
    let mut s = crate::sse(res, "stream");
    let hello = s.next().await.unwrap();
    assert_eq!(hello.lines, vec!["retry: 3000"]);

    let a = env.warden.audit();
    a.emit(SecurityEvent::new("auth.login.success").user_id("alice"));
    a.emit(SecurityEvent::new("csrf.reject.missing").path("/transfer"));
    a.emit(SecurityEvent::new("session.created"));
    let got = [s.message().await, s.message().await, s.message().await];
    assert_eq!(got.iter().map(|e| e.id).collect::<Vec<_>>(), vec![1, 2, 3]);
    assert_eq!(got[0].event.name, "auth.login.success");
    assert_eq!(got[0].event.user_id.as_deref(), Some("alice"));
    assert_eq!(got[1].event.path.as_deref(), Some("/transfer"));
    assert_eq!(got[2].event.name, "session.created");
    // The frames are exactly `id`, `event`, `data` (checked by `message`), and the stream stays
    // open.
    assert!(s.raw.contains("id: 2\nevent: csrf.reject.missing\ndata: {"));
    assert!(s.quiet_for(Duration::from_millis(100)).await);
}

#[actix_web::test]
async fn last_event_id_replays_from_the_log_then_goes_live() {
    let env = Env::new().await;
    let app = app!(env.warden);
    let a = env.warden.audit();
    for i in 1..=5 {
        a.emit_must(SecurityEvent::new("auth.login.success").detail("n", i))
            .await
            .unwrap();
    }
    let mut s = open!(&app, "/audit/stream", [("last-event-id", "2")]);
    for want in 3..=5 {
        assert_eq!(s.message().await.id, want);
    }
    a.emit(SecurityEvent::new("session.created"));
    let live = s.message().await;
    assert_eq!((live.id, live.event.name.as_str()), (6, "session.created"));
    assert!(
        s.quiet_for(Duration::from_millis(100)).await,
        "no duplicates"
    );

    // The query parameter works for clients that cannot set the header; the header wins.
    let mut s = open!(&app, "/audit/stream?last_event_id=4");
    assert_eq!(s.message().await.id, 5);
    assert_eq!(s.message().await.id, 6);
    let mut s = open!(
        &app,
        "/audit/stream?last_event_id=1",
        [("last-event-id", "5")]
    );
    assert_eq!(s.message().await.id, 6);

    // Replay over several pages (pages of 3 on /audit/fast).
    let mut s = open!(&app, "/audit/fast", [("last-event-id", "0")]);
    for want in 1..=6 {
        assert_eq!(s.message().await.id, want);
    }
    // Resuming at the end replays nothing and goes live.
    let mut s = open!(&app, "/audit/stream", [("last-event-id", "6")]);
    a.emit(SecurityEvent::new("session.rotated"));
    assert_eq!(s.message().await.id, 7);
}

#[actix_web::test]
async fn no_gap_and_no_duplicate_while_events_are_recorded_during_the_connection() {
    let env = Env::new().await;
    let app = app!(env.warden);
    let audit = env.warden.audit().clone();
    const N: u64 = 300;
    let emitter = actix_web::rt::spawn(async move {
        for i in 1..=N {
            // Each durable write is a real suspension point: the connection below is opened,
            // subscribed and replayed while these keep coming.
            audit
                .emit_must(SecurityEvent::new("session.revoked").detail("n", i))
                .await
                .unwrap();
        }
    });
    // Let some events land in the log first.
    let started = std::time::Instant::now();
    while env.warden.audit().stats().await.unwrap().persisted < 50 {
        assert!(started.elapsed() < Duration::from_secs(5));
        actix_web::rt::time::sleep(Duration::from_millis(1)).await;
    }
    let mut s = open!(&app, "/audit/fast", [("last-event-id", "0")]);
    let mut ids = Vec::new();
    while ids.len() < N as usize {
        let ev = s.message().await;
        assert_eq!(ev.event.details["n"], ev.id, "{ev:?}");
        ids.push(ev.id);
    }
    emitter.await.unwrap();
    assert_eq!(ids, (1..=N).collect::<Vec<_>>());
    // Nothing more: only keep-alive comments (every 50 ms on /audit/fast).
    assert!(s.next().await.unwrap().is_comment());
}

#[actix_web::test]
async fn a_filter_selects_by_name_prefix_live_and_in_the_replay() {
    let env = Env::new().await;
    let app = app!(env.warden);
    let a = env.warden.audit();
    a.emit_must(SecurityEvent::new("csrf.reject.origin"))
        .await
        .unwrap();
    a.emit_must(SecurityEvent::new("auth.login.success"))
        .await
        .unwrap();
    let mut csrf = open!(&app, "/audit/stream?filter=csrf.");
    let mut reject = open!(
        &app,
        "/audit/stream?filter=csrf.reject.*",
        [("last-event-id", "0")]
    );
    let mut auth = open!(&app, "/audit/stream?filter=auth.login.");
    for name in [
        "auth.login.success",
        "csrf.reject.missing",
        "session.created",
        "csrf.reject.invalid",
        "auth.login.failure",
    ] {
        a.emit(SecurityEvent::new(name));
    }
    let names = |evs: Vec<warden::actors::StoredEvent>| {
        evs.into_iter().map(|e| e.event.name).collect::<Vec<_>>()
    };
    assert_eq!(
        names(vec![csrf.message().await, csrf.message().await]),
        vec!["csrf.reject.missing", "csrf.reject.invalid"]
    );
    assert_eq!(
        names(vec![
            reject.message().await,
            reject.message().await,
            reject.message().await
        ]),
        vec![
            "csrf.reject.origin",
            "csrf.reject.missing",
            "csrf.reject.invalid"
        ],
        "the replay is filtered too"
    );
    assert_eq!(
        names(vec![auth.message().await, auth.message().await]),
        vec!["auth.login.success", "auth.login.failure"]
    );
    for s in [&mut csrf, &mut reject, &mut auth] {
        assert!(s.quiet_for(Duration::from_millis(50)).await);
    }
}

#[actix_web::test]
async fn bad_filters_and_event_ids_are_a_generic_400() {
    let env = Env::new().await;
    let app = app!(env.warden);
    let long = format!("/audit/stream?filter={}", "a".repeat(65));
    let cases: Vec<(String, Option<&str>)> = vec![
        ("/audit/stream?filter=CSRF.".into(), None),
        ("/audit/stream?filter=csrf%0Aevent:%20x".into(), None),
        ("/audit/stream?filter=*csrf".into(), None),
        (long, None),
        ("/audit/stream?last_event_id=abc".into(), None),
        ("/audit/stream".into(), Some("abc")),
        ("/audit/stream".into(), Some("-1")),
    ];
    for (uri, last) in cases {
        let mut req = atest::TestRequest::get().uri(&uri);
        if let Some(l) = last {
            req = req.insert_header(("last-event-id", l));
        }
        let r = Reply::read(atest::call_service(&app, req.to_request()).await).await;
        assert_eq!(r.status, 400, "{uri} {last:?}");
        assert_eq!(r.body, "Bad Request", "{uri}");
    }
    assert_eq!(env.warden.audit().stats().await.unwrap().subscribers, 0);
}

#[actix_web::test]
async fn keep_alive_comments_flow_while_nothing_happens() {
    let env = Env::new().await;
    let app = app!(env.warden);
    let mut s = open!(&app, "/audit/fast");
    assert_eq!(s.next().await.unwrap().lines, vec!["retry: 3000"]);
    let ka = s.next_within(Duration::from_secs(2)).await.unwrap();
    assert_eq!(ka.lines, vec![": keep-alive"]);
    env.warden
        .audit()
        .emit(SecurityEvent::new("session.created"));
    assert_eq!(s.message().await.event.name, "session.created");
    let ka = s.next_within(Duration::from_secs(2)).await.unwrap();
    assert!(ka.is_comment());
}

#[actix_web::test]
async fn a_slow_client_is_dropped_while_a_fast_one_keeps_receiving() {
    let env = Env::with(|raw| raw.audit.subscriber_queue = 8).await;
    let app = app!(env.warden);
    let mut slow = open!(&app, "/audit/stream");
    // The slow client reads the greeting, then nothing.
    assert!(slow.next().await.unwrap().lines[0].starts_with("retry:"));
    let mut fast = open!(&app, "/audit/stream");
    let a = env.warden.audit();
    for i in 1..=40u64 {
        a.emit(SecurityEvent::new("ratelimit.blocked").detail("n", i));
        let ev = fast.message().await;
        assert_eq!(ev.id, i, "the fast client is never held up");
    }
    let stats = a.stats().await.unwrap();
    assert_eq!(stats.subscriber_drops, 1);
    assert_eq!(stats.subscribers, 1, "only the fast client is left");
    let text = a.metrics_text().unwrap();
    assert!(
        text.contains("warden_audit_subscriber_drops_total 1"),
        "{text}"
    );

    // The slow client gets what was queued for it, then a comment and the end of the stream.
    let mut got = Vec::new();
    let mut closing = None;
    while let Some(b) = slow.next().await {
        if b.is_comment() {
            closing = Some(b);
        } else {
            got.push(b.message().id);
        }
    }
    assert_eq!(got, (1..=8).collect::<Vec<_>>());
    assert!(closing.unwrap().lines[0].contains("reconnect with Last-Event-ID"));
    // It reconnects where it stopped and catches up from the log.
    let mut again = open!(&app, "/audit/stream", [("last-event-id", "8")]);
    for want in 9..=40 {
        assert_eq!(again.message().await.id, want);
    }
    // The fast one kept going all along.
    a.emit(SecurityEvent::new("session.created"));
    assert_eq!(fast.message().await.id, 41);
}

#[actix_web::test]
async fn a_client_ahead_of_the_log_still_gets_new_events() {
    // A data directory wiped since the client's last id: ids start again from 1.
    let env = Env::new().await;
    let app = app!(env.warden);
    let mut s = open!(&app, "/audit/stream", [("last-event-id", "5000")]);
    env.warden
        .audit()
        .emit(SecurityEvent::new("session.created"));
    assert_eq!(s.message().await.id, 1);
}
