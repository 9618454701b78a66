//! KafkaLog over TLS and SASL, against a real broker: tansu behind a TLS
//! terminator (stunnel), with its SASL authentication on where a test asks.
//!
//! What a user of a managed Kafka checks: the ledger connects, appends and
//! reads back through TLS with the CA it is given; with a wrong CA, a wrong
//! password, an unknown mechanism or plain text to a TLS listener, opening
//! the log fails promptly with an error that names the setting to fix.
//!
//! Needs tansu (`.ci/install-tansu.sh`) and stunnel4 (`.ci/install-deps.sh`).

use consent_kafka::test_support::{BrokerOptions, ScramUser, TestCa, TlsBroker};
use consent_kafka::{KafkaConfig, KafkaLog};
use consent_log::{AppendRecord, EventLog, LogError, LogLayout, StartOffsets};
use std::time::{Duration, Instant};

const PARTITIONS: u32 = 2;

fn config(bootstrap: String, prefix: &str, settings: &[(&str, &str)]) -> KafkaConfig {
    let mut config = KafkaConfig::new(
        bootstrap,
        LogLayout::new(prefix, PARTITIONS, ["grants", "optouts"]),
    );
    config.replication_factor = 1;
    config.client_id = format!("consent-kafka-security-{prefix}");
    config.extra = settings
        .iter()
        .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
        .collect();
    config
}

fn tls_settings(broker: &TlsBroker) -> Vec<(&'static str, String)> {
    vec![
        ("security.protocol", "ssl".to_owned()),
        (
            "ssl.ca.location",
            broker.ca.ca_certificate().display().to_string(),
        ),
    ]
}

fn as_refs<'a>(settings: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    settings.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// Appends three records and reads them back through `log`.
async fn append_and_read_back(log: &KafkaLog) {
    let records: Vec<AppendRecord> = (0..3)
        .map(|i| AppendRecord {
            topic: log.layout().topic("grants"),
            key: format!("org-1|subject-{i}").into_bytes(),
            payload: format!("payload {i}").into_bytes(),
            headers: Vec::new(),
        })
        .collect();
    let positions = log.append(records.clone()).await.expect("append over TLS");
    assert_eq!(positions.len(), 3);
    let start: StartOffsets = log
        .layout()
        .topic_partitions()
        .into_iter()
        .map(|tp| (tp, 0))
        .collect();
    let mut reader = log.reader(start).await.expect("a reader over TLS");
    let mut read = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while read.len() < 3 && Instant::now() < deadline {
        read.extend(
            reader
                .next_batch(100, Duration::from_millis(500))
                .await
                .expect("read over TLS"),
        );
    }
    let mut payloads: Vec<Vec<u8>> = read.into_iter().map(|r| r.payload).collect();
    payloads.sort();
    let mut expected: Vec<Vec<u8>> = records.into_iter().map(|r| r.payload).collect();
    expected.sort();
    assert_eq!(payloads, expected, "every record read back through TLS");
}

