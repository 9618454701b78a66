//! The report's only styling: inline CSS, system fonts, readable on screen
//! and on A4 paper, with the verdicts in large type.

/// The report's style sheet, placed in a `<style>` element.
pub const STYLE: &str = r#"
:root { --ok: #0b5d1e; --ok-bg: #e3f3e6; --bad: #8f1111; --bad-bg: #fbe5e5; --rule: #c8ccd2; --muted: #4a4f57; }
* { box-sizing: border-box; }
html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body { margin: 0 auto; max-width: 1200px; padding: 24px 32px 48px; color: #111; background: #fff;
       font-family: "DejaVu Sans", "Liberation Sans", Arial, Helvetica, sans-serif; font-size: 16px; line-height: 1.45; }
h1 { font-size: 32px; margin: 0 0 8px; line-height: 1.2; }
h2 { font-size: 26px; margin: 36px 0 12px; padding-bottom: 4px; border-bottom: 3px solid #111; }
h3 { font-size: 21px; margin: 24px 0 8px; }
h4 { font-size: 17px; margin: 18px 0 6px; }
p { margin: 6px 0; }
a { color: #0b3d91; }
code, .mono { font-family: "DejaVu Sans Mono", "Liberation Mono", monospace; font-size: 14px; overflow-wrap: anywhere; }
.scope { font-size: 26px; font-weight: bold; margin: 4px 0 6px; }
.meta { color: var(--muted); font-size: 15px; }
/* Verdicts carry a bar at the left, not a box: a frame around large words
   makes OCR take them for a picture. */
.verdict { margin: 20px 0; padding: 16px 24px; border-left: 14px solid; border-radius: 4px; }
.verdict .word { font-size: 60px; font-weight: bold; letter-spacing: 2px; line-height: 1.1; }
.verdict .why { font-size: 19px; margin-top: 6px; }
.verified { color: var(--ok); background: var(--ok-bg); border-color: var(--ok); }
.failed { color: var(--bad); background: var(--bad-bg); border-color: var(--bad); }
.findings { font-size: 18px; margin: 8px 0 0; padding-left: 24px; color: #111; }
.answer { display: inline-block; font-size: 44px; font-weight: bold; letter-spacing: 1px; padding: 4px 18px;
          border-left: 10px solid; border-radius: 4px; line-height: 1.15; }
.allowed { color: var(--ok); background: var(--ok-bg); border-color: var(--ok); }
.refused { color: var(--bad); background: var(--bad-bg); border-color: var(--bad); }
.glance { padding: 12px 0 8px; border-top: 1px solid var(--rule); }
.glance .question { font-size: 19px; margin: 8px 0 4px; }
.glance .cites { font-size: 18px; margin: 4px 0; padding-left: 20px; }
.glance .answer { font-size: 36px; }
.warning { color: var(--bad); font-weight: bold; }
.note { color: var(--ok); font-weight: bold; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 4px 18px; margin: 8px 0; font-size: 17px; }
dl.facts dt { font-weight: bold; }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
table.data { width: 100%; border-collapse: collapse; margin: 8px 0 16px; font-size: 15px; }
table.data th, table.data td { text-align: left; vertical-align: top; padding: 6px 8px; border: 1px solid var(--rule); }
table.data th { background: #eef0f3; }
table.data tr:target td, .timeline tr:target td { background: #fff6cc; }
.headline { font-weight: bold; font-size: 17px; }
.details { margin: 2px 0 0; padding-left: 18px; color: #222; }
.source { color: var(--muted); font-size: 14px; }
.outcome-satisfied { color: var(--ok); font-weight: bold; }
.outcome-failed, .outcome-blocked { color: var(--bad); font-weight: bold; }
.outcome-not-applicable { color: var(--muted); }
.citation { font-weight: bold; }
section.decision { border: 2px solid var(--rule); border-radius: 6px; padding: 4px 20px 12px; margin: 20px 0; }
.status { margin: 16px 0 8px; }
.status h2 { font-size: 28px; border-bottom: none; margin: 16px 0 6px; }
.status-line { padding: 8px 0 6px; border-top: 1px solid var(--rule); }
.status-line .channel { font-size: 21px; margin: 0; }
.status-line .reasons { font-size: 17px; margin: 4px 0; padding-left: 24px; }
.allowed-word { color: var(--ok); font-weight: bold; }
.refused-word { color: var(--bad); font-weight: bold; }
.counts { font-size: 22px; }
td.count { text-align: right; font-variant-numeric: tabular-nums; }
.verified-by { font-size: 16px; color: #111; margin-top: 10px; }
.group { border-top: 1px solid var(--rule); padding: 6px 0; }
.recipients { font-size: 13px; }
pre.command { background: #eef0f3; padding: 8px 12px; border-radius: 4px; overflow-x: auto; }
footer { margin-top: 40px; color: var(--muted); font-size: 14px; border-top: 1px solid var(--rule); padding-top: 8px; }
@page { size: A4; margin: 14mm; }
@media print {
  body { max-width: none; padding: 0; font-size: 11pt; }
  h2 { break-after: avoid; }
  section.decision, .verdict, tr { break-inside: avoid; }
  a { color: inherit; text-decoration: none; }
}
"#;
