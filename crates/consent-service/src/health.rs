//! Whether this instance can do its work, or should be restarted.
//!
//! The ledger refuses what it cannot do safely (an append the log cannot
//! make durable is not acknowledged), but a refusal alone never brings a
//! person or an orchestrator. [`Ledger::health`] names every fault it knows
//! of, and judges which of them a restart is for:
//!
//! | fault | a restart is due |
//! | --- | --- |
//! | a log partition fenced (a failed append could not be rolled back) | at once: only reopening the log (recovery) lifts the fence |
//! | the projector stopped (an error retrying cannot fix) | at once: nothing will move the view again |
//! | a log partition whose appends fail | once failing for [`HealthConfig::unhealthy_after`] |
//! | the view cannot be written (projector steps fail on the store) | after the bound |
//! | the log cannot be read, or does not answer (a broker unreachable) | after the bound |
//!
//! Every fault, due or not, makes the instance unready: traffic should go
//! elsewhere while it lasts. A fault is cleared by the next success of what
//! failed (an append to the partition, a projector step, a log probe).
//!
//! The judgement ([`judge`]) is a pure function of what the parts report
//! and the time, so it is tested without faults; transports only map it to
//! a status code.

use crate::ledger::Ledger;
use consent_log::LogFault;
use consent_projector::{FailureCause, ProjectionFailure};
use std::fmt;
use std::time::{Duration, Instant};

/// When a lasting fault calls for a restart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HealthConfig {
    /// How long a fault that may pass by itself (appends failing, the view
    /// not writable, the log unreachable) may last before the instance is
    /// reported unhealthy.
    pub unhealthy_after: Duration,
}

impl Default for HealthConfig {
    fn default() -> Self {
        Self {
            unhealthy_after: Duration::from_secs(30),
        }
    }
}

/// What kind of part is at fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum FaultKind {
    /// A log partition refuses appends until the log is reopened.
    LogPartitionFenced,
    /// A log partition's appends fail.
    LogPartitionFailing,
    /// The projector stopped: the view no longer follows the log.
    ProjectorStopped,
    /// Projector steps fail writing or reading the view store.
    ViewNotWritable,
    /// Projector steps fail reading the log.
    LogUnreadable,
    /// Projector steps fail on the records read.
    ProjectionFailing,
    /// The log does not answer a request for its end offsets (Kafka: no
    /// broker reachable).
    LogUnreachable,
}

impl FaultKind {
    /// The name in health answers (`log_partition_fenced`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            FaultKind::LogPartitionFenced => "log_partition_fenced",
            FaultKind::LogPartitionFailing => "log_partition_failing",
            FaultKind::ProjectorStopped => "projector_stopped",
            FaultKind::ViewNotWritable => "view_not_writable",
            FaultKind::LogUnreadable => "log_unreadable",
            FaultKind::ProjectionFailing => "projection_failing",
            FaultKind::LogUnreachable => "log_unreachable",
        }
    }
}

impl fmt::Display for FaultKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One fault.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fault {
    pub kind: FaultKind,
    /// The topic-partition at fault, for log partition faults.
    pub partition: Option<String>,
    /// The last error.
    pub error: String,
    /// How long the fault has lasted.
    pub lasted: Duration,
    /// Whether it calls for a restart now.
    pub restart_due: bool,
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.kind)?;
        if let Some(partition) = &self.partition {
            write!(f, " {partition}")?;
        }
        write!(f, " for {} s: {}", self.lasted.as_secs(), self.error)
    }
}

/// The faults of an instance, judged.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Health {
    /// Every fault known now, those due for a restart first.
    pub faults: Vec<Fault>,
}

impl Health {
    /// No fault calls for a restart (the liveness answer).
    pub fn live(&self) -> bool {
        !self.faults.iter().any(|f| f.restart_due)
    }

    /// No fault at all (a condition of readiness).
    pub fn clear(&self) -> bool {
        self.faults.is_empty()
    }

