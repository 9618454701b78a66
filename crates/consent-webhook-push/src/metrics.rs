//! What the pushers count, through the `metrics` facade (the binary's
//! Prometheus recorder serves it at `/metrics`, beside the ledger's own),
//! labelled by endpoint name (a bounded set: the webhooks file's).
//!
//! | metric | type | labels |
//! | --- | --- | --- |
//! | `consent_webhook_delivered_total` | counter | `endpoint` |
//! | `consent_webhook_retries_total` | counter | `endpoint` |
//! | `consent_webhook_dead_letters_total` | counter | `endpoint` |
//! | `consent_webhook_lag_seconds` | gauge | `endpoint` |

/// Every series of `endpoint` at zero, so that dashboards and alerts find
/// them before the first push.
pub(crate) fn register(endpoint: &str) {
    for name in [
        "consent_webhook_delivered_total",
        "consent_webhook_retries_total",
        "consent_webhook_dead_letters_total",
    ] {
        metrics::counter!(name, "endpoint" => endpoint.to_owned()).increment(0);
    }
    lag(endpoint, 0.0);
}

pub(crate) fn delivered(endpoint: &str) {
    metrics::counter!("consent_webhook_delivered_total", "endpoint" => endpoint.to_owned())
        .increment(1);
}

pub(crate) fn retried(endpoint: &str) {
    metrics::counter!("consent_webhook_retries_total", "endpoint" => endpoint.to_owned())
        .increment(1);
}

pub(crate) fn dead_lettered(endpoint: &str) {
    metrics::counter!("consent_webhook_dead_letters_total", "endpoint" => endpoint.to_owned())
        .increment(1);
}

/// How old the oldest notice the endpoint has not taken yet is (0 when it
/// has taken everything it was sent).
pub(crate) fn lag(endpoint: &str, seconds: f64) {
    metrics::gauge!("consent_webhook_lag_seconds", "endpoint" => endpoint.to_owned()).set(seconds);
}
