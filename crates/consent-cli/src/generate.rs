//! `consent-ledger generate`: write a deterministic, seeded data set of
//! consent facts as NDJSON (one `consent.v1.Envelope` per line), ready for
//! `consent-ledger append` or a benchmark. The same arguments write the
//! same bytes on every machine (see `consent-generator`).

use anyhow::Context;
use consent_generator::{write_ndjson, Generator, GeneratorConfig};
use indicatif::{ProgressBar, ProgressStyle};
use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct GenerateArgs {
    /// The seed: the same seed and sizes give the same file.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Subjects (people and businesses) to generate.
    #[arg(long, default_value_t = 1_000)]
    pub subjects: u64,
    /// Events in all, the organisations' own facts included.
    #[arg(long, default_value_t = 10_000)]
    pub events: u64,
    /// Organisations (default: one per 5,000 subjects, 10 to 400).
    #[arg(long)]
    pub organisations: Option<u32>,
    /// The NDJSON file to write (`-` for standard output).
    #[arg(long)]
    pub out: PathBuf,
}

pub async fn run(args: GenerateArgs) -> anyhow::Result<std::process::ExitCode> {
    tokio::task::spawn_blocking(move || generate(args))
        .await
        .context("the generator stopped unexpectedly")?
}

fn generate(args: GenerateArgs) -> anyhow::Result<std::process::ExitCode> {
    let config = GeneratorConfig {
        seed: args.seed,
        subjects: args.subjects,
        events: args.events,
        organisations: args.organisations,
    };
    let generator = Generator::new(config).context("cannot generate these sizes")?;
    let to_stdout = args.out.as_os_str() == "-";
    let mut out: Box<dyn Write> = if to_stdout {
        Box::new(BufWriter::new(std::io::stdout().lock()))
    } else {
        let file = File::create(&args.out)
            .with_context(|| format!("cannot create {}", args.out.display()))?;
        Box::new(BufWriter::with_capacity(1 << 20, file))
    };
    let bar = if !to_stdout && std::io::stderr().is_terminal() {
        let bar = ProgressBar::new(args.events);
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} {wide_bar} {pos}/{len} events ({per_sec}, {eta} left)",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar
    } else {
        ProgressBar::hidden()
    };
    let written = write_ndjson(generator, &mut out, &mut |count| bar.set_position(count))
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    out.flush()
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    bar.finish_and_clear();
    tracing::info!(
        events = written,
        subjects = args.subjects,
        organisations = config.organisation_count(),
        seed = args.seed,
        out = %args.out.display(),
        "generated the data set"
    );
    Ok(std::process::ExitCode::SUCCESS)
}
