//! Where a fact goes in the log: its topic family and its partition key.

use consent_domain::{Fact, OrganisationId, SubjectId};
use consent_log::EventFamily;

/// The unit separator (ASCII 0x1f) between the organisation and subject ids
/// in a routing key. Identifiers never contain control characters (see
/// [`crate::event_from_proto`]), so a key splits back unambiguously.
pub const ROUTING_KEY_SEPARATOR: u8 = 0x1f;

/// The record key of a fact: the organisation id's UTF-8 bytes, 0x1f, then
/// the subject id's bytes (nothing after the separator for an
/// organisation-level fact).
///
/// The partitioner hashes this key, so every fact of one (organisation,
/// subject) pair lands on the same partition number of every topic (the
/// topics are co-partitioned) and keeps its append order there. All
/// organisation-level facts of one organisation share the key `org 0x1f`.
pub fn routing_key(organisation: &OrganisationId, subject: Option<&SubjectId>) -> Vec<u8> {
    let organisation = organisation.as_str().as_bytes();
    let subject = subject.map(|s| s.as_str().as_bytes()).unwrap_or_default();
    let mut key = Vec::with_capacity(organisation.len() + 1 + subject.len());
    key.extend_from_slice(organisation);
    key.push(ROUTING_KEY_SEPARATOR);
    key.extend_from_slice(subject);
    key
}

/// Whether a record key is an organisation-level fact's (`organisation
/// 0x1f` with no subject after the separator), as [`routing_key`] builds
/// it for facts about the organisation itself.
pub fn is_organisation_key(key: &[u8]) -> bool {
    key.last() == Some(&ROUTING_KEY_SEPARATOR)
}

/// The topic family of a fact.
///
/// * Grants: consent given and withdrawn;
/// * Commerce: sales, negotiations, charity support;
/// * OptOuts: opt-outs, objections, told-not-to-call, does-not-object,
///   erasure requests;
/// * Messages: marketing messages sent;
/// * Reference: organisations, product categories, suppression lists,
///   subscriber types, contact points, TPS/CTPS listings and screenings.
pub fn family_of(fact: &Fact) -> EventFamily {
    match fact {
        Fact::ConsentGiven(_) | Fact::ConsentWithdrawn(_) => EventFamily::Grants,
        Fact::SaleRecorded(_) | Fact::NegotiationRecorded(_) | Fact::CharitySupportRecorded(_) => {
            EventFamily::Commerce
        }
        Fact::OptOutRecorded(_)
        | Fact::ObjectionRecorded(_)
        | Fact::ToldNotToCall(_)
        | Fact::DoesNotObjectToCalls(_)
        | Fact::ErasureRequested(_) => EventFamily::OptOuts,
        Fact::MarketingMessageSent(_) => EventFamily::Messages,
        Fact::OrganisationRegistered(_)
        | Fact::ProductCategoriesDefined(_)
        | Fact::ContactsSuppressed(_)
        | Fact::SubscriberTypeDeclared(_)
        | Fact::ContactPointRecorded(_)
        | Fact::PreferenceServiceListing(_)
        | Fact::PreferenceServiceScreened(_) => EventFamily::Reference,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_is_organisation_separator_subject() {
        let org = OrganisationId::new("acme");
        assert_eq!(
            routing_key(&org, Some(&SubjectId::new("s-1"))),
            b"acme\x1fs-1".to_vec()
        );
        assert_eq!(routing_key(&org, None), b"acme\x1f".to_vec());
        assert!(is_organisation_key(&routing_key(&org, None)));
        assert!(!is_organisation_key(&routing_key(
            &org,
            Some(&SubjectId::new("s-1"))
        )));
        assert!(!is_organisation_key(b""));
    }
}