    /// The faults in one line, those due for a restart first; `None` when
    /// there are none.
    pub fn reason(&self) -> Option<String> {
        if self.faults.is_empty() {
            return None;
        }
        Some(
            self.faults
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; "),
        )
    }
}

/// What the parts report, for [`judge`].
#[derive(Clone, Debug, Default)]
pub struct HealthInputs {
    /// The log partitions whose appends fail.
    pub log_faults: Vec<LogFault>,
    /// The projector's failure, if its steps fail or it stopped on one.
    pub projection_failure: Option<ProjectionFailure>,
    /// The projector is gone (its task ended).
    pub projector_gone: bool,
    /// While the log does not answer: since when, and the last error.
    pub log_unreachable: Option<(Instant, String)>,
}

/// Judges `inputs` at `now`: every fault, and which call for a restart.
pub fn judge(inputs: HealthInputs, now: Instant, config: HealthConfig) -> Health {
    let lasted = |since: Instant| now.saturating_duration_since(since);
    let due_after_bound = |since: Instant| lasted(since) >= config.unhealthy_after;
    let mut faults = Vec::new();
    for fault in inputs.log_faults {
        faults.push(Fault {
            kind: if fault.fenced {
                FaultKind::LogPartitionFenced
            } else {
                FaultKind::LogPartitionFailing
            },
            partition: Some(fault.partition.to_string()),
            restart_due: fault.fenced || due_after_bound(fault.since),
            lasted: lasted(fault.since),
            error: fault.error,
        });
    }
    match inputs.projection_failure {
        Some(failure) => {
            let kind = if failure.stopped || inputs.projector_gone {
                FaultKind::ProjectorStopped
            } else {
                match failure.cause {
                    FailureCause::View => FaultKind::ViewNotWritable,
                    FailureCause::Log => FaultKind::LogUnreadable,
                    FailureCause::Records => FaultKind::ProjectionFailing,
                }
            };
            faults.push(Fault {
                kind,
                partition: None,
                restart_due: kind == FaultKind::ProjectorStopped || due_after_bound(failure.since),
                lasted: lasted(failure.since),
                error: failure.error,
            });
        }
        None if inputs.projector_gone => faults.push(Fault {
            kind: FaultKind::ProjectorStopped,
            partition: None,
            error: "the projector is not running".to_owned(),
            lasted: Duration::ZERO,
            restart_due: true,
        }),
        None => {}
    }
    if let Some((since, error)) = inputs.log_unreachable {
        faults.push(Fault {
            kind: FaultKind::LogUnreachable,
            partition: None,
            restart_due: due_after_bound(since),
            lasted: lasted(since),
            error,
        });
    }
    faults.sort_by_key(|f| (!f.restart_due, f.kind, f.partition.clone()));
    Health { faults }
}

