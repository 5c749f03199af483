//! Client IP resolution through trusted proxies.

use std::net::IpAddr;

use actix_web::{
    http::header::{HeaderMap, HeaderName, HeaderValue},
    test as atest,
};
use warden::{
    client_ip::{network_key, MAX_HEADER_ENTRIES},
    ClientIpResolver, ForwardedHeader, TrustedProxies,
};

fn ip(s: &str) -> IpAddr {
    s.parse().expect("test address")
}

fn xff_resolver() -> ClientIpResolver {
    ClientIpResolver::new(
        TrustedProxies::parse(["10.0.0.0/8", "2001:db8:ffff::/48", "192.0.2.1"]).expect("proxies"),
        ForwardedHeader::XForwardedFor,
    )
}

fn fwd_resolver() -> ClientIpResolver {
    ClientIpResolver::new(
        TrustedProxies::parse(["10.0.0.0/8", "2001:db8:ffff::/48"]).expect("proxies"),
        ForwardedHeader::Forwarded,
    )
}

fn headers(name: &'static str, lines: &[&[u8]]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for line in lines {
        map.append(
            HeaderName::from_static(name),
            HeaderValue::from_bytes(line).expect("header value"),
        );
    }
    map
}

fn xff<S: AsRef<str>>(lines: &[S]) -> HeaderMap {
    let lines: Vec<&[u8]> = lines.iter().map(|l| l.as_ref().as_bytes()).collect();
    headers("x-forwarded-for", &lines)
}

fn fwd<S: AsRef<str>>(lines: &[S]) -> HeaderMap {
    let lines: Vec<&[u8]> = lines.iter().map(|l| l.as_ref().as_bytes()).collect();
    headers("forwarded", &lines)
}

#[test]
fn spoofed_header_from_untrusted_peer_is_ignored() {
    let r = xff_resolver();
    let h = xff(&["1.2.3.4, 5.6.7.8"]);
    assert_eq!(r.resolve(ip("203.0.113.9"), &h), ip("203.0.113.9"));
    // Even a header naming a trusted proxy changes nothing.
    let h = xff(&["10.0.0.5"]);
    assert_eq!(r.resolve(ip("203.0.113.9"), &h), ip("203.0.113.9"));
    // With no trusted proxies at all, the peer always wins.
    let none = ClientIpResolver::new(TrustedProxies::none(), ForwardedHeader::XForwardedFor);
    assert!(none.proxies().is_empty());
    assert_eq!(none.resolve(ip("10.0.0.1"), &h), ip("10.0.0.1"));
}

#[test]
fn chain_through_trusted_proxies_returns_rightmost_untrusted() {
    let r = xff_resolver();
    // spoofed, real client, first proxy; peer is the second proxy.
    let h = xff(&["6.6.6.6, 198.51.100.7, 10.1.1.1"]);
    assert_eq!(r.resolve(ip("10.0.0.2"), &h), ip("198.51.100.7"));
    let h = xff(&["198.51.100.7,10.1.1.1,192.0.2.1"]);
    assert_eq!(r.resolve(ip("10.0.0.2"), &h), ip("198.51.100.7"));
}

#[test]
fn all_trusted_chain_returns_leftmost() {
    let r = xff_resolver();
    let h = xff(&["10.9.9.9, 10.1.1.1"]);
    assert_eq!(r.resolve(ip("10.0.0.2"), &h), ip("10.9.9.9"));
}

#[test]
fn trusted_peer_without_header_is_the_client() {
    let r = xff_resolver();
    assert_eq!(r.resolve(ip("10.0.0.2"), &HeaderMap::new()), ip("10.0.0.2"));
    // The other header kind is not read.
    let h = fwd(&["for=198.51.100.7"]);
    assert_eq!(r.resolve(ip("10.0.0.2"), &h), ip("10.0.0.2"));
}

