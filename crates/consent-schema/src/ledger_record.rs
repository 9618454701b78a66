//! Records the ledger writes to its log that are not facts: today one,
//! the fingerprint of the contact-digest key the log's digests are made
//! with (docs/OPERATIONS.md, "Keys").
//!
//! A ledger record goes on the reference topic under a key that starts with
//! the routing separator: an empty organisation, which no fact's key can
//! have (every fact names its organisation). Readers of facts (the
//! projector, replay) read past such records; they are still records of
//! the log, so each is a leaf of its partition's Merkle tree like any
//! other.

use crate::routing::ROUTING_KEY_SEPARATOR;

/// The start of every ledger record's key: separator, `consent-ledger`,
/// separator.
pub const LEDGER_RECORD_KEY_PREFIX: &[u8] = b"\x1fconsent-ledger\x1f";

/// The key of the contact-digest key's fingerprint record.
pub const CONTACT_DIGEST_KEY_RECORD: &[u8] = b"\x1fconsent-ledger\x1fcontact-digest-key";

/// The payload's text before the fingerprint's hex digits.
const FINGERPRINT_PAYLOAD_PREFIX: &str = "contact-digest-key fingerprint v1 ";

/// Whether a record is the ledger's own, not a fact.
pub fn is_ledger_record_key(key: &[u8]) -> bool {
    key.first() == Some(&ROUTING_KEY_SEPARATOR) && key.starts_with(LEDGER_RECORD_KEY_PREFIX)
}

/// The payload recording `fingerprint`: one line of text, so an operator
/// reading the topic sees what it is.
pub fn contact_digest_key_payload(fingerprint: &[u8; 32]) -> Vec<u8> {
    format!("{FINGERPRINT_PAYLOAD_PREFIX}{}", hex::encode(fingerprint)).into_bytes()
}

/// The fingerprint a record with key [`CONTACT_DIGEST_KEY_RECORD`] holds;
/// `None` when the payload is not one this ledger writes.
pub fn contact_digest_key_fingerprint(payload: &[u8]) -> Option<[u8; 32]> {
    let text = std::str::from_utf8(payload).ok()?;
    let digits = text.trim_end().strip_prefix(FINGERPRINT_PAYLOAD_PREFIX)?;
    hex::decode(digits).ok()?.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routing::routing_key;
    use consent_domain::{OrganisationId, SubjectId};

    #[test]
    fn a_ledger_record_is_never_a_facts_key_and_reads_back() {
        assert!(is_ledger_record_key(CONTACT_DIGEST_KEY_RECORD));
        for key in [
            routing_key(&OrganisationId::from("consent-ledger"), None),
            routing_key(
                &OrganisationId::from("acme"),
                Some(&SubjectId::from("\u{1f}consent-ledger")),
            ),
        ] {
            assert!(!is_ledger_record_key(&key), "{key:?}");
        }
        let payload = contact_digest_key_payload(&[0xab; 32]);
        assert_eq!(contact_digest_key_fingerprint(&payload), Some([0xab; 32]));
        assert_eq!(contact_digest_key_fingerprint(b"something else"), None);
    }
}
