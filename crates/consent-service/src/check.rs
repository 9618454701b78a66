//! Checks: "may organisation O send this message to subject S at time T?",
//! answered from the view, optionally after waiting for given log positions.

use crate::error::LedgerError;
use crate::ledger::Ledger;
use consent_domain::rules::{self, CheckRequest, Decision, DecisionTexts};
use consent_domain::vocabulary::ContactPoint;
use consent_domain::{OrganisationId, OrganisationState, Timestamp};
use consent_log::{LogLayout, LogPosition};
use consent_schema::{check_for_entry, check_texts, decision_into_proto, v1, ValidationError};
use std::collections::BTreeMap;
use std::sync::Arc;

impl Ledger {
    /// Decides one check.
    ///
    /// The request is validated ([`LedgerError::Invalid`] names the field)
    /// and refused with [`LedgerError::WrongPartition`] when its subject is
    /// on a partition this instance does not own; then the check waits until the view has applied every position in
    /// its `wait_for` (read-your-writes; [`LedgerError::WaitTimeout`] after
    /// the configured wait), selects the rule set (the requested one, or the
    /// one in force at `at`), reads the organisation's and the subject's
    /// state once each (nothing known is the empty state, which refuses) and
    /// decides. The answer's `freshness` says how far the view was behind
    /// the log; a log that cannot be reached makes it unmeasured, never
    /// makes the check fail. With `omit_texts` the decision carries no
    /// texts ([`DecisionTexts::Omitted`]) and is otherwise the same.
    /// Counted under the transport this handle serves ([`Ledger::serving`]).
    pub async fn check(&self, request: v1::CheckRequest) -> Result<v1::Decision, LedgerError> {
        let decided = self.check_uncounted(request).await;
        self.count_checks(decided.as_ref().map(std::slice::from_ref), 1);
        decided
    }

    /// [`Ledger::check`], not counted in the metrics (a history's
    /// decision, a stream's second pass).
    pub(crate) async fn check_uncounted(
        &self,
        request: v1::CheckRequest,
    ) -> Result<v1::Decision, LedgerError> {
        let now = self.inner.clock.now();
        let question = self
            .question(&request, now)
            .map_err(|error| LedgerError::invalid(None, error))?;
        let awaited = wait_positions(self.inner.log.layout(), &request.wait_for, "")
            .map_err(|error| LedgerError::invalid(None, error))?;
        if let Some(subject) = &question.subject {
            self.ensure_owned(&question.organisation, subject, "")?;
        }
        self.ensure_followed(&awaited, "")?;
        self.await_view(awaited).await?;
        let freshness = self.freshness().await;
        let decision = self.decide(&question, check_texts(&request))?;
        Ok(with_freshness(decision, freshness))
    }

    /// Decides several checks with one wait for all their `wait_for`
    /// positions. One invalid check fails the batch, naming its index
    /// (`checks[1].channel`); decisions come back in request order, each
    /// with or without texts as its own request asks. The batch's
    /// freshness is measured once, before any state is read, and each
    /// organisation's state is read once for all its checks.
    ///
    /// `requests` is only read, so a caller that may need them again (to
    /// decide them one at a time when the batch fails) lends them.
    pub async fn check_batch(
        &self,
        requests: impl AsRef<[v1::CheckRequest]>,
    ) -> Result<Vec<v1::Decision>, LedgerError> {
        let requests = requests.as_ref();
        let decided = self.check_batch_uncounted(requests).await;
        self.count_checks(decided.as_deref(), requests.len());
        decided
    }

    /// Decisions a reader asks for, not counted as checks: what a
    /// history's decision is ([`Ledger::history`]), for several questions
    /// at once (the console's eligibility matrix: every channel and
    /// purpose for one subject). Decided as [`Ledger::check_batch`]
    /// decides; the caller authorizes them as reads of the organisation's
    /// data, since nothing is sent.
    pub async fn decisions_for_reading(
        &self,
        requests: &[v1::CheckRequest],
    ) -> Result<Vec<v1::Decision>, LedgerError> {
        self.check_batch_uncounted(requests).await
    }

