//! The embedded log passes the conformance suite every `EventLog` runs
//! (`consent-log-conformance`; the Kafka log runs it too).

use consent_log::{EventLog, LogLayout};
use consent_log_conformance::LogFactory;
use consent_log_embedded::EmbeddedLog;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// Each fresh log in a directory of its own under one temporary root.
struct FreshEmbeddedLogs {
    root: tempfile::TempDir,
    opened: AtomicUsize,
}

#[async_trait::async_trait]
impl LogFactory for FreshEmbeddedLogs {
    async fn fresh(&self, layout: LogLayout) -> Arc<dyn EventLog> {
        let n = self.opened.fetch_add(1, Ordering::Relaxed);
        let dir = self.root.path().join(format!("log-{n}"));
        Arc::new(EmbeddedLog::open(&dir, layout).expect("open a fresh embedded log"))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_embedded_log_does_what_every_event_log_must() {
    let factory = FreshEmbeddedLogs {
        root: tempfile::tempdir().expect("a temporary directory"),
        opened: AtomicUsize::new(0),
    };
    consent_log_conformance::run_all(&factory).await;
}
