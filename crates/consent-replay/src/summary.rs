//! A replay report as plain text: a few lines per group, for a person to
//! read before opening the JSON.

use crate::question::QuestionRef;
use crate::report::{ChangeCounts, ChangeSample, ReplayReport};
use std::fmt::Write;

/// Rows shown per group (organisations, channels, rules, reasons); the JSON
/// report has them all.
const ROWS_PER_GROUP: usize = 10;

/// Renders the report's headline numbers, the groups with changes, and the
/// samples. Plain text, no colour, lines under 120 columns except long ids.
pub fn render_summary(report: &ReplayReport) -> String {
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = write_summary(&mut out, report);
    out
}

fn write_summary(out: &mut String, report: &ReplayReport) -> std::fmt::Result {
    writeln!(out, "Replay")?;
    writeln!(out, "  baseline:  {}", report.baseline)?;
    let overrides = if report.similarity_overrides.is_empty() {
        String::new()
    } else {
        let names: Vec<&str> = report
            .similarity_overrides
            .iter()
            .map(|o| o.as_str())
            .collect();
        format!(
            ", with the similarity maps of {} replaced",
            names.join(", ")
        )
    };
    writeln!(out, "  candidate: {}{overrides}", report.candidate)?;
    let mut asked = Vec::new();
    if report.questions.sends {
        asked.push("every recorded send".to_owned());
    }
    if let Some(eligibility) = &report.questions.eligibility {
        let channels: Vec<&str> = eligibility.channels.iter().map(|c| c.as_str()).collect();
        asked.push(format!(
            "eligibility at {} on {}",
            eligibility.as_of,
            channels.join(", ")
        ));
    }
    writeln!(out, "  questions: {}", asked.join("; "))?;

    let input = &report.input;
    writeln!(
        out,
        "Input: {} events ({} duplicate and {} conflicting deliveries), {} records rejected; \
         {} organisations, {} subjects, {} sends",
        input.events,
        input.duplicates,
        input.conflicts,
        input.rejected,
        input.organisations,
        input.subjects,
        input.sends
    )?;
    for rejected in &report.rejected_samples {
        let at = rejected
            .position
            .as_ref()
            .map_or_else(|| "(no position)".to_owned(), ToString::to_string);
        writeln!(out, "  rejected {at}: {}", rejected.reason)?;
    }

    let totals = &report.totals;
    writeln!(
        out,
        "Decisions: {} evaluated, {} unchanged ({} for different reasons), {} refused -> allowed, \
         {} allowed -> refused, {} basis changed",
        totals.evaluated,
        totals.unchanged,
        totals.unchanged_reasons_differ,
        totals.refused_to_allowed,
        totals.allowed_to_refused,
        totals.basis_changed
    )?;
    for (why, n) in &report.not_evaluated {
        writeln!(out, "  not evaluated: {n} ({why})")?;
    }

    group(
        out,
        "By question",
        report.by_question.iter().map(|(k, c)| (k.as_str(), c)),
    )?;
    group(
        out,
        "By organisation",
        report.by_organisation.iter().map(|(k, c)| (k.as_str(), c)),
    )?;
    group(
        out,
        "By channel",
        report.by_channel.iter().map(|(k, c)| (k.as_str(), c)),
    )?;

    if !report.by_rule.is_empty() {
        writeln!(out, "Rules whose outcome changed (changed decisions):")?;
        let mut rules: Vec<(&String, &u64)> = report.by_rule.iter().collect();
        rules.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        for (rule, n) in rules.into_iter().take(ROWS_PER_GROUP) {
            writeln!(out, "  {rule:<40} {n}")?;
        }
    }
    if !report.by_reason.is_empty() {
        writeln!(out, "Reasons against (changed decisions):")?;
        let mut reasons: Vec<_> = report.by_reason.iter().collect();
        reasons.sort_by(|a, b| {
            let size = |s: &crate::report::ReasonShift| s.no_longer_against + s.newly_against;
            size(b.1).cmp(&size(a.1)).then(a.0.cmp(b.0))
        });
        for (code, shift) in reasons.into_iter().take(ROWS_PER_GROUP) {
            let mut parts = Vec::new();
            if shift.no_longer_against > 0 {
                parts.push(format!("no longer against {}", shift.no_longer_against));
            }
            if shift.newly_against > 0 {
                parts.push(format!("newly against {}", shift.newly_against));
            }
            writeln!(out, "  {code:<40} {}", parts.join(", "))?;
        }
    }

    let samples = &report.samples;
    for (title, list) in [
        ("refused -> allowed", &samples.refused_to_allowed),
        ("allowed -> refused", &samples.allowed_to_refused),
        ("basis changed", &samples.basis_changed),
    ] {
        if list.is_empty() {
            continue;
        }
        writeln!(out, "Samples, {title}:")?;
        for sample in list {
            write_sample(out, sample)?;
        }
    }
    Ok(())
}

