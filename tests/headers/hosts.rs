//! The host allowlist: matching rules, and `AllowedHostsMiddleware` over HTTP.

use std::time::Duration;

use actix_web::test as atest;
use warden::{
    headers::SecurityHeadersMiddleware,
    hosts::{AllowedHosts, AllowedHostsMiddleware, HostPattern},
    SecurityHeadersConfig,
};

use crate::{
    assert_exact_headers,
    common::{events, manual_clock, test_warden},
    send, with_defaults, NO_STORE, PLAIN,
};

#[test]
fn ports_case_trailing_dots_ipv6_and_wildcards() {
    let hosts = AllowedHosts::parse([
        "app.example.com",
        "API.Example.com:8443",
        "127.0.0.1:8080",
        "[::1]:3000",
        "[2001:DB8::7]",
        "*.example.org",
    ])
    .unwrap();
    let allowed = [
        "app.example.com",
        "app.example.com:443",
        "app.example.com:8080", // an entry without a port allows any port
        "APP.EXAMPLE.COM",
        "App.Example.Com.",
        "app.example.com.:80",
        "api.example.com:8443",
        "api.EXAMPLE.com.:8443",
        "127.0.0.1:8080",
        "[::1]:3000",
        "[0:0:0:0:0:0:0:1]:3000",
        "[2001:db8::7]",
        "[2001:db8:0::7]:9999",
        "a.example.org",
        "A.B.Example.Org.:1234",
    ];
    for host in allowed {
        assert!(hosts.is_allowed(host), "{host} should be allowed");
    }
    let refused = [
        "",
        "evil.com",
        "api.example.com",     // the entry has a port
        "api.example.com:443", // another port
        "127.0.0.1",           // the entry has a port
        "127.0.0.1:8081",
        "[::1]",
        "[::1]:3001",
        "::1",
        "[::2]:3000",
        "example.org", // a wildcard never matches the apex
        "a.example.org.evil",
        "a.example.org.evil.com",
        "aexample.org",
        "app.example.com..",
        "app.example.com:",
        "app.example.com:99999",
        "app.example.com:-1",
        "app.example.com:80:80",
        "user@app.example.com",
        "app.example.com/x",
        "app example.com",
        "app.example.com\t",
        "[::1",
        "[::1]x",
        ".example.org",
    ];
    for host in refused {
        assert!(!hosts.is_allowed(host), "{host:?} should be refused");
    }
}

#[test]
fn invalid_entries_are_refused_at_construction() {
    for bad in [
        "",
        "*",
        "http://a.example",
        "a.example/",
        "a@b.example",
        "a.example:99999",
        "[::1",
        "*.[::1]",
        "a..example",
        "a b.example",
        "a.example\r\n",
    ] {
        assert!(HostPattern::parse(bad).is_err(), "{bad:?}");
    }
    assert!(AllowedHosts::parse(Vec::<&str>::new()).is_err());
    assert_eq!(
        HostPattern::parse(" *.Example.COM.:443 ")
            .unwrap()
            .to_string(),
        "*.example.com:443"
    );
}

/// Builds the app: security headers outermost, then the allowlist for `$hosts`, with events
/// going to `$warden`'s audit log.
macro_rules! hosts_app {
    ($warden:expr, $mw:expr) => {
        actix_web::test::init_service(
            actix_web::App::new()
                .configure(crate::routes)
                .wrap($mw)
                .wrap($warden.request_context())
                .wrap(SecurityHeadersMiddleware::new(
                    SecurityHeadersConfig::default(),
                )),
        )
        .await
    };
}

fn get(host: &str) -> atest::TestRequest {
    atest::TestRequest::get()
        .uri("/html")
        .peer_addr("203.0.113.7:40000".parse().unwrap())
        .insert_header(("host", host))
}

#[actix_web::test]
async fn a_mismatch_is_a_generic_400_with_the_headers_and_an_event() {
    let dir = tempfile::tempdir().unwrap();
    let clock = manual_clock();
    let w = test_warden(dir.path(), &clock, |_| {});
    let hosts = AllowedHosts::parse(["app.example.com", "*.example.org:8443"]).unwrap();
    let app = hosts_app!(w, AllowedHostsMiddleware::new(hosts, w.audit().clone()));

    for ok in [
        "app.example.com",
        "APP.example.com.:8080",
        "a.example.org:8443",
    ] {
        let r = send!(&app, get(ok));
        assert_eq!(r.status, 200, "{ok}");
    }
    let r = send!(&app, get("evil.example"));
    assert_eq!(r.status, 400);
    assert_eq!(r.body, "Bad Request");
    let request_id = r.header("x-request-id").expect("a request id");
    assert_exact_headers(
        &r.headers,
        &with_defaults(&[PLAIN, NO_STORE, ("x-request-id", &request_id)]),
    );

    let evs = events(&w, "host.rejected").await;
    assert_eq!(evs.len(), 1);
    let ev = &evs[0].event;
    assert_eq!(ev.details["reason"], "not_allowed");
    assert_eq!(ev.details["host"], "evil.example");
    assert_eq!(ev.path.as_deref(), Some("/html"));
    assert_eq!(ev.request_id.as_deref(), Some(request_id.as_str()));
    assert_eq!(ev.client_ip, Some("203.0.113.7".parse().unwrap()));

    // Throttled: one event per 10 s, then one carrying the count held back.
    for i in 0..20 {
        let r = send!(&app, get(&format!("evil{i}.example")));
        assert_eq!(r.status, 400);
    }
    assert_eq!(events(&w, "host.rejected").await.len(), 1);
    clock.advance(Duration::from_secs(11));
    let r = send!(&app, get("a.example.org"));
    assert_eq!(r.status, 400, "the wildcard entry has a port");
    let evs = events(&w, "host.rejected").await;
    assert_eq!(evs.len(), 2);
    assert_eq!(evs[1].event.details["suppressed"], 20);
    w.shutdown().await;
}

