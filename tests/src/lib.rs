//! Support for the end-to-end tests: a whole ledger (embedded log, sled
//! view, running projector, HTTP API) in a temporary directory.

use consent_log::EventLog;
use consent_log_embedded::EmbeddedLog;
use consent_projector::{Projector, ProjectorConfig};
use consent_service::Ledger;
use consent_store_sled::SledStore;
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

/// A running ledger on 127.0.0.1, as `consent-ledger serve` composes it.
pub struct RunningLedger {
    pub base: String,
    client: reqwest::Client,
    _dir: tempfile::TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl RunningLedger {
    pub async fn start() -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let log: Arc<dyn EventLog> = Arc::new(
            EmbeddedLog::open(
                &dir.path().join("log"),
                consent_schema::ledger_layout("consent", 8),
            )
            .expect("embedded log"),
        );
        let store = Arc::new(SledStore::open(&dir.path().join("view")).expect("sled view"));
        let config = ProjectorConfig {
            poll_wait: Duration::from_millis(20),
            ..ProjectorConfig::default()
        };
        let projector = Projector::new(log.clone(), store.clone(), config);
        let ledger = Ledger::new(projector.projection());
        let (_stop_projector, stopping) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            let _keep_running = _stop_projector;
            projector.run(stopping).await
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(consent_http::serve(listener, ledger, async {
            let _ = stopped.await;
        }));
        Self {
            base,
            client: reqwest::Client::new(),
            _dir: dir,
            stop: Some(stop),
        }
    }

    /// POSTs a JSON body given as text (as a user would with curl).
    pub async fn post(&self, path: &str, body: &str) -> (u16, Value) {
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/json")
            .body(body.to_owned())
            .send()
            .await
            .expect("request sent");
        let status = response.status().as_u16();
        (status, response.json().await.expect("JSON answer"))
    }
}

impl Drop for RunningLedger {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// The JSON bodies of the README's `curl ... -d '...'` commands, in order.
pub fn readme_curl_bodies(readme: &str) -> Vec<(String, String)> {
    let mut bodies = Vec::new();
    let mut rest = readme;
    while let Some(start) = rest.find("curl -s localhost:8080") {
        rest = &rest[start + "curl -s localhost:8080".len()..];
        let path = rest
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_owned();
        let Some(open) = rest.find("-d '") else { break };
        let body_start = open + "-d '".len();
        let Some(len) = rest[body_start..].find('\'') else {
            break;
        };
        bodies.push((path, rest[body_start..body_start + len].to_owned()));
        rest = &rest[body_start + len..];
    }
    bodies
}
