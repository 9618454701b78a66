//! `consent-ledger` on a secured Kafka, as a managed cluster is: TLS (a
//! stunnel terminator in front of a tansu broker that advertises the TLS
//! address) and a SCRAM login (tansu `--authentication`), with the password
//! in a secrets file. And the CLI talking to a ledger behind `https://`.
//!
//! Needs tansu (`.ci/install-tansu.sh`) and stunnel4 (`.ci/install-deps.sh`).

mod support;

use consent_kafka::test_support::{BrokerOptions, ScramUser, TestCa, TlsBroker, TlsTerminator};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::time::Duration;
use support::*;

const ORG: &str = "acme-motors";
const USER: &str = "ledger";
const PASSWORD: &str = "correct horse battery staple";

/// A file of mode 0600 holding `text`.
fn private_file(dir: &Path, name: &str, text: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write the file");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod 600");
    path
}

/// The log options for `broker` over TLS trusting the CA `ca`, with a
/// SCRAM-SHA-512 login whose `password` is in a secrets file written to
/// `dir`.
fn secure_log_args(
    broker: &TlsBroker,
    dir: &Path,
    prefix: &str,
    ca: &Path,
    password: &str,
) -> Vec<String> {
    let secrets = private_file(dir, "kafka.secrets", &format!("sasl.password={password}\n"));
    let mut args = vec![
        "--kafka-brokers".to_owned(),
        broker.bootstrap(),
        "--topic-prefix".to_owned(),
        prefix.to_owned(),
        "--partitions".to_owned(),
        PARTITIONS.to_string(),
        "--kafka-replication".to_owned(),
        "1".to_owned(),
        "--kafka-secrets-file".to_owned(),
        secrets.display().to_string(),
    ];
    for setting in [
        "security.protocol=sasl_ssl".to_owned(),
        format!("ssl.ca.location={}", ca.display()),
        "sasl.mechanisms=SCRAM-SHA-512".to_owned(),
        format!("sasl.username={USER}"),
    ] {
        args.push("--kafka-setting".to_owned());
        args.push(setting);
    }
    args
}

fn secured_broker() -> Option<TlsBroker> {
    TlsBroker::for_test(BrokerOptions {
        authentication: true,
        scram_users: vec![ScramUser::new(USER, PASSWORD, "SCRAM-SHA-512")],
        ..BrokerOptions::default()
    })
}

