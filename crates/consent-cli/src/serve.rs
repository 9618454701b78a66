//! `consent-ledger serve`: the log, the projector, the HTTP API and (when
//! asked for) the gRPC API in one process.
//!
//! Settings come from the flags, then their environment variables, then the
//! `--config` TOML file, then the defaults (docs/OPERATIONS.md lists them).
//!
//! Shutdown (SIGTERM or Ctrl-C) loses nothing acknowledged: both APIs stop
//! accepting connections and finish the requests in flight (bounded by
//! `--shutdown-timeout-secs`); an append is acknowledged only once the log
//! has it, so every acknowledged fact is in the log by then; the projector
//! then stops after its current step and flushes the view.

use crate::evidence_setup::{open_checkpointer, spawn_schedule, CheckpointArgs};
use crate::intake_setup::{open_intake, IntakeArgs};
use crate::sealing_setup::{open_sealer, SealingArgs};
use crate::settings::{file_may_set, ConfigFile, StorageArgs};
use crate::webhooks::WebhookArgs;
use anyhow::Context;
use consent_projector::Projector;
use consent_schema::{EntryRules, PhoneRegion};
use consent_service::{HealthConfig, Ledger, LedgerConfig};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

#[derive(clap::Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub storage: StorageArgs,
    /// Address of the HTTP API.
    #[arg(long, env = "CONSENT_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Also serve the gRPC API (consent.v1.ConsentLedger) on this address, e.g. 127.0.0.1:50051.
    #[arg(long, env = "CONSENT_GRPC_LISTEN")]
    pub grpc_listen: Option<SocketAddr>,
    /// A TOML file of settings (keys as the long flags, `_` for `-`); flags and environment variables override it.
    #[arg(long, env = "CONSENT_CONFIG")]
    pub config: Option<PathBuf>,
    /// On SIGTERM or Ctrl-C, how long requests in flight may take to finish before the servers stop anyway.
    #[arg(long, env = "CONSENT_SHUTDOWN_TIMEOUT_SECS", default_value_t = 30)]
    pub shutdown_timeout_secs: u64,
    /// `/readyz` answers ready once the view is at most this many records short of the log's end as measured at start.
    #[arg(long, env = "CONSENT_READY_MAX_LAG", default_value_t = 0)]
    pub ready_max_lag: u64,
    /// `/healthz` fails (so the orchestrator restarts the instance) once a fault that may pass by itself has
    /// lasted this long: appends to a log partition failing, the view not writable, the log unreachable.
    #[arg(long, env = "CONSENT_UNHEALTHY_AFTER_SECS", default_value_t = 30)]
    pub unhealthy_after_secs: u64,
    /// The region whose national format telephone numbers are read in (ISO 3166-1 alpha-2): in GB `07700 900123`
    /// is +447700900123. Numbers are stored, digested and compared in E.164 whatever the region.
    #[arg(long, env = "CONSENT_PHONE_REGION", default_value_t = PhoneRegion::GB)]
    pub phone_region: PhoneRegion,
    /// How far an event's occurredAt may lie after the time the ledger receives it, in seconds (clocks disagree a
    /// little); later is refused as a fact from the future.
    #[arg(long, env = "CONSENT_MAX_CLOCK_SKEW_SECS", default_value_t = EntryRules::DEFAULT_MAX_CLOCK_SKEW.as_secs())]
    pub max_clock_skew_secs: u64,
    #[command(flatten)]
    pub checkpoints: CheckpointArgs,
    /// The API key file (`consent-ledger api-key create`), or its text in the environment variable CONSENT_API_KEYS;
    /// default DATA_DIR/api-keys.toml when it exists. With one, every API call needs a key.
    #[arg(long, env = "CONSENT_API_KEYS_FILE")]
    pub api_keys: Option<PathBuf>,
    /// Without a key file, serve unauthenticated even on a non-loopback address (never turns off a key file's keys).
    #[arg(long, env = "CONSENT_INSECURE_NO_AUTH")]
    pub insecure_no_auth: bool,
    /// How often the API key file is read again, so keys are added and revoked without a restart (0: only on SIGHUP).
    #[arg(long, env = "CONSENT_API_KEYS_RELOAD_SECS", default_value_t = 10)]
    pub api_keys_reload_secs: u64,
    #[command(flatten)]
    pub intake: IntakeArgs,
    #[command(flatten)]
    pub sealing: SealingArgs,
    #[command(flatten)]
    pub webhooks: WebhookArgs,
    #[command(flatten)]
    pub console: crate::console_setup::ConsoleArgs,
}

