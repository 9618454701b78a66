//! The key layout of the view tree.
//!
//! Every key starts with one tag byte naming its kind of record, followed by
//! identifier components separated by `0x1f` (the ASCII unit separator):
//!
//! ```text
//! S org 0x1f subject 0x1f event_id(16)               -> postcard(Recorded<Fact>)
//! O org                                               -> zstd(postcard(OrganisationState))
//! A org 0x1f value                                    -> zstd(postcard(AddressState))
//! H org 0x1f subject 0x1f event_id(16)               -> occurred_at(8) postcard(EventPosition)
//! C kind(1) value 0x1f org 0x1f subject               -> (empty)
//!
//! value = 'c' text (a contact value in clear) | 'd' digest(32) (sealed)
//! E topic 0x1f partition(4) first_offset(8)           -> zstd((length(4) record)...)
//! T topic 0x1f partition(4) level(1) chunk(8)         -> present(2) hash(32)...
//! F topic 0x1f partition(4)                           -> postcard(Frontier)
//! M name                                              -> meta (format version, offsets)
//! ```
//!
//! A subject's state is the set of its facts, one key each: a batch
//! writes the facts it adds or replaces, never the whole state, and a read
//! of the state is one prefix scan (`SubjectState` again with
//! `FactSet::from_recorded`). A fact's key is its event id, so the fold
//! reads the stored copy of an event with one exact key. Organisation and
//! address states are zstd frames (level 1, naming their decoded size) of
//! their postcard bytes, rewritten whole by a batch that changes them (see
//! `state_codec.rs`): an organisation has few facts next to its subjects,
//! an address few next to its organisation. `A` keys sort by organisation, then by
//! address (`ContactValue`'s order: its form's byte, then its bytes): the suppression
//! list is a prefix scan, and a page starts just after the previous page's
//! last key. `C` keys are looked up by exact key when
//! projecting, and scanned by prefix for `subjects_by_contact`.
//!
//! `E` holds every record the view has consumed, exactly as the log stores
//! it: the records of one topic-partition a batch consumed, at most
//! [`RECORDS_PER_BLOCK`] to a value, keyed by the first one's offset (big
//! endian, so byte order is offset order) and written once: see
//! `records.rs`. A history entry's bytes are read from there: the block
//! holding an offset is the last key at or before it.
//!
//! `T` holds the completed nodes of each topic-partition's RFC 9162 tree in
//! chunks of [`MERKLE_CHUNK`] consecutive nodes of one level: the key names
//! the level and `index / MERKLE_CHUNK` (big endian, so byte order is
//! address order), the value is a 16-bit big-endian bitmap of the slots
//! present (bit `i` = node `chunk * MERKLE_CHUNK + i`) followed by the
//! present nodes' hashes in slot order. One write per chunk per batch
//! instead of one per node: sled 0.34 copies a leaf page on every update,
//! so the number of updates is what a batch costs. Only levels from
//! [`LOWEST_STORED_LEVEL`] up are stored; a lower node is hashed again from
//! its records' block. `F` holds each tree's frontier.
//!
//! A history entry is keyed by its event id, so a replacing copy of the
//! same event overwrites it in place (there is at most one per event id
//! and subject) and the projector's write needs no read. `occurred_at`
//! (the timestamp's `i64` with its sign bit flipped, big endian, so that
//! byte order is time order) starts the value; a subject's history is
//! sorted by `(occurred_at, event id)` when read (a subject has few
//! entries).
//!
//! Invariant: a component never contains a raw `0x1f`. Identifiers are
//! escaped (`0x1e` becomes `0x1e 0x01`, `0x1f` becomes `0x1e 0x02`; every
//! other byte is itself), so an identifier that happens to contain the
//! separator cannot make two keys collide or one subject's prefix match
//! another's. Identifiers without those two control bytes - every real one -
//! are stored as they are.

use consent_domain::vocabulary::{ContactDigest, ContactKind, ContactPoint, ContactValue};
use consent_domain::{EventId, OrganisationId, SubjectId, Timestamp};
use consent_evidence::merkle::NodeAddress;
use consent_log::TopicPartition;

