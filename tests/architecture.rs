//! The dependency rules of docs/ARCHITECTURE.md, checked against
//! `cargo metadata` (as rust-analyzer's `tidy` tests do).
//!
//! - The map: every workspace crate is placed in [`MAP`], and every crate
//!   the code map of ARCHITECTURE.md names exists (and has a place in it).
//! - The layers: no crate has a normal (non-dev) dependency on a workspace
//!   crate its entry in [`MAP`] does not allow; nothing depends on
//!   consent-bench; consent-log-conformance is a dev-dependency only;
//!   consent-testkit is a dev-dependency only (consent-bench, a binary,
//!   excepted).
//! - Purity: no pure crate reaches an engine or IO crate, even
//!   transitively through normal dependencies; no pure crate's source reads
//!   the clock or a random source.
//!
//! A failure names the rule and how to fix it. Known violations are in
//! [`KNOWN_VIOLATIONS`], each naming the issue that removes it: they are
//! reported there, not silenced.

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::{Path, PathBuf};
use std::process::Command;

/// What a crate is allowed to reach, from its invariant in the code map.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Purity {
    /// "pure": no engine or IO crate, no clock, no randomness.
    Pure,
    /// "pure (no IO but the key file)": as `Pure`, except that
    /// `src/keyfile.rs` may draw a new key from the OS random source
    /// (`getrandom`).
    PureButKeyFile,
    /// "depends on no storage engine, even transitively" (consent-store),
    /// "no IO but the OS random source" (consent-sealing), "holds no engine"
    /// (consent-log): no engine or IO
    /// crate; the clock and randomness are not ruled out by the map.
    NoEngine,
    /// An edge or the composition root: engines, clocks and IO allowed.
    Edge,
}

/// Which workspace crates a crate may depend on (normal dependencies).
#[derive(Clone, Copy, Debug)]
enum May {
    Only(&'static [&'static str]),
    /// The composition root, the benchmarks and the cross-crate tests.
    Anything,
}

struct Place {
    package: &'static str,
    /// Its heading in the code map of ARCHITECTURE.md.
    heading: &'static str,
    may: May,
    purity: Purity,
}

use May::{Anything, Only};
use Purity::{Edge, NoEngine, Pure, PureButKeyFile};

