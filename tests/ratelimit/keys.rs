//! The key: the client network, resolved through trusted proxies only; IPv6 per /64.

use warden::{ratelimit::AuthRateLimitConfig, ClientIpResolver, ForwardedHeader, TrustedProxies};

use crate::{env, post_from};

fn behind_proxy() -> ClientIpResolver {
    ClientIpResolver::new(
        TrustedProxies::parse(["10.0.0.0/8"]).unwrap(),
        ForwardedHeader::XForwardedFor,
    )
}

/// Sends `n` `POST /login` from `peer`, `headers(i)` added to request `i`; returns the number
/// of 429s.
macro_rules! refused {
    ($app:expr, $n:expr, $peer:expr, $headers:expr) => {{
        let mut refused = 0;
        for i in 0..$n {
            let mut req = post_from("/login", $peer);
            for (name, value) in $headers(i) {
                req = req.insert_header((name, value));
            }
            let r = send!($app, req);
            assert!(r.status == 200 || r.status == 429, "{r:?}");
            refused += usize::from(r.status == 429);
        }
        refused
    }};
}

#[actix_web::test]
async fn forwarding_headers_from_an_untrusted_peer_change_nothing() {
    let e = env();
    let app = app!(e, AuthRateLimitConfig::default());
    let spoof = |i: usize| {
        let ip = format!("198.51.{}.{}", i / 250, i % 250 + 1);
        vec![
            ("x-forwarded-for", ip.clone()),
            ("forwarded", format!("for={ip}")),
            ("x-real-ip", ip.clone()),
            ("true-client-ip", ip.clone()),
            ("cf-connecting-ip", ip),
        ]
    };
    assert_eq!(refused!(&app, 50, "203.0.113.50", spoof), 40);
    e.limits.shutdown().await;
}

#[actix_web::test]
async fn malformed_forwarding_headers_fall_back_to_the_peer() {
    let e = env();
    let app = app!(e, AuthRateLimitConfig::default(), behind_proxy());
    let junk = |i: usize| {
        let v = [
            "unknown",
            "garbage, , ,",
            "_hidden",
            "0x7f.1",
            "1.2.3.4.5",
            "[::1",
        ][i % 6];
        vec![("x-forwarded-for", v.to_owned())]
    };
    // From a trusted proxy with an unparsable header (never a panic): keyed on the proxy.
    assert_eq!(refused!(&app, 30, "10.0.0.1", junk), 20);
    e.limits.shutdown().await;
}

#[actix_web::test]
async fn behind_a_trusted_proxy_each_real_client_has_its_own_budget() {
    let e = env();
    let app = app!(e, AuthRateLimitConfig::default(), behind_proxy());
    let from = |client: &'static str| move |_| vec![("x-forwarded-for", client.to_owned())];
    assert_eq!(refused!(&app, 10, "10.0.0.1", from("198.51.100.1")), 0);
    assert_eq!(refused!(&app, 10, "10.0.0.1", from("198.51.100.2")), 0);
    // Through another proxy of the pool: still the same clients.
    assert_eq!(refused!(&app, 1, "10.9.9.9", from("198.51.100.1")), 1);
    assert_eq!(refused!(&app, 1, "10.0.0.2", from("198.51.100.2")), 1);
    assert_eq!(refused!(&app, 1, "10.0.0.1", from("198.51.100.3")), 0);
    e.limits.shutdown().await;
}

#[actix_web::test]
async fn behind_a_trusted_proxy_a_spoofed_left_most_entry_is_ignored() {
    let e = env();
    let app = app!(e, AuthRateLimitConfig::default(), behind_proxy());
    // The client prepends a random address; the proxy appends the real one.
    let spoof = |i: usize| {
        vec![(
            "x-forwarded-for",
            format!("192.0.2.{}, 198.51.100.9", i % 250 + 1),
        )]
    };
    assert_eq!(refused!(&app, 30, "10.0.0.1", spoof), 20);
    e.limits.shutdown().await;
}

#[actix_web::test]
async fn ipv6_clients_share_a_budget_per_64() {
    let e = env();
    let app = app!(e, AuthRateLimitConfig::default());
    let none = |_: usize| Vec::<(&str, String)>::new();
    // Ten addresses of one /64: one budget.
    for i in 0..10 {
        let ip = format!("2001:db8:1:2:{i:x}:{:x}::1", i * 77);
        assert_eq!(refused!(&app, 1, &ip, none), 0, "{ip}");
    }
    assert_eq!(
        refused!(&app, 1, "2001:db8:1:2:ffff:ffff:ffff:ffff", none),
        1
    );
    // The neighbouring /64s have their own.
    assert_eq!(refused!(&app, 10, "2001:db8:1:3::1", none), 0);
    assert_eq!(refused!(&app, 10, "2001:db8:1:1::1", none), 0);
    // IPv4-mapped IPv6 is the IPv4 address.
    assert_eq!(refused!(&app, 10, "192.0.2.44", none), 0);
    assert_eq!(refused!(&app, 1, "::ffff:192.0.2.44", none), 1);
    e.limits.shutdown().await;
}

#[actix_web::test]
async fn without_the_request_context_the_resolver_still_applies() {
    let e = env();
    let resolver = behind_proxy();
    let app = actix_web::test::init_service(
        actix_web::App::new()
            .wrap(warden::ratelimit::AuthRateLimitMiddleware::new(
                e.limits.clone(),
                AuthRateLimitConfig::default(),
                resolver,
                e.warden.audit().clone(),
            ))
            .configure(crate::routes),
    )
    .await;
    let from = |client: &'static str| move |_| vec![("x-forwarded-for", client.to_owned())];
    assert_eq!(refused!(&app, 12, "10.0.0.1", from("198.51.100.1")), 2);
    assert_eq!(refused!(&app, 10, "10.0.0.1", from("198.51.100.2")), 0);
    assert_eq!(refused!(&app, 12, "203.0.113.1", from("198.51.100.3")), 2);
    assert_eq!(refused!(&app, 1, "203.0.113.1", from("198.51.100.4")), 1);
    e.limits.shutdown().await;
}
