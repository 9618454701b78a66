//! Assembling an evidence bundle from the view and the log.
//!
//! For the subjects in scope it takes every history entry (exact stored
//! bytes and position) that the checkpoint covers, and the organisation's
//! own facts (registration, product similarity) read back from the log;
//! proves each record against its partition's tree at the checkpoint's
//! size; decides every question from exactly those records
//! (`consent-audit`, as a verifier will); attaches the rule sets used,
//! with their citations; and seals the bundle with the checkpoint key.

use crate::checkpoints::SignedCheckpoint;
use crate::error::ExportError;
use crate::fetch::fetch_records;
use crate::scope::{ExportRequest, ExportScope, STATUS_CHANNELS};
use consent_audit::{decide_recorded, EvidenceFacts, RecordedDecision, RULE_SET_IN_FORCE};
use consent_domain::event::Fact;
use consent_domain::rules::{CheckRequest, RuleCatalogue};
use consent_domain::vocabulary::ContactValue;
use consent_domain::vocabulary::{CallCategory, MessageClass, OrganisationKind, Purpose};
use consent_domain::{SubjectId, Timestamp};
use consent_evidence::merkle::{consistency_proof, inclusion_proof, NodeReadError, ProofError};
use consent_evidence::{
    BundleContents, Checkpoint, CheckpointSigner, ConsistencyEvidence, EvidenceBundle,
    IncludedRecord, PartitionConsistency,
};
use consent_log::{EventLog, LogPosition, TopicPartition};
use consent_schema::{log_position, rule_set_to_proto};
use consent_store::{PartitionNodes, StoreError, ViewStore};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

/// The `[from, to)` window of recorded sends an export decides.
type SendWindow = (Timestamp, Timestamp);

/// Builds evidence bundles from a ledger's view and log.
#[derive(Clone)]
pub struct Exporter {
    store: Arc<dyn ViewStore>,
    log: Arc<dyn EventLog>,
    catalogue: RuleCatalogue,
    fetch_timeout: Duration,
}

impl std::fmt::Debug for Exporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Exporter").finish_non_exhaustive()
    }
}

impl Exporter {
    pub fn new(
        store: Arc<dyn ViewStore>,
        log: Arc<dyn EventLog>,
        catalogue: RuleCatalogue,
    ) -> Self {
        Self {
            store,
            log,
            catalogue,
            fetch_timeout: Duration::from_secs(30),
        }
    }

    /// The bundle for `request`, proven against `checkpoint` and sealed
    /// with `signer` (the checkpoint's key).
    pub async fn export(
        &self,
        request: &ExportRequest,
        checkpoint: &SignedCheckpoint,
        signer: &CheckpointSigner,
    ) -> Result<EvidenceBundle, ExportError> {
        let covered = &checkpoint.checkpoint;
        let organisation = &request.organisation;
        let (subjects, sends_in) = self.subjects_in_scope(request)?;

        let mut records: BTreeMap<LogPosition, Vec<u8>> = BTreeMap::new();
        for subject in &subjects {
            for entry in self.store.history(organisation, subject)? {
                let position = log_position(&entry.position);
                if is_covered(covered, &position) {
                    records.insert(position, entry.stored_bytes);
                }
            }
        }
        // The organisation's own facts, and the suppressions of every
        // contact value the bundle's records use or its questions name (a
        // decision the bundle shows may rest on one).
        let in_bundle = EvidenceFacts::fold(records.iter().map(|(p, bytes)| (p, bytes.as_slice())));
        let mut contacts: BTreeSet<ContactValue> = in_bundle
            .events()
            .iter()
            .flat_map(|(_, event)| event.fact.contact_values())
            .map(std::borrow::Cow::into_owned)
            .collect();
        contacts.extend(
            request
                .questions()
                .into_iter()
                .filter_map(|q| q.contact_point.as_ref())
                .map(|c| c.value.clone()),
        );
        let organisation_facts: BTreeSet<LogPosition> = self
            .store
            .organisation_state(organisation)?
            .map(|state| {
                let suppressions = contacts
                    .iter()
                    .flat_map(|value| state.suppressions.of(value).iter());
                state
                    .facts
                    .facts()
                    .iter()
                    .chain(suppressions)
                    .filter_map(|fact| fact.position.as_ref().map(log_position))
                    .filter(|position| is_covered(covered, position))
                    .collect()
            })
            .unwrap_or_default();
        for (position, record) in
            fetch_records(self.log.as_ref(), &organisation_facts, self.fetch_timeout).await?
        {
            records.insert(position, record.payload);
        }

        let facts = EvidenceFacts::fold(records.iter().map(|(p, bytes)| (p, bytes.as_slice())));
        let questions = self.questions(request, &facts, &subjects, sends_in);
        let decisions = questions
            .iter()
            .map(|question| Ok(decide_recorded(&facts, &self.catalogue, question)?))
            .collect::<Result<Vec<RecordedDecision>, ExportError>>()?;
        let attachments = self.attachments(&decisions);

        let included = records
            .into_iter()
            .map(|(position, payload)| {
                let inclusion_proof = self.inclusion_proof(covered, &position)?;
                Ok(IncludedRecord {
                    position,
                    payload,
                    inclusion_proof,
                })
            })
            .collect::<Result<Vec<_>, ExportError>>()?;
        let consistency = request
            .previous_checkpoint
            .as_deref()
            .map(|previous| self.consistency(previous, covered, signer))
            .transpose()?;

        tracing::info!(
            organisation = %organisation,
            records = included.len(),
            decisions = decisions.len(),
            ledger_head = %covered.root_hash,
            "assembled an evidence bundle"
        );
        Ok(BundleContents {
            rule_set_id: request
                .rule_set
                .as_ref()
                .map_or_else(|| RULE_SET_IN_FORCE.to_owned(), |id| id.0.clone()),
            scope: request.scope_json(),
            checkpoint: checkpoint.note.clone(),
            consistency,
            records: included,
            decisions: decisions.iter().map(RecordedDecision::to_value).collect(),
            attachments,
        }
        .seal(signer)?)
    }

