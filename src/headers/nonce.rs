//! [`CspNonce`]: the per-request CSP nonce and its extractor.

use std::{fmt, future::Ready};

use actix_web::{dev::Payload, FromRequest, HttpMessage, HttpRequest};
use base64::{engine::general_purpose::STANDARD, Engine};
use rand::{rngs::OsRng, RngCore};

use crate::Error;

/// Random bytes per nonce: 144 bits, 24 base64 characters without padding.
pub const NONCE_BYTES: usize = 18;

/// The CSP nonce of the current request.
///
/// [`SecurityHeadersMiddleware`](super::SecurityHeadersMiddleware) draws a fresh one for
/// every request from the OS CSPRNG ([`NONCE_BYTES`] bytes, standard base64) when its policy
/// has [`nonce`](super::CspBuilder::nonce) on, puts it in the request extensions and writes it
/// as `'nonce-…'` into the response's CSP. Put it on the `<script>` and `<style>` tags your
/// templates write, and never on anything that echoes input.
///
/// As an extractor it fails with a 500 ([`Error::MissingMiddleware`], logged once) when the
/// middleware is missing or its policy has no nonce. It is also readable from the request
/// extensions: `req.extensions().get::<CspNonce>()`.
///
/// ```
/// use actix_web::HttpResponse;
/// use warden::headers::CspNonce;
///
/// async fn page(nonce: CspNonce) -> HttpResponse {
///     HttpResponse::Ok()
///         .content_type("text/html; charset=utf-8")
///         .body(format!("<script {}>start()</script>", nonce.attribute()))
/// }
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct CspNonce(String);

impl CspNonce {
    /// Draws a fresh nonce from the OS CSPRNG.
    ///
    /// # Errors
    ///
    /// When the operating system's random source fails (the request is then refused).
    pub fn generate() -> Result<Self, rand::Error> {
        let mut bytes = [0u8; NONCE_BYTES];
        OsRng.try_fill_bytes(&mut bytes)?;
        Ok(Self(STANDARD.encode(bytes)))
    }

    /// The nonce (base64).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `nonce="…"`, for an HTML tag.
    pub fn attribute(&self) -> String {
        format!("nonce=\"{}\"", self.0)
    }
}

impl fmt::Display for CspNonce {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for CspNonce {
    /// Shows the nonce: it is public (it is in the response) and only valid for one response.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("CspNonce").field(&self.0).finish()
    }
}

impl FromRequest for CspNonce {
    type Error = Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        std::future::ready(req.extensions().get::<CspNonce>().cloned().ok_or(
            Error::MissingMiddleware {
                missing: "SecurityHeadersMiddleware (with a CSP nonce)",
                required_by: "the CspNonce extractor",
            },
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_and_long_enough() {
        let a = CspNonce::generate().unwrap();
        let b = CspNonce::generate().unwrap();
        assert_ne!(a, b);
        assert_eq!(a.as_str().len(), 24);
        assert_eq!(STANDARD.decode(a.as_str()).unwrap().len() * 8, 144);
        assert_eq!(a.attribute(), format!("nonce=\"{a}\""));
    }
}
