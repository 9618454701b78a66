//! deploy/ passes the tools operators and CI check it with: the
//! Kubernetes manifests validate against the Kubernetes schema
//! (`kubernetes-validate`, installed by .ci/install-python-tools.sh), all
//! of its YAML passes `yamllint` with deploy/.yamllint, and the Prometheus
//! alert rules pass `promtool check rules` and their unit tests
//! (`promtool test rules`; promtool and yamllint come from Debian, see
//! .ci/install-deps.sh). A missing tool fails the test, naming the script
//! that installs it: a check that cannot run is not a check that passed.

use std::path::{Path, PathBuf};
use std::process::Command;

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Runs `tool args` in the repository; panics with its output unless it
/// succeeds, or naming `installer` when the tool is missing.
fn passes(tool: &str, args: &[&str], installer: &str) -> String {
    let output = Command::new(tool)
        .args(args)
        .current_dir(repository())
        .output()
        .unwrap_or_else(|error| {
            panic!(
                "cannot run `{tool}` ({error}): install it with `bash {installer}` \
                 (scripts/test.sh runs it and puts its tools on PATH)"
            )
        });
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "`{tool} {}` failed ({}):\n{stdout}\n{stderr}",
        args.join(" "),
        output.status
    );
    stdout + &stderr
}

fn k8s_manifests() -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(repository().join("deploy/k8s"))
        .expect("deploy/k8s")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "yaml"))
        .map(|path| {
            format!(
                "deploy/k8s/{}",
                path.file_name().expect("name").to_string_lossy()
            )
        })
        .collect();
    files.sort();
    files
}

#[test]
fn the_kubernetes_manifests_pass_schema_validation() {
    let files = k8s_manifests();
    assert!(files.len() >= 4, "{files:?}");
    let mut args = vec!["--strict"];
    args.extend(files.iter().map(String::as_str));
    let report = passes("kubernetes-validate", &args, ".ci/install-python-tools.sh");
    // Every object was checked, none skipped as unknown.
    for file in &files {
        assert!(report.contains(&format!("{file} passed")), "{report}");
    }
}

#[test]
fn the_yaml_in_deploy_passes_yamllint() {
    passes(
        "yamllint",
        &["--strict", "-c", "deploy/.yamllint", "deploy/"],
        ".ci/install-deps.sh",
    );
}

#[test]
fn the_alert_rules_pass_promtool_and_their_unit_tests() {
    let checked = passes(
        "promtool",
        &["check", "rules", "deploy/prometheus/alerts.yml"],
        ".ci/install-deps.sh",
    );
    assert!(checked.contains("SUCCESS"), "{checked}");
    let tested = passes(
        "promtool",
        &["test", "rules", "deploy/prometheus/alerts.test.yml"],
        ".ci/install-deps.sh",
    );
    assert!(tested.contains("SUCCESS"), "{tested}");
}

#[test]
fn the_dashboard_is_grafana_json_with_panels_on_queries() {
    let path = repository().join("deploy/grafana/consent-ledger.json");
    let text = std::fs::read_to_string(&path).expect("the dashboard");
    let dashboard: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(dashboard["uid"], "consent-ledger");
    let panels = dashboard["panels"].as_array().expect("panels");
    let queries = panels
        .iter()
        .filter(|panel| panel["type"] != "row")
        .map(|panel| {
            let targets = panel["targets"].as_array().expect("targets");
            assert!(!targets.is_empty(), "{} has queries", panel["title"]);
            targets.len()
        })
        .sum::<usize>();
    assert!(queries >= 10, "{queries}");
}