#[actix_web::test]
async fn missing_duplicate_conflicting_and_forwarded_hosts_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let clock = manual_clock();
    let w = test_warden(dir.path(), &clock, |_| {});
    let hosts = AllowedHosts::parse(["app.example.com"]).unwrap();
    let app = hosts_app!(w, AllowedHostsMiddleware::new(hosts, w.audit().clone()));
    let base = || {
        atest::TestRequest::get()
            .uri("/html")
            .peer_addr("203.0.113.7:40000".parse().unwrap())
    };

    let cases = [
        ("missing", base()),
        ("missing", base().insert_header(("host", ""))),
        (
            "multiple",
            base()
                .append_header(("host", "app.example.com"))
                .append_header(("host", "app.example.com")),
        ),
        (
            "multiple",
            base()
                .append_header(("host", "app.example.com"))
                .append_header(("host", "evil.example")),
        ),
        // `X-Forwarded-Host` is never read.
        (
            "not_allowed",
            base()
                .insert_header(("host", "evil.example"))
                .insert_header(("x-forwarded-host", "app.example.com")),
        ),
        // An absolute-form request target wins over `Host` in HTTP/1.1: they must agree.
        (
            "conflict",
            base()
                .uri("http://evil.example/html")
                .insert_header(("host", "app.example.com")),
        ),
        (
            "malformed",
            base().insert_header((
                "host",
                actix_web::http::header::HeaderValue::from_bytes(b"app.\xffexample.com").unwrap(),
            )),
        ),
    ];
    let n = cases.len();
    for (i, (reason, req)) in cases.into_iter().enumerate() {
        let r = send!(&app, req);
        assert_eq!(r.status, 400, "{reason}");
        assert_eq!(r.header("x-frame-options").as_deref(), Some("DENY"));
        clock.advance(Duration::from_secs(11));
        let evs = events(&w, "host.rejected").await;
        assert_eq!(evs.len(), i + 1);
        assert_eq!(evs[i].event.details["reason"], reason);
    }
    assert_eq!(events(&w, "host.rejected").await.len(), n);

    // Allowed: `X-Forwarded-Host` with a good `Host`; an HTTP/2-style request whose only
    // host is the URI authority; `Host` and authority agreeing.
    let ok = [
        get("app.example.com").insert_header(("x-forwarded-host", "evil.example")),
        base().uri("https://app.example.com/html"),
        base()
            .uri("http://APP.example.com/html")
            .insert_header(("host", "app.example.com")),
    ];
    for req in ok {
        let r = send!(&app, req);
        assert_eq!(r.status, 200);
    }
    w.shutdown().await;
}

#[actix_web::test]
async fn for_warden_uses_server_allowed_hosts() {
    let dir = tempfile::tempdir().unwrap();
    let clock = manual_clock();
    // By default: the host and port of the origin, i.e. the bind address.
    let w = test_warden(dir.path(), &clock, |_| {});
    assert_eq!(w.config().server.allowed_hosts, ["127.0.0.1:8080"]);
    let app = hosts_app!(w, AllowedHostsMiddleware::for_warden(&w).unwrap());
    assert_eq!(send!(&app, get("127.0.0.1:8080")).status, 200);
    assert_eq!(send!(&app, get("127.0.0.1:9090")).status, 400);
    assert_eq!(send!(&app, get("localhost:8080")).status, 400);
    w.shutdown().await;

    let dir = tempfile::tempdir().unwrap();
    let w = test_warden(dir.path(), &clock, |raw| {
        raw.server.allowed_hosts = vec!["app.example.com".into(), "[::1]:8443".into()];
    });
    let app = hosts_app!(w, AllowedHostsMiddleware::for_warden(&w).unwrap());
    assert_eq!(send!(&app, get("App.Example.com.:443")).status, 200);
    assert_eq!(send!(&app, get("[::1]:8443")).status, 200);
    assert_eq!(send!(&app, get("127.0.0.1:8080")).status, 400);
    w.shutdown().await;
}
