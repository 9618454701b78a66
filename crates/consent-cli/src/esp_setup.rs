//! The ESP webhooks of `serve` (docs/INTEGRATION.md, "ESP events in";
//! docs/OPERATIONS.md, settings): one TOML file, named by `--esp-webhooks`
//! (`CONSENT_ESP_WEBHOOKS_FILE`, config key `esp_webhooks`), holding each
//! organisation's providers and their keys and secrets. It holds secrets,
//! so it is read as every secret file is (refused when group or others can
//! read it). The SNS signing certificates it names are public, and read
//! from their own files.
//!
//! ```toml
//! [acme-cycles.sendgrid]
//! public_key = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE..."  # the verification key, as SendGrid shows it
//! tolerance_secs = 300                                    # optional: how stale a signed timestamp may be
//!
//! [acme-cycles.ses]
//! certificate_file = "/etc/consent-ledger/sns-eu-west-2.pem"  # the SNS signing certificate (PEM)
//! topic_arn = "arn:aws:sns:eu-west-2:123456789012:ses-feedback"  # optional: the only topic accepted
//!
//! [acme-cycles.mailchimp]
//! secret = "a-long-random-url-safe-secret"   # the last segment of the webhook's URL
//!
//! [acme-cycles.generic]
//! secret = "another-long-random-secret"      # HMAC-SHA256 key of x-consent-signature
//! ```

