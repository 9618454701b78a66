//! Side views: a replay's candidate, kept beside the live ledger, and its
//! promotion to live.
//!
//! `replay --side-view DIR` writes `DIR/side-view.json`: the candidate (rule
//! set and similarity maps), the log offsets it was replayed up to, and the
//! replay's report (how many decisions change, by organisation, channel and
//! reason, with samples). Nothing in the live view or the log changes.
//!
//! `promote DIR` makes the candidate's similarity maps live the only way
//! the ledger's answers may change: as facts in the log. It appends one
//! `ProductCategoriesDefined` per organisation, effective from
//! `--effective-from` (default now), in one request validated as a whole.
//! Each organisation's map is one record, so it takes effect atomically
//! (every check at or after the effective time sees the whole new map;
//! none sees half of it), and the event ids are derived from the side view
//! and the organisation, so promoting again (after a timeout, say) adds
//! nothing twice. History before the effective time keeps the map it had:
//! facts are effective-dated, and evidence for past decisions still
//! recomputes. Rule sets are not promoted: the catalogue selects them by
//! their legal commencement dates (the charity soft opt-in applies from 5
//! Feb 2026 without any promotion); a side view with a candidate rule set
//! documents what that law changes.

use crate::client::{LedgerClient, ServerArgs};
use anyhow::{bail, Context};
use consent_log::EndOffsets;
use consent_replay::ReplayReport;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

pub const SIDE_VIEW_FORMAT_V1: &str = "consent-ledger side view v1";
const SIDE_VIEW_FILE: &str = "side-view.json";

/// What `replay --side-view` writes.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SideView {
    pub format: String,
    /// The candidate's rule set (`None`: the one in force at each time).
    pub candidate_rule_set: Option<String>,
    pub baseline_rule_set: Option<String>,
    /// Organisation id -> `consent.v1.ProductCategoriesDefined` (proto3
    /// JSON), as given to `--similarity`.
    pub similarity: BTreeMap<String, Value>,
    /// The log's end offsets the replay read up to.
    pub replayed_up_to: BTreeMap<String, u64>,
    pub report: ReplayReport,
}

/// Writes the side view into `dir` (created; refused when it holds one).
pub fn write(
    dir: &Path,
    candidate_rule_set: Option<String>,
    baseline_rule_set: Option<String>,
    similarity: Option<&Path>,
    ends: &EndOffsets,
    report: ReplayReport,
) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let path = dir.join(SIDE_VIEW_FILE);
    if path.exists() {
        bail!(
            "{} already holds a side view; give another directory",
            dir.display()
        );
    }
    let similarity = match similarity {
        Some(file) => serde_json::from_slice(
            &std::fs::read(file).with_context(|| format!("reading {}", file.display()))?,
        )
        .with_context(|| format!("{} is not a JSON object of maps", file.display()))?,
        None => BTreeMap::new(),
    };
    let side_view = SideView {
        format: SIDE_VIEW_FORMAT_V1.to_owned(),
        candidate_rule_set,
        baseline_rule_set,
        similarity,
        replayed_up_to: ends
            .iter()
            .map(|(tp, end)| (tp.to_string(), *end))
            .collect(),
        report,
    };
    let temporary = dir.join(".side-view.json.tmp");
    std::fs::write(&temporary, serde_json::to_vec_pretty(&side_view)?)
        .with_context(|| format!("writing {}", temporary.display()))?;
    std::fs::rename(&temporary, &path).with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

#[derive(clap::Args)]
pub struct PromoteArgs {
    #[command(flatten)]
    pub server: ServerArgs,
    /// The side view directory `replay --side-view` wrote.
    pub side_view: PathBuf,
    /// When the promoted maps take effect (RFC 3339; default: now).
    #[arg(long)]
    pub effective_from: Option<String>,
    /// Show the facts that would be appended, append nothing.
    #[arg(long)]
    pub dry_run: bool,
}

pub async fn promote(args: PromoteArgs) -> anyhow::Result<ExitCode> {
    let path = args.side_view.join(SIDE_VIEW_FILE);
    let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
    let side_view: SideView = serde_json::from_slice(&bytes)
        .with_context(|| format!("{} is not a side view", path.display()))?;
    if side_view.format != SIDE_VIEW_FORMAT_V1 {
        bail!(
            "{} is a {:?}, not a {SIDE_VIEW_FORMAT_V1}",
            path.display(),
            side_view.format
        );
    }
    if let Some(rule_set) = &side_view.candidate_rule_set {
        eprintln!(
            "note: the candidate rule set {rule_set} is not promoted: rule sets apply from their legal \
             commencement dates (see `consent-ledger rule-sets`); only similarity maps are facts to record"
        );
    }
    if side_view.similarity.is_empty() {
        bail!("the side view changes no similarity map, so there is nothing to promote");
    }
    let effective_from = match &args.effective_from {
        Some(at) => at.clone(),
        None => now_rfc3339(),
    };
    let digest = Sha256::digest(&bytes);
    let evidence = format!("side view sha256 {}", hex(&digest));
    let events: Vec<Value> = side_view
        .similarity
        .iter()
        .map(|(organisation, map)| {
            json!({
                "eventId": promotion_event_id(&digest, organisation, &effective_from),
                "organisationId": organisation,
                "occurredAt": effective_from,
                "source": {"system": "consent-ledger promote", "evidenceRef": evidence},
                "productCategoriesDefined": map,
            })
        })
        .collect();
    if args.dry_run {
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({ "events": events }))?
        );
        return Ok(ExitCode::SUCCESS);
    }
    let client = LedgerClient::new(&args.server)?;
    let appended = client
        .post("/v1/events", &json!({ "events": events }))
        .await?;
    for (organisation, appended) in side_view
        .similarity
        .keys()
        .zip(appended["appended"].as_array().into_iter().flatten())
    {
        println!(
            "{organisation}: similarity map live from {effective_from} (event {}, at {})",
            appended["eventId"].as_str().unwrap_or("?"),
            appended["position"]
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// The same side view, organisation and time always give the same id.
fn promotion_event_id(side_view_digest: &[u8], organisation: &str, effective_from: &str) -> String {
    let digest = Sha256::new()
        .chain_update(b"consent-ledger promote\x1f")
        .chain_update(side_view_digest)
        .chain_update(organisation.as_bytes())
        .chain_update(b"\x1f")
        .chain_update(effective_from.as_bytes())
        .finalize();
    let mut bytes = [0_u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes)
        .into_uuid()
        .to_string()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn now_rfc3339() -> String {
    use consent_service::Clock;
    consent_service::SystemClock.now().to_string()
}
