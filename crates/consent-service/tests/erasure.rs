//! Erasure in an immutable log (UK GDPR Art 17; docs/ERASURE.md), as an
//! organisation and a regulator would check it: the address is never in the
//! log, the organisation reads it back until erasure, erasure makes it
//! unreadable for good, the person stays suppressed - under a new customer
//! id, after a rebuild of the view - and evidence still verifies.

use consent_audit::audit_bundle;
use consent_domain::rules::RuleCatalogue;
use consent_evidence::CheckpointSigner;
use consent_keystore_sqlite::{SqliteKeyStore, FILE_NAME};
use consent_log::LogPosition;
use consent_projector::OwnedPartitions;
use consent_schema::v1;
use consent_sealing::{ContactDigestKey, Sealer};
use consent_service::{Ledger, LedgerError};
use consent_store::MemoryStore;
use consent_testkit::ledger::*;
use consent_testkit::wire::every_kind::email;
use consent_testkit::wire::*;
use std::path::Path;
use std::sync::Arc;

const ADDRESS: &str = "ada.lovelace@example.com";
const NEW_CUSTOMER: &str = "customer-9001";

fn signer() -> CheckpointSigner {
    CheckpointSigner::from_seed("ledger.test/consent", &[7; 32]).expect("a key")
}

/// The key store in the data directory and a fixed digest key: what
/// `serve` opens on every start.
fn sealer(dir: &Path) -> Sealer {
    let keys = SqliteKeyStore::open(&dir.join(FILE_NAME)).expect("open the key store");
    Sealer::new(ContactDigestKey::from_bytes([3; 32]), Arc::new(keys))
}

fn start(dir: &Path) -> RunningLedger {
    RunningLedger::start_with(
        &dir.join("log"),
        Arc::new(MemoryStore::new()),
        LedgerParts {
            signer: Some(signer()),
            sealer: Some(sealer(dir)),
            ..LedgerParts::default()
        },
    )
}

/// Consent to marketing email, collected with the address it covers.
fn consent_with_address(subject: &str, occurred_at: &str, address: &str) -> v1::Envelope {
    let mut consent = consent_without_channels(subject);
    consent.occurred_at = Some(at(occurred_at));
    if let Some(v1::envelope::Payload::ConsentGiven(given)) = &mut consent.payload {
        given.channels = vec![v1::Channel::Email.into()];
        given.contact_point = Some(email(address));
    }
    consent
}

fn erasure(subject: &str, occurred_at: &str) -> v1::Envelope {
    let mut envelope = objection(subject, occurred_at);
    envelope.payload = Some(v1::envelope::Payload::ErasureRequested(
        v1::ErasureRequested {
            reason: "Art 17 request by letter".to_owned(),
        },
    ));
    envelope
}

/// An email to `subject` at `address` in June 2026.
fn email_to(subject: &str, address: &str, wait_for: &[LogPosition]) -> v1::CheckRequest {
    let mut check = helmet_email(subject, wait_for);
    check.at = Some(at("2026-06-01T09:00:00Z"));
    check.contact_point = Some(email(address));
    check
}

async fn append(ledger: &Ledger, events: Vec<v1::Envelope>) -> Vec<LogPosition> {
    ledger
        .append(events)
        .await
        .expect("append")
        .into_iter()
        .map(|(_, position)| position)
        .collect()
}

