//! An evidence bundle verifies as made, and every kind of tampering a
//! regulator must be protected from is reported with a finding that says
//! exactly what failed.

use consent_evidence::merkle::{consistency_proof, inclusion_proof, leaf_hash, root_at, Hash};
use consent_evidence::{
    record_leaf_hash, verify_bundle, verify_bundle_json, BundleContents, Checkpoint,
    CheckpointSigner, ConsistencyEvidence, DecisionContext, DecisionFinding, EvidenceBundle,
    Finding, IncludedRecord, ManifestField, MemoryNodeStore, PartitionConsistency, PartitionHead,
    SignedDocument, VerificationReport, VerifierKey,
};
use consent_log::{LogPosition, TopicPartition};
use serde_json::{json, Value};
use std::collections::BTreeMap;

const ORIGIN: &str = "ledger.example/consent";
/// Records per topic-partition when the checkpoint was signed.
const SIZE: u64 = 14;
/// ... and when the previous checkpoint was.
const PREVIOUS_SIZE: u64 = 10;
const PARTITIONS: [(&str, u32); 4] = [
    ("ledger.grants", 0),
    ("ledger.grants", 1),
    ("ledger.grants", 2),
    ("ledger.optouts", 0),
];
/// The subject's records, in bundle order; the last is its opt-out.
const SUBJECT_RECORDS: [(&str, u32, u64); 5] = [
    ("ledger.grants", 0, 3),
    ("ledger.grants", 1, 10),
    ("ledger.grants", 1, 11),
    ("ledger.grants", 2, 13),
    ("ledger.optouts", 0, 8),
];

fn signer() -> CheckpointSigner {
    CheckpointSigner::from_seed(ORIGIN, &[9; 32]).unwrap()
}

fn trusted() -> Vec<VerifierKey> {
    vec![signer().verifier_key()]
}

/// One log: four topic-partitions of `SIZE` records each, and each one's
/// RFC 9162 tree.
struct Log {
    partitions: BTreeMap<TopicPartition, (Vec<Vec<u8>>, MemoryNodeStore)>,
}

impl Log {
    fn payload(&self, position: &LogPosition) -> Vec<u8> {
        self.partitions[&position.topic_partition()].0
            [usize::try_from(position.offset).expect("small")]
        .clone()
    }

    fn tree(&self, partition: &TopicPartition) -> &MemoryNodeStore {
        &self.partitions[partition].1
    }
}

fn log(variant: &str) -> Log {
    let partitions = PARTITIONS
        .iter()
        .map(|&(topic, partition)| {
            let partition = TopicPartition::new(topic, partition);
            let kind = if topic.ends_with("optouts") {
                "optout"
            } else {
                "grant"
            };
            let payloads: Vec<Vec<u8>> = (0..SIZE)
                .map(|offset| format!("{kind}:{variant}:{partition}@{offset}").into_bytes())
                .collect();
            let store = MemoryNodeStore::from_leaf_hashes(payloads.iter().enumerate().map(
                |(offset, payload)| {
                    let position = LogPosition::new(topic, partition.partition, offset as u64);
                    record_leaf_hash(&position, payload).unwrap()
                },
            ))
            .unwrap();
            (partition, (payloads, store))
        })
        .collect();
    Log { partitions }
}

fn checkpoint_at(log: &Log, size: u64, timestamp_ms: u64) -> Checkpoint {
    Checkpoint::over(
        ORIGIN,
        log.partitions.iter().map(|(partition, (_, tree))| {
            PartitionHead::new(partition.clone(), size, root_at(tree, size).unwrap())
        }),
        timestamp_ms,
    )
    .unwrap()
}

fn signed_checkpoint(log: &Log, size: u64, timestamp_ms: u64) -> String {
    checkpoint_at(log, size, timestamp_ms)
        .sign(&signer())
        .unwrap()
}

fn consistency(log: &Log, previous: &str) -> ConsistencyEvidence {
    ConsistencyEvidence {
        previous_checkpoint: previous.to_owned(),
        partitions: log
            .partitions
            .iter()
            .map(|(partition, (_, tree))| PartitionConsistency {
                partition: partition.clone(),
                proof: consistency_proof(tree, PREVIOUS_SIZE, SIZE).unwrap(),
            })
            .collect(),
    }
}