impl ServeArgs {
    /// Fills what the flags and the environment left at its default from
    /// the `--config` file, if one is named. `matches` are the `serve`
    /// subcommand's, which tell where each value came from.
    pub fn apply_config_file(&mut self, matches: Option<&clap::ArgMatches>) -> anyhow::Result<()> {
        let Some(path) = &self.config else {
            return Ok(());
        };
        let file = ConfigFile::read(path)?;
        let may = |id: &str| file_may_set(matches, id);
        if let (Some(value), true) = (file.listen, may("listen")) {
            self.listen = value;
        }
        if let (Some(value), true) = (file.grpc_listen, may("grpc_listen")) {
            self.grpc_listen = Some(value);
        }
        if let (Some(value), true) = (file.shutdown_timeout_secs, may("shutdown_timeout_secs")) {
            self.shutdown_timeout_secs = value;
        }
        if let (Some(value), true) = (file.ready_max_lag, may("ready_max_lag")) {
            self.ready_max_lag = value;
        }
        if let (Some(value), true) = (file.unhealthy_after_secs, may("unhealthy_after_secs")) {
            self.unhealthy_after_secs = value;
        }
        if let (Some(value), true) = (&file.phone_region, may("phone_region")) {
            self.phone_region = value
                .parse()
                .with_context(|| format!("phone_region = {value:?}"))
                .with_context(|| format!("in the config file {}", path.display()))?;
        }
        if let (Some(value), true) = (file.max_clock_skew_secs, may("max_clock_skew_secs")) {
            self.max_clock_skew_secs = value;
        }
        if let (Some(value), true) = (file.checkpoint_key.clone(), may("checkpoint_key")) {
            self.checkpoints.checkpoint_key = Some(value);
        }
        if let (Some(value), true) = (file.checkpoint_origin.clone(), may("checkpoint_origin")) {
            self.checkpoints.checkpoint_origin = value;
        }
        if let (Some(value), true) = (
            file.checkpoint_interval_secs,
            may("checkpoint_interval_secs"),
        ) {
            self.checkpoints.checkpoint_interval_secs = value;
        }
        if let (Some(value), true) = (file.api_keys.clone(), may("api_keys")) {
            self.api_keys = Some(value);
        }
        if let (Some(value), true) = (file.insecure_no_auth, may("insecure_no_auth")) {
            self.insecure_no_auth = value;
        }
        if let (Some(value), true) = (file.api_keys_reload_secs, may("api_keys_reload_secs")) {
            self.api_keys_reload_secs = value;
        }
        if let (Some(value), true) = (file.public_url.clone(), may("public_url")) {
            self.intake.public_url = Some(value);
        }
        if let (Some(value), true) = (file.unsubscribe_key.clone(), may("unsubscribe_key")) {
            self.intake.unsubscribe_key = Some(value);
        }
        if let (Some(value), true) = (file.sms_webhook_secret.clone(), may("sms_webhook_secret")) {
            self.intake.sms_webhook_secret = Some(value);
        }
        if let (Some(value), true) = (file.esp_webhooks.clone(), may("esp_webhooks")) {
            self.intake.esp_webhooks = Some(value);
        }
        if let (Some(value), true) = (file.contact_digest_key.clone(), may("contact_digest_key")) {
            self.sealing.contact_digest_key = Some(value);
        }
        if let (Some(value), true) = (file.subject_key_store.clone(), may("subject_key_store")) {
            self.sealing.subject_key_store = Some(value);
        }
        if let (Some(value), true) = (
            file.subject_key_store_password_file.clone(),
            may("subject_key_store_password_file"),
        ) {
            self.sealing.subject_key_store_password_file = Some(value);
        }
        if let (Some(value), true) = (&file.sms_numbers, may("sms_numbers")) {
            self.intake.sms_numbers = value
                .iter()
                .map(|(number, organisation)| (number.clone(), organisation.clone()))
                .collect();
        }
        if let (Some(value), true) = (file.webhooks.clone(), may("webhooks")) {
            self.webhooks.webhooks = Some(value);
        }
        if let (Some(value), true) = (file.webhook_max_tries, may("webhook_max_tries")) {
            self.webhooks.webhook_max_tries = value;
        }
        if let (Some(value), true) = (
            file.webhook_initial_backoff_ms,
            may("webhook_initial_backoff_ms"),
        ) {
            self.webhooks.webhook_initial_backoff_ms = value;
        }
        if let (Some(value), true) = (
            file.webhook_max_backoff_secs,
            may("webhook_max_backoff_secs"),
        ) {
            self.webhooks.webhook_max_backoff_secs = value;
        }
        if let (Some(value), true) = (file.webhook_timeout_secs, may("webhook_timeout_secs")) {
            self.webhooks.webhook_timeout_secs = value;
        }
        self.console.apply_file(&file, matches);
        self.storage
            .apply_file(&file, matches)
            .with_context(|| format!("in the config file {}", path.display()))
    }
}

