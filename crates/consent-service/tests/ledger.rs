//! The ledger's operations over the embedded log, an in-memory view and a
//! running projector: what a caller of the service sees.

use consent_domain::{EventId, OrganisationId, SubjectId, Timestamp};
use consent_log::EventLog;
use consent_schema::v1;
use consent_service::{Clock, IdGenerator, LedgerConfig, LedgerError};
use consent_store::MemoryStore;
use consent_testkit::ledger::*;
use consent_testkit::wire::*;
use std::sync::Arc;
use std::time::Duration;

fn memory() -> Arc<MemoryStore> {
    Arc::new(MemoryStore::new())
}

/// What a customer's story looks like in the log: the shop, its categories
/// and one sale with an opt-out offered.
fn shop_and_sale() -> Vec<v1::Envelope> {
    vec![
        organisation_registered(),
        categories_defined(),
        sale(SUBJECT, "2025-03-01T12:00:00Z"),
    ]
}

#[tokio::test]
async fn a_sale_with_an_opt_out_offered_allows_similar_email_until_an_objection() {
    let dir = tempfile::tempdir().expect("tempdir");
    let running = RunningLedger::start(dir.path(), memory(), LedgerConfig::default());
    let ledger = &running.ledger;

    let appended = ledger
        .append(shop_and_sale())
        .await
        .expect("append acknowledged");
    assert_eq!(appended.len(), 3);
    let positions: Vec<_> = appended.iter().map(|(_, p)| p.clone()).collect();

    let decision = ledger
        .check(helmet_email(SUBJECT, &positions))
        .await
        .expect("decision");
    assert!(decision.allowed, "refused: {:?}", decision.reasons_against);
    assert_eq!(lawful_basis(&decision), v1::LawfulBasis::SoftOptIn);
    let sale_id = appended[2].0.to_string();
    assert!(decision
        .relied_on
        .iter()
        .any(|r| r.event_id == sale_id && r.kind == "sale_recorded"));
    let r3b = decision
        .rules
        .iter()
        .find(|r| r.rule_id == "R3b")
        .expect("R3b reported");
    assert_eq!(r3b.outcome, i32::from(v1::RuleOutcome::Satisfied));
    assert!(
        r3b.citation.contains("reg 22(3)"),
        "citation: {}",
        r3b.citation
    );
    let freshness = decision.freshness.expect("freshness");
    assert!(freshness.measured);

    let objected = ledger
        .append(vec![objection(SUBJECT, "2025-06-01T09:00:00Z")])
        .await
        .expect("append acknowledged");
    let positions: Vec<_> = objected.iter().map(|(_, p)| p.clone()).collect();
    let decision = ledger
        .check(helmet_email(SUBJECT, &positions))
        .await
        .expect("decision");
    assert!(!decision.allowed);
    assert_eq!(lawful_basis(&decision), v1::LawfulBasis::None);
    let objection = decision
        .reasons_against
        .iter()
        .find(|r| r.code == "objection_recorded")
        .expect("the objection is a reason against");
    assert_eq!(objection.event_ids, vec![objected[0].0.to_string()]);
    assert!(
        objection.citation.contains("Art 21"),
        "citation: {}",
        objection.citation
    );

    running.stop().await;
}

#[tokio::test]
async fn an_invalid_event_rejects_the_whole_append_and_nothing_is_appended() {
    let dir = tempfile::tempdir().expect("tempdir");
    let running = RunningLedger::start(dir.path(), memory(), LedgerConfig::default());
    let before = running.log.end_offsets().await.expect("end offsets");

    let events = vec![
        sale(SUBJECT, "2025-03-01T12:00:00Z"),
        consent_without_channels(SUBJECT),
        objection(SUBJECT, "2025-06-01T09:00:00Z"),
    ];
    let error = running.ledger.append(events).await.expect_err("refused");

    let LedgerError::Invalid { index, error } = error else {
        panic!("not a validation error: {error}")
    };
    assert_eq!(index, Some(1));
    assert_eq!(error.field, "events[1].consent_given.channels[0]");
    assert_eq!(
        running.log.end_offsets().await.expect("end offsets"),
        before
    );
    running.stop().await;
}

