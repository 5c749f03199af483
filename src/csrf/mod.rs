//! Cross-site request forgery protection: masked per-session tokens, signed pre-session
//! tokens for the login form, the Origin / Fetch Metadata decision table, exemption matching
//! after path normalisation and token extraction from form bodies.

mod body;
mod middleware;
mod origin;
mod path;
mod state;
mod token;

pub use body::{content_kind, form_field, multipart_field, BodyKind};
pub use middleware::{CsrfMiddleware, InnerCsrfMiddleware};
pub use origin::{check_origin, normalize_origin, OriginPolicy, OriginVerdict};
pub use path::{is_exempt, normalize_path};
pub use state::{csrf_field, csrf_meta, CsrfToken};
pub use token::{
    mask, unmask, verify, CsrfSecret, PresessionSigner, MASKED_TOKEN_LEN, PRESESSION_COOKIE_MAX_LEN,
};
