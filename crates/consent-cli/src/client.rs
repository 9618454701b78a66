//! A small HTTP client for the commands that talk to a running ledger.

use anyhow::{bail, Context};
use serde_json::Value;

#[derive(clap::Args, Clone)]
pub struct ServerArgs {
    /// Base URL of a running ledger.
    #[arg(long, env = "CONSENT_SERVER", default_value = "http://127.0.0.1:8080")]
    pub server: String,
    /// The API key to send (`Authorization: Bearer`), when the ledger has a key file.
    #[arg(long, env = "CONSENT_API_KEY", hide_env_values = true)]
    pub api_key: Option<String>,
}

pub struct LedgerClient {
    base: String,
    http: reqwest::Client,
}

impl LedgerClient {
    pub fn new(args: &ServerArgs) -> anyhow::Result<Self> {
        let mut headers = reqwest::header::HeaderMap::new();
        if let Some(key) = &args.api_key {
            let mut value =
                reqwest::header::HeaderValue::try_from(format!("Bearer {}", key.trim()))
                    .context("the API key is not valid header text")?;
            value.set_sensitive(true);
            headers.insert(reqwest::header::AUTHORIZATION, value);
        }
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(60))
            .default_headers(headers)
            .build()
            .context("building the HTTP client")?;
        Ok(Self {
            base: args.server.trim_end_matches('/').to_owned(),
            http,
        })
    }

    pub async fn post<T: serde::Serialize + ?Sized>(
        &self,
        path: &str,
        body: &T,
    ) -> anyhow::Result<Value> {
        let (url, response) = self.send_post(path, body).await?;
        read_json(response, &url).await
    }

    /// POSTs `body` and returns the answer as text (e.g. HTML or CSV).
    pub async fn post_text<T: serde::Serialize + ?Sized>(
        &self,
        path: &str,
        body: &T,
    ) -> anyhow::Result<String> {
        let (url, response) = self.send_post(path, body).await?;
        if !response.status().is_success() {
            read_json(response, &url).await?;
            bail!("the ledger at {url} refused the request");
        }
        response
            .text()
            .await
            .with_context(|| format!("reading the answer of {url}"))
    }

    async fn send_post<T: serde::Serialize + ?Sized>(
        &self,
        path: &str,
        body: &T,
    ) -> anyhow::Result<(String, reqwest::Response)> {
        let url = format!("{}{path}", self.base);
        let response = self
            .http
            .post(&url)
            .json(body)
            .send()
            .await
            .with_context(|| unreachable(&url))?;
        Ok((url, response))
    }

    pub async fn get(&self, path: &str, query: &[(&str, String)]) -> anyhow::Result<Value> {
        let url = format!("{}{path}", self.base);
        let response = self
            .http
            .get(&url)
            .query(query)
            .send()
            .await
            .with_context(|| unreachable(&url))?;
        read_json(response, &url).await
    }
}

fn unreachable(url: &str) -> String {
    format!("cannot reach the ledger at {url}; is `consent-ledger serve` running?")
}

async fn read_json(response: reqwest::Response, url: &str) -> anyhow::Result<Value> {
    let status = response.status();
    let body: Value = response.json().await.with_context(|| {
        format!("the ledger at {url} answered {status} with a body that is not JSON")
    })?;
    if !status.is_success() {
        let error = &body["error"];
        let field = error["field"]
            .as_str()
            .map(|f| format!(" (field `{f}`)"))
            .unwrap_or_default();
        let message = error["message"].as_str().unwrap_or("no message");
        bail!("the ledger refused the request: {status}{field}: {message}");
    }
    Ok(body)
}

pub async fn print_rule_sets(args: ServerArgs) -> anyhow::Result<std::process::ExitCode> {
    let client = LedgerClient::new(&args)?;
    let body = client.get("/v1/rule-sets", &[]).await?;
    println!("{}", serde_json::to_string_pretty(&body)?);
    Ok(std::process::ExitCode::SUCCESS)
}