#[tokio::test]
async fn a_bad_check_fails_its_batch_naming_its_index() {
    let dir = tempfile::tempdir().expect("tempdir");
    let running = RunningLedger::start(dir.path(), memory(), LedgerConfig::default());
    let mut bad = helmet_email(SUBJECT, &[]);
    bad.purpose = v1::Purpose::Unspecified.into();

    let error = running
        .ledger
        .check_batch(vec![helmet_email(SUBJECT, &[]), bad])
        .await
        .expect_err("refused");

    let LedgerError::Invalid { index, error } = error else {
        panic!("not a validation error: {error}")
    };
    assert_eq!(index, Some(1));
    assert_eq!(error.field, "checks[1].purpose");
    running.stop().await;
}

#[tokio::test]
async fn checks_in_order_keep_the_decisions_before_the_first_that_fails() {
    let dir = tempfile::tempdir().expect("tempdir");
    let running = RunningLedger::start(dir.path(), memory(), LedgerConfig::default());
    let mut bad = helmet_email(SUBJECT, &[]);
    bad.purpose = v1::Purpose::Unspecified.into();
    let checks = vec![
        helmet_email(SUBJECT, &[]),
        helmet_email(SUBJECT, &[]),
        bad,
        helmet_email(SUBJECT, &[]),
    ];

    let (decisions, failed) = running.ledger.check_in_order(&checks).await;

    assert_eq!(decisions.len(), 2, "the two checks before the bad one");
    let (index, error) = failed.expect("the third check fails");
    assert_eq!(index, 2);
    // Decided alone, the failing check names its own field.
    assert_eq!(error.field().as_deref(), Some("purpose"));

    let (decisions, failed) = running.ledger.check_in_order(&checks[..2]).await;
    assert_eq!(decisions.len(), 2);
    assert!(failed.is_none());
    running.stop().await;
}

#[tokio::test]
async fn a_wait_answers_once_the_view_has_applied_the_positions_and_refuses_what_it_never_will() {
    let dir = tempfile::tempdir().expect("tempdir");
    let running = RunningLedger::start(dir.path(), memory(), LedgerConfig::default());
    let appended = running
        .ledger
        .append(shop_and_sale())
        .await
        .expect("appended");
    let positions: Vec<v1::LogPosition> = appended
        .into_iter()
        .map(|(_, position)| v1::LogPosition::from(position))
        .collect();

    let waited = running
        .ledger
        .wait_for(v1::WaitRequest {
            positions: positions.clone(),
            timeout_ms: 10_000,
        })
        .await
        .expect("the view applies the append");
    for position in &positions {
        assert!(
            waited
                .applied
                .iter()
                .any(|applied| applied.topic == position.topic
                    && applied.partition == position.partition
                    && applied.offset >= position.offset),
            "{position:?} reported applied"
        );
    }

    let too_long = running
        .ledger
        .wait_for(v1::WaitRequest {
            positions: positions.clone(),
            timeout_ms: consent_service::MAX_WAIT_MS + 1,
        })
        .await
        .expect_err("too long a wait");
    assert_eq!(too_long.field().as_deref(), Some("timeout_ms"));

    let elsewhere = running
        .ledger
        .wait_for(v1::WaitRequest {
            positions: vec![v1::LogPosition {
                topic: "elsewhere".to_owned(),
                partition: 0,
                offset: 0,
            }],
            timeout_ms: 0,
        })
        .await
        .expect_err("not a topic of the log");
    assert_eq!(elsewhere.field().as_deref(), Some("positions[0]"));

    let mut beyond = positions[0].clone();
    beyond.offset += 1_000;
    let timeout = running
        .ledger
        .wait_for(v1::WaitRequest {
            positions: vec![beyond],
            timeout_ms: 50,
        })
        .await
        .expect_err("never applied");
    assert_eq!(timeout.kind(), consent_service::ErrorKind::WaitTimeout);
    running.stop().await;
}