    /// The subjects an export covers, and the window of their sends to
    /// decide (`None`: no sends, only the questions asked).
    fn subjects_in_scope(
        &self,
        request: &ExportRequest,
    ) -> Result<(Vec<SubjectId>, Option<SendWindow>), ExportError> {
        let everything = Some((
            Timestamp::from_unix_micros(i64::MIN),
            Timestamp::from_unix_micros(i64::MAX),
        ));
        Ok(match &request.scope {
            ExportScope::Subject { subject, .. } => (vec![subject.clone()], everything),
            ExportScope::Campaign { subjects, .. } => (subjects.clone(), None),
            ExportScope::TimeRange { from, to } => {
                let mut subjects = Vec::new();
                for subject in self.store.subjects_of(&request.organisation)? {
                    let history = self.store.history(&request.organisation, &subject)?;
                    if history
                        .iter()
                        .any(|e| *from <= e.occurred_at && e.occurred_at < *to)
                    {
                        subjects.push(subject);
                    }
                }
                (subjects, Some((*from, *to)))
            }
        })
    }

    /// The questions to decide: the sends in the window (in time order),
    /// then the questions the request asked, then (for a subject) the
    /// status at the export's time.
    fn questions(
        &self,
        request: &ExportRequest,
        facts: &EvidenceFacts,
        subjects: &[SubjectId],
        sends_in: Option<SendWindow>,
    ) -> Vec<CheckRequest> {
        let organisation = &request.organisation;
        let in_scope: BTreeSet<&SubjectId> = subjects.iter().collect();
        let mut sends: Vec<(Timestamp, CheckRequest)> = Vec::new();
        if let Some((from, to)) = sends_in {
            for (_, event) in facts.events() {
                let (Fact::MarketingMessageSent(send), Some(subject)) =
                    (&event.fact, &event.subject)
                else {
                    continue;
                };
                if &event.organisation != organisation
                    || !in_scope.contains(subject)
                    || event.occurred_at < from
                    || event.occurred_at >= to
                {
                    continue;
                }
                let mut question = CheckRequest::for_send(
                    organisation.clone(),
                    subject.clone(),
                    event.occurred_at,
                    send,
                    send.sole_charitable_purpose,
                );
                question.rule_set = request.rule_set.clone();
                sends.push((event.occurred_at, question));
            }
        }
        sends.sort_by(|a, b| (a.0, a.1.addressee()).cmp(&(b.0, b.1.addressee())));
        let mut questions: Vec<CheckRequest> = sends.into_iter().map(|(_, q)| q).collect();
        match &request.scope {
            ExportScope::Subject {
                subject,
                checks,
                status_at,
            } => {
                questions.extend(checks.iter().cloned());
                questions.extend(status_questions(request, facts, subject, *status_at));
            }
            ExportScope::Campaign { subjects, message } => {
                questions.extend(subjects.iter().map(|subject| CheckRequest {
                    subject: Some(subject.clone()),
                    ..message.clone()
                }))
            }
            ExportScope::TimeRange { .. } => {}
        }
        questions
    }

    /// The rule sets the decisions were made under, with their citations.
    fn attachments(&self, decisions: &[RecordedDecision]) -> Value {
        let used: BTreeSet<&str> = decisions
            .iter()
            .map(|d| d.decision.rule_set_id.as_str())
            .collect();
        let rule_sets: Vec<Value> = self
            .catalogue
            .all()
            .iter()
            .filter(|rule_set| used.contains(rule_set.id.0.as_str()))
            .map(|rule_set| {
                serde_json::to_value(rule_set_to_proto(rule_set)).unwrap_or(Value::Null)
            })
            .collect();
        json!({ "rule_sets": rule_sets })
    }

