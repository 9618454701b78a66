//! `consent-ledger probe URL`: a health check for container runtimes whose
//! image has no HTTP client (the ledger's image is Debian slim, without
//! curl or wget). Exit status 0 when the URL answers 2xx within the
//! timeout, 1 otherwise, with the reason on standard error.

use std::process::ExitCode;
use std::time::Duration;

#[derive(clap::Args)]
pub struct ProbeArgs {
    /// The URL to GET, e.g. http://127.0.0.1:8080/readyz.
    url: String,
    /// Seconds to wait for the whole answer.
    #[arg(long, default_value_t = 5)]
    timeout_secs: u64,
}

pub async fn run(args: ProbeArgs) -> anyhow::Result<ExitCode> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(args.timeout_secs))
        .build()
        .map_err(|error| anyhow::anyhow!("building the HTTP client: {error}"))?;
    match client.get(&args.url).send().await {
        Ok(response) if response.status().is_success() => Ok(ExitCode::SUCCESS),
        Ok(response) => {
            let status = response.status();
            let body = response.text().await.unwrap_or_default();
            eprintln!(
                "probe {}: {status} {}",
                args.url,
                body.chars().take(500).collect::<String>().trim()
            );
            Ok(ExitCode::FAILURE)
        }
        Err(error) => {
            let mut reason = error.to_string();
            let mut source = std::error::Error::source(&error);
            while let Some(cause) = source {
                reason.push_str(&format!(": {cause}"));
                source = cause.source();
            }
            eprintln!("probe {}: {reason}", args.url);
            Ok(ExitCode::FAILURE)
        }
    }
}