/// The code map of docs/ARCHITECTURE.md as a table. Each line cites the
/// sentence of the doc it encodes.
#[rustfmt::skip]
const MAP: &[Place] = &[
    // "pure. No IO, no clock, no randomness, no async."
    Place { package: "consent-domain", heading: "crates/consent-domain", may: Only(&[]), purity: Pure },
    // "the only place where stored form meets domain form"; the routing key
    // and topic family of each fact (the log's topic model).
    Place { package: "consent-schema", heading: "crates/consent-schema", may: Only(&["consent-domain", "consent-log"]), purity: Pure },
    // "knows nothing of consent"; "holds no engine and reaches no engine or
    // IO crate (no tokio, no fs4)".
    Place { package: "consent-log", heading: "crates/consent-log", may: Only(&[]), purity: NoEngine },
    // "`EventLog` as a durable, append-only file log"; "knows nothing of
    // consent".
    Place { package: "consent-log-embedded", heading: "crates/consent-log-embedded", may: Only(&["consent-log"]), purity: Edge },
    // "checks only through the `EventLog` trait"; "a dev-dependency only"
    // (checked in `no_crate_depends_on_a_crate_its_layer_may_not_use`).
    Place { package: "consent-log-conformance", heading: "crates/consent-log-conformance", may: Only(&["consent-log"]), purity: Edge },
    // "`EventLog` on Kafka"
    Place { package: "consent-kafka", heading: "crates/consent-kafka", may: Only(&["consent-log"]), purity: Edge },
    // "depends on no storage engine, even transitively"; consent-evidence
    // "depends on no storage engine, so `consent-store` may use its types".
    Place { package: "consent-store", heading: "crates/consent-store", may: Only(&["consent-domain", "consent-evidence", "consent-log"]), purity: NoEngine },
    // "`ViewStore` on sled 0.34"
    Place { package: "consent-store-sled", heading: "crates/consent-store-sled", may: Only(&["consent-store", "consent-domain", "consent-evidence", "consent-log"]), purity: Edge },
    // "Reads the log ..., folds batches, and writes ... in one atomic write";
    // trace context "Used by ... consent-projector".
    Place { package: "consent-projector", heading: "crates/consent-projector", may: Only(&["consent-log", "consent-store", "consent-domain", "consent-schema", "consent-evidence", "consent-trace-context"]), purity: Edge },
    // "pure (no IO but the key file, no clock, no async)": the leaf
    // encoding of a record; the key file through consent-secret-file.
    Place { package: "consent-evidence", heading: "crates/consent-evidence", may: Only(&["consent-log", "consent-secret-file"]), purity: PureButKeyFile },
    // "decodes the proven records and folds them with the domain fold",
    // `bundle_report_html`; "pure: no IO, no clock".
    Place { package: "consent-audit", heading: "crates/consent-audit", may: Only(&["consent-domain", "consent-schema", "consent-evidence", "consent-report", "consent-log"]), purity: Pure },
    // "reads the log and the view", checkpoints of the projection's heads,
    // decisions "via `consent-audit`".
    Place { package: "consent-export", heading: "crates/consent-export", may: Only(&["consent-log", "consent-store", "consent-projector", "consent-audit", "consent-evidence", "consent-domain", "consent-schema"]), purity: Edge },
    // "seals every contact field of an append's envelopes"; "no IO but the
    // OS random source".
    Place { package: "consent-sealing", heading: "crates/consent-sealing", may: Only(&["consent-domain", "consent-schema"]), purity: NoEngine },
    Place { package: "consent-keystore-sqlite", heading: "crates/consent-keystore-sqlite", may: Only(&["consent-sealing", "consent-domain"]), purity: Edge },
    Place { package: "consent-keystore-postgres", heading: "crates/consent-keystore-postgres", may: Only(&["consent-sealing", "consent-domain"]), purity: Edge },
    // "knows nothing of what the secret is"
    Place { package: "consent-secret-file", heading: "crates/consent-secret-file", may: Only(&[]), purity: Edge },
    // "pure (no IO, no clock ...); renders only what it is given"
    Place { package: "consent-report", heading: "crates/consent-report", may: Only(&["consent-domain"]), purity: Pure },
    // "Folds events in memory with the domain fold"; "pure like the domain".
    Place { package: "consent-replay", heading: "crates/consent-replay", may: Only(&["consent-domain", "consent-schema"]), purity: Pure },
    // "Runs a replay over an `EventLog`"; "the file IO of the replay lives
    // here so consent-replay stays pure".
    Place { package: "consent-replay-runner", heading: "crates/consent-replay-runner", may: Only(&["consent-replay", "consent-log", "consent-schema", "consent-domain"]), purity: Edge },
    // "pure (no IO but the key file, no clock, no async)"
    Place { package: "consent-intake", heading: "crates/consent-intake", may: Only(&["consent-domain", "consent-secret-file"]), purity: PureButKeyFile },
    // "over the traits above"; checkpoints and exports, an export's report
    // (audit and render), intake, sealing, trace context. "no transport
    // types".
    Place { package: "consent-service", heading: "crates/consent-service", may: Only(&["consent-domain", "consent-schema", "consent-log", "consent-store", "consent-projector", "consent-evidence", "consent-export", "consent-audit", "consent-intake", "consent-sealing", "consent-trace-context", "consent-replay", "consent-replay-runner"]), purity: Edge },
    // "pure apart from reading the key file (no clock, no randomness)"
    Place { package: "consent-auth", heading: "crates/consent-auth", may: Only(&["consent-domain"]), purity: Pure },
    // "a thin adapter: parse, call the service, map errors"; `Guarded`
    // (consent-auth); one message type set (consent-schema); intake forms
    // with their own tokens; trace context.
    Place { package: "consent-http", heading: "crates/consent-http", may: Only(&["consent-service", "consent-auth", "consent-schema", "consent-domain", "consent-intake", "consent-trace-context"]), purity: Edge },
    // "a thin adapter, like consent-http"
    Place { package: "consent-grpc", heading: "crates/consent-grpc", may: Only(&["consent-service", "consent-auth", "consent-schema", "consent-domain", "consent-trace-context"]), purity: Edge },
    // "a thin adapter, like consent-http": the console's pages over the
    // service, behind `Guarded` (consent-auth); the facts in words from
    // consent-report (pure).
    Place { package: "consent-console", heading: "crates/consent-console", may: Only(&["consent-service", "consent-auth", "consent-schema", "consent-domain", "consent-report"]), purity: Edge },
    // "consent-domain and consent-log know nothing of it"
    Place { package: "consent-trace-context", heading: "crates/consent-trace-context", may: Only(&[]), purity: Edge },
    // "Pushes the opt-out feed to webhook endpoints": follows the log's feed
    // topic, decodes notices (consent-schema), reads secret files.
    Place { package: "consent-webhook-push", heading: "crates/consent-webhook-push", may: Only(&["consent-log", "consent-schema", "consent-secret-file"]), purity: Edge },
    // "The composition root: the only place that chooses implementations"
    Place { package: "consent-cli", heading: "crates/consent-cli", may: Anything, purity: Edge },
    // "every envelope passes `event_from_proto`"; "pure (no IO but the
    // writer it is handed, no clock, no global randomness)".
    Place { package: "consent-generator", heading: "crates/consent-generator", may: Only(&["consent-schema", "consent-domain"]), purity: Pure },
    // "measures the real crates through their public APIs ... never a
    // dependency of them"
    Place { package: "consent-bench", heading: "crates/consent-bench", may: Anything, purity: Edge },
    // "The one test kit": facts, scenarios, histories, the wire and a
    // running ledger over the real parts; "never a normal dependency of a
    // library" (checked in `no_crate_depends_on_a_crate_its_layer_may_not_use`).
    Place { package: "consent-testkit", heading: "crates/consent-testkit", may: Only(&["consent-domain", "consent-schema", "consent-replay", "consent-log", "consent-log-embedded", "consent-store", "consent-store-sled", "consent-projector", "consent-service", "consent-export", "consent-evidence", "consent-sealing"]), purity: Edge },
    // "Cross-crate tests"
    Place { package: "consent-ledger-tests", heading: "tests/", may: Anything, purity: Edge },
];

