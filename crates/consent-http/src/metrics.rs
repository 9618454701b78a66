//! Prometheus metrics over HTTP: the exposition of what the ledger counts.
//!
//! What is counted, and under which name, is `consent_service::metrics`
//! (its table lists every metric): the checks and appends of both
//! transports, the projection's figures read at each scrape
//! ([`Ledger::record_gauges`]), and the requests this adapter served
//! ([`track`], labelled with the route's path template and the status
//! code). This module installs the process-wide recorder, the Prometheus
//! exporter's, once ([`handle`]); `/metrics` renders it in the Prometheus
//! text format.

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use consent_service::Ledger;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::borrow::Cow;
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
    ledger.record_gauges().await;
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

/// Middleware on the routes: counts each request and records its latency,
/// labelled with the route's path template (never the raw path, whose
/// organisation and subject ids would make a series per subject).
pub async fn track(request: Request, next: Next) -> Response {
    let method = method_label(request.method());
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or(Cow::Borrowed("unmatched"), |path| {
            Cow::Owned(path.as_str().to_owned())
        });
    let started = Instant::now();
    let response = next.run(request).await;
    let status = status_label(response.status());
    consent_service::metrics::record_http_request(method, route, status, started.elapsed());
    response
}

/// The `method` label, without an allocation for the standard methods.
fn method_label(method: &Method) -> Cow<'static, str> {
    const STANDARD: [&str; 9] = [
        "GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH", "CONNECT", "TRACE",
    ];
    match STANDARD.iter().find(|name| **name == method.as_str()) {
        Some(name) => Cow::Borrowed(name),
        None => Cow::Owned(method.as_str().to_owned()),
    }
}

/// The `status` label (`"200"`), without an allocation for the statuses
/// the API answers with.
fn status_label(status: StatusCode) -> Cow<'static, str> {
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
        Some((_, label)) => Cow::Borrowed(label),
        None => Cow::Owned(code.to_string()),
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
