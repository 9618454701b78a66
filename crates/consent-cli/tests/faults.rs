//! Disk faults under the real `consent-ledger serve` on its embedded log,
//! injected with libfiu's POSIX preload (Debian `fiu-utils`: `fiu-run -x`
//! starts the binary with the failure points, `fiu-ctrl` turns one on while
//! it runs).
//!
//! The embedded log appends with one `pwrite` and one `fdatasync` per
//! partition, and rolls a failed append back with `ftruncate` and `fsync`.
//! Each scenario turns one fault on after some acknowledged appends, and
//! checks what an operator relies on:
//!
//! * appends during the fault are refused (503), never acknowledged;
//! * `/healthz` turns 503 naming the partition and the fault, and
//!   `/readyz` turns 503;
//! * the test, playing the orchestrator, restarts the instance when
//!   `/healthz` fails (kill, start again, the fault gone with the old
//!   process): it comes back healthy and ready with no one's help;
//! * every event acknowledged before the fault and after the restart is in
//!   the history, counted, and no refused event was acknowledged.
//!
//! fiu-utils is a test requirement (.ci/install-deps.sh installs it): these
//! tests fail, not skip, without it.

mod support;

use reqwest::StatusCode;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::{free_address, BIN};

const ORG: &str = "acme-cycles";
/// Appends acknowledged before the fault, refused during it, and
/// acknowledged after the restart.
const BEFORE: usize = 12;
const DURING: usize = 6;
const AFTER: usize = 12;

/// How a fault shows in `/healthz`.
struct Scenario {
    name: &'static str,
    /// The `fiu-ctrl` command that turns the fault on.
    enable: &'static str,
    /// The fault kind `/healthz` must report.
    kind: &'static str,
    /// Text the fault's error must contain.
    error: &'static str,
}

#[tokio::test]
async fn a_failing_fsync_fences_the_partition_and_a_restart_recovers_it() {
    run(Scenario {
        name: "fsync",
        // fdatasync fails the append, then fsync fails its rollback: the
        // partition is fenced until the log is reopened.
        enable: "enable name=posix/io/sync/*,failinfo=5",
        kind: "log_partition_fenced",
        error: "Input/output error",
    })
    .await;
}

#[tokio::test]
async fn a_failing_write_makes_the_instance_unhealthy_and_a_restart_recovers_it() {
    run(Scenario {
        name: "write",
        enable: "enable name=posix/io/rw/pwrite,failinfo=5",
        kind: "log_partition_failing",
        error: "Input/output error",
    })
    .await;
}

#[tokio::test]
async fn a_full_disk_makes_the_instance_unhealthy_and_a_restart_recovers_it() {
    run(Scenario {
        name: "enospc",
        enable: "enable name=posix/io/rw/pwrite,failinfo=28",
        kind: "log_partition_failing",
        error: "No space left on device",
    })
    .await;
}

