//! OpenTelemetry traces over OTLP/HTTP (protobuf), off unless an endpoint
//! is given.
//!
//! When on, an OpenTelemetry layer joins the tracing subscriber: the
//! ledger's own spans (`http_request`, `grpc_request`, `log_append`,
//! `projector_batch`, `project_record`...) become OpenTelemetry spans, sent
//! in batches by the SDK's batch span processor to the collector and
//! flushed by [`Traces::shutdown`]. Propagation of the W3C trace context
//! is `consent-trace-context`'s. When off, there is no layer, no exporter
//! and no thread: spans are what they were without traces.
//!
//! Settings, first found wins:
//! * `--otlp-endpoint URL`: the collector's base URL (`/v1/traces` is
//!   appended, as for `OTEL_EXPORTER_OTLP_ENDPOINT`);
//! * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`: the full URL of the traces
//!   endpoint, used as given;
//! * `OTEL_EXPORTER_OTLP_ENDPOINT`: the base URL.
//!
//! `OTEL_SDK_DISABLED=true` turns traces off whatever the above say. The
//! other standard variables are honoured by the SDK and the exporter:
//! `OTEL_SERVICE_NAME` and `OTEL_RESOURCE_ATTRIBUTES` (the service name is
//! `consent-ledger` otherwise), `OTEL_EXPORTER_OTLP_HEADERS` /
//! `OTEL_EXPORTER_OTLP_TRACES_HEADERS`, `OTEL_EXPORTER_OTLP_TIMEOUT`,
//! `OTEL_TRACES_SAMPLER` / `OTEL_TRACES_SAMPLER_ARG` and `OTEL_BSP_*`.

use anyhow::{bail, Context};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry::KeyValue;
use opentelemetry_otlp::{Protocol, WithExportConfig};
use opentelemetry_sdk::trace::SdkTracerProvider;
use opentelemetry_sdk::Resource;
use tracing::subscriber::Interest;
use tracing::Metadata;
use tracing_subscriber::filter::DynFilterFn;
use tracing_subscriber::Layer;

/// The service name spans are reported under when neither
/// `OTEL_SERVICE_NAME` nor `service.name` in `OTEL_RESOURCE_ATTRIBUTES`
/// names one.
pub const SERVICE_NAME: &str = "consent-ledger";

/// The OTLP/HTTP path of traces under a base URL.
const TRACES_PATH: &str = "/v1/traces";

/// The layer that turns the ledger's spans into OpenTelemetry spans.
pub type SpanLayer<S> = Box<dyn Layer<S> + Send + Sync>;

/// Where traces go, once the settings are resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TracesEndpoint {
    /// Traces off.
    Off,
    /// The full URL of the collector's traces endpoint.
    Url(String),
}

/// Resolves the settings (see the module documentation). `env` looks up an
/// environment variable. Fails on a URL that is not `http://` or
/// `https://`, naming the setting.
pub fn resolve_endpoint(
    flag: Option<&str>,
    env: impl Fn(&str) -> Option<String>,
) -> anyhow::Result<TracesEndpoint> {
    let set = |name: &str| env(name).filter(|value| !value.trim().is_empty());
    if set("OTEL_SDK_DISABLED").is_some_and(|value| value.trim().eq_ignore_ascii_case("true")) {
        return Ok(TracesEndpoint::Off);
    }
    let (setting, given, url) = if let Some(base) = flag.filter(|value| !value.trim().is_empty()) {
        ("--otlp-endpoint", base.to_owned(), traces_url(base))
    } else if let Some(url) = set("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") {
        let url = url.trim().to_owned();
        ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", url.clone(), url)
    } else if let Some(base) = set("OTEL_EXPORTER_OTLP_ENDPOINT") {
        (
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            base.clone(),
            traces_url(&base),
        )
    } else {
        return Ok(TracesEndpoint::Off);
    };
    let parsed = reqwest::Url::parse(&url).with_context(|| {
        format!("{setting}: `{given}` is not a URL (expected http://HOST:PORT)")
    })?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        bail!("{setting}: `{given}` is not an http:// or https:// URL with a host (OTLP/HTTP is the only transport)");
    }
    Ok(TracesEndpoint::Url(url))
}

/// The traces URL under a base URL.
fn traces_url(base: &str) -> String {
    format!("{}{TRACES_PATH}", base.trim().trim_end_matches('/'))
}

/// The running trace pipeline (when on); flush it with [`Traces::shutdown`].
pub struct Traces {
    provider: Option<SdkTracerProvider>,
}

impl Traces {
    /// Starts the exporter and its batch processor for `endpoint`, and
    /// returns them with the tracing layer to add to the subscriber
    /// (`None` when off).
    pub fn start<S>(endpoint: &TracesEndpoint) -> anyhow::Result<(Self, Option<SpanLayer<S>>)>
    where
        S: tracing::Subscriber
            + for<'span> tracing_subscriber::registry::LookupSpan<'span>
            + Send
            + Sync
            + 'static,
    {
        let TracesEndpoint::Url(url) = endpoint else {
            return Ok((Self { provider: None }, None));
        };
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_protocol(Protocol::HttpBinary)
            .with_endpoint(url.clone())
            .build()
            .with_context(|| format!("cannot set up the OTLP trace exporter for {url}"))?;
        let provider = SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_resource(resource())
            .build();
        let tracer = provider.tracer(SERVICE_NAME);
        let layer = tracing_opentelemetry::layer()
            .with_tracer(tracer)
            .with_filter(ledger_spans_only())
            .boxed();
        Ok((
            Self {
                provider: Some(provider),
            },
            Some(layer),
        ))
    }