fn contents(log: &Log) -> BundleContents {
    let records = SUBJECT_RECORDS
        .iter()
        .map(|&(topic, partition, offset)| {
            let position = LogPosition::new(topic, partition, offset);
            IncludedRecord {
                payload: log.payload(&position),
                inclusion_proof: inclusion_proof(
                    log.tree(&position.topic_partition()),
                    offset,
                    SIZE,
                )
                .unwrap(),
                position,
            }
        })
        .collect();
    BundleContents {
        rule_set_id: "uk-pecr-2003".to_owned(),
        scope: json!({"organisation": "org-1", "subject": "subject-1"}),
        checkpoint: signed_checkpoint(log, SIZE, 1_738_713_600_000),
        consistency: Some(consistency(
            log,
            &signed_checkpoint(log, PREVIOUS_SIZE, 1_738_000_000_000),
        )),
        records,
        decisions: vec![json!({"channel": "email", "eligible": false, "reason": "opted out"})],
        attachments: json!({"rule_set": {"id": "uk-pecr-2003", "citation": "PECR reg 22"}}),
    }
}

fn bundle() -> EvidenceBundle {
    contents(&log("a")).seal(&signer()).unwrap()
}

/// Stands in for the service layer's recompute: the subject is eligible
/// unless a proven record is an opt-out.
fn recompute(context: &DecisionContext<'_>) -> Vec<DecisionFinding> {
    let opted_out = context
        .records
        .iter()
        .any(|record| record.payload.starts_with(b"optout"));
    let stated = context
        .decisions
        .first()
        .and_then(|d| d.get("eligible"))
        .and_then(Value::as_bool);
    if stated == Some(!opted_out) {
        Vec::new()
    } else {
        vec![DecisionFinding {
            decision: Some(0),
            message: format!(
                "recomputes as eligible = {}, bundle says {stated:?}",
                !opted_out
            ),
        }]
    }
}

fn verify(bundle: &EvidenceBundle) -> VerificationReport {
    verify_bundle(bundle, &trusted(), &recompute)
}

fn has(report: &VerificationReport, wanted: impl Fn(&Finding) -> bool) -> bool {
    report.findings.iter().any(wanted)
}

fn assert_finds(report: &VerificationReport, what: &str, wanted: impl Fn(&Finding) -> bool) {
    assert!(!report.passed(), "{what}: passed");
    assert!(has(report, wanted), "{what}: no such finding in\n{report}");
}

#[test]
fn an_untampered_bundle_passes_after_a_round_trip_through_its_file() {
    let bundle = bundle();
    let file = bundle.to_json_pretty().unwrap();
    let report = verify_bundle_json(&file, &trusted(), &recompute);
    assert!(report.passed(), "{report}");
    assert_eq!(report.records, 5);
    assert_eq!(report.records_proven, 5);
    assert_eq!(
        report.checkpoint.as_ref().map(Checkpoint::records),
        Some(4 * SIZE)
    );
    assert_eq!(
        report.previous_checkpoint.as_ref().map(Checkpoint::records),
        Some(4 * PREVIOUS_SIZE)
    );
    assert_eq!(
        report.checkpoint_signed_by,
        vec![signer().verifier_key().label()]
    );
    assert!(report.to_string().starts_with("PASS\n"));
}

#[test]
fn flipping_any_byte_of_any_record_is_caught_and_names_the_record() {
    let original = bundle();
    for record in 0..original.records.len() {
        for byte in 0..original.records[record].payload.len() {
            let mut tampered = original.clone();
            tampered.records[record].payload[byte] ^= 0x01;
            let report = verify(&tampered);
            let position = &original.records[record].position;
            assert_finds(
                &report,
                &format!("record {record} byte {byte}"),
                |f| matches!(f, Finding::InclusionProofFailed { record: r, position: p, .. } if *r == record && p == position),
            );
            assert!(has(&report, |f| matches!(
                f,
                Finding::ManifestMismatch {
                    field: ManifestField::Records,
                    ..
                }
            )));
        }
    }
}

