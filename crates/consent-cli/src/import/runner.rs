//! What every import shares (`append`, `import suppressions`,
//! `import tps`): events go to the ledger in batches, a transient failure
//! (no answer, a timeout, 429, 502-504) is retried with capped exponential
//! backoff and jitter, an event the ledger refuses is set aside with its
//! line number and the rest of its batch is sent again, and the import ends
//! with a summary: appended, already present, skipped and refused.
//!
//! Retrying is safe because import ids are deterministic ([`super::ids`])
//! and the ledger answers an event it already holds as `already_present`
//! instead of appending it again.

use crate::client::LedgerClient;
use anyhow::bail;
use consent_schema::v1;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// Options every import takes.
#[derive(clap::Args, Clone, Debug)]
pub struct BatchArgs {
    /// Events per request.
    #[arg(long, default_value_t = 500)]
    pub batch: usize,
    /// Attempts per request before the import stops, when the ledger does
    /// not answer or answers 429/502/503/504 (backoff from 200 ms doubling
    /// to 10 s, with jitter).
    #[arg(long, default_value_t = 10)]
    pub attempts: u32,
    /// Before the first request and before each retry, wait up to this
    /// long for the ledger's view to catch up with its log (`/v1/status`
    /// `recordsBehind` 0), so that what an interrupted run appended is
    /// answered "already present" rather than appended again. 0 does not
    /// wait.
    #[arg(long, default_value_t = 30)]
    pub wait_for_view_secs: u64,
}

/// The end of an import.
#[derive(Debug, Default)]
pub struct Summary {
    /// Rows (lines) that became events.
    pub events: u64,
    pub appended: u64,
    pub already_present: u64,
    /// Rows that are not facts to record, by what they are (bounces ...).
    pub skipped: BTreeMap<String, u64>,
    /// Refused rows: line number and reason, in line order.
    pub refused: Vec<(u64, String)>,
}

impl Summary {
    pub fn skipped_total(&self) -> u64 {
        self.skipped.values().sum()
    }

    /// Prints the summary to stdout; the process's exit code: failure
    /// when any row was refused.
    pub fn report(&mut self) -> std::process::ExitCode {
        const SHOWN: usize = 50;
        self.refused.sort_by_key(|(line, _)| *line);
        let skipped = if self.skipped.is_empty() {
            String::new()
        } else {
            let kinds: Vec<String> = self
                .skipped
                .iter()
                .map(|(kind, count)| format!("{count} {kind}"))
                .collect();
            format!(
                ", {} skipped (not a refusal: {})",
                self.skipped_total(),
                kinds.join(", ")
            )
        };
        println!(
            "{} appended, {} already present, {} refused{skipped}",
            self.appended,
            self.already_present,
            self.refused.len()
        );
        for (line, reason) in self.refused.iter().take(SHOWN) {
            println!("refused line {line}: {reason}");
        }
        if self.refused.len() > SHOWN {
            println!("... and {} more refused lines", self.refused.len() - SHOWN);
        }
        if self.refused.is_empty() {
            std::process::ExitCode::SUCCESS
        } else {
            std::process::ExitCode::FAILURE
        }
    }
}

/// Sends events in batches and keeps the summary.
pub struct Importer<'a> {
    client: &'a LedgerClient,
    args: BatchArgs,
    batch: Vec<(u64, v1::Envelope)>,
    pub summary: Summary,
    latest: LatestPositions,
    progress: ProgressBar,
    started: Instant,
    rows: u64,
}

