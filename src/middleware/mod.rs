//! actix-web middleware of the HTTP layer.

mod request_context;

#[doc(hidden)]
pub use self::request_context::InnerRequestContextMiddleware;
pub use self::request_context::{
    RequestContext, RequestContextExt, RequestContextMiddleware, DEFAULT_REQUEST_ID_HEADER,
};
