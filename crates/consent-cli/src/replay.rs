//! `consent-ledger replay`: decide the whole history again under another
//! rule set or another similarity map, and report what changes.
//!
//! Reads the log directly, from offset 0 of every event-family
//! topic-partition up to the end offsets seen at start, in bounded memory
//! (`consent_replay_runner`: the reference topic first, then each subject
//! partition on a worker thread, grouped by subject with an external
//! sort). `--partitions` splits it across instances; `replay merge` joins
//! their reports. It never opens the view and never
//! appends: nothing it does changes the live ledger. On Kafka it runs while
//! the ledger serves. The embedded log admits one process at a time (a lock
//! file in `DATA_DIR/log`), so there the ledger must be stopped first.

use crate::check::ChannelArg;
use crate::settings::StorageArgs;
use anyhow::{bail, Context};
use consent_domain::rules::RuleCatalogue;
use consent_domain::vocabulary::Channel;
use consent_domain::Timestamp;
use consent_replay::{
    render_summary, CharitableSendReading, EligibilityQuestions, Questions, ReplayPlan,
    ReplayReport, RuleSelection,
};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::PathBuf;
use std::time::Duration;

#[derive(clap::Subcommand)]
pub enum ReplayCommand {
    /// Merge the reports of instances that each replayed some partitions
    /// (`--own-partitions`) into one; refuses reports of different plans, and
    /// partitions replayed twice or by no report.
    Merge(MergeArgs),
}

#[derive(clap::Args)]
pub struct MergeArgs {
    /// The reports (`replay --own-partitions ... --out FILE`), one per instance.
    #[arg(required = true)]
    pub reports: Vec<PathBuf>,
    /// Write the merged JSON report here.
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ReplayArgs {
    #[command(subcommand)]
    pub command: Option<ReplayCommand>,
    #[command(flatten)]
    pub storage: StorageArgs,
    /// Replay only this organisation's facts and questions; repeatable.
    #[arg(long = "organisation")]
    pub organisations: Vec<String>,
    /// Write every changed decision here, one JSON object per line (NDJSON).
    #[arg(long)]
    pub changes: Option<PathBuf>,
    /// Worker threads, one subject partition at a time each (default: the available cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Memory per worker for grouping a partition's records by subject; beyond it, sorted runs go to temporary files.
    #[arg(long, default_value_t = 8)]
    pub sort_memory_mib: usize,
    /// Directory for the sort's temporary files (default: the system's temporary directory).
    #[arg(long)]
    pub spill_dir: Option<PathBuf>,
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
        for organisation in &self.organisations {
            if organisation.trim().is_empty() {
                bail!("--organisation must name an organisation id");
            }
            plan.organisations
                .insert(consent_domain::OrganisationId::new(organisation.as_str()));
        }
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

/// Tells the terminal how the replay goes.
struct Bar(ProgressBar);

impl consent_replay_runner::Progress for Bar {
    fn start(&self, total: u64) {
        self.0.set_length(total);
    }
    fn read(&self, records: u64) {
        self.0.inc(records);
    }
    fn phase(&self, what: &str) {
        self.0.set_message(match what {
            "reference" => "reading the reference topic (organisations, addresses)".to_owned(),
            "subjects" => "replaying the subjects' partitions".to_owned(),
            other => other.to_owned(),
        });
    }
}

pub async fn run(args: ReplayArgs) -> anyhow::Result<std::process::ExitCode> {
    if let Some(ReplayCommand::Merge(merge)) = &args.command {
        return merge_reports(merge);
    }
    let plan = args.plan()?;

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
    let mut config = consent_replay_runner::RunnerConfig::new(plan, RuleCatalogue::uk());
    // `--own-partitions`: this instance replays the subjects of these
    // partitions (the reference topic is always read whole), and its
    // report names them for `replay merge`.
    if let consent_projector::OwnedPartitions::Only(partitions) = &args.storage.own_partitions {
        config.partitions = Some(partitions.clone());
    }
    if let Some(threads) = args.threads {
        if threads == 0 {
            bail!("--threads must be at least 1");
        }
        config.threads = threads;
    }
    if args.sort_memory_mib == 0 {
        bail!("--sort-memory-mib must be at least 1");
    }
    config.run_bytes = args.sort_memory_mib.saturating_mul(1024 * 1024);
    config.spill_dir = args.spill_dir.clone();
    config.changes = args.changes.clone();
    tracing::info!(
        threads = config.threads,
        partitions = ?config.partitions,
        organisations = ?config.plan.organisations,
        "replaying the log up to its end offsets at start"
    );

    let bar = ProgressBar::new(0);
    if let Ok(style) = ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] [{bar:40}] {pos}/{len} records ({per_sec}, {eta}) {msg}",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.enable_steady_tick(Duration::from_millis(200));
    let runtime = tokio::runtime::Handle::current();
    let progress = Bar(bar.clone());
    let outcome = tokio::task::spawn_blocking(move || {
        consent_replay_runner::run(&runtime, log, config, &progress)
    })
    .await
    .context("the replay failed")?
    .context("the replay failed")?;
    bar.finish_and_clear();
    let ends = outcome.end_offsets;
    let report = outcome.report;

    if let Some(path) = &args.out {
        write_report(path, &report)?;
    }
    let mut summary = render_summary(&report);
    if let Some(path) = &args.out {
        summary.push_str(&format!("Report written to {}\n", path.display()));
    }
    if let Some(path) = &args.changes {
        summary.push_str(&format!(
            "{} changed decisions written to {}\n",
            outcome.changes_written,
            path.display()
        ));
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

fn write_report(path: &std::path::Path, report: &ReplayReport) -> anyhow::Result<()> {
    let json = serde_json::to_vec_pretty(report).context("serialising the report")?;
    std::fs::write(path, json).with_context(|| format!("writing {}", path.display()))?;
    tracing::info!(path = %path.display(), "replay report written");
    Ok(())
}

/// `consent-ledger replay merge`: the reports of instances that each
/// replayed some partitions, as one.
fn merge_reports(args: &MergeArgs) -> anyhow::Result<std::process::ExitCode> {
    let mut reports = Vec::with_capacity(args.reports.len());
    for path in &args.reports {
        let text =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        let report: ReplayReport = serde_json::from_slice(&text)
            .with_context(|| format!("{} is not a replay report (JSON)", path.display()))?;
        reports.push(report);
    }
    let merged = ReplayReport::merge(reports).map_err(|error| {
        let named = args
            .reports
            .iter()
            .enumerate()
            .map(|(i, p)| format!("report {i} is {}", p.display()))
            .collect::<Vec<_>>()
            .join(", ");
        anyhow::anyhow!("cannot merge the reports: {error} ({named})")
    })?;
    write_report(&args.out, &merged)?;
    let mut summary = render_summary(&merged);
    summary.push_str(&format!(
        "Merged report written to {}\n",
        args.out.display()
    ));
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
