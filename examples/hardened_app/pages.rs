//! The demo's small server-rendered HTML pages.

use warden::{auth::User, csrf::CsrfToken};

/// Escapes text for HTML element content and attribute values.
pub(crate) fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#x27;"),
            c => o.push(c),
        }
    }
    o
}

/// A whole page.
pub(crate) fn page(title: &str, user: Option<&User>, csrf: &CsrfToken, body: &str) -> String {
    let who = match user {
        Some(u) => format!(
            "Logged in as <strong>{}</strong> · <a href=\"/dashboard\">dashboard</a> · \
             <form method=\"post\" action=\"/logout\">{}<button>Log out</button></form>",
            esc(&u.login),
            csrf.field()
        ),
        None => "Not logged in · <a href=\"/login\">log in</a>".into(),
    };
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>{} · warden demo</title></head>\n<body>\n<header><a href=\"/\">warden demo</a> · {who}</header>\n\
         <main>\n<h1>{}</h1>\n{body}\n</main>\n</body></html>\n",
        esc(title),
        esc(title)
    )
}

/// The login form.
pub(crate) fn login_form(csrf: &CsrfToken, next: &str, error: Option<&str>) -> String {
    let err = error
        .map(|e| format!("<p role=\"alert\">{}</p>\n", esc(e)))
        .unwrap_or_default();
    format!(
        "{err}<form method=\"post\" action=\"/login\">\n{}\n\
         <input type=\"hidden\" name=\"next\" value=\"{}\">\n\
         <label>Username <input name=\"username\" autocomplete=\"username\" required></label>\n\
         <label>Password <input type=\"password\" name=\"password\" autocomplete=\"current-password\" required></label>\n\
         <button>Log in</button>\n</form>\n\
         <p><a href=\"/password-reset\">Forgot your password?</a></p>",
        csrf.field(),
        esc(next)
    )
}
