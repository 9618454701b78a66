//! Evidence operations: signed checkpoints, evidence bundles (or their
//! regulator's report, audited and rendered as HTML) and the eligibility
//! CSV, for a ledger built with a [`Checkpointer`]
//! ([`crate::LedgerBuilder::evidence`]).
//!
//! What blocks (signing writes the checkpoint archive; auditing and
//! rendering a bundle and writing a CSV are long computations) runs on a
//! blocking thread here, so an async caller never decides it.

use crate::error::LedgerError;
use crate::ledger::Ledger;
use consent_audit::{audit_bundle, bundle_report_html, ReportDrawing, VerifiedBy, Verifier};
use consent_domain::Timestamp;
use consent_evidence::{EvidenceBundle, VerificationReport, VerifierKey};
use consent_export::{
    eligibility_csv, Checkpointer, EligibilityError, ExportError, ExportRequest, ExportScope,
    Exporter, SignedCheckpoint,
};
use consent_schema::{timestamp_to_proto, v1, ValidationError};
use std::io::Write;

/// The latest signed checkpoint against the view's committed records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CheckpointProgress {
    /// When the latest checkpoint (this run or an earlier one) was signed.
    pub latest_timestamp_ms: Option<u64>,
    /// The records the latest checkpoint covers (0 without one).
    pub latest_records: u64,
    /// The records the view has committed now, over every followed partition.
    pub committed_records: u64,
}

impl CheckpointProgress {
    /// Records committed to the view that no signed checkpoint covers yet.
    pub fn unsigned_records(&self) -> u64 {
        self.committed_records.saturating_sub(self.latest_records)
    }
}

impl Ledger {
    fn checkpointer(&self) -> Result<&Checkpointer, LedgerError> {
        self.inner
            .checkpointer
            .as_ref()
            .ok_or(LedgerError::EvidenceDisabled)
    }

    /// Whether this instance owns every partition (has every subject).
    fn is_full_replica(&self) -> bool {
        let layout = self.inner.log.layout();
        self.owned_partitions().partitions(layout).len() == layout.partitions as usize
    }

    /// Signs a checkpoint of what the view has committed now (the latest
    /// one, if nothing changed since), on a blocking thread.
    pub async fn sign_checkpoint(&self) -> Result<SignedCheckpoint, LedgerError> {
        let ledger = self.clone();
        blocking(move || ledger.sign_checkpoint_blocking()).await?
    }

    /// [`Ledger::sign_checkpoint`] on the caller's thread, which it may
    /// block (it writes the checkpoint archive).
    fn sign_checkpoint_blocking(&self) -> Result<SignedCheckpoint, LedgerError> {
        let now_ms = now_ms(self.inner.clock.now());
        let signed = self.checkpointer()?.sign(now_ms).map_err(ExportError::from);
        if signed.is_err() {
            crate::metrics::record_checkpoint_failure();
        }
        Ok(signed?)
    }

    /// How far the signed checkpoints are behind the view, for monitoring;
    /// `None` when this ledger signs no checkpoints.
    pub fn checkpoint_progress(&self) -> Option<CheckpointProgress> {
        let checkpointer = self.inner.checkpointer.as_ref()?;
        let latest = checkpointer.latest();
        let committed_records = self
            .inner
            .projection
            .partition_heads()
            .iter()
            .map(|head| head.tree_size)
            .sum();
        Some(CheckpointProgress {
            latest_timestamp_ms: latest.as_ref().map(|l| l.checkpoint.timestamp_ms),
            latest_records: latest.as_ref().map_or(0, |l| l.checkpoint.records()),
            committed_records,
        })
    }

    /// The latest signed checkpoint, if any.
    pub fn latest_checkpoint(&self) -> Result<Option<SignedCheckpoint>, LedgerError> {
        Ok(self.checkpointer()?.latest())
    }

    /// The key that verifies this ledger's checkpoints and bundles.
    pub fn checkpoint_key(&self) -> Result<VerifierKey, LedgerError> {
        Ok(self.checkpointer()?.verifier_key())
    }

    /// An evidence bundle for `request`, proven against a checkpoint signed
    /// now. Refuses subjects on partitions this instance does not own
    /// (their records are in another instance's view).
    pub async fn export(&self, request: v1::ExportRequest) -> Result<EvidenceBundle, LedgerError> {
        let now = self.inner.clock.now();
        let mut request = ExportRequest::from_proto(&request, now)
            .map_err(|error| LedgerError::invalid(None, error))?;
        for question in request.questions_mut() {
            self.compare_sealed(question);
        }
        match &request.scope {
            ExportScope::Subject { subject, .. } => {
                self.ensure_owned(&request.organisation, subject, "")?
            }
            ExportScope::Campaign { subjects, .. } => {
                for subject in subjects {
                    self.ensure_owned(&request.organisation, subject, "")?;
                }
            }
            ExportScope::TimeRange { .. } => {
                if !self.is_full_replica() {
                    return Err(LedgerError::invalid(
                        None,
                        ValidationError::new(
                            "time_range",
                            "this instance owns only some partitions; export a time range from a full replica",
                        ),
                    ));
                }
            }
        }
        let checkpointer = self.checkpointer()?;
        let checkpoint = checkpointer.sign(now_ms(now)).map_err(ExportError::from)?;
        let exporter = Exporter::new(
            self.inner.store.clone(),
            self.inner.log.clone(),
            self.inner.catalogue.clone(),
        );
        Ok(exporter
            .export(&request, &checkpoint, checkpointer.signer())
            .await?)
    }

