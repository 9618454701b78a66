//! A replay run from a running ledger, as a job: the history decided again
//! under another rule set or similarity map (docs/REPLAY.md), read from
//! the ledger's own log up to its end when the job starts, in bounded
//! memory (consent-replay-runner, one worker thread so that the server
//! keeps serving), on a blocking thread. It never writes to the log or
//! the view. The result is the report (changes by organisation, channel
//! and rule, with samples) and the full list of changed decisions, as the
//! CLI's `replay --changes` writes it (NDJSON), in a temporary directory
//! that is removed with the result.

use crate::error::LedgerError;
use crate::jobs::{self, JobError, JobId, JobKind, JobOutput, JobProgress};
use crate::ledger::Ledger;
use consent_domain::rules::RuleSetId;
use consent_domain::vocabulary::Channel;
use consent_domain::{OrganisationId, Timestamp};
use consent_projector::OwnedPartitions;
use consent_replay::{EligibilityQuestions, ReplayPlan, RuleSelection};
use consent_schema::ValidationError;
use std::path::PathBuf;

pub use consent_replay::{ChangeCounts, ReplayReport};

/// A replay to run.
#[derive(Clone, Debug, Default)]
pub struct ReplayRequest {
    /// Replay only this organisation's history; none: every organisation
    /// (the admin's replay).
    pub organisation: Option<String>,
    /// The rule set the history is compared with; none: the one in force
    /// at each decision's time, as the ledger decided.
    pub baseline_rule_set: Option<String>,
    /// The rule set to compare; none: the one in force at each decision's
    /// time.
    pub candidate_rule_set: Option<String>,
    /// For the candidate only, organisations' product similarity maps: a
    /// JSON object of organisation id to `ProductCategoriesDefined`, as
    /// `consent-ledger replay --similarity` reads it. An organisation's
    /// replay may replace only its own map.
    pub similarity: Option<String>,
    /// Also ask, for every subject, whether it may be marketed to at this
    /// time, by email and SMS.
    pub as_of: Option<Timestamp>,
}

/// What a replay job produced.
#[derive(Debug)]
pub struct ReplayResult {
    pub report: ReplayReport,
    /// The report's summary, as `consent-ledger replay` prints it.
    pub summary: String,
    /// Records read from the log.
    pub records_read: u64,
    /// Changed decisions in the list.
    pub changes_written: u64,
    /// The name to download the list under.
    pub changes_file: String,
    changes: Option<PathBuf>,
    /// Removed (with the list) when the result is dropped.
    _directory: tempfile::TempDir,
}

impl ReplayResult {
    /// Every changed decision, one JSON object per line (NDJSON).
    pub fn changes_ndjson(&self) -> std::io::Result<Vec<u8>> {
        match &self.changes {
            Some(path) if path.exists() => std::fs::read(path),
            _ => Ok(Vec::new()),
        }
    }
}

/// Tells a job how the replay goes.
struct Reporter<'a>(&'a JobProgress);

impl consent_replay_runner::Progress for Reporter<'_> {
    fn start(&self, total: u64) {
        self.0.set_total(total);
    }
    fn read(&self, records: u64) {
        self.0.advance(records);
    }
    fn phase(&self, what: &str) {
        self.0.phase(match what {
            "reference" => "reading the organisations' and addresses' facts",
            "subjects" => "replaying the subjects' histories",
            other => other,
        });
    }
}