/// A group's rows with changes (all rows when nothing changed, up to the
/// limit): `name  changed / evaluated  (details)`.
fn group<'a>(
    out: &mut String,
    title: &str,
    rows: impl Iterator<Item = (&'a str, &'a ChangeCounts)>,
) -> std::fmt::Result {
    let rows: Vec<(&str, &ChangeCounts)> = rows.collect();
    if rows.is_empty() {
        return Ok(());
    }
    writeln!(out, "{title} (changed / evaluated):")?;
    let mut shown: Vec<&(&str, &ChangeCounts)> = rows.iter().collect();
    shown.sort_by(|a, b| b.1.changed().cmp(&a.1.changed()).then(a.0.cmp(b.0)));
    for (name, counts) in shown.iter().take(ROWS_PER_GROUP) {
        let mut details = Vec::new();
        for (n, what) in [
            (counts.refused_to_allowed, "refused -> allowed"),
            (counts.allowed_to_refused, "allowed -> refused"),
            (counts.basis_changed, "basis changed"),
        ] {
            if n > 0 {
                details.push(format!("{n} {what}"));
            }
        }
        let details = if details.is_empty() {
            String::new()
        } else {
            format!("  ({})", details.join(", "))
        };
        let row = format!(
            "  {name:<24} {:>6} / {:<6}{details}",
            counts.changed(),
            counts.evaluated
        );
        writeln!(out, "{}", row.trim_end())?;
    }
    if rows.len() > ROWS_PER_GROUP {
        writeln!(
            out,
            "  ... {} more in the JSON report",
            rows.len() - ROWS_PER_GROUP
        )?;
    }
    Ok(())
}

fn write_sample(out: &mut String, sample: &ChangeSample) -> std::fmt::Result {
    let what = match &sample.question {
        QuestionRef::Send {
            message_id,
            event_id,
            ..
        } => {
            let message = if message_id.is_empty() {
                event_id.to_string()
            } else {
                message_id.clone()
            };
            format!("send {message}")
        }
        QuestionRef::Eligibility { .. } => "eligibility".to_owned(),
    };
    let category = sample
        .product_category
        .as_deref()
        .map(|c| format!(" {c}"))
        .unwrap_or_default();
    writeln!(
        out,
        "  {what}: {}/{} {} {}{category} at {}",
        sample.organisation, sample.subject, sample.channel, sample.purpose, sample.at
    )?;
    for (side, digest) in [
        ("baseline", &sample.baseline),
        ("candidate", &sample.candidate),
    ] {
        let answer = if digest.allowed {
            format!("allowed ({:?})", digest.lawful_basis)
        } else {
            format!("refused [{}]", digest.reasons_against.join(", "))
        };
        writeln!(out, "    {side:<9} {}: {answer}", digest.rule_set)?;
    }
    if !sample.rules_changed.is_empty() {
        writeln!(out, "    changed:  {}", sample.rules_changed.join("; "))?;
    }
    Ok(())
}
