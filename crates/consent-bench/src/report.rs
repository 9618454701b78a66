//! docs/PERFORMANCE.md, written from one run's outcomes.

use crate::measure::Machine;
use crate::outcome::{format_value, Outcome};
use std::fmt::Write as _;

pub struct RunInfo {
    pub command: String,
    pub subjects: u64,
    pub events: u64,
    pub organisations: u32,
    pub seed: u64,
    pub raw_bytes: u64,
    pub generate_seconds: f64,
    pub append_seconds: f64,
    pub total_seconds: f64,
}

pub fn markdown(machine: &Machine, run: &RunInfo, outcomes: &[Outcome], analysis: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Performance\n");
    let _ = writeln!(
        out,
        "Measured by `{}` ({} s in all), written by `consent-bench`. The machines are noisy: the ratios to the raw baselines, measured in the same run, hold better than the absolute figures.\n",
        run.command,
        format_value(run.total_seconds)
    );
    let _ = writeln!(out, "## The machine and the data\n");
    let _ = writeln!(out, "| | |\n|---|---|");
    let _ = writeln!(out, "| CPUs (nproc) | {} |", machine.cpus);
    let _ = writeln!(out, "| CPU model | {} |", machine.cpu_model);
    let _ = writeln!(
        out,
        "| memory | {:.1} GiB |",
        machine.memory_bytes as f64 / (1u64 << 30) as f64
    );
    let _ = writeln!(out, "| kernel | {} |", machine.kernel);
    let _ = writeln!(
        out,
        "| data set | seed {}, {} subjects, {} organisations, {} events (`consent-ledger generate --seed {} --subjects {} --events {}`) |",
        run.seed,
        format_value(run.subjects as f64),
        run.organisations,
        format_value(run.events as f64),
        run.seed,
        run.subjects,
        run.events
    );
    let _ = writeln!(
        out,
        "| raw event bytes | {} bytes in all, {:.1} per event (encoded envelopes) |",
        format_value(run.raw_bytes as f64),
        run.raw_bytes as f64 / run.events.max(1) as f64
    );
    let _ = writeln!(
        out,
        "| generating / appending to the embedded log | {} s / {} s |",
        format_value(run.generate_seconds),
        format_value(run.append_seconds)
    );
    let _ = writeln!(out, "\n## Targets\n");
    let _ = writeln!(
        out,
        "| benchmark | ratio to its raw baseline | target | met |\n|---|---|---|---|"
    );
    for outcome in outcomes {
        let ratio = outcome.ratio.map_or("-".to_owned(), |r| format!("{r:.2}x"));
        let met = match (&outcome.skipped, outcome.met) {
            (Some(_), _) => "not run".to_owned(),
            (None, Some(true)) => "**yes**".to_owned(),
            (None, Some(false)) => "**no**".to_owned(),
            (None, None) => "-".to_owned(),
        };
        let _ = writeln!(
            out,
            "| {} | {ratio} | {} | {met} |",
            outcome.title,
            outcome.target.as_deref().unwrap_or("(reported)")
        );
    }
    let _ = writeln!(out, "\n## Figures\n");
    for outcome in outcomes {
        let _ = writeln!(out, "### {}\n", outcome.title);
        if let Some(why) = &outcome.skipped {
            let _ = writeln!(out, "Not run: {why}\n");
            continue;
        }
        let _ = writeln!(out, "| figure | value | unit |\n|---|---:|---|");
        for figure in &outcome.figures {
            let _ = writeln!(
                out,
                "| {} | {} | {} |",
                figure.name,
                format_value(figure.value),
                figure.unit
            );
        }
        if let (Some(ratio), Some(baseline)) = (outcome.ratio, &outcome.baseline) {
            let _ = writeln!(out, "\nRatio **{ratio:.2}x** against {baseline}.");
        }
        for note in &outcome.notes {
            let _ = writeln!(out, "\n{note}.");
        }
        let _ = writeln!(out);
    }
    if !analysis.is_empty() {
        let _ = writeln!(out, "{analysis}");
    }
    out
}
