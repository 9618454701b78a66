//! One benchmark's result: its figures, its raw baseline and the ratio to
//! it, its target and whether it was met, and what limits it.

use serde_json::{json, Value};

#[derive(Clone, Debug)]
pub struct Figure {
    pub name: String,
    pub value: f64,
    pub unit: &'static str,
}

#[derive(Clone, Debug, Default)]
pub struct Outcome {
    pub id: &'static str,
    pub title: String,
    pub figures: Vec<Figure>,
    /// What the ratio compares with, measured in the same run.
    pub baseline: Option<String>,
    pub ratio: Option<f64>,
    pub target: Option<String>,
    pub met: Option<bool>,
    /// What limits the figure, how it was measured.
    pub notes: Vec<String>,
    /// Why it did not run, when it did not.
    pub skipped: Option<String>,
}

impl Outcome {
    pub fn new(id: &'static str, title: impl Into<String>) -> Self {
        Self {
            id,
            title: title.into(),
            ..Self::default()
        }
    }

    pub fn skipped(id: &'static str, title: impl Into<String>, why: impl Into<String>) -> Self {
        Self {
            skipped: Some(why.into()),
            ..Self::new(id, title)
        }
    }

    pub fn figure(&mut self, name: impl Into<String>, value: f64, unit: &'static str) {
        self.figures.push(Figure {
            name: name.into(),
            value,
            unit,
        });
    }

    pub fn ratio(&mut self, ratio: f64, baseline: impl Into<String>) {
        self.ratio = Some(ratio);
        self.baseline = Some(baseline.into());
    }

    pub fn target(&mut self, target: impl Into<String>, met: bool) {
        self.target = Some(target.into());
        self.met = Some(met);
    }

    pub fn note(&mut self, note: impl Into<String>) {
        self.notes.push(note.into());
    }

    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "title": self.title,
            "figures": self.figures.iter().map(|f| json!({"name": f.name, "value": f.value, "unit": f.unit})).collect::<Vec<_>>(),
            "baseline": self.baseline,
            "ratio": self.ratio,
            "target": self.target,
            "met": self.met,
            "notes": self.notes,
            "skipped": self.skipped,
        })
    }
}

/// A number for a table: thousands separated, sensible decimals.
pub fn format_value(value: f64) -> String {
    if !value.is_finite() {
        return "n/a".to_owned();
    }
    if value.abs() >= 1000.0 {
        #[allow(
            clippy::cast_possible_truncation,
            reason = "a figure shown whole is far inside i64 (checked just above)"
        )]
        let whole = value.round() as i64;
        let digits = whole.unsigned_abs().to_string();
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                out.push(',');
            }
            out.push(c);
        }
        if whole < 0 {
            out.insert(0, '-');
        }
        out
    } else if value.abs() >= 10.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.2}")
    }
}
