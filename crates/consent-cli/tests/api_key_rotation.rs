//! API keys rotated without a restart, on the real binary: a key created
//! while `serve` runs is accepted, a revoked one refused, within the reload
//! interval; a broken key file keeps the keys in force; SIGHUP reloads at
//! once.

mod support;

use serde_json::json;
use std::path::Path;
use std::time::{Duration, Instant};
use support::*;

const ORG: &str = "acme-motors";

/// `consent-ledger api-key create` for `ORG` in `data_dir`: the new key.
async fn create_key(data_dir: &Path) -> String {
    let output = run(
        &[
            "api-key".to_owned(),
            "create".to_owned(),
            "--data-dir".to_owned(),
            data_dir.display().to_string(),
            "--organisation".to_owned(),
            ORG.to_owned(),
        ],
        Duration::from_secs(30),
    )
    .await;
    assert!(output.status.success(), "{}", describe(&output));
    String::from_utf8(output.stdout)
        .expect("UTF-8 key")
        .trim()
        .to_owned()
}

/// `consent-ledger api-key revoke` of the key `key` (its id is the first
/// 12 hex digits of its SHA-256, as `list` shows).
async fn revoke_key(data_dir: &Path, key: &str) {
    let listed = run(
        &[
            "api-key".to_owned(),
            "list".to_owned(),
            "--data-dir".to_owned(),
            data_dir.display().to_string(),
        ],
        Duration::from_secs(30),
    )
    .await;
    assert!(listed.status.success(), "{}", describe(&listed));
    let hash = consent_auth::KeyHash::of(key).id();
    assert!(
        String::from_utf8_lossy(&listed.stdout).contains(&hash),
        "list shows the key's id {hash}"
    );
    let revoked = run(
        &[
            "api-key".to_owned(),
            "revoke".to_owned(),
            "--data-dir".to_owned(),
            data_dir.display().to_string(),
            hash,
        ],
        Duration::from_secs(30),
    )
    .await;
    assert!(revoked.status.success(), "{}", describe(&revoked));
}

/// The status of a keyed check of `ORG`'s subject.
async fn check_status(ledger: &Ledger, key: &str) -> u16 {
    ledger
        .client
        .post(format!("{}/v1/checks", ledger.base))
        .bearer_auth(key)
        .json(
            &json!({"organisationId": ORG, "subjectId": "cust-1", "channel": "CHANNEL_EMAIL",
                      "purpose": "PURPOSE_COMMERCIAL", "productCategoryId": "cars",
                      "messageClass": "MESSAGE_CLASS_MARKETING", "promotionalContent": true,
                      "optOutIncluded": true, "senderIdentified": true,
                      "at": "2026-06-01T10:00:00Z"}),
        )
        .send()
        .await
        .expect("the ledger answers")
        .status()
        .as_u16()
}

/// Waits until a check with `key` answers `want`.
async fn until_status(ledger: &Ledger, key: &str, want: u16, within: Duration) {
    let started = Instant::now();
    loop {
        let status = check_status(ledger, key).await;
        if status == want {
            return;
        }
        assert!(
            started.elapsed() < within,
            "a check with the key still answers {status}, not {want}, after {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_are_added_and_revoked_while_serving() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let data = dir.path().join("data");
    let first = create_key(&data).await;
    let ledger = Ledger::serve(&data, &[], &["--api-keys-reload-secs", "1"]).await;
    assert_eq!(check_status(&ledger, &first).await, 200);

    let second = create_key(&data).await;
    until_status(&ledger, &second, 200, Duration::from_secs(15)).await;

    revoke_key(&data, &first).await;
    until_status(&ledger, &first, 401, Duration::from_secs(15)).await;
    assert_eq!(check_status(&ledger, &second).await, 200);

    // A key file that is not valid (a half-written edit) keeps the keys in force.
    let file = data.join("api-keys.toml");
    let good = std::fs::read(&file).expect("the key file");
    std::fs::write(&file, b"[[keys]]\nsha256 = \"not hex\"\n").expect("break the file");
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(check_status(&ledger, &second).await, 200);
    assert_eq!(check_status(&ledger, &first).await, 401);
    std::fs::write(&file, good).expect("restore the file");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_reloads_the_key_file_at_once() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let data = dir.path().join("data");
    let first = create_key(&data).await;
    // No schedule: only SIGHUP reads the file again.
    let ledger = Ledger::serve(&data, &[], &["--api-keys-reload-secs", "0"]).await;
    let second = create_key(&data).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        check_status(&ledger, &second).await,
        401,
        "without a schedule the file is not read again by itself"
    );
    let pid = ledger.pid().expect("serve runs");
    let signalled = std::process::Command::new("kill")
        .args(["-HUP", &pid.to_string()])
        .status()
        .expect("kill -HUP");
    assert!(signalled.success());
    until_status(&ledger, &second, 200, Duration::from_secs(10)).await;
    assert_eq!(check_status(&ledger, &first).await, 200);
}
