//! Long work as jobs: an evidence export, a replay, a campaign pre-flight
//! runs in the background, and a caller (the console's progress page)
//! asks how far it has got until its result is ready.
//!
//! A [`JobRegistry`] holds every job of a ledger in memory: its id, kind,
//! the organisation it is about (none: every organisation, which only the
//! admin sees), its progress (done of total, and the phase in words), its
//! state and, once finished, its result. A job is visible only to its
//! organisation and to the admin ([`Viewer`]); to anyone else it does not
//! exist. Results are kept until [`JobLimits::finished_kept`] newer jobs
//! have finished, then dropped (a replay's list of changes with it), so
//! memory stays bounded. Nothing here is written to the log or the view:
//! a job is a convenience of one instance, lost on restart.

use consent_domain::{OrganisationId, Timestamp};
use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use crate::export_job::EvidenceExport;
use crate::preflight::PreflightResult;
use crate::replay_job::ReplayResult;

/// A job's id: a UUID, in text.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct JobId(String);

impl JobId {
    fn new() -> Self {
        JobId(uuid::Uuid::now_v7().to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for JobId {
    fn from(text: &str) -> Self {
        JobId(text.to_owned())
    }
}

/// What a job does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobKind {
    /// An evidence bundle, audited, with its report.
    Export,
    /// A replay of the history under another rule set or similarity map.
    Replay,
    /// A campaign's recipients checked before the send.
    Preflight,
}

impl JobKind {
    /// The kind in words, for a page: "evidence export", "replay",
    /// "campaign pre-flight".
    pub fn in_words(self) -> &'static str {
        match self {
            JobKind::Export => "evidence export",
            JobKind::Replay => "replay",
            JobKind::Preflight => "campaign pre-flight",
        }
    }
}

/// Who asks to see jobs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Viewer {
    /// Sees every job.
    Admin,
    /// Sees only the jobs about this organisation.
    Organisation(OrganisationId),
}

impl Viewer {
    /// Whether this viewer may see a job about `organisation` (none: a
    /// job about every organisation).
    pub fn sees(&self, organisation: Option<&OrganisationId>) -> bool {
        match self {
            Viewer::Admin => true,
            Viewer::Organisation(own) => organisation == Some(own),
        }
    }
}

/// How many jobs a registry holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JobLimits {
    /// Finished jobs kept with their results; the oldest finished beyond
    /// this are dropped.
    pub finished_kept: usize,
    /// Jobs running at once for one organisation (or for the admin's
    /// replays of every organisation); a further one is refused
    /// ([`JobError::Busy`]) until one finishes.
    pub running_per_organisation: usize,
}

impl Default for JobLimits {
    fn default() -> Self {
        Self {
            finished_kept: 16,
            running_per_organisation: 2,
        }
    }
}

/// Why a job cannot be started or seen.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// No such job, or not one this viewer may see (the two are not told
    /// apart, so that a job's existence does not leak).
    #[error("no job {0}")]
    NotFound(JobId),
    /// The organisation already has as many jobs running as it may.
    #[error("{running} jobs are already running for {whom} (at most {limit} at once); wait for one to finish")]
    Busy {
        whom: String,
        running: usize,
        limit: usize,
    },
    /// The job's request is refused before it starts (it names the field).
    #[error(transparent)]
    Refused(#[from] crate::LedgerError),
}

/// What a finished job produced.
#[derive(Debug)]
pub enum JobOutput {
    Export(EvidenceExport),
    Replay(Box<ReplayResult>),
    Preflight(PreflightResult),
}

/// Where a job is.
#[derive(Clone, Debug)]
pub enum JobState {
    Running,
    /// Finished with a result.
    Succeeded(Arc<JobOutput>),
    /// Finished without one, and why (the message shown to the user).
    Failed(String),
}

/// A job as seen at one moment.
#[derive(Clone, Debug)]
pub struct Job {
    pub id: JobId,
    pub kind: JobKind,
    /// The organisation the job is about; none: every organisation.
    pub organisation: Option<OrganisationId>,
    /// What it does, in words ("export the evidence of subject cust-1").
    pub title: String,
    pub started_at: Timestamp,
    pub finished_at: Option<Timestamp>,
    /// Units of work done (records read, recipients checked...).
    pub done: u64,
    /// Units of work to do; 0 while not yet known.
    pub total: u64,
    /// What it is doing now, in words.
    pub phase: String,
    pub state: JobState,
}

