//! `consent-ledger replay`: decide the whole history again under another
//! rule set or another similarity map, and report what changes.
//!
//! Reads the log directly, from offset 0 of every event-family
//! topic-partition up to the end offsets seen at start, and folds it in
//! memory (`consent_replay::Replayer`). It never opens the view and never
//! appends: nothing it does changes the live ledger. On Kafka it runs while
//! the ledger serves. The embedded log admits one process at a time (a lock
//! file in `DATA_DIR/log`), so there the ledger must be stopped first.

use crate::check::ChannelArg;
use crate::settings::StorageArgs;
use anyhow::{bail, Context};
use consent_domain::rules::RuleCatalogue;
use consent_domain::vocabulary::Channel;
use consent_domain::Timestamp;
use consent_log::{EndOffsets, StartOffsets, TopicPartition};
use consent_replay::{
    render_summary, CharitableSendReading, EligibilityQuestions, Questions, ReplayPlan, Replayer,
    RuleSelection,
};
use indicatif::{ProgressBar, ProgressStyle};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Records asked for per read.
const BATCH: usize = 2_000;
/// How long one read waits when nothing is available.
const READ_WAIT: Duration = Duration::from_millis(500);
/// Give up on partitions that deliver nothing for this long before their
/// end offset (a Kafka partition whose last offsets are gaps).
const STALL_LIMIT: Duration = Duration::from_secs(30);

#[derive(clap::Args)]
pub struct ReplayArgs {
    #[command(flatten)]
    pub storage: StorageArgs,
    /// The rule set to compare against the baseline (default: the one in force at each decision's time).
    #[arg(long)]
    pub candidate_rule_set: Option<String>,
    /// The rule set the history is compared with (default: the one in force at each decision's time, as the ledger decided).
    #[arg(long)]
    pub baseline_rule_set: Option<String>,
    /// JSON file of organisation id -> consent.v1.ProductCategoriesDefined (proto3 JSON): these maps replace the organisations' own, for the candidate only.
    #[arg(long)]
    pub similarity: Option<PathBuf>,
    /// Also ask, for every organisation and subject, whether they may be marketed to at this time (RFC 3339), on each --eligibility-channel.
    #[arg(long)]
    pub as_of: Option<String>,
    /// Channels for the --as-of questions; repeatable.
    #[arg(long = "eligibility-channel", value_enum, default_values_t = [ChannelArg::Email, ChannelArg::Sms])]
    pub eligibility_channels: Vec<ChannelArg>,
    /// Do not replay the recorded sends (only the --as-of questions).
    #[arg(long)]
    pub skip_sends: bool,
    /// Read no recorded send as solely for charitable purposes, so the charity soft opt-in never holds for a replayed send.
    #[arg(long, conflicts_with = "charitable_purpose_is_sole")]
    pub charitable_sends_not_sole: bool,
    /// Also read a send whose purpose is charitable as solely charitable (for sends recorded before `soleCharitablePurpose` existed).
    #[arg(long)]
    pub charitable_purpose_is_sole: bool,
    /// Samples kept per kind of change.
    #[arg(long, default_value_t = consent_replay::DEFAULT_SAMPLES_PER_KIND)]
    pub samples: usize,
    /// Write the JSON report here.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Keep the candidate and its report as a side view in this (new)
    /// directory, for review and `consent-ledger promote`.
    #[arg(long)]
    pub side_view: Option<PathBuf>,
}

impl ReplayArgs {
    fn plan(&self) -> anyhow::Result<ReplayPlan> {
        let selection = |id: &Option<String>| {
            id.as_deref()
                .map_or(RuleSelection::InForce, RuleSelection::named)
        };
        let mut plan = ReplayPlan::new(
            selection(&self.baseline_rule_set),
            selection(&self.candidate_rule_set),
        );
        if let Some(path) = &self.similarity {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            plan.similarity_overrides = consent_replay::parse_similarity_overrides(&text)
                .with_context(|| format!("in {}", path.display()))?;
        }
        let eligibility = match &self.as_of {
            Some(text) => Some(EligibilityQuestions {
                as_of: Timestamp::parse_rfc3339(text).with_context(|| {
                    format!("--as-of `{text}` is not an RFC 3339 time such as 2026-04-01T00:00:00Z")
                })?,
                channels: self
                    .eligibility_channels
                    .iter()
                    .map(|c| channel(*c))
                    .collect(),
            }),
            None => None,
        };
        plan.questions = Questions {
            sends: !self.skip_sends,
            charitable_sends: if self.charitable_sends_not_sole {
                CharitableSendReading::NeverSole
            } else if self.charitable_purpose_is_sole {
                CharitableSendReading::RecordedPurposeIsSole
            } else {
                CharitableSendReading::Recorded
            },
            eligibility,
        };
        if !plan.questions.sends && plan.questions.eligibility.is_none() {
            bail!("nothing to replay: --skip-sends without --as-of asks no question");
        }
        plan.samples_per_kind = self.samples;
        if plan.baseline == plan.candidate && plan.similarity_overrides.is_empty() {
            tracing::warn!(
                baseline = %plan.baseline,
                "the candidate is the baseline and no --similarity is given: nothing can change"
            );
        }
        Ok(plan)
    }
}

