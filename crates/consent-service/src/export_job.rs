//! An evidence export as a job: the bundle (a subject, a campaign or a
//! time range, as [`Ledger::export`] makes it), the verifier's result on
//! it (consent-audit, against this ledger's key) and the regulator's
//! report drawn from the bundle itself ([`consent_audit::bundle_report_html`]),
//! kept together so that the page, the bundle and the report a user
//! downloads are the same export.

use crate::error::LedgerError;
use crate::jobs::{self, JobError, JobId, JobKind, JobOutput, JobProgress};
use crate::ledger::Ledger;
use crate::preflight::file_name_part;
use consent_domain::OrganisationId;
use consent_export::ExportRequest;
use consent_schema::v1;

/// What an export job produced.
#[derive(Clone, Debug)]
pub struct EvidenceExport {
    pub organisation: OrganisationId,
    /// What was exported, in words ("subject cust-1").
    pub scope: String,
    /// The bundle file (JSON, "consent-ledger evidence v1").
    pub bundle_json: Vec<u8>,
    /// The name to download it under; the report's re-verify commands
    /// name it.
    pub bundle_file: String,
    /// The regulator's report of the bundle (self-contained HTML).
    pub report_html: String,
    pub report_file: String,
    pub verification: ExportVerification,
}

/// What the verifier found on the bundle, as it ran here.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportVerification {
    /// Nothing was found wrong.
    pub passed: bool,
    pub records: usize,
    /// Records whose inclusion proof verified.
    pub records_proven: usize,
    /// Decisions recomputed from the bundle's records.
    pub decisions: usize,
    /// The keys whose checkpoint signature verified (`name+keyid`).
    pub signed_by: Vec<String>,
    /// Every finding, in words.
    pub findings: Vec<String>,
    /// The key a third party verifies with (the published verifier key).
    pub verifier_key: String,
    /// The verifier's whole output, as `consent-ledger verify` prints it.
    pub text: String,
}

impl Ledger {
    /// Exports `request` (see [`Ledger::export`]), verifies the bundle with
    /// this ledger's key and draws its report, reporting to `progress`.
    pub async fn export_evidence(
        &self,
        request: v1::ExportRequest,
        progress: &JobProgress,
    ) -> Result<EvidenceExport, LedgerError> {
        let now = self.inner.clock.now();
        let scope = scope_in_words(&request);
        let organisation = OrganisationId::new(request.organisation_id.as_str());
        progress.set_total(3);
        progress.phase("signing a checkpoint and reading the records");
        let bundle = self.export(request).await?;
        progress.set_done(1);
        progress.phase("verifying the bundle");
        let bundle_json = bundle
            .to_json_pretty()
            .map_err(|error| LedgerError::Output(format!("writing the bundle: {error}")))?;
        let stem = format!(
            "evidence-{}-{}-{}",
            file_name_part(organisation.as_str()),
            file_name_part(&scope),
            file_name_part(&now.to_string()).replace(['_', '.'], "")
        );
        let bundle_file = format!("{stem}.json");
        let key = self.checkpoint_key()?;
        let verifier_key = key.to_string();
        let (report, report_html) = self
            .audited_report(bundle, Some(bundle_file.clone()), progress)
            .await?;
        progress.set_done(3);
        Ok(EvidenceExport {
            organisation,
            scope,
            bundle_json,
            report_file: format!("{stem}.html"),
            bundle_file,
            report_html,
            verification: ExportVerification {
                passed: report.passed(),
                records: report.records,
                records_proven: report.records_proven,
                decisions: report.decisions,
                signed_by: report.checkpoint_signed_by.clone(),
                findings: report.findings.iter().map(ToString::to_string).collect(),
                verifier_key,
                text: report.to_string(),
            },
        })
    }

    /// Starts an export as a job of the organisation it is about; the
    /// request is read first, and refused at once when it cannot be
    /// exported (naming the field).
    pub fn start_export(&self, request: v1::ExportRequest) -> Result<JobId, JobError> {
        self.checkpoint_key()?;
        ExportRequest::from_proto(&request, self.now())
            .map_err(|error| LedgerError::invalid(None, error))?;
        let organisation = OrganisationId::new(request.organisation_id.as_str());
        let title = format!("evidence export of {}", scope_in_words(&request));
        let (id, progress) =
            self.jobs()
                .start(JobKind::Export, Some(organisation), title, self.now())?;
        let ledger = self.clone();
        jobs::spawn(
            self.inner.jobs.clone(),
            id.clone(),
            self.clock_fn(),
            async move {
                ledger
                    .export_evidence(request, &progress)
                    .await
                    .map(JobOutput::Export)
                    .map_err(|error| error.client_message())
            },
        );
        Ok(id)
    }
}

/// What `request` exports, in words: "subject cust-1", "a campaign to 3
/// subjects", "2026-01-01T00:00:00Z to 2026-02-01T00:00:00Z".
fn scope_in_words(request: &v1::ExportRequest) -> String {
    use v1::export_request::Scope;
    match &request.scope {
        Some(Scope::Subject(subject)) => format!("subject {}", subject.subject_id),
        Some(Scope::Campaign(campaign)) => {
            format!("a campaign to {} subjects", campaign.subject_ids.len())
        }
        Some(Scope::TimeRange(range)) => {
            let time = |t: &Option<consent_schema::pbjson_types::Timestamp>| {
                t.as_ref()
                    .and_then(|t| consent_schema::timestamp_from_proto("time_range", t).ok())
                    .map_or_else(|| "?".to_owned(), |t| t.to_string())
            };
            format!("{} to {}", time(&range.from), time(&range.to))
        }
        None => "nothing".to_owned(),
    }
}
