//! `consent-ledger serve`: the log, the projector, the HTTP API and (when
//! asked for) the gRPC API in one process.

use crate::settings::StorageArgs;
use anyhow::Context;
use consent_projector::Projector;
use consent_service::Ledger;
use std::net::SocketAddr;

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
}

pub async fn run(args: ServeArgs) -> anyhow::Result<std::process::ExitCode> {
    let config = args.storage.projector_config()?;
    let log = args.storage.open_log().await?;
    let store = args.storage.open_view()?;
    let mut projector = Projector::new(log.clone(), store.clone(), config);
    projector.start().await.map_err(|error| {
        let hint = if error.requires_rebuild() {
            "\n  the view does not match the log: stop the ledger and run `consent-ledger rebuild`"
        } else {
            ""
        };
        anyhow::anyhow!("starting the projector: {error}{hint}")
    })?;
    let projection = projector.handle();
    let ledger = Ledger::new(log, store, projection.clone());

    let (stop_projector, projector_stopping) = tokio::sync::watch::channel(false);
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
    let served = tokio::try_join!(
        async {
            consent_http::serve(listener, ledger.clone(), stopped(stopping.clone()))
                .await
                .context("serving the HTTP API")
        },
        async {
            match grpc_listener {
                Some(grpc_listener) => consent_grpc::serve(
                    grpc_listener,
                    ledger.clone(),
                    projection,
                    stopped(stopping.clone()),
                )
                .await
                .context("serving the gRPC API"),
                None => Ok(()),
            }
        },
    );
    signal.abort();
    served?;

    // Requests in flight have finished; everything acknowledged is in the
    // log. Stop the projector after its current batch.
    let _ = stop_projector.send(true);
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