    /// The regulator's report of an evidence bundle for `request` (see
    /// [`Ledger::export`]) as an HTML page: the bundle audited against this
    /// ledger's key ("checked by the exporting ledger") and rendered as of
    /// now, by the same [`bundle_report_html`] that `consent-ledger
    /// report` runs on a bundle file.
    pub async fn export_html(&self, request: v1::ExportRequest) -> Result<String, LedgerError> {
        let bundle = self.export(request).await?;
        let (_, html) = self
            .audited_report(bundle, None, &crate::jobs::JobProgress::default())
            .await?;
        Ok(html)
    }

    /// `bundle` audited against this ledger's key ("checked by the
    /// exporting ledger") and its report drawn as of now, naming
    /// `bundle_file` in its re-verify commands, on a blocking thread.
    pub(crate) async fn audited_report(
        &self,
        bundle: EvidenceBundle,
        bundle_file: Option<String>,
        progress: &crate::jobs::JobProgress,
    ) -> Result<(VerificationReport, String), LedgerError> {
        let key = self.checkpoint_key()?;
        let catalogue = self.inner.catalogue.clone();
        let now = self.inner.clock.now();
        let progress = progress.clone();
        blocking(move || {
            let report = audit_bundle(&bundle, std::slice::from_ref(&key), &catalogue);
            progress.advance(1);
            progress.phase("drawing the report");
            let drawing = ReportDrawing {
                produced_at: now,
                verified_by: Some(VerifiedBy {
                    verifier: Verifier::ExportingLedger,
                    version: env!("CARGO_PKG_VERSION").to_owned(),
                    ran_at: now,
                    trusted_keys: vec![key.label()],
                }),
                bundle_file,
            };
            let html = bundle_report_html(&bundle, &report, &catalogue, &drawing);
            (report, html)
        })
        .await
    }

    /// The eligibility CSV of `request` (see [`Ledger::eligibility_csv`]),
    /// written on a blocking thread.
    pub async fn eligibility(
        &self,
        request: v1::EligibilityRequest,
    ) -> Result<Vec<u8>, LedgerError> {
        let ledger = self.clone();
        let message = request.message.unwrap_or_default();
        blocking(move || {
            let mut csv = Vec::new();
            ledger
                .eligibility_csv(&request.organisation_id, &message, &mut csv)
                .map(|_| csv)
        })
        .await?
    }

    /// Writes the eligibility CSV of every subject of `organisation` for
    /// `message` (its organisation and subject are ignored; `at` defaults
    /// to now). Returns the number of rows.
    pub fn eligibility_csv<W: Write>(
        &self,
        organisation: &str,
        message: &v1::CheckRequest,
        out: W,
    ) -> Result<usize, LedgerError> {
        let mut asked = message.clone();
        asked.organisation_id = organisation.to_owned();
        asked.subject_id = "-".to_owned();
        let question = self
            .question(&asked, self.inner.clock.now())
            .map_err(|error| LedgerError::invalid(None, error))?;
        if !self.is_full_replica() {
            return Err(LedgerError::invalid(
                None,
                ValidationError::new(
                    "organisation_id",
                    "this instance owns only some partitions; ask a full replica",
                ),
            ));
        }
        eligibility_csv(
            self.inner.store.as_ref(),
            &self.inner.catalogue,
            &question.organisation,
            &question,
            out,
            |_, _| {},
        )
        .map_err(|error| match error {
            EligibilityError::Store(error) => LedgerError::Store(error),
            EligibilityError::UnknownRuleSet(error) => LedgerError::UnknownRuleSet(error),
            EligibilityError::Csv(error) => LedgerError::Output(error.to_string()),
        })
    }
}

/// `work` on a blocking thread; a task that could not run to its end (a
/// panic, a runtime shutting down) is [`LedgerError::Task`].
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, LedgerError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|error| LedgerError::Task(error.to_string()))
}

/// A signed checkpoint as the API answers it.
pub fn signed_checkpoint_to_proto(signed: &SignedCheckpoint) -> v1::SignedCheckpoint {
    let checkpoint = &signed.checkpoint;
    v1::SignedCheckpoint {
        note: signed.note.clone(),
        origin: checkpoint.origin.clone(),
        ledger_head: checkpoint.root_hash.to_base64(),
        records: checkpoint.records(),
        signed_at: Some(timestamp_to_proto(Timestamp::from_unix_millis(
            checkpoint.timestamp_ms,
        ))),
    }
}

fn now_ms(now: Timestamp) -> u64 {
    u64::try_from(now.unix_micros() / 1000).unwrap_or(0)
}