    /// Exports the spans still buffered and stops the exporter. Call it
    /// outside the async runtime, after everything has stopped.
    pub fn shutdown(self) {
        if let Some(provider) = self.provider {
            if let Err(error) = provider.shutdown() {
                eprintln!("warning: traces: the last spans may not have been exported: {error}");
            }
        }
    }
}

/// The filter of the OpenTelemetry layer: the ledger's own spans and events
/// at INFO and above, not those of its libraries (and never the exporter's
/// own HTTP client).
///
/// Its callsites are `sometimes` interesting, never `always`, so that the
/// filter is asked at every span. A per-layer filter's answer travels to
/// the span's creation in a thread-local, and a callsite cached as
/// `always` skips the question and reads whatever the last question on
/// that thread left there: a `log` record from a library (librdkafka's,
/// bridged by tracing-log) that this filter refused made the next request
/// span vanish from the trace, and the append below it start a trace of
/// its own (tokio-rs/tracing#2519).
fn ledger_spans_only<S>() -> DynFilterFn<
    S,
    impl Fn(&Metadata<'_>, &tracing_subscriber::layer::Context<'_, S>) -> bool,
    impl Fn(&'static Metadata<'static>) -> Interest,
> {
    fn is_ledger_span(metadata: &Metadata<'_>) -> bool {
        metadata.target().starts_with("consent") && *metadata.level() <= tracing::Level::INFO
    }
    DynFilterFn::new(|metadata, _| is_ledger_span(metadata))
        .with_max_level_hint(tracing::Level::INFO)
        .with_callsite_filter(|metadata| {
            if is_ledger_span(metadata) {
                Interest::sometimes()
            } else {
                Interest::never()
            }
        })
}

/// The resource spans are reported with: the SDK's (from
/// `OTEL_SERVICE_NAME` and `OTEL_RESOURCE_ATTRIBUTES`), with
/// [`SERVICE_NAME`] unless the environment names the service, and the
/// ledger's version.
fn resource() -> Resource {
    let named = std::env::var("OTEL_SERVICE_NAME").is_ok_and(|name| !name.trim().is_empty())
        || std::env::var("OTEL_RESOURCE_ATTRIBUTES")
            .is_ok_and(|attributes| attributes.contains("service.name="));
    let builder = Resource::builder()
        .with_attribute(KeyValue::new("service.version", env!("CARGO_PKG_VERSION")));
    if named {
        builder.build()
    } else {
        builder.with_service_name(SERVICE_NAME).build()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn resolve(flag: Option<&str>, env: &[(&str, &str)]) -> anyhow::Result<TracesEndpoint> {
        let env: BTreeMap<String, String> = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        resolve_endpoint(flag, |name| env.get(name).cloned())
    }

    fn url(url: &str) -> TracesEndpoint {
        TracesEndpoint::Url(url.to_owned())
    }

    #[test]
    fn off_unless_an_endpoint_is_given() {
        assert_eq!(resolve(None, &[]).unwrap(), TracesEndpoint::Off);
        assert_eq!(
            resolve(None, &[("OTEL_EXPORTER_OTLP_ENDPOINT", "")]).unwrap(),
            TracesEndpoint::Off
        );
    }

    #[test]
    fn a_base_url_gets_the_traces_path_and_a_traces_url_is_used_as_given() {
        assert_eq!(
            resolve(Some("http://collector:4318/"), &[]).unwrap(),
            url("http://collector:4318/v1/traces")
        );
        assert_eq!(
            resolve(
                None,
                &[("OTEL_EXPORTER_OTLP_ENDPOINT", "https://otel.example")]
            )
            .unwrap(),
            url("https://otel.example/v1/traces")
        );
        assert_eq!(
            resolve(
                None,
                &[
                    ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://a:4318"),
                    ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://b:4318/custom"),
                ]
            )
            .unwrap(),
            url("http://b:4318/custom")
        );
    }

    #[test]
    fn the_flag_wins_over_the_environment() {
        assert_eq!(
            resolve(
                Some("http://flag:4318"),
                &[(
                    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
                    "http://env:4318/v1/traces"
                )]
            )
            .unwrap(),
            url("http://flag:4318/v1/traces")
        );
    }

    #[test]
    fn sdk_disabled_turns_traces_off() {
        assert_eq!(
            resolve(Some("http://flag:4318"), &[("OTEL_SDK_DISABLED", "true")]).unwrap(),
            TracesEndpoint::Off
        );
    }

    #[test]
    fn a_bad_url_names_the_setting() {
        let error = resolve(Some("collector:4318"), &[])
            .unwrap_err()
            .to_string();
        assert!(error.starts_with("--otlp-endpoint:"), "{error}");
        let error = resolve(None, &[("OTEL_EXPORTER_OTLP_ENDPOINT", "grpc://x:4317")])
            .unwrap_err()
            .to_string();
        assert!(error.starts_with("OTEL_EXPORTER_OTLP_ENDPOINT:"), "{error}");
    }
}
