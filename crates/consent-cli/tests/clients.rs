//! The client libraries (clients/python, clients/typescript) against the
//! real `consent-ledger` binary: one ledger, and each client's own test
//! suite run against it (pytest; node:test) with its base URL in
//! `CONSENT_LEDGER_URL` and this binary in `CONSENT_LEDGER_BIN` for their
//! verify helpers. Each suite runs the send pipeline as a user would
//! (pre-flight, a check of each recipient by address, the send recorded
//! with its unsubscribe URL, a one-click opt-out refusing the next check),
//! a refused check's reasons and citations, an error naming the field,
//! history, the README's ten-line example, and an export verified
//! offline; the Python suite also holds its typed enums with `mypy
//! --strict` (the TypeScript suite compiles with `tsc`). Each client's
//! types are generated from proto/ first, so a suite always runs on the
//! schema as it is.
//!
//! The tools come from .ci/install-client-tools.sh (scripts/test.sh runs
//! it): a missing one fails the test, naming the script. A check that
//! cannot run is not a check that passed.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;
use support::*;

const INSTALLER: &str = ".ci/install-client-tools.sh";
/// Bound on one step (a generation, a compilation, a suite).
const STEP_TIMEOUT: Duration = Duration::from_secs(300);

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The Python of the clients' virtual environment.
fn python() -> PathBuf {
    let venv = std::env::var_os("CONSENT_CLIENTS_VENV").map_or_else(
        || {
            let home = std::env::var_os("HOME").expect("HOME is set");
            Path::new(&home).join(".cache/consent-ledger/clients-python")
        },
        PathBuf::from,
    );
    let python = venv.join("bin/python");
    assert!(
        python.exists(),
        "no Python environment for the client tests at {}: run `bash {INSTALLER}`",
        venv.display()
    );
    python
}

/// A tool of clients/typescript's npm packages.
fn npm_tool(name: &str) -> PathBuf {
    let tool = repository()
        .join("clients/typescript/node_modules/.bin")
        .join(name);
    assert!(
        tool.exists(),
        "`{name}` is not installed in clients/typescript/node_modules: run `bash {INSTALLER}`"
    );
    tool
}

/// Runs `program args` in `dir` with `env`, bounded by [`STEP_TIMEOUT`];
/// panics with its output unless it succeeds, and prints the output (a
/// suite's report) when it does.
async fn step(what: &str, dir: &Path, program: &Path, args: &[&str], env: &[(&str, &str)]) {
    let mut command = Command::new(program);
    command
        .args(args)
        .current_dir(dir)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = command.spawn().unwrap_or_else(|error| {
        panic!(
            "{what}: cannot run {} ({error}): install the client tools with `bash {INSTALLER}`",
            program.display()
        )
    });
    let id = child.id();
    let waited = tokio::time::timeout(
        STEP_TIMEOUT,
        tokio::task::spawn_blocking(move || child.wait_with_output()),
    )
    .await;
    let output = match waited {
        Ok(output) => output
            .expect("the waiting task")
            .unwrap_or_else(|error| panic!("{what}: {error}")),
        Err(_) => {
            // Only the process this step started, by its id.
            let _ = Command::new("kill").args(["-9", &id.to_string()]).status();
            panic!("{what} did not finish within {STEP_TIMEOUT:?}");
        }
    };
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success(),
        "{what} failed ({}):\n{report}",
        output.status
    );
    println!("--- {what}\n{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_and_typescript_clients_run_the_send_pipeline_against_the_real_binary() {
    // Both tools first: a missing one fails before a ledger starts.
    let python = python();
    let (buf, tsc) = (npm_tool("buf"), npm_tool("tsc"));
    let node = PathBuf::from("node");

    let dir = tempfile::tempdir().expect("tempdir");
    let ledger = Ledger::serve(&dir.path().join("ledger"), &[], &[]).await;
    let env = [
        ("CONSENT_LEDGER_URL", ledger.base.as_str()),
        ("CONSENT_LEDGER_BIN", BIN),
    ];

    let python_client = repository().join("clients/python");
    step(
        "generating the Python client's types from proto/",
        &python_client,
        &python,
        &["build_proto.py"],
        &[],
    )
    .await;
    step(
        "the Python client's tests (pytest)",
        &python_client,
        &python,
        &["-m", "pytest", "-q", "-p", "no:cacheprovider"],
        &env,
    )
    .await;

    let typescript_client = repository().join("clients/typescript");
    // No compiled suite of a test file since removed.
    match std::fs::remove_dir_all(typescript_client.join("dist")) {
        Ok(()) => {}
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(error) => panic!("removing clients/typescript/dist: {error}"),
    }
    step(
        "generating the TypeScript client's types from proto/ (buf generate)",
        &typescript_client,
        &buf,
        &["generate"],
        &[],
    )
    .await;
    step(
        "compiling the TypeScript client (tsc)",
        &typescript_client,
        &tsc,
        &["-p", "tsconfig.json"],
        &[],
    )
    .await;
    let mut suites: Vec<String> = std::fs::read_dir(typescript_client.join("dist/test"))
        .expect("tsc wrote dist/test")
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|name| name.ends_with(".test.js"))
        .map(|name| format!("dist/test/{name}"))
        .collect();
    suites.sort();
    assert!(suites.len() >= 2, "the TypeScript suites: {suites:?}");
    let mut args = vec!["--test"];
    args.extend(suites.iter().map(String::as_str));
    step(
        "the TypeScript client's tests (node --test)",
        &typescript_client,
        &node,
        &args,
        &env,
    )
    .await;
    drop(ledger);
}
