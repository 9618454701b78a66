//! One set of keys for every instance (docs/OPERATIONS.md "Keys",
//! docs/ERASURE.md "Several instances"), with the real binary: two `serve`
//! instances on one Kafka log (tansu) and one PostgreSQL subject key store,
//! every key given through the environment as a Kubernetes Secret would
//! give it. An address appended through A matches a check through B; an
//! erasure through B leaves A unable to open the values; the suppression
//! holds on both; an instance with another digest key refuses to start.

mod support;

use consent_auth::{ApiKey, KeyEntry, Principal};
use consent_domain::OrganisationId;
use consent_evidence::CheckpointSigner;
use consent_kafka::test_support::TestBroker;
use consent_keystore_postgres::test_support::{TestPostgres, PASSWORD};
use serde_json::json;
use std::time::Duration;
use support::*;

const ORG: &str = "acme-motors";
const SUBJECT: &str = "cust-42";
const NEW_ID: &str = "cust-4242";
const ADDRESS: &str = "ada.lovelace@example.com";
const DIGEST_KEY: &str = "6b6579732d666f722d65766572792d696e7374616e63652d6f662d6c65646765";
const OTHER_DIGEST_KEY: &str = "0000000000000000000000000000000000000000000000000000000000000001";
const UNSUBSCRIBE_KEY: &str = "ZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7fH1-f4CBgoM";

/// Every key of an instance, as environment variables.
fn keys_env(postgres: &TestPostgres, digest_key: &str, api_keys: &str) -> Vec<(String, String)> {
    let checkpoint = CheckpointSigner::from_seed("ledger.test/shared", &[9; 32])
        .expect("a checkpoint key")
        .to_private_key_text();
    vec![
        ("CONSENT_CONTACT_DIGEST_KEY".into(), digest_key.into()),
        ("CONSENT_UNSUBSCRIBE_KEY".into(), UNSUBSCRIBE_KEY.into()),
        ("CONSENT_CHECKPOINT_KEY".into(), checkpoint.to_string()),
        ("CONSENT_API_KEYS".into(), api_keys.into()),
        ("CONSENT_SUBJECT_KEY_STORE_URL".into(), postgres.url()),
        ("CONSENT_SUBJECT_KEY_STORE_PASSWORD".into(), PASSWORD.into()),
    ]
}

fn spawn(dir: &std::path::Path, log: &[String], env: &[(String, String)]) -> Ledger {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    Ledger::spawn_with_env(dir, log, &[], &env)
}

