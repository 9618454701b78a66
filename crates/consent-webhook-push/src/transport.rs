//! How a push reaches an endpoint: the [`Transport`] trait (one POST, a
//! 2xx answer or why not), and [`HttpTransport`], its reqwest
//! implementation. The pusher's policy and stores never see HTTP types.

use async_trait::async_trait;
use std::time::Duration;

/// Posts one signed body to an endpoint.
#[async_trait]
pub trait Transport: Send + Sync {
    /// `Ok` when the endpoint answered 2xx; otherwise why not (the status
    /// code, a timeout, a refused connection), for the logs and the dead
    /// letter.
    async fn post(
        &self,
        url: &str,
        headers: Vec<(&'static str, String)>,
        body: Vec<u8>,
    ) -> Result<(), String>;
}

/// [`Transport`] over HTTP(S) with reqwest: every try bounded by a
/// timeout, no redirects followed (a moved endpoint is a failure to fix in
/// the webhooks file, not a place to send signed opt-outs to).
#[derive(Clone, Debug)]
pub struct HttpTransport {
    client: reqwest::Client,
}

impl HttpTransport {
    /// A transport whose tries each take at most `timeout`.
    pub fn new(timeout: Duration) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("consent-ledger/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self { client })
    }
}

#[async_trait]
impl Transport for HttpTransport {
    async fn post(
        &self,
        url: &str,
        headers: Vec<(&'static str, String)>,
        body: Vec<u8>,
    ) -> Result<(), String> {
        let mut request = self.client.post(url).body(body);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        // Errors without the URL: it may hold a token, and the reason goes
        // to the logs and the dead letters.
        match request.send().await {
            Ok(response) if response.status().is_success() => Ok(()),
            Ok(response) => Err(format!("the endpoint answered {}", response.status())),
            Err(error) if error.is_timeout() => Err(format!("timed out: {}", error.without_url())),
            Err(error) => Err(format!("not delivered: {}", error.without_url())),
        }
    }
}
