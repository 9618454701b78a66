//! Checks over the APIs on loopback: HTTP JSON (`POST /v1/checks`,
//! `/v1/checks:batch`) and gRPC (`Check`, `CheckBatch`, `CheckStream`),
//! served by the real consent-http and consent-grpc servers in this
//! process, driven by the load generator in this process.

use crate::load::{drive, Load};
use crate::outcome::Outcome;
use anyhow::Context;
use consent_grpc::ConsentLedgerClient;
use consent_schema::v1;
use consent_service::Ledger;
use futures::StreamExt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;
use tonic::transport::Channel;

/// Checks per batch request.
pub const BATCH: usize = 1_000;
/// gRPC connections the load generator spreads its calls over.
const GRPC_CONNECTIONS: usize = 4;

pub struct Servers {
    pub http: SocketAddr,
    pub grpc: SocketAddr,
    stop: watch::Sender<bool>,
}

impl Servers {
    pub async fn start(ledger: Ledger) -> anyhow::Result<Self> {
        let (stop, stopped) = watch::channel(false);
        let http_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let grpc_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let (http, grpc) = (http_listener.local_addr()?, grpc_listener.local_addr()?);
        let until = |mut stopped: watch::Receiver<bool>| async move {
            let _ = stopped.wait_for(|stop| *stop).await;
        };
        tokio::spawn(consent_http::serve(
            http_listener,
            ledger.clone(),
            until(stopped.clone()),
        ));
        // consent_grpc::serve hands tonic the accepted streams as they
        // are, without TCP_NODELAY, so a unary call waits out the peer's
        // delayed ACK (about 40 ms a call on loopback). The bench serves
        // the same service with Nagle off; see docs/PERFORMANCE.md.
        let incoming = tokio_stream::wrappers::TcpListenerStream::new(grpc_listener).map(
            |stream: std::io::Result<tokio::net::TcpStream>| {
                if let Ok(stream) = &stream {
                    let _ = stream.set_nodelay(true);
                }
                stream
            },
        );
        tokio::spawn(
            tonic::transport::Server::builder()
                .add_service(consent_grpc::service(ledger))
                .serve_with_incoming_shutdown(incoming, until(stopped)),
        );
        Ok(Self { http, grpc, stop })
    }

    pub fn stop(&self) {
        let _ = self.stop.send(true);
    }
}

pub struct ApiFigures {
    pub http_unary: Load,
    pub grpc_unary: Load,
    /// Batches and streams of full decisions.
    pub full: BatchFigures,
    /// The same with `omit_texts` set on every check.
    pub without_texts: BatchFigures,
}

/// Decisions in batches (HTTP and gRPC) and streams (gRPC).
pub struct BatchFigures {
    pub http_batch: Load,
    pub grpc_batch: Load,
    pub grpc_stream_rate: f64,
    pub grpc_stream_decisions: u64,
}

impl BatchFigures {
    /// The best of the batch and stream APIs, in decisions/s.
    pub fn best(&self) -> f64 {
        self.grpc_stream_rate
            .max(self.grpc_batch.rate())
            .max(self.http_batch.rate())
    }
}

impl ApiFigures {
    /// The best batch or stream rate, with texts or without.
    pub fn best_batch(&self) -> f64 {
        self.full.best().max(self.without_texts.best())
    }
}

pub async fn measure(
    servers: &Servers,
    requests: Arc<Vec<v1::CheckRequest>>,
    concurrency: usize,
    duration: Duration,
    stream_checks: usize,
) -> anyhow::Result<ApiFigures> {
    // HTTP: the proto3 JSON bodies, serialised once up front.
    let bodies: Arc<Vec<Vec<u8>>> = Arc::new(
        requests
            .iter()
            .map(serde_json::to_vec)
            .collect::<Result<_, _>>()?,
    );
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()?;
    let url = format!("http://{}/v1/checks", servers.http);
    let http_unary = {
        let (http, url, bodies) = (http.clone(), url.clone(), bodies.clone());
        drive(concurrency, duration, move |_, n| {
            let body = crate::load::nth(&bodies, n).clone();
            let request = http
                .post(&url)
                .header("content-type", "application/json")
                .body(body);
            async move {
                request.send().await?.error_for_status()?.bytes().await?;
                Ok(1)
            }
        })
        .await
        .context("HTTP checks")?
    };
    let endpoint = format!("http://{}", servers.grpc);
    let mut clients = Vec::new();
    for _ in 0..GRPC_CONNECTIONS {
        clients.push(
            ConsentLedgerClient::<Channel>::connect(endpoint.clone())
                .await?
                .max_decoding_message_size(consent_grpc::MAX_MESSAGE_BYTES),
        );
    }
    let clients = Arc::new(clients);
    let grpc_unary = {
        let (clients, requests) = (clients.clone(), requests.clone());
        drive(concurrency, duration, move |task, n| {
            let mut client = clients[task % clients.len()].clone();
            let request = crate::load::nth(&requests, n).clone();
            async move {
                client.check(request).await?;
                Ok(1)
            }
        })
        .await
        .context("gRPC checks")?
    };
    let full = batches(servers, &http, &clients, &requests, duration, stream_checks).await?;
    let lean: Arc<Vec<v1::CheckRequest>> = Arc::new(
        requests
            .iter()
            .map(|request| v1::CheckRequest {
                omit_texts: true,
                ..request.clone()
            })
            .collect(),
    );
    let without_texts = batches(servers, &http, &clients, &lean, duration, stream_checks).await?;
    Ok(ApiFigures {
        http_unary,
        grpc_unary,
        full,
        without_texts,
    })
}

