//! Validation of `[server]`, numbers, `[proxy]` and the production profile.

use super::*;

// Validation: server

#[test]
fn a_bind_that_is_not_a_socket_address_is_rejected() {
    for bind in ["localhost", "127.0.0.1", "127.0.0.1:99999", ""] {
        let reason = only_error("", &[("WARDEN_BIND", bind)], "server.bind");
        assert!(reason.contains("socket address"), "{bind}: {reason}");
    }
}

#[test]
fn an_empty_data_dir_is_rejected() {
    only_error("", &[("WARDEN_DATA_DIR", "")], "server.data_dir");
}

#[test]
fn invalid_origins_are_rejected() {
    for origin in [
        "app.example.com",
        "ftp://app.example.com",
        "https://app.example.com/app",
        "https://app.example.com?x=1",
        "https://app.example.com#top",
        "https://user@app.example.com",
        "https://",
        "https://app.example.com:http",
    ] {
        only_error("", &[("WARDEN_ORIGIN", origin)], "server.origin");
    }
    let reason = only_error("", &[("WARDEN_ORIGIN", "app.example.com")], "server.origin");
    assert!(
        reason.contains("http://") && reason.contains("https://"),
        "{reason}"
    );
    let reason = only_error(
        "",
        &[("WARDEN_ORIGIN", "https://a.example.com/x")],
        "server.origin",
    );
    assert!(reason.contains("path"), "{reason}");
}

#[test]
fn origins_are_normalised() {
    let cfg = load("", &[("WARDEN_ORIGIN", "HTTPS://App.Example.COM:8443/")]).unwrap();
    assert_eq!(cfg.server.origin, "https://app.example.com:8443");
    assert_eq!(
        cfg.server.allowed_hosts,
        vec!["app.example.com:8443".to_owned()]
    );
}

#[test]
fn invalid_allowed_hosts_are_rejected() {
    for host in [
        "",
        "https://app.example.com",
        "app.example.com/path",
        "a b.com",
    ] {
        let toml = format!("[server]\nallowed_hosts = [\"ok.example.com\", \"{host}\"]\n");
        only_error(&toml, &[], "server.allowed_hosts");
    }
    let reason = only_error(
        "[server]\nallowed_hosts = [\"https://app.example.com\"]\n",
        &[],
        "server.allowed_hosts",
    );
    assert!(reason.contains("scheme"), "{reason}");
}

#[test]
fn explicit_allowed_hosts_are_kept_lowercased() {
    let cfg = load(
        "[server]\nallowed_hosts = [\"App.Example.com\", \"api.example.com:8443\"]\n",
        &[],
    )
    .unwrap();
    assert_eq!(
        cfg.server.allowed_hosts,
        vec![
            "app.example.com".to_owned(),
            "api.example.com:8443".to_owned()
        ]
    );
}

#[test]
fn wildcard_allowed_hosts_are_accepted_as_the_middleware_parses_them() {
    let cfg = load(
        "[server]\nallowed_hosts = [\"*.Example.com\", \"*.api.example.com:8443\", \
         \"app.example.com.\", \"[0:0::1]:8080\", \"*.example.com\"]\n",
        &[],
    )
    .unwrap();
    assert_eq!(
        cfg.server.allowed_hosts,
        vec![
            "*.example.com".to_owned(),
            "*.api.example.com:8443".to_owned(),
            "app.example.com".to_owned(),
            "[::1]:8080".to_owned(),
        ],
        "normalised as HostPattern displays them, without duplicates"
    );
    let hosts = warden::hosts::AllowedHosts::parse(&cfg.server.allowed_hosts).unwrap();
    assert!(hosts.is_allowed("a.example.com"));
    assert!(hosts.is_allowed("a.b.example.com:443"));
    assert!(!hosts.is_allowed("example.com"));
    assert!(hosts.is_allowed("x.api.example.com:8443"));
    assert!(hosts.is_allowed("[::1]:8080"));
}

#[test]
fn bare_and_misplaced_wildcards_are_rejected() {
    for (host, why) in [
        ("*", "every host"),
        ("*.", "malformed"),
        ("*example.com", "leading `*.`"),
        ("app.*.example.com", "leading `*.`"),
        ("*.*.example.com", "leading `*.`"),
        ("*.[::1]", "IP address"),
        ("app.example.com:99999", "malformed"),
        ("user@app.example.com", "user info"),
        ("::1", "malformed"),
    ] {
        let toml = format!("[server]\nallowed_hosts = [\"{host}\"]\n");
        let reason = only_error(&toml, &[], "server.allowed_hosts");
        assert!(reason.contains(why), "{host}: {reason}");
    }
}

