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
    .esp_webhooks(esp_webhooks())
}

/// The ESP webhooks of ORG in the test server: SendGrid verifies with the
/// pair of [`sendgrid_signing_key`], SES with the test SNS certificate,
/// Mailchimp's URL carries MAILCHIMP_SECRET, the generic webhook is signed
/// with GENERIC_SECRET.
pub const MAILCHIMP_SECRET: &str = "mailchimp-url-secret";
pub const GENERIC_SECRET: &[u8] = b"generic-webhook-secret";
/// The SNS signing certificate and key made for the tests (not Amazon's).
pub const SNS_CERTIFICATE: &str =
    include_str!("../../../consent-intake/tests/data/sns-test-signing.pem");
const SNS_PRIVATE_KEY: &str =
    include_str!("../../../consent-intake/tests/data/sns-test-signing.key");

/// A P-256 key pair made for the tests: SendGrid's own private key is
/// SendGrid's, so an event of our choosing is signed with this one.
pub fn sendgrid_signing_key() -> p256::ecdsa::SigningKey {
    p256::ecdsa::SigningKey::from_slice(&[7; 32]).expect("a valid P-256 scalar")
}

pub fn esp_webhooks() -> consent_service::EspWebhooks {
    use consent_intake::esp::sendgrid::SendGridKey;
    use consent_intake::esp::sns::SnsCertificate;
    let settings = consent_service::EspSettings {
        sendgrid: Some(consent_service::SendGridSettings {
            key: SendGridKey::from_verifying_key(*sendgrid_signing_key().verifying_key()),
            tolerance_secs: 300,
        }),
        ses: Some(consent_service::SesSettings {
            certificate: SnsCertificate::from_pem(SNS_CERTIFICATE).expect("the test certificate"),
            topic_arn: None,
        }),
        mailchimp_secret: Some(MAILCHIMP_SECRET.as_bytes().to_vec().into()),
        generic_secret: Some(GENERIC_SECRET.to_vec().into()),
    };
    consent_service::EspWebhooks {
        organisations: [(consent_domain::OrganisationId::new(ORG), settings)].into(),
    }
}

/// SendGrid's signature header of `body` sent at `timestamp`.
pub fn sign_sendgrid(timestamp: &str, body: &str) -> String {
    use base64::Engine;
    use p256::ecdsa::signature::Signer;
    let signature: p256::ecdsa::Signature =
        sendgrid_signing_key().sign(format!("{timestamp}{body}").as_bytes());
    base64::engine::general_purpose::STANDARD.encode(signature.to_der().as_bytes())
}

/// Now, in Unix seconds, as SendGrid's timestamp header carries it.
pub fn unix_now() -> String {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs()
        .to_string()
}

/// An SNS notification of `message` (SES's JSON), signed as SNS signs
/// (SignatureVersion 1) with the test key.
pub fn sns_notification(message_id: &str, message: &str) -> Value {
    sns_signed(serde_json::json!({
        "Type": "Notification",
        "MessageId": message_id,
        "TopicArn": "arn:aws:sns:eu-west-2:123456789012:ses-feedback",
        "Message": message,
        "Timestamp": "2026-03-01T10:00:00.000Z",
        "SignatureVersion": "1",
        "SigningCertURL": "https://sns.eu-west-2.amazonaws.com/SimpleNotificationService-test.pem",
        "UnsubscribeURL": "https://sns.eu-west-2.amazonaws.com/?Action=Unsubscribe",
    }))
}

/// `message` with its `Signature` made under the test SNS key.
pub fn sns_signed(mut message: Value) -> Value {
    use base64::Engine;
    use rsa::pkcs8::DecodePrivateKey;
    use rsa::signature::{SignatureEncoding, Signer};
    let parsed = consent_intake::esp::sns::SnsMessage::parse(
        &serde_json::to_vec(&{
            let mut m = message.clone();
            m["Signature"] = serde_json::json!("");
            m
        })
        .expect("json"),
    )
    .expect("an SNS message");
    let canonical = parsed.canonical_string().expect("canonical");
    let key = rsa::RsaPrivateKey::from_pkcs8_pem(SNS_PRIVATE_KEY).expect("the test key");
    let signature = rsa::pkcs1v15::SigningKey::<sha1::Sha1>::new(key).sign(canonical.as_bytes());
    message["Signature"] =
        serde_json::json!(base64::engine::general_purpose::STANDARD.encode(signature.to_vec()));
    message
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
