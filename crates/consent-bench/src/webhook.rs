//! ESP events in, end to end (issue #16): the real `consent-ledger serve`
//! binary with an ESP webhooks file, customers who bought a car giving an
//! email address, then for each one SendGrid's signed `unsubscribe` event
//! POSTed to `/v1/webhooks/sendgrid/{org}` and checks polled until one is
//! refused: the time from the webhook sent to the first check refused.
//! The baseline, measured in the same run against the same process: the
//! same opt-out appended through the API (`POST /v1/events`), then checks
//! polled until one is refused.

use crate::measure::Latencies;
use crate::outcome::Outcome;
use anyhow::Context;
use base64::Engine;
use p256::ecdsa::signature::Signer;
use p256::pkcs8::EncodePublicKey;
use serde_json::{json, Value};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const ORG: &str = "bench-motors";
/// How long one opt-out may take to be honoured before it counts as not.
const GIVE_UP: Duration = Duration::from_secs(5);

/// The `consent-ledger` binary beside this one (same build), or `given`.
pub fn ledger_binary(given: Option<&Path>) -> Option<PathBuf> {
    if let Some(path) = given {
        return Some(path.to_owned());
    }
    let beside = std::env::current_exe()
        .ok()?
        .parent()?
        .join("consent-ledger");
    beside.exists().then_some(beside)
}

/// Kills the serve process when dropped (this run's own child, by handle).
struct Served(Child);

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn signing_key() -> anyhow::Result<p256::ecdsa::SigningKey> {
    p256::ecdsa::SigningKey::from_slice(&[29; 32]).context("the benchmark's P-256 key")
}

fn address(index: usize) -> String {
    format!("customer-{index}@example.com")
}

