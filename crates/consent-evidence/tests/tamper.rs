//! An evidence bundle verifies as made, and every kind of tampering a
//! regulator must be protected from is reported with a finding that says
//! exactly what failed.

use consent_evidence::merkle::{consistency_proof, inclusion_proof, leaf_hash, root_at, Hash};
use consent_evidence::{
    record_leaf_hash, verify_bundle, verify_bundle_json, BundleContents, Checkpoint,
    CheckpointSigner, ConsistencyEvidence, DecisionContext, DecisionFinding, EvidenceBundle,
    Finding, IncludedRecord, ManifestField, MemoryNodeStore, SignedDocument, VerificationReport,
    VerifierKey,
};
use consent_log::LogPosition;
use serde_json::{json, Value};

const ORIGIN: &str = "ledger.example/consent";
const TREE_SIZE: u64 = 40;
const PREVIOUS_SIZE: u64 = 30;
/// The leaves of the subject the bundle is about.
const SUBJECT_LEAVES: [u64; 5] = [3, 10, 11, 25, 39];
/// Leaf 25 is the subject's opt-out.
const OPT_OUT_LEAF: u64 = 25;

fn signer() -> CheckpointSigner {
    CheckpointSigner::from_seed(ORIGIN, &[9; 32]).unwrap()
}

fn trusted() -> Vec<VerifierKey> {
    vec![signer().verifier_key()]
}

/// One log: records spread over topics and partitions, in the order the
/// projector appended them.
struct Log {
    records: Vec<(LogPosition, Vec<u8>)>,
    store: MemoryNodeStore,
}

fn log(variant: &str) -> Log {
    let records: Vec<(LogPosition, Vec<u8>)> = (0..TREE_SIZE)
        .map(|i| {
            let topic = if i == OPT_OUT_LEAF {
                "ledger.optouts"
            } else {
                "ledger.grants"
            };
            let position = LogPosition::new(topic, (i % 3) as u32, i / 3);
            let kind = if i == OPT_OUT_LEAF { "optout" } else { "grant" };
            (position, format!("{kind}:{variant}:event-{i}").into_bytes())
        })
        .collect();
    let store = MemoryNodeStore::from_leaf_hashes(
        records
            .iter()
            .map(|(position, payload)| record_leaf_hash(position, payload).unwrap()),
    )
    .unwrap();
    Log { records, store }
}

fn signed_checkpoint(log: &Log, size: u64, timestamp_ms: u64) -> String {
    Checkpoint {
        origin: ORIGIN.to_owned(),
        tree_size: size,
        root_hash: root_at(&log.store, size).unwrap(),
        timestamp_ms,
    }
    .sign(&signer())
    .unwrap()
}

fn contents(log: &Log) -> BundleContents {
    let records = SUBJECT_LEAVES
        .iter()
        .map(|&leaf_index| {
            let (position, payload) = log.records[leaf_index as usize].clone();
            IncludedRecord {
                leaf_index,
                position,
                payload,
                inclusion_proof: inclusion_proof(&log.store, leaf_index, TREE_SIZE).unwrap(),
            }
        })
        .collect();
    BundleContents {
        rule_set_id: "uk-pecr-2003".to_owned(),
        scope: json!({"organisation": "org-1", "subject": "subject-1"}),
        checkpoint: signed_checkpoint(log, TREE_SIZE, 1_738_713_600_000),
        consistency: Some(ConsistencyEvidence {
            previous_checkpoint: signed_checkpoint(log, PREVIOUS_SIZE, 1_738_000_000_000),
            proof: consistency_proof(&log.store, PREVIOUS_SIZE, TREE_SIZE).unwrap(),
        }),
        records,
        decisions: vec![json!({"channel": "email", "eligible": false, "reason": "opted out"})],
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
        report.checkpoint.as_ref().map(|c| c.tree_size),
        Some(TREE_SIZE)
    );
    assert_eq!(
        report.previous_checkpoint.as_ref().map(|c| c.tree_size),
        Some(PREVIOUS_SIZE)
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
            let leaf_index = original.records[record].leaf_index;
            assert_finds(
                &report,
                &format!("record {record} byte {byte}"),
                |f| matches!(f, Finding::InclusionProofFailed { record: r, leaf_index: l, .. } if *r == record && *l == leaf_index),
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
fn moving_a_record_to_another_position_or_leaf_is_caught() {
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

    let mut other_leaf = original.clone();
    other_leaf.records[2].leaf_index = 12;
    assert_finds(&verify(&other_leaf), "leaf index", |f| {
        matches!(
            f,
            Finding::InclusionProofFailed {
                record: 2,
                leaf_index: 12,
                ..
            }
        )
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
        .retain(|record| record.leaf_index != OPT_OUT_LEAF);
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
            Finding::DuplicateLeafIndex {
                record: 2,
                leaf_index: 10,
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
    other_tree.checkpoint = signed_checkpoint(&log("b"), TREE_SIZE, 1_738_713_600_000);
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

    // An earlier checkpoint of the same log does not contain leaf 39.
    let mut earlier = original.clone();
    earlier.checkpoint = signed_checkpoint(&log("a"), PREVIOUS_SIZE, 1_738_000_000_000);
    assert_finds(&verify(&earlier), "earlier checkpoint", |f| {
        matches!(f, Finding::InclusionProofFailed { leaf_index: 39, .. })
    });
}

#[test]
fn an_edited_checkpoint_fails_its_signature() {
    let mut tampered = bundle();
    tampered.checkpoint = tampered.checkpoint.replacen("\n40\n", "\n41\n", 1);
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
    forged.checkpoint = Checkpoint {
        origin: ORIGIN.to_owned(),
        tree_size: TREE_SIZE,
        root_hash: root_at(&log.store, TREE_SIZE).unwrap(),
        timestamp_ms: 1,
    }
    .sign(&stranger)
    .unwrap();
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
        let mut bytes = *consistency.proof[0].as_bytes();
        bytes[0] ^= 0x10;
        consistency.proof[0] = Hash::from_bytes(bytes);
    }
    assert_finds(&verify(&bad_proof), "bad proof", |f| {
        matches!(
            f,
            Finding::ConsistencyProofFailed {
                old_size: PREVIOUS_SIZE,
                new_size: TREE_SIZE,
                ..
            }
        )
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
        text.contains(
            "record 2 (leaf 11, ledger.grants/2@3): not proven to be in the checkpoint's tree"
        ),
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
