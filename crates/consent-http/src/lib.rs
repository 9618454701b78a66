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
//! | `GET /v1/organisations/{org}/suppressions?after=&limit=` | | `SuppressionListResponse`: a page of the suppression list |
//! | `GET /v1/routing?organisationId=&subjectId=` | | a subject's partition and whether this instance owns it |
//! | `GET /v1/rule-sets` | | `[RuleSetDescription]` |
//! | `GET /v1/status` | | status document ([`status_document`]) |
//! | `POST /v1/checkpoints` | | `SignedCheckpoint`: signs what the view has committed now |
//! | `GET /v1/checkpoints/latest` | | `SignedCheckpoint` |
//! | `GET /v1/checkpoint-key` | | the verifier key, as text |
//! | `POST /v1/exports[?format=html]` | `ExportRequest` | the evidence bundle file (JSON), or its HTML report |
//! | `POST /v1/eligibility` | `EligibilityRequest` | CSV, one row per subject |
//! | `GET /healthz` | | 200 `{"status": "ok"}` unless a fault calls for a restart, else 503 naming it ([`consent_service::Ledger::health`]) |
//! | `GET /readyz` | | 200 when caught up with the log's end at start and no fault is known, else 503 with a reason ([`Readiness`]) |
//! | `GET /metrics` | | Prometheus text format ([`metrics`]) |
//! | `GET /u/{token}` | | HTML confirmation page of a one-click unsubscribe ([`intake`]) |
//! | `POST /u/{token}` | `List-Unsubscribe=One-Click` (form) | records the opt-out (RFC 8058) |
//! | `POST /v1/webhooks/sms` | the SMS provider's form, signed | records SMS STOP opt-outs |
//! | `POST /v1/signals/gpc` | `{organisationId, subjectId}` + `Sec-GPC: 1` | `AppendedEvent`: records an objection |
//! | `POST /v1/webhooks/{sendgrid,ses,generic}/{org}` | the provider's body, signed its way | what was recorded ([`esp`]) |
//! | `GET`, `POST /v1/webhooks/mailchimp/{org}/{secret}` | Mailchimp's form | validation; what was recorded |
//!
//! Every endpoint but `/healthz`, `/readyz`, `/metrics`, `/u/{token}`,
//! `/v1/webhooks/sms` and the ESP webhooks (signed token / signature /
//! the provider's scheme instead) needs an API key
//! (`Authorization: Bearer <key>`) when the server has a key file
//! ([`auth`]: 401 `unauthenticated` without a valid key, 403
//! `permission_denied` for another organisation's data); each endpoint's
//! [`Access`] says which.
//!
//! The routes are listed once, in [`endpoints`]; the router serves exactly
//! those, and `docs/openapi.json` documents exactly those (a test holds
//! both to it). Every request gets a request id ([`request_id`]: the
//! caller's `x-request-id`, else a new one, echoed in the response) and
//! runs in an `http_request` span carrying it; with traces on, that span
//! continues the caller's W3C `traceparent` (`consent-trace-context`).
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

pub mod auth;
mod error;
pub mod esp;
mod evidence;
pub mod health;
mod history_query;
pub mod intake;
mod json;
pub mod metrics;
pub mod readiness;
pub mod request_id;
mod routes;
mod status;

pub use auth::{Access, Authorized};
pub use consent_auth::Guard;
pub use consent_service::{Readiness, ReadinessReport};
pub use error::ApiError;
pub use history_query::HistoryQuery;
pub use json::ProtoJson;
pub use status::status_document;

use axum::body::Body;
use axum::extract::DefaultBodyLimit;
use axum::http::{Method, Request, Response};
use axum::routing::{get, post, MethodRouter};
use axum::{Extension, Router};
use consent_service::metrics::Transport;
use consent_service::Ledger;
use std::future::Future;
use std::time::Duration;
use tower_http::trace::TraceLayer;
use tracing::Span;

/// The largest request body accepted, in bytes.
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// One route the API serves.
pub struct Endpoint {
    pub method: Method,
    /// The path template, in axum's syntax (`/v1/x/{name}`), which is
    /// OpenAPI's too.
    pub path: &'static str,
    /// Who may call it: an API key unless made [`Endpoint::public`].
    pub access: Access,
    handler: MethodRouter<Ledger>,
}

impl Endpoint {
    /// An endpoint that needs an API key ([`Access::ApiKey`]).
    fn new(method: Method, path: &'static str, handler: MethodRouter<Ledger>) -> Self {
        Self {
            method,
            path,
            access: Access::ApiKey,
            handler,
        }
    }

    /// An endpoint without API keys ([`Access::Public`]): operations
    /// probes, or one that authenticates its callers otherwise.
    fn public(method: Method, path: &'static str, handler: MethodRouter<Ledger>) -> Self {
        Self {
            access: Access::Public,
            ..Self::new(method, path, handler)
        }
    }
}

