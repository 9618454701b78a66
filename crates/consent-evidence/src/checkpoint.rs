//! Signed checkpoints: the log's signed statement "my tree of N leaves has
//! root R", in the C2SP tlog-checkpoint format.
//!
//! A checkpoint is a [signed note](crate::note) whose text is:
//!
//! ```text
//! <origin>                       the log's name, e.g. ledger.example.org/consent
//! <tree size>                    decimal, no leading zeros
//! <root hash>                    standard base64 of the 32-byte RFC 9162 root
//! time-ms <milliseconds>         extension line: when it was signed, decimal
//!                                milliseconds since the Unix epoch (UTC)
//! ```
//!
//! The first three lines are exactly the C2SP tlog-checkpoint body, so any
//! tlog tool reads size and root; the time is an extension line (C2SP
//! allows extension lines after the root). The note is signed by the key
//! named by the origin (see [`crate::key`]): a checkpoint is accepted only
//! when signed by a trusted key whose name is its origin.
//!
//! Every field has one text form, so a checkpoint and its text map one to
//! one.

use crate::key::{validate_key_name, CheckpointSigner, KeyError, VerifierKey};
use crate::merkle::Hash;
use crate::note::{NoteError, NoteRejection, SignedNote};
use serde::{Deserialize, Serialize};

const TIME_LINE_PREFIX: &str = "time-ms ";

/// What a checkpoint states.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The log's name; also the name of the key that signs it.
    pub origin: String,
    /// Number of leaves.
    pub tree_size: u64,
    /// RFC 9162 root of the first `tree_size` leaves.
    pub root_hash: Hash,
    /// When the checkpoint was made, in milliseconds since the Unix epoch.
    pub timestamp_ms: u64,
}