    /// Decides `requests` in order, as far as they can be: the decisions
    /// of every request before the first that cannot be decided, and why
    /// that one cannot (with its index), if one cannot.
    ///
    /// The requests are decided with one [`Ledger::check_batch`] (one wait
    /// for all their `wait_for` positions, one freshness measurement). A
    /// batch fails as a whole, so when it fails they are decided again one
    /// at a time: the decisions before the failing request are kept and the
    /// failure names its request exactly (a request whose `wait_for` timed
    /// out waits once more on this second pass, and may then be decided).
    /// Counted as the checks decided, and one failed.
    pub async fn check_in_order(
        &self,
        requests: &[v1::CheckRequest],
    ) -> (Vec<v1::Decision>, Option<(usize, LedgerError)>) {
        if requests.is_empty() {
            return (Vec::new(), None);
        }
        let error = match self.check_batch_uncounted(requests).await {
            Ok(decisions) => {
                self.count_checks(Ok(&decisions), requests.len());
                return (decisions, None);
            }
            Err(error) => error,
        };
        tracing::debug!(
            %error,
            checks = requests.len(),
            "a batch failed as a whole; deciding it one check at a time"
        );
        let mut decisions = Vec::with_capacity(requests.len());
        let mut failed = None;
        for (index, request) in requests.iter().enumerate() {
            match self.check_uncounted(request.clone()).await {
                Ok(decision) => decisions.push(decision),
                Err(error) => {
                    failed = Some((index, error));
                    break;
                }
            }
        }
        self.count_checks(Ok(&decisions), decisions.len());
        if let Some((_, error)) = &failed {
            self.count_checks(Err(error), 1);
        }
        (decisions, failed)
    }

    /// Counts the checks of one call under this handle's transport, if it
    /// serves one.
    fn count_checks(&self, decided: Result<&[v1::Decision], &LedgerError>, requested: usize) {
        if let Some(transport) = self.transport {
            crate::metrics::record_checks(transport, decided, requested);
        }
    }

    /// [`Ledger::check_batch`], not counted in the metrics.
    async fn check_batch_uncounted(
        &self,
        requests: &[v1::CheckRequest],
    ) -> Result<Vec<v1::Decision>, LedgerError> {
        let now = self.inner.clock.now();
        let layout = self.inner.log.layout();
        let mut questions: Vec<(CheckRequest, DecisionTexts)> = Vec::with_capacity(requests.len());
        let mut awaited = Vec::new();
        for (index, request) in requests.iter().enumerate() {
            // Field paths are written only for an error: none per check.
            let question = self.question(request, now).map_err(|error| {
                LedgerError::invalid(Some(index), error.within(&format!("checks[{index}]")))
            })?;
            let positions = if request.wait_for.is_empty() {
                Vec::new()
            } else {
                wait_positions(layout, &request.wait_for, &format!("checks[{index}]."))
                    .map_err(|error| LedgerError::invalid(Some(index), error))?
            };
            if let Some(subject) = &question.subject {
                self.ensure_owned(
                    &question.organisation,
                    subject,
                    format_args!("checks[{index}]: "),
                )?;
            }
            self.ensure_followed(&positions, format_args!("checks[{index}]: "))?;
            awaited.extend(positions);
            questions.push((question, check_texts(request)));
        }
        if questions.is_empty() {
            return Ok(Vec::new());
        }
        self.await_view(awaited).await?;
        let freshness = self.freshness().await;
        // A batch usually holds one organisation's checks: its state is
        // looked up (key built, cache locked) once, not once per check.
        let mut organisations: Vec<(&OrganisationId, Arc<OrganisationState>)> = Vec::new();
        let mut decisions = Vec::with_capacity(questions.len());
        for (question, texts) in &questions {
            let organisation = match organisations
                .iter()
                .find(|(id, _)| **id == question.organisation)
            {
                Some((_, state)) => state.clone(),
                None => {
                    let state = self.organisation_state(&question.organisation)?;
                    organisations.push((&question.organisation, state.clone()));
                    state
                }
            };
            let decision = self.decide_for(question, *texts, &organisation)?;
            decisions.push(with_freshness(decision, freshness));
        }
        Ok(decisions)
    }

    /// The validated question of `request` (a national telephone number
    /// read as E.164, see [`consent_schema::check_for_entry`]), its contact
    /// point in the form the rules compare (see [`Ledger::compare_sealed`]).
    pub(crate) fn question(
        &self,
        request: &v1::CheckRequest,
        now: Timestamp,
    ) -> Result<CheckRequest, ValidationError> {
        let mut question = check_for_entry(request, now, &self.inner.config.entry)?;
        self.compare_sealed(&mut question);
        Ok(question)
    }

    /// Puts the question's contact point in the form stored values have:
    /// its digest, when this ledger seals contact values (docs/ERASURE.md).
    /// The address itself goes no further than this function.
    pub(crate) fn compare_sealed(&self, question: &mut CheckRequest) {
        if let Some(contact) = &question.contact_point {
            question.contact_point = Some(self.comparable(&question.organisation, contact));
        }
    }

    /// `contact` of `organisation` as stored values compare: its digest
    /// when this ledger seals, itself otherwise.
    pub(crate) fn comparable(
        &self,
        organisation: &OrganisationId,
        contact: &ContactPoint,
    ) -> ContactPoint {
        match &self.inner.sealer {
            Some(sealer) => sealer.digest_contact(organisation, contact),
            None => contact.clone(),
        }
    }