/// Runs the benchmark with `customers` opt-outs each way.
pub async fn measure(binary: &Path, work: &Path, customers: usize) -> anyhow::Result<Outcome> {
    let dir = work.join("webhook");
    std::fs::create_dir_all(&dir)?;
    let key = signing_key()?;
    let public_key = key
        .verifying_key()
        .to_public_key_der()
        .context("encoding the verification key")?;
    let settings = dir.join("esp-webhooks.toml");
    std::fs::write(
        &settings,
        format!(
            "[{ORG}.sendgrid]\npublic_key = \"{}\"\n",
            base64::engine::general_purpose::STANDARD.encode(public_key.as_bytes())
        ),
    )?;
    std::fs::set_permissions(&settings, std::fs::Permissions::from_mode(0o600))?;
    let listen = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?;
    let output = std::fs::File::create(dir.join("serve.out"))?;
    let child = Command::new(binary)
        .args(["serve", "--data-dir"])
        .arg(dir.join("data"))
        .args(["--listen", &listen.to_string(), "--esp-webhooks"])
        .arg(&settings)
        .env("CONSENT_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(output.try_clone()?)
        .stderr(output)
        .spawn()
        .with_context(|| format!("starting {} serve", binary.display()))?;
    let _served = Served(child);
    let base = format!("http://{listen}");
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()?;
    wait_ready(&client, &base).await?;

    // The dealer and 2 x `customers` buyers, each giving an address.
    let mut events = vec![
        json!({"organisationId": ORG, "occurredAt": "2026-01-10T09:00:00Z",
            "organisationRegistered": {"name": "Bench Motors Ltd", "kind": "ORGANISATION_KIND_COMMERCIAL"}}),
        json!({"organisationId": ORG, "occurredAt": "2026-01-10T09:00:00Z",
            "productCategoriesDefined": {"categories": [
                {"id": "cars", "name": "Cars", "similarCategoryIds": ["servicing"]},
                {"id": "servicing", "name": "Servicing"}]}}),
    ];
    for index in 0..2 * customers {
        events.push(
            json!({"organisationId": ORG, "subjectId": format!("c-{index}"),
            "occurredAt": "2026-03-01T14:30:00Z",
            "saleRecorded": {"productCategoryId": "cars", "orderRef": format!("o-{index}"),
                "collection": {"route": "COLLECTION_ROUTE_DIRECT", "optOutOffered": true,
                    "contactPoint": {"kind": "CONTACT_KIND_EMAIL", "value": address(index)}}}}),
        );
    }
    let mut last = Value::Null;
    for chunk in events.chunks(500) {
        last = post_ok(
            &client,
            &format!("{base}/v1/events"),
            &json!({ "events": chunk }),
        )
        .await?;
    }
    let wait_for: Vec<Value> = last["appended"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| a["position"].clone())
        .collect();
    let first = check(&client, &base, 0, json!(wait_for)).await?;
    anyhow::ensure!(
        first["allowed"] == json!(true),
        "the first customer may not be emailed: {first}"
    );

    let mut webhook = Latencies::with_capacity(customers);
    let mut answered = Latencies::with_capacity(customers);
    let mut api = Latencies::with_capacity(customers);
    let mut not_honoured = 0usize;
    for index in 0..customers {
        // SendGrid's unsubscribe, signed now.
        let body = format!(
            "{}\r\n",
            json!([{"email": address(index), "timestamp": 1_772_000_000, "event": "unsubscribe",
                "sg_event_id": format!("bench-{index}"), "sg_message_id": format!("m-{index}")}])
        );
        let timestamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_secs()
            .to_string();
        let signature: p256::ecdsa::Signature = key.sign(format!("{timestamp}{body}").as_bytes());
        let signature =
            base64::engine::general_purpose::STANDARD.encode(signature.to_der().as_bytes());
        let started = Instant::now();
        let response = client
            .post(format!("{base}/v1/webhooks/sendgrid/{ORG}"))
            .header("content-type", "application/json")
            .header("X-Twilio-Email-Event-Webhook-Signature", signature)
            .header("X-Twilio-Email-Event-Webhook-Timestamp", timestamp)
            .body(body)
            .send()
            .await?;
        anyhow::ensure!(
            response.status().is_success(),
            "the webhook answered {}",
            response.status()
        );
        answered.record(started.elapsed());
        match refused_after(&client, &base, index, started).await? {
            Some(elapsed) => webhook.record(elapsed),
            None => not_honoured += 1,
        }

        // The baseline: the same opt-out through the API.
        let other = customers + index;
        let started = Instant::now();
        post_ok(
            &client,
            &format!("{base}/v1/events"),
            &json!({"events": [{"organisationId": ORG, "subjectId": format!("c-{other}"),
                "occurredAt": "2026-03-02T10:00:00Z",
                "optOutRecorded": {"channels": ["CHANNEL_EMAIL"], "receivedVia": "OPT_OUT_METHOD_UNSUBSCRIBE_LINK",
                    "contactPoint": {"kind": "CONTACT_KIND_EMAIL", "value": address(other)}}}]}),
        )
        .await?;
        match refused_after(&client, &base, other, started).await? {
            Some(elapsed) => api.record(elapsed),
            None => not_honoured += 1,
        }
    }

    let mut outcome = Outcome::new(
        "webhook",
        "ESP webhook received, then a check refused (SendGrid, the real binary)",
    );
    let p50 = webhook.percentile_us(50.0) / 1_000.0;
    let p99 = webhook.percentile_us(99.0) / 1_000.0;
    outcome.figure("opt-outs", webhook.len() as f64, "opt-outs");
    outcome.figure("webhook sent -> check refused, p50", p50, "ms");
    outcome.figure("webhook sent -> check refused, p99", p99, "ms");
    outcome.figure(
        "webhook sent -> check refused, max",
        webhook.percentile_us(100.0) / 1_000.0,
        "ms",
    );
    outcome.figure(
        "webhook answered, p50",
        answered.percentile_us(50.0) / 1_000.0,
        "ms",
    );
    outcome.figure(
        "webhook answered, p99",
        answered.percentile_us(99.0) / 1_000.0,
        "ms",
    );
    let api_p50 = api.percentile_us(50.0) / 1_000.0;
    outcome.figure("API append -> check refused, p50", api_p50, "ms");
    outcome.figure(
        "API append -> check refused, p99",
        api.percentile_us(99.0) / 1_000.0,
        "ms",
    );
    outcome.figure("not honoured within 5 s", not_honoured as f64, "opt-outs");
    outcome.ratio(
        p50 / api_p50,
        "the same opt-out appended through POST /v1/events (p50), same process",
    );
    outcome.target("p99 under 1 s", p99 < 1_000.0 && not_honoured == 0);
    outcome.note(
        "one request at a time from one client on loopback; the webhook verifies SendGrid's ECDSA P-256 signature, finds the subjects with the address in the contact index, appends the opt-out (fsynced, embedded log) and answers once the view has applied it, so the first check after the answer refuses; checks polled every 0.2 ms",
    );
    Ok(outcome)
}

async fn wait_ready(client: &reqwest::Client, base: &str) -> anyhow::Result<()> {
    let started = Instant::now();
    loop {
        if let Ok(response) = client.get(format!("{base}/readyz")).send().await {
            if response.status().is_success() {
                return Ok(());
            }
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(60),
            "consent-ledger serve was not ready within 60 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn post_ok(client: &reqwest::Client, url: &str, body: &Value) -> anyhow::Result<Value> {
    let response = client.post(url).json(body).send().await?;
    let status = response.status();
    let answer: Value = response.json().await?;
    anyhow::ensure!(status.is_success(), "POST {url}: {status} {answer}");
    Ok(answer)
}

/// May the dealer email customer `index` about servicing?
async fn check(
    client: &reqwest::Client,
    base: &str,
    index: usize,
    wait_for: Value,
) -> anyhow::Result<Value> {
    post_ok(
        client,
        &format!("{base}/v1/checks"),
        &json!({"organisationId": ORG, "subjectId": format!("c-{index}"),
            "channel": "CHANNEL_EMAIL", "purpose": "PURPOSE_COMMERCIAL", "productCategoryId": "servicing",
            "messageClass": "MESSAGE_CLASS_MARKETING", "promotionalContent": true,
            "optOutIncluded": true, "senderIdentified": true, "at": "2026-06-01T09:00:00Z",
            "waitFor": wait_for}),
    )
    .await
}

/// Polls checks of customer `index` until one refuses: the time since
/// `started`, or `None` after [`GIVE_UP`].
async fn refused_after(
    client: &reqwest::Client,
    base: &str,
    index: usize,
    started: Instant,
) -> anyhow::Result<Option<Duration>> {
    loop {
        let decision = check(client, base, index, json!([])).await?;
        if decision["allowed"] == json!(false) {
            return Ok(Some(started.elapsed()));
        }
        if started.elapsed() > GIVE_UP {
            return Ok(None);
        }
        tokio::time::sleep(Duration::from_micros(200)).await;
    }
}
