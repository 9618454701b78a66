//! Traces: the real `consent-ledger serve` binary sending OpenTelemetry
//! spans over OTLP/HTTP to a real receiver in the test
//! ([`support::otlp_receiver`]). A caller's W3C `traceparent`, over HTTP
//! and over gRPC, continues through the request span, the log append, the
//! record's headers in the log and the projector's span for that record.
//! With no endpoint nothing is sent and the records are as before. The
//! context survives both logs: the embedded one and Kafka (tansu).

mod support;

use consent_kafka::test_support::TestBroker;
use consent_log::{EventLog, LogRecord, StartOffsets};
use consent_log_embedded::EmbeddedLog;
use consent_schema::v1;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};
use support::otlp_receiver::{describe, OtlpReceiver, ReceivedSpan};
use support::{free_address, BIN};

const TOPIC_PREFIX: &str = "traced";
const PARTITIONS: u32 = 2;

/// The caller's trace over HTTP: trace id and the caller's span id.
const HTTP_TRACE: &str = "0af7651916cd43dd8448eb211c80319c";
const HTTP_CALLER_SPAN: &str = "b7ad6b7169203331";
/// The caller's trace over gRPC.
const GRPC_TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const GRPC_CALLER_SPAN: &str = "00f067aa0ba902b7";

fn traceparent(trace: &str, span: &str) -> String {
    format!("00-{trace}-{span}-01")
}

/// The environment variables that would turn traces on or off, removed
/// from every process these tests start, so that only what a test sets
/// counts.
const OTEL_SWITCHES: [&str; 3] = [
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OTEL_SDK_DISABLED",
];

/// One serve process on the embedded log; killed if still running when
/// dropped.
struct Serve {
    child: Child,
    base: String,
    output: std::path::PathBuf,
    client: reqwest::Client,
}