/// Violations of the map that exist today, each with the issue that
/// removes it. An entry that no longer matches anything fails the test,
/// so the list shrinks as the work is done.
const KNOWN_VIOLATIONS: &[(&str, &str, &str)] = &[];

/// The dev-only crate of the checks every `EventLog` runs: never a normal
/// dependency.
const CONFORMANCE_SUITE: &str = "consent-log-conformance";

/// The one test kit: a dev-dependency of the crates whose tests use it,
/// never a normal dependency of a library crate. Only these binaries
/// (the benchmarks) may depend on it as a normal dependency.
const TEST_KIT: &str = "consent-testkit";
const MAY_USE_THE_TEST_KIT: &[&str] = &["consent-bench"];

/// The transport adapters, and what they must never depend on (normal
/// dependencies): "a thin adapter: parse, call the service, map errors".
/// The projection, exports, audits and the log are the service's to
/// compose; an adapter that needs one of their types gets it re-exported
/// from consent-service, or the operation moves into the service.
const ADAPTERS: &[&str] = &["consent-http", "consent-grpc", "consent-console"];
const NEVER_IN_AN_ADAPTER: &[&str] = &[
    "consent-projector",
    "consent-export",
    "consent-audit",
    "consent-log",
    "consent-log-embedded",
    "consent-kafka",
    "consent-store",
    "consent-store-sled",
    "consent-evidence",
    "consent-replay",
    "consent-replay-runner",
    "consent-sealing",
];

/// Engine and IO crates no pure crate may reach.
const ENGINES: &[&str] = &[
    "sled",
    "rdkafka",
    "tokio",
    "reqwest",
    "axum",
    "tonic",
    "rusqlite",
    "postgres",
    "tokio-postgres",
    "fs4",
];