fn channel(arg: ChannelArg) -> Channel {
    match arg {
        ChannelArg::Email => Channel::Email,
        ChannelArg::Sms => Channel::Sms,
        ChannelArg::LiveCall => Channel::LiveCall,
        ChannelArg::AutomatedCall => Channel::AutomatedCall,
        ChannelArg::Post => Channel::Post,
    }
}

pub async fn run(args: ReplayArgs) -> anyhow::Result<std::process::ExitCode> {
    let plan = args.plan()?;
    let mut replayer = Replayer::new(plan, RuleCatalogue::uk())?;

    if args.storage.kafka_brokers.is_none() {
        // Opening the embedded log creates it when absent; a replay must
        // not leave an empty log behind a mistyped --data-dir.
        let layout_file = args.storage.data_dir.join("log").join("layout.json");
        if !layout_file.exists() {
            bail!(
                "no embedded log in {} (no {}); give the ledger's --data-dir, or --kafka-brokers",
                args.storage.data_dir.display(),
                layout_file.display()
            );
        }
    }
    let log = args.storage.open_log().await.context(
        "cannot open the log for replay (the embedded log admits one process at a time: stop \
         `consent-ledger serve` on this data directory first; on Kafka a replay runs alongside)",
    )?;
    let ends: EndOffsets = log
        .end_offsets()
        .await
        .context("reading the log's end offsets")?;
    let mut pending: BTreeMap<TopicPartition, u64> = ends
        .iter()
        .filter(|(_, end)| **end > 0)
        .map(|(tp, end)| (tp.clone(), *end))
        .collect();
    let total: u64 = pending.values().sum();
    let start: StartOffsets = pending.keys().map(|tp| (tp.clone(), 0)).collect();
    tracing::info!(
        records = total,
        partitions = pending.len(),
        "replaying the log up to its end offsets at start"
    );

    let bar = ProgressBar::new(total);
    if let Ok(style) = ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] [{bar:40}] {pos}/{len} records ({per_sec}, {eta}) {msg}",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    let mut rejected = 0_u64;
    let mut last_progress = Instant::now();
    if !pending.is_empty() {
        let mut reader = log.reader(start).await.context("opening a log reader")?;
        while !pending.is_empty() {
            let batch = reader
                .next_batch(BATCH, READ_WAIT)
                .await
                .context("reading the log")?;
            if batch.is_empty() {
                if last_progress.elapsed() > STALL_LIMIT {
                    let stalled: Vec<String> = pending
                        .iter()
                        .map(|(tp, end)| format!("{tp} (end {end})"))
                        .collect();
                    tracing::warn!(
                        partitions = %stalled.join(", "),
                        "no records for {}s before the end offsets; replaying what was read",
                        STALL_LIMIT.as_secs()
                    );
                    break;
                }
                continue;
            }
            last_progress = Instant::now();
            for record in batch {
                let topic_partition = record.position.topic_partition();
                let Some(&end) = pending.get(&topic_partition) else {
                    continue;
                };
                if record.position.offset >= end {
                    // Appended after the replay started: not part of it.
                    pending.remove(&topic_partition);
                    continue;
                }
                let position = consent_schema::event_position(&record.position);
                if consent_schema::is_ledger_record_key(&record.key) {
                    // Not a fact (the contact-digest key's fingerprint).
                } else if let Err(error) = replayer.apply_stored(position, &record.payload) {
                    rejected += 1;
                    tracing::warn!(%error, "record skipped");
                }
                bar.inc(1);
                if record.position.offset + 1 >= end {
                    pending.remove(&topic_partition);
                }
            }
            bar.set_message(format!("{rejected} rejected"));
        }
    }
    bar.finish();

    let deciding = ProgressBar::new_spinner();
    deciding.set_message("deciding every question under the baseline and the candidate");
    deciding.enable_steady_tick(Duration::from_millis(120));
    let report = tokio::task::spawn_blocking(move || replayer.report())
        .await
        .context("the replay's decisions failed")?;
    deciding.finish_and_clear();

    if let Some(path) = &args.out {
        let json = serde_json::to_vec_pretty(&report).context("serialising the report")?;
        std::fs::write(path, json).with_context(|| format!("writing {}", path.display()))?;
        tracing::info!(path = %path.display(), "replay report written");
    }
    let mut summary = render_summary(&report);
    if let Some(path) = &args.out {
        summary.push_str(&format!("Report written to {}\n", path.display()));
    }
    if let Some(dir) = &args.side_view {
        let path = crate::side_view::write(
            dir,
            args.candidate_rule_set.clone(),
            args.baseline_rule_set.clone(),
            args.similarity.as_deref(),
            &ends,
            report,
        )?;
        summary.push_str(&format!(
            "Side view written to {} (promote its similarity maps with `consent-ledger promote {}`)\n",
            path.display(),
            dir.display()
        ));
    }
    print_to_stdout(&summary)?;
    Ok(std::process::ExitCode::SUCCESS)
}

/// Prints `text`; a reader that closed the pipe early (`| head`) is not an
/// error.
fn print_to_stdout(text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(error) if error.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(error).context("writing the summary to standard output")
        }
        _ => Ok(()),
    }
}
