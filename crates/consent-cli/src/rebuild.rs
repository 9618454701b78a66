//! `consent-ledger rebuild`: drop the view and fold the whole log again.
//!
//! The view is a cache of the log (sled 0.34 has known space and crash
//! issues); this is how it is recovered, migrated to a new format, or
//! checked.

use crate::settings::StorageArgs;
use anyhow::Context;
use consent_projector::{ProjectionProgress, Projector};
use indicatif::{ProgressBar, ProgressStyle};

#[derive(clap::Args)]
pub struct RebuildArgs {
    #[command(flatten)]
    pub storage: StorageArgs,
}

pub async fn run(args: RebuildArgs) -> anyhow::Result<std::process::ExitCode> {
    let config = args.storage.projector_config()?;
    let log = args.storage.open_log().await?;
    let store = args.storage.open_view()?;
    let mut projector = Projector::new(log, store, config);

    let bar = ProgressBar::new(0);
    if let Ok(style) = ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] [{bar:40}] {pos}/{len} records ({per_sec}, {eta}) {msg}",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    let report = |progress: ProjectionProgress| {
        bar.set_length(progress.records_total);
        bar.set_position(progress.records_done);
        bar.set_message(format!(
            "{} events applied, {} dead letters",
            progress.events_applied, progress.dead_letters
        ));
    };
    let started = std::time::Instant::now();
    let status = projector
        .rebuild(&report)
        .await
        .context("rebuilding the view")?;
    let elapsed = started.elapsed();
    bar.finish();
    let per_second = (status.events_applied as f64 / elapsed.as_secs_f64().max(1e-9)).round();
    tracing::info!(
        events_applied = status.events_applied,
        dead_letters = status.dead_letters,
        opt_out_notices = status.opt_out_notices,
        owned_partitions = %args.storage.own_partitions,
        elapsed_ms = u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX),
        "view rebuilt from the log"
    );
    println!(
        "view rebuilt (partitions {}): {} events applied, {} dead letters, {} opt-out notices published again in {:.1} s ({per_second} events/s)",
        args.storage.own_partitions,
        status.events_applied,
        status.dead_letters,
        status.opt_out_notices,
        elapsed.as_secs_f64()
    );
    Ok(std::process::ExitCode::SUCCESS)
}
