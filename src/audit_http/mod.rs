//! The audit stream over HTTP: a Server-Sent Events feed of security events ([`audit_stream`])
//! and the Prometheus metrics ([`metrics`]).
//!
//! Both expose security data: mount them behind an admin check, as the demo app does.
//!
//! ```no_run
//! use actix_web::{web, App};
//! use warden::{audit_http, auth::Requires};
//!
//! # fn app(w: warden::Warden) {
//! let app = App::new()
//!     .app_data(w.data())
//!     .service(
//!         web::resource("/audit/stream")
//!             .wrap(Requires::new(["admin"]))
//!             .route(web::get().to(audit_http::audit_stream)),
//!     )
//!     .service(
//!         web::resource("/metrics")
//!             .wrap(Requires::new(["admin"]))
//!             .route(web::get().to(audit_http::metrics)),
//!     );
//! # }
//! ```

mod metrics;
mod sse;

pub use self::{
    metrics::metrics,
    sse::{audit_stream, audit_stream_with, sse_frame, SseOptions, StreamQuery},
};