pub const SUBJECT: u8 = b'S';
pub const ORGANISATION: u8 = b'O';
pub const ADDRESS: u8 = b'A';
pub const HISTORY: u8 = b'H';
pub const CONTACT: u8 = b'C';
pub const META: u8 = b'M';
pub const MERKLE_NODE: u8 = b'T';
pub const MERKLE_FRONTIER: u8 = b'F';
pub const RECORD_BLOCK: u8 = b'E';

const SEPARATOR: u8 = 0x1f;
/// Starts a contact value in clear in a key.
const CLEAR_VALUE: u8 = b'c';
/// Starts a contact value's digest in a key.
const DIGEST_VALUE: u8 = b'd';
const ESCAPE: u8 = 0x1e;

/// Length of an encoded timestamp.
pub const TIMESTAMP_LEN: usize = 8;
/// Length of an encoded event id.
pub const EVENT_ID_LEN: usize = 16;
/// Tree nodes per stored chunk (one bit each in the chunk's bitmap).
pub const MERKLE_CHUNK: u64 = MERKLE_CHUNK_SLOTS as u64;
/// [`MERKLE_CHUNK`] as a length.
pub const MERKLE_CHUNK_SLOTS: usize = 16;
/// Consecutive records of a topic-partition per stored block, at most.
pub const RECORDS_PER_BLOCK: usize = 64;
/// The lowest tree level stored; a node below covers at most
/// `2^LOWEST_STORED_LEVEL` leaves, hashed again from their records.
pub const LOWEST_STORED_LEVEL: u8 = 4;

pub fn format_version() -> Vec<u8> {
    meta(b"format_version")
}

pub fn offsets() -> Vec<u8> {
    meta(b"offsets")
}

fn meta(name: &[u8]) -> Vec<u8> {
    let mut key = vec![META];
    key.extend_from_slice(name);
    key
}

/// The prefix of every fact key of one subject.
pub fn subject_facts(organisation: &OrganisationId, subject: &SubjectId) -> Vec<u8> {
    subject_prefix(SUBJECT, organisation, subject)
}

pub fn subject_fact(organisation: &OrganisationId, subject: &SubjectId, event: EventId) -> Vec<u8> {
    let mut key = subject_facts(organisation, subject);
    key.extend_from_slice(event.0.as_bytes());
    key
}

/// The prefix of every key of `tag` (a subject's facts or history) of one
/// organisation.
pub fn organisation_subjects(tag: u8, organisation: &OrganisationId) -> Vec<u8> {
    let mut key = vec![tag];
    push_component(&mut key, organisation.as_str());
    key.push(SEPARATOR);
    key
}

pub fn organisation(organisation: &OrganisationId) -> Vec<u8> {
    let mut key = vec![ORGANISATION];
    push_component(&mut key, organisation.as_str());
    key
}

pub fn address(organisation: &OrganisationId, address: &ContactValue) -> Vec<u8> {
    let mut key = address_prefix(organisation);
    push_contact_value(&mut key, address);
    key
}

/// The prefix of every address key of one organisation.
pub fn address_prefix(organisation: &OrganisationId) -> Vec<u8> {
    let mut key = vec![ADDRESS];
    push_component(&mut key, organisation.as_str());
    key.push(SEPARATOR);
    key
}

/// The address an address key names, given the key without its
/// [`address_prefix`]. `None` if it is not well formed.
pub fn address_of(rest: &[u8]) -> Option<ContactValue> {
    decode_contact_value(rest)
}

/// The prefix of every history key of one subject.
pub fn history_prefix(organisation: &OrganisationId, subject: &SubjectId) -> Vec<u8> {
    subject_prefix(HISTORY, organisation, subject)
}

pub fn history(organisation: &OrganisationId, subject: &SubjectId, event: &EventId) -> Vec<u8> {
    let mut key = history_prefix(organisation, subject);
    key.extend_from_slice(event.0.as_bytes());
    key
}

