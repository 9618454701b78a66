//! The thread that owns the database connection.
//!
//! `tokio-postgres` is async; the key store trait is not. The worker thread
//! runs a single-threaded tokio runtime of its own with the client and its
//! connection task; callers send requests over a channel and block on a
//! reply channel (a plain `std` channel, so waiting is allowed on any
//! thread, a runtime's included). One connection, one request at a time:
//! each request is one short transaction, like the SQLite store's mutex.
//! A lost connection is opened again for the next request.

use crate::schema::{backend, describe, migrate};
use crate::store;
use consent_domain::{OrganisationId, SubjectId};
use consent_sealing::{KeyState, KeyStoreError, Prepared, SealingBatch};
use std::sync::mpsc as std_mpsc;
use std::time::Duration;
use tokio::sync::mpsc;

/// What a caller asks the worker.
pub(crate) struct Request {
    what: What,
    reply: std_mpsc::Sender<Result<Answer, KeyStoreError>>,
}

pub(crate) enum What {
    Prepare(SealingBatch),
    Key(OrganisationId, SubjectId),
}

/// The worker's answer.
pub(crate) enum Answer {
    Prepared(Prepared),
    Key(KeyState),
}

impl Answer {
    pub(crate) fn into_prepared(self) -> Result<Prepared, KeyStoreError> {
        match self {
            Answer::Prepared(prepared) => Ok(prepared),
            Answer::Key(_) => Err(mismatch()),
        }
    }

    pub(crate) fn into_key(self) -> Result<KeyState, KeyStoreError> {
        match self {
            Answer::Key(key) => Ok(key),
            Answer::Prepared(_) => Err(mismatch()),
        }
    }
}

fn mismatch() -> KeyStoreError {
    KeyStoreError::Backend("the PostgreSQL worker answered another request".to_owned())
}

/// The handle callers hold; dropping it stops the thread.
pub(crate) struct Worker {
    requests: Option<mpsc::UnboundedSender<Request>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Worker {
    /// Starts the thread, connects and migrates; returns once connected,
    /// or with the reason it could not (bounded by `timeout`).
    pub(crate) fn start(
        config: tokio_postgres::Config,
        shown_url: String,
        timeout: Duration,
    ) -> Result<Self, KeyStoreError> {
        let (requests, receiver) = mpsc::unbounded_channel();
        let (started, started_answer) = std_mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("subject-keys-pg".to_owned())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime,
                    Err(error) => {
                        let _ = started.send(Err(KeyStoreError::Backend(format!(
                            "cannot start the PostgreSQL worker's runtime: {error}"
                        ))));
                        return;
                    }
                };
                runtime.block_on(run(config, shown_url, receiver, started));
            })
            .map_err(|error| {
                KeyStoreError::Backend(format!("cannot start the PostgreSQL worker: {error}"))
            })?;
        let outcome = started_answer
            .recv_timeout(timeout + Duration::from_secs(5))
            .unwrap_or_else(|_| {
                Err(KeyStoreError::Backend(
                    "the PostgreSQL worker did not start".to_owned(),
                ))
            });
        let mut worker = Self {
            requests: Some(requests),
            thread: Some(thread),
        };
        match outcome {
            Ok(()) => Ok(worker),
            Err(error) => {
                worker.stop();
                Err(error)
            }
        }
    }

    /// Sends a request and waits (up to `timeout`, plus the database's own
    /// statement timeout) for its answer.
    pub(crate) fn call(&self, what: What, timeout: Duration) -> Result<Answer, KeyStoreError> {
        let (reply, answer) = std_mpsc::channel();
        self.requests
            .as_ref()
            .ok_or_else(stopped)?
            .send(Request { what, reply })
            .map_err(|_| stopped())?;
        answer
            .recv_timeout(timeout * 3)
            .map_err(|error| match error {
                std_mpsc::RecvTimeoutError::Timeout => KeyStoreError::Backend(format!(
                    "PostgreSQL did not answer within {:?}",
                    timeout * 3
                )),
                std_mpsc::RecvTimeoutError::Disconnected => stopped(),
            })?
    }

    fn stop(&mut self) {
        self.requests.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.stop();
    }
}

fn stopped() -> KeyStoreError {
    KeyStoreError::Backend("the PostgreSQL worker has stopped".to_owned())
}

/// The worker's loop: connect, answer requests until every handle is gone.
async fn run(
    config: tokio_postgres::Config,
    shown_url: String,
    mut requests: mpsc::UnboundedReceiver<Request>,
    started: std_mpsc::Sender<Result<(), KeyStoreError>>,
) {
    let mut client = match connect(&config, &shown_url).await {
        Ok(client) => {
            let _ = started.send(Ok(()));
            Some(client)
        }
        Err(error) => {
            let _ = started.send(Err(error));
            return;
        }
    };
    while let Some(request) = requests.recv().await {
        if client
            .as_ref()
            .is_none_or(tokio_postgres::Client::is_closed)
        {
            client = match connect(&config, &shown_url).await {
                Ok(client) => Some(client),
                Err(error) => {
                    let _ = request.reply.send(Err(error));
                    None
                }
            };
        }
        let Some(connected) = client.as_mut() else {
            continue;
        };
        let answer = match request.what {
            What::Prepare(batch) => store::prepare(connected, &batch)
                .await
                .map(Answer::Prepared),
            What::Key(organisation, subject) => store::key(connected, &organisation, &subject)
                .await
                .map(Answer::Key),
        };
        let _ = request.reply.send(answer);
    }
}

/// Opens a connection (its task spawned on this runtime), bounds each
/// statement and lock wait, and creates or checks the tables.
async fn connect(
    config: &tokio_postgres::Config,
    shown_url: &str,
) -> Result<tokio_postgres::Client, KeyStoreError> {
    let (mut client, connection) =
        config
            .connect(tokio_postgres::NoTls)
            .await
            .map_err(|error| {
                KeyStoreError::Backend(format!(
                    "cannot connect to the subject key store {shown_url}: {}",
                    describe(&error)
                ))
            })?;
    let url = shown_url.to_owned();
    tokio::spawn(async move {
        if let Err(error) = connection.await {
            tracing::warn!(key_store = %url, error = %describe(&error), "the subject key store's connection closed; it is opened again for the next request");
        }
    });
    client
        .batch_execute("SET statement_timeout = '10s'; SET lock_timeout = '10s'")
        .await
        .map_err(backend)?;
    migrate(&mut client).await?;
    tracing::info!(key_store = %shown_url, "connected to the shared subject key store");
    Ok(client)
}
