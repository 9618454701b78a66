//! W3C trace context ([Trace Context](https://www.w3.org/TR/trace-context/):
//! `traceparent` and `tracestate`) across the ledger's edges, so that one
//! trace shows a request, its log append and the projection of what it
//! appended:
//!
//! * [`continue_trace`]: an incoming request's headers (HTTP) or metadata
//!   (gRPC) make the request's span a child of the caller's span;
//! * [`record_headers`]: the current span's context as log record headers
//!   ([`TRACEPARENT`], [`TRACESTATE`]), stored with the record like any
//!   other header;
//! * [`continue_record_trace`]: a record's headers make the projector's
//!   span for that record a child of the span that appended it.
//!
//! Invariants:
//! * a no-op when traces are off: without the OpenTelemetry layer in the
//!   tracing subscriber (`consent-ledger serve` without an OTLP endpoint)
//!   no span has a trace context, nothing is extracted and
//!   [`record_headers`] is empty, so records are exactly as before;
//! * never fails on data from outside: a malformed `traceparent` is
//!   ignored (the span starts a trace of its own), as the W3C
//!   recommendation says;
//! * trace headers carry no fact: they are not part of a record's Merkle
//!   leaf (`consent-evidence` hashes position and payload only), so
//!   evidence is the same with traces on or off.

use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::TraceContextExt;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// The W3C `traceparent` header (HTTP header, gRPC metadata key and log
/// record header alike): version, trace id, parent span id and flags.
pub const TRACEPARENT: &str = "traceparent";
/// The W3C `tracestate` header: vendor-specific trace data, passed on.
pub const TRACESTATE: &str = "tracestate";

/// Makes `span` a child of the trace context found by `header` (a lookup of
/// a header or metadata value by its lower-case name), when there is a valid
/// one. Call it right after creating the span, before it is entered.
/// Returns whether a remote parent was set (always `false` when traces are
/// off).
pub fn continue_trace<'a>(span: &tracing::Span, header: impl Fn(&str) -> Option<&'a str>) -> bool {
    let carrier = Carrier {
        traceparent: header(TRACEPARENT),
        tracestate: header(TRACESTATE),
    };
    if carrier.traceparent.is_none() {
        return false;
    }
    let context = TraceContextPropagator::new().extract(&carrier);
    if !context.span().span_context().is_valid() {
        return false;
    }
    span.set_parent(context).is_ok()
}

/// The trace context of `span` as log record headers: `traceparent` and,
/// when the trace has one, `tracestate`. Empty when traces are off or the
/// span is not sampled-in at all (it has no valid context).
pub fn record_headers(span: &tracing::Span) -> Vec<(String, Vec<u8>)> {
    let context = span.context();
    if !context.span().span_context().is_valid() {
        return Vec::new();
    }
    let mut headers = RecordHeaders(Vec::with_capacity(2));
    TraceContextPropagator::new().inject_context(&context, &mut headers);
    headers.0
}

/// Whether a record's headers carry a trace context (a cheap test, so that
/// records without one cost no span).
pub fn has_trace_context(headers: &[(String, Vec<u8>)]) -> bool {
    headers.iter().any(|(name, _)| name == TRACEPARENT)
}

/// Makes `span` a child of the trace context stored in a record's
/// `headers` (see [`record_headers`]). Returns whether a parent was set.
pub fn continue_record_trace(span: &tracing::Span, headers: &[(String, Vec<u8>)]) -> bool {
    continue_trace(span, |name| {
        headers
            .iter()
            .find(|(header, _)| header == name)
            .and_then(|(_, value)| std::str::from_utf8(value).ok())
    })
}

/// The two trace context headers of a request or record.
struct Carrier<'a> {
    traceparent: Option<&'a str>,
    tracestate: Option<&'a str>,
}

impl Extractor for Carrier<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        match key {
            TRACEPARENT => self.traceparent,
            TRACESTATE => self.tracestate,
            _ => None,
        }
    }

    fn keys(&self) -> Vec<&str> {
        vec![TRACEPARENT, TRACESTATE]
    }
}

struct RecordHeaders(Vec<(String, Vec<u8>)>);

impl Injector for RecordHeaders {
    fn set(&mut self, key: &str, value: String) {
        self.0.push((key.to_owned(), value.into_bytes()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::trace::TracerProvider as _;
    use opentelemetry_sdk::trace::SdkTracerProvider;
    use tracing_subscriber::layer::SubscriberExt;

    const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
    const PARENT: &str = "00f067aa0ba902b7";

    fn traceparent() -> String {
        format!("00-{TRACE_ID}-{PARENT}-01")
    }

    /// Runs `body` under a subscriber with the OpenTelemetry layer (traces on).
    fn with_traces_on<T>(body: impl FnOnce() -> T) -> T {
        let provider = SdkTracerProvider::builder().build();
        let layer = tracing_opentelemetry::layer().with_tracer(provider.tracer("test"));
        let subscriber = tracing_subscriber::registry().with(layer);
        tracing::subscriber::with_default(subscriber, body)
    }

    fn header_value(headers: &[(String, Vec<u8>)], name: &str) -> Option<String> {
        headers
            .iter()
            .find(|(header, _)| header == name)
            .map(|(_, value)| String::from_utf8(value.clone()).unwrap())
    }

    #[test]
    fn a_request_span_continues_the_callers_trace_into_the_record_headers() {
        let given = traceparent();
        let headers = with_traces_on(|| {
            let span = tracing::info_span!("http_request");
            assert!(continue_trace(&span, |name| match name {
                TRACEPARENT => Some(given.as_str()),
                TRACESTATE => Some("vendor=abc"),
                _ => None,
            }));
            record_headers(&span)
        });
        // The vendor's state is passed on as given.
        assert_eq!(
            header_value(&headers, TRACESTATE).as_deref(),
            Some("vendor=abc")
        );
        let stored = header_value(&headers, TRACEPARENT).expect("a traceparent header");
        // Same trace, a new span id (the request span's), sampled.
        assert!(stored.starts_with(&format!("00-{TRACE_ID}-")), "{stored}");
        assert!(!stored.contains(PARENT), "{stored}");
        assert!(stored.ends_with("-01"), "{stored}");
    }

    #[test]
    fn a_record_span_is_a_child_of_the_appending_span() {
        let record = vec![
            ("event-kind".to_owned(), b"sale_recorded".to_vec()),
            (TRACEPARENT.to_owned(), traceparent().into_bytes()),
        ];
        assert!(has_trace_context(&record));
        let (trace_id, parent_set) = with_traces_on(|| {
            let span = tracing::info_span!("project_record");
            let set = continue_record_trace(&span, &record);
            (span.context().span().span_context().trace_id(), set)
        });
        assert!(parent_set);
        assert_eq!(trace_id.to_string(), TRACE_ID);
    }

    #[test]
    fn a_malformed_traceparent_is_ignored() {
        with_traces_on(|| {
            let span = tracing::info_span!("http_request");
            for bad in [
                "",
                "00-zz-00f067aa0ba902b7-01",
                "garbage",
                "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            ] {
                assert!(!continue_trace(&span, |_| Some(bad)), "{bad:?}");
            }
        });
    }

    #[test]
    fn with_traces_off_nothing_is_added_to_records() {
        let subscriber = tracing_subscriber::registry();
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!("http_request");
            let given = traceparent();
            assert!(!continue_trace(&span, |_| Some(given.as_str())));
            assert!(record_headers(&span).is_empty());
        });
    }
}
