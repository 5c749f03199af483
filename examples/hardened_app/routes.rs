//! The demo's handlers: the HTTP contract of `shared/DESIGN.md`.

use std::collections::HashMap;

use actix_web::{http::header, web, HttpRequest, HttpResponse};
use serde::Deserialize;
use warden::{
    auth::{
        clear_site_data, is_safe_url, Accounts, CurrentUser, MaybeUser, PasswordChange,
        ResetCompletion,
    },
    csrf::CsrfToken,
    headers::CspNonce,
    session::Session,
    Error, RequestContext, Warden,
};

use crate::pages::{esc, login_form, page};

fn html(status: actix_web::http::StatusCode, body: String) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body)
}

fn see_other(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to))
        .finish()
}

/// The demo's notes: note 1 belongs to alice (user id 1), note 2 to admin (user id 2).
pub(crate) fn note_owner(id: &str) -> Option<&'static str> {
    match id {
        "1" => Some("1"),
        "2" => Some("2"),
        _ => None,
    }
}

pub(crate) async fn index(
    csrf: CsrfToken,
    ctx: RequestContext,
    session: Session,
    user: MaybeUser,
) -> Result<HttpResponse, Error> {
    // A visit counter: the first visit creates a server-side session (and a cookie).
    let visits: u64 = session.get("visits")?.unwrap_or(0) + 1;
    session.insert("visits", visits)?;
    let body = format!(
        "<p>A hardened actix-web app. Health: <a href=\"/healthz\">/healthz</a>.</p>\n\
         <p>Visits in this session: <strong>{visits}</strong></p>\n\
         <p>Request id: <code>{}</code></p>",
        ctx.request_id
    );
    Ok(html(
        actix_web::http::StatusCode::OK,
        page("Home", user.0.as_deref(), &csrf, &body),
    ))
}

#[derive(Deserialize)]
pub(crate) struct NextQuery {
    next: Option<String>,
}

pub(crate) async fn login_page(
    csrf: CsrfToken,
    q: web::Query<NextQuery>,
    user: MaybeUser,
) -> HttpResponse {
    let next = q
        .next
        .as_deref()
        .filter(|n| is_safe_url(n))
        .unwrap_or("/dashboard");
    html(
        actix_web::http::StatusCode::OK,
        page(
            "Log in",
            user.0.as_deref(),
            &csrf,
            &login_form(&csrf, next, None),
        ),
    )
}

#[derive(Deserialize)]
pub(crate) struct LoginForm {
    username: String,
    password: String,
    next: Option<String>,
}

pub(crate) async fn login(
    csrf: CsrfToken,
    req: HttpRequest,
    session: Session,
    form: web::Form<LoginForm>,
    accounts: web::Data<Accounts>,
) -> Result<HttpResponse, Error> {
    let next = form
        .next
        .as_deref()
        .filter(|n| is_safe_url(n))
        .unwrap_or("/dashboard")
        .to_owned();
    match accounts
        .authenticate(&req, &form.username, &form.password)
        .await?
    {
        Some(user) => {
            accounts.login(&req, &session, &user).await?;
            Ok(see_other(&next))
        }
        // One generic answer for an unknown user and a wrong password.
        None => Ok(html(
            actix_web::http::StatusCode::UNAUTHORIZED,
            page(
                "Log in",
                None,
                &csrf,
                &login_form(&csrf, &next, Some("Invalid username or password.")),
            ),
        )),
    }
}

pub(crate) async fn logout(
    req: HttpRequest,
    session: Session,
    accounts: web::Data<Accounts>,
) -> HttpResponse {
    accounts.logout(&req, &session);
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/"))
        .insert_header(clear_site_data())
        .finish()
}