/// Sources of randomness no pure crate may depend on directly.
const RANDOMNESS: &[&str] = &["rand", "getrandom", "fastrand"];

/// Calls that read the clock.
const CLOCK_CALLS: &[&str] = &[
    "SystemTime::now",
    "Instant::now",
    "Utc::now",
    "Local::now",
    "OffsetDateTime::now",
];

/// Calls that draw randomness (uuid's generators, the OS source, rand).
const RANDOM_CALLS: &[&str] = &[
    "Uuid::new_v4",
    "Uuid::now_v7",
    "new_v4(",
    "now_v7(",
    "getrandom::",
    "OsRng",
    "thread_rng",
    "rand::",
    "fastrand::",
];

const DOC: &str = "docs/ARCHITECTURE.md";

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ is in the workspace root")
        .to_path_buf()
}

fn metadata() -> Value {
    let output = Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1"])
        .current_dir(workspace_root())
        .output()
        .expect("cargo metadata runs");
    assert!(
        output.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("cargo metadata prints JSON")
}

/// The workspace as the test sees it.
struct Workspace {
    /// Package id to name.
    names: BTreeMap<String, String>,
    /// Workspace member names to their ids and manifest directories.
    members: BTreeMap<String, (String, PathBuf)>,
    /// Package id to the ids of its normal dependencies (resolved).
    normal: BTreeMap<String, Vec<String>>,
    /// Every (crate, workspace crate it depends on, kind) among members.
    edges: Vec<(String, String, Option<String>)>,
}

fn workspace() -> Workspace {
    let meta = metadata();
    let packages = meta["packages"].as_array().expect("packages");
    let members: BTreeSet<&str> = meta["workspace_members"]
        .as_array()
        .expect("workspace_members")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let mut names = BTreeMap::new();
    let mut member_map = BTreeMap::new();
    let mut edges = Vec::new();
    for package in packages {
        let id = package["id"].as_str().expect("id").to_owned();
        let name = package["name"].as_str().expect("name").to_owned();
        if members.contains(id.as_str()) {
            let manifest = PathBuf::from(package["manifest_path"].as_str().expect("manifest"));
            let dir = manifest
                .parent()
                .expect("a manifest's directory")
                .to_path_buf();
            member_map.insert(name.clone(), (id.clone(), dir));
            for dependency in package["dependencies"].as_array().expect("dependencies") {
                if dependency["path"].is_string() {
                    edges.push((
                        name.clone(),
                        dependency["name"].as_str().expect("name").to_owned(),
                        dependency["kind"].as_str().map(str::to_owned),
                    ));
                }
            }
        }
        names.insert(id, name);
    }
    let mut normal = BTreeMap::new();
    for node in meta["resolve"]["nodes"].as_array().expect("resolve") {
        let id = node["id"].as_str().expect("id").to_owned();
        let deps = node["deps"]
            .as_array()
            .expect("deps")
            .iter()
            .filter(|dep| {
                dep["dep_kinds"]
                    .as_array()
                    .is_some_and(|kinds| kinds.iter().any(|kind| kind["kind"].is_null()))
            })
            .map(|dep| dep["pkg"].as_str().expect("pkg").to_owned())
            .collect();
        normal.insert(id, deps);
    }
    Workspace {
        names,
        members: member_map,
        normal,
        edges,
    }
}

fn place(package: &str) -> Option<&'static Place> {
    MAP.iter().find(|place| place.package == package)
}

fn is_known(from: &str, to: &str) -> Option<&'static str> {
    KNOWN_VIOLATIONS
        .iter()
        .find(|(a, b, _)| *a == from && *b == to)
        .map(|(_, _, issue)| *issue)
}

/// The headings of the code map: "### `crates/consent-domain`".
fn code_map_headings() -> Vec<String> {
    let doc = std::fs::read_to_string(workspace_root().join(DOC)).expect("ARCHITECTURE.md");
    let map = doc
        .split("## Code map")
        .nth(1)
        .expect("ARCHITECTURE.md has a \"Code map\" section");
    let map = map.split("\n## ").next().unwrap_or(map);
    map.lines()
        .filter_map(|line| line.strip_prefix("### `"))
        .filter_map(|rest| rest.strip_suffix('`'))
        .filter(|heading| heading.starts_with("crates/") || heading.starts_with("tests"))
        .map(str::to_owned)
        .collect()
}