/// HTTP and gRPC batches of [`BATCH`] checks, then one `CheckStream` per
/// core, over `requests`.
async fn batches(
    servers: &Servers,
    http: &reqwest::Client,
    clients: &Arc<Vec<ConsentLedgerClient<Channel>>>,
    requests: &Arc<Vec<v1::CheckRequest>>,
    duration: Duration,
    stream_checks: usize,
) -> anyhow::Result<BatchFigures> {
    let batch_bodies: Arc<Vec<Vec<u8>>> = Arc::new(
        requests
            .chunks(BATCH)
            .filter(|chunk| chunk.len() == BATCH || requests.len() < BATCH)
            .map(|chunk| {
                serde_json::to_vec(&v1::CheckBatchRequest {
                    checks: chunk.to_vec(),
                })
            })
            .collect::<Result<_, _>>()?,
    );
    let batch_url = format!("http://{}/v1/checks:batch", servers.http);
    let http_batch = {
        let batch_bodies = batch_bodies.clone();
        let checks = (requests.len().min(BATCH)) as u64;
        let http = http.clone();
        drive(2, duration, move |_, n| {
            let body = crate::load::nth(&batch_bodies, n).clone();
            let request = http
                .post(&batch_url)
                .header("content-type", "application/json")
                .body(body);
            async move {
                request.send().await?.error_for_status()?.bytes().await?;
                Ok(checks)
            }
        })
        .await
        .context("HTTP batch checks")?
    };

    let batches: Arc<Vec<v1::CheckBatchRequest>> = Arc::new(
        requests
            .chunks(BATCH)
            .map(|chunk| v1::CheckBatchRequest {
                checks: chunk.to_vec(),
            })
            .collect(),
    );
    let grpc_batch = {
        let (clients, batches) = (clients.clone(), batches.clone());
        drive(2, duration, move |task, n| {
            let mut client = clients[task % clients.len()].clone();
            let batch = crate::load::nth(&batches, n).clone();
            async move {
                let answer = client.check_batch(batch).await?.into_inner();
                Ok(answer.decisions.len() as u64)
            }
        })
        .await
        .context("gRPC batch checks")?
    };

    // CheckStream: one stream per core, each of stream_checks / streams.
    let streams = std::thread::available_parallelism().map_or(2, |n| n.get());
    let per_stream = stream_checks / streams;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for stream in 0..streams {
        let mut client = clients[stream % clients.len()].clone();
        let requests = requests.clone();
        tasks.push(tokio::spawn(async move {
            let outbound = futures::stream::iter(
                (0..per_stream)
                    .map(move |i| requests[(i + stream * 7919) % requests.len()].clone()),
            );
            let mut answers = client.check_stream(outbound).await?.into_inner();
            let mut received = 0u64;
            while let Some(decision) = answers.next().await {
                decision?;
                received += 1;
            }
            Ok::<_, anyhow::Error>(received)
        }));
    }
    let mut grpc_stream_decisions = 0;
    for task in tasks {
        grpc_stream_decisions += task.await??;
    }
    let grpc_stream_rate = grpc_stream_decisions as f64 / started.elapsed().as_secs_f64();
    Ok(BatchFigures {
        http_batch,
        grpc_batch,
        grpc_stream_rate,
        grpc_stream_decisions,
    })
}

pub fn outcomes(
    figures: &mut ApiFigures,
    in_process_rate: f64,
    concurrency: usize,
) -> Vec<Outcome> {
    let mut unary = Outcome::new(
        "api",
        "HTTP and gRPC checks on loopback (one check per call)",
    );
    for (name, load) in [
        ("HTTP POST /v1/checks", &mut figures.http_unary),
        ("gRPC Check", &mut figures.grpc_unary),
    ] {
        unary.figure(name.to_string(), load.rate(), "checks/s");
        unary.figure(
            format!("{name} p50"),
            load.latencies.percentile_us(50.0),
            "us",
        );
        unary.figure(
            format!("{name} p99"),
            load.latencies.percentile_us(99.0),
            "us",
        );
    }
    let best = figures.grpc_unary.rate().max(figures.http_unary.rate());
    unary.ratio(
        best / in_process_rate,
        "in-process Ledger::check throughput (the API's ceiling)",
    );
    unary.note(format!(
        "{concurrency} concurrent callers, server and load generator in one process on the same cores; each call is a full request: HTTP/1.1 keep-alive JSON or HTTP/2 gRPC"
    ));

    let mut batch = Outcome::new("batch", "Batch and streaming decisions");
    for (form, figures) in [("", &figures.full), (", omitTexts", &figures.without_texts)] {
        batch.figure(
            format!("HTTP POST /v1/checks:batch{form} (1,000 per call)"),
            figures.http_batch.rate(),
            "decisions/s",
        );
        batch.figure(
            format!("gRPC CheckBatch{form} (1,000 per call)"),
            figures.grpc_batch.rate(),
            "decisions/s",
        );
        batch.figure(
            format!("gRPC CheckStream{form}"),
            figures.grpc_stream_rate,
            "decisions/s",
        );
    }
    batch.figure(
        "decisions streamed (each form)",
        figures.full.grpc_stream_decisions as f64,
        "decisions",
    );
    let best = figures.best_batch();
    batch.ratio(
        best / in_process_rate,
        "in-process Ledger::check throughput",
    );
    // Issue #14: the best batch or stream of each form.
    let (full, lean) = (figures.full.best(), figures.without_texts.best());
    batch.target(
        "at least 300,000 decisions/s with omitTexts and 150,000/s with full decisions",
        lean >= 300_000.0 && full >= 150_000.0,
    );
    batch.note("each decision is the proto Decision (rules, reasons, events relied on, freshness), encoded and sent; with omitTexts (CheckRequest.omit_texts) it carries no prose: rule titles, citations and details and reason messages and citations are empty, everything else is the full decision's. The ratio and the target take the best of both forms");
    vec![unary, batch]
}
