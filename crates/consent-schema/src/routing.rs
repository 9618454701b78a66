//! Where a fact goes in the log: its topic family and its partition key.

use crate::family::EventFamily;
use consent_domain::{Event, Fact, OrganisationId, SubjectId};

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

/// The record key of an event: [`routing_key`] of its organisation and
/// subject, except for a fact about an address ([`Fact::address`]: an
/// opt-out or objection received for an address, a TPS/CTPS listing, a
/// call preference), which is keyed to its organisation alone, with or
/// without a subject. Its address's suppression must hold on every
/// instance, and every instance folds the organisation-level records of
/// the reference topic (docs/SCALING.md); the subject's owner folds its
/// subject part.
pub fn record_key(event: &Event) -> Vec<u8> {
    let subject = match event.fact.address() {
        Some(_) => None,
        None => event.subject.as_ref(),
    };
    routing_key(&event.organisation, subject)
}

/// The topic family of a fact.
///
/// A fact about an address ([`Fact::address`]) is on the reference topic,
/// whatever its kind, with the organisation's key ([`record_key`]), so
/// that every instance reads it. Otherwise:
///
/// * Grants: consent given and withdrawn;
/// * Commerce: sales, negotiations, charity support;
/// * OptOuts: opt-outs and objections not received for an address,
///   erasure requests;
/// * Messages: marketing messages sent;
/// * Reference: organisations, product categories, suppression lists,
///   subscriber types, contact points, TPS/CTPS listings and screenings,
///   told-not-to-call and does-not-object (about a number, always).
pub fn family_of(fact: &Fact) -> EventFamily {
    if fact.address().is_some() {
        return EventFamily::Reference;
    }
    match fact {
        Fact::ConsentGiven(_) | Fact::ConsentWithdrawn(_) => EventFamily::Grants,
        Fact::SaleRecorded(_) | Fact::NegotiationRecorded(_) | Fact::CharitySupportRecorded(_) => {
            EventFamily::Commerce
        }
        Fact::OptOutRecorded(_) | Fact::ObjectionRecorded(_) | Fact::ErasureRequested(_) => {
            EventFamily::OptOuts
        }
        Fact::MarketingMessageSent(_) => EventFamily::Messages,
        Fact::OrganisationRegistered(_)
        | Fact::ProductCategoriesDefined(_)
        | Fact::ContactsSuppressed(_)
        | Fact::SubscriberTypeDeclared(_)
        | Fact::ContactPointRecorded(_)
        | Fact::PreferenceServiceListing(_)
        | Fact::PreferenceServiceScreened(_)
        | Fact::ToldNotToCall(_)
        | Fact::DoesNotObjectToCalls(_) => EventFamily::Reference,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use consent_domain::vocabulary::ContactValue;

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

    #[test]
    fn a_fact_about_an_address_is_keyed_to_its_organisation_on_the_reference_topic() {
        use consent_domain::event::OptOutRecorded;
        use consent_domain::vocabulary::{Channel, ContactKind, ContactPoint, OptOutMethod};
        use consent_domain::{EventId, Source, Timestamp};
        let opt_out = |contact_point: Option<ContactPoint>| Event {
            id: EventId(uuid::Uuid::from_u128(1)),
            organisation: OrganisationId::new("acme"),
            subject: Some(SubjectId::new("s-1")),
            occurred_at: Timestamp::from_unix_micros(0),
            recorded_at: Timestamp::from_unix_micros(0),
            source: Source::default(),
            fact: Fact::OptOutRecorded(OptOutRecorded {
                channels: vec![Channel::Email],
                all_channels: false,
                received_via: OptOutMethod::UnsubscribeLink,
                contact_point,
            }),
        };
        let about_subject = opt_out(None);
        assert_eq!(record_key(&about_subject), b"acme\x1fs-1".to_vec());
        assert_eq!(family_of(&about_subject.fact), EventFamily::OptOuts);
        let about_address = opt_out(Some(ContactPoint {
            kind: ContactKind::Email,
            value: ContactValue::clear("ada@example.com"),
        }));
        assert!(is_organisation_key(&record_key(&about_address)));
        assert_eq!(family_of(&about_address.fact), EventFamily::Reference);
    }
}