#[test]
fn moving_a_record_to_another_position_is_caught() {
    let original = bundle();
    let mut other_offset = original.clone();
    other_offset.records[1].position.offset += 1;
    assert_finds(&verify(&other_offset), "offset", |f| {
        matches!(f, Finding::InclusionProofFailed { record: 1, .. })
    });

    let mut other_partition = original.clone();
    other_partition.records[1].position.partition += 1;
    assert_finds(&verify(&other_partition), "partition", |f| {
        matches!(f, Finding::InclusionProofFailed { record: 1, .. })
    });

    let mut other_topic = original.clone();
    other_topic.records[1].position.topic = "ledger.optouts".to_owned();
    assert_finds(&verify(&other_topic), "topic", |f| {
        matches!(f, Finding::InclusionProofFailed { record: 1, .. })
    });

    let mut unknown_partition = original.clone();
    unknown_partition.records[1].position.partition = 7;
    assert_finds(&verify(&unknown_partition), "unknown partition", |f| {
        matches!(f, Finding::InclusionProofFailed { record: 1, reason, .. }
            if reason.contains("no tree for ledger.grants/7"))
    });
}

#[test]
fn dropping_any_record_is_caught() {
    let original = bundle();
    for record in 0..original.records.len() {
        let mut tampered = original.clone();
        tampered.records.remove(record);
        assert_finds(&verify(&tampered), &format!("drop {record}"), |f| {
            matches!(f, Finding::ManifestMismatch { field: ManifestField::RecordCount, signed, found }
                if signed == "5 records" && found == "4 records")
        });
    }
}

#[test]
fn dropping_the_opt_out_also_fails_the_decision_recompute() {
    let mut tampered = bundle();
    tampered
        .records
        .retain(|record| record.position.topic != "ledger.optouts");
    let report = verify(&tampered);
    assert_finds(&report, "decision", |f| {
        matches!(
            f,
            Finding::Decision {
                decision: Some(0),
                ..
            }
        )
    });
}

#[test]
fn reordering_records_is_caught() {
    let original = bundle();
    for record in 1..original.records.len() {
        let mut tampered = original.clone();
        tampered.records.swap(record - 1, record);
        let report = verify(&tampered);
        assert_finds(
            &report,
            &format!("swap {record}"),
            |f| matches!(f, Finding::RecordOutOfOrder { record: r, .. } if *r == record),
        );
        assert!(has(&report, |f| matches!(
            f,
            Finding::ManifestMismatch {
                field: ManifestField::Records,
                ..
            }
        )));
    }
}

#[test]
fn a_repeated_record_is_caught() {
    let mut tampered = bundle();
    let copy = tampered.records[1].clone();
    tampered.records.insert(2, copy);
    let report = verify(&tampered);
    assert_finds(&report, "duplicate", |f| {
        matches!(
            f,
            Finding::DuplicateRecord {
                record: 2,
                first_record: 1,
                ..
            }
        )
    });
    assert!(has(&report, |f| matches!(
        f,
        Finding::ManifestMismatch {
            field: ManifestField::RecordCount,
            ..
        }
    )));
}

#[test]
fn a_checkpoint_from_another_tree_is_caught() {
    let original = bundle();
    // Properly signed by the same key, but over a different history.
    let mut other_tree = original.clone();
    other_tree.checkpoint = signed_checkpoint(&log("b"), SIZE, 1_738_713_600_000);
    let report = verify(&other_tree);
    for record in 0..original.records.len() {
        assert_finds(
            &report,
            "other tree",
            |f| matches!(f, Finding::InclusionProofFailed { record: r, .. } if *r == record),
        );
    }
    assert!(has(&report, |f| matches!(
        f,
        Finding::ManifestMismatch {
            field: ManifestField::Checkpoint,
            ..
        }
    )));
    assert!(has(&report, |f| matches!(
        f,
        Finding::ConsistencyProofFailed { .. }
    )));

    // An earlier checkpoint of the same log does not contain offsets 10..14.
    let mut earlier = original.clone();
    earlier.checkpoint = signed_checkpoint(&log("a"), PREVIOUS_SIZE, 1_738_000_000_000);
    // (and the proofs, made for trees of 14 records, fit none of its trees).
    let report = verify(&earlier);
    for record in 0..original.records.len() {
        assert_finds(&report, "earlier checkpoint", |f| {
            matches!(f, Finding::InclusionProofFailed { record: r, reason, .. }
                if *r == record && reason.contains("has 10 records in the checkpoint"))
        });
    }
}

