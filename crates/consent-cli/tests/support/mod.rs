//! The real `consent-ledger` binary on a real Kafka-protocol broker (tansu,
//! started per test by `consent_kafka::test_support::TestBroker`): serve
//! processes on free loopback ports, killed and restarted at will, and the
//! HTTP calls a client makes.
#![allow(dead_code)] // each test binary uses a different subset

pub mod deployed;
pub mod otlp_receiver;
pub mod webhook_receiver;

use consent_kafka::test_support::TestBroker;
// The kit's JSON stories and readings; each test binary uses a subset.
#[allow(unused_imports)]
pub use consent_testkit::json::{
    car_dealer, car_sale, email_opt_out, mobile_recorded, position_parts, positions,
    reasons_against, servicing_email,
};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::fs::OpenOptions;
use std::io::{Read, Seek, SeekFrom};
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_consent-ledger");
/// Partitions per topic in these tests.
pub const PARTITIONS: u32 = 4;
/// How long a serve process may take to answer `/healthz`.
const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// The options naming the log: the broker, a topic prefix of the test's
/// own, small partition count, replication 1 (one broker), and a short
/// delivery timeout so that appends to a stopped broker fail fast.
pub fn log_args(broker: &TestBroker, prefix: &str) -> Vec<String> {
    [
        "--kafka-brokers",
        &broker.bootstrap(),
        "--topic-prefix",
        prefix,
        "--partitions",
        &PARTITIONS.to_string(),
        "--kafka-replication",
        "1",
        "--kafka-delivery-timeout-secs",
        "3",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect()
}

/// A loopback address nothing listens on right now.
pub fn free_address() -> SocketAddr {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind a free port");
    listener.local_addr().expect("local address")
}

/// One `consent-ledger serve` process, restartable on the same address and
/// data directory. Killed (SIGKILL) when dropped.
pub struct Ledger {
    pub base: String,
    pub data_dir: PathBuf,
    listen: SocketAddr,
    args: Vec<String>,
    output: PathBuf,
    child: Option<Child>,
    pub client: reqwest::Client,
    /// Environment variables the process gets beyond the test's own.
    env: Vec<(String, String)>,
}

impl Ledger {
    /// Starts `consent-ledger serve` on `data_dir` with the log options
    /// and `extra` options, and waits until it answers.
    pub async fn serve(data_dir: &Path, log_args: &[String], extra: &[&str]) -> Self {
        let mut ledger = Self::spawn(data_dir, log_args, extra);
        ledger.wait_ready().await;
        ledger
    }

    /// Starts the process without waiting for it.
    pub fn spawn(data_dir: &Path, log_args: &[String], extra: &[&str]) -> Self {
        Self::spawn_with_env(data_dir, log_args, extra, &[])
    }

    /// [`Ledger::spawn`] with environment variables (e.g. keys).
    pub fn spawn_with_env(
        data_dir: &Path,
        log_args: &[String],
        extra: &[&str],
        env: &[(&str, &str)],
    ) -> Self {
        Self::spawn_at(free_address(), data_dir, log_args, extra, env)
    }

    /// [`Ledger::spawn_with_env`] listening on `listen` (an address a
    /// client was given before the ledger started).
    pub fn spawn_at(
        listen: SocketAddr,
        data_dir: &Path,
        log_args: &[String],
        extra: &[&str],
        env: &[(&str, &str)],
    ) -> Self {
        let mut args = vec![
            "serve".to_owned(),
            "--data-dir".to_owned(),
            data_dir.display().to_string(),
            "--listen".to_owned(),
            listen.to_string(),
        ];
        args.extend(log_args.iter().cloned());
        args.extend(extra.iter().map(|s| (*s).to_owned()));
        let mut output = data_dir.as_os_str().to_owned();
        output.push(".out");
        let mut ledger = Self {
            base: format!("http://{listen}"),
            data_dir: data_dir.to_owned(),
            listen,
            args,
            output: PathBuf::from(output),
            child: None,
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .expect("HTTP client"),
            env: env
                .iter()
                .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
                .collect(),
        };
        ledger.start_process();
        ledger
    }

    fn start_process(&mut self) {
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.output)
            .expect("open the ledger's output file");
        let log_err = log.try_clone().expect("duplicate the output handle");
        let child = Command::new(BIN)
            .args(&self.args)
            .env("CONSENT_LOG", "info")
            .envs(self.env.iter().map(|(name, value)| (name, value)))
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .spawn()
            .expect("run consent-ledger serve");
        self.child = Some(child);
    }

    /// The serve process's id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Waits until `/healthz` answers; panics with the process's output if
    /// it exits or does not answer in time.
    pub async fn wait_ready(&mut self) {
        let started = Instant::now();
        loop {
            if let Some(status) = self.exit_status() {
                panic!(
                    "consent-ledger serve exited with {status} before answering; its output:\n{}",
                    self.output_tail()
                );
            }
            let answered = self
                .client
                .get(format!("{}/healthz", self.base))
                .timeout(Duration::from_millis(500))
                .send()
                .await
                .is_ok_and(|r| r.status() == StatusCode::OK);
            if answered {
                return;
            }
            assert!(
                started.elapsed() < READY_TIMEOUT,
                "consent-ledger serve did not answer on {} within {READY_TIMEOUT:?}; its output:\n{}",
                self.base,
                self.output_tail()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The exit status, once the process has exited.
    pub fn exit_status(&mut self) -> Option<std::process::ExitStatus> {
        let child = self.child.as_mut()?;
        child.try_wait().expect("check on the ledger process")
    }

    /// Waits (bounded) for the process to exit by itself, e.g. after a
    /// refusal to start.
    pub async fn wait_exit(&mut self, within: Duration) -> std::process::ExitStatus {
        let started = Instant::now();
        loop {
            if let Some(status) = self.exit_status() {
                return status;
            }
            assert!(
                started.elapsed() < within,
                "consent-ledger serve still running after {within:?}; its output:\n{}",
                self.output_tail()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// kill -9: no shutdown, no flush.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            // SIGKILL on Unix; fails only if it already exited.
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the process again on the same address and data directory and
    /// waits until it answers.
    pub async fn restart(&mut self) {
        self.kill();
        self.start_process();
        self.wait_ready().await;
    }

    /// The last lines the process wrote (for failure messages).
    pub fn output_tail(&self) -> String {
        tail(&self.output)
    }

    pub async fn post(&self, path: &str, body: &Value) -> reqwest::Result<(StatusCode, Value)> {
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .json(body)
            .send()
            .await?;
        read(response).await
    }

    pub async fn get(&self, path_and_query: &str) -> reqwest::Result<(StatusCode, Value)> {
        let response = self
            .client
            .get(format!("{}{path_and_query}", self.base))
            .send()
            .await?;
        read(response).await
    }

    /// POSTs and expects a 200.
    pub async fn post_ok(&self, path: &str, body: &Value) -> Value {
        let (status, answer) = self
            .post(path, body)
            .await
            .unwrap_or_else(|error| panic!("POST {path}: {error}"));
        assert_eq!(status, StatusCode::OK, "POST {path} {body}: {answer}");
        answer
    }

    /// A ledger serving the SMS webhook with `secret`, the receiving
    /// number `to` (any spelling the ledger reads) belonging to
    /// `organisation`.
    pub async fn serve_sms(data_dir: &Path, secret: &str, to: &str, organisation: &str) -> Ledger {
        Ledger::serve(
            data_dir,
            &[],
            &[
                "--sms-webhook-secret",
                secret,
                "--sms-number",
                &format!("{to}={organisation}"),
            ],
        )
        .await
    }

    /// An inbound SMS as a provider posts it to the SMS webhook: the form
    /// `body`, signed with `secret` (`--sms-webhook-secret`); expects 200.
    pub async fn post_sms(&self, secret: &str, body: &str) -> Value {
        let response = self
            .client
            .post(format!("{}/v1/webhooks/sms", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .header(
                "x-consent-signature",
                consent_intake::sign_webhook(secret.as_bytes(), body.as_bytes()),
            )
            .body(body.to_owned())
            .send()
            .await
            .expect("POST /v1/webhooks/sms");
        assert_eq!(response.status(), StatusCode::OK, "SMS webhook {body}");
        response.json().await.expect("JSON answer")
    }

    /// GETs and expects a 200.
    pub async fn get_ok(&self, path_and_query: &str) -> Value {
        let (status, answer) = self
            .get(path_and_query)
            .await
            .unwrap_or_else(|error| panic!("GET {path_and_query}: {error}"));
        assert_eq!(status, StatusCode::OK, "GET {path_and_query}: {answer}");
        answer
    }

    /// Waits until `/v1/status` says the log is reachable and the view has
    /// applied everything in it.
    pub async fn wait_caught_up(&self, within: Duration) -> Value {
        let started = Instant::now();
        loop {
            let status = self.get_ok("/v1/status").await;
            if status["logReachable"] == json!(true) && status["recordsBehind"] == json!(0) {
                return status;
            }
            assert!(
                started.elapsed() < within,
                "the view did not catch up with the log within {within:?}: {status}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for Ledger {
    fn drop(&mut self) {
        self.kill();
    }
}

async fn read(response: reqwest::Response) -> reqwest::Result<(StatusCode, Value)> {
    let status = response.status();
    let text = response.text().await?;
    let body = serde_json::from_str(&text)
        .unwrap_or_else(|error| panic!("a {status} answer that is not JSON ({error}): {text:?}"));
    Ok((status, body))
}

fn tail(path: &Path) -> String {
    const TAIL: u64 = 6000;
    let Ok(mut file) = std::fs::File::open(path) else {
        return format!("(no output at {})", path.display());
    };
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let _ = file.seek(SeekFrom::Start(len.saturating_sub(TAIL)));
    let mut bytes = Vec::new();
    let _ = file.read_to_end(&mut bytes);
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Runs a `consent-ledger` command to completion (bounded by `within`).
pub async fn run(args: &[String], within: Duration) -> Output {
    let child = Command::new(BIN)
        .args(args)
        .env("CONSENT_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run consent-ledger");
    let id = child.id();
    let waited = tokio::time::timeout(
        within,
        tokio::task::spawn_blocking(move || child.wait_with_output()),
    )
    .await;
    match waited {
        Ok(output) => output
            .expect("the waiting task")
            .expect("consent-ledger's output"),
        Err(_) => {
            // Only the process this call started, by its id.
            let _ = Command::new("kill").args(["-9", &id.to_string()]).status();
            panic!(
                "`consent-ledger {}` did not finish within {within:?}",
                args.join(" ")
            )
        }
    }
}

/// Text of a finished command's stdout and stderr, for messages.
pub fn describe(output: &Output) -> String {
    format!(
        "{}\nstdout:\n{}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// The contact point of `subject`'s sale as `ledger`'s history of
/// `organisation` shows it (sealed values opened, or redacted).
pub async fn sale_contact(ledger: &Ledger, organisation: &str, subject: &str) -> Value {
    let history = ledger
        .get_ok(&format!(
            "/v1/organisations/{organisation}/subjects/{subject}/history"
        ))
        .await;
    history["events"]
        .as_array()
        .into_iter()
        .flatten()
        .find_map(|e| {
            let point = &e["event"]["saleRecorded"]["collection"]["contactPoint"];
            (!point.is_null()).then(|| point.clone())
        })
        .unwrap_or_else(|| panic!("no sale in {history}"))
}