/// Every route, in one list: the router is built from it, and the OpenAPI
/// test compares it with the document. A new route goes here.
pub fn endpoints() -> Vec<Endpoint> {
    vec![
        Endpoint::new(Method::POST, "/v1/events", post(routes::append)),
        Endpoint::new(Method::POST, "/v1/checks", post(routes::check)),
        Endpoint::new(Method::POST, "/v1/checks:batch", post(routes::check_batch)),
        Endpoint::new(
            Method::GET,
            "/v1/organisations/{organisation}/subjects/{subject}/history",
            get(routes::history),
        ),
        Endpoint::new(
            Method::GET,
            "/v1/organisations/{organisation}/suppressions",
            get(routes::suppressions),
        ),
        Endpoint::new(Method::GET, "/v1/routing", get(routes::routing)),
        Endpoint::new(Method::GET, "/v1/rule-sets", get(routes::rule_sets)),
        Endpoint::new(Method::GET, "/v1/status", get(routes::status)),
        Endpoint::new(
            Method::POST,
            "/v1/checkpoints",
            post(evidence::sign_checkpoint),
        ),
        Endpoint::new(
            Method::GET,
            "/v1/checkpoints/latest",
            get(evidence::latest_checkpoint),
        ),
        Endpoint::new(
            Method::GET,
            "/v1/checkpoint-key",
            get(evidence::checkpoint_key),
        ),
        Endpoint::new(Method::POST, "/v1/exports", post(evidence::export)),
        Endpoint::new(Method::POST, "/v1/eligibility", post(evidence::eligibility)),
        Endpoint::public(Method::GET, "/healthz", get(health::healthz)),
        Endpoint::public(Method::GET, "/readyz", get(readiness::readyz)),
        Endpoint::public(Method::GET, "/metrics", get(crate::metrics::metrics)),
        // Opt-out intake (docs/OPT-OUTS.md). `/u/` and the SMS webhook are
        // authenticated by their signed token and signature, not API keys.
        Endpoint::public(Method::GET, "/u/{token}", get(intake::unsubscribe_page)),
        Endpoint::public(Method::POST, "/u/{token}", post(intake::one_click)),
        Endpoint::public(Method::POST, "/v1/webhooks/sms", post(intake::sms_webhook)),
        Endpoint::new(Method::POST, "/v1/signals/gpc", post(intake::gpc_signal)),
        // ESP events in (docs/INTEGRATION.md): each authenticated by the
        // provider's own scheme, not API keys.
        Endpoint::public(
            Method::POST,
            "/v1/webhooks/sendgrid/{organisation}",
            post(esp::sendgrid_webhook),
        ),
        Endpoint::public(
            Method::POST,
            "/v1/webhooks/ses/{organisation}",
            post(esp::ses_webhook),
        ),
        Endpoint::public(
            Method::GET,
            "/v1/webhooks/mailchimp/{organisation}/{secret}",
            get(esp::mailchimp_validation),
        ),
        Endpoint::public(
            Method::POST,
            "/v1/webhooks/mailchimp/{organisation}/{secret}",
            post(esp::mailchimp_webhook),
        ),
        Endpoint::public(
            Method::POST,
            "/v1/webhooks/generic/{organisation}",
            post(esp::generic_webhook),
        ),
    ]
}

/// The API's routes over `ledger`, ready when the view has applied the log
/// as it is at the first `/readyz` (see [`router_with`]).
pub fn router(ledger: Ledger) -> Router {
    router_with(ledger, Readiness::at_first_check(0))
}

/// The API's routes over `ledger`, with `readiness` deciding `/readyz`, the
/// body limit, request metrics, a request id and a tracing span per
/// request (request id, method, path, status, latency). Open: no API keys
/// (see [`router_guarded`]).
pub fn router_with(ledger: Ledger, readiness: Readiness) -> Router {
    router_guarded(ledger, readiness, Guard::Open)
}

/// [`router_with`], with `guard` authenticating the callers of every
/// [`Access::ApiKey`] endpoint.
pub fn router_guarded(ledger: Ledger, readiness: Readiness, guard: Guard) -> Router {
    // Install the recorder before the first request records anything.
    let _ = crate::metrics::handle();
    let mut routes = Router::new();
    for endpoint in endpoints() {
        let handler = match endpoint.access {
            Access::Public => endpoint.handler,
            Access::ApiKey => endpoint
                .handler
                .route_layer(axum::middleware::from_fn_with_state(
                    guard.clone(),
                    auth::authenticate,
                )),
        };
        routes = routes.route(endpoint.path, handler);
    }
    routes
        .route_layer(axum::middleware::from_fn(crate::metrics::track))
        .fallback(routes::not_found)
        .method_not_allowed_fallback(routes::method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(Extension(readiness))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|request: &Request<Body>| {
                    let request_id = request
                        .headers()
                        .get(&request_id::REQUEST_ID_HEADER)
                        .and_then(|id| id.to_str().ok())
                        .unwrap_or_default();
                    let span = tracing::info_span!(
                        "http_request",
                        request_id,
                        method = %request.method(),
                        path = %esp::loggable_path(request.uri().path()),
                        status = tracing::field::Empty,
                        latency_ms = tracing::field::Empty,
                    );
                    // The caller's W3C `traceparent`, when traces are on.
                    consent_trace_context::continue_trace(&span, |name| {
                        request.headers().get(name).and_then(|v| v.to_str().ok())
                    });
                    span
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
        // Outermost: the span above reads the id this assigns.
        .layer(axum::middleware::from_fn(request_id::assign))
        // Checks and appends served here are counted as HTTP's.
        .with_state(ledger.serving(Transport::Http))
}

/// Serves the API on `listener` until `shutdown` completes, then stops
/// accepting connections and waits for the requests in flight to finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    ledger: Ledger,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_router(listener, router(ledger), shutdown).await
}

/// [`serve`] for a router already built (e.g. by [`router_with`]).
pub async fn serve_router(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    if let Ok(address) = listener.local_addr() {
        tracing::info!(%address, "serving the HTTP API");
    }
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
}
