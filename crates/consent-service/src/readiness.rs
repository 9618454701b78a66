//! Whether this instance should be sent traffic (readiness), judged here
//! so that a transport only maps the answer to its status code.
//!
//! Ready means: no fault is known (see [`Ledger::health`]: a failing log
//! partition, a view that cannot be written, ...), the log answers, and the
//! view has caught up (within `max_lag` records) with the log's end offsets
//! as measured when the instance started. A freshly started instance
//! replaying a long log is alive but not ready; once it has reached the
//! log's end of its start it stays ready while the log answers, even under
//! a steady stream of appends.

use crate::ledger::Ledger;
use crate::status::LedgerStatus;
use consent_log::EndOffsets;
use std::sync::Arc;
use tokio::sync::OnceCell;

/// The readiness rule of one instance: the log's end offsets at start (its
/// target) and the lag it tolerates. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Readiness {
    target: Arc<OnceCell<EndOffsets>>,
    max_lag: u64,
}

/// The answer of one readiness check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadinessReport {
    pub ready: bool,
    /// Why not, when not ready.
    pub reason: Option<String>,
    /// Records the view is short of the start target, when the log answered.
    pub records_behind_start: Option<u64>,
}

impl Readiness {
    /// Ready once the view has applied `target` (the followed partitions'
    /// end offsets measured at start), give or take `max_lag` records.
    pub fn caught_up_to(target: EndOffsets, max_lag: u64) -> Self {
        Self {
            target: Arc::new(OnceCell::new_with(Some(target))),
            max_lag,
        }
    }

    /// Measures the log's end offsets now (through the ledger's status, so
    /// only the followed partitions) as the target. When the log does not
    /// answer, the target is taken at the first readiness check that finds
    /// it reachable.
    pub async fn measure(ledger: &Ledger, max_lag: u64) -> Self {
        match ledger.status().await.log_end_offsets {
            Some(end) => Self::caught_up_to(end, max_lag),
            None => Self::at_first_check(max_lag),
        }
    }

    /// The target is the end offsets seen by the first readiness check that
    /// reaches the log.
    pub fn at_first_check(max_lag: u64) -> Self {
        Self {
            target: Arc::new(OnceCell::new()),
            max_lag,
        }
    }

    /// Asks the ledger how it is doing and judges it: not ready while any
    /// fault is known ([`Ledger::health`], also those not yet due for a
    /// restart), else by the view's progress.
    pub async fn check(&self, ledger: &Ledger) -> ReadinessReport {
        let status = ledger.status().await;
        let mut report = self.judge(&status);
        if let Some(faults) = ledger.health().await.reason() {
            report.ready = false;
            report.reason = Some(format!("faulty: {faults}"));
        }
        report
    }

    /// Judges a status against the target.
    pub fn judge(&self, status: &LedgerStatus) -> ReadinessReport {
        let Some(end) = &status.log_end_offsets else {
            return ReadinessReport {
                ready: false,
                reason: Some(format!(
                    "the log cannot be reached: {}",
                    status.log_error.as_deref().unwrap_or("no answer")
                )),
                records_behind_start: None,
            };
        };
        let target = match self.target.get() {
            Some(target) => target,
            None => {
                // First reachable check: its end offsets are the target.
                let _ = self.target.set(end.clone());
                self.target.get().unwrap_or(end)
            }
        };
        let behind = consent_projector::lag(&status.projection.applied, target).total;
        if behind > self.max_lag {
            return ReadinessReport {
                ready: false,
                reason: Some(format!(
                    "catching up: the view is {behind} records short of the log's end at start (at most {} allowed)",
                    self.max_lag
                )),
                records_behind_start: Some(behind),
            };
        }
        ReadinessReport {
            ready: true,
            reason: None,
            records_behind_start: Some(behind),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use consent_log::TopicPartition;
    use consent_projector::{OwnedPartitions, ProjectionStatus};

    fn offsets(values: &[(u32, u64)]) -> EndOffsets {
        values
            .iter()
            .map(|(partition, offset)| (TopicPartition::new("t", *partition), *offset))
            .collect()
    }

    fn status(applied: &[(u32, u64)], end: Option<&[(u32, u64)]>) -> LedgerStatus {
        LedgerStatus {
            projection: ProjectionStatus {
                applied: offsets(applied),
                ..ProjectionStatus::default()
            },
            log_end_offsets: end.map(offsets),
            lag: None,
            log_error: end.is_none().then(|| "broker down".to_owned()),
            owned_partitions: OwnedPartitions::All,
        }
    }

    #[test]
    fn ready_once_the_start_target_is_applied_even_if_the_log_moved_on() {
        let readiness = Readiness::caught_up_to(offsets(&[(0, 10), (1, 5)]), 0);
        let behind = readiness.judge(&status(&[(0, 9), (1, 5)], Some(&[(0, 10), (1, 5)])));
        assert!(!behind.ready);
        assert_eq!(behind.records_behind_start, Some(1));
        assert!(behind.reason.unwrap().contains("1 records short"));
        let caught_up = readiness.judge(&status(&[(0, 10), (1, 5)], Some(&[(0, 50), (1, 60)])));
        assert!(caught_up.ready, "{caught_up:?}");
    }

    #[test]
    fn a_small_lag_is_tolerated_when_configured() {
        let readiness = Readiness::caught_up_to(offsets(&[(0, 10)]), 3);
        assert!(readiness.judge(&status(&[(0, 7)], Some(&[(0, 10)]))).ready);
        assert!(!readiness.judge(&status(&[(0, 6)], Some(&[(0, 10)]))).ready);
    }

    #[test]
    fn an_unreachable_log_is_not_ready_and_names_why() {
        let readiness = Readiness::caught_up_to(offsets(&[(0, 0)]), 0);
        let report = readiness.judge(&status(&[(0, 0)], None));
        assert!(!report.ready);
        assert!(report.reason.unwrap().contains("broker down"));
    }

    #[test]
    fn without_a_start_target_the_first_reachable_check_sets_it() {
        let readiness = Readiness::at_first_check(0);
        assert!(!readiness.judge(&status(&[(0, 0)], None)).ready);
        assert!(!readiness.judge(&status(&[(0, 2)], Some(&[(0, 4)]))).ready);
        // The target stays at 4 though the log has moved on.
        assert!(readiness.judge(&status(&[(0, 4)], Some(&[(0, 9)]))).ready);
    }
}
