//! API keys rotated without a restart: `serve` watches its key file and
//! swaps the keys every API accepts when the file changes (a new key added
//! with `consent-ledger api-key create`, an old one revoked, a Kubernetes
//! Secret updated in place).
//!
//! The file is read again every `--api-keys-reload-secs` and at once on
//! SIGHUP. A file that cannot be read or parsed leaves the keys in force
//! (logged as an error): a half-written file never locks every caller out,
//! and never lets anyone in.

use consent_auth::{Guard, KeyRing};
use std::path::PathBuf;
use std::time::Duration;

/// Watches `path` for `guard` until `stopping` says stop. Does nothing
/// without a file (keys given as text in the environment), for an open
/// guard (a server started without keys does not start requiring them), or
/// when `every` is zero and no SIGHUP comes.
pub fn spawn(
    guard: Guard,
    path: Option<PathBuf>,
    every: Duration,
    mut stopping: tokio::sync::watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let Some(path) = path.filter(|_| guard.current_keys().is_some()) else {
            return;
        };
        let mut last = std::fs::read(&path).ok();
        let mut hangup = hangup_signal();
        let mut ticks = (!every.is_zero()).then(|| {
            let mut interval = tokio::time::interval(every);
            interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            interval
        });
        loop {
            tokio::select! {
                _ = stopping.wait_for(|stop| *stop) => return,
                () = async {
                    match &mut ticks {
                        Some(ticks) => { ticks.tick().await; }
                        None => std::future::pending().await,
                    }
                } => {}
                () = async {
                    match &mut hangup {
                        Some(hangup) => { hangup.recv().await; }
                        None => std::future::pending().await,
                    }
                } => {
                    tracing::info!(file = %path.display(), "SIGHUP: reading the API key file again");
                    last = None;
                }
            }
            reload(&guard, &path, &mut last);
        }
    })
}

/// Reads `path`; when its bytes differ from `last`, replaces the guard's
/// keys with it (or keeps them, logging why, when it is not a key file).
fn reload(guard: &Guard, path: &std::path::Path, last: &mut Option<Vec<u8>>) {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(error) => {
            tracing::error!(file = %path.display(), %error, "cannot read the API key file: the keys in force stay");
            return;
        }
    };
    if last.as_deref() == Some(bytes.as_slice()) {
        return;
    }
    let parsed = std::str::from_utf8(&bytes)
        .map_err(|error| error.to_string())
        .and_then(|text| KeyRing::parse(text).map_err(|error| error.to_string()));
    match parsed {
        Ok(ring) => {
            let keys = ring.entries().len();
            guard.replace_keys(ring);
            *last = Some(bytes);
            tracing::info!(file = %path.display(), keys, "API key file changed: the new keys are in force");
        }
        Err(error) => {
            tracing::error!(file = %path.display(), %error, "the API key file changed but is not valid: the keys in force stay");
        }
    }
}

fn hangup_signal() -> Option<tokio::signal::unix::Signal> {
    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) {
        Ok(signal) => Some(signal),
        Err(error) => {
            tracing::warn!(%error, "cannot listen for SIGHUP: the API key file is reloaded on its schedule only");
            None
        }
    }
}