#[test]
fn every_accepted_allowed_host_parses_in_the_middleware() {
    for host in [
        "app.example.com",
        "APP.example.com:8080",
        "*.example.com",
        "localhost",
        "127.0.0.1:8080",
        "[::1]",
        "under_score.example.com",
    ] {
        let toml = format!("[server]\nallowed_hosts = [\"{host}\"]\n");
        let cfg = load(&toml, &[]).unwrap_or_else(|e| panic!("{host}: {e}"));
        warden::hosts::AllowedHosts::parse(&cfg.server.allowed_hosts)
            .unwrap_or_else(|e| panic!("{host}: {e}"));
    }
}

// Validation: numbers

#[test]
fn every_zero_timeout_capacity_and_queue_is_rejected_by_name() {
    let toml = "\
        [session]\nidle_timeout_secs = 0\nabsolute_timeout_secs = 0\ntouch_interval_ms = 0\n\
        [runtime]\nmailbox_capacity = 0\nask_timeout_ms = 0\n\
        [store]\nflush_every_ms = 0\nsweep_interval_ms = 0\nsweep_batch = 0\ncache_capacity_mb = 0\n\
        [audit]\nsink_queue = 0\nsubscriber_queue = 0\nretention_max_age_days = 0\n\
        retention_max_count = 0\nretention_interval_secs = 0\n";
    let err = invalid(toml, &[]);
    let mut keys = err.keys();
    keys.sort_unstable();
    let mut expected = vec![
        "session.idle_timeout_secs",
        "session.absolute_timeout_secs",
        "session.touch_interval_ms",
        "runtime.mailbox_capacity",
        "runtime.ask_timeout_ms",
        "store.flush_every_ms",
        "store.sweep_interval_ms",
        "store.sweep_batch",
        "store.cache_capacity_mb",
        "audit.sink_queue",
        "audit.subscriber_queue",
        "audit.retention_max_age_days",
        "audit.retention_max_count",
        "audit.retention_interval_secs",
    ];
    expected.sort_unstable();
    assert_eq!(keys, expected);
    assert!(err
        .errors()
        .iter()
        .all(|e| e.reason == "must be greater than 0"));
    // One per line, each naming its key.
    assert_eq!(err.to_string().lines().count(), expected.len());
    assert!(err
        .to_string()
        .lines()
        .any(|l| l == "config key `session.idle_timeout_secs`: must be greater than 0"));
}

#[test]
fn each_zero_value_alone_is_rejected() {
    for (section, key) in [
        ("session", "absolute_timeout_secs"),
        ("session", "touch_interval_ms"),
        ("runtime", "mailbox_capacity"),
        ("runtime", "ask_timeout_ms"),
        ("store", "flush_every_ms"),
        ("store", "sweep_interval_ms"),
        ("store", "sweep_batch"),
        ("store", "cache_capacity_mb"),
        ("audit", "sink_queue"),
        ("audit", "subscriber_queue"),
        ("audit", "retention_max_age_days"),
        ("audit", "retention_max_count"),
        ("audit", "retention_interval_secs"),
    ] {
        let toml = format!("[{section}]\n{key} = 0\n");
        let reason = only_error(&toml, &[], &format!("{section}.{key}"));
        assert_eq!(reason, "must be greater than 0");
    }
    let err = invalid("[session]\nidle_timeout_secs = 0\n", &[]);
    assert_eq!(
        err.to_string(),
        "config key `session.idle_timeout_secs`: must be greater than 0"
    );
}

#[test]
fn values_that_overflow_when_scaled_are_rejected() {
    let reason = only_error(
        "[store]\ncache_capacity_mb = 9223372036854775807\n",
        &[],
        "store.cache_capacity_mb",
    );
    assert!(reason.contains("too large"), "{reason}");
    only_error(
        "[audit]\nretention_max_age_days = 9223372036854775807\n",
        &[],
        "audit.retention_max_age_days",
    );
}

#[test]
fn idle_timeout_longer_than_absolute_timeout_is_rejected() {
    let toml = "[session]\nidle_timeout_secs = 7200\nabsolute_timeout_secs = 3600\n";
    let reason = only_error(toml, &[], "session.idle_timeout_secs");
    assert!(reason.contains("absolute_timeout_secs"), "{reason}");
    let cfg = load(
        "[session]\nidle_timeout_secs = 3600\nabsolute_timeout_secs = 3600\n",
        &[],
    );
    assert_eq!(cfg.unwrap().session.idle_timeout, Duration::from_secs(3600));
}

// Validation: proxy

