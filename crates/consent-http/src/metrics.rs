//! Prometheus metrics: what the HTTP adapter records, and `GET /metrics`.
//!
//! Recording goes through the `metrics` facade (like `tracing` for logs), so
//! the gRPC adapter records its own calls, and `consent_service::metrics`
//! the checks and appends of both transports, without a registry threaded
//! through their constructors. The process-wide recorder is
//! the Prometheus exporter's, installed once by [`handle`]; `/metrics`
//! renders it in the Prometheus text format.
//!
//! The projection's figures (lag, applied offsets, dead letters) are not
//! recorded as they happen: they are the projector's own counters, read from
//! [`Ledger::status`] at each scrape ([`record_status`]).
//!
//! | metric | type | labels |
//! | --- | --- | --- |
//! | `consent_http_requests_total` | counter | `method`, `route`, `status` |
//! | `consent_http_request_duration_seconds` | histogram | `method`, `route`, `status` |
//! | `consent_grpc_requests_total` | counter | `method`, `code` |
//! | `consent_grpc_request_duration_seconds` | histogram | `method`, `code` |
//! | `consent_checks_total` | counter | `transport`, `outcome` (`allowed`, `refused`, `failed`) |
//! | `consent_appends_total` | counter | `transport`, `outcome` (`acknowledged`, `invalid`, `failed`) |
//! | `consent_appended_events_total` | counter | `transport` |
//! | `consent_projection_lag_records` | gauge | `topic`, `partition` |
//! | `consent_projection_lag_records_sum` | gauge | |
//! | `consent_view_applied_offset` | gauge | `topic`, `partition` |
//! | `consent_log_end_offset` | gauge | `topic`, `partition` |
//! | `consent_log_reachable` | gauge (0 or 1) | |
//! | `consent_projection_dead_letters_total` | counter | |
//! | `consent_projection_events_applied_total` | counter | |
//! | `consent_projection_conflicts_total` | counter | |
//! | `consent_projection_batches_total` | counter | |
//! | `consent_refusals_total` | counter | `rule`, `code` (each reason against a refused check) |
//! | `consent_opt_outs_recorded_total` | counter | `method` (`one_click`, `reply_stop`, ...), `fact` (`opt_out_recorded`, `objection_recorded`), `entry` (`api`, `intake`) |
//! | `consent_checkpoint_failures_total` | counter | |
//! | `consent_checkpoint_latest_timestamp_seconds` | gauge (absent before the first checkpoint) | |
//! | `consent_checkpoint_unsigned_records` | gauge | |

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use consent_service::{CheckpointProgress, Ledger, LedgerStatus};
use metrics::SharedString;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::Instant;

/// Latency buckets, in seconds: a check answers in well under a millisecond
/// from a warm view; an append waits for the log's acknowledgement.
pub const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The process's Prometheus recorder, installed as the `metrics` facade's
/// global recorder on first use. Should another recorder already be
/// installed, a detached one is used (and `/metrics` shows only the
/// projection's figures), with a warning.
pub fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let builder = || {
            PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Suffix("_duration_seconds".to_owned()),
                    LATENCY_BUCKETS,
                )
                .expect("the latency buckets are not empty")
        };
        match builder().install_recorder() {
            Ok(handle) => {
                consent_service::metrics::register_zero_counters();
                spawn_upkeep(handle.clone());
                handle
            }
            Err(error) => {
                tracing::warn!(%error, "cannot install the Prometheus recorder; /metrics will miss request metrics");
                builder().build_recorder().handle()
            }
        }
    })
}

/// How often the recorder's histograms fold the latencies recorded since
/// into their buckets, scraped or not.
pub const UPKEEP_INTERVAL: std::time::Duration = std::time::Duration::from_secs(5);

/// Runs the recorder's upkeep every [`UPKEEP_INTERVAL`] on a thread of its
/// own: a histogram keeps each recorded value until upkeep folds it into
/// its buckets, so without it an instance that nobody scrapes would hold
/// eight bytes per request it ever served (`/metrics` also runs it).
fn spawn_upkeep(handle: PrometheusHandle) {
    let spawned = std::thread::Builder::new()
        .name("metrics-upkeep".to_owned())
        .spawn(move || loop {
            std::thread::sleep(UPKEEP_INTERVAL);
            handle.run_upkeep();
        });
    if let Err(error) = spawned {
        tracing::warn!(%error, "cannot start the metrics upkeep thread; histograms are folded only when scraped");
    }
}

/// `GET /metrics`: every metric in the Prometheus text format, with the
/// projection's figures as of now.
pub async fn metrics(State(ledger): State<Ledger>) -> Response {
    let handle = handle();
    record_status(&ledger.status().await);
    if let Some(progress) = ledger.checkpoint_progress() {
        record_checkpoints(&progress);
    }
    handle.run_upkeep();
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        handle.render(),
    )
        .into_response()
}