#[test]
fn every_crate_is_on_the_map_and_every_crate_on_the_map_exists() {
    let workspace = workspace();
    let headings = code_map_headings();
    let mut problems = Vec::new();
    for name in workspace.members.keys() {
        match place(name) {
            None => problems.push(format!(
                "{name} is not on the map: every crate has a section in the code map of \
                 {DOC} (what it is, its invariant) and an entry in MAP in tests/architecture.rs \
                 (which crates it may depend on, and whether it is pure)"
            )),
            Some(place) if !headings.iter().any(|h| h == place.heading) => problems.push(format!(
                "{name} has no section \"### `{}`\" in the code map of {DOC}: add one",
                place.heading
            )),
            Some(_) => {}
        }
    }
    for place in MAP {
        if !workspace.members.contains_key(place.package) {
            problems.push(format!(
                "MAP in tests/architecture.rs places {}, which is not a workspace crate: \
                 remove it (and its section in {DOC})",
                place.package
            ));
        }
    }
    for heading in &headings {
        if !MAP.iter().any(|place| place.heading == heading) {
            problems.push(format!(
                "the code map of {DOC} names `{heading}`, which is no workspace crate: \
                 remove its section, or fix its name"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn no_crate_depends_on_a_crate_its_layer_may_not_use() {
    let workspace = workspace();
    let mut problems = Vec::new();
    let mut used_exceptions = BTreeSet::new();
    for (from, to, kind) in &workspace.edges {
        if to == "consent-bench" {
            problems.push(format!(
                "{from} depends on consent-bench ({} dependency): {DOC} says consent-bench \
                 \"is never a dependency\" of the crates it measures. Move what {from} needs \
                 into a library crate",
                kind.as_deref().unwrap_or("normal")
            ));
        }
        if to == CONFORMANCE_SUITE && kind.as_deref() != Some("dev") {
            problems.push(format!(
                "{from} depends on {CONFORMANCE_SUITE} ({} dependency): {DOC} says it is \
                 \"a dev-dependency only\": the suite is test code. Make it a \
                 [dev-dependencies] entry",
                kind.as_deref().unwrap_or("normal")
            ));
        }
        if to == TEST_KIT
            && kind.as_deref() != Some("dev")
            && !MAY_USE_THE_TEST_KIT.contains(&from.as_str())
        {
            problems.push(format!(
                "{from} depends on {TEST_KIT} ({} dependency): {DOC} says the test kit is \
                 \"never a normal dependency of a library\": it is test code. Make it a \
                 [dev-dependencies] entry",
                kind.as_deref().unwrap_or("normal")
            ));
        }
        if kind.is_some() || from == to {
            continue; // dev and build dependencies are not layers
        }
        let Some(place) = place(from) else {
            continue; // reported by the map test
        };
        let Only(allowed) = place.may else { continue };
        if allowed.contains(&to.as_str()) {
            continue;
        }
        if let Some(issue) = is_known(from, to) {
            used_exceptions.insert((from.clone(), to.clone()));
            eprintln!("known violation ({issue}): {from} depends on {to}");
            continue;
        }
        problems.push(format!(
            "{from} depends on {to}, which its section of the code map in {DOC} does not \
             allow (it may use: {}). Move the code that needs {to} to a crate of a layer \
             that may use it (usually up, into consent-service or consent-cli), or, if the \
             map is what is out of date, change {DOC} and MAP in tests/architecture.rs together",
            if allowed.is_empty() {
                "no workspace crate".to_owned()
            } else {
                allowed.join(", ")
            }
        ));
    }
    for (from, to, issue) in KNOWN_VIOLATIONS {
        if !used_exceptions.contains(&((*from).to_owned(), (*to).to_owned())) {
            problems.push(format!(
                "KNOWN_VIOLATIONS lists {from} -> {to} ({issue}), which no longer occurs: \
                 remove the entry from tests/architecture.rs"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_adapters_depend_on_the_service_not_on_what_it_composes() {
    let workspace = workspace();
    let mut problems = Vec::new();
    for adapter in ADAPTERS {
        assert!(
            workspace.members.contains_key(*adapter),
            "{adapter} is no workspace crate any more: update ADAPTERS in tests/architecture.rs"
        );
        if let Some(Place {
            may: Only(allowed), ..
        }) = place(adapter)
        {
            for forbidden in allowed.iter().filter(|c| NEVER_IN_AN_ADAPTER.contains(c)) {
                problems.push(format!(
                    "MAP in tests/architecture.rs allows {adapter} to use {forbidden}, which \
                     {DOC} says an adapter never uses: remove it from MAP"
                ));
            }
        }
    }
    for (from, to, kind) in &workspace.edges {
        if kind.is_none()
            && ADAPTERS.contains(&from.as_str())
            && NEVER_IN_AN_ADAPTER.contains(&to.as_str())
        {
            problems.push(format!(
                "{from} depends on {to}: {DOC} says an adapter only parses, calls \
                 consent-service and maps its errors. Move the code that needs {to} into a \
                 consent-service operation (or re-export the type the adapter needs from \
                 consent-service)"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The shortest path of normal dependencies from `from` to a package whose
/// name satisfies `target`, as names.
fn paths_to(workspace: &Workspace, from: &str, target: &dyn Fn(&str) -> bool) -> Vec<Vec<String>> {
    let start = &workspace.members[from].0;
    let mut parent: BTreeMap<&str, Option<&str>> = BTreeMap::new();
    parent.insert(start, None);
    let mut queue = VecDeque::from([start.as_str()]);
    let mut found = Vec::new();
    while let Some(id) = queue.pop_front() {
        for next in workspace.normal.get(id).into_iter().flatten() {
            if parent.contains_key(next.as_str()) {
                continue;
            }
            parent.insert(next, Some(id));
            queue.push_back(next);
            if target(&workspace.names[next]) {
                let mut path = vec![workspace.names[next].clone()];
                let mut at = Some(id);
                while let Some(step) = at {
                    path.push(workspace.names[step].clone());
                    at = parent[step];
                }
                path.reverse();
                found.push(path);
            }
        }
    }
    found
}

#[test]
fn no_pure_crate_reaches_an_engine_or_a_random_source() {
    let workspace = workspace();
    let mut problems = Vec::new();
    for place in MAP.iter().filter(|place| place.purity != Edge) {
        if !workspace.members.contains_key(place.package) {
            continue;
        }
        for path in paths_to(&workspace, place.package, &|name| ENGINES.contains(&name)) {
            problems.push(format!(
                "{} reaches the engine {} ({}): {DOC} says it is {}. Move the code that needs \
                 {} out to an edge crate behind a trait, or drop the dependency",
                place.package,
                path.last().expect("a path"),
                path.join(" -> "),
                describe(place.purity),
                path.get(1).expect("a step")
            ));
        }
        if matches!(place.purity, Pure | PureButKeyFile) {
            // Direct dependencies only: the RustCrypto traits (rand_core)
            // and uuid link getrandom for generators they offer; the
            // source check below makes sure a pure crate never calls one.
            let start = &workspace.members[place.package].0;
            for dep in workspace.normal.get(start).into_iter().flatten() {
                let name = &workspace.names[dep];
                let key_file = place.purity == PureButKeyFile && name == "getrandom";
                if RANDOMNESS.contains(&name.as_str()) && !key_file {
                    problems.push(format!(
                        "{} depends on {name}: {DOC} says it is {}. Take the random bytes as \
                         an argument (as consent-auth does for a new key) and draw them at the \
                         edge",
                        place.package,
                        describe(place.purity)
                    ));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

fn describe(purity: Purity) -> &'static str {
    match purity {
        Pure => "pure (no IO, no clock, no randomness)",
        PureButKeyFile => "pure (no IO but its key file, no clock)",
        NoEngine => "free of any storage engine or IO crate",
        Edge => "an edge",
    }
}

fn rust_files(dir: &Path, into: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, into);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            into.push(path);
        }
    }
}

#[test]
fn no_pure_crate_reads_the_clock_or_draws_randomness() {
    let workspace = workspace();
    let mut problems = Vec::new();
    for place in MAP
        .iter()
        .filter(|place| matches!(place.purity, Pure | PureButKeyFile))
    {
        let Some((_, dir)) = workspace.members.get(place.package) else {
            continue;
        };
        let mut files = Vec::new();
        rust_files(&dir.join("src"), &mut files);
        assert!(
            !files.is_empty(),
            "{} has no sources under src/",
            place.package
        );
        for file in files {
            let text = std::fs::read_to_string(&file).expect("a source file");
            let key_file = place.purity == PureButKeyFile && file.ends_with("src/keyfile.rs");
            for (number, line) in text.lines().enumerate() {
                if line.trim_start().starts_with("//") {
                    continue;
                }
                let shown = file
                    .strip_prefix(workspace_root())
                    .unwrap_or(&file)
                    .display();
                for call in CLOCK_CALLS.iter().filter(|call| line.contains(*call)) {
                    problems.push(format!(
                        "{shown}:{}: {} calls {call}: {DOC} says the crate reads no clock \
                         (time is an argument). Take the time as a parameter and read the \
                         clock at the edge (consent-service's injected clock)",
                        number + 1,
                        place.package
                    ));
                }
                for call in RANDOM_CALLS.iter().filter(|call| line.contains(*call)) {
                    if key_file && *call == "getrandom::" {
                        continue;
                    }
                    problems.push(format!(
                        "{shown}:{}: {} calls {call}: {DOC} says the crate draws no \
                         randomness. Take the ids or bytes as arguments and generate them at \
                         the edge (consent-service's injected id generator)",
                        number + 1,
                        place.package
                    ));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The rows of the drawing in "The shape" of ARCHITECTURE.md, top (0) to
/// bottom: each workspace crate named in it and its row. Rows are
/// separated by a line of only `|` or an empty line; the last row is the
/// dev-only one.
fn shape_rows(names: &BTreeSet<String>) -> (BTreeMap<String, usize>, usize) {
    let doc = std::fs::read_to_string(workspace_root().join(DOC)).expect("ARCHITECTURE.md");
    let shape = doc
        .split("## The shape")
        .nth(1)
        .expect("ARCHITECTURE.md has a \"The shape\" section");
    let drawing = shape
        .split("```")
        .nth(1)
        .expect("\"The shape\" has a drawing in a code block");
    let mut rows = BTreeMap::new();
    let mut row = 0usize;
    let mut row_has_crates = false;
    for line in drawing.lines() {
        let separator = line.trim().is_empty() || line.trim() == "|";
        if separator {
            if row_has_crates {
                row += 1;
                row_has_crates = false;
            }
            continue;
        }
        for word in line.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-')) {
            if names.contains(word) {
                rows.entry(word.to_owned()).or_insert(row);
                row_has_crates = true;
            }
        }
    }
    (rows, row)
}

#[test]
fn every_crate_is_in_the_drawing_and_uses_none_drawn_above_it() {
    let workspace = workspace();
    let names: BTreeSet<String> = workspace.members.keys().cloned().collect();
    let (rows, dev_only) = shape_rows(&names);
    let missing: Vec<&String> = names.iter().filter(|n| !rows.contains_key(*n)).collect();
    assert!(
        missing.is_empty(),
        "{DOC}, \"The shape\": these crates are not in the drawing: {missing:?}. Draw each in \
         the row of its layer."
    );
    let mut upward = Vec::new();
    for (from, to, kind) in &workspace.edges {
        if kind.is_some() || rows[from] == dev_only {
            continue;
        }
        if let (Some(&from_row), Some(&to_row)) = (rows.get(from), rows.get(to)) {
            if to_row < from_row {
                upward.push(format!("{from} (row {from_row}) -> {to} (row {to_row})"));
            }
        }
    }
    assert!(
        upward.is_empty(),
        "{DOC}, \"The shape\": a crate uses only crates of its own row or below, but: {upward:#?}"
    );
}