    fn inclusion_proof(
        &self,
        covered: &Checkpoint,
        position: &LogPosition,
    ) -> Result<Vec<consent_evidence::Hash>, ExportError> {
        let partition = position.topic_partition();
        let size = covered
            .partition(&partition)
            .map(|head| head.tree_size)
            .unwrap_or(0);
        self.ensure_view_has(&partition, size)?;
        let nodes = PartitionNodes::new(self.store.as_ref(), &partition);
        inclusion_proof(&nodes, position.offset, size).map_err(proof_error)
    }

    /// Per-partition consistency proofs from a previously published
    /// checkpoint (which must be this ledger's) to `covered`.
    fn consistency(
        &self,
        previous_note: &str,
        covered: &Checkpoint,
        signer: &CheckpointSigner,
    ) -> Result<ConsistencyEvidence, ExportError> {
        let (previous, _) = Checkpoint::open(previous_note, &[signer.verifier_key()])
            .map_err(ExportError::ForeignPreviousCheckpoint)?;
        let partitions = previous
            .partitions
            .iter()
            .map(|old| {
                let partition = &old.partition;
                let new_size = covered.partition(partition).map_or(0, |h| h.tree_size);
                if new_size < old.tree_size {
                    return Err(ExportError::PreviousCheckpointAhead {
                        partition: partition.clone(),
                        old_size: old.tree_size,
                        new_size,
                    });
                }
                self.ensure_view_has(partition, new_size)?;
                let nodes = PartitionNodes::new(self.store.as_ref(), partition);
                Ok(PartitionConsistency {
                    partition: partition.clone(),
                    proof: consistency_proof(&nodes, old.tree_size, new_size)
                        .map_err(proof_error)?,
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(ConsistencyEvidence {
            previous_checkpoint: previous_note.to_owned(),
            partitions,
        })
    }

    /// The view's tree of `partition` has at least `size` leaves.
    fn ensure_view_has(&self, partition: &TopicPartition, size: u64) -> Result<(), ExportError> {
        let stored = self
            .store
            .merkle_frontier(partition)?
            .map_or(0, |frontier| frontier.size());
        if stored < size {
            return Err(ExportError::ViewBehindCheckpoint(partition.clone()));
        }
        Ok(())
    }
}

/// The status of a subject at `at`: may the organisation send them a
/// marketing message that identifies it and offers a free opt-out, on
/// each channel ([`STATUS_CHANNELS`]), for the purpose its registration
/// says it pursues (a charity's message is taken as solely for its
/// charitable purposes); no product category and no contact point are
/// named, so every address on record for the channel is consulted.
fn status_questions(
    request: &ExportRequest,
    facts: &EvidenceFacts,
    subject: &SubjectId,
    at: Timestamp,
) -> Vec<CheckRequest> {
    let organisation = facts.organisation(&request.organisation);
    let kind = organisation
        .registration_as_of(at)
        .and_then(|recorded| match &recorded.fact {
            Fact::OrganisationRegistered(registered) => Some(registered.kind),
            _ => None,
        });
    let (purpose, sole_charitable_purpose) = match kind {
        Some(OrganisationKind::Charity) => (Purpose::Charitable, true),
        Some(OrganisationKind::PoliticalParty | OrganisationKind::OtherNotForProfit) => {
            (Purpose::Campaigning, false)
        }
        Some(OrganisationKind::Commercial) | None => (Purpose::Commercial, false),
    };
    STATUS_CHANNELS
        .iter()
        .map(|&channel| CheckRequest {
            organisation: request.organisation.clone(),
            subject: Some(subject.clone()),
            channel,
            purpose,
            product_category: None,
            message_class: MessageClass::Marketing,
            promotional_content: true,
            sole_charitable_purpose,
            opt_out_included: true,
            sender_identified: true,
            call_category: CallCategory::General,
            contact_point: None,
            at,
            rule_set: request.rule_set.clone(),
        })
        .collect()
}

/// The checkpoint's tree of the record's partition contains it.
fn is_covered(checkpoint: &Checkpoint, position: &LogPosition) -> bool {
    checkpoint
        .partition(&position.topic_partition())
        .is_some_and(|head| position.offset < head.tree_size)
}

fn proof_error(error: ProofError<StoreError>) -> ExportError {
    match error {
        ProofError::Node(NodeReadError::Store(error)) => ExportError::Store(error),
        other => ExportError::MissingNode(other.to_string()),
    }
}