/// Opens the log and expects a settings error naming `setting`, within a
/// bound well short of a hang.
async fn expect_settings_error(config: KafkaConfig, setting: &str) -> String {
    let started = Instant::now();
    let outcome = KafkaLog::open(config).await;
    let waited = started.elapsed();
    match outcome {
        Err(LogError::Settings(reason)) => {
            assert!(
                reason.contains(setting),
                "the error names `{setting}`: {reason}"
            );
            assert!(
                waited < Duration::from_secs(30),
                "refused within the request timeout, not hung ({waited:?})"
            );
            reason
        }
        Err(other) => panic!("expected a settings error naming {setting}, got {other}"),
        Ok(_) => panic!("expected a settings error naming {setting}, but the log opened"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn appends_and_reads_through_a_tls_listener() {
    let Some(broker) = TlsBroker::for_test(BrokerOptions::default()) else {
        return;
    };
    let settings = tls_settings(&broker);
    let log = KafkaLog::open(config(broker.bootstrap(), "tls", &as_refs(&settings)))
        .await
        .expect("open over TLS with the broker's CA");
    append_and_read_back(&log).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_ca_is_refused_naming_the_ca_setting() {
    let Some(broker) = TlsBroker::for_test(BrokerOptions::default()) else {
        return;
    };
    let other_ca = TestCa::generate().expect("another CA");
    let ca = other_ca.ca_certificate().display().to_string();
    let reason = expect_settings_error(
        config(
            broker.bootstrap(),
            "wrongca",
            &[("security.protocol", "ssl"), ("ssl.ca.location", &ca)],
        ),
        "ssl.ca.location",
    )
    .await;
    assert!(reason.contains("certificate"), "{reason}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_text_to_a_tls_listener_fails_promptly_naming_the_protocol_setting() {
    let Some(broker) = TlsBroker::for_test(BrokerOptions::default()) else {
        return;
    };
    // The TLS terminator drops a plain-text client without a word, which
    // librdkafka reports only as "brokers are down": the ledger cannot tell
    // this from a broker that is down, so it says both, after the request
    // timeout instead of retrying for ever.
    let started = Instant::now();
    match KafkaLog::open(config(broker.bootstrap(), "plaintotls", &[])).await {
        Err(LogError::Unavailable(reason)) => {
            assert!(reason.contains("`security.protocol`"), "{reason}");
            assert!(started.elapsed() < Duration::from_secs(30));
        }
        Err(other) => panic!("expected the log to be unavailable, got {other}"),
        Ok(_) => panic!("a plain-text client opened a TLS-only log"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_ca_file_is_refused_naming_it() {
    let Some(broker) = TlsBroker::for_test(BrokerOptions::default()) else {
        return;
    };
    expect_settings_error(
        config(
            broker.bootstrap(),
            "noca",
            &[
                ("security.protocol", "ssl"),
                ("ssl.ca.location", "/nonexistent/ca.pem"),
            ],
        ),
        "ssl.ca.location",
    )
    .await;
}

// ------------------------------------------------------------------ SASL

const USER: &str = "ledger";
const PASSWORD: &str = "correct horse battery staple";

/// A TLS broker requiring a SASL login, with the user `ledger` for both
/// SCRAM mechanisms.
fn sasl_broker() -> Option<TlsBroker> {
    TlsBroker::for_test(BrokerOptions {
        authentication: true,
        scram_users: vec![
            ScramUser::new(USER, PASSWORD, "SCRAM-SHA-256"),
            ScramUser::new(USER, PASSWORD, "SCRAM-SHA-512"),
        ],
        ..BrokerOptions::default()
    })
}

fn sasl_settings(
    broker: &TlsBroker,
    mechanism: &str,
    password: &str,
) -> Vec<(&'static str, String)> {
    vec![
        ("security.protocol", "sasl_ssl".to_owned()),
        (
            "ssl.ca.location",
            broker.ca.ca_certificate().display().to_string(),
        ),
        ("sasl.mechanisms", mechanism.to_owned()),
        ("sasl.username", USER.to_owned()),
        ("sasl.password", password.to_owned()),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scram_sha_256_and_512_logins_append_and_read_over_tls() {
    let Some(broker) = sasl_broker() else {
        return;
    };
    for (mechanism, prefix) in [("SCRAM-SHA-256", "scram256"), ("SCRAM-SHA-512", "scram512")] {
        let settings = sasl_settings(&broker, mechanism, PASSWORD);
        let log = KafkaLog::open(config(broker.bootstrap(), prefix, &as_refs(&settings)))
            .await
            .unwrap_or_else(|error| panic!("open with {mechanism}: {error}"));
        append_and_read_back(&log).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_is_refused_naming_the_credentials() {
    let Some(broker) = sasl_broker() else {
        return;
    };
    let settings = sasl_settings(&broker, "SCRAM-SHA-512", "not the password");
    let reason = expect_settings_error(
        config(broker.bootstrap(), "wrongpw", &as_refs(&settings)),
        "sasl.password",
    )
    .await;
    assert!(!reason.contains("not the password"), "{reason}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mechanism_the_broker_does_not_offer_is_refused_naming_it() {
    let Some(broker) = sasl_broker() else {
        return;
    };
    // tansu 0.6 does not offer PLAIN.
    let settings = sasl_settings(&broker, "PLAIN", PASSWORD);
    expect_settings_error(
        config(broker.bootstrap(), "plainmech", &as_refs(&settings)),
        "sasl.mechanisms",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mechanism_librdkafka_does_not_know_is_refused_naming_it() {
    let Some(broker) = sasl_broker() else {
        return;
    };
    let settings = sasl_settings(&broker, "SCRAM-SHA-1024", PASSWORD);
    expect_settings_error(
        config(broker.bootstrap(), "unknownmech", &as_refs(&settings)),
        "sasl.mechanisms",
    )
    .await;
}