/// The subject a fact or history key is about, given the key without its
/// [`organisation_subjects`] prefix. `None` if it is not well formed.
pub fn subject_of(rest: &[u8]) -> Option<SubjectId> {
    let at = rest.iter().position(|&b| b == SEPARATOR)?;
    Some(SubjectId::new(decode_component(rest.get(..at)?)?))
}

/// The least key of `tag` after every key of `subject`: the subject's
/// prefix with its final separator raised by one.
pub fn after_subject(tag: u8, organisation: &OrganisationId, subject: &SubjectId) -> Vec<u8> {
    let mut key = subject_prefix(tag, organisation, subject);
    if let Some(last) = key.last_mut() {
        *last = SEPARATOR + 1;
    }
    key
}

fn subject_prefix(tag: u8, organisation: &OrganisationId, subject: &SubjectId) -> Vec<u8> {
    let mut key = vec![tag];
    push_component(&mut key, organisation.as_str());
    key.push(SEPARATOR);
    push_component(&mut key, subject.as_str());
    key.push(SEPARATOR);
    key
}

/// The prefix of every contact index key of one contact point.
pub fn contact_prefix(contact: &ContactPoint) -> Vec<u8> {
    let mut key = vec![CONTACT, contact_kind_byte(contact.kind)];
    push_contact_value(&mut key, &contact.value);
    key.push(SEPARATOR);
    key
}

pub fn contact(
    contact: &ContactPoint,
    organisation: &OrganisationId,
    subject: &SubjectId,
) -> Vec<u8> {
    let mut key = contact_prefix(contact);
    push_component(&mut key, organisation.as_str());
    key.push(SEPARATOR);
    push_component(&mut key, subject.as_str());
    key
}

/// The (organisation, subject) that ends a contact index key, given the
/// key without its [`contact_prefix`]. `None` if it is not well formed.
pub fn contact_subject(rest: &[u8]) -> Option<(OrganisationId, SubjectId)> {
    let at = rest.iter().position(|&b| b == SEPARATOR)?;
    let (organisation, subject) = (rest.get(..at)?, rest.get(at + 1..)?);
    Some((
        OrganisationId::new(decode_component(organisation)?),
        SubjectId::new(decode_component(subject)?),
    ))
}

fn contact_kind_byte(kind: ContactKind) -> u8 {
    match kind {
        ContactKind::Email => 1,
        ContactKind::Mobile => 2,
        ContactKind::Landline => 3,
        ContactKind::Postal => 4,
    }
}

/// The key of the chunk holding the node at `address`, and the node's
/// slot in it.
pub fn merkle_chunk(partition: &TopicPartition, address: NodeAddress) -> (Vec<u8>, u32) {
    let chunk = NodeAddress::new(address.level, address.index / MERKLE_CHUNK);
    let slot = u32::try_from(address.index % MERKLE_CHUNK).unwrap_or(0);
    let mut key = topic_partition(MERKLE_NODE, partition);
    key.extend_from_slice(&chunk.to_key());
    (key, slot)
}

/// The key of the block whose first record is at `offset`; the block
/// holding a record is the greatest such key at or before its offset's.
pub fn record_block(partition: &TopicPartition, offset: u64) -> Vec<u8> {
    let mut key = record_blocks(partition);
    key.extend_from_slice(&offset.to_be_bytes());
    key
}

/// The prefix of every record block key of one topic-partition.
pub fn record_blocks(partition: &TopicPartition) -> Vec<u8> {
    topic_partition(RECORD_BLOCK, partition)
}

/// The first offset a record block key names, given the key without its
/// [`record_blocks`] prefix.
pub fn record_block_offset(rest: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(rest.try_into().ok()?))
}

pub fn merkle_frontier(partition: &TopicPartition) -> Vec<u8> {
    topic_partition(MERKLE_FRONTIER, partition)
}

fn topic_partition(tag: u8, partition: &TopicPartition) -> Vec<u8> {
    let mut key = vec![tag];
    push_component(&mut key, &partition.topic);
    key.push(SEPARATOR);
    key.extend_from_slice(&partition.partition.to_be_bytes());
    key
}