impl Ledger {
    /// The replay plan of `request`; what cannot be replayed is refused
    /// here, naming the field.
    fn replay_plan(&self, request: &ReplayRequest) -> Result<ReplayPlan, LedgerError> {
        let selection = |field: &str, id: &Option<String>| match id.as_deref().map(str::trim) {
            None | Some("") => Ok(RuleSelection::InForce),
            Some(id) => {
                if self.catalogue().get(&RuleSetId::from(id)).is_none() {
                    let known: Vec<&str> = self
                        .catalogue()
                        .all()
                        .iter()
                        .map(|r| r.id.as_str())
                        .collect();
                    return Err(LedgerError::invalid(
                        None,
                        ValidationError::new(
                            field,
                            format!("no rule set `{id}` (the ledger has {})", known.join(", ")),
                        ),
                    ));
                }
                Ok(RuleSelection::named(id))
            }
        };
        let mut plan = ReplayPlan::new(
            selection("baseline_rule_set", &request.baseline_rule_set)?,
            selection("candidate_rule_set", &request.candidate_rule_set)?,
        );
        let organisation = match request.organisation.as_deref().map(str::trim) {
            None => None,
            Some("") => {
                return Err(LedgerError::invalid(
                    None,
                    ValidationError::new("organisation", "must name an organisation id"),
                ))
            }
            Some(id) => Some(OrganisationId::new(id)),
        };
        if let Some(json) = request
            .similarity
            .as_deref()
            .filter(|j| !j.trim().is_empty())
        {
            plan.similarity_overrides =
                consent_replay::parse_similarity_overrides(json).map_err(|error| {
                    LedgerError::invalid(
                        None,
                        ValidationError::new("similarity", error.to_string()),
                    )
                })?;
            if let Some(own) = &organisation {
                if let Some(other) = plan.similarity_overrides.keys().find(|o| *o != own) {
                    return Err(LedgerError::invalid(
                        None,
                        ValidationError::new(
                            "similarity",
                            format!(
                                "names organisation {other}; a replay of {own} may replace only its own map"
                            ),
                        ),
                    ));
                }
            }
        }
        if let Some(as_of) = request.as_of {
            plan.questions.eligibility = Some(EligibilityQuestions {
                as_of,
                channels: vec![Channel::Email, Channel::Sms],
            });
        }
        if let Some(organisation) = organisation {
            plan.organisations.insert(organisation);
        }
        Ok(plan)
    }

    /// Runs a replay to its end, reporting to `progress`. The log is read
    /// on a blocking thread; call it from a multi-thread runtime.
    pub async fn replay(
        &self,
        request: ReplayRequest,
        progress: &JobProgress,
    ) -> Result<ReplayResult, LedgerError> {
        let plan = self.replay_plan(&request)?;
        self.run_replay(plan, progress.clone()).await
    }

    async fn run_replay(
        &self,
        plan: ReplayPlan,
        progress: JobProgress,
    ) -> Result<ReplayResult, LedgerError> {
        let directory = tempfile::Builder::new()
            .prefix("consent-replay-")
            .tempdir()
            .map_err(|error| {
                LedgerError::Output(format!(
                    "creating the replay's temporary directory: {error}"
                ))
            })?;
        let changes = directory.path().join("changes.ndjson");
        let mut config =
            consent_replay_runner::RunnerConfig::new(plan, self.inner.catalogue.clone());
        // One worker: the replay shares the machine with the server.
        config.threads = 1;
        config.spill_dir = Some(directory.path().to_owned());
        config.changes = Some(changes.clone());
        if let OwnedPartitions::Only(partitions) = self.owned_partitions() {
            config.partitions = Some(partitions.clone());
        }
        let log = self.inner.log.clone();
        let runtime = tokio::runtime::Handle::current();
        let outcome = tokio::task::spawn_blocking(move || {
            consent_replay_runner::run(&runtime, log, config, &Reporter(&progress))
        })
        .await
        .map_err(|error| LedgerError::Task(error.to_string()))?
        .map_err(|error| LedgerError::Output(format!("the replay failed: {error}")))?;
        let summary = consent_replay::render_summary(&outcome.report);
        Ok(ReplayResult {
            summary,
            records_read: outcome.records_read,
            changes_written: outcome.changes_written,
            changes_file: "replay-changes.ndjson".to_owned(),
            report: outcome.report,
            changes: Some(changes),
            _directory: directory,
        })
    }

    /// Starts a replay as a job of the organisation it replays (none: of
    /// every organisation, which only the admin sees); the request is
    /// read first, and refused at once when it cannot be replayed.
    pub fn start_replay(&self, request: ReplayRequest) -> Result<JobId, JobError> {
        let plan = self.replay_plan(&request)?;
        let organisation = plan.organisations.iter().next().cloned();
        let title = format!(
            "replay of {}",
            organisation
                .as_ref()
                .map_or_else(|| "every organisation".to_owned(), |o| o.to_string()),
        );
        let (id, progress) = self
            .jobs()
            .start(JobKind::Replay, organisation, title, self.now())?;
        let ledger = self.clone();
        jobs::spawn(
            self.inner.jobs.clone(),
            id.clone(),
            self.clock_fn(),
            async move {
                ledger
                    .run_replay(plan, progress)
                    .await
                    .map(|result| JobOutput::Replay(Box::new(result)))
                    .map_err(|error| error.client_message())
            },
        );
        Ok(id)
    }
}
