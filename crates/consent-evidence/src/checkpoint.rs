//! Signed checkpoints: the ledger's signed statement "my log's partitions
//! have these sizes and roots, and this is the ledger head over them", in
//! the C2SP tlog-checkpoint format.
//!
//! A checkpoint is a [signed note](crate::note) whose text is:
//!
//! ```text
//! <origin>                       the log's name, e.g. ledger.example.org/consent
//! <tree size>                    number of partition heads (leaves of the ledger head), decimal
//! <root hash>                    standard base64 of the 32-byte ledger head (RFC 9162 root)
//! time-ms <milliseconds>         when it was signed, decimal ms since the Unix epoch (UTC)
//! partition <topic> <partition> <size> <root>   one line per partition head,
//!                                in (topic, partition) order: the partition's
//!                                number of records and its tree's root (base64)
//! ```
//!
//! The first three lines are exactly the C2SP tlog-checkpoint body, so any
//! tlog tool reads size and root: the tree is the ledger head's, whose
//! leaves are the partition heads ([`crate::ledger_head`]). The rest are
//! extension lines (C2SP allows them after the root). Because every
//! partition head is in the signed text, a checkpoint pins each
//! partition's size and root on its own: a record is proven by its
//! inclusion in its partition's tree against the root signed here, and the
//! ledger head line is checked by recomputing it from the partition lines
//! ([`Checkpoint::from_text`] refuses a text where they disagree). Two
//! checkpoints are consistent when every partition's tree of the later one
//! extends the earlier one's (one RFC 9162 consistency proof per partition).
//!
//! The note is signed by the key named by the origin (see [`crate::key`]):
//! a checkpoint is accepted only when signed by a trusted key whose name is
//! its origin. Every field has one text form, so a checkpoint and its text
//! map one to one.

use crate::key::{validate_key_name, CheckpointSigner, KeyError, VerifierKey};
use crate::ledger_head::{LedgerHead, PartitionHead, PartitionHeadError};
use crate::merkle::Hash;
use crate::note::{NoteError, NoteRejection, SignedNote};
use consent_log::TopicPartition;
use serde::{Deserialize, Serialize};

const TIME_LINE_PREFIX: &str = "time-ms ";
const PARTITION_LINE_PREFIX: &str = "partition ";
/// Kafka's longest topic name.
const MAX_TOPIC_LEN: usize = 249;

