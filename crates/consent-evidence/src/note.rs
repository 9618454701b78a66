//! C2SP signed notes: a text and the signatures over it.
//!
//! ```text
//! <text: one or more lines, each ending in a newline>
//! <blank line>
//! — <key name> <base64(4-byte big-endian key id || signature)>
//! ...
//! ```
//!
//! (the signature lines start with an em dash, U+2014, and a space). The
//! signatures cover the text including its final newline, and nothing
//! else. Checkpoints and evidence manifests are signed notes; the format
//! is byte-compatible with Go's `golang.org/x/mod/sumdb/note` and the
//! transparency-dev tooling, so third parties can check them with those.
//!
//! This crate's texts never contain a blank line, so a note splits at its
//! only blank line.

use crate::key::{validate_key_name, CheckpointSigner, KeyId, VerifierKey};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;

/// Most signatures a note may carry (as Go's reference implementation).
pub const MAX_SIGNATURES: usize = 100;

const SIGNATURE_LINE_PREFIX: &str = "\u{2014} ";

/// One signature line of a note, not yet verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoteSignature {
    pub key_name: String,
    pub key_id: KeyId,
    /// The signature bytes after the key id (64 for ed25519).
    pub signature: Vec<u8>,
}

impl NoteSignature {
    /// `name+keyid`, as findings name keys.
    pub fn label(&self) -> String {
        format!("{}+{}", self.key_name, self.key_id)
    }
}

/// A parsed signed note.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedNote {
    text: String,
    signatures: Vec<NoteSignature>,
}

/// A note that is not well formed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoteError {
    #[error("the note text is empty or does not end in a newline")]
    UnterminatedText,
    #[error("the note text contains a blank line")]
    BlankLineInText,
    #[error("the note contains a control character other than newline")]
    ControlCharacter,
    #[error("the note has no signature")]
    Unsigned,
    #[error("the note has more than {MAX_SIGNATURES} signatures")]
    TooManySignatures,
    #[error("signature line {line} is malformed")]
    MalformedSignatureLine { line: usize },
    #[error("a note needs at least one signer")]
    NoSigner,
}

/// Why a well-formed note is not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoteRejection {
    #[error("no signature by a trusted key (signed by: {})", signers.join(", "))]
    NotSignedByTrustedKey { signers: Vec<String> },
    #[error("the signature by trusted key {key} does not verify")]
    BadSignature { key: String },
}

impl SignedNote {
    /// Signs `text` with every signer and returns the whole note.
    pub fn sign(text: &str, signers: &[&CheckpointSigner]) -> Result<String, NoteError> {
        check_text(text)?;
        if signers.is_empty() {
            return Err(NoteError::NoSigner);
        }
        let mut note = String::with_capacity(text.len() + 1 + signers.len() * 128);
        note.push_str(text);
        note.push('\n');
        for signer in signers {
            let mut blob = Vec::with_capacity(4 + 64);
            blob.extend_from_slice(&signer.key_id().0.to_be_bytes());
            blob.extend_from_slice(&signer.sign(text.as_bytes()));
            note.push_str(SIGNATURE_LINE_PREFIX);
            note.push_str(signer.name());
            note.push(' ');
            note.push_str(&STANDARD.encode(blob));
            note.push('\n');
        }
        Ok(note)
    }

    /// Parses a note's syntax (no signature is checked here).
    pub fn parse(note: &str) -> Result<Self, NoteError> {
        if note.chars().any(|c| c.is_control() && c != '\n') {
            return Err(NoteError::ControlCharacter);
        }
        let split = note.find("\n\n").ok_or(NoteError::Unsigned)?;
        let (text, signature_lines) = (&note[..=split], &note[split + 2..]);
        check_text(text)?;
        if signature_lines.is_empty() {
            return Err(NoteError::Unsigned);
        }
        let Some(signature_lines) = signature_lines.strip_suffix('\n') else {
            return Err(NoteError::MalformedSignatureLine { line: 1 });
        };
        let signatures = signature_lines
            .split('\n')
            .enumerate()
            .map(|(i, line)| {
                parse_signature_line(line).ok_or(NoteError::MalformedSignatureLine { line: i + 1 })
            })
            .collect::<Result<Vec<_>, _>>()?;
        if signatures.len() > MAX_SIGNATURES {
            return Err(NoteError::TooManySignatures);
        }
        Ok(Self {
            text: text.to_owned(),
            signatures,
        })
    }

