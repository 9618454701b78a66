//! Running what a deploy file says: a command line and an environment read
//! from docker-compose.yml or the Kubernetes manifests, with the
//! container's paths and ports mapped to the test's own, and nothing of
//! the test runner's environment but a PATH on which `consent-ledger` is
//! the binary under test.

use reqwest::StatusCode;
use std::collections::BTreeMap;
use std::fs::File;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The repository's `deploy/` directory.
pub fn deploy_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy")
}

/// How the container's world maps onto the test's: paths (a mount point
/// and everything under it) and ports.
#[derive(Default)]
pub struct Mapping {
    paths: Vec<(String, PathBuf)>,
    ports: Vec<(u16, u16)>,
}

impl Mapping {
    /// Maps the container path `inside` (a mount point) to `outside`.
    pub fn path(&mut self, inside: &str, outside: &Path) {
        self.paths
            .push((inside.trim_end_matches('/').to_owned(), outside.to_owned()));
        // Longest first: a mount inside another mount wins.
        self.paths
            .sort_by_key(|(inside, _)| std::cmp::Reverse(inside.len()));
    }

    /// Maps the container port `inside` to the free loopback port `outside`.
    pub fn port(&mut self, inside: u16, outside: u16) {
        self.ports.push((inside, outside));
    }

    pub fn host_port(&self, inside: u16) -> Option<u16> {
        self.ports
            .iter()
            .find(|(port, _)| *port == inside)
            .map(|(_, outside)| *outside)
    }

    /// The text with every mapped path and `:PORT` rewritten, in one pass
    /// (a host path is never mapped again, even when it lies under a
    /// mapped container path such as `/tmp`).
    pub fn apply(&self, text: &str) -> String {
        let mut mapped = String::with_capacity(text.len());
        let mut at = 0;
        while at < text.len() {
            let rest = &text[at..];
            let starts_path = text[..at]
                .chars()
                .last()
                .is_none_or(|c| !(c.is_ascii_alphanumeric() || "/._-".contains(c)));
            let found = self.paths.iter().find(|(inside, _)| {
                starts_path
                    && rest.starts_with(inside.as_str())
                    && rest[inside.len()..]
                        .chars()
                        .next()
                        .is_none_or(|c| "/\"': ;".contains(c) || c.is_whitespace())
            });
            if let Some((inside, outside)) = found {
                mapped.push_str(&outside.display().to_string());
                at += inside.len();
            } else {
                let c = rest.chars().next().expect("not at the end");
                mapped.push(c);
                at += c.len_utf8();
            }
        }
        for (inside, outside) in &self.ports {
            mapped = replace_port(&mapped, *inside, *outside);
        }
        mapped
    }
}

/// Replaces `:inside` where it is a whole port number.
fn replace_port(text: &str, inside: u16, outside: u16) -> String {
    let needle = format!(":{inside}");
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(&needle) {
        let after = &rest[at + needle.len()..];
        let whole = !after.starts_with(|c: char| c.is_ascii_digit());
        out.push_str(&rest[..at]);
        if whole {
            out.push_str(&format!(":{outside}"));
        } else {
            out.push_str(&needle);
        }
        rest = after;
    }
    out.push_str(rest);
    out
}

/// The environment a deployed process gets: `variables` only, plus a PATH
/// whose first directory holds the binary under test.
pub fn environment(variables: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    let mut env = variables.clone();
    let bin_dir = Path::new(super::BIN)
        .parent()
        .expect("the binary's directory");
    env.insert(
        "PATH".to_owned(),
        format!("{}:/usr/local/bin:/usr/bin:/bin", bin_dir.display()),
    );
    env
}

/// Runs `program args` with exactly `env` and waits for it (a one-shot
/// init step); panics with its output unless it succeeds.
pub fn run_to_success(program: &str, args: &[String], env: &BTreeMap<String, String>) -> Output {
    let output = Command::new(program)
        .args(args)
        .env_clear()
        .envs(env)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|error| panic!("cannot run {program}: {error}"));
    assert!(
        output.status.success(),
        "{program} {args:?} failed ({}):\nstdout:\n{}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// A long-running deployed process (the ledger), killed when dropped.
pub struct Deployed {
    child: Child,
    output: PathBuf,
    pub client: reqwest::Client,
}

impl Deployed {
    /// Starts the binary under test with `args` and exactly `env`; its
    /// output goes to `output`.
    pub fn start(args: &[String], env: &BTreeMap<String, String>, output: &Path) -> Self {
        let log = File::create(output).expect("the output file");
        let child = Command::new(super::BIN)
            .args(args)
            .env_clear()
            .envs(env)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("duplicate the output file"))
            .stderr(log)
            .spawn()
            .expect("run consent-ledger");
        Self {
            child,
            output: output.to_owned(),
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .expect("HTTP client"),
        }
    }

    /// Everything the process has written so far.
    pub fn output(&self) -> String {
        std::fs::read_to_string(&self.output).unwrap_or_default()
    }

    pub fn output_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.output).unwrap_or_default();
        let mut start = text.len().saturating_sub(6000);
        while !text.is_char_boundary(start) {
            start += 1;
        }
        text[start..].to_owned()
    }

    /// Waits until `url` answers 200; panics with the output if the
    /// process exits or it does not within `within`.
    pub async fn wait_for_ok(&mut self, url: &str, within: Duration) {
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "consent-ledger exited with {status} before {url} answered 200; its output:\n{}",
                    self.output_tail()
                );
            }
            let answer = self
                .client
                .get(url)
                .timeout(Duration::from_secs(2))
                .send()
                .await;
            if answer.is_ok_and(|response| response.status() == StatusCode::OK) {
                return;
            }
            assert!(
                started.elapsed() < within,
                "{url} did not answer 200 within {within:?}; the ledger's output:\n{}",
                self.output_tail()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

impl Drop for Deployed {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A free loopback port.
pub fn free_port() -> u16 {
    super::free_address().port()
}

/// Whether something accepts TCP connections at `address`.
pub fn listens(address: SocketAddr) -> bool {
    std::net::TcpStream::connect_timeout(&address, Duration::from_secs(1)).is_ok()
}