/// What a checkpoint states.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The log's name; also the name of the key that signs it.
    pub origin: String,
    /// Number of leaves of the ledger head: the number of partition heads.
    pub tree_size: u64,
    /// The ledger head: RFC 9162 root over the partition heads.
    pub root_hash: Hash,
    /// When the checkpoint was made, in milliseconds since the Unix epoch.
    pub timestamp_ms: u64,
    /// Every partition head, in `(topic, partition)` order.
    pub partitions: Vec<PartitionHead>,
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
    #[error("the checkpoint's partition heads cannot form a ledger head: {0}")]
    PartitionHeads(#[from] PartitionHeadError),
    #[error(
        "topic {0:?} cannot be written in a checkpoint (1 to 249 characters of a-z A-Z 0-9 . _ -)"
    )]
    InvalidTopic(String),
    #[error("the checkpoint's ledger head {stated} is not the root {computed} of its {heads} partition heads")]
    HeadsDoNotMatchRoot {
        stated: Hash,
        computed: Hash,
        heads: u64,
    },
    #[error("the checkpoint is not a well-formed signed note: {0}")]
    MalformedNote(#[from] NoteError),
    #[error("the checkpoint is not accepted: {0}")]
    Rejected(#[from] NoteRejection),
}

impl Checkpoint {
    /// The checkpoint of these partition heads (any order; each
    /// topic-partition once), with the ledger head computed over them.
    pub fn over(
        origin: impl Into<String>,
        partitions: impl IntoIterator<Item = PartitionHead>,
        timestamp_ms: u64,
    ) -> Result<Self, CheckpointError> {
        let head = LedgerHead::new(partitions)?;
        for partition in head.heads() {
            validate_topic(&partition.partition.topic)?;
        }
        Ok(Self {
            origin: origin.into(),
            tree_size: head.heads().len() as u64,
            root_hash: head.root(),
            timestamp_ms,
            partitions: head.heads().to_vec(),
        })
    }

    /// The head of `partition`, if this checkpoint covers it.
    pub fn partition(&self, partition: &TopicPartition) -> Option<&PartitionHead> {
        self.partitions
            .binary_search_by(|head| head.partition.cmp(partition))
            .ok()
            .map(|index| &self.partitions[index])
    }

    /// Records in all partitions together.
    pub fn records(&self) -> u64 {
        self.partitions.iter().map(|head| head.tree_size).sum()
    }

    /// Checks that size, root and partition lines agree (what
    /// [`Self::from_text`] and [`Self::to_text`] enforce).
    fn check_heads(&self) -> Result<(), CheckpointError> {
        let computed = Self::over(
            self.origin.clone(),
            self.partitions.iter().cloned(),
            self.timestamp_ms,
        )?;
        let in_order = computed.partitions == self.partitions;
        if !in_order {
            return Err(CheckpointError::MalformedText(
                "partition lines must be in (topic, partition) order",
            ));
        }
        if computed.root_hash != self.root_hash || computed.tree_size != self.tree_size {
            return Err(CheckpointError::HeadsDoNotMatchRoot {
                stated: self.root_hash,
                computed: computed.root_hash,
                heads: self.partitions.len() as u64,
            });
        }
        Ok(())
    }

    /// The text that is signed (see the module documentation).
    pub fn to_text(&self) -> Result<String, CheckpointError> {
        validate_key_name(&self.origin).map_err(CheckpointError::InvalidOrigin)?;
        self.check_heads()?;
        let mut text = format!(
            "{}\n{}\n{}\n{TIME_LINE_PREFIX}{}\n",
            self.origin,
            self.tree_size,
            self.root_hash.to_base64(),
            self.timestamp_ms
        );
        for head in &self.partitions {
            text.push_str(&format!(
                "{PARTITION_LINE_PREFIX}{} {} {} {}\n",
                head.partition.topic,
                head.partition.partition,
                head.tree_size,
                head.root.to_base64()
            ));
        }
        Ok(text)
    }

    /// Parses the signed text, refusing anything but its one canonical form.
    pub fn from_text(text: &str) -> Result<Self, CheckpointError> {
        let malformed = CheckpointError::MalformedText;
        let body = text
            .strip_suffix('\n')
            .ok_or(malformed("no final newline"))?;
        let lines: Vec<&str> = body.split('\n').collect();
        let [origin, size, root, time, partition_lines @ ..] = lines.as_slice() else {
            return Err(malformed("a checkpoint has at least four lines"));
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
        let partitions = partition_lines
            .iter()
            .map(|line| parse_partition_line(line))
            .collect::<Result<Vec<_>, _>>()?;
        let checkpoint = Self {
            origin: (*origin).to_owned(),
            tree_size,
            root_hash,
            timestamp_ms,
            partitions,
        };
        checkpoint.check_heads()?;
        Ok(checkpoint)
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

/// A topic name that fits on a partition line: Kafka's legal characters.
fn validate_topic(topic: &str) -> Result<(), CheckpointError> {
    let legal = !topic.is_empty()
        && topic.len() <= MAX_TOPIC_LEN
        && topic
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if legal {
        Ok(())
    } else {
        Err(CheckpointError::InvalidTopic(topic.to_owned()))
    }
}

fn parse_partition_line(line: &str) -> Result<PartitionHead, CheckpointError> {
    let malformed = CheckpointError::MalformedText(
        "a partition line is `partition <topic> <partition> <size> <root>`",
    );
    let fields: Vec<&str> = line
        .strip_prefix(PARTITION_LINE_PREFIX)
        .ok_or(malformed.clone())?
        .split(' ')
        .collect();
    let [topic, partition, size, root] = fields.as_slice() else {
        return Err(malformed);
    };
    validate_topic(topic)?;
    let partition = parse_decimal(partition)
        .and_then(|p| u32::try_from(p).ok())
        .ok_or(malformed.clone())?;
    let tree_size = parse_decimal(size).ok_or(malformed.clone())?;
    let root = Hash::from_base64(root).map_err(|_| malformed)?;
    Ok(PartitionHead::new(
        TopicPartition::new(*topic, partition),
        tree_size,
        root,
    ))
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

    fn heads() -> Vec<PartitionHead> {
        vec![
            PartitionHead::new(
                TopicPartition::new("consent.optouts", 1),
                3,
                leaf_hash(b"o1"),
            ),
            PartitionHead::new(
                TopicPartition::new("consent.grants", 0),
                12,
                leaf_hash(b"g0"),
            ),
        ]
    }

    fn checkpoint() -> Checkpoint {
        Checkpoint::over("ledger.example/consent", heads(), 1_738_713_600_000).unwrap()
    }

    fn signer(name: &str) -> CheckpointSigner {
        CheckpointSigner::from_seed(name, &[3; 32]).unwrap()
    }

    #[test]
    fn text_is_the_tlog_checkpoint_body_of_the_ledger_head_plus_time_and_partitions() {
        let checkpoint = checkpoint();
        let text = checkpoint.to_text().unwrap();
        let expected = format!(
            "ledger.example/consent\n2\n{}\ntime-ms 1738713600000\n\
             partition consent.grants 0 12 {}\n\
             partition consent.optouts 1 3 {}\n",
            crate::ledger_head(&heads()).unwrap().to_base64(),
            leaf_hash(b"g0").to_base64(),
            leaf_hash(b"o1").to_base64(),
        );
        assert_eq!(text, expected);
        assert_eq!(Checkpoint::from_text(&text), Ok(checkpoint.clone()));
        assert_eq!(checkpoint.records(), 15);
        assert_eq!(
            checkpoint
                .partition(&TopicPartition::new("consent.optouts", 1))
                .map(|h| h.tree_size),
            Some(3)
        );
    }

    #[test]
    fn non_canonical_texts_are_refused() {
        let text = checkpoint().to_text().unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let swapped = format!(
            "{}\n{}\n{}\n{}\n{}\n{}\n",
            lines[0], lines[1], lines[2], lines[3], lines[5], lines[4]
        );
        for bad in [
            text.replace("\n2\n", "\n02\n"),
            text.replace("\n2\n", "\n+2\n"),
            text.replace("time-ms", "time"),
            text.replace(" 12 ", " 012 "),
            text.replace("consent.grants 0", "consent.grants  0"),
            text.trim_end().to_owned(),
            format!("{text}extra\n"),
            swapped,
        ] {
            assert!(Checkpoint::from_text(&bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_partition_line_that_does_not_match_the_ledger_head_is_refused() {
        let text = checkpoint().to_text().unwrap();
        for bad in [
            // One record fewer in a partition.
            text.replace(" 12 ", " 11 "),
            // A partition dropped (and the count adjusted).
            text.lines()
                .filter(|line| !line.contains("consent.optouts"))
                .map(|line| {
                    if line == "2" {
                        "1\n".to_owned()
                    } else {
                        format!("{line}\n")
                    }
                })
                .collect(),
        ] {
            assert!(
                matches!(
                    Checkpoint::from_text(&bad),
                    Err(CheckpointError::HeadsDoNotMatchRoot { .. })
                ),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn topics_with_spaces_cannot_be_written() {
        let head = PartitionHead::new(TopicPartition::new("a b", 0), 0, leaf_hash(b""));
        assert!(matches!(
            Checkpoint::over("ledger.example/consent", [head], 0),
            Err(CheckpointError::InvalidTopic(_))
        ));
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
