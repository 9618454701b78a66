//! The ledger: the log, the view, the projector's progress and the rules,
//! behind one cloneable handle.

use crate::clock::{Clock, IdGenerator, SystemClock, UuidV7};
use crate::freshness::{EndOffsetsCache, FreshnessConfig};
use crate::health::HealthConfig;
use crate::intake::IntakeConfig;
use crate::jobs::{JobLimits, JobRegistry};
use crate::metrics::Transport;
use consent_domain::rules::RuleCatalogue;
use consent_export::Checkpointer;
use consent_log::EventLog;
use consent_projector::{OwnedPartitions, Projection, ProjectionHandle};
use consent_schema::EntryRules;
use consent_sealing::Sealer;
use consent_store::ViewStore;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// Tunables of the ledger's operations.
#[derive(Clone, Copy, Debug)]
pub struct LedgerConfig {
    /// How long a check waits for the view to apply its `wait_for`
    /// positions before failing with [`crate::LedgerError::WaitTimeout`].
    pub wait_timeout: Duration,
    /// How long an append may wait for the log's acknowledgement before it
    /// fails with [`crate::LedgerError::LogUnavailable`].
    pub append_timeout: Duration,
    /// How the view's lag behind the log is measured for checks.
    pub freshness: FreshnessConfig,
    /// When a lasting fault makes the instance unhealthy.
    pub health: HealthConfig,
    /// How values entering the ledger are read: the region of national
    /// telephone numbers, and how far ahead of its receipt a fact may be
    /// stamped.
    pub entry: EntryRules,
}

impl Default for LedgerConfig {
    fn default() -> Self {
        Self {
            wait_timeout: Duration::from_secs(5),
            append_timeout: Duration::from_secs(30),
            freshness: FreshnessConfig::default(),
            health: HealthConfig::default(),
            entry: EntryRules::default(),
        }
    }
}

/// The consent ledger's operations, without transport.
///
/// Writes go to the log (the system of record) and are acknowledged only
/// once the log has made them durable; reads come from the view the
/// projector maintains, optionally after waiting for given log positions
/// (read-your-writes). Cheap to clone: every clone is the same ledger.
#[derive(Clone)]
pub struct Ledger {
    pub(crate) inner: Arc<Inner>,
    /// The transport this handle serves, under which its checks and
    /// appends are counted ([`Ledger::serving`]); none: not counted.
    pub(crate) transport: Option<Transport>,
}

pub(crate) struct Inner {
    pub(crate) log: Arc<dyn EventLog>,
    pub(crate) store: Arc<dyn ViewStore>,
    pub(crate) projection: ProjectionHandle,
    pub(crate) catalogue: RuleCatalogue,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) ids: Arc<dyn IdGenerator>,
    pub(crate) config: LedgerConfig,
    pub(crate) end_offsets: Arc<EndOffsetsCache>,
    pub(crate) checkpointer: Option<Checkpointer>,
    pub(crate) intake: Option<IntakeConfig>,
    pub(crate) sealer: Option<Arc<Sealer>>,
    pub(crate) jobs: Arc<JobRegistry>,
}

impl Ledger {
    /// A ledger over the log and the view of `projection` (what
    /// [`consent_projector::Projector::projection`] hands out), deciding
    /// with the UK rule sets, the system clock, UUIDv7 ids and the default
    /// configuration.
    pub fn new(projection: Projection) -> Self {
        Self::builder(projection).build()
    }

    /// A ledger with non-default parts; see [`LedgerBuilder`].
    ///
    /// It takes the projector's own parts: the log it appends to and the
    /// view it reads are, by construction, the ones the projector behind
    /// `projection` folds, so a ledger cannot wait for its writes on one
    /// log while reading a view of another.
    pub fn builder(projection: Projection) -> LedgerBuilder {
        let (log, store, projection) = projection.into_parts();
        LedgerBuilder {
            log,
            store,
            projection,
            catalogue: RuleCatalogue::uk(),
            clock: Arc::new(SystemClock),
            ids: Arc::new(UuidV7),
            config: LedgerConfig::default(),
            checkpointer: None,
            intake: None,
            sealer: None,
            job_limits: JobLimits::default(),
        }
    }

    /// "Now" by the ledger's clock.
    pub fn now(&self) -> consent_domain::Timestamp {
        self.inner.clock.now()
    }

