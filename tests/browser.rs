//! Real-browser end-to-end test of the demo app (`examples/hardened_app`): headless Chromium
//! driven through ChromeDriver's W3C WebDriver HTTP API.
//!
//! The flow: an anonymous visit to /dashboard ends on the login form; alice logs in and lands on
//! her dashboard; the `__Host-session` cookie is HttpOnly, Secure and SameSite=Lax; a form
//! served from another loopback port posting to the app is refused (403) while her session
//! survives; the header's "Log out" form (with its CSRF field) ends the session and the old
//! cookie no longer reaches /dashboard; admin logs in and the /audit page, whose EventSource script
//! is allowed only by the CSP nonce, shows live events.
//!
//! Needs Debian's `chromium` and `chromium-driver` (/usr/bin/chromium, /usr/bin/chromedriver).
//! Without them the test prints a line and passes, unless `CI` is set: then it fails.

use std::{
    io::{Read, Write},
    net::{TcpListener, TcpStream},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use serde_json::{json, Value};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const PASSWORD: &str = "correct horse battery staple";
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A child process killed (and reaped) when dropped, so nothing outlives a failed test.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// One HTTP/1.1 exchange on 127.0.0.1:`port` (Connection: close). Returns the status and body.
fn http(
    port: u16,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> Result<(u16, String), String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .map_err(|e| e.to_string())?;
    let payload = body.map(Value::to_string).unwrap_or_default();
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\
         Accept: */*\r\n"
    );
    if body.is_some() {
        req.push_str("Content-Type: application/json; charset=utf-8\r\n");
    }
    req.push_str(&format!(
        "Content-Length: {}\r\n\r\n{payload}",
        payload.len()
    ));
    stream
        .write_all(req.as_bytes())
        .map_err(|e| e.to_string())?;
    // Read by Content-Length (or chunking): chromedriver keeps connections open.
    let mut raw = Vec::new();
    let mut buf = [0u8; 16384];
    let mut head_len = None;
    loop {
        if head_len.is_none() {
            head_len = raw.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4);
        }
        if let Some(h) = head_len {
            let head = String::from_utf8_lossy(&raw[..h]).to_ascii_lowercase();
            let length = head.lines().find_map(|l| {
                l.strip_prefix("content-length:")
                    .and_then(|v| v.trim().parse::<usize>().ok())
            });
            let done = match length {
                Some(n) => raw.len() >= h + n,
                None if head.contains("transfer-encoding: chunked")
                    || head.contains("transfer-encoding:chunked") =>
                {
                    raw.ends_with(b"0\r\n\r\n")
                }
                None => false,
            };
            if done {
                break;
            }
        }
        let n = stream.read(&mut buf).map_err(|e| e.to_string())?;
        if n == 0 {
            break;
        }
        raw.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, rest) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| format!("malformed HTTP response: {text:?}"))?;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("no status in {head:?}"))?;
    let chunked = head.lines().any(|l| {
        let l = l.to_ascii_lowercase();
        l.starts_with("transfer-encoding:") && l.contains("chunked")
    });
    let body = if chunked {
        dechunk(rest)?
    } else {
        rest.to_owned()
    };
    Ok((status, body))
}

fn dechunk(mut rest: &str) -> Result<String, String> {
    let mut out = String::new();
    loop {
        let (size, after) = rest.split_once("\r\n").ok_or("bad chunk")?;
        let size = usize::from_str_radix(size.split(';').next().unwrap_or("").trim(), 16)
            .map_err(|e| e.to_string())?;
        if size == 0 {
            return Ok(out);
        }
        out.push_str(after.get(..size).ok_or("short chunk")?);
        rest = after.get(size + 2..).ok_or("short chunk")?;
    }
}

/// Polls `f` every 100 ms until it returns `Some`, for at most `limit`.
fn wait_for<T>(what: &str, limit: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {limit:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A WebDriver session, deleted (which closes the browser) when dropped.
struct Browser {
    port: u16,
    id: String,
}

impl Browser {
    fn start(driver_port: u16, profile_dir: &Path) -> Browser {
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "pageLoadStrategy": "normal",
            "goog:loggingPrefs": {"browser": "ALL"},
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-quic",
                    "--no-first-run",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--disable-dev-shm-usage",
                    "--window-size=1200,900",
                    format!("--user-data-dir={}", profile_dir.display()),
                ],
            },
        }}});
        let (status, body) = http(driver_port, "POST", "/session", Some(&caps))
            .unwrap_or_else(|e| panic!("POST /session: {e}"));
        let v: Value = serde_json::from_str(&body).expect("JSON from chromedriver");
        assert_eq!(status, 200, "new session refused: {body}");
        let id = v["value"]["sessionId"]
            .as_str()
            .expect("a session id")
            .to_owned();
        let browser = Browser {
            port: driver_port,
            id,
        };
        browser.cmd(
            "POST",
            "timeouts",
            Some(json!({"pageLoad": 20000, "script": 10000, "implicit": 0})),
        );
        browser
    }

    /// A session command; `Err` carries the WebDriver error code and message.
    fn try_cmd(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, String> {
        let url = if path.is_empty() {
            format!("/session/{}", self.id)
        } else {
            format!("/session/{}/{path}", self.id)
        };
        let body = match (method, body) {
            ("POST", None) => Some(json!({})),
            (_, b) => b,
        };
        let (status, text) = http(self.port, method, &url, body.as_ref())?;
        let v: Value =
            serde_json::from_str(&text).map_err(|e| format!("{method} {url}: {e}: {text}"))?;
        if status == 200 {
            Ok(v["value"].clone())
        } else {
            Err(format!(
                "{method} {url}: {status} {} {}",
                v["value"]["error"], v["value"]["message"]
            ))
        }
    }

    fn cmd(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        self.try_cmd(method, path, body)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    fn goto(&self, url: &str) {
        self.cmd("POST", "url", Some(json!({ "url": url })));
    }

    fn url(&self) -> String {
        self.cmd("GET", "url", None)
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    fn source(&self) -> String {
        self.cmd("GET", "source", None)
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    fn try_find(&self, css: &str) -> Option<String> {
        self.try_cmd(
            "POST",
            "element",
            Some(json!({"using": "css selector", "value": css})),
        )
        .ok()
        .and_then(|v| v[ELEMENT_KEY].as_str().map(str::to_owned))
    }

    fn find(&self, css: &str) -> String {
        wait_for(&format!("element {css}"), Duration::from_secs(10), || {
            self.try_find(css)
        })
    }

    fn type_into(&self, css: &str, text: &str) {
        let el = self.find(css);
        self.cmd("POST", &format!("element/{el}/clear"), None);
        self.cmd(
            "POST",
            &format!("element/{el}/value"),
            Some(json!({ "text": text })),
        );
    }

    fn click(&self, css: &str) {
        let el = self.find(css);
        self.cmd("POST", &format!("element/{el}/click"), None);
    }

    /// Waits until the current URL's path (and query) starts with `prefix`.
    fn wait_for_path(&self, base: &str, prefix: &str) -> String {
        let want = format!("{base}{prefix}");
        wait_for(
            &format!("the browser to reach {want}"),
            Duration::from_secs(10),
            || {
                let url = self.url();
                url.starts_with(&want).then_some(url)
            },
        )
    }

    fn cookies(&self) -> Vec<Value> {
        self.cmd("GET", "cookie", None)
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    fn log_in(&self, base: &str, user: &str) {
        self.type_into("form[action='/login'] input[name='username']", user);
        self.type_into("form[action='/login'] input[name='password']", PASSWORD);
        self.click("form[action='/login'] button");
        // Wait until the login page is gone (a successful POST redirects away from /login).
        wait_for(
            &format!("{user}'s login to leave /login"),
            Duration::from_secs(15),
            || (!self.url().starts_with(&format!("{base}/login"))).then_some(()),
        );
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = http(self.port, "DELETE", &format!("/session/{}", self.id), None);
    }
}

/// Builds the demo example and returns the path of its binary.
/// Serves `page` to every request on a free loopback port, from a detached thread; returns
/// the port. (A stand-in for an attacker's site on another origin.)
fn serve_forever(page: &str) -> u16 {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind the other origin");
    let port = listener.local_addr().expect("its address").port();
    let response = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: text/html; charset=utf-8\r\ncontent-length: {}\r\n\
         connection: close\r\n\r\n{page}",
        page.len()
    );
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
            let mut buf = [0u8; 4096];
            let mut seen = Vec::new();
            while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                match stream.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => seen.extend_from_slice(&buf[..n]),
                }
            }
            let _ = stream.write_all(response.as_bytes());
        }
    });
    port
}

fn build_demo() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    // This test runs from <target>/<profile>/deps/; the example lands in
    // <target>/<profile>/examples/.
    let exe = std::env::current_exe().expect("the test's path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("<target>/<profile>")
        .to_owned();
    let mut cmd = Command::new(env!("CARGO"));
    cmd.current_dir(manifest)
        .args(["build", "--quiet", "--example", "hardened_app"]);
    if profile_dir.file_name().is_some_and(|n| n == "release") {
        cmd.arg("--release");
    }
    if let Some(target) = profile_dir.parent() {
        cmd.env("CARGO_TARGET_DIR", target);
    }
    let status = cmd.status().expect("cargo build runs");
    assert!(
        status.success(),
        "cargo build --example hardened_app failed"
    );
    let bin = profile_dir.join("examples").join("hardened_app");
    assert!(bin.exists(), "{} missing after the build", bin.display());
    bin
}

#[test]
fn demo_app_in_a_real_browser() {
    let in_ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty());
    let missing: Vec<&str> = [CHROMIUM, CHROMEDRIVER]
        .into_iter()
        .filter(|p| !Path::new(p).exists())
        .collect();
    if !missing.is_empty() {
        assert!(
            !in_ci,
            "CI is set but {missing:?} are missing: install chromium chromium-driver"
        );
        eprintln!("skipping: install chromium chromium-driver ({missing:?} not found)");
        return;
    }

    let bin = build_demo();
    let started = Instant::now();
    let tmp = tempfile::tempdir().expect("a temp dir");
    let app_port = free_port();
    let base = format!("http://127.0.0.1:{app_port}");
    let app_log = tmp.path().join("app.log");
    let log_file = std::fs::File::create(&app_log).expect("the app log");
    let _app = KillOnDrop(
        Command::new(&bin)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env("WARDEN_BIND", format!("127.0.0.1:{app_port}"))
            .env("WARDEN_DATA_DIR", tmp.path().join("data"))
            .env("WARDEN_PROFILE", "development")
            .env("RUST_LOG", "info")
            .env_remove("WARDEN_CONFIG")
            .env_remove("WARDEN_ORIGIN")
            .env_remove("WARDEN_SECRET_KEY")
            .env_remove("WARDEN_PREVIOUS_SECRET_KEYS")
            .env_remove("WARDEN_DEMO_PASSWORD")
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().expect("the app log"))
            .stderr(log_file)
            .spawn()
            .expect("the demo app starts"),
    );
    let app_log_text = || std::fs::read_to_string(&app_log).unwrap_or_default();
    let healthy = (|| {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok((200, body)) = http(app_port, "GET", "/healthz", None) {
                if body.trim() == "ok" {
                    return true;
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        false
    })();
    assert!(
        healthy,
        "the demo never answered /healthz:\n{}",
        app_log_text()
    );

    let driver_port = free_port();
    let _driver = KillOnDrop(
        Command::new(CHROMEDRIVER)
            .arg(format!("--port={driver_port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts"),
    );
    wait_for("chromedriver /status", Duration::from_secs(15), || {
        let (status, body) = http(driver_port, "GET", "/status", None).ok()?;
        let v: Value = serde_json::from_str(&body).ok()?;
        (status == 200 && v["value"]["ready"] == json!(true)).then_some(())
    });
    let profile = tmp.path().join("chromium-profile");
    std::fs::create_dir_all(&profile).expect("the profile dir");
    // Declared after `_driver`, so the session is deleted (browser closed) before chromedriver
    // is killed.
    let b = Browser::start(driver_port, &profile);

    // 1. Anonymous: /dashboard redirects to the login form, remembering where to go next.
    b.goto(&format!("{base}/dashboard"));
    let url = b.wait_for_path(&base, "/login");
    assert!(url.contains("next="), "no next= in {url}");
    b.find("form[action='/login'] input[name='csrf_token'][type='hidden']");

    // 2. alice logs in and lands on her dashboard.
    b.log_in(&base, "alice");
    b.wait_for_path(&base, "/dashboard");
    let src = b.source();
    assert!(
        src.contains("Welcome, alice"),
        "dashboard without welcome:\n{src}"
    );

    // 3. The session cookie as the browser stored it.
    let cookies = b.cookies();
    let session = cookies
        .iter()
        .find(|c| c["name"] == "__Host-session")
        .unwrap_or_else(|| panic!("no __Host-session cookie in {cookies:#?}"));
    assert_eq!(session["httpOnly"], json!(true), "{session}");
    assert_eq!(session["secure"], json!(true), "{session}");
    assert_eq!(session["sameSite"], json!("Lax"), "{session}");
    assert_eq!(session["path"], json!("/"), "{session}");

    // 3b. A form on another loopback port (another origin, same site) posting to the app
    //     while alice is logged in: refused by the CSRF layer, and her session still works.
    let evil = serve_forever(&format!(
        "<!doctype html><html><body><form id=\"f\" method=\"post\" \
         action=\"{base}/account/password\">\
         <input name=\"current_password\" value=\"x\">\
         <input name=\"new_password\" value=\"hijacked-password\">\
         <button id=\"go\">win a prize</button></form></body></html>"
    ));
    b.goto(&format!("http://127.0.0.1:{evil}/"));
    b.click("#go");
    b.wait_for_path(&base, "/account/password");
    let src = b.source();
    assert!(
        src.contains("Forbidden"),
        "cross-site post not refused:\n{src}"
    );
    b.goto(&format!("{base}/dashboard"));
    b.wait_for_path(&base, "/dashboard");

    // 4. The header's "Log out" form ends the session.
    b.click("header form[action='/logout'] button");
    wait_for("logout to land on /", Duration::from_secs(10), || {
        let url = b.url();
        (url == format!("{base}/")).then_some(())
    });
    assert!(
        b.source().contains("Not logged in"),
        "still logged in after logout"
    );
    b.goto(&format!("{base}/dashboard"));
    b.wait_for_path(&base, "/login");

    // 5. admin: /audit asks for a login, then shows the live audit view.
    b.goto(&format!("{base}/audit"));
    let url = b.wait_for_path(&base, "/login");
    assert!(
        url.contains("next=%2Faudit") || url.contains("next=/audit"),
        "{url}"
    );
    b.log_in(&base, "admin");
    b.wait_for_path(&base, "/audit");
    let src = b.source();
    assert!(
        src.contains("<ol id=\"events\">") && src.contains("<script nonce="),
        "unexpected audit page:\n{src}"
    );
    // The list is filled only by the page's inline script (allowed by the CSP nonce) through
    // EventSource. Meanwhile, generate events from outside the browser: anonymous requests to
    // protected pages record auth.require.unauthenticated.
    let first = wait_for(
        "an <li> in the audit page's #events",
        Duration::from_secs(10),
        || {
            let _ = http(app_port, "GET", "/notes/1", None);
            let el = b.try_find("ol#events > li")?;
            b.try_cmd("GET", &format!("element/{el}/text"), None)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
        },
    );
    assert!(
        first.contains('.') && first.contains('{'),
        "unexpected event text: {first:?}"
    );

    // 6. No CSP violation in the browser's console (where chromedriver offers the log).
    match b.try_cmd("POST", "se/log", Some(json!({"type": "browser"}))) {
        Ok(entries) => {
            let entries = entries.as_array().cloned().unwrap_or_default();
            let violations: Vec<&Value> = entries
                .iter()
                .filter(|e| {
                    e["message"]
                        .as_str()
                        .is_some_and(|m| m.contains("Content Security Policy"))
                })
                .collect();
            assert!(violations.is_empty(), "CSP violations: {violations:#?}");
        }
        Err(e) => eprintln!("note: no browser log from chromedriver ({e})"),
    }

    eprintln!(
        "browser e2e passed in {:?}; first audit event: {first}",
        started.elapsed()
    );
}
