//! The ledger's checkpoint key and checkpoint schedule, for `serve`.
//!
//! The signing key lives in a key file (`<data dir>/checkpoint.key` by
//! default, mode 0600, generated on first start; or a file named by
//! `--checkpoint-key` / `CONSENT_CHECKPOINT_KEY_FILE`, or the value in
//! `CONSENT_CHECKPOINT_KEY`: docs/OPERATIONS.md "Keys"); its verifier key is
//! written next to it (`checkpoint.pub`) and logged, to be published where
//! regulators fetch it (see `consent_evidence::key` on publishing and
//! rotation). Signed checkpoints are archived in `<data dir>/checkpoints`.

use crate::key_source::{KeySource, CHECKPOINT_KEY};
use anyhow::Context;
use consent_evidence::{generate_key_file, load_key_file, CheckpointSigner};
use consent_export::{CheckpointArchive, Checkpointer};
use consent_projector::ProjectionHandle;
use consent_service::Ledger;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::sync::watch;

/// The checkpoint settings of `serve`.
#[derive(clap::Args, Clone, Debug)]
pub struct CheckpointArgs {
    /// The checkpoint signing key file. Or the value itself (the file's text) in the environment
    /// variable CONSENT_CHECKPOINT_KEY. Default: `<data dir>/checkpoint.key`, generated on first
    /// start; a file named here is never generated.
    #[arg(long, env = "CONSENT_CHECKPOINT_KEY_FILE")]
    pub checkpoint_key: Option<PathBuf>,
    /// The log's name in checkpoints, and the key's name, used only when a
    /// key is created (e.g. `ledger.example.org/consent`).
    #[arg(
        long,
        env = "CONSENT_CHECKPOINT_ORIGIN",
        default_value = "consent-ledger.local/consent"
    )]
    pub checkpoint_origin: String,
    /// Seconds between scheduled checkpoints (only signed when the ledger
    /// head moved); 0 turns the schedule off (on-demand checkpoints and
    /// exports still sign).
    #[arg(long, env = "CONSENT_CHECKPOINT_INTERVAL_SECS", default_value_t = 300)]
    pub checkpoint_interval_secs: u64,
}

/// Loads (or, by default, creates) the key and opens the archive.
pub fn open_checkpointer(
    args: &CheckpointArgs,
    data_dir: &Path,
    projection: ProjectionHandle,
) -> anyhow::Result<Checkpointer> {
    let source = CHECKPOINT_KEY.resolve(
        args.checkpoint_key.as_deref(),
        data_dir.join("checkpoint.key"),
    )?;
    let signer = match &source {
        KeySource::Value { text, .. } => CheckpointSigner::from_private_key_text(text.trim())
            .map_err(|error| {
                CHECKPOINT_KEY.not_a_key(&source, &format!("a signed-note private key ({error})"))
            })?,
        KeySource::Named { path } => load_key_file(path)
            .with_context(|| format!("cannot use {}", CHECKPOINT_KEY.describe(&source)))?,
        KeySource::Default { path } => load_or_create_key(path, &args.checkpoint_origin)?,
    };
    // The verifier key beside a key file the ledger made; in the data
    // directory otherwise (a mounted secret is often read-only).
    let public = match &source {
        KeySource::Default { path } => path.with_extension("pub"),
        _ => data_dir.join("checkpoint.pub"),
    };
    std::fs::write(&public, format!("{}\n", signer.verifier_key()))
        .with_context(|| format!("writing the verifier key to {}", public.display()))?;
    tracing::info!(
        verifier_key = %signer.verifier_key(),
        key = %CHECKPOINT_KEY.describe(&source),
        "checkpoints are signed with this key; publish the verifier key"
    );
    let archive = CheckpointArchive::open(&data_dir.join("checkpoints"))?;
    Ok(Checkpointer::new(signer, projection, archive)?)
}

fn load_or_create_key(path: &Path, origin: &str) -> anyhow::Result<CheckpointSigner> {
    if path.exists() {
        return Ok(load_key_file(path)?);
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    tracing::warn!(key_file = %path.display(), %origin, "no checkpoint key: generating one");
    Ok(generate_key_file(path, origin)?)
}

/// Signs a checkpoint every `interval` while the head moves, until
/// `stopping` turns true.
pub fn spawn_schedule(
    ledger: Ledger,
    interval: Duration,
    mut stopping: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        if interval.is_zero() {
            return;
        }
        let mut ticks = tokio::time::interval(interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticks.tick().await;
        loop {
            tokio::select! {
                _ = ticks.tick() => {}
                _ = stopping.wait_for(|stop| *stop) => return,
            }
            if let Err(error) = ledger.sign_checkpoint().await {
                tracing::error!(%error, "scheduled checkpoint failed");
            }
        }
    })
}