#[test]
fn an_edited_checkpoint_fails_its_signature() {
    let mut tampered = bundle();
    // Re-signing is impossible without the key; an edited line that still
    // parses (a later time) must fail the signature.
    tampered.checkpoint =
        tampered
            .checkpoint
            .replacen("time-ms 1738713600000", "time-ms 1738713600001", 1);
    let report = verify(&tampered);
    assert_finds(&report, "edited checkpoint", |f| {
        matches!(
            f,
            Finding::BadSignature {
                document: SignedDocument::Checkpoint,
                ..
            }
        )
    });
}

#[test]
fn a_bundle_checked_with_the_wrong_key_fails() {
    let stranger = CheckpointSigner::from_seed(ORIGIN, &[10; 32]).unwrap();
    let report = verify_bundle(&bundle(), &[stranger.verifier_key()], &recompute);
    for document in [
        SignedDocument::Checkpoint,
        SignedDocument::PreviousCheckpoint,
        SignedDocument::Manifest,
    ] {
        assert_finds(
            &report,
            &format!("{document}"),
            |f| matches!(f, Finding::NotSignedByTrustedKey { document: d, signers } if *d == document && signers == &vec![signer().verifier_key().label()]),
        );
    }

    // A forger who re-signs everything with their own key is not trusted.
    let log = log("a");
    let mut forged = contents(&log);
    forged.checkpoint = checkpoint_at(&log, SIZE, 1).sign(&stranger).unwrap();
    let forged = forged.seal(&stranger).unwrap();
    let report = verify(&forged);
    assert_finds(&report, "forged", |f| {
        matches!(
            f,
            Finding::NotSignedByTrustedKey {
                document: SignedDocument::Checkpoint,
                ..
            }
        )
    });
    assert!(has(&report, |f| matches!(
        f,
        Finding::NotSignedByTrustedKey {
            document: SignedDocument::Manifest,
            ..
        }
    )));
}

#[test]
fn a_broken_or_forked_consistency_proof_is_caught() {
    let original = bundle();
    let mut bad_proof = original.clone();
    if let Some(consistency) = bad_proof.consistency.as_mut() {
        let proof = &mut consistency.partitions[2].proof;
        let mut bytes = *proof[0].as_bytes();
        bytes[0] ^= 0x10;
        proof[0] = Hash::from_bytes(bytes);
    }
    assert_finds(&verify(&bad_proof), "bad proof", |f| {
        matches!(
            f,
            Finding::ConsistencyProofFailed {
                partition,
                old_size: PREVIOUS_SIZE,
                new_size: SIZE,
                ..
            } if partition == &TopicPartition::new("ledger.grants", 2)
        )
    });

    // A partition's proof left out.
    let mut missing = original.clone();
    if let Some(consistency) = missing.consistency.as_mut() {
        consistency.partitions.remove(3);
    }
    assert_finds(&verify(&missing), "missing proof", |f| {
        matches!(f, Finding::ConsistencyProofFailed { partition, reason, .. }
            if partition == &TopicPartition::new("ledger.optouts", 0) && reason.contains("no consistency proof"))
    });

    // A previously published checkpoint of a different (forked) history.
    let mut forked = original.clone();
    if let Some(consistency) = forked.consistency.as_mut() {
        consistency.previous_checkpoint =
            signed_checkpoint(&log("b"), PREVIOUS_SIZE, 1_738_000_000_000);
    }
    let report = verify(&forked);
    assert_finds(&report, "fork", |f| {
        matches!(f, Finding::ConsistencyProofFailed { .. })
    });
    assert!(has(&report, |f| matches!(
        f,
        Finding::ManifestMismatch {
            field: ManifestField::PreviousCheckpoint,
            ..
        }
    )));

    let mut removed = original;
    removed.consistency = None;
    assert_finds(
        &verify(&removed),
        "removed",
        |f| matches!(f, Finding::ManifestMismatch { field: ManifestField::PreviousCheckpoint, found, .. } if found == "none"),
    );
}

