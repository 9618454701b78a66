//! A real OTLP/HTTP trace receiver on a loopback port: it accepts
//! `POST /v1/traces` with a protobuf `ExportTraceServiceRequest` (decoded
//! with the opentelemetry-proto crate's prost types, as a collector does)
//! and keeps every span it receives. Any other request is counted too, so a
//! test can say that nothing at all arrived.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::post;
use axum::Router;
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use prost::Message;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One span as the receiver got it, ids in lower-case hex.
#[derive(Clone, Debug)]
pub struct ReceivedSpan {
    pub name: String,
    pub trace_id: String,
    pub span_id: String,
    /// Empty for a root span.
    pub parent_span_id: String,
    /// `(trace id, span id)` of each link.
    pub links: Vec<(String, String)>,
    /// String and integer attributes, as text.
    pub attributes: Vec<(String, String)>,
    /// The `service.name` of the resource the span came with.
    pub service_name: String,
}

impl ReceivedSpan {
    pub fn attribute(&self, key: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Default)]
struct Received {
    spans: Vec<ReceivedSpan>,
    /// Every request, whatever its path or body.
    requests: usize,
    /// Bodies that did not decode as an `ExportTraceServiceRequest`.
    undecodable: usize,
}

/// The receiver; stops serving when dropped.
pub struct OtlpReceiver {
    pub address: SocketAddr,
    received: Arc<Mutex<Received>>,
    server: tokio::task::JoinHandle<()>,
}

impl OtlpReceiver {
    /// Binds a free loopback port and serves.
    pub async fn start() -> Self {
        Self::start_on((Ipv4Addr::LOCALHOST, 0).into())
            .await
            .expect("bind the OTLP receiver")
    }

    /// Binds `address` and serves (fails when the address is taken).
    pub async fn start_on(address: SocketAddr) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(address).await?;
        let address = listener.local_addr()?;
        let received = Arc::new(Mutex::new(Received::default()));
        let app = Router::new()
            .route("/v1/traces", post(export))
            .fallback(other)
            .with_state(Arc::clone(&received));
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self {
            address,
            received,
            server,
        })
    }

    /// The base URL to give as `--otlp-endpoint`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.address)
    }

    pub fn spans(&self) -> Vec<ReceivedSpan> {
        self.received.lock().expect("receiver lock").spans.clone()
    }

    /// How many requests arrived, on any path.
    pub fn requests(&self) -> usize {
        self.received.lock().expect("receiver lock").requests
    }

    pub fn undecodable(&self) -> usize {
        self.received.lock().expect("receiver lock").undecodable
    }

    /// Waits (bounded) until `found` holds for the spans received so far.
    pub async fn wait_for(
        &self,
        within: Duration,
        what: &str,
        found: impl Fn(&[ReceivedSpan]) -> bool,
    ) -> Vec<ReceivedSpan> {
        let started = Instant::now();
        loop {
            let spans = self.spans();
            if found(&spans) {
                return spans;
            }
            assert!(
                started.elapsed() < within,
                "the receiver did not get {what} within {within:?}; it got:\n{}",
                describe(&spans)
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for OtlpReceiver {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// One line per span, for failure messages.
pub fn describe(spans: &[ReceivedSpan]) -> String {
    spans
        .iter()
        .map(|s| {
            format!(
                "{} trace={} span={} parent={} links={:?} {:?}",
                s.name, s.trace_id, s.span_id, s.parent_span_id, s.links, s.attributes
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

async fn export(State(received): State<Arc<Mutex<Received>>>, body: Bytes) -> impl IntoResponse {
    let mut received = received.lock().expect("receiver lock");
    received.requests += 1;
    let Ok(request) = ExportTraceServiceRequest::decode(body) else {
        received.undecodable += 1;
        return (StatusCode::BAD_REQUEST, Vec::new()).into_response();
    };
    for resource_spans in request.resource_spans {
        let service_name = resource_spans
            .resource
            .as_ref()
            .and_then(|resource| text_of(&resource.attributes, "service.name"))
            .unwrap_or_default();
        for scope_spans in resource_spans.scope_spans {
            for span in scope_spans.spans {
                received.spans.push(ReceivedSpan {
                    name: span.name,
                    trace_id: hex::encode(&span.trace_id),
                    span_id: hex::encode(&span.span_id),
                    parent_span_id: hex::encode(&span.parent_span_id),
                    links: span
                        .links
                        .iter()
                        .map(|link| (hex::encode(&link.trace_id), hex::encode(&link.span_id)))
                        .collect(),
                    attributes: span
                        .attributes
                        .iter()
                        .filter_map(|kv| Some((kv.key.clone(), text(kv)?)))
                        .collect(),
                    service_name: service_name.clone(),
                });
            }
        }
    }
    (
        [(header::CONTENT_TYPE, "application/x-protobuf")],
        ExportTraceServiceResponse::default().encode_to_vec(),
    )
        .into_response()
}

async fn other(State(received): State<Arc<Mutex<Received>>>) -> StatusCode {
    received.lock().expect("receiver lock").requests += 1;
    StatusCode::NOT_FOUND
}

fn text(kv: &KeyValue) -> Option<String> {
    match kv.value.as_ref()?.value.as_ref()? {
        AnyValue::StringValue(text) => Some(text.clone()),
        AnyValue::IntValue(number) => Some(number.to_string()),
        AnyValue::BoolValue(flag) => Some(flag.to_string()),
        _ => None,
    }
}

fn text_of(attributes: &[KeyValue], key: &str) -> Option<String> {
    attributes.iter().find(|kv| kv.key == key).and_then(text)
}
