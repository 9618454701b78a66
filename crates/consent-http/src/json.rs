//! Request and response bodies in the proto3 JSON mapping of the
//! `consent.v1` messages, through their generated (pbjson) serde impls.

use crate::error::ApiError;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, Request};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde::Serialize;

/// A body in the proto3 JSON mapping. As an extractor, a body that is not
/// valid JSON for `T` is a 400 naming the JSON path serde stopped at and
/// serde's message; as a response, `T` serialised with `application/json`.
#[derive(Clone, Debug)]
pub struct ProtoJson<T>(pub T);

impl<S, T> FromRequest<S> for ProtoJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let body = Bytes::from_request(request, state)
            .await
            .map_err(body_rejection)?;
        parse(&body).map(ProtoJson)
    }
}

/// Parses `body` as `T`, naming the JSON path of the first problem.
pub fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(json_error)?;
    deserializer
        .end()
        .map_err(|error| ApiError::invalid(None, format!("invalid JSON body: {error}")))?;
    Ok(value)
}

fn json_error(error: serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    let path = error.path().to_string();
    let field = (path != ".").then_some(path);
    let inner = error.into_inner();
    let what = if inner.is_syntax() || inner.is_eof() {
        "malformed JSON"
    } else {
        "invalid JSON body"
    };
    let message = match &field {
        Some(field) => format!("{what} at `{field}`: {inner}"),
        None => format!("{what}: {inner}"),
    };
    ApiError::invalid(field, message)
}

fn body_rejection(rejection: BytesRejection) -> ApiError {
    let status = rejection.status();
    let code = if status == StatusCode::PAYLOAD_TOO_LARGE {
        "payload_too_large"
    } else {
        "invalid_argument"
    };
    ApiError::new(
        status,
        code,
        format!("cannot read the request body: {}", rejection.body_text()),
    )
}

/// The capacity a response body starts with: a full decision (rules,
/// reasons, texts) is a few KiB, so it is written without the reallocations
/// (and copies) of growing from serde_json's default of 128 bytes.
const RESPONSE_CAPACITY: usize = 8 * 1024;

impl<T: Serialize> IntoResponse for ProtoJson<T> {
    fn into_response(self) -> Response {
        let mut body = Vec::with_capacity(RESPONSE_CAPACITY);
        match serde_json::to_writer(&mut body, &self.0) {
            Ok(()) => (
                [(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                )],
                body,
            )
                .into_response(),
            Err(error) => {
                tracing::error!(%error, "cannot serialise a response");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    format!("cannot serialise the response: {error}"),
                )
                .into_response()
            }
        }
    }
}