    /// The signed text, final newline included.
    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn signatures(&self) -> &[NoteSignature] {
        &self.signatures
    }

    /// Checks the signatures against the trusted keys and returns the
    /// trusted keys that signed.
    ///
    /// A signature line is checked when a trusted key has its name and key
    /// id; lines of unknown keys are ignored (C2SP). The note is accepted
    /// when at least one trusted key's signature verifies and none fails.
    pub fn verify(&self, trusted: &[VerifierKey]) -> Result<Vec<VerifierKey>, NoteRejection> {
        let mut signed_by = Vec::new();
        for line in &self.signatures {
            let Some(key) = trusted
                .iter()
                .find(|key| key.name() == line.key_name && key.id() == line.key_id)
            else {
                continue;
            };
            let verified = <&[u8; 64]>::try_from(line.signature.as_slice())
                .is_ok_and(|signature| key.verifies(self.text.as_bytes(), signature));
            if !verified {
                return Err(NoteRejection::BadSignature { key: key.label() });
            }
            if !signed_by.contains(key) {
                signed_by.push(key.clone());
            }
        }
        if signed_by.is_empty() {
            return Err(NoteRejection::NotSignedByTrustedKey {
                signers: self.signatures.iter().map(NoteSignature::label).collect(),
            });
        }
        Ok(signed_by)
    }
}

fn check_text(text: &str) -> Result<(), NoteError> {
    if text.is_empty() || !text.ends_with('\n') {
        return Err(NoteError::UnterminatedText);
    }
    if text.starts_with('\n') || text.contains("\n\n") {
        return Err(NoteError::BlankLineInText);
    }
    if text.chars().any(|c| c.is_control() && c != '\n') {
        return Err(NoteError::ControlCharacter);
    }
    Ok(())
}

fn parse_signature_line(line: &str) -> Option<NoteSignature> {
    let (name, blob) = line.strip_prefix(SIGNATURE_LINE_PREFIX)?.split_once(' ')?;
    validate_key_name(name).ok()?;
    let blob = STANDARD.decode(blob).ok()?;
    if blob.len() < 5 {
        return None;
    }
    let (id, signature) = blob.split_at(4);
    Some(NoteSignature {
        key_name: name.to_owned(),
        key_id: KeyId(u32::from_be_bytes(id.try_into().ok()?)),
        signature: signature.to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer(seed: u8) -> CheckpointSigner {
        CheckpointSigner::from_seed("log.example/a", &[seed; 32]).unwrap()
    }

    #[test]
    fn a_signed_note_verifies_with_its_key_only() {
        let note = SignedNote::sign("hello\nworld\n", &[&signer(1)]).unwrap();
        let parsed = SignedNote::parse(&note).unwrap();
        assert_eq!(parsed.text(), "hello\nworld\n");
        assert_eq!(parsed.verify(&[signer(1).verifier_key()]).unwrap().len(), 1);
        assert!(matches!(
            parsed.verify(&[signer(2).verifier_key()]),
            Err(NoteRejection::NotSignedByTrustedKey { .. })
        ));
    }

    #[test]
    fn an_altered_text_fails_the_trusted_signature() {
        let note = SignedNote::sign("hello\n", &[&signer(1)]).unwrap();
        let altered = note.replacen("hello", "jello", 1);
        let parsed = SignedNote::parse(&altered).unwrap();
        assert!(matches!(
            parsed.verify(&[signer(1).verifier_key()]),
            Err(NoteRejection::BadSignature { .. })
        ));
    }

    #[test]
    fn malformed_notes_are_refused() {
        assert_eq!(SignedNote::parse("text\n"), Err(NoteError::Unsigned));
        assert_eq!(SignedNote::parse("text\n\n"), Err(NoteError::Unsigned));
        assert_eq!(
            SignedNote::parse("text\n\n- name AAAAAAAA\n"),
            Err(NoteError::MalformedSignatureLine { line: 1 })
        );
        assert_eq!(
            SignedNote::parse("te\rxt\n\n\u{2014} name AAAAAAAA\n"),
            Err(NoteError::ControlCharacter)
        );
        assert_eq!(
            SignedNote::sign("a\n\nb\n", &[&signer(1)]),
            Err(NoteError::BlankLineInText)
        );
    }
}