#[test]
fn ipv6_peers_and_entries_with_brackets_and_ports() {
    let r = xff_resolver();
    let h = xff(&["2001:db8:1::1, [2001:db8:2::2]:443, [2001:db8:ffff::9]"]);
    assert_eq!(r.resolve(ip("2001:db8:ffff::1"), &h), ip("2001:db8:2::2"));
    let h = xff(&["1.2.3.4:5678, 10.0.0.3:80"]);
    assert_eq!(r.resolve(ip("2001:db8:ffff::1"), &h), ip("1.2.3.4"));
    let h = xff(&["2001:db8:1::1"]);
    assert_eq!(r.resolve(ip("2001:db8:ffff::1"), &h), ip("2001:db8:1::1"));
    // An untrusted IPv6 peer is the client.
    assert_eq!(r.resolve(ip("2001:db8:5::5"), &h), ip("2001:db8:5::5"));
}

#[test]
fn ipv4_mapped_addresses_are_normalised() {
    let r = xff_resolver();
    // A mapped trusted peer is trusted, and mapped entries come back as IPv4.
    let h = xff(&["::ffff:198.51.100.7, ::ffff:10.1.1.1"]);
    assert_eq!(r.resolve(ip("::ffff:10.0.0.2"), &h), ip("198.51.100.7"));
    // A mapped untrusted peer comes back as IPv4.
    assert_eq!(r.resolve(ip("::ffff:203.0.113.9"), &h), ip("203.0.113.9"));
    let h = xff(&["[::ffff:198.51.100.8]:99"]);
    assert_eq!(r.resolve(ip("10.0.0.2"), &h), ip("198.51.100.8"));
    // Trusted mapped networks are stored as IPv4.
    let p = TrustedProxies::parse(["::ffff:10.0.0.0/104"]).expect("mapped net");
    assert!(p.contains(ip("10.200.0.1")));
    assert_eq!(p.nets()[0].to_string(), "10.0.0.0/8");
}