impl Job {
    /// How far it has got, in whole percent, when the total is known.
    pub fn percent(&self) -> Option<u8> {
        if let JobState::Succeeded(_) = self.state {
            return Some(100);
        }
        if self.total == 0 {
            return None;
        }
        let percent = self.done.min(self.total).saturating_mul(100) / self.total;
        u8::try_from(percent).ok()
    }

    pub fn is_running(&self) -> bool {
        matches!(self.state, JobState::Running)
    }

    /// The result, once it succeeded.
    pub fn output(&self) -> Option<&JobOutput> {
        match &self.state {
            JobState::Succeeded(output) => Some(output),
            _ => None,
        }
    }
}

/// What a running job reports of its progress: handed to the work.
#[derive(Clone, Debug, Default)]
pub struct JobProgress(Arc<ProgressCells>);

#[derive(Debug, Default)]
struct ProgressCells {
    done: AtomicU64,
    total: AtomicU64,
    phase: Mutex<String>,
}

impl JobProgress {
    /// `total` units of work are to be done.
    pub fn set_total(&self, total: u64) {
        self.0.total.store(total, Ordering::Relaxed);
    }

    /// `units` more are done.
    pub fn advance(&self, units: u64) {
        self.0.done.fetch_add(units, Ordering::Relaxed);
    }

    /// `done` units are done in all.
    pub fn set_done(&self, done: u64) {
        self.0.done.store(done, Ordering::Relaxed);
    }

    /// What the job is doing now, in words.
    pub fn phase(&self, what: impl Into<String>) {
        *self.0.phase.lock().unwrap_or_else(PoisonError::into_inner) = what.into();
    }

    /// Units done, and units to do (0: not yet known).
    pub fn done_of_total(&self) -> (u64, u64) {
        let (done, total, _) = self.read();
        (done, total)
    }

    /// What the job is doing now, in words.
    pub fn current_phase(&self) -> String {
        self.read().2
    }

    fn read(&self) -> (u64, u64, String) {
        (
            self.0.done.load(Ordering::Relaxed),
            self.0.total.load(Ordering::Relaxed),
            self.0
                .phase
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone(),
        )
    }
}

struct Entry {
    kind: JobKind,
    organisation: Option<OrganisationId>,
    title: String,
    started_at: Timestamp,
    progress: JobProgress,
    finished: Option<(Timestamp, u64, JobState)>,
}

#[derive(Default)]
struct Jobs {
    entries: BTreeMap<JobId, Entry>,
    /// Counts finishes, so the oldest finished job is the lowest number.
    finishes: u64,
}

/// Every job of one ledger, in memory (see the module docs).
pub struct JobRegistry {
    limits: JobLimits,
    jobs: Mutex<Jobs>,
}

