//! A real webhook receiver on a loopback port, as an ESP's or CRM's
//! endpoint would be: it accepts `POST /hook`, verifies the
//! `x-consent-ledger-signature` header as docs/INTEGRATION.md tells a
//! receiver to (HMAC-SHA256 over `timestamp.body` with the shared secret,
//! the timestamp within five minutes, compared in constant time) with the
//! hmac crate directly, and records every notice it accepts. It can be
//! stopped (its port closed) and started again on the same port, and told
//! to fail every request (503).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;
use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

/// What the receiver saw.
#[derive(Default)]
pub struct Seen {
    /// Accepted notices (body as JSON), in arrival order; duplicates kept.
    pub accepted: Vec<Value>,
    /// Raw accepted bodies.
    pub bodies: Vec<Vec<u8>>,
    /// Requests refused because their signature did not verify.
    pub bad_signatures: usize,
    /// Requests answered 503 while failing, by event id header.
    pub failed_tries: BTreeMap<String, usize>,
}

struct Shared {
    secret: Vec<u8>,
    failing: AtomicBool,
    seen: Mutex<Seen>,
}

/// The receiver; its server stops when [`WebhookReceiver::stop`] is called
/// or it is dropped.
pub struct WebhookReceiver {
    pub address: SocketAddr,
    shared: Arc<Shared>,
    server: Option<(
        tokio::sync::oneshot::Sender<()>,
        tokio::task::JoinHandle<()>,
    )>,
}

impl WebhookReceiver {
    /// A receiver verifying with `secret`, on a free loopback port.
    pub async fn start(secret: &str) -> Self {
        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .expect("bind the receiver");
        let address = listener.local_addr().expect("receiver address");
        let mut receiver = Self {
            address,
            shared: Arc::new(Shared {
                secret: secret.as_bytes().to_vec(),
                failing: AtomicBool::new(false),
                seen: Mutex::new(Seen::default()),
            }),
            server: None,
        };
        receiver.serve(listener);
        receiver
    }

    /// The URL the ledger pushes to.
    pub fn url(&self) -> String {
        format!("http://{}/hook", self.address)
    }

    fn serve(&mut self, listener: tokio::net::TcpListener) {
        let app = Router::new()
            .route("/hook", post(hook))
            .with_state(Arc::clone(&self.shared));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
        });
        self.server = Some((stop, task));
    }

    /// Takes the receiver down: its port refuses connections until
    /// [`WebhookReceiver::restart`].
    pub async fn stop(&mut self) {
        if let Some((stop, task)) = self.server.take() {
            let _ = stop.send(());
            // Keep-alive connections may hold a graceful stop open: cut them.
            if tokio::time::timeout(Duration::from_secs(2), &mut Box::pin(task))
                .await
                .is_err()
            {
                // The task is dropped (and with it the listener).
            }
        }
    }

    /// Brings the receiver back on the same port.
    pub async fn restart(&mut self) {
        let started = Instant::now();
        let listener = loop {
            match tokio::net::TcpListener::bind(self.address).await {
                Ok(listener) => break listener,
                Err(error) => {
                    assert!(
                        started.elapsed() < Duration::from_secs(10),
                        "cannot bind {} again: {error}",
                        self.address
                    );
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        };
        self.serve(listener);
    }

    /// Answer every request 503 (true) or accept verified ones (false).
    pub fn fail_every_request(&self, failing: bool) {
        self.shared.failing.store(failing, Ordering::SeqCst);
    }

    /// Reads what was seen.
    pub fn seen<T>(&self, read: impl FnOnce(&Seen) -> T) -> T {
        read(&self.shared.seen.lock().expect("receiver lock"))
    }

    /// The distinct source event ids accepted so far.
    pub fn event_ids(&self) -> std::collections::BTreeSet<String> {
        self.seen(|seen| {
            seen.accepted
                .iter()
                .filter_map(|n| n["sourceEventId"].as_str().map(str::to_owned))
                .collect()
        })
    }

    /// Waits until every id of `expected` was accepted.
    pub async fn wait_for(&self, expected: &std::collections::BTreeSet<String>, within: Duration) {
        let started = Instant::now();
        loop {
            let ids = self.event_ids();
            if expected.is_subset(&ids) {
                return;
            }
            assert!(
                started.elapsed() < within,
                "the receiver did not get {:?} within {within:?}",
                expected.difference(&ids).collect::<Vec<_>>()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for WebhookReceiver {
    fn drop(&mut self) {
        if let Some((_, task)) = self.server.take() {
            task.abort();
        }
    }
}

/// Verifies the signature as a receiver should; `None` when it does not.
fn verified(secret: &[u8], headers: &HeaderMap, body: &[u8]) -> Option<()> {
    let header = headers.get("x-consent-ledger-signature")?.to_str().ok()?;
    let mut timestamp = None;
    let mut tag = None;
    for part in header.split(',') {
        match part.split_once('=')? {
            ("t", t) => timestamp = Some(t.to_owned()),
            ("v1", v) => tag = Some(hex::decode(v).ok()?),
            _ => {}
        }
    }
    let (timestamp, tag) = (timestamp?, tag?);
    let signed_at: u64 = timestamp.parse().ok()?;
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .ok()?
        .as_secs();
    if now.abs_diff(signed_at) > 300 {
        return None;
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).ok()?;
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.verify_slice(&tag).ok()
}

async fn hook(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let mut seen = shared.seen.lock().expect("receiver lock");
    if verified(&shared.secret, &headers, &body).is_none() {
        seen.bad_signatures += 1;
        return StatusCode::UNAUTHORIZED;
    }
    if shared.failing.load(Ordering::SeqCst) {
        let id = headers
            .get("x-consent-ledger-event-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        *seen.failed_tries.entry(id).or_default() += 1;
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    let Ok(notice) = serde_json::from_slice::<Value>(&body) else {
        return StatusCode::BAD_REQUEST;
    };
    seen.accepted.push(notice);
    seen.bodies.push(body.to_vec());
    StatusCode::OK
}
