//! `CheckStream`: a campaign's checks over one stream, decided in order.
//!
//! Invariants:
//! * every request is authorized for the call's caller before it is
//!   decided: the first request of another organisation ends the stream
//!   with `PERMISSION_DENIED`, like any request that cannot be decided;
//! * the i-th answer is the decision on the i-th request, and no request is
//!   skipped: the first request that cannot be decided ends the stream with
//!   its status ([`stream_item_status`]), after the decisions of every
//!   request before it;
//! * memory is bounded whatever the stream's length: one task takes the
//!   requests already received (at most [`MAX_CHUNK`]), decides them and
//!   queues their decisions in a channel of [`DECISION_QUEUE`] places, and
//!   takes more only once they are queued. A client that stops reading its
//!   answers fills the queue, the task stops reading requests, and HTTP/2
//!   flow control stops the client from sending more.
//!
//! A chunk is decided with one [`Ledger::check_in_order`]: one batch (one
//! wait for all its `wait_for` positions, one freshness measurement), which
//! makes a stream about a third faster than a [`Ledger::check`] per
//! request, and, should the batch fail, one request at a time, so that the
//! decisions before the failing request are sent and the failure names its
//! request exactly.

use crate::error::{stream_item_auth_status, stream_item_status};
use consent_auth::{Action, Caller, Guarded};
use consent_domain::OrganisationId;
use consent_schema::v1;
use consent_service::Ledger;
use futures::StreamExt;
use std::time::Instant;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Code, Status, Streaming};
use tracing::Instrument;

/// Decisions decided but not yet sent, at most.
pub const DECISION_QUEUE: usize = 1024;
/// Requests decided together, at most.
pub const MAX_CHUNK: usize = 256;

/// The answer stream of a `CheckStream` call.
pub type DecisionStream = ReceiverStream<Result<v1::Decision, Status>>;

/// Starts deciding `requests` in order; the decisions (and, last, the
/// status that ended the stream early, if one did) come out of the returned
/// stream. The work runs in the current tracing span. Each request is
/// authorized for `authorized`'s caller before it is decided.
pub fn decide_stream(
    authorized: Guarded<Ledger>,
    requests: Streaming<v1::CheckRequest>,
) -> DecisionStream {
    let (decisions, answers) = mpsc::channel(DECISION_QUEUE);
    let stream = DecidingStream {
        ledger: authorized.for_any_caller().clone(),
        caller: authorized.caller().clone(),
        decisions,
        decided: 0,
    };
    tokio::spawn(stream.run(requests).in_current_span());
    ReceiverStream::new(answers)
}

/// How a chunk went.
enum Outcome {
    /// Every request was decided and its decision queued.
    Decided,
    /// A request could not be decided; its status is queued last.
    Failed(Code),
    /// The client no longer reads the answers.
    Gone,
}

struct DecidingStream {
    /// Invariant: used only for requests `caller` may check ([`run`]
    /// authorizes each before it joins a chunk).
    ledger: Ledger,
    caller: Caller,
    decisions: mpsc::Sender<Result<v1::Decision, Status>>,
    /// Requests decided so far: the index of the next one.
    decided: usize,
}

impl DecidingStream {
    async fn run(mut self, requests: Streaming<v1::CheckRequest>) {
        let started = Instant::now();
        let mut chunks = requests.ready_chunks(MAX_CHUNK);
        let ended_by = loop {
            let Some(chunk) = chunks.next().await else {
                break None;
            };
            // A broken request stream (a malformed message, a reset) ends
            // the chunk; the requests before it are still decided.
            let mut checks = Vec::with_capacity(chunk.len());
            let mut broken = None;
            for request in chunk {
                match request {
                    Ok(check) => {
                        let organisation = OrganisationId::new(check.organisation_id.as_str());
                        if let Err(error) =
                            self.caller
                                .may(Action::Check, "organisation_id", &organisation)
                        {
                            let index = self.decided + checks.len();
                            broken = Some(stream_item_auth_status(error, index));
                            break;
                        }
                        checks.push(check);
                    }
                    Err(status) => {
                        broken = Some(status);
                        break;
                    }
                }
            }
            match self.decide(checks).await {
                Outcome::Decided => {}
                Outcome::Failed(code) => break Some(code),
                Outcome::Gone => {
                    tracing::debug!(
                        decided = self.decided,
                        "the client stopped reading its decisions"
                    );
                    return;
                }
            }
            if let Some(status) = broken {
                let code = status.code();
                let _ = self.decisions.send(Err(status)).await;
                break Some(code);
            }
        };
        let decided = self.decided;
        let seconds = started.elapsed().as_secs_f64();
        let per_second = if seconds > 0.0 {
            decided as f64 / seconds
        } else {
            0.0
        };
        match ended_by {
            None => tracing::info!(decided, per_second, "check stream finished"),
            Some(code) => tracing::info!(decided, per_second, ?code, "check stream ended early"),
        }
    }

    /// Decides `checks`, the requests from index `self.decided` on, in
    /// order ([`Ledger::check_in_order`]), and queues their decisions, then
    /// the status of the first that could not be decided, if one could not.
    async fn decide(&mut self, checks: Vec<v1::CheckRequest>) -> Outcome {
        let (decisions, failed) = self.ledger.check_in_order(&checks).await;
        let first = self.decided;
        for decision in decisions {
            if self.decisions.send(Ok(decision)).await.is_err() {
                return Outcome::Gone;
            }
            self.decided += 1;
        }
        let Some((index, error)) = failed else {
            return Outcome::Decided;
        };
        let status = stream_item_status(error, first + index);
        let code = status.code();
        if self.decisions.send(Err(status)).await.is_err() {
            return Outcome::Gone;
        }
        Outcome::Failed(code)
    }
}