#[test]
fn forwarded_header_quotes_params_elements_case() {
    let r = fwd_resolver();
    let h = fwd(&[
        r#"for=6.6.6.6, For="[2001:db8:1::1]:443";proto=https;by=10.0.0.1, FOR=10.2.2.2;proto=http"#,
    ]);
    assert_eq!(r.resolve(ip("10.0.0.2"), &h), ip("2001:db8:1::1"));
    let h = fwd(&[r#"proto=https; for="198.51.100.7:8080"; host=example.com"#]);
    assert_eq!(r.resolve(ip("10.0.0.2"), &h), ip("198.51.100.7"));
    let h = fwd(&["for=198.51.100.7;proto=https"]);
    assert_eq!(r.resolve(ip("203.0.113.1"), &h), ip("203.0.113.1"));
    // Unbalanced quotes are garbage: the walk stops at the nearest trusted hop.
    let h = fwd(&[r#"for=198.51.100.7, for="10.2.2.2"#]);
    assert_eq!(r.resolve(ip("10.0.0.2"), &h), ip("10.0.0.2"));
    // An element without `for`, or with two, is garbage.
    let h = fwd(&["for=198.51.100.7, proto=https"]);
    assert_eq!(r.resolve(ip("10.0.0.2"), &h), ip("10.0.0.2"));
    let h = fwd(&["for=10.3.3.3, for=198.51.100.7;for=10.2.2.2, for=10.1.1.1"]);
    assert_eq!(r.resolve(ip("10.0.0.2"), &h), ip("10.1.1.1"));
}

#[test]
fn multiple_header_lines_are_concatenated_in_order() {
    let r = xff_resolver();
    let h = xff(&["6.6.6.6, 198.51.100.7", "10.1.1.1", "10.2.2.2"]);
    assert_eq!(r.resolve(ip("10.0.0.2"), &h), ip("198.51.100.7"));
    let r = fwd_resolver();
    let h = fwd(&["for=6.6.6.6", "for=198.51.100.9", "for=10.1.1.1"]);
    assert_eq!(r.resolve(ip("10.0.0.2"), &h), ip("198.51.100.9"));
}

#[test]
fn garbage_never_yields_an_address_left_of_it() {
    let r = xff_resolver();
    let peer = ip("10.0.0.2");
    for junk in [
        "unknown",
        "_hidden",
        "not-an-ip",
        "",
        " ",
        "1.2.3",
        "1.2.3.4:99999",
        "[::1",
    ] {
        let h = xff(&[&format!("6.6.6.6, {junk}, 10.1.1.1")]);
        assert_eq!(r.resolve(peer, &h), ip("10.1.1.1"), "junk {junk:?}");
        let h = xff(&[&format!("6.6.6.6, {junk}")]);
        assert_eq!(r.resolve(peer, &h), peer, "junk {junk:?}");
    }
    // Empty entries.
    let h = xff(&["6.6.6.6,,10.1.1.1"]);
    assert_eq!(r.resolve(peer, &h), ip("10.1.1.1"));
    let h = xff(&["6.6.6.6, 10.1.1.1,"]);
    assert_eq!(r.resolve(peer, &h), peer);
    // Garbage to the left of the client does not matter.
    let h = xff(&["unknown, 198.51.100.7, 10.1.1.1"]);
    assert_eq!(r.resolve(peer, &h), ip("198.51.100.7"));
    // Forwarded: `unknown` and obfuscated identifiers.
    let f = fwd_resolver();
    for junk in [
        "for=unknown",
        "for=_hidden",
        "for=\"_x:_y\"",
        "for=",
        "for=\"\"",
        "junk",
    ] {
        let h = fwd(&[&format!("for=6.6.6.6, {junk}, for=10.1.1.1")]);
        assert_eq!(f.resolve(peer, &h), ip("10.1.1.1"), "junk {junk:?}");
    }
}

#[test]
fn non_utf8_bytes_are_garbage() {
    let r = xff_resolver();
    let peer = ip("10.0.0.2");
    let h = headers(
        "x-forwarded-for",
        &[b"6.6.6.6, \xff\xfe1.2.3.4, 10.1.1.1".as_slice()],
    );
    assert_eq!(r.resolve(peer, &h), ip("10.1.1.1"));
    // A garbage line to the left of a good line is not reached.
    let h = headers(
        "x-forwarded-for",
        &[b"\xc3\x28".as_slice(), b"198.51.100.7".as_slice()],
    );
    assert_eq!(r.resolve(peer, &h), ip("198.51.100.7"));
    let f = fwd_resolver();
    let h = headers(
        "forwarded",
        &[b"for=6.6.6.6, for=\xe9, for=10.1.1.1".as_slice()],
    );
    assert_eq!(f.resolve(peer, &h), ip("10.1.1.1"));
}

#[test]
fn oversized_headers_are_bounded() {
    let r = xff_resolver();
    let peer = ip("10.0.0.2");
    // 10 KiB of one junk entry ending in trusted hops: stops at the nearest trusted hop.
    let big = format!("6.6.6.6, {}, 10.1.1.1", "9".repeat(10 * 1024));
    assert_eq!(r.resolve(peer, &xff(&[&big])), ip("10.1.1.1"));
    // 10 KiB of trusted entries: the walk stops at the bound, at the last trusted hop seen,
    // and never reaches the (untrusted) left-most entry.
    let spoofed = vec!["10.5.5.5"; 1200].join(", ");
    assert!(spoofed.len() > 10 * 1024);
    let h = xff(&[&format!("6.6.6.6, {spoofed}")]);
    let got = r.resolve(peer, &h);
    assert_eq!(got, ip("10.5.5.5"));
    // 1000 trusted entries: never walks past the entry bound, never returns the left-most.
    let entries: Vec<String> = (0..1000)
        .map(|i| format!("10.0.{}.{}", i / 250, i % 250))
        .collect();
    let h = xff(&[&format!("6.6.6.6, {}", entries.join(","))]);
    let got = r.resolve(peer, &h);
    assert_ne!(got, ip("6.6.6.6"));
    assert_eq!(got, ip(&entries[1000 - MAX_HEADER_ENTRIES]));
    // The client's own address in a huge header is still found if it is right-most.
    let h = xff(&[&format!(
        "{}, 198.51.100.7, 10.1.1.1",
        vec!["6.6.6.6"; 1000].join(",")
    )]);
    assert_eq!(r.resolve(peer, &h), ip("198.51.100.7"));
}

#[test]
fn trusted_proxies_parse_and_contains() {
    let p = TrustedProxies::parse(["10.0.0.0/8", " 192.0.2.7 ", "2001:db8::1", "10.1.2.3/16"])
        .expect("valid");
    assert!(p.contains(ip("10.255.0.1")));
    assert!(p.contains(ip("192.0.2.7")));
    assert!(!p.contains(ip("192.0.2.8")));
    assert!(p.contains(ip("2001:db8::1")));
    assert!(!p.contains(ip("2001:db8::2")));
    assert_eq!(p.nets()[1].to_string(), "192.0.2.7/32");
    assert_eq!(p.nets()[2].to_string(), "2001:db8::1/128");
    assert_eq!(p.nets()[3].to_string(), "10.1.0.0/16");
    assert!(!p.is_empty());
    assert!(TrustedProxies::parse(Vec::<String>::new())
        .expect("empty")
        .is_empty());

    for bad in [
        "10.0.0.0/33",
        "not-an-ip",
        "10.0.0/8",
        "2001:db8::/129",
        "",
        "10.0.0.1/",
    ] {
        let err = TrustedProxies::parse(["10.0.0.0/8", bad]).expect_err(bad);
        assert_eq!(err.input(), bad);
        let msg = err.to_string();
        assert!(msg.contains(&format!("{bad:?}")), "{msg}");
        assert!(msg.contains("CIDR"), "{msg}");
    }

    let p = TrustedProxies::new(vec!["10.0.0.0/8".parse().expect("net")]);
    assert!(p.contains(ip("::ffff:10.0.0.1")));
}

#[test]
fn trusted_proxies_serde_roundtrip() {
    let p: TrustedProxies =
        serde_json::from_str(r#"["10.0.0.0/8", "192.0.2.7"]"#).expect("deserialize");
    assert!(p.contains(ip("192.0.2.7")));
    assert_eq!(
        serde_json::to_string(&p).expect("serialize"),
        r#"["10.0.0.0/8","192.0.2.7/32"]"#
    );
    assert!(serde_json::from_str::<TrustedProxies>(r#"["10.0.0.0/40"]"#).is_err());
    let h: ForwardedHeader = serde_json::from_str(r#""x-forwarded-for""#).expect("header");
    assert_eq!(h, ForwardedHeader::XForwardedFor);
    let h: ForwardedHeader = serde_json::from_str(r#""forwarded""#).expect("header");
    assert_eq!(h, ForwardedHeader::Forwarded);
}

#[test]
fn network_key_collapses_ipv6_to_64() {
    assert_eq!(network_key(ip("192.0.2.7")), ip("192.0.2.7"));
    assert_eq!(network_key(ip("::ffff:192.0.2.7")), ip("192.0.2.7"));
    assert_eq!(
        network_key(ip("2001:db8:1:2:aaaa:bbbb:cccc:dddd")),
        ip("2001:db8:1:2::")
    );
    assert_eq!(
        network_key(ip("2001:db8:1:2::1")),
        network_key(ip("2001:db8:1:2:ffff::9"))
    );
    assert_ne!(
        network_key(ip("2001:db8:1:2::1")),
        network_key(ip("2001:db8:1:3::1"))
    );
}

#[actix_rt::test]
async fn resolve_request_uses_socket_peer() {
    let r = xff_resolver();
    let req = atest::TestRequest::default()
        .peer_addr("10.0.0.2:40000".parse().expect("addr"))
        .insert_header(("x-forwarded-for", "6.6.6.6, 198.51.100.7"))
        .to_http_request();
    assert_eq!(r.resolve_request(&req), Some(ip("198.51.100.7")));
    let req = atest::TestRequest::default()
        .peer_addr("203.0.113.9:40000".parse().expect("addr"))
        .insert_header(("x-forwarded-for", "198.51.100.7"))
        .to_http_request();
    assert_eq!(r.resolve_request(&req), Some(ip("203.0.113.9")));
    let req = atest::TestRequest::default()
        .insert_header(("x-forwarded-for", "198.51.100.7"))
        .to_http_request();
    assert_eq!(r.resolve_request(&req), None);
}
