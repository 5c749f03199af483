//! The health check route: `200 ok` while every actor and the store answer, `503` otherwise.

use std::sync::atomic::{AtomicBool, Ordering};

use actix_web::{http::header, web, HttpRequest, HttpResponse};

use crate::{Error, Warden};

static MISSING_LOGGED: AtomicBool = AtomicBool::new(false);

/// `GET /healthz`: `200 ok` when every actor answers within the ask timeout and the store
/// answers; `503 Service Unavailable` (generic body) otherwise. Needs [`Warden::data`] in the
/// app; without it the answer is an opaque 500 and one error line in the log.
///
/// ```no_run
/// use actix_web::{web, App};
/// use warden::health::healthz;
/// # fn app(w: warden::Warden) {
/// let app = App::new().app_data(w.data()).route("/healthz", web::get().to(healthz));
/// # }
/// ```
pub async fn healthz(req: HttpRequest) -> Result<HttpResponse, Error> {
    let Some(warden) = req.app_data::<web::Data<Warden>>() else {
        if !MISSING_LOGGED.swap(true, Ordering::Relaxed) {
            tracing::error!(
                "healthz: Warden is not registered as app data; add .app_data(warden.data())"
            );
        }
        return Err(Error::Internal("healthz without Warden app data".into()));
    };
    warden.runtime().health().await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .content_type("text/plain; charset=utf-8")
        .body("ok"))
}
