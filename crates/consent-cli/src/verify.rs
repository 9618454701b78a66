//! `consent-ledger verify`: checks an evidence bundle offline, with nothing
//! but the bundle, the ledger's published key and the rules built into
//! this binary. Exit status 0: PASS; 4: FAIL (the report says exactly what
//! failed); 1: the command could not run.

use anyhow::Context;
use consent_audit::{audit_bundle_json, Verifier};
use consent_domain::rules::RuleCatalogue;
use consent_evidence::VerifierKey;
use std::path::PathBuf;
use std::process::ExitCode;

/// Exit status of a bundle that does not verify.
pub const EXIT_FAILED_VERIFICATION: u8 = 4;

#[derive(clap::Args)]
pub struct VerifyArgs {
    /// The evidence bundle file (JSON, "consent-ledger evidence v1").
    pub bundle: PathBuf,
    /// A trusted verifier key: the key text the ledger publishes
    /// (`origin+keyid+base64`, from `GET /v1/checkpoint-key` or the
    /// `checkpoint.pub` file next to its data), or a file holding it.
    /// Repeat for rotated keys.
    #[arg(long = "key", required = true)]
    pub keys: Vec<String>,
    /// Also write the regulator's HTML report of the bundle here (as
    /// `consent-ledger report` draws it).
    #[arg(long)]
    pub html: Option<PathBuf>,
    /// Print the report as JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

pub async fn run(args: VerifyArgs) -> anyhow::Result<ExitCode> {
    let (bytes, keys) = read_bundle_and_keys(&args.bundle, &args.keys)?;
    let catalogue = RuleCatalogue::uk();
    let report = audit_bundle_json(&bytes, &keys, &catalogue);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{report}");
    }
    if let Some(path) = &args.html {
        let file_name = args
            .bundle
            .file_name()
            .map(|name| name.to_string_lossy().into_owned());
        let (_, page) = crate::report::draw(&bytes, &keys, Verifier::Reader, file_name)?;
        std::fs::write(path, page)
            .with_context(|| format!("writing the report {}", path.display()))?;
        eprintln!("report written to {}", path.display());
    }
    Ok(if report.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_FAILED_VERIFICATION)
    })
}

/// A key's text, given inline or in a file.
/// The bundle's bytes and the verifier keys named on the command line
/// (`verify` and `report` read them the same way).
pub fn read_bundle_and_keys(
    bundle: &std::path::Path,
    keys: &[String],
) -> anyhow::Result<(Vec<u8>, Vec<VerifierKey>)> {
    let keys = keys
        .iter()
        .map(|key| read_key(key))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let bytes = std::fs::read(bundle)
        .with_context(|| format!("reading the bundle {}", bundle.display()))?;
    Ok((bytes, keys))
}

pub fn read_key(key: &str) -> anyhow::Result<VerifierKey> {
    let text = if std::path::Path::new(key).is_file() {
        std::fs::read_to_string(key).with_context(|| format!("reading the key file {key}"))?
    } else {
        key.to_owned()
    };
    text.trim().parse().map_err(|error| {
        anyhow::anyhow!(
            "`{key}` is not a verifier key (origin+keyid+base64) or a file holding one: {error}"
        )
    })
}
