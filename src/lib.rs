//! warden: an actor-based security runtime for actix-web.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub use warden_actors as actors;

pub mod client_ip;
pub mod config;
mod error;
pub mod middleware;
pub mod request_id;

pub use self::{
    client_ip::{ClientIpResolver, ForwardedHeader, TrustedProxies},
    config::{Config, ConfigError, ConfigLoader, Profile},
    error::Error,
    middleware::{RequestContext, RequestContextExt, RequestContextMiddleware},
    request_id::RequestId,
};