impl Ledger {
    /// This instance's faults, judged with the ledger's
    /// [`HealthConfig`]: whether it should be restarted
    /// ([`Health::live`]) and whether it should take traffic
    /// ([`Health::clear`]). Never waits on an append or a projector step;
    /// asks the log for its end offsets only when the cached answer is
    /// stale (the first call waits for it, bounded by the probe timeout).
    pub async fn health(&self) -> Health {
        let inner = &self.inner;
        let log_unreachable = inner.end_offsets.unreachable_since().await;
        let inputs = HealthInputs {
            log_faults: inner.log.faults(),
            projection_failure: inner.projection.status().failure,
            projector_gone: inner.projection.projector_stopped(),
            log_unreachable,
        };
        let health = judge(inputs, Instant::now(), inner.config.health);
        if !health.live() {
            tracing::warn!(
                reason = health.reason().unwrap_or_default(),
                "unhealthy: a restart is due"
            );
        }
        health
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use consent_log::TopicPartition;

    const BOUND: Duration = Duration::from_secs(30);

    fn config() -> HealthConfig {
        HealthConfig {
            unhealthy_after: BOUND,
        }
    }

    fn log_fault(fenced: bool, since: Instant) -> LogFault {
        LogFault {
            partition: TopicPartition::new("consent.grants", 3),
            fenced,
            since,
            error: "log I/O error at /data/log/x.log: No space left on device".to_owned(),
        }
    }

    fn failure(cause: FailureCause, stopped: bool, since: Instant) -> ProjectionFailure {
        ProjectionFailure {
            cause,
            error: "view store engine error: io".to_owned(),
            since,
            stopped,
        }
    }

    #[test]
    fn nothing_reported_is_live_and_clear() {
        let health = judge(HealthInputs::default(), Instant::now(), config());
        assert!(health.live() && health.clear());
        assert_eq!(health.reason(), None);
    }

    #[test]
    fn a_fenced_partition_calls_for_a_restart_at_once_naming_it() {
        let now = Instant::now();
        let inputs = HealthInputs {
            log_faults: vec![log_fault(true, now)],
            ..HealthInputs::default()
        };
        let health = judge(inputs, now, config());
        assert!(!health.live());
        let reason = health.reason().expect("a reason");
        assert!(
            reason.contains("log_partition_fenced consent.grants/3"),
            "{reason}"
        );
        assert!(reason.contains("No space left"), "{reason}");
    }

    #[test]
    fn failing_appends_call_for_a_restart_only_after_the_bound() {
        let since = Instant::now();
        let inputs = HealthInputs {
            log_faults: vec![log_fault(false, since)],
            ..HealthInputs::default()
        };
        let early = judge(inputs.clone(), since + BOUND / 2, config());
        assert!(early.live(), "{early:?}");
        assert!(!early.clear(), "not ready while it fails");
        let late = judge(inputs, since + BOUND, config());
        assert!(!late.live());
        assert_eq!(late.faults[0].kind, FaultKind::LogPartitionFailing);
    }

    #[test]
    fn a_view_that_cannot_be_written_calls_for_a_restart_after_the_bound() {
        let since = Instant::now();
        let inputs = HealthInputs {
            projection_failure: Some(failure(FailureCause::View, false, since)),
            ..HealthInputs::default()
        };
        assert!(judge(inputs.clone(), since, config()).live());
        let late = judge(inputs, since + BOUND, config());
        assert!(!late.live());
        assert_eq!(late.faults[0].kind, FaultKind::ViewNotWritable);
    }

    #[test]
    fn a_stopped_projector_calls_for_a_restart_at_once() {
        let now = Instant::now();
        let stopped = HealthInputs {
            projection_failure: Some(failure(FailureCause::Records, true, now)),
            ..HealthInputs::default()
        };
        let health = judge(stopped, now, config());
        assert_eq!(health.faults[0].kind, FaultKind::ProjectorStopped);
        assert!(!health.live());
        let gone = HealthInputs {
            projector_gone: true,
            ..HealthInputs::default()
        };
        assert!(!judge(gone, now, config()).live());
    }

    #[test]
    fn an_unreachable_log_calls_for_a_restart_after_the_bound() {
        let since = Instant::now();
        let inputs = HealthInputs {
            log_unreachable: Some((since, "no broker answered".to_owned())),
            ..HealthInputs::default()
        };
        let early = judge(inputs.clone(), since + Duration::from_secs(29), config());
        assert!(early.live() && !early.clear());
        let late = judge(inputs, since + Duration::from_secs(31), config());
        assert!(!late.live());
        assert!(late.reason().expect("reason").contains("log_unreachable"));
    }

    #[test]
    fn faults_due_for_a_restart_come_first() {
        let earlier = Instant::now();
        let now = earlier + BOUND;
        let inputs = HealthInputs {
            log_faults: vec![log_fault(false, now)],
            log_unreachable: Some((earlier, "down".to_owned())),
            ..HealthInputs::default()
        };
        let health = judge(inputs, now, config());
        assert_eq!(health.faults[0].kind, FaultKind::LogUnreachable);
        assert!(health.faults[0].restart_due && !health.faults[1].restart_due);
    }
}
