//! Who verified the evidence, and how a reader verifies it again: the
//! exact commands, where to get the verifier and where to get the key.

use crate::model::*;
use crate::words::{self, when};
use maud::{html, Markup};

/// The bundle's file name in the commands when the caller gives none.
pub const DEFAULT_BUNDLE_FILE: &str = "BUNDLE.json";
/// The key file's name in the commands.
pub const KEY_FILE: &str = "checkpoint.pub";

/// One line under the verdict: who ran the check, with what, when and
/// against which key.
pub fn verified_by_line(context: &ReportContext) -> Markup {
    html! {
        @match &context.verified_by {
            Some(by) => {
                p.verified-by id="verified-by" {
                    @match by.verifier {
                        Verifier::ExportingLedger => {
                            "Checked by the exporting ledger (consent-ledger " (by.version) ") at " (when(by.ran_at))
                            ", against its own key " (keys(by)) ". This is the ledger checking its own signature, "
                            "not an independent check: verify it yourself with the commands at the end of this page."
                        }
                        Verifier::ExportCommand => {
                            "Checked by consent-ledger export " (by.version) " at " (when(by.ran_at))
                            ", against the key the exporting ledger served, " (keys(by)) ". This is the ledger vouching for itself, "
                            "not an independent check: verify it yourself with the commands at the end of this page."
                        }
                        Verifier::Reader => {
                            "Checked by consent-ledger " (by.version) ", run by the holder of this file, at "
                            (when(by.ran_at)) ", against the key " (keys(by)) " that they supplied."
                        }
                    }
                }
            }
            None => {
                p.verified-by id="verified-by" {
                    "Who ran this check is not stated: verify it yourself with the commands at the end of this page."
                }
            }
        }
    }
}

fn keys(by: &VerifiedBy) -> String {
    if by.trusted_keys.is_empty() {
        "(no key)".to_owned()
    } else {
        words::join(by.trusted_keys.iter().map(String::as_str))
    }
}

/// The commands a third party runs, one per line, in the order to run
/// them; the page shows each in its own `<pre class="command">`.
pub fn commands(context: &ReportContext) -> Vec<String> {
    let bundle = shell_word(
        context
            .bundle_file
            .as_deref()
            .unwrap_or(DEFAULT_BUNDLE_FILE),
    );
    vec![
        "consent-ledger --version".to_owned(),
        format!("consent-ledger verify {bundle} --key {KEY_FILE}"),
        format!("consent-ledger report {bundle} --key {KEY_FILE} --out report.html"),
    ]
}

/// A file name as one shell word: quoted unless it is plainly safe.
fn shell_word(name: &str) -> String {
    let plain = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-/+@%:,".contains(c));
    if plain {
        name.to_owned()
    } else {
        format!("'{}'", name.replace('\'', r"'\''"))
    }
}

/// The page's last section: how to verify this yourself.
pub fn how_to_verify_section(report: &EvidenceReport<'_>, context: &ReportContext) -> Markup {
    let [version, verify, rerender] = <[String; 3]>::try_from(commands(context))
        .unwrap_or_else(|_| unreachable!("commands gives three lines"));
    let release = context.verified_by.as_ref().map(|by| by.version.clone());
    let signers = &report.verification.signers;
    html! {
        section.reverify id="verify-yourself" {
            h2 { "How to verify this yourself" }
            p {
                "This page is drawn from an evidence bundle, a JSON file the organisation hands over with it. "
                "Anyone can check the bundle offline, without the organisation's systems, in three steps."
            }
            h3 { "1. Get the verifier" }
            p {
                "The verifier is the " code { "consent-ledger" } " program"
                @if let Some(release) = &release { ", version " strong { (release) } }
                ", built from the consent-ledger source repository (the organisation provides it, or its release): "
                "in a checkout of that version, run"
            }
            pre.command { code { "cargo install --locked --path crates/consent-cli" } }
            p { "and check the version it reports:" }
            pre.command { code { (version) } }
            h3 { "2. Get the ledger's public key" }
            p {
                "Obtain the key from the organisation through a channel you trust, not from this page or the bundle: "
                "the ledger publishes it as the file " code { (KEY_FILE) } " next to its data, and serves it at "
                code { "GET /v1/checkpoint-key" } ". Save it as " code { (KEY_FILE) } ". "
                @if signers.is_empty() {
                    "No trusted signature verified on this bundle's checkpoint."
                } @else {
                    "Its name and key id (the key's fingerprint) must read "
                    @for (i, signer) in signers.iter().enumerate() {
                        @if i > 0 { " or " }
                        code { (signer) }
                    }
                    ": the key that signed this bundle."
                }
            }
            h3 { "3. Verify the bundle" }
            pre.command { code { (verify) } }
            p {
                "It checks the checkpoint's signature, every record's inclusion proof, the signed manifest of the bundle's "
                "contents, and decides every question again from the bundle's records. It prints " code { "PASS" }
                " and exits with status 0 when everything holds, or " code { "FAIL" } " with every problem and status 4. "
                "To draw this page again from the bundle, with your own check in it:"
            }
            pre.command { code { (rerender) } }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_that_need_quoting_are_quoted() {
        assert_eq!(shell_word("bundle.json"), "bundle.json");
        assert_eq!(shell_word("my bundle.json"), "'my bundle.json'");
        assert_eq!(shell_word("it's.json"), r"'it'\''s.json'");
    }
}