impl<'a> Importer<'a> {
    /// An importer reading a file of `total_bytes` (a spinner when not
    /// known). Waits for the ledger's view first (see
    /// [`BatchArgs::wait_for_view_secs`]).
    pub async fn start(
        client: &'a LedgerClient,
        args: &BatchArgs,
        total_bytes: Option<u64>,
    ) -> anyhow::Result<Importer<'a>> {
        if args.batch == 0 {
            bail!("--batch must be at least 1");
        }
        if args.attempts == 0 {
            bail!("--attempts must be at least 1");
        }
        let importer = Self {
            client,
            args: args.clone(),
            batch: Vec::with_capacity(args.batch),
            summary: Summary::default(),
            latest: LatestPositions::default(),
            progress: progress_bar(total_bytes),
            started: Instant::now(),
            rows: 0,
        };
        importer.wait_for_view().await;
        Ok(importer)
    }

    /// One row read: `bytes` of the file (for the progress bar).
    pub fn read(&mut self, bytes: u64) {
        self.rows += 1;
        self.progress.inc(bytes);
    }

    /// A row that is not a fact to record (e.g. a bounce), counted under
    /// `kind`.
    pub fn skip(&mut self, kind: &str) {
        *self.summary.skipped.entry(kind.to_owned()).or_default() += 1;
    }

    /// A row refused before sending (not JSON, no timestamp ...).
    pub fn refuse(&mut self, line: u64, reason: impl Into<String>) {
        self.summary.refused.push((line, reason.into()));
    }

    /// Queues the event of `line`; sends the batch when it is full.
    pub async fn push(&mut self, line: u64, envelope: v1::Envelope) -> anyhow::Result<()> {
        self.summary.events += 1;
        self.batch.push((line, envelope));
        if self.batch.len() >= self.args.batch {
            self.flush().await?;
        }
        Ok(())
    }

    /// Sends what is queued. `Err` when the ledger could not be reached
    /// after every attempt, or refused the request as a whole (401, 403 ...):
    /// the import stops, and re-running it appends nothing twice.
    pub async fn flush(&mut self) -> anyhow::Result<()> {
        let mut batch = std::mem::take(&mut self.batch);
        while !batch.is_empty() {
            let request = v1::AppendRequest {
                events: batch.iter().map(|(_, envelope)| envelope.clone()).collect(),
            };
            let first_line = batch.first().map_or(0, |(line, _)| *line);
            let answer = self.send(&request, first_line).await?;
            match answer {
                Answer::Appended(body) => {
                    self.record(&body, batch.len());
                    batch.clear();
                }
                Answer::Refused { index, reason } => {
                    // One event is refused and nothing of the batch was
                    // appended: set it aside and send the rest again.
                    let (line, _) = batch.remove(index);
                    self.summary.refused.push((line, reason));
                }
            }
        }
        self.show_progress();
        Ok(())
    }

    /// The summary, once everything queued is sent; the positions a check
    /// would wait for are printed with it.
    pub async fn finish(mut self) -> anyhow::Result<Summary> {
        self.flush().await?;
        self.progress.finish_and_clear();
        let elapsed = self.started.elapsed();
        tracing::info!(
            rows = self.rows,
            appended = self.summary.appended,
            already_present = self.summary.already_present,
            refused = self.summary.refused.len(),
            skipped = self.summary.skipped_total(),
            elapsed_ms = u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX),
            "import finished"
        );
        if !self.latest.0.is_empty() {
            let wait_for: Vec<String> = self
                .latest
                .0
                .iter()
                .map(|((topic, partition), offset)| {
                    format!("--wait-for {topic}/{partition}@{offset}")
                })
                .collect();
            println!(
                "to check with these events in the view: {}",
                wait_for.join(" ")
            );
        }
        Ok(self.summary)
    }

    fn record(&mut self, body: &Value, sent: usize) {
        let appended = body["appended"].as_array().map_or(&[][..], Vec::as_slice);
        for event in appended {
            if event["alreadyPresent"] == Value::Bool(true) {
                self.summary.already_present += 1;
            } else {
                self.summary.appended += 1;
            }
            self.latest.record(&event["position"]);
        }
        if appended.len() != sent {
            tracing::warn!(
                sent,
                answered = appended.len(),
                "the ledger answered a different number of events than were sent"
            );
        }
    }

    /// One request, retried on transient failures.
    async fn send(&self, request: &v1::AppendRequest, first_line: u64) -> anyhow::Result<Answer> {
        let mut attempt = 1;
        loop {
            let failure = match self.client.post_answer("/v1/events", request).await {
                Ok((status, body)) if status.is_success() => return Ok(Answer::Appended(body)),
                Ok((status, body)) if status == reqwest::StatusCode::BAD_REQUEST => {
                    let error = &body["error"];
                    let field = error["field"].as_str().unwrap_or("");
                    let message = error["message"].as_str().unwrap_or("no message");
                    match refused_index(field) {
                        Some(index) if index < request.events.len() => {
                            return Ok(Answer::Refused {
                                index,
                                reason: format!("{field}: {message}"),
                            })
                        }
                        _ => bail!(
                            "the ledger refused the batch from line {first_line} without naming an event: \
                             400 (field `{field}`): {message}"
                        ),
                    }
                }
                Ok((status, body)) if is_transient(status) => {
                    format!(
                        "{status}: {}",
                        body["error"]["message"].as_str().unwrap_or("")
                    )
                }
                Ok((status, body)) => bail!(
                    "the ledger refused the request (lines from {first_line}): {status}: {}; \
                     nothing from this batch on was appended, and re-running the import is safe",
                    body["error"]["message"].as_str().unwrap_or("no message")
                ),
                Err(error) => format!("no answer: {error}"),
            };
            if attempt >= self.args.attempts {
                bail!(
                    "the ledger did not take the batch from line {first_line} after {attempt} attempts \
                     (last: {failure}); re-running the import is safe: what was appended is answered \
                     as already present"
                );
            }
            let delay = backoff(attempt);
            tracing::warn!(
                attempt,
                delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                first_line,
                %failure,
                "append failed; retrying"
            );
            self.progress
                .set_message(format!("retrying after: {failure}"));
            tokio::time::sleep(delay).await;
            // What a failed attempt may have appended is answered as
            // already present only once the view has it.
            self.wait_for_view().await;
            attempt += 1;
        }
    }

    /// Waits (bounded) until `/v1/status` says the view has caught up.
    async fn wait_for_view(&self) {
        if self.args.wait_for_view_secs == 0 {
            return;
        }
        let deadline = Instant::now() + Duration::from_secs(self.args.wait_for_view_secs);
        loop {
            if let Ok(status) = self.client.get("/v1/status", &[]).await {
                if status["recordsBehind"].as_u64().unwrap_or(0) == 0
                    && status["logReachable"] != Value::Bool(false)
                {
                    return;
                }
            }
            if Instant::now() >= deadline {
                tracing::warn!(
                    "the ledger's view has not caught up; events it does not have yet may be \
                     appended again (the view counts each id once)"
                );
                return;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    fn show_progress(&self) {
        let seconds = self.started.elapsed().as_secs_f64().max(0.001);
        self.progress.set_message(format!(
            "{} rows ({:.0}/s): {} appended, {} already present, {} refused",
            self.rows,
            self.rows as f64 / seconds,
            self.summary.appended,
            self.summary.already_present,
            self.summary.refused.len()
        ));
    }
}

enum Answer {
    Appended(Value),
    /// The event at this index of the request was refused; none appended.
    Refused {
        index: usize,
        reason: String,
    },
}

/// The request index a refusal's field names (`events[3].occurred_at`).
fn refused_index(field: &str) -> Option<usize> {
    let rest = field.strip_prefix("events[")?;
    let end = rest.find(']')?;
    rest[..end].parse().ok()
}

/// Worth another attempt: the ledger or something before it is busy or
/// restarting.
fn is_transient(status: reqwest::StatusCode) -> bool {
    matches!(status.as_u16(), 408 | 429 | 502 | 503 | 504)
}

/// Full jitter over a capped exponential: up to 200 ms x 2^(attempt-1),
/// at most 10 s, at least 50 ms.
fn backoff(attempt: u32) -> Duration {
    let cap = 200u64
        .saturating_mul(1 << attempt.saturating_sub(1).min(16))
        .min(10_000);
    Duration::from_millis(50 + fastrand::u64(0..=cap))
}

/// The highest position appended per topic-partition.
#[derive(Default)]
struct LatestPositions(BTreeMap<(String, u64), u64>);

impl LatestPositions {
    /// Records a proto3 JSON `LogPosition` (zero values are omitted there).
    fn record(&mut self, position: &Value) {
        let Some(topic) = position["topic"].as_str() else {
            return;
        };
        let partition = position["partition"].as_u64().unwrap_or(0);
        let offset = position["offset"]
            .as_str()
            .and_then(|o| o.parse().ok())
            .unwrap_or(0);
        let entry = self
            .0
            .entry((topic.to_owned(), partition))
            .or_insert(offset);
        *entry = (*entry).max(offset);
    }
}

fn progress_bar(total_bytes: Option<u64>) -> ProgressBar {
    match total_bytes {
        Some(total) => {
            let bar = ProgressBar::new(total);
            if let Ok(style) = ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] [{bar:30}] {bytes}/{total_bytes} (ETA {eta}) {msg}",
            ) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar
        }
        None => ProgressBar::new_spinner(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_names_its_event_by_index() {
        assert_eq!(refused_index("events[12].occurred_at"), Some(12));
        assert_eq!(refused_index("events[0]"), Some(0));
        assert_eq!(refused_index("organisation_id"), None);
    }

    #[test]
    fn backoff_stays_within_its_cap() {
        for attempt in 1..40 {
            assert!(backoff(attempt) <= Duration::from_millis(10_050));
        }
    }
}
