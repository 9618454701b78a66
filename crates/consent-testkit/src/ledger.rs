//! A running ledger over real parts: the embedded log in a directory, a
//! view store, and a projector task folding the one into the other; the
//! ledger built over the projector's own parts with `Ledger::builder`, as
//! `consent-ledger serve` builds it. The harness the service's, the HTTP
//! API's and the gRPC API's tests share.

use consent_evidence::CheckpointSigner;
use consent_export::{CheckpointArchive, Checkpointer};
use consent_log::LogLayout;
use consent_log_embedded::EmbeddedLog;
use consent_projector::{OwnedPartitions, Projector, ProjectorConfig, ProjectorError};
use consent_sealing::Sealer;
use consent_service::{IntakeConfig, Ledger, LedgerConfig};
use consent_store::ViewStore;
use consent_store_sled::SledStore;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The log layout of the test ledgers: prefix `test`, 4 partitions.
pub fn layout() -> LogLayout {
    consent_schema::ledger_layout("test", 4)
}

/// How the test projector runs: it polls every 20 ms, for `ownership`.
pub fn projector_config(ownership: OwnedPartitions) -> ProjectorConfig {
    ProjectorConfig {
        poll_wait: Duration::from_millis(20),
        ownership,
        ..ProjectorConfig::default()
    }
}

/// What a test ledger is built with beyond the log and the view.
pub struct LedgerParts {
    pub config: LedgerConfig,
    pub ownership: OwnedPartitions,
    /// Evidence: checkpoints signed with this key, archived in
    /// [`LedgerParts::checkpoints`] (by default `checkpoints` in the log's
    /// directory).
    pub signer: Option<CheckpointSigner>,
    pub checkpoints: Option<PathBuf>,
    /// Contact values sealed with this sealer.
    pub sealer: Option<Sealer>,
    /// Opt-out intake.
    pub intake: Option<IntakeConfig>,
}

impl Default for LedgerParts {
    fn default() -> Self {
        Self {
            config: LedgerConfig::default(),
            ownership: OwnedPartitions::All,
            signer: None,
            checkpoints: None,
            sealer: None,
            intake: None,
        }
    }
}

/// A ledger with its projector running.
pub struct RunningLedger {
    pub ledger: Ledger,
    pub log: EmbeddedLog,
    shutdown: watch::Sender<bool>,
    projector: JoinHandle<Result<(), ProjectorError>>,
}

impl RunningLedger {
    /// Opens (or reopens) the log in `dir` and projects it into `store`.
    pub fn start(dir: &Path, store: Arc<dyn ViewStore>, config: LedgerConfig) -> Self {
        Self::start_owning(dir, store, config, OwnedPartitions::All)
    }

    /// [`RunningLedger::start`] for an instance that owns `ownership` only.
    pub fn start_owning(
        dir: &Path,
        store: Arc<dyn ViewStore>,
        config: LedgerConfig,
        ownership: OwnedPartitions,
    ) -> Self {
        Self::start_with(
            dir,
            store,
            LedgerParts {
                config,
                ownership,
                ..LedgerParts::default()
            },
        )
    }

    /// [`RunningLedger::start`] with evidence enabled: checkpoints signed
    /// by `signer`, archived in `dir/checkpoints`.
    pub fn start_with_evidence(
        dir: &Path,
        store: Arc<dyn ViewStore>,
        signer: CheckpointSigner,
    ) -> Self {
        Self::start_with(
            dir,
            store,
            LedgerParts {
                signer: Some(signer),
                ..LedgerParts::default()
            },
        )
    }

    /// A whole ledger in one data directory, laid out as `serve` lays it
    /// out: the log in `dir/log`, the sled view in `dir/view`, checkpoints
    /// (with a signer) in `dir/checkpoints`.
    pub fn in_directory(dir: &Path, parts: LedgerParts) -> Self {
        let store = Arc::new(SledStore::open(&dir.join("view")).expect("open the sled view"));
        let parts = LedgerParts {
            checkpoints: parts.checkpoints.or_else(|| Some(dir.join("checkpoints"))),
            ..parts
        };
        Self::start_with(&dir.join("log"), store, parts)
    }

    /// A ledger over the log in `dir` and `store` with the optional `parts`.
    /// Must run inside a tokio runtime (the projector is a task).
    pub fn start_with(dir: &Path, store: Arc<dyn ViewStore>, parts: LedgerParts) -> Self {
        let LedgerParts {
            config,
            ownership,
            signer,
            checkpoints,
            sealer,
            intake,
        } = parts;
        let log = EmbeddedLog::open(dir, layout()).expect("open the embedded log");
        let projector = Projector::new(Arc::new(log.clone()), store, projector_config(ownership));
        let projection = projector.projection();
        let mut ledger = Ledger::builder(projection.clone()).config(config);
        if let Some(signer) = signer {
            let archive = checkpoints.unwrap_or_else(|| dir.join("checkpoints"));
            let archive = CheckpointArchive::open(&archive).expect("open the checkpoint archive");
            ledger = ledger.evidence(
                Checkpointer::new(signer, projection.handle().clone(), archive)
                    .expect("a checkpointer"),
            );
        }
        if let Some(sealer) = sealer {
            ledger = ledger.sealing(sealer);
        }
        if let Some(intake) = intake {
            ledger = ledger.intake(intake);
        }
        let ledger = ledger.build();
        let (shutdown, stop) = watch::channel(false);
        let projector = tokio::spawn(projector.run(stop));
        Self {
            ledger,
            log,
            shutdown,
            projector,
        }
    }

    /// Stops the projector and drops every handle on the log and the view
    /// (clones of the ledger handed out elsewhere must be dropped first).
    pub async fn stop(self) {
        let RunningLedger {
            ledger,
            log,
            shutdown,
            projector,
        } = self;
        drop(ledger);
        shutdown.send_replace(true);
        projector
            .await
            .expect("projector task")
            .expect("projector ran");
        drop(log);
    }
}