#[test]
fn trusted_proxies_accept_cidrs_and_bare_ips() {
    let toml = "[proxy]\ntrusted_proxies = [\"10.0.0.0/8\", \"192.168.1.7\", \"::1\", \
                \"fd00::/8\", \"172.16.5.4/12\"]\nforwarded_header = \"forwarded\"\n";
    let cfg = load(toml, &[]).unwrap();
    let nets: Vec<String> = cfg
        .proxy
        .trusted_proxies
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        nets,
        vec![
            "10.0.0.0/8",
            "192.168.1.7/32",
            "::1/128",
            "fd00::/8",
            "172.16.0.0/12"
        ]
    );
    assert_eq!(cfg.proxy.forwarded_header, ForwardedHeader::Forwarded);
}

#[test]
fn an_invalid_trusted_proxy_is_rejected_naming_the_entry() {
    let toml = "[proxy]\ntrusted_proxies = [\"10.0.0.0/8\", \"10.0.0.0/33\", \"proxy.local\"]\n";
    let err = invalid(toml, &[]);
    assert_eq!(
        err.keys(),
        vec!["proxy.trusted_proxies", "proxy.trusted_proxies"]
    );
    assert!(err.errors()[0].reason.contains("`10.0.0.0/33`"), "{err}");
    assert!(err.errors()[1].reason.contains("`proxy.local`"), "{err}");
}

#[test]
fn trusting_every_address_is_rejected_in_production() {
    let toml = "[proxy]\ntrusted_proxies = [\"0.0.0.0/0\"]\n";
    let env = [
        ("WARDEN_PROFILE", "production"),
        ("WARDEN_SECRET_KEY", KEY_A),
        ("WARDEN_ORIGIN", "https://app.example.com"),
    ];
    let reason = only_error(toml, &env, "proxy.trusted_proxies");
    assert!(reason.contains("spoof"), "{reason}");
}

#[test]
fn an_invalid_request_id_header_is_rejected() {
    for header in ["", "x request id", "x-request-id:", "x-r\u{e9}quest"] {
        let toml = format!("[proxy]\nrequest_id_header = \"{header}\"\n");
        only_error(&toml, &[], "proxy.request_id_header");
    }
    let cfg = load("[proxy]\nrequest_id_header = \"X-Correlation-ID\"\n", &[]).unwrap();
    assert_eq!(cfg.proxy.request_id_header, "x-correlation-id");
}

// Validation: production profile

#[test]
fn production_requires_secure_cookies() {
    let toml = "profile = \"production\"\n[server]\norigin = \"https://app.example.com\"\n\
                [session]\ncookie_name = \"sid\"\nsecure = false\n\
                [csrf]\ncookie_name = \"csrf\"\n";
    let reason = only_error(toml, &[("WARDEN_SECRET_KEY", KEY_A)], "session.secure");
    assert!(reason.contains("production"), "{reason}");
}

#[test]
fn production_requires_an_https_origin() {
    let toml = "profile = \"production\"\n[server]\norigin = \"http://app.example.com\"\n";
    let reason = only_error(toml, &[("WARDEN_SECRET_KEY", KEY_A)], "server.origin");
    assert!(reason.contains("https://"), "{reason}");
    // The derived http://<bind> origin is rejected too.
    only_error(
        "profile = \"production\"\n",
        &[("WARDEN_SECRET_KEY", KEY_A)],
        "server.origin",
    );
}

#[test]
fn production_reports_every_problem_at_once() {
    let toml = "profile = \"production\"\n[session]\nsecure = false\nidle_timeout_secs = 0\n";
    let err = invalid(toml, &[]);
    assert_eq!(
        err.keys(),
        vec![
            "server.origin",
            "secrets.keys",
            "session.cookie_name",
            "session.secure",
            "session.idle_timeout_secs",
            "csrf.cookie_name", // `__Host-csrf` needs `session.secure = true` too
        ]
    );
    assert_eq!(err.to_string().lines().count(), 6);
}

#[test]
fn from_raw_validates_a_raw_config() {
    let mut raw = RawConfig::default();
    raw.secrets.keys = vec![KEY_A.to_owned()];
    raw.session.same_site = SameSite::Strict;
    let cfg = Config::try_from(raw.clone()).unwrap();
    assert_eq!(cfg.session.same_site, SameSite::Strict);
    assert_eq!(cfg.secrets.current(), KEY_A.as_bytes());
    raw.server.bind = "nope".to_owned();
    let err = Config::from_raw(raw).unwrap_err();
    assert_eq!(err.keys(), vec!["server.bind"]);
}
