//! Opt-out intake for `serve` (docs/OPT-OUTS.md): the unsubscribe token
//! secret (`<data dir>/unsubscribe.key` by default, mode 0600, generated on
//! first start; or a named file, or the value in `CONSENT_UNSUBSCRIBE_KEY`:
//! docs/OPERATIONS.md "Keys"), the public URL the links point at, and the SMS webhook's
//! shared secret and receiving numbers, and the ESP webhooks' settings
//! file (`esp_setup`).

use crate::key_source::{KeySource, UNSUBSCRIBE_KEY};
use anyhow::Context;
use consent_domain::OrganisationId;
use consent_intake::{load_or_generate_secret_file, load_secret_file, parse_secret};
use consent_schema::PhoneRegion;
use consent_service::IntakeConfig;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// The opt-out intake settings of `serve`.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct IntakeArgs {
    /// The base URL under which this ledger's `/u/{token}` unsubscribe links are reachable from the
    /// internet (e.g. https://consent.example.org). Default: http://<listen address>, for trials only.
    #[arg(long, env = "CONSENT_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// The file of the secret that signs unsubscribe tokens (never replace it: every link already sent
    /// would stop working; every instance needs the same one). Or the value itself in the environment
    /// variable CONSENT_UNSUBSCRIBE_KEY. Default: `<data dir>/unsubscribe.key`, generated on first start;
    /// a file named here is never generated.
    #[arg(long, env = "CONSENT_UNSUBSCRIBE_KEY_FILE")]
    pub unsubscribe_key: Option<PathBuf>,
    /// The secret shared with the SMS provider (or relay) that signs `POST /v1/webhooks/sms`
    /// (`x-consent-signature: sha256=<hex HMAC-SHA256 of the body>`). Without it the webhook answers 404.
    /// Prefer the environment variable or the config file to the flag (visible in `ps`).
    #[arg(long, env = "CONSENT_SMS_WEBHOOK_SECRET", hide_env_values = true)]
    pub sms_webhook_secret: Option<String>,
    /// A receiving number and the organisation that owns it, NUMBER=ORGANISATION (e.g.
    /// +447700900999=acme-cycles); repeatable. The environment variable takes several, separated by `;`.
    #[arg(long = "sms-number", env = "CONSENT_SMS_NUMBERS", value_delimiter = ';', value_parser = parse_number)]
    pub sms_numbers: Vec<(String, String)>,
    /// The ESP webhooks' settings file (TOML, mode 0600: it holds secrets): per organisation, the
    /// SendGrid verification key, the SNS signing certificate of SES notifications, the Mailchimp URL
    /// secret and the generic webhook's HMAC secret (docs/INTEGRATION.md). Without it every ESP
    /// webhook answers 404.
    #[arg(long, env = "CONSENT_ESP_WEBHOOKS_FILE")]
    pub esp_webhooks: Option<PathBuf>,
}

fn parse_number(text: &str) -> Result<(String, String), String> {
    text.split_once('=')
        .map(|(number, organisation)| (number.trim().to_owned(), organisation.trim().to_owned()))
        .filter(|(number, organisation)| !number.is_empty() && !organisation.is_empty())
        .ok_or_else(|| format!("`{text}` is not NUMBER=ORGANISATION"))
}

/// Loads (or creates) the token secret and builds the intake settings.
pub fn open_intake(
    args: &IntakeArgs,
    data_dir: &Path,
    listen: SocketAddr,
    phone_region: PhoneRegion,
) -> anyhow::Result<IntakeConfig> {
    anyhow::ensure!(
        args.sms_numbers.is_empty() || args.sms_webhook_secret.is_some(),
        "--sms-number needs --sms-webhook-secret (CONSENT_SMS_WEBHOOK_SECRET): the webhook is authenticated by it"
    );
    let source = UNSUBSCRIBE_KEY.resolve(
        args.unsubscribe_key.as_deref(),
        data_dir.join("unsubscribe.key"),
    )?;
    let secret = match &source {
        KeySource::Value { text, .. } => parse_secret(text)
            .ok_or_else(|| UNSUBSCRIBE_KEY.not_a_key(&source, "one line of base64url, 32 bytes"))?,
        KeySource::Named { path } => load_secret_file(path)
            .with_context(|| format!("cannot use {}", UNSUBSCRIBE_KEY.describe(&source)))?,
        KeySource::Default { path } => {
            let existed = path.exists();
            let secret = load_or_generate_secret_file(path)?;
            if !existed {
                tracing::warn!(key_file = %path.display(), "no unsubscribe token secret: generated one");
            }
            secret
        }
    };
    let public_url = match &args.public_url {
        Some(url) => {
            anyhow::ensure!(
                url.starts_with("https://") || url.starts_with("http://"),
                "--public-url {url:?} must be an http(s) URL, e.g. https://consent.example.org"
            );
            url.clone()
        }
        None => {
            let url = format!("http://{listen}");
            tracing::warn!(
                public_url = %url,
                "no --public-url: unsubscribe links point at the listen address; set CONSENT_PUBLIC_URL to the address the internet reaches"
            );
            url
        }
    };
    let mut intake = IntakeConfig::new(secret, public_url);
    if let Some(shared) = &args.sms_webhook_secret {
        let numbers = args
            .sms_numbers
            .iter()
            .map(|(number, organisation)| (number.clone(), OrganisationId::new(organisation)));
        intake = intake
            .sms_webhook(shared.as_bytes().to_vec(), numbers, phone_region)
            .map_err(|error| anyhow::anyhow!("{}: {}", error.field, error.reason))
            .context("the SMS webhook settings")?;
        tracing::info!(
            numbers = args.sms_numbers.len(),
            "the SMS STOP webhook is enabled"
        );
    }
    if let Some(path) = &args.esp_webhooks {
        intake = intake.esp_webhooks(crate::esp_setup::load_esp_webhooks(path)?);
    }
    tracing::info!(public_url = %intake.public_url(), "one-click unsubscribe links enabled");
    Ok(intake)
}