#[tokio::test]
async fn a_batch_answers_each_check_in_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    let running = RunningLedger::start(dir.path(), memory(), LedgerConfig::default());
    let appended = running
        .ledger
        .append(shop_and_sale())
        .await
        .expect("appended");
    let positions: Vec<_> = appended.into_iter().map(|(_, p)| p).collect();

    let decisions = running
        .ledger
        .check_batch(vec![
            helmet_email(SUBJECT, &positions),
            helmet_email("stranger", &[]),
        ])
        .await
        .expect("decisions");

    assert_eq!(
        decisions.iter().map(|d| d.allowed).collect::<Vec<_>>(),
        [true, false]
    );
    // A subject with no record: email still needs a basis (R3).
    assert!(reason_codes(&decisions[1]).contains(&"no_basis_for_electronic_mail"));
    running.stop().await;
}

/// `omit_texts`: the same decision, without its prose.
#[tokio::test]
async fn a_check_without_texts_is_the_full_decision_without_its_prose() {
    let dir = tempfile::tempdir().expect("tempdir");
    let running = RunningLedger::start(dir.path(), memory(), LedgerConfig::default());
    let appended = running
        .ledger
        .append(shop_and_sale())
        .await
        .expect("appended");
    let positions: Vec<_> = appended.into_iter().map(|(_, p)| p).collect();
    let without_texts = |check: v1::CheckRequest| v1::CheckRequest {
        omit_texts: true,
        ..check
    };
    let allowed = helmet_email(SUBJECT, &positions);
    let mut refused = helmet_email(SUBJECT, &[]);
    refused.opt_out_included = false;
    let stranger = helmet_email("stranger", &[]);

    let decisions = running
        .ledger
        .check_batch(vec![
            allowed.clone(),
            refused.clone(),
            stranger.clone(),
            without_texts(allowed.clone()),
            without_texts(refused.clone()),
            without_texts(stranger.clone()),
        ])
        .await
        .expect("decisions");
    let (full, lean) = decisions.split_at(3);

    assert_eq!(
        full.iter().map(|d| d.allowed).collect::<Vec<_>>(),
        [true, false, false]
    );
    assert!(reason_codes(&lean[1]).contains(&"no_opt_out_in_message"));
    for (full, lean) in full.iter().zip(lean) {
        assert!(full.rules.iter().all(|r| !r.title.is_empty()));
        assert!(lean
            .rules
            .iter()
            .all(|r| r.title.is_empty() && r.citation.is_empty() && r.detail.is_empty()));
        assert!(lean
            .reasons_against
            .iter()
            .all(|r| r.message.is_empty() && r.citation.is_empty()));
        assert_eq!(*lean, prose_removed(full.clone()));
    }
    let single = running
        .ledger
        .check(without_texts(refused))
        .await
        .expect("decision");
    assert_eq!(single.reasons_against, lean[1].reasons_against);
    assert_eq!(single.rules, lean[1].rules);
    running.stop().await;
}

/// A wire decision with every rule's title, citation and detail and every
/// reason's message and citation emptied.
fn prose_removed(mut decision: v1::Decision) -> v1::Decision {
    for rule in &mut decision.rules {
        rule.title.clear();
        rule.citation.clear();
        rule.detail.clear();
    }
    for reason in &mut decision.reasons_against {
        reason.message.clear();
        reason.citation.clear();
    }
    decision
}

#[tokio::test]
async fn waiting_for_a_position_the_view_never_reaches_times_out() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = LedgerConfig {
        wait_timeout: Duration::from_millis(200),
        ..LedgerConfig::default()
    };
    let running = RunningLedger::start(dir.path(), memory(), config);
    let topic = layout().topics()[0].clone();
    let beyond = consent_log::LogPosition::new(topic, 0, 10_000);

    let error = running
        .ledger
        .check(helmet_email(SUBJECT, std::slice::from_ref(&beyond)))
        .await;

    match error {
        Err(LedgerError::WaitTimeout { pending, .. }) => assert_eq!(pending, vec![beyond]),
        other => panic!("expected a wait timeout, got {other:?}"),
    }
    running.stop().await;
}

