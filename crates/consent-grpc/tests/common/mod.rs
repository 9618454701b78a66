//! A real ledger behind both APIs: the gRPC API and the HTTP API, each on
//! its own 127.0.0.1 port, over the test kit's running ledger (one
//! embedded log, one sled view and one projector) in a temporary directory.
#![allow(dead_code)] // each test binary uses a different subset

use consent_grpc::ConsentLedgerClient;
use consent_schema::v1;
use consent_service::LedgerConfig;
use consent_testkit::json;
use consent_testkit::ledger::{LedgerParts, RunningLedger};
use serde_json::{json, Value};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tonic::transport::Channel;

pub use consent_testkit::wire::{ORG, SUBJECT};
/// The log's topic prefix in these tests (the test kit's layout).
pub const PREFIX: &str = "test";

pub struct Ledgers {
    /// A client of the gRPC API.
    pub grpc: ConsentLedgerClient<Channel>,
    /// The HTTP API's base URL, e.g. `http://127.0.0.1:41234`.
    pub http_base: String,
    pub http: reqwest::Client,
    _dir: tempfile::TempDir,
    /// One signal stops both servers, as `consent-ledger serve` does.
    stop_serving: watch::Sender<bool>,
    grpc_server: JoinHandle<Result<(), tonic::transport::Error>>,
    http_server: JoinHandle<std::io::Result<()>>,
    running: RunningLedger,
}

impl Ledgers {
    /// Starts a fresh ledger, with the default configuration, behind both
    /// APIs.
    pub async fn start() -> Self {
        Self::start_with(LedgerConfig::default()).await
    }

    pub async fn start_with(config: LedgerConfig) -> Self {
        Self::start_guarded(config, consent_grpc::Guard::Open).await
    }

    /// [`Ledgers::start_with`], with `guard` authenticating the callers of
    /// both APIs (API keys), as `serve` does with a key file.
    pub async fn start_guarded(config: LedgerConfig, guard: consent_grpc::Guard) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let running = RunningLedger::in_directory(
            dir.path(),
            LedgerParts {
                config,
                signer: Some(
                    consent_evidence::CheckpointSigner::from_seed("ledger.test/consent", &[6; 32])
                        .expect("a key"),
                ),
                ..LedgerParts::default()
            },
        );
        let ledger = running.ledger.clone();
        let (stop_serving, stopping) = watch::channel(false);
        let grpc_listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind gRPC");
        let grpc_address = grpc_listener.local_addr().expect("gRPC address");
        let grpc_server = tokio::spawn(consent_grpc::serve_guarded(
            grpc_listener,
            ledger.clone(),
            guard.clone(),
            stopped(stopping.clone()),
        ));

        let http_listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind HTTP");
        let http_base = format!("http://{}", http_listener.local_addr().expect("address"));
        let router =
            consent_http::router_guarded(ledger, consent_http::Readiness::at_first_check(0), guard);
        let http_server = tokio::spawn(consent_http::serve_router(
            http_listener,
            router,
            stopped(stopping),
        ));

        let grpc = ConsentLedgerClient::connect(format!("http://{grpc_address}"))
            .await
            .expect("connect to the gRPC API")
            .max_decoding_message_size(consent_grpc::MAX_MESSAGE_BYTES);
        Self {
            grpc,
            http_base,
            http: reqwest::Client::new(),
            _dir: dir,
            stop_serving,
            grpc_server,
            http_server,
            running,
        }
    }

    /// Shuts both servers down gracefully and stops the projector.
    pub async fn stop(self) {
        drop(self.grpc);
        self.stop_serving.send_replace(true);
        self.grpc_server
            .await
            .expect("gRPC server task")
            .expect("gRPC server ran");
        self.http_server
            .await
            .expect("HTTP server task")
            .expect("HTTP server ran");
        self.running.stop().await;
    }

    /// POSTs `body` to the HTTP API; the status and the JSON answer.
    pub async fn http_post(&self, path: &str, body: &Value) -> (reqwest::StatusCode, Value) {
        let response = self
            .http
            .post(format!("{}{path}", self.http_base))
            .json(body)
            .send()
            .await
            .expect("HTTP request sent");
        let status = response.status();
        let body = response.json().await.expect("a JSON answer");
        (status, body)
    }

    pub async fn http_get(&self, path: &str) -> (reqwest::StatusCode, Value) {
        let response = self
            .http
            .get(format!("{}{path}", self.http_base))
            .send()
            .await
            .expect("HTTP request sent");
        let status = response.status();
        let body = response.json().await.expect("a JSON answer");
        (status, body)
    }

    /// Appends over gRPC; the positions to wait for.
    pub async fn append(&mut self, request: v1::AppendRequest) -> Vec<v1::LogPosition> {
        let appended = self
            .grpc
            .append(request)
            .await
            .expect("append accepted")
            .into_inner();
        appended
            .appended
            .into_iter()
            .map(|a| a.position.expect("each appended event has a position"))
            .collect()
    }
}

/// Completes once `stopping` says stop (or its sender is gone).
async fn stopped(mut stopping: watch::Receiver<bool>) {
    let _ = stopping.wait_for(|stop| *stop).await;
}

/// A message from its proto3 JSON form, through the generated serde impls
/// (the HTTP API's parser).
pub fn from_json<T: serde::de::DeserializeOwned>(value: Value) -> T {
    serde_json::from_value(value).expect("valid proto3 JSON")
}

/// The shop and its categories: bikes, with helmets similar to them, and
/// insurance, which is not.
pub fn shop() -> Value {
    Value::Array(json::shop())
}

/// A bike sold to `subject` online, with an opt-out offered at checkout and
/// not taken, as order number `order`.
pub fn sale(subject: &str, order: usize) -> Value {
    let mut sale = json::bike_sale(subject, "2025-03-01T12:00:00Z");
    sale["saleRecorded"]["orderRef"] = json!(format!("order-{order}"));
    sale
}

/// The shop and one sale to [`SUBJECT`], as an append request.
pub fn shop_and_sale() -> v1::AppendRequest {
    let mut events = shop().as_array().cloned().unwrap_or_default();
    events.push(sale(SUBJECT, 77));
    from_json(json!({ "events": events }))
}

/// "May we email `subject` about `category` at `at`?", in a compliant
/// marketing message, as proto3 JSON.
pub fn email_check_json(subject: &str, category: &str, at: &str) -> Value {
    json!({
        "organisationId": ORG,
        "subjectId": subject,
        "channel": "CHANNEL_EMAIL",
        "purpose": "PURPOSE_COMMERCIAL",
        "productCategoryId": category,
        "messageClass": "MESSAGE_CLASS_MARKETING",
        "promotionalContent": true,
        "optOutIncluded": true,
        "senderIdentified": true,
        "at": at
    })
}

pub fn email_check(subject: &str, category: &str, at: &str) -> v1::CheckRequest {
    from_json(email_check_json(subject, category, at))
}

/// The string value of metadata `key` of a status.
pub fn metadata(status: &tonic::Status, key: &str) -> Option<String> {
    status
        .metadata()
        .get(key)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
}
