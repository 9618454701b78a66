//! The ledger's gRPC API: the `consent.v1.ConsentLedger` service of
//! `proto/consent/v1/service.proto`, served with tonic.
//!
//! | method | request | answer | ledger operation |
//! | --- | --- | --- | --- |
//! | `Append` | `AppendRequest` | `AppendResponse` | [`Ledger::append`] |
//! | `Check` | `CheckRequest` | `Decision` | [`Ledger::check`] |
//! | `CheckBatch` | `CheckBatchRequest` | `CheckBatchResponse` | [`Ledger::check_batch`] |
//! | `CheckStream` | stream of `CheckRequest` | stream of `Decision` | [`Ledger::check_batch`] per chunk, in order ([`check_stream`]) |
//! | `History` | `HistoryRequest` | `HistoryResponse` | [`Ledger::history`] |
//! | `ListRuleSets` | `ListRuleSetsRequest` | `ListRuleSetsResponse` | [`Ledger::rule_sets`] |
//! | `WaitForPositions` | `WaitRequest` | `WaitResponse` | [`Ledger::wait_for`] ([`wait`]) |
//!
//! Errors are statuses mapped as the HTTP API maps them ([`status`]).
//! With a key file ([`service_guarded`]) every method needs an API key in
//! `authorization: Bearer <key>` metadata (`UNAUTHENTICATED` without one)
//! and serves only the key's organisation (`PERMISSION_DENIED`), as the
//! HTTP API does.
//! Every call runs in a `grpc_request` span with its request id (the
//! caller's `x-request-id` metadata, else a new one, echoed in the
//! response's metadata) and is counted and timed ([`metrics`]); with
//! traces on, that span continues the caller's W3C `traceparent` metadata
//! (`consent-trace-context`).
//!
//! Invariants:
//! * one set of message types: the generated client and server ([`proto`])
//!   use the `consent_schema::v1` types, the very ones the HTTP API
//!   serialises as JSON; this crate generates no message type, so a check
//!   over HTTP and over gRPC cannot be two different things;
//! * a thin adapter: every validation and decision is in `consent-service`
//!   and below; this crate translates requests, answers and errors.

pub mod check_stream;
pub mod error;
pub mod metrics;
mod service;
pub mod wait;

/// The generated tonic client and server of `consent.v1.ConsentLedger`.
#[allow(clippy::all, missing_docs)]
pub mod proto {
    include!(concat!(env!("OUT_DIR"), "/consent.v1.rs"));
}

pub use error::status_from;
pub use proto::consent_ledger_client::ConsentLedgerClient;
pub use proto::consent_ledger_server::ConsentLedgerServer;
pub use service::LedgerService;

pub use consent_auth::Guard;
use consent_service::Ledger;
use std::future::Future;

/// The largest request message accepted, in bytes (as the HTTP API's body
/// limit): an append of many events, or a large batch check.
pub const MAX_MESSAGE_BYTES: usize = 16 * 1024 * 1024;

/// The `ConsentLedger` service over `ledger`, ready to add to a tonic
/// server.
pub fn service(ledger: Ledger) -> ConsentLedgerServer<LedgerService> {
    service_guarded(ledger, Guard::Open)
}

/// [`service`] with `guard` authenticating every call.
pub fn service_guarded(ledger: Ledger, guard: Guard) -> ConsentLedgerServer<LedgerService> {
    ConsentLedgerServer::new(LedgerService::guarded(ledger, guard))
        .max_decoding_message_size(MAX_MESSAGE_BYTES)
}

/// Serves the gRPC API on `listener` until `shutdown` completes, then stops
/// accepting connections and waits for the calls in flight (open
/// `CheckStream`s included) to finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    ledger: Ledger,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), tonic::transport::Error> {
    serve_guarded(listener, ledger, Guard::Open, shutdown).await
}

/// [`serve`] with `guard` authenticating every call.
pub async fn serve_guarded(
    listener: tokio::net::TcpListener,
    ledger: Ledger,
    guard: Guard,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), tonic::transport::Error> {
    if let Ok(address) = listener.local_addr() {
        tracing::info!(%address, "serving the gRPC API");
    }
    tonic::transport::Server::builder()
        .add_service(service_guarded(ledger, guard))
        // Nagle off: a unary check is one small frame each way, and with
        // Nagle a client waits for the delayed ACK (~40 ms) every call.
        .serve_with_incoming_shutdown(
            tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true)),
            shutdown,
        )
        .await
}