#[tokio::test]
async fn a_wait_for_position_outside_the_log_is_refused_naming_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let running = RunningLedger::start(dir.path(), memory(), LedgerConfig::default());
    let elsewhere = consent_log::LogPosition::new("other.grants", 0, 1);

    let error = running
        .ledger
        .check(helmet_email(SUBJECT, &[elsewhere]))
        .await;

    match error {
        Err(LedgerError::Invalid { error, .. }) => assert_eq!(error.field, "wait_for[0].topic"),
        other => panic!("expected a validation error, got {other:?}"),
    }
    running.stop().await;
}

#[tokio::test]
async fn an_unknown_rule_set_is_refused_by_name() {
    let dir = tempfile::tempdir().expect("tempdir");
    let running = RunningLedger::start(dir.path(), memory(), LedgerConfig::default());
    let mut check = helmet_email(SUBJECT, &[]);
    check.rule_set_id = "eu-eprivacy-2002".to_owned();

    let error = running.ledger.check(check).await.expect_err("refused");

    assert!(matches!(error, LedgerError::UnknownRuleSet(_)), "{error:?}");
    assert_eq!(error.to_string(), "unknown rule set `eu-eprivacy-2002`");
    running.stop().await;
}

#[tokio::test]
async fn history_as_of_a_time_lists_the_earlier_events_and_decides_as_then() {
    let dir = tempfile::tempdir().expect("tempdir");
    let running = RunningLedger::start(dir.path(), memory(), LedgerConfig::default());
    let mut events = shop_and_sale();
    events.push(objection(SUBJECT, "2025-06-01T09:00:00Z"));
    let appended = running.ledger.append(events).await.expect("appended");
    let positions: Vec<_> = appended.iter().map(|(_, p)| p.clone()).collect();
    let (org, subject) = (OrganisationId::new(ORG), SubjectId::new(SUBJECT));

    let before_objection = Timestamp::parse_rfc3339("2025-04-01T00:00:00Z");
    let then = running
        .ledger
        .history(
            &org,
            &subject,
            before_objection,
            Some(helmet_email(SUBJECT, &positions)),
        )
        .await
        .expect("history");
    let now = running
        .ledger
        .history(&org, &subject, None, None)
        .await
        .expect("history");

    let kinds = |history: &v1::HistoryResponse| -> Vec<Option<v1::envelope::Payload>> {
        history
            .events
            .iter()
            .map(|e| e.event.as_ref().and_then(|e| e.payload.clone()))
            .collect()
    };
    assert_eq!(then.events.len(), 1, "only the sale had happened");
    assert!(matches!(
        kinds(&then)[0],
        Some(v1::envelope::Payload::SaleRecorded(_))
    ));
    assert_eq!(
        then.events[0].position,
        Some(v1::LogPosition::from(&appended[2].1))
    );
    let decision = then.decision.expect("a decision was asked for");
    assert!(decision.allowed, "refused: {:?}", decision.reasons_against);
    assert_eq!(decision.rule_set_id, "uk-pecr-2003");
    assert_eq!(decision.evaluated_at, Some(at("2025-04-01T00:00:00Z")));

    assert_eq!(now.events.len(), 2);
    assert!(matches!(
        kinds(&now)[1],
        Some(v1::envelope::Payload::ObjectionRecorded(_))
    ));
    assert_eq!(now.decision, None);
    running.stop().await;
}

struct FixedClock(Timestamp);

impl Clock for FixedClock {
    fn now(&self) -> Timestamp {
        self.0
    }
}

struct FixedId(uuid::Uuid);

impl IdGenerator for FixedId {
    fn new_id(&self) -> EventId {
        EventId(self.0)
    }
}