impl fmt::Debug for JobRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JobRegistry")
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl JobRegistry {
    pub fn new(limits: JobLimits) -> Self {
        Self {
            limits,
            jobs: Mutex::new(Jobs::default()),
        }
    }

    pub fn limits(&self) -> JobLimits {
        self.limits
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Jobs> {
        self.jobs.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Registers a job about `organisation` (none: every organisation),
    /// running from `now`; refused when as many of its jobs are running as
    /// it may have.
    pub fn start(
        &self,
        kind: JobKind,
        organisation: Option<OrganisationId>,
        title: impl Into<String>,
        now: Timestamp,
    ) -> Result<(JobId, JobProgress), JobError> {
        let mut jobs = self.lock();
        let running = jobs
            .entries
            .values()
            .filter(|entry| entry.finished.is_none() && entry.organisation == organisation)
            .count();
        if running >= self.limits.running_per_organisation {
            return Err(JobError::Busy {
                whom: match &organisation {
                    Some(organisation) => format!("organisation {organisation}"),
                    None => "every organisation".to_owned(),
                },
                running,
                limit: self.limits.running_per_organisation,
            });
        }
        let id = JobId::new();
        let progress = JobProgress::default();
        jobs.entries.insert(
            id.clone(),
            Entry {
                kind,
                organisation,
                title: title.into(),
                started_at: now,
                progress: progress.clone(),
                finished: None,
            },
        );
        Ok((id, progress))
    }

    /// Records how job `id` ended, at `now`, and drops the oldest finished
    /// jobs beyond the limit.
    pub fn finish(&self, id: &JobId, outcome: Result<JobOutput, String>, now: Timestamp) {
        let mut jobs = self.lock();
        jobs.finishes += 1;
        let order = jobs.finishes;
        if let Some(entry) = jobs.entries.get_mut(id) {
            let state = match outcome {
                Ok(output) => JobState::Succeeded(Arc::new(output)),
                Err(message) => JobState::Failed(message),
            };
            entry.finished = Some((now, order, state));
        }
        let mut finished: Vec<(u64, JobId)> = jobs
            .entries
            .iter()
            .filter_map(|(id, entry)| entry.finished.as_ref().map(|(_, o, _)| (*o, id.clone())))
            .collect();
        if finished.len() > self.limits.finished_kept {
            finished.sort();
            let excess = finished.len() - self.limits.finished_kept;
            for (_, id) in finished.into_iter().take(excess) {
                jobs.entries.remove(&id);
            }
        }
    }

    /// Job `id`, if `viewer` may see it.
    pub fn get(&self, id: &JobId, viewer: &Viewer) -> Result<Job, JobError> {
        let jobs = self.lock();
        match jobs.entries.get(id) {
            Some(entry) if viewer.sees(entry.organisation.as_ref()) => Ok(snapshot(id, entry)),
            _ => Err(JobError::NotFound(id.clone())),
        }
    }

    /// Every job `viewer` may see, the newest first.
    pub fn list(&self, viewer: &Viewer) -> Vec<Job> {
        let jobs = self.lock();
        let mut seen: Vec<Job> = jobs
            .entries
            .iter()
            .filter(|(_, entry)| viewer.sees(entry.organisation.as_ref()))
            .map(|(id, entry)| snapshot(id, entry))
            .collect();
        seen.sort_by(|a, b| (b.started_at, &b.id).cmp(&(a.started_at, &a.id)));
        seen
    }
}

fn snapshot(id: &JobId, entry: &Entry) -> Job {
    let (done, total, phase) = entry.progress.read();
    let (finished_at, state) = match &entry.finished {
        Some((at, _, state)) => (Some(*at), state.clone()),
        None => (None, JobState::Running),
    };
    Job {
        id: id.clone(),
        kind: entry.kind,
        organisation: entry.organisation.clone(),
        title: entry.title.clone(),
        started_at: entry.started_at,
        finished_at,
        done,
        total,
        phase,
        state,
    }
}

/// Runs `work` as job `id` of `registry` on the runtime: its result (or
/// its failure, or a panic, as a failure) is recorded when it ends, at the
/// time `now` then gives.
pub(crate) fn spawn<F>(
    registry: Arc<JobRegistry>,
    id: JobId,
    now: impl Fn() -> Timestamp + Send + 'static,
    work: F,
) where
    F: std::future::Future<Output = Result<JobOutput, String>> + Send + 'static,
{
    tokio::spawn(async move {
        let outcome = match tokio::spawn(work).await {
            Ok(outcome) => outcome,
            Err(error) => Err(format!("the job stopped unexpectedly: {error}")),
        };
        if let Err(message) = &outcome {
            tracing::warn!(job = %id, error = %message, "a job failed");
        } else {
            tracing::info!(job = %id, "a job finished");
        }
        registry.finish(&id, outcome, now());
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(seconds: i64) -> Timestamp {
        Timestamp::from_unix_parts(1_700_000_000 + seconds, 0).expect("time")
    }

    fn org(id: &str) -> Option<OrganisationId> {
        Some(OrganisationId::new(id))
    }

    fn failed(message: &str) -> Result<JobOutput, String> {
        Err(message.to_owned())
    }

    #[test]
    fn a_job_is_seen_by_its_organisation_and_the_admin_and_by_no_one_else() {
        let registry = JobRegistry::new(JobLimits::default());
        let (id, _) = registry
            .start(JobKind::Preflight, org("acme"), "pre-flight", t(0))
            .expect("started");
        let acme = Viewer::Organisation(OrganisationId::new("acme"));
        let rival = Viewer::Organisation(OrganisationId::new("rival"));
        assert_eq!(
            registry.get(&id, &acme).expect("acme sees it").title,
            "pre-flight"
        );
        assert!(registry.get(&id, &Viewer::Admin).is_ok());
        assert!(matches!(
            registry.get(&id, &rival),
            Err(JobError::NotFound(_))
        ));
        assert_eq!(registry.list(&acme).len(), 1);
        assert!(registry.list(&rival).is_empty());
    }

    #[test]
    fn a_job_about_every_organisation_is_the_admins_alone() {
        let registry = JobRegistry::new(JobLimits::default());
        let (id, _) = registry
            .start(JobKind::Replay, None, "replay", t(0))
            .expect("started");
        assert!(registry.get(&id, &Viewer::Admin).is_ok());
        let acme = Viewer::Organisation(OrganisationId::new("acme"));
        assert!(registry.get(&id, &acme).is_err());
    }

    #[test]
    fn progress_is_done_of_total_and_the_phase_until_the_job_finishes() {
        let registry = JobRegistry::new(JobLimits::default());
        let (id, progress) = registry
            .start(JobKind::Replay, org("acme"), "replay", t(0))
            .expect("started");
        let job = registry.get(&id, &Viewer::Admin).expect("job");
        assert_eq!((job.done, job.total, job.percent()), (0, 0, None));
        progress.set_total(200);
        progress.advance(50);
        progress.phase("reading the log");
        let job = registry.get(&id, &Viewer::Admin).expect("job");
        assert_eq!((job.done, job.total, job.percent()), (50, 200, Some(25)));
        assert_eq!(job.phase, "reading the log");
        assert!(job.is_running());

        registry.finish(&id, failed("the log is unavailable"), t(9));
        let job = registry.get(&id, &Viewer::Admin).expect("job");
        assert!(matches!(&job.state, JobState::Failed(m) if m == "the log is unavailable"));
        assert_eq!(job.finished_at, Some(t(9)));
    }

    #[test]
    fn an_organisation_runs_only_so_many_jobs_at_once() {
        let registry = JobRegistry::new(JobLimits {
            finished_kept: 10,
            running_per_organisation: 1,
        });
        let (first, _) = registry
            .start(JobKind::Preflight, org("acme"), "one", t(0))
            .expect("started");
        let busy = registry
            .start(JobKind::Preflight, org("acme"), "two", t(1))
            .expect_err("busy");
        assert_eq!(
            busy.to_string(),
            "1 jobs are already running for organisation acme (at most 1 at once); wait for one to finish"
        );
        // Another organisation is not held up.
        registry
            .start(JobKind::Preflight, org("rival"), "theirs", t(1))
            .expect("another organisation's job");
        registry.finish(&first, failed("x"), t(2));
        registry
            .start(JobKind::Preflight, org("acme"), "two", t(3))
            .expect("started once the first finished");
    }

    #[test]
    fn the_oldest_finished_jobs_are_dropped_beyond_the_limit() {
        let registry = JobRegistry::new(JobLimits {
            finished_kept: 2,
            running_per_organisation: 10,
        });
        let ids: Vec<JobId> = (0..4)
            .map(|i| {
                registry
                    .start(JobKind::Export, org("acme"), format!("job {i}"), t(i))
                    .expect("started")
                    .0
            })
            .collect();
        // Finished in the order 2, 0, 3; 1 still runs.
        for (index, at) in [(2, 10), (0, 11), (3, 12)] {
            registry.finish(&ids[index], failed("x"), t(at));
        }
        let titles: Vec<String> = registry
            .list(&Viewer::Admin)
            .into_iter()
            .map(|job| job.title)
            .collect();
        // The newest first; job 2, the first to finish, is gone.
        assert_eq!(titles, ["job 3", "job 1", "job 0"]);
    }
}