/// Waits until the view has applied everything in the log (the
/// suppression is an organisation fact, on another partition than the
/// subject's events).
async fn caught_up(ledger: &Ledger) {
    for _ in 0..500 {
        if ledger.status().await.lag.is_some_and(|lag| lag.total == 0) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("the view did not catch up with the log in 5 s");
}

/// Every byte the embedded log holds on disk.
fn log_bytes(dir: &Path) -> Vec<u8> {
    fn walk(path: &Path, out: &mut Vec<u8>) {
        for entry in std::fs::read_dir(path).expect("read the log directory") {
            let path = entry.expect("an entry").path();
            if path.is_dir() {
                walk(&path, out);
            } else {
                out.extend(std::fs::read(&path).expect("read a log file"));
            }
        }
    }
    let mut bytes = Vec::new();
    walk(&dir.join("log"), &mut bytes);
    bytes
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

fn reason_codes_of(decision: &v1::Decision) -> Vec<(String, String)> {
    decision
        .reasons_against
        .iter()
        .map(|r| (r.rule_id.clone(), r.code.clone()))
        .collect()
}

/// The address the subject's consent was collected with, as history shows it.
async fn consent_address(ledger: &Ledger, subject: &str) -> v1::ContactPoint {
    let history = ledger
        .history(&ORG.into(), &subject.into(), None, None)
        .await
        .expect("history");
    history
        .events
        .iter()
        .find_map(|entry| match entry.event.as_ref()?.payload.as_ref()? {
            v1::envelope::Payload::ConsentGiven(given) => given.contact_point.clone(),
            _ => None,
        })
        .expect("the consent in history")
}

#[tokio::test]
async fn an_erased_person_stays_suppressed_and_their_address_is_gone_for_good() {
    let dir = tempfile::tempdir().expect("tempdir");
    let running = start(dir.path());
    let ledger = &running.ledger;

    // Given a customer who consented to email at their address.
    let given = append(
        ledger,
        vec![
            organisation_registered(),
            categories_defined(),
            consent_with_address(
                SUBJECT,
                "2026-01-10T10:00:00Z",
                "  Ada.Lovelace@Example.COM ",
            ),
        ],
    )
    .await;
    let before = ledger
        .check(email_to(SUBJECT, ADDRESS, &given))
        .await
        .expect("check");
    assert!(before.allowed, "consent to this address: {before:?}");

    // The address is nowhere in the log, only its seal; the organisation
    // reads it back (normalised) from its history.
    let stored = log_bytes(dir.path());
    assert!(
        contains(&stored, "Acme Cycles Ltd"),
        "the log files hold records in clear (so the next check means something)"
    );
    assert!(!contains(&stored, ADDRESS), "the address is not stored");
    let shown = consent_address(ledger, SUBJECT).await;
    assert_eq!(shown.value, ADDRESS);
    let sealed = shown.sealed.expect("the sealed form beside it");
    assert_eq!(sealed.digest.len(), 32);
    assert!(!sealed.ciphertext.is_empty());

    // When the customer asks to be erased.
    let erased = append(ledger, vec![erasure(SUBJECT, "2026-02-01T10:00:00Z")]).await;

    // Then nothing may be sent to them.
    let after = ledger
        .check(email_to(SUBJECT, ADDRESS, &erased))
        .await
        .expect("check");
    assert!(!after.allowed);
    assert_eq!(
        reason_codes_of(&after),
        vec![("R9".to_owned(), "erasure_requested".to_owned())]
    );
    // And the address cannot be read any more, by anyone: history shows
    // the seal only.
    let redacted = consent_address(ledger, SUBJECT).await;
    assert_eq!(redacted.value, "", "erased: {redacted:?}");
    assert!(redacted.sealed.is_some());

    // The same address re-imported under a new customer id, with a fresh
    // consent: still refused, on the suppression list. Another address of
    // the new customer is theirs to consent for.
    let reimported = append(
        ledger,
        vec![
            consent_with_address(NEW_CUSTOMER, "2026-03-01T10:00:00Z", ADDRESS),
            consent_with_address(NEW_CUSTOMER, "2026-03-01T10:00:00Z", "ada@new.example"),
        ],
    )
    .await;
    let mut wait = reimported.clone();
    wait.extend(erased.iter().cloned());
    caught_up(ledger).await;
    let suppressed = ledger
        .check(email_to(NEW_CUSTOMER, "ADA.LOVELACE@example.com", &wait))
        .await
        .expect("check");
    assert!(!suppressed.allowed, "{suppressed:?}");
    assert_eq!(
        reason_codes_of(&suppressed),
        vec![("R9".to_owned(), "contact_suppressed".to_owned())]
    );
    let other = ledger
        .check(email_to(NEW_CUSTOMER, "ada@new.example", &wait))
        .await
        .expect("check");
    assert!(other.allowed, "{other:?}");

    // Evidence for both still verifies and recomputes, with the erased
    // address redacted (only its seal is in the bundle).
    for subject in [SUBJECT, NEW_CUSTOMER] {
        let bundle = ledger
            .export(v1::ExportRequest {
                organisation_id: ORG.to_owned(),
                scope: Some(v1::export_request::Scope::Subject(v1::SubjectExport {
                    subject_id: subject.to_owned(),
                    checks: vec![email_to(subject, ADDRESS, &[])],
                })),
                ..Default::default()
            })
            .await
            .expect("export");
        let report = audit_bundle(&bundle, &[signer().verifier_key()], &RuleCatalogue::uk());
        assert!(report.passed(), "{subject}: {report:?}");
        let file = serde_json::to_vec(&bundle).expect("bundle json");
        assert!(
            !contains(&file, ADDRESS),
            "{subject}: no address in the bundle"
        );
        // The question asked comes first; the status decisions (one per
        // channel at the export's time) follow it.
        let asked = bundle.decisions.first().expect("the question asked");
        assert_eq!(
            asked["request"]["channel"], "CHANNEL_EMAIL",
            "{subject}: {asked}"
        );
        assert_eq!(asked["decision"]["allowed"], false, "{subject}: {asked}");
    }
    running.stop().await;

    // A view rebuilt from the log alone (a fresh store, the same log and
    // key store) still refuses both.
    let restarted = start(dir.path());
    caught_up(&restarted.ledger).await;
    for subject in [SUBJECT, NEW_CUSTOMER] {
        let decision = restarted
            .ledger
            .check(email_to(subject, ADDRESS, &[]))
            .await
            .expect("check");
        assert!(!decision.allowed, "{subject} after a rebuild: {decision:?}");
    }
    assert_eq!(consent_address(&restarted.ledger, SUBJECT).await.value, "");
    assert_eq!(
        consent_address(&restarted.ledger, NEW_CUSTOMER).await.value,
        ADDRESS,
        "a subject not erased is still readable after a restart"
    );
    restarted.stop().await;
}

#[tokio::test]
async fn a_producer_cannot_send_a_value_already_sealed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let running = start(dir.path());
    let mut forged = consent_with_address(SUBJECT, "2026-01-10T10:00:00Z", "");
    if let Some(v1::envelope::Payload::ConsentGiven(given)) = &mut forged.payload {
        given.contact_point = Some(v1::ContactPoint {
            kind: v1::ContactKind::Email.into(),
            value: String::new(),
            sealed: Some(v1::SealedValue {
                digest: vec![0; 32],
                ciphertext: vec![],
            }),
        });
    }
    let error = running
        .ledger
        .append(vec![forged])
        .await
        .expect_err("refused");
    let text = error.to_string();
    assert!(
        text.contains("events[0].consent_given.contact_point.sealed"),
        "{text}"
    );
    running.stop().await;
}

/// A subject's key lives with the instance owning its partition: another
/// instance refuses the facts that need it (a contact value to seal, an
/// erasure) naming the partition, and accepts the others.
#[tokio::test]
async fn only_the_owner_of_a_subjects_partition_seals_or_erases_for_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let probe = start(dir.path());
    let partition = probe.ledger.routing(&ORG.into(), &SUBJECT.into()).partition;
    probe.stop().await;
    let elsewhere = RunningLedger::start_with(
        &dir.path().join("log"),
        Arc::new(MemoryStore::new()),
        LedgerParts {
            ownership: OwnedPartitions::Only([(partition + 1) % layout().partitions].into()),
            sealer: Some(sealer(dir.path())),
            ..LedgerParts::default()
        },
    );
    for refused in [
        consent_with_address(SUBJECT, "2026-01-10T10:00:00Z", ADDRESS),
        erasure(SUBJECT, "2026-02-01T10:00:00Z"),
    ] {
        let error = elsewhere
            .ledger
            .append(vec![organisation_registered(), refused])
            .await
            .expect_err("refused by a non-owner");
        assert!(
            matches!(error, LedgerError::WrongPartition { partition: p, .. } if p == partition),
            "{error}"
        );
        assert!(error.to_string().contains("events[1]"), "{error}");
    }
    elsewhere
        .ledger
        .append(vec![
            organisation_registered(),
            sale(SUBJECT, "2026-01-10T10:00:00Z"),
        ])
        .await
        .expect("a fact without contact values is accepted anywhere");
    elsewhere.stop().await;
}

