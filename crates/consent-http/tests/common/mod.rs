//! A real server: the HTTP API on 127.0.0.1:0 over the test kit's running
//! ledger (the embedded log, the sled view and a projector, all in one data
//! directory).
#![allow(dead_code)] // each test binary uses a different subset

use consent_evidence::CheckpointSigner;
use consent_log::{EndOffsets, EventLog};
use consent_projector::OwnedPartitions;
use consent_service::LedgerConfig;
use consent_testkit::json;
use consent_testkit::ledger::{LedgerParts, RunningLedger};
use reqwest::StatusCode;
use serde_json::Value;
use std::path::Path;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

#[allow(unused_imports)] // each test binary uses a subset
pub use consent_testkit::json::positions;
pub use consent_testkit::wire::{ORG, SUBJECT};
/// Opt-out intake of the test server: links point at PUBLIC_URL, the SMS
/// webhook is signed with SMS_SECRET, and SMS_NUMBER is ORG's.
pub const PUBLIC_URL: &str = "https://consent.test";
pub const SMS_SECRET: &[u8] = b"sms-webhook-test-secret";
pub const SMS_NUMBER: &str = "+447700900999";

pub fn test_intake() -> consent_service::IntakeConfig {
    consent_service::IntakeConfig::new(
        consent_intake::IntakeSecret::from_bytes([9; 32]),
        PUBLIC_URL,
    )
    .sms_webhook(
        SMS_SECRET.to_vec(),
        [(
            SMS_NUMBER.to_owned(),
            consent_domain::OrganisationId::new(ORG),
        )],
        consent_schema::PhoneRegion::GB,
    )
    .expect("the test SMS number is valid")
}

pub struct Server {
    pub base: String,
    pub client: reqwest::Client,
    running: RunningLedger,
    stop_server: oneshot::Sender<()>,
    server: JoinHandle<std::io::Result<()>>,
}

impl Server {
    /// Opens (or reopens) the ledger in `dir` and serves it.
    pub async fn start(dir: &Path, config: LedgerConfig) -> Self {
        Self::start_owning(dir, config, OwnedPartitions::All).await
    }

    /// [`Server::start`] for an instance that owns `ownership` only.
    pub async fn start_owning(
        dir: &Path,
        config: LedgerConfig,
        ownership: OwnedPartitions,
    ) -> Self {
        Self::start_guarded(dir, config, ownership, consent_http::Guard::Open).await
    }

    /// [`Server::start_owning`] with `guard` authenticating callers (API
    /// keys), as `serve` does with a key file.
    pub async fn start_guarded(
        dir: &Path,
        config: LedgerConfig,
        ownership: OwnedPartitions,
        guard: consent_http::Guard,
    ) -> Self {
        let running = RunningLedger::in_directory(
            dir,
            LedgerParts {
                config,
                ownership,
                signer: Some(
                    CheckpointSigner::from_seed("ledger.test/consent", &[5; 32]).expect("a key"),
                ),
                intake: Some(test_intake()),
                ..LedgerParts::default()
            },
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        let (stop_server, stop) = oneshot::channel::<()>();
        let router = consent_http::router_guarded(
            running.ledger.clone(),
            consent_http::Readiness::at_first_check(0),
            guard,
        );
        let server = tokio::spawn(consent_http::serve_router(listener, router, async {
            let _ = stop.await;
        }));
        Self {
            base,
            client: reqwest::Client::new(),
            running,
            stop_server,
            server,
        }
    }

    /// Shuts the server down gracefully, stops the projector and drops
    /// every handle on the data directory.
    pub async fn stop(self) {
        let _ = self.stop_server.send(());
        self.server.await.expect("server task").expect("server ran");
        self.running.stop().await;
    }

    pub async fn end_offsets(&self) -> EndOffsets {
        self.running.log.end_offsets().await.expect("end offsets")
    }

    pub async fn post(&self, path: &str, body: &Value) -> (StatusCode, Value) {
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .json(body)
            .send()
            .await
            .expect("request sent");
        read(response).await
    }

    pub async fn post_text(&self, path: &str, body: &str) -> (StatusCode, Value) {
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/json")
            .body(body.to_owned())
            .send()
            .await
            .expect("request sent");
        read(response).await
    }

    pub async fn get(&self, path_and_query: &str) -> (StatusCode, Value) {
        let response = self
            .client
            .get(format!("{}{path_and_query}", self.base))
            .send()
            .await
            .expect("request sent");
        read(response).await
    }
}

async fn read(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    let text = response.text().await.expect("response body");
    let body = serde_json::from_str(&text)
        .unwrap_or_else(|error| panic!("response is not JSON ({error}): {text:?}"));
    (status, body)
}

/// The shop, its categories, and a bike sold online with an opt-out
/// offered at checkout: as a producer would POST them.
pub fn shop_and_sale() -> Value {
    json::append(
        json::shop()
            .into_iter()
            .chain([json::bike_sale(SUBJECT, "2025-03-01T12:00:00Z")]),
    )
}

/// [`SUBJECT`]'s objection at `occurred_at`, as a producer would POST it.
pub fn objection(occurred_at: &str) -> Value {
    json::append([json::objection(SUBJECT, occurred_at)])
}

/// "May we email [`SUBJECT`] about helmets?", in a compliant message, once
/// the view has the given positions.
pub fn helmet_email(wait_for: &Value) -> Value {
    json::helmet_email(SUBJECT, wait_for)
}
