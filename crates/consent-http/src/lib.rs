//! The ledger's HTTP API.
//!
//! Bodies are the proto3 JSON mapping of the `consent.v1` messages
//! (through their generated pbjson serde impls, never hand-written DTOs),
//! so the HTTP API and the schema cannot drift:
//!
//! | endpoint | body | answer |
//! | --- | --- | --- |
//! | `POST /v1/events` | `AppendRequest` | `AppendResponse` |
//! | `POST /v1/checks` | `CheckRequest` | `Decision` |
//! | `POST /v1/checks:batch` | `CheckBatchRequest` | `CheckBatchResponse` |
//! | `GET /v1/organisations/{org}/subjects/{subject}/history?at=&channel=&purpose=&...` | | `HistoryResponse` |
//! | `GET /v1/routing?organisationId=&subjectId=` | | a subject's partition and whether this instance owns it |
//! | `GET /v1/rule-sets` | | `[RuleSetDescription]` |
//! | `GET /v1/status` | | status document ([`status_document`]) |
//! | `GET /healthz` | | `{"status": "ok"}` |
//!
//! Every error is `{"error": {"code", "field", "message"}}` ([`ApiError`]):
//! 400 `invalid_argument` (validation, malformed JSON, bad query), 404
//! `not_found` (unknown rule set or path), 413 `payload_too_large`, 421
//! `wrong_partition` (a check or history of a subject on a partition this
//! instance does not own, with `partition`), 503
//! `unavailable` (the log did not acknowledge an append), 504
//! `deadline_exceeded` (the view did not reach `waitFor` in time), 500
//! `internal` (view store failures, logged).
//!
//! API boundary: this crate only translates; every decision and validation
//! is in `consent-service` and below.

mod error;
mod history_query;
mod json;
mod routes;
mod status;

pub use error::ApiError;
pub use history_query::HistoryQuery;
pub use json::ProtoJson;
pub use status::status_document;

use axum::body::Body;
use axum::extract::DefaultBodyLimit;
use axum::http::{Request, Response};
use axum::routing::{get, post};
use axum::Router;
use consent_service::Ledger;
use std::future::Future;
use std::time::Duration;
use tower_http::trace::TraceLayer;
use tracing::Span;

/// The largest request body accepted, in bytes.
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// The API's routes over `ledger`, with the body limit and a tracing span
/// per request (method, path, status, latency).
pub fn router(ledger: Ledger) -> Router {
    Router::new()
        .route("/v1/events", post(routes::append))
        .route("/v1/checks", post(routes::check))
        .route("/v1/checks:batch", post(routes::check_batch))
        .route(
            "/v1/organisations/{organisation}/subjects/{subject}/history",
            get(routes::history),
        )
        .route("/v1/routing", get(routes::routing))
        .route("/v1/rule-sets", get(routes::rule_sets))
        .route("/v1/status", get(routes::status))
        .route("/healthz", get(routes::healthz))
        .fallback(routes::not_found)
        .method_not_allowed_fallback(routes::method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|request: &Request<Body>| {
                    tracing::info_span!(
                        "http_request",
                        method = %request.method(),
                        path = %request.uri().path(),
                        status = tracing::field::Empty,
                        latency_ms = tracing::field::Empty,
                    )
                })
                .on_request(())
                .on_response(
                    |response: &Response<Body>, latency: Duration, span: &Span| {
                        let status = response.status().as_u16();
                        let latency_ms = u64::try_from(latency.as_millis()).unwrap_or(u64::MAX);
                        span.record("status", status);
                        span.record("latency_ms", latency_ms);
                        tracing::info!(status, latency_ms, "request served");
                    },
                ),
        )
        .with_state(ledger)
}

/// Serves the API on `listener` until `shutdown` completes, then stops
/// accepting connections and waits for the requests in flight to finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    ledger: Ledger,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    if let Ok(address) = listener.local_addr() {
        tracing::info!(%address, "serving the HTTP API");
    }
    axum::serve(listener, router(ledger))
        .with_graceful_shutdown(shutdown)
        .await
}
