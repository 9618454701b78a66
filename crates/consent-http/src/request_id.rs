//! Request ids: every request carries one in `x-request-id`, the caller's
//! when it sent a usable one, else a new UUIDv7; the response echoes it and
//! the request's tracing span records it, so a caller's report can be
//! matched to the ledger's log lines.

use axum::extract::Request;
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

/// The header that carries the request id, both ways.
pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// The longest request id taken from a caller; a longer one is replaced.
pub const MAX_REQUEST_ID_LEN: usize = 128;

/// A request's id, in its extensions for handlers that want it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestId(pub String);

/// The caller's request id when it is usable: 1 to [`MAX_REQUEST_ID_LEN`]
/// visible ASCII characters (so it cannot forge log lines or flood them).
pub fn incoming(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(&REQUEST_ID_HEADER)?.to_str().ok()?;
    let usable = !value.is_empty()
        && value.len() <= MAX_REQUEST_ID_LEN
        && value.bytes().all(|byte| byte.is_ascii_graphic());
    usable.then_some(value)
}

/// A new request id: a UUIDv7, so ids sort by time.
pub fn generate() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// Middleware (outermost): gives the request its id, in the request's
/// headers (where the tracing span reads it) and extensions, and in the
/// response's headers.
pub async fn assign(mut request: Request, next: Next) -> Response {
    let id = incoming(request.headers())
        .map(str::to_owned)
        .unwrap_or_else(generate);
    // Visible ASCII only, so always a valid header value.
    let value = HeaderValue::from_str(&id).ok();
    if let Some(value) = &value {
        request
            .headers_mut()
            .insert(REQUEST_ID_HEADER, value.clone());
    }
    request.extensions_mut().insert(RequestId(id));
    let mut response = next.run(request).await;
    if let Some(value) = value {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(REQUEST_ID_HEADER, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn a_callers_id_is_kept_when_usable() {
        assert_eq!(incoming(&headers("abc-123")), Some("abc-123"));
        assert_eq!(incoming(&headers("has space")), None);
        assert_eq!(incoming(&headers(&"x".repeat(129))), None);
        assert_eq!(
            incoming(&headers(&"x".repeat(128))).map(str::len),
            Some(128)
        );
        assert_eq!(incoming(&HeaderMap::new()), None);
    }

    #[test]
    fn generated_ids_are_distinct_uuids() {
        let (a, b) = (generate(), generate());
        assert_ne!(a, b);
        assert!(uuid::Uuid::parse_str(&a).is_ok());
    }
}