/// Order-preserving: `a < b` exactly when `encode(a) < encode(b)` bytewise.
pub fn encode_timestamp(at: Timestamp) -> [u8; TIMESTAMP_LEN] {
    let flipped = u64::from_be_bytes(at.unix_micros().to_be_bytes()) ^ (1 << 63);
    flipped.to_be_bytes()
}

pub fn decode_timestamp(bytes: &[u8]) -> Option<Timestamp> {
    let bytes: [u8; TIMESTAMP_LEN] = bytes.try_into().ok()?;
    let unflipped = u64::from_be_bytes(bytes) ^ (1 << 63);
    Some(Timestamp::from_unix_micros(i64::from_be_bytes(
        unflipped.to_be_bytes(),
    )))
}

fn push_component(key: &mut Vec<u8>, component: &str) {
    push_bytes(key, component.as_bytes());
}

/// A contact value as a key component: [`CLEAR_VALUE`] and its text, or
/// [`DIGEST_VALUE`] and the digest's 32 bytes (escaped like any other
/// component). Byte order is `ContactValue`'s order: values in clear
/// first, each form in its own byte order.
fn push_contact_value(key: &mut Vec<u8>, value: &ContactValue) {
    match value {
        ContactValue::Clear(text) => {
            key.push(CLEAR_VALUE);
            push_bytes(key, text.as_bytes());
        }
        ContactValue::Digest(digest) => {
            key.push(DIGEST_VALUE);
            push_bytes(key, digest.as_bytes());
        }
    }
}

fn decode_contact_value(bytes: &[u8]) -> Option<ContactValue> {
    let (&form, rest) = bytes.split_first()?;
    let value = decode_bytes(rest)?;
    match form {
        CLEAR_VALUE => String::from_utf8(value).ok().map(ContactValue::Clear),
        DIGEST_VALUE => ContactDigest::from_slice(&value).map(ContactValue::Digest),
        _ => None,
    }
}

fn push_bytes(key: &mut Vec<u8>, component: &[u8]) {
    for &byte in component {
        match byte {
            ESCAPE => key.extend_from_slice(&[ESCAPE, 0x01]),
            SEPARATOR => key.extend_from_slice(&[ESCAPE, 0x02]),
            other => key.push(other),
        }
    }
}

fn decode_component(bytes: &[u8]) -> Option<String> {
    String::from_utf8(decode_bytes(bytes)?).ok()
}

fn decode_bytes(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut iter = bytes.iter();
    while let Some(&byte) = iter.next() {
        match byte {
            ESCAPE => match iter.next() {
                Some(0x01) => out.push(ESCAPE),
                Some(0x02) => out.push(SEPARATOR),
                _ => return None,
            },
            SEPARATOR => return None,
            other => out.push(other),
        }
    }
    Some(out)
}