pub(crate) async fn dashboard(
    csrf: CsrfToken,
    user: CurrentUser,
    session: Session,
    warden: web::Data<Warden>,
) -> Result<HttpResponse, Error> {
    let sessions = warden.runtime().sessions().list_for_user(&user.id).await?;
    let current = session.id();
    let rows: String = sessions
        .iter()
        .map(|s| {
            let created = warden::actors::clock::millis_to_utc(s.created_at);
            let seen = warden::actors::clock::millis_to_utc(s.last_seen_at);
            format!(
                "<li><code>{}</code> created {created} last seen {seen}{}</li>\n",
                s.id.short(),
                if Some(s.id) == current {
                    " (this one)"
                } else {
                    ""
                }
            )
        })
        .collect();
    let csrf_field = csrf.field();
    let body = format!(
        "<p>Welcome, {}.</p>\n<h2>Your sessions</h2>\n<ul>\n{rows}</ul>\n\
         <form method=\"post\" action=\"/account/sessions/revoke-others\">{csrf_field}\
         <button>Log out everywhere else</button></form>\n\
         <h2>Change password</h2>\n\
         <form method=\"post\" action=\"/account/password\">\n{csrf_field}\n\
         <label>Current password <input type=\"password\" name=\"current_password\" autocomplete=\"current-password\" required></label>\n\
         <label>New password <input type=\"password\" name=\"new_password\" autocomplete=\"new-password\" minlength=\"8\" required></label>\n\
         <button>Change password</button></form>\n\
         <p><a href=\"/notes/1\">Note 1</a> · <a href=\"/notes/2\">Note 2</a> · <a href=\"/admin\">Admin</a></p>",
        esc(&user.login)
    );
    Ok(html(
        actix_web::http::StatusCode::OK,
        page("Dashboard", Some(&user), &csrf, &body),
    ))
}

pub(crate) async fn revoke_others(
    req: HttpRequest,
    user: CurrentUser,
    session: Session,
    warden: web::Data<Warden>,
) -> Result<HttpResponse, Error> {
    let gone = warden
        .runtime()
        .sessions()
        .destroy_all_for_user(&user.id, session.id())
        .await?;
    warden.audit().emit(
        warden::audit::request_event(&req, "session.revoked")
            .user_id(&user.id)
            .detail("reason", "revoke_others")
            .detail("count", gone.len()),
    );
    Ok(see_other("/dashboard"))
}

pub(crate) async fn admin(csrf: CsrfToken, user: CurrentUser) -> HttpResponse {
    html(
        actix_web::http::StatusCode::OK,
        page(
            "Admin",
            Some(&user),
            &csrf,
            "<p>Only admins see this page. <a href=\"/audit\">Live audit view</a> · <a href=\"/metrics\">metrics</a>.</p>",
        ),
    )
}

pub(crate) async fn note(
    csrf: CsrfToken,
    path: web::Path<String>,
    user: CurrentUser,
) -> HttpResponse {
    let body = format!("<p>Note {} belongs to you.</p>", esc(&path));
    html(
        actix_web::http::StatusCode::OK,
        page("Note", Some(&user), &csrf, &body),
    )
}

#[derive(Deserialize)]
pub(crate) struct PasswordForm {
    current_password: String,
    new_password: String,
}

pub(crate) async fn change_password(
    csrf: CsrfToken,
    req: HttpRequest,
    user: CurrentUser,
    session: Session,
    form: web::Form<PasswordForm>,
    accounts: web::Data<Accounts>,
) -> Result<HttpResponse, Error> {
    let outcome = accounts
        .change_password(
            &req,
            &session,
            &user,
            &form.current_password,
            &form.new_password,
        )
        .await?;
    Ok(match outcome {
        PasswordChange::Changed => see_other("/dashboard"),
        PasswordChange::WrongPassword => html(
            actix_web::http::StatusCode::BAD_REQUEST,
            page(
                "Change password",
                Some(&user),
                &csrf,
                "<p role=\"alert\">The current password is wrong.</p>",
            ),
        ),
        PasswordChange::Rejected(reason) => html(
            actix_web::http::StatusCode::BAD_REQUEST,
            page(
                "Change password",
                Some(&user),
                &csrf,
                &format!("<p role=\"alert\">{}</p>", esc(&reason.to_string())),
            ),
        ),
        _ => see_other("/dashboard"),
    })
}

pub(crate) async fn reset_page(csrf: CsrfToken) -> HttpResponse {
    let body = format!(
        "<form method=\"post\" action=\"/password-reset\">\n{}\n\
         <label>Username <input name=\"username\" required></label>\n\
         <button>Send a reset link</button></form>",
        csrf.field()
    );
    html(
        actix_web::http::StatusCode::OK,
        page("Reset your password", None, &csrf, &body),
    )
}

#[derive(Deserialize)]
pub(crate) struct ResetForm {
    username: String,
}

