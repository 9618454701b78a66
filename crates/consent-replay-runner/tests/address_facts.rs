//! Facts about an address recorded without a subject (an objection
//! received for an email address, say) reach the decisions of every
//! subject who uses that address, as in the ledger: the streamed replay
//! folds them into its address table on disk and reads them back, and
//! its report is the in-memory replay's.

use consent_domain::event::{Fact, ObjectionRecorded};
use consent_domain::rules::RuleCatalogue;
use consent_domain::vocabulary::OptOutMethod;
use consent_domain::Event;
use consent_log::{AppendRecord, EventLog};
use consent_log_embedded::EmbeddedLog;
use consent_replay::{ReplayPlan, RuleSelection};
use consent_replay_runner::{run, RunnerConfig, Silent};
use consent_testkit::facts::email_address;
use consent_testkit::history::*;
use std::sync::Arc;

const ANN_EMAIL: &str = "ann@example.org";

fn event(id: u128, subject: Option<&str>, date: &str, fact: Fact) -> Event {
    consent_testkit::facts::event(id, "hope-trust", subject, at(date), fact)
}

/// The charity's story (four sends flip under the charity soft opt-in),
/// with Ann's email address recorded for her and, before her March email,
/// an objection received for that address with no subject named.
fn history_with_an_objection_to_anns_address() -> Vec<Event> {
    let mut events = charity_history().events;
    let email = email_address(ANN_EMAIL);
    events.push(event(
        1_000,
        Some("ann"),
        "2026-02-10",
        Fact::ContactPointRecorded(email.clone()),
    ));
    events.push(event(
        1_001,
        None,
        "2026-02-15",
        Fact::ObjectionRecorded(ObjectionRecorded {
            received_via: OptOutMethod::EmailReply,
            contact_point: Some(email),
        }),
    ));
    events
}

#[test]
fn an_objection_to_an_address_refuses_the_subject_who_uses_it() {
    let events = history_with_an_objection_to_anns_address();
    let plan = || {
        ReplayPlan::new(
            RuleSelection::named("uk-pecr-2003"),
            RuleSelection::named("uk-pecr-duaa-2026-02-05"),
        )
    };
    let expected = replay(&events, plan());
    // Ann's March email no longer flips: her address objected.
    assert_eq!(
        message_ids(&expected.samples.refused_to_allowed),
        set(&["c-cat-0301", "c-eve-0220", "c-fay-0206"])
    );

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let layout = consent_schema::ledger_layout("consent", 4);
    let log: Arc<dyn EventLog> =
        Arc::new(EmbeddedLog::open(&dir.path().join("log"), layout.clone()).unwrap());
    let records: Vec<AppendRecord> = events
        .iter()
        .map(|event| AppendRecord {
            topic: consent_schema::family_of(&event.fact).topic(&layout),
            key: consent_schema::record_key(event),
            payload: consent_schema::encode_envelope(&consent_schema::event_to_proto(event)),
            headers: Vec::new(),
        })
        .collect();
    runtime.block_on(log.append(records)).unwrap();

    let outcome = run(
        runtime.handle(),
        log,
        RunnerConfig::new(plan(), RuleCatalogue::uk()),
        &Silent,
    )
    .unwrap();
    let report = outcome.report;
    assert_eq!(
        message_ids(&report.samples.refused_to_allowed),
        set(&["c-cat-0301", "c-eve-0220", "c-fay-0206"])
    );
    assert_eq!(report.totals, expected.totals);
    assert_eq!(report.by_reason, expected.by_reason);
}
