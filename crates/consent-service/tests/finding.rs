//! What the console asks of the service: a subject found by an address
//! given in clear (through the address's digest: the value is never
//! stored), one address's entry of the suppression list, and the
//! decisions a reader asks for (the eligibility matrix), which are the
//! checks' own decisions.

use consent_domain::{OrganisationId, SubjectId};
use consent_schema::v1;
use consent_sealing::{ContactDigestKey, MemoryKeyStore, Sealer};
use consent_service::{AddressSearch, ErrorKind, Ledger};
use consent_store::MemoryStore;
use consent_testkit::ledger::*;
use consent_testkit::wire::every_kind::email;
use consent_testkit::wire::*;
use std::sync::Arc;

const ADDRESS: &str = "ada.lovelace@example.com";
const MOBILE: &str = "+447700900123";

fn start(dir: &std::path::Path) -> RunningLedger {
    RunningLedger::start_with(
        &dir.join("log"),
        Arc::new(MemoryStore::new()),
        LedgerParts {
            sealer: Some(Sealer::new(
                ContactDigestKey::from_bytes([3; 32]),
                Arc::new(MemoryKeyStore::default()),
            )),
            ..LedgerParts::default()
        },
    )
}

fn with_payload(subject: &str, occurred_at: &str, payload: v1::envelope::Payload) -> v1::Envelope {
    let mut envelope = objection(subject, occurred_at);
    envelope.payload = Some(payload);
    envelope
}

/// Ada's sale with her email address, her mobile number, and her email
/// opt-out.
fn given() -> Vec<v1::Envelope> {
    let mut sale = sale(SUBJECT, "2026-01-10T10:00:00Z");
    if let Some(v1::envelope::Payload::SaleRecorded(recorded)) = &mut sale.payload {
        if let Some(collection) = &mut recorded.collection {
            collection.contact_point = Some(email(ADDRESS));
        }
    }
    vec![
        organisation_registered(),
        categories_defined(),
        sale,
        with_payload(
            SUBJECT,
            "2026-01-11T10:00:00Z",
            v1::envelope::Payload::ContactPointRecorded(v1::ContactPointRecorded {
                contact_point: Some(v1::ContactPoint {
                    kind: v1::ContactKind::Mobile.into(),
                    value: MOBILE.to_owned(),
                    sealed: None,
                }),
            }),
        ),
        with_payload(
            SUBJECT,
            "2026-01-12T10:00:00Z",
            v1::envelope::Payload::OptOutRecorded(v1::OptOutRecorded {
                channels: vec![v1::Channel::Email.into()],
                received_via: v1::OptOutMethod::UnsubscribeLink.into(),
                contact_point: Some(email(ADDRESS)),
                ..Default::default()
            }),
        ),
    ]
}

async fn caught_up(ledger: &Ledger) {
    for _ in 0..500 {
        if ledger.status().await.lag.is_some_and(|lag| lag.total == 0) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("the view did not catch up with the log in 5 s");
}

#[tokio::test]
async fn a_subject_is_found_by_its_address_in_any_spelling_and_only_in_its_organisation() {
    let dir = tempfile::tempdir().expect("tempdir");
    let running = start(dir.path());
    let ledger = &running.ledger;
    ledger.append(given()).await.expect("append");
    caught_up(ledger).await;
    let org = OrganisationId::new(ORG);
    let subject = SubjectId::new(SUBJECT);

    for spelling in [ADDRESS, "  Ada.Lovelace@EXAMPLE.com "] {
        assert_eq!(
            ledger
                .subjects_by_address(&org, AddressSearch::Email, "value", spelling)
                .expect("search"),
            vec![subject.clone()],
            "{spelling:?}"
        );
    }
    for spelling in [MOBILE, "07700 900123", "07700-900-123"] {
        assert_eq!(
            ledger
                .subjects_by_address(&org, AddressSearch::Telephone, "value", spelling)
                .expect("search"),
            vec![subject.clone()],
            "{spelling:?}"
        );
    }
    let nobody = ledger
        .subjects_by_address(&org, AddressSearch::Email, "value", "grace@example.com")
        .expect("search");
    assert!(nobody.is_empty());
    let elsewhere = ledger
        .subjects_by_address(
            &OrganisationId::new("globex"),
            AddressSearch::Email,
            "value",
            ADDRESS,
        )
        .expect("search");
    assert!(
        elsewhere.is_empty(),
        "another organisation's digest differs"
    );
    let refused = ledger
        .subjects_by_address(&org, AddressSearch::Telephone, "value", "not a number")
        .expect_err("refused");
    assert_eq!(refused.kind(), ErrorKind::InvalidArgument);
    assert_eq!(refused.field().as_deref(), Some("value"));

    assert!(ledger.subject_known(&org, &subject).expect("known"));
    assert!(!ledger
        .subject_known(&org, &SubjectId::new("customer-0"))
        .expect("unknown"));
}

#[tokio::test]
async fn an_address_on_the_suppression_list_is_found_by_its_clear_value() {
    let dir = tempfile::tempdir().expect("tempdir");
    let running = start(dir.path());
    let ledger = &running.ledger;
    ledger.append(given()).await.expect("append");
    caught_up(ledger).await;
    let org = OrganisationId::new(ORG);

    let found = ledger
        .suppression_of(&org, AddressSearch::Email, "q", " ADA.lovelace@example.com")
        .await
        .expect("search");
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        found[0].clear_value, ADDRESS,
        "opened with the subject's key"
    );
    assert!(
        found[0].address.starts_with("digest:"),
        "{:?}",
        found[0].address
    );
    assert_eq!(found[0].facts.len(), 1);
    assert_eq!(found[0].facts[0].kind, "opt_out_recorded");
    assert_eq!(found[0].facts[0].subject_id, SUBJECT);
    // The same entry as the list's page shows.
    let page = ledger
        .suppressions(v1::SuppressionListRequest {
            organisation_id: ORG.to_owned(),
            ..Default::default()
        })
        .await
        .expect("the list");
    assert!(page.entries.contains(&found[0]), "{page:?}");

    let absent = ledger
        .suppression_of(&org, AddressSearch::Email, "q", "grace@example.com")
        .await
        .expect("search");
    assert!(absent.is_empty());
}

#[tokio::test]
async fn decisions_for_reading_are_the_checks_own_decisions() {
    let dir = tempfile::tempdir().expect("tempdir");
    let running = start(dir.path());
    let ledger = &running.ledger;
    ledger.append(given()).await.expect("append");
    caught_up(ledger).await;
    let mut questions = Vec::new();
    for channel in [v1::Channel::Email, v1::Channel::Sms, v1::Channel::Post] {
        let mut check = helmet_email(SUBJECT, &[]);
        check.channel = channel.into();
        check.at = Some(at("2026-06-01T09:00:00Z"));
        questions.push(check);
    }
    let read = ledger
        .decisions_for_reading(&questions)
        .await
        .expect("decisions");
    assert_eq!(read.len(), questions.len());
    for (question, decision) in questions.iter().zip(&read) {
        let checked = ledger.check(question.clone()).await.expect("check");
        assert_eq!(decision.allowed, checked.allowed);
        assert_eq!(decision.lawful_basis, checked.lawful_basis);
        assert_eq!(decision.reasons_against, checked.reasons_against);
        assert_eq!(decision.rule_set_id, checked.rule_set_id);
    }
    assert!(!read[0].allowed, "Ada opted out of email: {:?}", read[0]);
}