impl Serve {
    /// Starts serve on `data_dir` with the `log` options (see
    /// [`embedded_log`]), and waits until it answers.
    async fn start(
        data_dir: &Path,
        log: &[String],
        grpc: Option<SocketAddr>,
        extra: &[&str],
        env: &[(&str, &str)],
    ) -> Self {
        let listen = free_address();
        let mut args = vec![
            "serve".to_owned(),
            "--data-dir".to_owned(),
            data_dir.display().to_string(),
            "--listen".to_owned(),
            listen.to_string(),
        ];
        args.extend(log.iter().cloned());
        if let Some(grpc) = grpc {
            args.extend(["--grpc-listen".to_owned(), grpc.to_string()]);
        }
        args.extend(extra.iter().map(|s| (*s).to_owned()));
        let mut output = data_dir.as_os_str().to_owned();
        output.push(".out");
        let output = std::path::PathBuf::from(output);
        let log = std::fs::File::create(&output).expect("output file");
        let mut command = Command::new(BIN);
        command.args(&args);
        for name in OTEL_SWITCHES {
            command.env_remove(name);
        }
        let child = command
            .envs(env.iter().copied())
            .env("CONSENT_LOG", "info")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("dup"))
            .stderr(log)
            .spawn()
            .expect("run consent-ledger serve");
        let mut serve = Self {
            child,
            base: format!("http://{listen}"),
            output,
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(20))
                .build()
                .expect("client"),
        };
        serve.wait_ready().await;
        serve
    }

    fn output(&self) -> String {
        std::fs::read_to_string(&self.output).unwrap_or_default()
    }

    async fn wait_ready(&mut self) {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("check process") {
                panic!("serve exited with {status}:\n{}", self.output());
            }
            if let Ok(response) = self
                .client
                .get(format!("{}/healthz", self.base))
                .send()
                .await
            {
                if response.status() == StatusCode::OK {
                    return;
                }
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "not ready within 30 s:\n{}",
                self.output()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// POSTs an append with `headers`, expecting 200.
    async fn append(&self, body: &Value, headers: &[(&str, &str)]) -> Value {
        let mut request = self
            .client
            .post(format!("{}/v1/events", self.base))
            .json(body);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.expect("append");
        let status = response.status();
        let answer: Value = response.json().await.expect("JSON answer");
        assert_eq!(status, StatusCode::OK, "append: {answer}");
        answer
    }

    /// Waits until the view has applied everything in the log.
    async fn wait_caught_up(&self) {
        let started = Instant::now();
        loop {
            let status: Value = self
                .client
                .get(format!("{}/v1/status", self.base))
                .send()
                .await
                .expect("status")
                .json()
                .await
                .expect("status JSON");
            if status["logReachable"] == json!(true) && status["recordsBehind"] == json!(0) {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "the view did not catch up: {status}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// SIGTERM (to this process, by its id); waits, bounded, for the exit.
    async fn terminate(&mut self) -> ExitStatus {
        let id = self.child.id().to_string();
        let sent = Command::new("kill")
            .args(["-TERM", &id])
            .status()
            .expect("kill");
        assert!(sent.success());
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("check process") {
                return status;
            }
            assert!(
                started.elapsed() < Duration::from_secs(25),
                "still running 25 s after SIGTERM:\n{}",
                self.output()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The options of the embedded log these tests read back.
fn embedded_log() -> Vec<String> {
    vec![
        "--topic-prefix".to_owned(),
        TOPIC_PREFIX.to_owned(),
        "--partitions".to_owned(),
        PARTITIONS.to_string(),
    ]
}

/// An organisation registering, with its product categories (two records).
fn organisation(id: &str) -> Value {
    json!({ "events": [
        {
            "organisationId": id,
            "occurredAt": "2024-01-01T00:00:00Z",
            "organisationRegistered": { "name": "Acme Cycles Ltd", "kind": "ORGANISATION_KIND_COMMERCIAL" }
        },
        {
            "organisationId": id,
            "occurredAt": "2024-01-01T00:00:00Z",
            "productCategoriesDefined": { "categories": [ { "id": "bikes", "name": "Bicycles" } ] }
        }
    ] })
}

/// Every record in the embedded log under `data_dir` (the ledger stopped).
/// The facts stored in the embedded log (not the ledger's own records,
/// such as the contact-digest key's fingerprint, which no request carries).
async fn stored_records(data_dir: &Path) -> Vec<LogRecord> {
    let layout = consent_schema::ledger_layout(TOPIC_PREFIX, PARTITIONS);
    let log = EmbeddedLog::open(&data_dir.join("log"), layout.clone()).expect("open the log");
    let start: StartOffsets = layout
        .topic_partitions()
        .into_iter()
        .map(|partition| (partition, 0))
        .collect();
    let mut reader = log.reader(start).await.expect("reader");
    let mut records = Vec::new();
    loop {
        let batch = reader
            .next_batch(1000, Duration::from_millis(200))
            .await
            .expect("read the log");
        if batch.is_empty() {
            return records;
        }
        records.extend(
            batch
                .into_iter()
                .filter(|record| !consent_schema::is_ledger_record_key(&record.key)),
        );
    }
}

fn header<'a>(record: &'a LogRecord, name: &str) -> Option<&'a str> {
    record
        .headers
        .iter()
        .find(|(header, _)| header == name)
        .and_then(|(_, value)| std::str::from_utf8(value).ok())
}

/// The one span named `name` in `trace`.
fn one<'a>(spans: &'a [ReceivedSpan], name: &str, trace: &str) -> &'a ReceivedSpan {
    let found: Vec<&ReceivedSpan> = spans
        .iter()
        .filter(|s| s.name == name && s.trace_id == trace)
        .collect();
    assert_eq!(
        found.len(),
        1,
        "expected one {name} span in trace {trace}; received:\n{}",
        describe(spans)
    );
    found[0]
}

/// How many `project_record` spans of `trace` arrived along with the
/// `projector_batch` span they link to.
fn projected_with_their_batches(spans: &[ReceivedSpan], trace: &str) -> usize {
    spans
        .iter()
        .filter(|s| s.name == "project_record" && s.trace_id == trace)
        .filter(|record| {
            record.links.iter().any(|(_, link)| {
                spans
                    .iter()
                    .any(|s| s.name == "projector_batch" && &s.span_id == link)
            })
        })
        .count()
}

/// Asserts the chain of `trace`: the request span (`request_span`) is a
/// child of the caller's span, the append a child of the request, and each
/// of the `records` projected records has a `project_record` span, child of
/// the append and linked to a `projector_batch` span.
fn assert_one_trace(
    spans: &[ReceivedSpan],
    trace: &str,
    caller_span: &str,
    request_span: &str,
    records: usize,
) {
    let request = one(spans, request_span, trace);
    assert_eq!(request.parent_span_id, caller_span, "{request:?}");
    assert_eq!(request.service_name, "consent-ledger", "{request:?}");
    let append = one(spans, "log_append", trace);
    assert_eq!(append.parent_span_id, request.span_id, "{append:?}");
    let batches: BTreeSet<&str> = spans
        .iter()
        .filter(|s| s.name == "projector_batch")
        .map(|s| s.span_id.as_str())
        .collect();
    let projected: Vec<&ReceivedSpan> = spans
        .iter()
        .filter(|s| s.name == "project_record" && s.trace_id == trace)
        .collect();
    assert_eq!(
        projected.len(),
        records,
        "one project_record span per appended record in trace {trace}; received:\n{}",
        describe(spans)
    );
    for record in projected {
        assert_eq!(record.parent_span_id, append.span_id, "{record:?}");
        assert_eq!(record.attribute("outcome"), Some("folded"), "{record:?}");
        assert!(
            record
                .links
                .iter()
                .any(|(_, span)| batches.contains(span.as_str())),
            "a project_record span links to its projector_batch span: {record:?}\n{}",
            describe(spans)
        );
    }
}

#[tokio::test]
async fn an_append_over_http_and_grpc_is_one_trace_from_request_to_projection() {
    let receiver = OtlpReceiver::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let data_dir = dir.path().join("data");
    let grpc = free_address();
    let endpoint = receiver.base_url();
    // A long export delay: the spans reach the receiver only through the
    // flush at shutdown, which is what this test checks.
    let mut serve = Serve::start(
        &data_dir,
        &embedded_log(),
        Some(grpc),
        &["--otlp-endpoint", &endpoint],
        &[("OTEL_BSP_SCHEDULE_DELAY", "600000")],
    )
    .await;

    let http_parent = traceparent(HTTP_TRACE, HTTP_CALLER_SPAN);
    serve
        .append(
            &organisation("acme-cycles"),
            &[("traceparent", &http_parent)],
        )
        .await;

    let mut client = consent_grpc::ConsentLedgerClient::connect(format!("http://{grpc}"))
        .await
        .expect("connect over gRPC");
    let events: v1::AppendRequest =
        serde_json::from_value(organisation("beta-bikes")).expect("an append request");
    let mut request = tonic::Request::new(events);
    request.metadata_mut().insert(
        "traceparent",
        traceparent(GRPC_TRACE, GRPC_CALLER_SPAN)
            .parse()
            .expect("metadata value"),
    );
    client.append(request).await.expect("append over gRPC");
    drop(client);

    serve.wait_caught_up().await;
    let status = serve.terminate().await;
    assert!(status.success(), "{status}:\n{}", serve.output());

    let spans = receiver
        .wait_for(Duration::from_secs(10), "the projections", |spans| {
            spans.iter().filter(|s| s.name == "project_record").count() >= 4
        })
        .await;
    assert_eq!(receiver.undecodable(), 0);
    assert_one_trace(&spans, HTTP_TRACE, HTTP_CALLER_SPAN, "http_request", 2);
    assert_one_trace(&spans, GRPC_TRACE, GRPC_CALLER_SPAN, "grpc_request", 2);

    // The trace context is stored with each record, like any header.
    let records = stored_records(&data_dir).await;
    assert_eq!(records.len(), 4, "{records:?}");
    for record in &records {
        let stored = header(record, "traceparent").expect("a traceparent header");
        assert!(
            stored.starts_with(&format!("00-{HTTP_TRACE}-"))
                || stored.starts_with(&format!("00-{GRPC_TRACE}-")),
            "{stored}"
        );
        assert!(header(record, "event-kind").is_some());
    }
}

#[tokio::test]
async fn without_an_endpoint_nothing_is_sent_and_records_carry_no_trace() {
    // Where an exporter would send by default (OTLP/HTTP's localhost:4318):
    // listen there when free, so that a default exporter would be seen.
    let default_port: SocketAddr = (Ipv4Addr::LOCALHOST, 4318).into();
    let default_receiver = OtlpReceiver::start_on(default_port).await.ok();
    if default_receiver.is_none() {
        eprintln!("note: 127.0.0.1:4318 is taken; the default-endpoint check is skipped");
    }
    let receiver = OtlpReceiver::start().await;
    let dir = tempfile::tempdir().expect("temp dir");

    // No endpoint at all, and OTEL_SDK_DISABLED over an endpoint: both off.
    let endpoint = receiver.base_url();
    let runs: [(&str, &[(&str, &str)]); 2] = [
        ("no-endpoint", &[]),
        (
            "sdk-disabled",
            &[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
                ("OTEL_SDK_DISABLED", "true"),
            ],
        ),
    ];
    for (name, env) in runs {
        let data_dir = dir.path().join(name);
        let mut serve = Serve::start(&data_dir, &embedded_log(), None, &[], env).await;
        serve
            .append(
                &organisation("acme-cycles"),
                &[("traceparent", &traceparent(HTTP_TRACE, HTTP_CALLER_SPAN))],
            )
            .await;
        serve.wait_caught_up().await;
        let status = serve.terminate().await;
        assert!(status.success(), "{name}: {status}:\n{}", serve.output());
        assert!(
            !serve.output().contains("sending traces"),
            "{name}: {}",
            serve.output()
        );

        let records = stored_records(&data_dir).await;
        assert_eq!(records.len(), 2, "{name}: {records:?}");
        for record in &records {
            let names: Vec<&str> = record.headers.iter().map(|(n, _)| n.as_str()).collect();
            assert_eq!(
                names,
                ["event-kind"],
                "{name}: the records are as without traces"
            );
        }
    }
    assert_eq!(receiver.requests(), 0, "{}", describe(&receiver.spans()));
    if let Some(default_receiver) = default_receiver {
        assert_eq!(default_receiver.requests(), 0);
    }
}

#[tokio::test]
async fn the_trace_context_goes_through_kafka_record_headers() {
    let Some(broker) = TestBroker::for_test() else {
        return;
    };
    let receiver = OtlpReceiver::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let endpoint = receiver.base_url();
    let mut serve = Serve::start(
        &dir.path().join("data"),
        &support::log_args(&broker, "traced"),
        None,
        &["--otlp-endpoint", &endpoint],
        &[("OTEL_BSP_SCHEDULE_DELAY", "100")],
    )
    .await;
    serve
        .append(
            &organisation("acme-cycles"),
            &[("traceparent", &traceparent(HTTP_TRACE, HTTP_CALLER_SPAN))],
        )
        .await;
    serve.wait_caught_up().await;
    // Exported while running (a short export delay), not only at shutdown.
    let spans = receiver
        .wait_for(Duration::from_secs(20), "the projections", |spans| {
            projected_with_their_batches(spans, HTTP_TRACE) >= 2
        })
        .await;
    assert_one_trace(&spans, HTTP_TRACE, HTTP_CALLER_SPAN, "http_request", 2);
    let status = serve.terminate().await;
    assert!(status.success(), "{status}:\n{}", serve.output());
}