async fn run(scenario: Scenario) {
    let fiu_run = tool("fiu-run");
    let fiu_ctrl = tool("fiu-ctrl");
    let dir = tempfile::tempdir().expect("temp dir");
    let mut ledger = Instance::start(dir.path(), &fiu_run);
    ledger.wait_healthy().await;
    ledger.post_ok("/v1/events", &organisation()).await;

    let mut acknowledged = Vec::new();
    for n in 0..BEFORE {
        let subject = format!("before-{n}");
        let (status, id) = ledger.append_sale(&subject).await;
        assert_eq!(status, StatusCode::OK, "{}", ledger.output());
        acknowledged.push((subject, id));
    }
    // The view has everything and sled has flushed it: the fault meets the
    // log's appends only.
    ledger.wait_ready().await;
    tokio::time::sleep(Duration::from_millis(1200)).await;

    ledger.control(&fiu_ctrl, scenario.enable);
    let mut refused = Vec::new();
    for n in 0..DURING {
        let subject = format!("during-{n}");
        let (status, id) = ledger.append_sale(&subject).await;
        assert_eq!(
            status,
            StatusCode::SERVICE_UNAVAILABLE,
            "{}: an append during the fault must be refused, not acknowledged",
            scenario.name
        );
        refused.push((subject, id));
    }

    // The orchestrator's view: liveness fails, naming the partition.
    let health = ledger.wait_unhealthy().await;
    let faults = health["faults"].as_array().expect("faults");
    let fault = faults
        .iter()
        .find(|f| f["kind"] == json!(scenario.kind))
        .unwrap_or_else(|| panic!("{}: no {} fault in {health}", scenario.name, scenario.kind));
    let partition = fault["partition"].as_str().expect("a partition");
    assert!(
        partition.starts_with("faults."),
        "{}: {health}",
        scenario.name
    );
    assert!(
        fault["error"]
            .as_str()
            .is_some_and(|e| e.contains(scenario.error)),
        "{}: {health}",
        scenario.name
    );
    assert_eq!(fault["restartDue"], json!(true), "{health}");
    let (status, readiness) = ledger.get("/readyz").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{readiness}");
    assert!(
        readiness["reason"]
            .as_str()
            .is_some_and(|r| r.contains(partition)),
        "{readiness}"
    );

    // Restart: kill, and start again on the same data, the fault gone.
    ledger.kill();
    let mut ledger = Instance::start(dir.path(), &fiu_run);
    ledger.wait_healthy().await;
    ledger.wait_ready().await;
    for n in 0..AFTER {
        let subject = format!("after-{n}");
        let (status, id) = ledger.append_sale(&subject).await;
        assert_eq!(status, StatusCode::OK, "{}", ledger.output());
        acknowledged.push((subject, id));
    }
    ledger.wait_ready().await;

    // Every acknowledged event is in the history, once.
    let mut found = 0;
    for (subject, id) in &acknowledged {
        let ids = ledger.history_ids(subject).await;
        assert_eq!(
            ids.as_slice(),
            std::slice::from_ref(id),
            "{}: acknowledged event {id} of {subject}",
            scenario.name
        );
        found += 1;
    }
    assert_eq!(found, BEFORE + AFTER);
    // A refused append may have been stored (the log's contract: not
    // acknowledged, perhaps stored), but only as the event that was sent.
    for (subject, id) in &refused {
        let ids = ledger.history_ids(subject).await;
        assert!(
            ids.is_empty() || ids.as_slice() == std::slice::from_ref(id),
            "{}: refused event {id} of {subject}: {ids:?}",
            scenario.name
        );
    }
}

/// The path of a fiu-utils tool; fails (never skips) without it.
fn tool(name: &str) -> PathBuf {
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| {
            panic!(
                "`{name}` is not installed: these fault-injection tests need Debian's fiu-utils \
                 (run .ci/install-deps.sh, or apt-get install fiu-utils)"
            )
        })
}

fn organisation() -> Value {
    json!({ "events": [
        {
            "organisationId": ORG,
            "occurredAt": "2024-01-01T00:00:00Z",
            "organisationRegistered": { "name": "Acme Cycles Ltd", "kind": "ORGANISATION_KIND_COMMERCIAL" }
        },
        {
            "organisationId": ORG,
            "occurredAt": "2024-01-01T00:00:00Z",
            "productCategoriesDefined": { "categories": [ { "id": "bikes", "name": "Bicycles" } ] }
        }
    ] })
}

/// A sale with an id of its own, so a refused one can be looked for.
fn sale(subject: &str, event_id: &str) -> Value {
    let mut sale = consent_testkit::json::bike_sale(subject, "2025-03-01T12:00:00Z");
    sale["eventId"] = json!(event_id);
    json!({ "events": [sale] })
}

/// `consent-ledger serve` on the embedded log under `fiu-run -x`, with
/// remote control through named pipes in its data directory's parent.
struct Instance {
    child: Option<Child>,
    base: String,
    fifo_prefix: PathBuf,
    output: PathBuf,
    client: reqwest::Client,
}