#[tokio::test]
async fn the_ledger_stamps_missing_ids_and_recorded_at_and_keeps_given_ones() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = consent_log_embedded::EmbeddedLog::open(dir.path(), layout()).expect("open log");
    let store = memory();
    let projector = consent_projector::Projector::new(
        Arc::new(log.clone()),
        store.clone(),
        consent_projector::ProjectorConfig::default(),
    );
    let now = Timestamp::parse_rfc3339("2025-03-01T12:00:05Z").expect("time");
    let assigned = uuid::Uuid::parse_str("0190f2a4-7b3c-7d2e-9f10-1a2b3c4d5e6f").expect("uuid");
    let ledger = consent_service::Ledger::builder(projector.projection())
        .clock(Arc::new(FixedClock(now)))
        .ids(Arc::new(FixedId(assigned)))
        .build();
    let given = "0190f2a4-0000-7000-8000-000000000001";
    // A producer's own recording time, before the ledger received it (an
    // import); one after would be a fact from the future, refused.
    let mut objection = objection(SUBJECT, "2025-02-01T09:00:00Z");
    objection.event_id = given.to_owned();
    objection.recorded_at = Some(at("2025-02-01T09:00:01Z"));

    let appended = ledger
        .append(vec![sale(SUBJECT, "2025-03-01T12:00:00Z"), objection])
        .await
        .expect("ok");

    let ids: Vec<String> = appended.iter().map(|(id, _)| id.to_string()).collect();
    assert_eq!(ids, [assigned.to_string(), given.to_owned()]);
    let mut projector = projector;
    projector.catch_up(&|_| {}).await.expect("projected");
    let history = ledger
        .history(
            &OrganisationId::new(ORG),
            &SubjectId::new(SUBJECT),
            None,
            None,
        )
        .await
        .expect("history");
    let recorded: Vec<_> = history
        .events
        .iter()
        .map(|e| e.event.as_ref().and_then(|e| e.recorded_at))
        .collect();
    assert_eq!(
        recorded,
        [
            Some(at("2025-02-01T09:00:01Z")),
            Some(at("2025-03-01T12:00:05Z"))
        ]
    );
    let versions: Vec<_> = history
        .events
        .iter()
        .map(|e| e.event.as_ref().map(|e| e.schema_version))
        .collect();
    assert_eq!(versions, [Some(1), Some(1)]);
}

#[tokio::test]
async fn after_a_restart_the_log_alone_gives_the_same_decisions() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut check = helmet_email(SUBJECT, &[]);
    check.at = Some(at("2025-05-01T00:00:00Z"));

    let running = RunningLedger::start(dir.path(), memory(), LedgerConfig::default());
    let appended = running
        .ledger
        .append(shop_and_sale())
        .await
        .expect("appended");
    let positions: Vec<_> = appended.into_iter().map(|(_, p)| p).collect();
    let mut first = check.clone();
    first.wait_for = positions.iter().map(v1::LogPosition::from).collect();
    let mut before = running.ledger.check(first.clone()).await.expect("decision");
    running.stop().await;

    // A new process: the same log directory, an empty view rebuilt from it.
    let running = RunningLedger::start(dir.path(), memory(), LedgerConfig::default());
    let mut after = running.ledger.check(first).await.expect("decision");
    before.freshness = None;
    after.freshness = None;
    assert!(after.allowed);
    assert_eq!(after, before);
    running.stop().await;
}

#[tokio::test]
async fn status_reports_the_view_caught_up_with_a_reachable_log() {
    let dir = tempfile::tempdir().expect("tempdir");
    let running = RunningLedger::start(dir.path(), memory(), LedgerConfig::default());
    let appended = running
        .ledger
        .append(shop_and_sale())
        .await
        .expect("appended");
    let positions: Vec<_> = appended.into_iter().map(|(_, p)| p).collect();
    running
        .ledger
        .check(helmet_email(SUBJECT, &positions))
        .await
        .expect("decision");

    let status = running.ledger.status().await;

    assert!(status.log_reachable());
    assert_eq!(status.lag.map(|lag| lag.total), Some(0));
    assert_eq!(status.projection.events_applied, 3);
    assert_eq!(status.projection.dead_letters, 0);
    let ids: Vec<String> = running
        .ledger
        .rule_sets()
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(ids, ["uk-pecr-2003", "uk-pecr-duaa-2026-02-05"]);
    running.stop().await;
}
