//! Every decision the scenarios make, written out when asked: with
//! `CONSENT_DECISION_DUMP=<file>` set, each [`super::Scenario::when`]
//! appends one line (the question, the full decision and the decision
//! without texts, as `Debug` prints them) to `<file>`. Sorted, two dumps
//! taken before and after a change to the rules (with a fixed
//! `PROPTEST_RNG_SEED`, so the property tests generate the same ledgers)
//! show whether any decision changed: see docs/PERFORMANCE.md.

use consent_domain::rules::{CheckRequest, Decision};
use std::io::Write as _;

/// Appends one line for this decision, if a dump was asked for.
pub fn decision(request: &CheckRequest, full: &Decision, without_texts: &Decision) {
    let Some(path) = std::env::var_os("CONSENT_DECISION_DUMP") else {
        return;
    };
    // One write per line, to a file opened for appending: the tests of a
    // binary run on several threads.
    let line = format!("{request:?}\t{full:?}\t{without_texts:?}\n");
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .unwrap_or_else(|e| panic!("CONSENT_DECISION_DUMP {path:?}: {e}"));
    file.write_all(line.as_bytes())
        .unwrap_or_else(|e| panic!("CONSENT_DECISION_DUMP {path:?}: {e}"));
}