/// A key as text for error messages (non-printable bytes escaped).
pub fn display(key: &[u8]) -> String {
    key.escape_ascii().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn id_text() -> impl Strategy<Value = String> {
        // Biased towards the bytes the escaping is about.
        proptest::collection::vec(
            prop_oneof![
                Just('\u{1e}'),
                Just('\u{1f}'),
                Just('a'),
                Just('b'),
                any::<char>()
            ],
            0..6,
        )
        .prop_map(|chars| chars.into_iter().collect())
    }

    fn contact_value() -> impl Strategy<Value = ContactValue> {
        prop_oneof![
            id_text().prop_map(ContactValue::Clear),
            // Digests with the separator and escape bytes in them.
            proptest::collection::vec(prop_oneof![Just(0x1eu8), Just(0x1f), any::<u8>()], 32)
                .prop_map(|bytes| ContactValue::Digest(
                    ContactDigest::from_slice(&bytes).expect("32 bytes")
                )),
        ]
    }

    proptest! {
        #[test]
        fn subject_keys_are_injective(a in id_text(), b in id_text(), c in id_text(), d in id_text()) {
            let k1 = subject_facts(&OrganisationId::new(a.clone()), &SubjectId::new(b.clone()));
            let k2 = subject_facts(&OrganisationId::new(c.clone()), &SubjectId::new(d.clone()));
            prop_assert_eq!(k1 == k2, (a, b) == (c, d));
        }

        #[test]
        fn one_subjects_history_prefix_never_covers_another(
            a in id_text(), b in id_text(), c in id_text(), d in id_text(), micros in any::<i64>()
        ) {
            let prefix = history_prefix(&OrganisationId::new(a.clone()), &SubjectId::new(b.clone()));
            let key = history(
                &OrganisationId::new(c.clone()),
                &SubjectId::new(d.clone()),
                &EventId(uuid::Uuid::from_u64_pair(0, micros as u64)),
            );
            prop_assert_eq!(key.starts_with(&prefix), (a, b) == (c, d));
        }

        #[test]
        fn contact_keys_give_back_their_subject(value in contact_value(), a in id_text(), b in id_text()) {
            let point = ContactPoint { kind: ContactKind::Email, value };
            let organisation = OrganisationId::new(a);
            let subject_id = SubjectId::new(b);
            let key = contact(&point, &organisation, &subject_id);
            let prefix = contact_prefix(&point);
            prop_assert!(key.starts_with(&prefix));
            prop_assert_eq!(contact_subject(&key[prefix.len()..]), Some((organisation, subject_id)));
        }

        #[test]
        fn address_keys_are_injective_and_give_back_their_address(
            a in id_text(), b in contact_value(), c in id_text(), d in contact_value()
        ) {
            let k1 = address(&OrganisationId::new(a.clone()), &b);
            let k2 = address(&OrganisationId::new(c.clone()), &d);
            prop_assert_eq!(k1 == k2, (a.clone(), b.clone()) == (c, d));
            let prefix = address_prefix(&OrganisationId::new(a));
            prop_assert!(k1.starts_with(&prefix));
            prop_assert_eq!(address_of(&k1[prefix.len()..]), Some(b));
        }

        #[test]
        fn address_keys_of_one_organisation_sort_like_their_values(
            a in contact_value(), b in contact_value()
        ) {
            let organisation = OrganisationId::new("acme");
            prop_assert_eq!(address(&organisation, &a).cmp(&address(&organisation, &b)), a.cmp(&b));
        }

        #[test]
        fn timestamp_bytes_sort_like_timestamps(a in any::<i64>(), b in any::<i64>()) {
            let (ta, tb) = (Timestamp::from_unix_micros(a), Timestamp::from_unix_micros(b));
            prop_assert_eq!(encode_timestamp(ta).cmp(&encode_timestamp(tb)), ta.cmp(&tb));
            prop_assert_eq!(decode_timestamp(&encode_timestamp(ta)), Some(ta));
        }
    }

    #[test]
    fn tree_chunk_keys_are_the_partition_then_the_level_and_chunk() {
        let (key, slot) =
            merkle_chunk(&TopicPartition::new("c.grants", 2), NodeAddress::new(1, 37));
        assert_eq!(key, b"Tc.grants\x1f\0\0\0\x02\x01\0\0\0\0\0\0\0\x02");
        assert_eq!(slot, 5);
    }

    #[test]
    fn record_block_keys_are_the_partition_then_the_first_offset() {
        let partition = TopicPartition::new("c.grants", 2);
        let key = record_block(&partition, 130);
        assert_eq!(key, b"Ec.grants\x1f\0\0\0\x02\0\0\0\0\0\0\0\x82");
        let prefix = record_blocks(&partition);
        assert_eq!(record_block_offset(&key[prefix.len()..]), Some(130));
    }

    #[test]
    fn plain_identifiers_are_stored_as_they_are() {
        let key = subject_facts(&OrganisationId::new("acme"), &SubjectId::new("cust-1"));
        assert_eq!(key, b"Sacme\x1fcust-1\x1f");
    }
}