impl Instance {
    fn start(root: &Path, fiu_run: &Path) -> Self {
        let listen = free_address();
        let fifo_prefix = root.join("fiu-ctrl");
        let output = root.join("serve.out");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&output)
            .expect("output file");
        let child = Command::new(fiu_run)
            .arg("-x")
            .arg("-f")
            .arg(&fifo_prefix)
            .arg(BIN)
            .arg("serve")
            .arg("--data-dir")
            .arg(root.join("data"))
            .args(["--listen", &listen.to_string()])
            .args(["--topic-prefix", "faults", "--partitions", "2"])
            .args(["--unhealthy-after-secs", "1"])
            .env("CONSENT_LOG", "info")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("dup"))
            .stderr(log)
            .spawn()
            .expect("run fiu-run consent-ledger serve");
        Self {
            child: Some(child),
            base: format!("http://{listen}"),
            fifo_prefix,
            output,
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(20))
                .build()
                .expect("client"),
        }
    }

    fn output(&self) -> String {
        std::fs::read_to_string(&self.output).unwrap_or_default()
    }

    /// Runs one `fiu-ctrl` command against this process (by its id).
    fn control(&self, fiu_ctrl: &Path, command: &str) {
        let pid = self.child.as_ref().expect("running").id().to_string();
        let status = Command::new(fiu_ctrl)
            .arg("-f")
            .arg(&self.fifo_prefix)
            .args(["-c", command, &pid])
            .status()
            .expect("run fiu-ctrl");
        assert!(status.success(), "fiu-ctrl -c {command:?} {pid}: {status}");
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}\n{}", self.output()));
        let status = response.status();
        (status, response.json().await.expect("JSON"))
    }

    async fn post_ok(&self, path: &str, body: &Value) -> Value {
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .json(body)
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST {path}: {e}"));
        assert_eq!(response.status(), StatusCode::OK, "{}", self.output());
        response.json().await.expect("JSON")
    }

    /// Appends a sale of `subject`; its status and event id.
    async fn append_sale(&self, subject: &str) -> (StatusCode, String) {
        let id = uuid::Uuid::now_v7().to_string();
        let response = self
            .client
            .post(format!("{}/v1/events", self.base))
            .json(&sale(subject, &id))
            .send()
            .await
            .unwrap_or_else(|e| panic!("append: {e}\n{}", self.output()));
        (response.status(), id)
    }

    /// The event ids of `subject`'s history.
    async fn history_ids(&self, subject: &str) -> Vec<String> {
        let (status, history) = self
            .get(&format!(
                "/v1/organisations/{ORG}/subjects/{subject}/history"
            ))
            .await;
        assert_eq!(status, StatusCode::OK, "{history}");
        history["events"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| e["event"]["eventId"].as_str().map(str::to_owned))
            .collect()
    }

    async fn wait_healthy(&mut self) {
        self.wait_for("/healthz", StatusCode::OK).await;
    }

    async fn wait_ready(&mut self) {
        self.wait_for("/readyz", StatusCode::OK).await;
    }

    /// Polls `/healthz` until it fails; its body.
    async fn wait_unhealthy(&mut self) -> Value {
        self.wait_for("/healthz", StatusCode::SERVICE_UNAVAILABLE)
            .await
    }

    async fn wait_for(&mut self, path: &str, expected: StatusCode) -> Value {
        let started = Instant::now();
        loop {
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                panic!("serve exited with {status}:\n{}", self.output());
            }
            if let Ok(response) = self
                .client
                .get(format!("{}{path}", self.base))
                .timeout(Duration::from_secs(5))
                .send()
                .await
            {
                if response.status() == expected {
                    return response.json().await.expect("JSON");
                }
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "{path} did not answer {expected} within 30 s:\n{}",
                self.output()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.kill();
    }
}
