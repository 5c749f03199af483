//! `GET /metrics`: the audit metrics as Prometheus text.

use actix_web::{http::header, web, HttpRequest, HttpResponse};

use crate::{
    actors::{OPENMETRICS_CONTENT_TYPE, PROMETHEUS_CONTENT_TYPE},
    Error, Warden,
};

/// `GET /metrics`: the audit metrics (events by name, dropped and suppressed events, sink
/// failures and drops, subscriber drops, persist failures, spike alerts, actor restarts, log
/// length, audit mailbox depth) in the Prometheus text format 0.0.4, or in OpenMetrics 1.0 when
/// the scraper's `Accept` asks for `application/openmetrics-text`. `Cache-Control: no-store`.
///
/// The text is rendered from atomics, without asking the audit actor, so it answers even while
/// that actor is flooded or down. Mount it behind an admin check (see the
/// [module docs](crate::audit_http)).
///
/// # Errors
///
/// Never in practice (encoding into a `String` does not fail); an encoding failure would be an
/// opaque 500.
pub async fn metrics(req: HttpRequest, warden: web::Data<Warden>) -> Result<HttpResponse, Error> {
    let openmetrics = req
        .headers()
        .get_all(header::ACCEPT)
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("application/openmetrics-text"));
    let audit = warden.audit();
    let (body, content_type) = if openmetrics {
        (audit.metrics_openmetrics()?, OPENMETRICS_CONTENT_TYPE)
    } else {
        (audit.metrics_text()?, PROMETHEUS_CONTENT_TYPE)
    };
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, content_type))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body))
}