#[test]
fn edited_decisions_rule_set_or_scope_are_caught() {
    let original = bundle();
    let mut decision = original.clone();
    decision.decisions[0]["eligible"] = json!(true);
    let report = verify(&decision);
    assert_finds(&report, "decision", |f| {
        matches!(
            f,
            Finding::ManifestMismatch {
                field: ManifestField::Decisions,
                ..
            }
        )
    });
    assert!(has(&report, |f| matches!(
        f,
        Finding::Decision {
            decision: Some(0),
            ..
        }
    )));

    let mut rule_set = original.clone();
    rule_set.rule_set_id = "uk-pecr-2026-charity".to_owned();
    assert_finds(&verify(&rule_set), "rule set", |f| {
        matches!(f, Finding::ManifestMismatch { field: ManifestField::RuleSet, signed, found }
            if signed == "uk-pecr-2003" && found == "uk-pecr-2026-charity")
    });

    let mut attachments = original.clone();
    attachments.attachments["rule_set"]["citation"] = json!("PECR reg 21");
    assert_finds(&verify(&attachments), "attachments", |f| {
        matches!(
            f,
            Finding::ManifestMismatch {
                field: ManifestField::Attachments,
                ..
            }
        )
    });

    let mut scope = original;
    scope.scope["subject"] = json!("subject-2");
    assert_finds(&verify(&scope), "scope", |f| {
        matches!(
            f,
            Finding::ManifestMismatch {
                field: ManifestField::Scope,
                ..
            }
        )
    });
}

#[test]
fn flipping_any_byte_of_the_bundle_file_fails_verification() {
    // A small bundle, so every byte of its file can be tried.
    let log = log("a");
    let mut small = contents(&log);
    small.records.truncate(2);
    small.decisions = vec![json!({"eligible": true})];
    let file = small.seal(&signer()).unwrap().to_json_pretty().unwrap();
    let accept_all = |_: &DecisionContext<'_>| Vec::new();
    assert!(verify_bundle_json(&file, &trusted(), &accept_all).passed());
    for i in 0..file.len() {
        for flip in [0x01u8, 0x20] {
            let mut tampered = file.clone();
            tampered[i] ^= flip;
            let report = verify_bundle_json(&tampered, &trusted(), &accept_all);
            assert!(
                !report.passed(),
                "flipping byte {i} ({:?}) with {flip:#04x} went unnoticed",
                file[i] as char
            );
        }
    }
}

#[test]
fn findings_read_as_sentences_naming_the_record() {
    let mut tampered = bundle();
    tampered.records[2].payload[0] ^= 1;
    let report = verify(&tampered);
    let text = report.to_string();
    assert!(text.starts_with("FAIL\n"), "{text}");
    assert!(
        text.contains("record 2 (ledger.grants/1@11): not proven to be in the checkpoint's log"),
        "{text}"
    );
    // Findings serialise for machines too.
    let json = serde_json::to_value(&report).unwrap();
    assert!(json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["kind"] == "inclusion_proof_failed" && f["record"] == 2));
}

#[test]
fn unreadable_files_fail_with_the_path_of_the_problem() {
    let mut value = serde_json::to_value(bundle()).unwrap();
    value["records"][3]["payload"] = json!("not base64!");
    let report = verify_bundle_json(&serde_json::to_vec(&value).unwrap(), &trusted(), &recompute);
    assert_finds(
        &report,
        "unreadable",
        |f| matches!(f, Finding::Unreadable { reason } if reason.contains("records[3].payload")),
    );
}

#[test]
fn leaf_hash_of_an_empty_payload_is_still_bound_to_its_position() {
    let a = record_leaf_hash(&LogPosition::new("t", 0, 0), b"").unwrap();
    let b = record_leaf_hash(&LogPosition::new("t", 0, 1), b"").unwrap();
    assert_ne!(a, b);
    assert_ne!(a, leaf_hash(b""));
}