/// The client of `ledger` presents the organisation's API key.
fn authorise(ledger: &mut Ledger, key: &ApiKey) {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::AUTHORIZATION,
        format!("Bearer {}", key.secret())
            .parse()
            .expect("a header value"),
    );
    ledger.client = reqwest::Client::builder()
        .default_headers(headers)
        .timeout(Duration::from_secs(30))
        .build()
        .expect("HTTP client");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_share_one_set_of_keys_and_agree_on_contacts_and_erasure() {
    let Some(broker) = TestBroker::for_test() else {
        return;
    };
    let postgres = TestPostgres::start().unwrap_or_else(|error| panic!("{error}"));
    let dir = tempfile::tempdir().expect("tempdir");
    let log = log_args(&broker, "e2e-shared");
    let api_key = ApiKey::from_random_bytes(&[5; 32]);
    let api_keys = KeyEntry {
        hash: api_key.hash(),
        principal: Principal::Organisation(OrganisationId::new(ORG)),
        created: None,
        note: Some("the shared-keys test".to_owned()),
    }
    .to_toml();
    let env = keys_env(&postgres, DIGEST_KEY, &api_keys);

    // Both first starts at once: the log has no digest key yet.
    let mut a = spawn(&dir.path().join("a"), &log, &env);
    let mut b = spawn(&dir.path().join("b"), &log, &env);
    a.wait_ready().await;
    b.wait_ready().await;
    authorise(&mut a, &api_key);
    authorise(&mut b, &api_key);
    let (status, _) = a
        .post(
            "/v1/checks",
            &servicing_email(ORG, SUBJECT, ADDRESS, json!([])),
        )
        .await
        .expect("a call");
    assert_eq!(status, 200, "the API key from CONSENT_API_KEYS is accepted");

    // An address appended through A...
    let mut events = car_dealer(ORG);
    events.push(car_sale(ORG, SUBJECT, ADDRESS, "2026-03-01T14:30:00Z"));
    let sold = a.post_ok("/v1/events", &json!({ "events": events })).await;
    // ... matches a check through B (the soft opt-in holds only for the
    // address collected at the sale, compared by digest).
    let allowed = b
        .post_ok(
            "/v1/checks",
            &servicing_email(ORG, SUBJECT, ADDRESS, positions(&sold)),
        )
        .await;
    assert_eq!(allowed["allowed"], json!(true), "{allowed:#}");
    let elsewhere = b
        .post_ok(
            "/v1/checks",
            &servicing_email(ORG, SUBJECT, "someone.else@example.com", json!([])),
        )
        .await;
    assert_eq!(elsewhere["allowed"], json!(false), "{elsewhere:#}");
    // B opens what A sealed: one key per subject, in the shared store.
    // (B has the sale: its check waited for it; A is made to catch up.)
    a.wait_caught_up(Duration::from_secs(30)).await;
    assert_eq!(
        sale_contact(&b, ORG, SUBJECT).await["value"],
        json!(ADDRESS)
    );
    assert_eq!(
        sale_contact(&a, ORG, SUBJECT).await["value"],
        json!(ADDRESS)
    );

    // An erasure through B...
    b.post_ok(
        "/v1/events",
        &json!({"events": [
            {"organisationId": ORG, "subjectId": SUBJECT, "occurredAt": "2026-04-01T10:00:00Z",
             "erasureRequested": {"reason": "Art 17 request by email"}}]}),
    )
    .await;
    // ... and the address re-imported under a new id through A.
    let reimported = a
        .post_ok(
            "/v1/events",
            &json!({"events": [car_sale(ORG, NEW_ID, ADDRESS, "2026-05-01T10:00:00Z")]}),
        )
        .await;
    a.wait_caught_up(Duration::from_secs(30)).await;
    b.wait_caught_up(Duration::from_secs(30)).await;

    for (name, ledger) in [("A", &a), ("B", &b)] {
        // A (and B) can no longer open the values: only their seals are left.
        let redacted = sale_contact(ledger, ORG, SUBJECT).await;
        assert_eq!(
            redacted["value"].as_str().unwrap_or(""),
            "",
            "{name}: {redacted}"
        );
        assert!(
            redacted["sealed"]["digest"].is_string(),
            "{name}: {redacted}"
        );
        // The suppression holds on both.
        let old = ledger
            .post_ok(
                "/v1/checks",
                &servicing_email(ORG, SUBJECT, ADDRESS, json!([])),
            )
            .await;
        assert_eq!(
            reasons_against(&old),
            ["R9/erasure_requested"],
            "{name}: {old:#}"
        );
        let new = ledger
            .post_ok(
                "/v1/checks",
                &servicing_email(ORG, NEW_ID, ADDRESS, positions(&reimported)),
            )
            .await;
        assert_eq!(
            reasons_against(&new),
            ["R9/contact_suppressed"],
            "{name}: {new:#}"
        );
    }

    // An instance with another contact-digest key refuses to start.
    let other = keys_env(&postgres, OTHER_DIGEST_KEY, &api_keys);
    let mut c = spawn(&dir.path().join("c"), &log, &other);
    let status = c.wait_exit(Duration::from_secs(60)).await;
    assert!(!status.success(), "{status}");
    let output = c.output_tail();
    assert!(
        output.contains("CONSENT_CONTACT_DIGEST_KEY")
            && output.contains("not the one this log was sealed under"),
        "{output}"
    );
    // The two running instances are not disturbed by it.
    let still = a
        .post_ok(
            "/v1/checks",
            &servicing_email(ORG, NEW_ID, ADDRESS, json!([])),
        )
        .await;
    assert_eq!(
        reasons_against(&still),
        ["R9/contact_suppressed"],
        "{still:#}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_named_but_absent_is_never_generated() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("secrets/contact-digest.key");
    let mut ledger = Ledger::spawn(
        &dir.path().join("ledger"),
        &[],
        &["--contact-digest-key", &missing.display().to_string()],
    );
    let status = ledger.wait_exit(Duration::from_secs(30)).await;
    assert!(!status.success(), "{status}");
    let output = ledger.output_tail();
    assert!(
        output.contains("--contact-digest-key")
            && output.contains("CONSENT_CONTACT_DIGEST_KEY_FILE")
            && output.contains("never generated"),
        "{output}"
    );
    assert!(!missing.exists(), "no key was generated in its place");
    assert!(
        !dir.path().join("ledger/contact-digest.key").exists(),
        "nor in the data directory"
    );
}
