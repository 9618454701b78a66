//! `consent-ledger report`: verifies an evidence bundle offline (as
//! `verify` does) and draws the regulator's page from the bundle itself,
//! as HTML and, with `--pdf`, as PDF through headless Chromium.
//! Exit status 0: the page is written and the bundle verified; 4: the page
//! is written and says FAILED; 1: the command could not run.

use crate::verify::{read_bundle_and_keys, EXIT_FAILED_VERIFICATION};
use anyhow::{bail, Context};
use consent_audit::{audit_bundle_json, bundle_report_html, ReportDrawing, VerifiedBy, Verifier};
use consent_domain::rules::RuleCatalogue;
use consent_evidence::{EvidenceBundle, VerificationReport, VerifierKey};
use consent_service::{Clock, SystemClock};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

/// How long Chromium may take to print one page.
const PRINT_TIMEOUT: Duration = Duration::from_secs(120);

#[derive(clap::Args)]
pub struct ReportArgs {
    /// The evidence bundle file (JSON, from `consent-ledger export`).
    pub bundle: PathBuf,
    /// A trusted verifier key, as for `verify`: the key text the ledger
    /// publishes (`origin+keyid+base64`) or a file holding it
    /// (`checkpoint.pub`). Repeat for rotated keys.
    #[arg(long = "key", visible_alias = "public-key", required = true)]
    pub keys: Vec<String>,
    /// Where to write the HTML page (default: the bundle's path with
    /// `.html`).
    #[arg(long, short)]
    pub out: Option<PathBuf>,
    /// Also print the page to this PDF file with headless Chromium.
    #[arg(long)]
    pub pdf: Option<PathBuf>,
    /// The Chromium program for `--pdf` (default: `chromium`, then
    /// `chromium-browser`, then `google-chrome` on PATH).
    #[arg(long, env = "CONSENT_CHROMIUM")]
    pub chromium: Option<PathBuf>,
}

pub async fn run(args: ReportArgs) -> anyhow::Result<ExitCode> {
    let (bytes, keys) = read_bundle_and_keys(&args.bundle, &args.keys)?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| args.bundle.with_extension("html"));
    let file_name = args
        .bundle
        .file_name()
        .map(|name| name.to_string_lossy().into_owned());
    tracing::info!(bundle = %args.bundle.display(), "verifying the bundle");
    let (verification, page) = draw(&bytes, &keys, Verifier::Reader, file_name)?;
    tracing::info!(
        passed = verification.passed(),
        records = verification.records,
        records_proven = verification.records_proven,
        decisions = verification.decisions,
        findings = verification.findings.len(),
        "verified"
    );
    std::fs::write(&out, &page).with_context(|| format!("writing the page {}", out.display()))?;
    tracing::info!(html = %out.display(), bytes = page.len(), "wrote the report");
    if let Some(pdf) = &args.pdf {
        let chromium = find_chromium(args.chromium.as_deref())?;
        tracing::info!(pdf = %pdf.display(), chromium = %chromium.display(), "printing to PDF");
        print_to_pdf(&chromium, &out, pdf).await?;
        tracing::info!(pdf = %pdf.display(), "wrote the PDF");
    }
    print!("{verification}");
    Ok(if verification.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_FAILED_VERIFICATION)
    })
}

/// Verifies a bundle file's bytes against `keys` and draws its page, now,
/// naming `verifier` and this binary's version as who checked it.
pub fn draw(
    bytes: &[u8],
    keys: &[VerifierKey],
    verifier: Verifier,
    bundle_file: Option<String>,
) -> anyhow::Result<(VerificationReport, String)> {
    let catalogue = RuleCatalogue::uk();
    let verification = audit_bundle_json(bytes, keys, &catalogue);
    let bundle = EvidenceBundle::from_json(bytes)
        .context("the bundle cannot be read, so no report can be drawn from it")?;
    let now = SystemClock.now();
    let drawing = ReportDrawing {
        produced_at: now,
        verified_by: Some(VerifiedBy {
            verifier,
            version: env!("CARGO_PKG_VERSION").to_owned(),
            ran_at: now,
            trusted_keys: keys.iter().map(VerifierKey::label).collect(),
        }),
        bundle_file,
    };
    let page = bundle_report_html(&bundle, &verification, &catalogue, &drawing);
    Ok((verification, page))
}

/// The Chromium to print with: the one named, or the first of the usual
/// names on PATH.
fn find_chromium(named: Option<&Path>) -> anyhow::Result<PathBuf> {
    if let Some(path) = named {
        if path.is_file() {
            return Ok(path.to_owned());
        }
        if let Some(found) = on_path(&path.to_string_lossy()) {
            return Ok(found);
        }
        bail!(
            "--pdf needs Chromium: --chromium / CONSENT_CHROMIUM names {}, which is not a file or a program on PATH",
            path.display()
        );
    }
    ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find_map(on_path)
        .context(
            "--pdf needs Chromium, and none of chromium, chromium-browser or google-chrome is on PATH \
             (Debian: apt-get install chromium; or name it with --chromium); the HTML page was written",
        )
}

fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// Prints `html` to `pdf` with headless Chromium (A4, the page's own
/// print style), in a throwaway profile.
async fn print_to_pdf(chromium: &Path, html: &Path, pdf: &Path) -> anyhow::Result<()> {
    let html = std::fs::canonicalize(html)
        .with_context(|| format!("finding the page {}", html.display()))?;
    let profile = tempfile::tempdir().context("creating Chromium's throwaway profile")?;
    let mut command = tokio::process::Command::new(chromium);
    command
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--no-pdf-header-footer",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--print-to-pdf={}", pdf.display()))
        .arg(format!("file://{}", html.display()))
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    let output = tokio::time::timeout(PRINT_TIMEOUT, command.output())
        .await
        .with_context(|| {
            format!(
                "{} did not print within {PRINT_TIMEOUT:?}",
                chromium.display()
            )
        })?
        .with_context(|| format!("running {}", chromium.display()))?;
    if !output.status.success() {
        bail!(
            "{} could not print the page to {} ({}): {}",
            chromium.display(),
            pdf.display(),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    let printed = std::fs::read(pdf).with_context(|| {
        format!(
            "{} printed no PDF at {}: {}",
            chromium.display(),
            pdf.display(),
            String::from_utf8_lossy(&output.stderr).trim()
        )
    })?;
    if !printed.starts_with(b"%PDF") {
        bail!("{} is not a PDF", pdf.display());
    }
    Ok(())
}