    /// The pure decision over the view's current state.
    pub(crate) fn decide(
        &self,
        question: &CheckRequest,
        texts: DecisionTexts,
    ) -> Result<Decision, LedgerError> {
        let organisation = self.organisation_state(&question.organisation)?;
        self.decide_for(question, texts, &organisation)
    }

    /// The view's state of `organisation` (nothing known: the empty state).
    pub(crate) fn organisation_state(
        &self,
        organisation: &OrganisationId,
    ) -> Result<Arc<OrganisationState>, LedgerError> {
        Ok(self
            .inner
            .store
            .shared_organisation_state(organisation)?
            .unwrap_or_default())
    }

    /// [`Ledger::decide`] with the organisation's state already read.
    pub(crate) fn decide_for(
        &self,
        question: &CheckRequest,
        texts: DecisionTexts,
        organisation: &OrganisationState,
    ) -> Result<Decision, LedgerError> {
        let inner = &self.inner;
        let rule_set = inner
            .catalogue
            .select(question.rule_set.as_ref(), question.at)?;
        let subject = match &question.subject {
            Some(subject) => inner
                .store
                .shared_subject_state(&question.organisation, subject)?
                .unwrap_or_default(),
            None => Default::default(),
        };
        let mut addresses = Vec::new();
        for address in rules::addresses_to_consult(&subject, question) {
            if let Some(state) = inner
                .store
                .shared_address_state(&question.organisation, &address)?
            {
                addresses.push(Arc::unwrap_or_clone(state));
            }
        }
        Ok(rules::decide_with_texts(
            rule_set,
            organisation,
            &subject,
            &addresses,
            question,
            texts,
        ))
    }

    /// Waits until the view has applied `positions` (none: no wait).
    async fn await_view(&self, positions: Vec<LogPosition>) -> Result<(), LedgerError> {
        if positions.is_empty() {
            return Ok(());
        }
        let positions = highest_per_partition(positions);
        self.inner
            .projection
            .wait_for(&positions, self.inner.config.wait_timeout)
            .await?;
        Ok(())
    }

    /// How far the view is behind the log, from the cached end offsets.
    /// Taken before the state is read, so the decision reflects at least
    /// what it reports.
    async fn freshness(&self) -> v1::ViewFreshness {
        let projection = &self.inner.projection;
        match self.inner.end_offsets.current().await {
            Some(end) => v1::ViewFreshness {
                // Only what this instance follows: other partitions are
                // their owners' to apply.
                records_behind: projection.records_behind(&end),
                measured: true,
            },
            None => v1::ViewFreshness {
                records_behind: 0,
                measured: false,
            },
        }
    }
}

fn with_freshness(decision: Decision, freshness: v1::ViewFreshness) -> v1::Decision {
    let mut decision = decision_into_proto(decision);
    decision.freshness = Some(freshness);
    decision
}

/// The `wait_for` positions of a request, each checked to name a
/// topic-partition of the log (a position elsewhere would never be applied,
/// so waiting for it would only time out). `prefix` is the request's path
/// in an enclosing message, e.g. `checks[2].`.
fn wait_positions(
    layout: &LogLayout,
    wait_for: &[v1::LogPosition],
    prefix: &str,
) -> Result<Vec<LogPosition>, ValidationError> {
    wait_for
        .iter()
        .enumerate()
        .map(|(index, position)| {
            let field = format!("{prefix}wait_for[{index}]");
            if !layout.has_topic(&position.topic) {
                return Err(ValidationError::new(
                    format!("{field}.topic"),
                    format!(
                        "`{}` is not a topic of this ledger's log (expected one of {})",
                        position.topic,
                        layout.topics().join(", ")
                    ),
                ));
            }
            if position.partition >= layout.partitions {
                return Err(ValidationError::new(
                    format!("{field}.partition"),
                    format!(
                        "the log has partitions 0..{} per topic, not {}",
                        layout.partitions, position.partition
                    ),
                ));
            }
            Ok(LogPosition::from(position.clone()))
        })
        .collect()
}

/// One position per topic-partition, the highest: the view applies a
/// partition in offset order, so it implies the others.
fn highest_per_partition(positions: Vec<LogPosition>) -> Vec<LogPosition> {
    let mut highest = BTreeMap::new();
    for position in positions {
        let entry = highest
            .entry(position.topic_partition())
            .or_insert(position.offset);
        *entry = (*entry).max(position.offset);
    }
    highest
        .into_iter()
        .map(|(partition, offset)| LogPosition::new(partition.topic, partition.partition, offset))
        .collect()
}