/// A checkpoint text or note that is not valid, or not trusted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    #[error("the checkpoint origin is not a valid key name: {0}")]
    InvalidOrigin(#[source] KeyError),
    #[error("the checkpoint is signed for origin {origin}, by a key named {key}")]
    SignerIsNotOrigin { origin: String, key: String },
    #[error("the checkpoint text is malformed: {0}")]
    MalformedText(&'static str),
    #[error("the checkpoint is not a well-formed signed note: {0}")]
    MalformedNote(#[from] NoteError),
    #[error("the checkpoint is not accepted: {0}")]
    Rejected(#[from] NoteRejection),
}

impl Checkpoint {
    /// The text that is signed (see the module documentation).
    pub fn to_text(&self) -> Result<String, CheckpointError> {
        validate_key_name(&self.origin).map_err(CheckpointError::InvalidOrigin)?;
        Ok(format!(
            "{}\n{}\n{}\n{TIME_LINE_PREFIX}{}\n",
            self.origin,
            self.tree_size,
            self.root_hash.to_base64(),
            self.timestamp_ms
        ))
    }

    /// Parses the signed text, refusing anything but its one canonical form.
    pub fn from_text(text: &str) -> Result<Self, CheckpointError> {
        let malformed = CheckpointError::MalformedText;
        let body = text
            .strip_suffix('\n')
            .ok_or(malformed("no final newline"))?;
        let lines: Vec<&str> = body.split('\n').collect();
        let [origin, size, root, time] = lines.as_slice() else {
            return Err(malformed("a checkpoint has exactly four lines"));
        };
        validate_key_name(origin).map_err(CheckpointError::InvalidOrigin)?;
        let tree_size =
            parse_decimal(size).ok_or(malformed("tree size is not a canonical decimal"))?;
        let root_hash = Hash::from_base64(root)
            .map_err(|_| malformed("root hash is not 32 bytes of base64"))?;
        let timestamp_ms = time
            .strip_prefix(TIME_LINE_PREFIX)
            .and_then(parse_decimal)
            .ok_or(malformed("fourth line is not time-ms <decimal>"))?;
        Ok(Self {
            origin: (*origin).to_owned(),
            tree_size,
            root_hash,
            timestamp_ms,
        })
    }

    /// Signs the checkpoint with the log's key; the signer's name must be
    /// the origin. Returns the signed note.
    pub fn sign(&self, signer: &CheckpointSigner) -> Result<String, CheckpointError> {
        self.sign_with_all(&[signer])
    }

    /// Signs with several keys of the origin (key rotation overlap).
    pub fn sign_with_all(&self, signers: &[&CheckpointSigner]) -> Result<String, CheckpointError> {
        if let Some(signer) = signers.iter().find(|s| s.name() != self.origin) {
            return Err(CheckpointError::SignerIsNotOrigin {
                origin: self.origin.clone(),
                key: signer.name().to_owned(),
            });
        }
        Ok(SignedNote::sign(&self.to_text()?, signers)?)
    }

    /// Parses a signed checkpoint note and checks it is signed by a trusted
    /// key named by its origin. Returns the checkpoint and the keys that
    /// signed it.
    pub fn open(
        note: &str,
        trusted: &[VerifierKey],
    ) -> Result<(Self, Vec<VerifierKey>), CheckpointError> {
        let (checkpoint, note) = Self::parse_unverified(note)?;
        let origin_keys: Vec<VerifierKey> = trusted
            .iter()
            .filter(|key| key.name() == checkpoint.origin)
            .cloned()
            .collect();
        let signed_by = note.verify(&origin_keys)?;
        Ok((checkpoint, signed_by))
    }

    /// Parses a signed checkpoint note without checking any signature:
    /// for reports about a checkpoint that is not trusted.
    pub fn parse_unverified(note: &str) -> Result<(Self, SignedNote), CheckpointError> {
        let note = SignedNote::parse(note)?;
        let checkpoint = Self::from_text(note.text())?;
        Ok((checkpoint, note))
    }
}

/// A decimal `u64` in its canonical form (digits only, no leading zeros).
pub(crate) fn parse_decimal(text: &str) -> Option<u64> {
    let canonical = !text.is_empty()
        && text.bytes().all(|b| b.is_ascii_digit())
        && (text == "0" || !text.starts_with('0'));
    canonical.then(|| text.parse().ok()).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merkle::leaf_hash;

    fn checkpoint() -> Checkpoint {
        Checkpoint {
            origin: "ledger.example/consent".to_owned(),
            tree_size: 12,
            root_hash: leaf_hash(b"root"),
            timestamp_ms: 1_738_713_600_000,
        }
    }

    fn signer(name: &str) -> CheckpointSigner {
        CheckpointSigner::from_seed(name, &[3; 32]).unwrap()
    }

    #[test]
    fn text_is_the_tlog_checkpoint_body_plus_time() {
        let text = checkpoint().to_text().unwrap();
        let expected = format!(
            "ledger.example/consent\n12\n{}\ntime-ms 1738713600000\n",
            leaf_hash(b"root").to_base64()
        );
        assert_eq!(text, expected);
        assert_eq!(Checkpoint::from_text(&text), Ok(checkpoint()));
    }

    #[test]
    fn non_canonical_texts_are_refused() {
        let text = checkpoint().to_text().unwrap();
        for bad in [
            text.replace("\n12\n", "\n012\n"),
            text.replace("\n12\n", "\n+12\n"),
            text.replace("time-ms", "time"),
            text.trim_end().to_owned(),
            format!("{text}extra\n"),
        ] {
            assert!(Checkpoint::from_text(&bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn opens_only_with_a_trusted_key_of_its_origin() {
        let signer = signer("ledger.example/consent");
        let note = checkpoint().sign(&signer).unwrap();
        let (opened, keys) = Checkpoint::open(&note, &[signer.verifier_key()]).unwrap();
        assert_eq!(opened, checkpoint());
        assert_eq!(keys, vec![signer.verifier_key()]);

        // The same key material under another name is another key.
        let elsewhere = super::tests::signer("other.example/log");
        assert!(matches!(
            Checkpoint::open(&note, &[elsewhere.verifier_key()]),
            Err(CheckpointError::Rejected(
                NoteRejection::NotSignedByTrustedKey { .. }
            ))
        ));
        assert!(matches!(
            checkpoint().sign(&elsewhere),
            Err(CheckpointError::SignerIsNotOrigin { .. })
        ));
    }
}