use anyhow::Context;
use consent_domain::OrganisationId;
use consent_intake::esp::sendgrid::{SendGridKey, DEFAULT_TOLERANCE_SECS};
use consent_intake::esp::sns::SnsCertificate;
use consent_service::{EspSettings, EspWebhooks, SendGridSettings, SesSettings};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The largest settings file read (bytes).
const MAX_FILE_BYTES: u64 = 1024 * 1024;
/// The shortest secret accepted (characters): a guessable secret in a URL
/// or an HMAC key would let anyone opt anyone out.
const MIN_SECRET_CHARS: usize = 16;

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct OrganisationEntry {
    sendgrid: Option<SendGridEntry>,
    ses: Option<SesEntry>,
    mailchimp: Option<SecretEntry>,
    generic: Option<SecretEntry>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct SendGridEntry {
    public_key: String,
    tolerance_secs: Option<u32>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct SesEntry {
    certificate_file: PathBuf,
    topic_arn: Option<String>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct SecretEntry {
    secret: String,
}

/// Reads the ESP webhooks' settings file.
pub fn load_esp_webhooks(path: &Path) -> anyhow::Result<EspWebhooks> {
    let text = consent_secret_file::read_secret(path, MAX_FILE_BYTES).with_context(|| {
        format!(
            "cannot use the ESP webhooks file (--esp-webhooks) {}",
            path.display()
        )
    })?;
    let entries: BTreeMap<String, OrganisationEntry> = toml::from_str(&text)
        .with_context(|| format!("the ESP webhooks file {} is not valid", path.display()))?;
    let mut webhooks = EspWebhooks::default();
    for (organisation, entry) in entries {
        let settings = organisation_settings(&organisation, entry)
            .with_context(|| format!("in the ESP webhooks file {}", path.display()))?;
        tracing::info!(
            organisation = %organisation,
            sendgrid = settings.sendgrid.is_some(),
            ses = settings.ses.is_some(),
            mailchimp = settings.mailchimp_secret.is_some(),
            generic = settings.generic_secret.is_some(),
            "ESP webhooks enabled"
        );
        webhooks
            .organisations
            .insert(OrganisationId::new(organisation), settings);
    }
    Ok(webhooks)
}

fn organisation_settings(
    organisation: &str,
    entry: OrganisationEntry,
) -> anyhow::Result<EspSettings> {
    anyhow::ensure!(
        !organisation.trim().is_empty(),
        "an organisation's table needs a name: [ORGANISATION.sendgrid]"
    );
    let mut settings = EspSettings::default();
    if let Some(sendgrid) = entry.sendgrid {
        let key = SendGridKey::from_base64_der(&sendgrid.public_key)
            .map_err(|error| anyhow::anyhow!("[{organisation}.sendgrid] public_key: {error}"))?;
        settings.sendgrid = Some(SendGridSettings {
            key,
            tolerance_secs: sendgrid
                .tolerance_secs
                .map_or(DEFAULT_TOLERANCE_SECS, i64::from),
        });
    }
    if let Some(ses) = entry.ses {
        let pem = std::fs::read_to_string(&ses.certificate_file).with_context(|| {
            format!(
                "[{organisation}.ses] certificate_file: cannot read {}",
                ses.certificate_file.display()
            )
        })?;
        let certificate = SnsCertificate::from_pem(&pem).map_err(|error| {
            anyhow::anyhow!(
                "[{organisation}.ses] certificate_file {}: {error}",
                ses.certificate_file.display()
            )
        })?;
        settings.ses = Some(SesSettings {
            certificate,
            topic_arn: ses.topic_arn.filter(|arn| !arn.trim().is_empty()),
        });
    }
    if let Some(mailchimp) = entry.mailchimp {
        let secret = checked_secret(organisation, "mailchimp", &mailchimp.secret)?;
        anyhow::ensure!(
            secret
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
            "[{organisation}.mailchimp] secret: it is the last segment of the webhook's URL, so only letters, digits, `-` and `_`"
        );
        settings.mailchimp_secret = Some(secret.as_bytes().to_vec().into());
    }
    if let Some(generic) = entry.generic {
        let secret = checked_secret(organisation, "generic", &generic.secret)?;
        settings.generic_secret = Some(secret.as_bytes().to_vec().into());
    }
    Ok(settings)
}

fn checked_secret<'a>(organisation: &str, table: &str, secret: &'a str) -> anyhow::Result<&'a str> {
    let secret = secret.trim();
    anyhow::ensure!(
        secret.chars().count() >= MIN_SECRET_CHARS,
        "[{organisation}.{table}] secret: at least {MIN_SECRET_CHARS} characters (a random one, e.g. `openssl rand -hex 24`)"
    );
    Ok(secret)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn write(dir: &Path, name: &str, text: &str, mode: u32) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).expect("write");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).expect("chmod");
        path
    }

    const SENDGRID_KEY: &str = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE83T4O/n84iotIvIW4mdBgQ/7dAfSmpqIM8kF9mN1flpVKS3GRqe62gw+2fNNRaINXvVpiglSI8eNEc6wEA3F+g==";

    #[test]
    fn every_provider_is_read_for_its_organisation() {
        let dir = tempfile::tempdir().expect("dir");
        let certificate = write(
            dir.path(),
            "sns.pem",
            include_str!("../../consent-intake/tests/data/sns-test-signing.pem"),
            0o644,
        );
        let file = write(
            dir.path(),
            "esp.toml",
            &format!(
                "[acme-cycles.sendgrid]\npublic_key = \"{SENDGRID_KEY}\"\ntolerance_secs = 60\n\
                 [acme-cycles.ses]\ncertificate_file = \"{}\"\n\
                 [acme-cycles.mailchimp]\nsecret = \"mailchimp-secret-0123456789\"\n\
                 [other-org.generic]\nsecret = \"generic-secret-0123456789\"\n",
                certificate.display()
            ),
            0o600,
        );
        let webhooks = load_esp_webhooks(&file).expect("loaded");
        let acme = &webhooks.organisations[&OrganisationId::new("acme-cycles")];
        assert_eq!(acme.sendgrid.as_ref().map(|s| s.tolerance_secs), Some(60));
        assert!(
            acme.ses.is_some() && acme.mailchimp_secret.is_some() && acme.generic_secret.is_none()
        );
        assert!(webhooks.organisations[&OrganisationId::new("other-org")]
            .generic_secret
            .is_some());
    }

    #[test]
    fn a_file_others_can_read_or_a_bad_entry_is_refused_naming_it() {
        let dir = tempfile::tempdir().expect("dir");
        let open = write(dir.path(), "open.toml", "", 0o644);
        let error = format!("{:#}", load_esp_webhooks(&open).expect_err("too open"));
        assert!(error.contains("chmod 600"), "{error}");
        for (text, named) in [
            (
                "[acme.sendgrid]\npublic_key = \"bm90IGEga2V5\"\n",
                "[acme.sendgrid] public_key",
            ),
            (
                "[acme.mailchimp]\nsecret = \"short\"\n",
                "[acme.mailchimp] secret",
            ),
            (
                "[acme.mailchimp]\nsecret = \"has/a/slash/0123456789\"\n",
                "[acme.mailchimp] secret",
            ),
            (
                "[acme.ses]\ncertificate_file = \"/no/such/file.pem\"\n",
                "[acme.ses] certificate_file",
            ),
            ("[acme.sendgird]\npublic_key = \"x\"\n", "sendgird"),
        ] {
            let file = write(dir.path(), "esp.toml", text, 0o600);
            let error = format!("{:#}", load_esp_webhooks(&file).expect_err(text));
            assert!(error.contains(named), "{named}: {error}");
        }
    }
}