pub async fn run(
    mut args: ServeArgs,
    matches: Option<&clap::ArgMatches>,
) -> anyhow::Result<std::process::ExitCode> {
    args.apply_config_file(matches)?;
    let addresses: Vec<SocketAddr> = std::iter::once(args.listen)
        .chain(args.grpc_listen)
        .collect();
    let guard = crate::api_key::serve_guard(
        args.api_keys.as_deref(),
        &args.storage.data_dir,
        args.insecure_no_auth,
        &addresses,
    )?;
    let config = args.storage.projector_config()?;
    let log = args.storage.open_log().await?;
    // Before anything reads or writes the view: an instance whose digest
    // key is not the log's refuses to start.
    let sealer = open_sealer(&args.sealing, &args.storage.data_dir, log.as_ref()).await?;
    let store = args.storage.open_view()?;
    let feed_log = std::sync::Arc::clone(&log);
    let mut projector = Projector::new(log, store, config);
    projector.start().await.map_err(|error| {
        let hint = if error.requires_rebuild() {
            "\n  the view does not match the log: stop the ledger and run `consent-ledger rebuild`"
        } else {
            ""
        };
        anyhow::anyhow!("starting the projector: {error}{hint}")
    })?;
    let projection = projector.projection();
    let checkpointer = open_checkpointer(
        &args.checkpoints,
        &args.storage.data_dir,
        projection.handle().clone(),
    )?;
    let intake = open_intake(
        &args.intake,
        &args.storage.data_dir,
        args.listen,
        args.phone_region,
    )?;
    let ledger_config = LedgerConfig {
        health: HealthConfig {
            unhealthy_after: Duration::from_secs(args.unhealthy_after_secs),
        },
        entry: EntryRules {
            phone_region: args.phone_region,
            max_clock_skew: Duration::from_secs(args.max_clock_skew_secs),
        },
        ..LedgerConfig::default()
    };
    let ledger = Ledger::builder(projection)
        .config(ledger_config)
        .evidence(checkpointer)
        .intake(intake)
        .sealing(sealer)
        .build();
    // The log's end now is what the view must reach before /readyz says
    // ready (the projector has not read anything yet).
    let readiness = consent_http::Readiness::measure(&ledger, args.ready_max_lag).await;

    let (stop_projector, projector_stopping) = tokio::sync::watch::channel(false);
    let checkpoint_schedule = spawn_schedule(
        ledger.clone(),
        Duration::from_secs(args.checkpoints.checkpoint_interval_secs),
        projector_stopping.clone(),
    );
    let pushers_stopping = projector_stopping.clone();
    let projector_task = tokio::spawn(projector.run(projector_stopping));

    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let grpc_listener = match args.grpc_listen {
        Some(address) => Some(
            tokio::net::TcpListener::bind(address)
                .await
                .with_context(|| format!("cannot listen on {address}"))?,
        ),
        None => None,
    };
    tracing::info!(
        address = %args.listen,
        grpc_address = ?args.grpc_listen,
        data_dir = %args.storage.data_dir.display(),
        owned_partitions = %args.storage.own_partitions,
        "consent ledger ready"
    );
    // One signal stops both APIs; each finishes its calls in flight.
    let (stop_serving, stopping) = tokio::sync::watch::channel(false);
    let signal = tokio::spawn(async move {
        shutdown_signal().await;
        let _ = stop_serving.send(true);
    });
    let key_reloader = crate::api_key_reload::spawn(
        guard.clone(),
        crate::api_key::key_file_to_watch(args.api_keys.as_deref(), &args.storage.data_dir)?,
        Duration::from_secs(args.api_keys_reload_secs),
        stopping.clone(),
    );
    // The API and the console (/console), on one listener.
    let console = consent_console::Console::new(
        ledger.clone(),
        guard.clone(),
        args.console.settings(),
        crate::api_key::key_file_to_watch(args.api_keys.as_deref(), &args.storage.data_dir)?
            .filter(|_| guard.current_keys().is_some())
            .map(|path| {
                Arc::new(crate::console_setup::KeyFileAdministration {
                    path,
                    guard: guard.clone(),
                }) as Arc<dyn consent_console::KeyAdministration>
            }),
    );
    let router = consent_http::router_guarded(ledger.clone(), readiness, guard.clone())
        .merge(consent_console::router(console));
    // The webhook pushers follow the opt-out feed of the partitions this
    // instance owns, each from its own stored position (after the router,
    // which installs the metrics recorder they count through).
    let owned = args
        .storage
        .own_partitions
        .partitions(&args.storage.layout());
    let pushers = crate::webhooks::spawn_pushers(
        &args.webhooks,
        feed_log,
        &owned,
        &args.storage.data_dir,
        pushers_stopping,
    )?;
    let serving = async {
        tokio::try_join!(
            async {
                consent_http::serve_router(listener, router, stopped(stopping.clone()))
                    .await
                    .context("serving the HTTP API")
            },
            async {
                match grpc_listener {
                    Some(grpc_listener) => consent_grpc::serve_guarded(
                        grpc_listener,
                        ledger.clone(),
                        guard,
                        stopped(stopping.clone()),
                    )
                    .await
                    .context("serving the gRPC API"),
                    None => Ok(()),
                }
            },
        )
    };
    // Once told to stop, requests in flight have the shutdown timeout to
    // finish; after it the servers are dropped with whatever is left.
    let shutdown_timeout = Duration::from_secs(args.shutdown_timeout_secs);
    let mut told_to_stop = stopping.clone();
    let served = tokio::select! {
        served = serving => served.map(|_| ()),
        () = async {
            let _ = told_to_stop.wait_for(|stop| *stop).await;
            tokio::time::sleep(shutdown_timeout).await;
        } => {
            tracing::warn!(
                timeout_secs = args.shutdown_timeout_secs,
                "requests still in flight after the shutdown timeout; closing them"
            );
            Ok(())
        }
    };
    signal.abort();
    key_reloader.abort();
    served?;

    // Requests in flight have finished; everything acknowledged is in the
    // log. Stop the projector after its current batch.
    let _ = stop_projector.send(true);
    let _ = checkpoint_schedule.await;
    for pusher in pushers {
        if let Err(error) = pusher.await {
            tracing::error!(%error, "a webhook pusher task failed");
        }
    }
    match projector_task.await {
        Ok(Ok(())) => {}
        Ok(Err(error)) => tracing::error!(%error, "the projector stopped with an error"),
        Err(error) => tracing::error!(%error, "the projector task failed"),
    }
    tracing::info!("consent ledger stopped");
    Ok(std::process::ExitCode::SUCCESS)
}

/// Completes once `stopping` says stop (or its sender is gone).
async fn stopped(mut stopping: tokio::sync::watch::Receiver<bool>) {
    let _ = stopping.wait_for(|stop| *stop).await;
}

/// Completes on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::warn!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
