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
    /// A file holding the API key (mode 0600), instead of `--api-key`, which `ps` shows.
    #[arg(long, env = "CONSENT_API_KEY_FILE", conflicts_with = "api_key")]
    pub api_key_file: Option<std::path::PathBuf>,
    /// For an `https://` ledger: a PEM file of CA certificates to trust besides the system's (a private CA).
    #[arg(long, env = "CONSENT_CA_CERT")]
    pub ca_cert: Option<std::path::PathBuf>,
}

impl ServerArgs {
    /// The API key to send, from `--api-key` or `--api-key-file`.
    fn key(&self) -> anyhow::Result<Option<zeroize::Zeroizing<String>>> {
        if let Some(path) = &self.api_key_file {
            let text = consent_secret_file::read_secret(path, 4096)
                .with_context(|| format!("--api-key-file {}", path.display()))?;
            return Ok(Some(zeroize::Zeroizing::new(text.trim().to_owned())));
        }
        Ok(self
            .api_key
            .as_ref()
            .map(|key| zeroize::Zeroizing::new(key.trim().to_owned())))
    }
}

pub struct LedgerClient {
    base: String,
    http: reqwest::Client,
}

impl LedgerClient {
    pub fn new(args: &ServerArgs) -> anyhow::Result<Self> {
        let mut headers = reqwest::header::HeaderMap::new();
        if let Some(key) = args.key()? {
            let mut value = reqwest::header::HeaderValue::try_from(format!("Bearer {}", *key))
                .context("the API key is not valid header text")?;
            value.set_sensitive(true);
            headers.insert(reqwest::header::AUTHORIZATION, value);
        }
        let mut builder = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(60))
            .default_headers(headers);
        if let Some(path) = &args.ca_cert {
            let pem = std::fs::read(path)
                .with_context(|| format!("--ca-cert {}: cannot read it", path.display()))?;
            let certificates = reqwest::Certificate::from_pem_bundle(&pem).with_context(|| {
                format!(
                    "--ca-cert {}: not a PEM file of certificates",
                    path.display()
                )
            })?;
            if certificates.is_empty() {
                bail!("--ca-cert {}: holds no certificate", path.display());
            }
            for certificate in certificates {
                builder = builder.add_root_certificate(certificate);
            }
        }
        let http = builder.build().context("building the HTTP client")?;
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

    /// POSTs `body` and returns the status and the body (JSON, or `Null`
    /// when it is not), whatever the status: for callers that act on
    /// refusals and retry transient failures themselves (imports). `Err` is
    /// a request that got no answer (connection refused, timeout).
    pub async fn post_answer<T: serde::Serialize + ?Sized>(
        &self,
        path: &str,
        body: &T,
    ) -> Result<(reqwest::StatusCode, Value), reqwest::Error> {
        let url = format!("{}{path}", self.base);
        let response = self.http.post(&url).json(body).send().await?;
        let status = response.status();
        let bytes = response.bytes().await?;
        Ok((
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        ))
    }

    /// GETs `path` and returns the answer as text (e.g. the checkpoint key).
    pub async fn get_text(&self, path: &str) -> anyhow::Result<String> {
        let url = format!("{}{path}", self.base);
        let response = self
            .http
            .get(&url)
            .send()
            .await
            .with_context(|| unreachable(&url))?;
        if !response.status().is_success() {
            read_json(response, &url).await?;
            bail!("the ledger at {url} refused the request");
        }
        response
            .text()
            .await
            .with_context(|| format!("reading the answer of {url}"))
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