/// `serve` with `args` must exit on its own, unsuccessfully; its output.
async fn refused_start(data_dir: &Path, args: &[String]) -> String {
    let mut command = vec![
        "serve".to_owned(),
        "--data-dir".to_owned(),
        data_dir.display().to_string(),
        "--listen".to_owned(),
        free_address().to_string(),
    ];
    command.extend(args.iter().cloned());
    let output = run(&command, Duration::from_secs(60)).await;
    assert!(
        !output.status.success(),
        "serve started with settings that cannot work: {}",
        describe(&output)
    );
    describe(&output)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_appends_projects_and_checks_through_tls_with_a_scram_login() {
    let Some(broker) = secured_broker() else {
        return;
    };
    let dir = tempfile::tempdir().expect("temporary directory");
    let args = secure_log_args(
        &broker,
        dir.path(),
        "secured",
        &broker.ca.ca_certificate(),
        PASSWORD,
    );
    let ledger = Ledger::serve(&dir.path().join("data"), &args, &[]).await;

    let mut events = car_dealer(ORG);
    events.push(car_sale(
        ORG,
        "cust-42",
        "jo@example.com",
        "2026-03-01T14:30:00Z",
    ));
    let appended = ledger
        .post_ok("/v1/events", &json!({ "events": events }))
        .await;
    let decision = ledger
        .post_ok(
            "/v1/checks",
            &servicing_email(ORG, "cust-42", "jo@example.com", positions(&appended)),
        )
        .await;
    assert_eq!(decision["allowed"], json!(true), "{decision}");
    assert_eq!(
        decision["lawfulBasis"],
        json!("LAWFUL_BASIS_SOFT_OPT_IN"),
        "{decision}"
    );

    // The password never reaches the log output.
    assert!(
        !ledger.output_tail().contains(PASSWORD),
        "the password was logged"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_stops_startup_naming_the_credentials() {
    let Some(broker) = secured_broker() else {
        return;
    };
    let dir = tempfile::tempdir().expect("temporary directory");
    let args = secure_log_args(
        &broker,
        dir.path(),
        "wrongpw",
        &broker.ca.ca_certificate(),
        "not the password",
    );
    let output = refused_start(&dir.path().join("data"), &args).await;
    assert!(output.contains("sasl.password"), "{output}");
    assert!(!output.contains("not the password"), "{output}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_ca_stops_startup_naming_the_ca_setting() {
    let Some(broker) = secured_broker() else {
        return;
    };
    let dir = tempfile::tempdir().expect("temporary directory");
    let other = TestCa::generate().expect("another CA");
    let args = secure_log_args(
        &broker,
        dir.path(),
        "wrongca",
        &other.ca_certificate(),
        PASSWORD,
    );
    let output = refused_start(&dir.path().join("data"), &args).await;
    assert!(output.contains("ssl.ca.location"), "{output}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mechanism_the_broker_does_not_offer_stops_startup_naming_it() {
    let Some(broker) = secured_broker() else {
        return;
    };
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut args = secure_log_args(
        &broker,
        dir.path(),
        "mech",
        &broker.ca.ca_certificate(),
        PASSWORD,
    );
    // tansu 0.6 offers SCRAM only.
    args.extend([
        "--kafka-setting".to_owned(),
        "sasl.mechanisms=PLAIN".to_owned(),
    ]);
    let output = refused_start(&dir.path().join("data"), &args).await;
    assert!(output.contains("sasl.mechanisms"), "{output}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secret_given_as_a_flag_is_refused_before_anything_starts() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let output = refused_start(
        &dir.path().join("data"),
        &[
            "--kafka-brokers".to_owned(),
            "127.0.0.1:9".to_owned(),
            "--kafka-setting".to_owned(),
            "sasl.password=hunter2".to_owned(),
        ],
    )
    .await;
    assert!(output.contains("--kafka-secrets-file"), "{output}");
    assert!(!output.contains("hunter2"), "{output}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secrets_file_others_can_read_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("temporary directory");
    let secrets = dir.path().join("kafka.secrets");
    std::fs::write(&secrets, "sasl.password=x\n").expect("write");
    std::fs::set_permissions(&secrets, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let output = refused_start(
        &dir.path().join("data"),
        &[
            "--kafka-brokers".to_owned(),
            "127.0.0.1:9".to_owned(),
            "--kafka-secrets-file".to_owned(),
            secrets.display().to_string(),
        ],
    )
    .await;
    assert!(output.contains("chmod 600"), "{output}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_talks_to_a_ledger_behind_https() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let ledger = Ledger::serve(&dir.path().join("data"), &[], &[]).await;
    let mut events = car_dealer(ORG);
    events.push(car_sale(
        ORG,
        "cust-7",
        "jo@example.com",
        "2026-03-01T14:30:00Z",
    ));
    let appended = ledger
        .post_ok("/v1/events", &json!({ "events": events }))
        .await;
    ledger.wait_caught_up(Duration::from_secs(30)).await;
    assert_eq!(appended["appended"].as_array().map(Vec::len), Some(3));

    let ca = TestCa::generate().expect("a CA");
    let plain: std::net::SocketAddr = ledger
        .base
        .trim_start_matches("http://")
        .parse()
        .expect("the ledger's address");
    let terminator = TlsTerminator::start(free_address(), plain, &ca).expect("stunnel");
    let https = format!("https://{}", terminator.address());
    let check = |extra: &[&str]| {
        let mut args: Vec<String> = [
            "check",
            "--server",
            &https,
            "--org",
            ORG,
            "--subject",
            "cust-7",
            "--channel",
            "email",
            "--category",
            "servicing",
            "--at",
            "2026-06-01T10:00:00Z",
            "--json",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        args.extend(extra.iter().map(|s| (*s).to_owned()));
        args
    };

    let trusted = run(
        &check(&["--ca-cert", &ca.ca_certificate().display().to_string()]),
        Duration::from_secs(60),
    )
    .await;
    assert!(trusted.status.success(), "{}", describe(&trusted));
    let decision: Value = serde_json::from_slice(&trusted.stdout).expect("a JSON decision");
    assert_eq!(decision["allowed"], json!(true), "{decision}");

    // Without the private CA the certificate is not trusted, and the error says so.
    let untrusted = run(&check(&[]), Duration::from_secs(60)).await;
    assert!(!untrusted.status.success(), "{}", describe(&untrusted));
    let text = describe(&untrusted);
    assert!(text.contains("certificate"), "{text}");
}
