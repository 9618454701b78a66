//! `CheckStream`: a campaign's checks over one stream, decided in order.
//!
//! Invariants:
//! * the i-th answer is the decision on the i-th request, and no request is
//!   skipped: the first request that cannot be decided ends the stream with
//!   its status ([`stream_item_status`]), after the decisions of every
//!   request before it;
//! * memory is bounded whatever the stream's length: one task reads a
//!   request, decides it and queues the decision in a channel of
//!   [`DECISION_QUEUE`] places, and reads the next request only once the
//!   decision is queued. A client that stops reading its answers fills the
//!   queue, the task stops reading requests, and HTTP/2 flow control stops
//!   the client from sending more.

use crate::status::stream_item_status;
use consent_schema::v1;
use consent_service::Ledger;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Status, Streaming};
use tracing::Instrument;

/// Decisions decided but not yet sent, at most.
pub const DECISION_QUEUE: usize = 1024;

/// The answer stream of a `CheckStream` call.
pub type DecisionStream = ReceiverStream<Result<v1::Decision, Status>>;

/// Starts deciding `requests` in order; the decisions (and, last, the
/// status that ended the stream early, if one did) come out of the returned
/// stream. The work runs in the current tracing span.
pub fn decide_stream(ledger: Ledger, requests: Streaming<v1::CheckRequest>) -> DecisionStream {
    let (decisions, answers) = mpsc::channel(DECISION_QUEUE);
    tokio::spawn(decide_in_order(ledger, requests, decisions).in_current_span());
    ReceiverStream::new(answers)
}

async fn decide_in_order(
    ledger: Ledger,
    mut requests: Streaming<v1::CheckRequest>,
    decisions: mpsc::Sender<Result<v1::Decision, Status>>,
) {
    let started = std::time::Instant::now();
    let mut decided: usize = 0;
    let ended_by = loop {
        let request = match requests.message().await {
            Ok(Some(request)) => request,
            Ok(None) => break None,
            // The request stream broke (a malformed message, a reset
            // stream): say so if the client still listens.
            Err(status) => {
                let code = status.code();
                let _ = decisions.send(Err(status)).await;
                break Some(code);
            }
        };
        let answer = ledger
            .check(request)
            .await
            .map_err(|error| stream_item_status(error, decided));
        let failed = answer.as_ref().err().map(Status::code);
        if decisions.send(answer).await.is_err() {
            tracing::debug!(decided, "the client stopped reading its decisions");
            return;
        }
        if failed.is_some() {
            break failed;
        }
        decided += 1;
    };
    let elapsed = started.elapsed();
    let per_second = if elapsed.as_secs_f64() > 0.0 {
        decided as f64 / elapsed.as_secs_f64()
    } else {
        0.0
    };
    match ended_by {
        None => tracing::info!(decided, per_second, "check stream finished"),
        Some(code) => tracing::info!(decided, per_second, ?code, "check stream ended early"),
    }
}