/// Sets the projection's gauges and counters from `status`. While the log
/// cannot be reached, lag and end offsets keep their last values and
/// `consent_log_reachable` is 0.
pub fn record_status(status: &LedgerStatus) {
    let projection = &status.projection;
    for (partition, offset) in &projection.applied {
        metrics::gauge!(
            "consent_view_applied_offset",
            "topic" => partition.topic.clone(),
            "partition" => partition.partition.to_string()
        )
        .set(*offset as f64);
    }
    if let Some(end) = &status.log_end_offsets {
        for (partition, offset) in end {
            metrics::gauge!(
                "consent_log_end_offset",
                "topic" => partition.topic.clone(),
                "partition" => partition.partition.to_string()
            )
            .set(*offset as f64);
        }
    }
    if let Some(lag) = &status.lag {
        for (partition, behind) in &lag.partitions {
            metrics::gauge!(
                "consent_projection_lag_records",
                "topic" => partition.topic.clone(),
                "partition" => partition.partition.to_string()
            )
            .set(*behind as f64);
        }
        metrics::gauge!("consent_projection_lag_records_sum").set(lag.total as f64);
    }
    metrics::gauge!("consent_log_reachable").set(if status.log_reachable() { 1.0 } else { 0.0 });
    metrics::counter!("consent_projection_dead_letters_total").absolute(projection.dead_letters);
    metrics::counter!("consent_projection_events_applied_total")
        .absolute(projection.events_applied);
    metrics::counter!("consent_projection_conflicts_total").absolute(projection.conflicts);
    metrics::counter!("consent_projection_batches_total").absolute(projection.batches);
}

/// Sets the checkpoint gauges: when the latest checkpoint was signed, and
/// how many records the view has committed that none covers yet (a
/// checkpoint that stays behind means evidence cannot be proven to date).
pub fn record_checkpoints(progress: &CheckpointProgress) {
    if let Some(timestamp_ms) = progress.latest_timestamp_ms {
        metrics::gauge!("consent_checkpoint_latest_timestamp_seconds")
            .set(timestamp_ms as f64 / 1000.0);
    }
    metrics::gauge!("consent_checkpoint_unsigned_records").set(progress.unsigned_records() as f64);
}

/// Middleware on the routes: counts each request and records its latency,
/// labelled with the route's path template (never the raw path, whose
/// organisation and subject ids would make a series per subject).
pub async fn track(request: Request, next: Next) -> Response {
    let method = method_label(request.method());
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    let started = Instant::now();
    let response = next.run(request).await;
    let status = status_label(response.status());
    let elapsed = started.elapsed().as_secs_f64();
    let labels = [
        ("method", method),
        ("route", SharedString::from_owned(route)),
        ("status", status),
    ];
    metrics::counter!("consent_http_requests_total", &labels).increment(1);
    metrics::histogram!("consent_http_request_duration_seconds", &labels).record(elapsed);
    response
}

/// The `method` label, without an allocation for the standard methods.
fn method_label(method: &Method) -> SharedString {
    const STANDARD: [&str; 9] = [
        "GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH", "CONNECT", "TRACE",
    ];
    match STANDARD.iter().find(|name| **name == method.as_str()) {
        Some(name) => SharedString::const_str(name),
        None => SharedString::from_owned(method.as_str().to_owned()),
    }
}

/// The `status` label (`"200"`), without an allocation for the statuses
/// the API answers with.
fn status_label(status: StatusCode) -> SharedString {
    const ANSWERED: [(u16, &str); 14] = [
        (200, "200"),
        (201, "201"),
        (204, "204"),
        (400, "400"),
        (401, "401"),
        (403, "403"),
        (404, "404"),
        (405, "405"),
        (413, "413"),
        (421, "421"),
        (500, "500"),
        (503, "503"),
        (504, "504"),
        (415, "415"),
    ];
    let code = status.as_u16();
    match ANSWERED.iter().find(|(answered, _)| *answered == code) {
        Some((_, label)) => SharedString::const_str(label),
        None => SharedString::from_owned(code.to_string()),
    }
}

#[cfg(test)]
mod label_tests {
    use super::*;

    #[test]
    fn labels_read_as_the_method_and_the_status_code() {
        for method in [
            Method::GET,
            Method::POST,
            Method::from_bytes(b"PURGE").unwrap(),
        ] {
            assert_eq!(&*method_label(&method), method.as_str());
        }
        for code in [200, 201, 400, 404, 413, 421, 500, 503, 504, 418, 502] {
            let status = StatusCode::from_u16(code).unwrap();
            assert_eq!(&*status_label(status), code.to_string());
        }
    }
}