/// Always the same 202, whether or not the user exists.
pub(crate) async fn reset_request(
    csrf: CsrfToken,
    req: HttpRequest,
    form: web::Form<ResetForm>,
    accounts: web::Data<Accounts>,
) -> HttpResponse {
    accounts.request_reset(&req, &form.username);
    html(
        actix_web::http::StatusCode::ACCEPTED,
        page(
            "Reset your password",
            None,
            &csrf,
            "<p>If that account exists, a reset link is on its way.</p>",
        ),
    )
}

pub(crate) async fn reset_complete_page(
    csrf: CsrfToken,
    q: web::Query<HashMap<String, String>>,
) -> HttpResponse {
    let token = q.get("token").map(String::as_str).unwrap_or_default();
    let body = format!(
        "<form method=\"post\" action=\"/password-reset/complete\">\n{}\n\
         <input type=\"hidden\" name=\"token\" value=\"{}\">\n\
         <label>New password <input type=\"password\" name=\"new_password\" autocomplete=\"new-password\" minlength=\"8\" required></label>\n\
         <button>Set password</button></form>",
        csrf.field(),
        esc(token)
    );
    html(
        actix_web::http::StatusCode::OK,
        page("Choose a new password", None, &csrf, &body),
    )
}

#[derive(Deserialize)]
pub(crate) struct ResetCompleteForm {
    token: String,
    new_password: String,
}

pub(crate) async fn reset_complete(
    csrf: CsrfToken,
    req: HttpRequest,
    form: web::Form<ResetCompleteForm>,
    accounts: web::Data<Accounts>,
) -> Result<HttpResponse, Error> {
    Ok(
        match accounts
            .complete_reset(&req, &form.token, &form.new_password)
            .await?
        {
            ResetCompletion::Completed => see_other("/login"),
            ResetCompletion::Rejected(reason) => html(
                actix_web::http::StatusCode::BAD_REQUEST,
                page(
                    "Choose a new password",
                    None,
                    &csrf,
                    &format!("<p role=\"alert\">{}</p>", esc(&reason.to_string())),
                ),
            ),
            _ => html(
                actix_web::http::StatusCode::BAD_REQUEST,
                page(
                    "Choose a new password",
                    None,
                    &csrf,
                    "<p role=\"alert\">This link is invalid or has expired.</p>",
                ),
            ),
        },
    )
}

pub(crate) async fn api_me(user: CurrentUser) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(serde_json::json!({
            "user": {"id": user.id, "login": user.login, "permissions": user.permissions}
        }))
}

pub(crate) async fn api_tokens(
    req: HttpRequest,
    user: CurrentUser,
    accounts: web::Data<Accounts>,
) -> Result<HttpResponse, Error> {
    let (token, info) = accounts.issue_api_token(&req, &user, "demo").await?;
    Ok(HttpResponse::Created()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(serde_json::json!({"token": token.expose_secret(), "id": info.id})))
}

/// The admin's live audit view: a page that reads `/audit/stream` with `EventSource`. Its
/// script is allowed by the CSP through the per-request nonce.
pub(crate) async fn audit_page(
    user: CurrentUser,
    csrf: CsrfToken,
    nonce: Option<CspNonce>,
) -> HttpResponse {
    let nonce_attr = nonce.map(|n| n.attribute()).unwrap_or_default();
    let body = format!(
        "<p>Live security events (newest last). Metrics: <a href=\"/metrics\">/metrics</a>.</p>\n\
         <ol id=\"events\"></ol>\n\
         <script {nonce_attr}>\n\
         const list = document.getElementById('events');\n\
         const source = new EventSource('/audit/stream');\n\
         const show = (e) => {{ const li = document.createElement('li');\n\
           li.textContent = e.type + ' ' + e.data; list.appendChild(li); }};\n\
         source.addEventListener('message', show);\n\
         const names = ['auth.login.success','auth.login.failure','auth.logout.success','auth.lockout.locked',\n\
           'auth.token.invalid','auth.session.version_mismatch','auth.require.unauthenticated',\n\
           'authz.permission.denied','authz.policy.denied','csrf.reject.missing','csrf.reject.invalid',\n\
           'csrf.reject.origin','ratelimit.blocked','session.created','session.rotated','session.revoked',\n\
           'session.expired.idle','session.expired.absolute','session.cookie.invalid','password.changed',\n\
           'password.reset.requested','password.reset.completed','host.rejected','alert.spike','sys.startup'];\n\
         for (const n of names) source.addEventListener(n, show);\n\
         </script>"
    );
    html(
        actix_web::http::StatusCode::OK,
        page("Audit", Some(&user), &csrf, &body),
    )
}