    /// The rule sets the ledger decides with.
    pub fn catalogue(&self) -> &RuleCatalogue {
        &self.inner.catalogue
    }

    pub fn config(&self) -> &LedgerConfig {
        &self.inner.config
    }

    /// This ledger, counting the checks and appends it decides under
    /// `transport` ([`crate::metrics`]): the handle an adapter serves with.
    /// A ledger not serving a transport counts none (tools, tests).
    pub fn serving(&self, transport: Transport) -> Ledger {
        Ledger {
            inner: Arc::clone(&self.inner),
            transport: Some(transport),
        }
    }

    /// The partitions this instance owns (answers checks and histories for).
    pub fn owned_partitions(&self) -> &OwnedPartitions {
        self.inner.projection.ownership()
    }

    /// The long work (exports, replays, pre-flights) running or finished
    /// on this instance ([`crate::jobs`]).
    pub fn jobs(&self) -> &JobRegistry {
        &self.inner.jobs
    }

    /// "Now" by the ledger's clock, for work that outlives this call.
    pub(crate) fn clock_fn(&self) -> impl Fn() -> consent_domain::Timestamp + Send + 'static {
        let clock = Arc::clone(&self.inner.clock);
        move || clock.now()
    }
}

impl fmt::Debug for Ledger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ledger")
            .field("layout", self.inner.log.layout())
            .field("config", &self.inner.config)
            .field("transport", &self.transport)
            .finish_non_exhaustive()
    }
}

/// Builds a [`Ledger`] with a chosen rule catalogue, clock, id generator or
/// configuration.
pub struct LedgerBuilder {
    log: Arc<dyn EventLog>,
    store: Arc<dyn ViewStore>,
    projection: ProjectionHandle,
    catalogue: RuleCatalogue,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdGenerator>,
    config: LedgerConfig,
    checkpointer: Option<Checkpointer>,
    intake: Option<IntakeConfig>,
    sealer: Option<Arc<Sealer>>,
    job_limits: JobLimits,
}

impl LedgerBuilder {
    /// Seals contact values at append and compares checks' contact points
    /// by digest; appending an erasure destroys the subject's key and puts
    /// its digests on the organisation's suppression list (docs/ERASURE.md).
    /// Without it (tests, tools) contact values are stored as sent and an
    /// erasure suppresses the subject id only: `consent-ledger serve`
    /// always seals.
    pub fn sealing(mut self, sealer: Sealer) -> Self {
        self.sealer = Some(Arc::new(sealer));
        self
    }

    /// Enables checkpoints and evidence exports, signed by `checkpointer`.
    pub fn evidence(mut self, checkpointer: Checkpointer) -> Self {
        self.checkpointer = Some(checkpointer);
        self
    }

    /// Enables opt-out intake: unsubscribe tokens on messages sent, the
    /// one-click, SMS STOP and GPC operations (see [`IntakeConfig`]).
    pub fn intake(mut self, intake: IntakeConfig) -> Self {
        self.intake = Some(intake);
        self
    }

    pub fn catalogue(mut self, catalogue: RuleCatalogue) -> Self {
        self.catalogue = catalogue;
        self
    }

    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    pub fn ids(mut self, ids: Arc<dyn IdGenerator>) -> Self {
        self.ids = ids;
        self
    }

    pub fn config(mut self, config: LedgerConfig) -> Self {
        self.config = config;
        self
    }

    /// How many jobs the ledger holds ([`crate::jobs`]).
    pub fn job_limits(mut self, limits: JobLimits) -> Self {
        self.job_limits = limits;
        self
    }

    pub fn build(self) -> Ledger {
        let end_offsets = Arc::new(EndOffsetsCache::new(
            Arc::clone(&self.log),
            self.config.freshness,
        ));
        Ledger {
            inner: Arc::new(Inner {
                log: self.log,
                store: self.store,
                projection: self.projection,
                catalogue: self.catalogue,
                clock: self.clock,
                ids: self.ids,
                config: self.config,
                end_offsets,
                checkpointer: self.checkpointer,
                intake: self.intake,
                sealer: self.sealer,
                jobs: Arc::new(JobRegistry::new(self.job_limits)),
            }),
            transport: None,
        }
    }
}
