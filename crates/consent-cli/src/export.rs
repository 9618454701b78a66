//! `consent-ledger export`: asks a running ledger for an evidence bundle
//! and writes it to a file; `consent-ledger checkpoint` signs a checkpoint
//! now and prints it.

use crate::client::{LedgerClient, ServerArgs};
use anyhow::{bail, Context};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub server: ServerArgs,
    /// The organisation whose evidence to export.
    #[arg(long)]
    pub organisation: String,
    /// Export one subject: every event, a decision for every recorded send.
    #[arg(long, conflicts_with_all = ["campaign", "from"])]
    pub subject: Option<String>,
    /// Export a campaign: a JSON file `{"subjectIds": [...], "message": CheckRequest}`
    /// (the message's channel, purpose, category and send time `at`).
    #[arg(long, conflicts_with = "from")]
    pub campaign: Option<PathBuf>,
    /// Export a time range: every subject with an event in [from, to) (RFC 3339).
    #[arg(long, requires = "to")]
    pub from: Option<String>,
    #[arg(long, requires = "from")]
    pub to: Option<String>,
    /// Decide under this rule set (default: the one in force at each time).
    #[arg(long)]
    pub rule_set: Option<String>,
    /// A file holding a checkpoint published earlier (the signed note): the
    /// bundle then proves that its checkpoint extends it.
    #[arg(long)]
    pub previous_checkpoint: Option<PathBuf>,
    /// Where to write the bundle.
    #[arg(long, short)]
    pub out: PathBuf,
    /// Also write the regulator's HTML report of this bundle to this file:
    /// drawn here from the bundle just written (so the two cannot differ),
    /// verified against the key the ledger serves.
    #[arg(long)]
    pub html: Option<PathBuf>,
}

pub async fn run(args: ExportArgs) -> anyhow::Result<ExitCode> {
    let mut request = json!({ "organisationId": args.organisation });
    if let Some(subject) = &args.subject {
        request["subject"] = json!({ "subjectId": subject });
    } else if let Some(path) = &args.campaign {
        let campaign: Value = serde_json::from_slice(
            &std::fs::read(path).with_context(|| format!("reading {}", path.display()))?,
        )
        .with_context(|| format!("{} is not JSON", path.display()))?;
        request["campaign"] = campaign;
    } else if let (Some(from), Some(to)) = (&args.from, &args.to) {
        request["timeRange"] = json!({ "from": from, "to": to });
    } else {
        bail!("say what to export: --subject, --campaign or --from/--to");
    }
    if let Some(rule_set) = &args.rule_set {
        request["ruleSetId"] = json!(rule_set);
    }
    if let Some(path) = &args.previous_checkpoint {
        request["previousCheckpoint"] =
            json!(std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?);
    }
    let client = LedgerClient::new(&args.server)?;
    let bundle = client.post("/v1/exports", &request).await?;
    let bytes = serde_json::to_vec_pretty(&bundle)?;
    std::fs::write(&args.out, &bytes).with_context(|| format!("writing {}", args.out.display()))?;
    let records = bundle["records"].as_array().map_or(0, Vec::len);
    let decisions = bundle["decisions"].as_array().map_or(0, Vec::len);
    eprintln!(
        "wrote {}: {records} records with proofs, {decisions} decisions; check it with `consent-ledger verify {} --key <the ledger's published key>`",
        args.out.display(),
        args.out.display()
    );
    if let Some(path) = &args.html {
        let key_text = client.get_text("/v1/checkpoint-key").await?;
        let key =
            crate::verify::read_key(key_text.trim()).context("the ledger's /v1/checkpoint-key")?;
        let file_name = args
            .out
            .file_name()
            .map(|name| name.to_string_lossy().into_owned());
        let (_, page) = crate::report::draw(
            &bytes,
            &[key],
            consent_audit::Verifier::ExportCommand,
            file_name,
        )?;
        std::fs::write(path, page).with_context(|| format!("writing {}", path.display()))?;
        eprintln!("wrote the report {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// `consent-ledger checkpoint`: sign a checkpoint now; prints the note.
pub async fn checkpoint(args: ServerArgs) -> anyhow::Result<ExitCode> {
    let client = LedgerClient::new(&args)?;
    let signed = client.post("/v1/checkpoints", &json!({})).await?;
    print!("{}", signed["note"].as_str().unwrap_or_default());
    Ok(ExitCode::SUCCESS)
}
