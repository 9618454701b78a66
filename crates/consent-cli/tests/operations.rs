//! The real `consent-ledger serve` binary on its embedded log, as an
//! operator runs it: settings from a config file under flags and the
//! environment, readiness, request ids, metrics, and a SIGTERM that loses
//! nothing acknowledged.

use reqwest::StatusCode;
use serde_json::{json, Value};
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_consent-ledger");
const ORG: &str = "acme-cycles";

fn free_address() -> SocketAddr {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind a free port");
    listener.local_addr().expect("local address")
}

/// One serve process; killed if still running when dropped.
struct Serve {
    child: Child,
    base: String,
    output: std::path::PathBuf,
}

impl Serve {
    fn spawn(args: &[&str], env: &[(&str, &str)], base: String, output: &Path) -> Self {
        let log = std::fs::File::create(output).expect("output file");
        let child = Command::new(BIN)
            .arg("serve")
            .args(args)
            .envs(env.iter().copied())
            .env("CONSENT_LOG", "info")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("dup"))
            .stderr(log)
            .spawn()
            .expect("run consent-ledger serve");
        Self {
            child,
            base,
            output: output.to_owned(),
        }
    }

    fn output(&self) -> String {
        std::fs::read_to_string(&self.output).unwrap_or_default()
    }

    async fn wait_ready(&mut self, client: &reqwest::Client) {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("check process") {
                panic!("serve exited with {status}:\n{}", self.output());
            }
            if let Ok(response) = client.get(format!("{}/readyz", self.base)).send().await {
                if response.status() == StatusCode::OK {
                    return;
                }
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "not ready within 30 s:\n{}",
                self.output()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Sends SIGTERM to this process (by its id) and waits, bounded, for it
    /// to exit.
    async fn terminate(&mut self, within: Duration) -> ExitStatus {
        let id = self.child.id().to_string();
        let sent = Command::new("kill")
            .args(["-TERM", &id])
            .status()
            .expect("kill");
        assert!(sent.success());
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("check process") {
                return status;
            }
            assert!(
                started.elapsed() < within,
                "still running {within:?} after SIGTERM:\n{}",
                self.output()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn sale(subject: &str) -> Value {
    consent_testkit::json::bike_sale(subject, "2025-03-01T12:00:00Z")
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

#[tokio::test]
async fn sigterm_under_load_exits_zero_and_keeps_every_acknowledged_event() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data_dir = dir.path().join("data");
    let address = free_address();
    let base = format!("http://{address}");
    // Settings from a file, one of them overridden by the environment.
    let config = dir.path().join("ledger.toml");
    std::fs::write(
        &config,
        format!(
            "listen = \"127.0.0.1:1\"\ndata_dir = {:?}\npartitions = 4\nshutdown_timeout_secs = 20\n",
            data_dir.display().to_string()
        ),
    )
    .expect("write config");
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .expect("client");
    let address_text = address.to_string();
    let config_text = config.display().to_string();
    let env = [
        ("CONSENT_CONFIG", config_text.as_str()),
        ("CONSENT_LISTEN", address_text.as_str()),
    ];
    let mut serve = Serve::spawn(&[], &env, base.clone(), &dir.path().join("1.out"));
    serve.wait_ready(&client).await;

    let response = client
        .post(format!("{base}/v1/events"))
        .header("x-request-id", "setup-1")
        .json(&organisation())
        .send()
        .await
        .expect("append the organisation");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["x-request-id"], "setup-1");

    // Writers append one event per request until the server stops them.
    let mut writers = Vec::new();
    for writer in 0..4 {
        let client = client.clone();
        let base = base.clone();
        writers.push(tokio::spawn(async move {
            let mut acknowledged = Vec::new();
            for n in 0..500 {
                let body = json!({ "events": [sale(&format!("w{writer}-{n}"))] });
                let Ok(response) = client
                    .post(format!("{base}/v1/events"))
                    .json(&body)
                    .send()
                    .await
                else {
                    break;
                };
                if response.status() != StatusCode::OK {
                    break;
                }
                let Ok(answer) = response.json::<Value>().await else {
                    break;
                };
                let id = answer["appended"][0]["eventId"].as_str().expect("event id");
                acknowledged.push((format!("w{writer}-{n}"), id.to_owned()));
            }
            acknowledged
        }));
    }
    tokio::time::sleep(Duration::from_millis(400)).await;
    let status = serve.terminate(Duration::from_secs(25)).await;
    assert!(status.success(), "exit {status}:\n{}", serve.output());
    let mut acknowledged = Vec::new();
    for writer in writers {
        acknowledged.extend(writer.await.expect("writer task"));
    }
    assert!(
        acknowledged.len() > 4,
        "the writers got too few appends in before the stop: {}",
        acknowledged.len()
    );
    let output = serve.output();
    assert!(output.contains("consent ledger stopped"), "{output}");
    drop(serve);

    // Restarted on the same data: every acknowledged event is there.
    let mut serve = Serve::spawn(&[], &env, base.clone(), &dir.path().join("2.out"));
    serve.wait_ready(&client).await;
    for (subject, event_id) in &acknowledged {
        let history: Value = client
            .get(format!(
                "{base}/v1/organisations/{ORG}/subjects/{subject}/history"
            ))
            .send()
            .await
            .expect("history")
            .json()
            .await
            .expect("history JSON");
        let ids: Vec<&str> = history["events"]
            .as_array()
            .map(|events| {
                events
                    .iter()
                    .filter_map(|e| e["event"]["eventId"].as_str())
                    .collect()
            })
            .unwrap_or_default();
        assert!(
            ids.contains(&event_id.as_str()),
            "acknowledged event {event_id} of {subject} is missing after the restart: {history}"
        );
    }

    // The metrics count what this process saw, and the projection.
    let metrics = client
        .get(format!("{base}/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("metrics text");
    assert!(
        metrics.contains("consent_projection_lag_records{"),
        "{metrics}"
    );
    assert!(
        metrics.contains("consent_view_applied_offset{"),
        "{metrics}"
    );
    assert!(
        metrics.contains("consent_http_request_duration_seconds_bucket{"),
        "{metrics}"
    );
    let status = serve.terminate(Duration::from_secs(25)).await;
    assert!(status.success());
}

#[tokio::test]
async fn a_flag_beats_the_environment_which_beats_the_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (flag, env, file) = (free_address(), free_address(), free_address());
    let config = dir.path().join("ledger.toml");
    let data_dir = dir.path().join("data").display().to_string();
    std::fs::write(
        &config,
        format!("listen = \"{file}\"\ndata_dir = {data_dir:?}\n"),
    )
    .expect("write config");
    let client = reqwest::Client::new();
    let config = config.display().to_string();
    let (flag_text, env_text) = (flag.to_string(), env.to_string());

    type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], SocketAddr);
    let cases: [Case; 3] = [
        (
            &["--config", &config, "--listen", &flag_text],
            &[("CONSENT_LISTEN", &env_text)],
            flag,
        ),
        (
            &["--config", &config],
            &[("CONSENT_LISTEN", &env_text)],
            env,
        ),
        (&["--config", &config], &[], file),
    ];
    for (n, (args, env, expected)) in cases.into_iter().enumerate() {
        let output = dir.path().join(format!("{n}.out"));
        let mut serve = Serve::spawn(args, env, format!("http://{expected}"), &output);
        serve.wait_ready(&client).await;
        let status = serve.terminate(Duration::from_secs(20)).await;
        assert!(status.success());
    }

    // A mistyped key is refused, naming it.
    std::fs::write(dir.path().join("bad.toml"), "listn = \"127.0.0.1:1\"\n").expect("write");
    let bad = dir.path().join("bad.toml").display().to_string();
    let output = Command::new(BIN)
        .args(["serve", "--config", &bad])
        .output()
        .expect("run");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("listn"), "{stderr}");
}