/// A key store every instance shares (as PostgreSQL is), over the memory
/// store: the instance needs no partition of its own to seal or erase.
struct SharedKeys(consent_sealing::MemoryKeyStore);

impl consent_sealing::SubjectKeyStore for SharedKeys {
    fn prepare(
        &self,
        batch: &consent_sealing::SealingBatch,
    ) -> Result<consent_sealing::Prepared, consent_sealing::KeyStoreError> {
        self.0.prepare(batch)
    }

    fn key(
        &self,
        organisation: &consent_domain::OrganisationId,
        subject: &consent_domain::SubjectId,
    ) -> Result<consent_sealing::KeyState, consent_sealing::KeyStoreError> {
        self.0.key(organisation, subject)
    }

    fn is_shared(&self) -> bool {
        true
    }
}

/// With a shared key store any instance seals and erases for any subject:
/// no 421 for contact values or erasures on partitions it does not own.
#[tokio::test]
async fn with_a_shared_key_store_any_instance_seals_and_erases() {
    let dir = tempfile::tempdir().expect("tempdir");
    let probe = start(dir.path());
    let partition = probe.ledger.routing(&ORG.into(), &SUBJECT.into()).partition;
    probe.stop().await;
    let keys = Arc::new(SharedKeys(consent_sealing::MemoryKeyStore::default()));
    let elsewhere = RunningLedger::start_with(
        &dir.path().join("log"),
        Arc::new(MemoryStore::new()),
        LedgerParts {
            ownership: OwnedPartitions::Only([(partition + 1) % layout().partitions].into()),
            sealer: Some(Sealer::new(
                ContactDigestKey::from_bytes([3; 32]),
                Arc::clone(&keys) as Arc<dyn consent_sealing::SubjectKeyStore>,
            )),
            ..LedgerParts::default()
        },
    );
    elsewhere
        .ledger
        .append(vec![
            organisation_registered(),
            consent_with_address(SUBJECT, "2026-01-10T10:00:00Z", ADDRESS),
        ])
        .await
        .expect("a contact value is sealed by a non-owner");
    assert!(matches!(
        consent_sealing::SubjectKeyStore::key(&*keys, &ORG.into(), &SUBJECT.into()),
        Ok(consent_sealing::KeyState::Live(_))
    ));
    elsewhere
        .ledger
        .append(vec![erasure(SUBJECT, "2026-02-01T10:00:00Z")])
        .await
        .expect("an erasure is carried out by a non-owner");
    assert!(matches!(
        consent_sealing::SubjectKeyStore::key(&*keys, &ORG.into(), &SUBJECT.into()),
        Ok(consent_sealing::KeyState::Erased { .. })
    ));
    elsewhere.stop().await;
}
