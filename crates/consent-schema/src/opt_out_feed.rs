//! The opt-out feed's message (`consent.v1.OptOutNotice`,
//! `proto/consent/v1/opt_out_feed.proto`): what each stored fact that
//! stops marketing says to the systems that send, derived from its stored
//! envelope, and where it goes in the log.
//!
//! Pure: the projector calls [`opt_out_notice`] on each record it folds and
//! appends the notice to [`opt_out_feed_topic`] under
//! [`opt_out_notice_key`]. No clear contact value is ever copied: stored
//! envelopes carry only sealed values, and the notice takes the sealed value
//! (digest and ciphertext), never the `value` or `number` field.

use crate::routing::ROUTING_KEY_SEPARATOR;
use crate::v1;
use crate::v1::envelope::Payload;
use consent_log::{LogLayout, LogPosition};
use prost::Message;

/// The feed topic's name after the layout's prefix: `consent.opt-out-feed`
/// under the prefix `consent`. A derived topic of the ledger's layout
/// ([`crate::ledger_layout`]).
pub const OPT_OUT_FEED_SUFFIX: &str = "opt-out-feed";

/// The opt-out feed's topic in `layout`.
pub fn opt_out_feed_topic(layout: &LogLayout) -> String {
    layout.topic(OPT_OUT_FEED_SUFFIX)
}

/// Whether `layout` has the opt-out feed (the ledger's layout does).
pub fn has_opt_out_feed(layout: &LogLayout) -> bool {
    layout.has_derived_topic(&opt_out_feed_topic(layout))
}

/// The notice a stored fact gives the feed, read at `position`: one for an
/// opt-out, an objection, a consent withdrawal, a told-not-to-call, an
/// erasure request and a suppression after erasure; `None` for every other
/// fact (and for an envelope without a fact).
///
/// `envelope` is the stored form (sealed contact values), as the projector
/// read it; the notice copies its sealed value, never a clear one.
pub fn opt_out_notice(envelope: &v1::Envelope, position: &LogPosition) -> Option<v1::OptOutNotice> {
    use v1::OptOutNoticeKind as Kind;
    let mut notice = v1::OptOutNotice {
        organisation_id: envelope.organisation_id.clone(),
        subject_id: envelope.subject_id.clone(),
        occurred_at: envelope.occurred_at,
        recorded_at: envelope.recorded_at,
        source_event_id: envelope.event_id.clone(),
        source_position: Some(position.into()),
        ..v1::OptOutNotice::default()
    };
    match envelope.payload.as_ref()? {
        Payload::OptOutRecorded(fact) => {
            notice.kind = Kind::OptOut.into();
            notice.channels = fact.channels.clone();
            notice.all_channels = fact.all_channels;
            notice.received_via = fact.received_via;
            set_contact(&mut notice, fact.contact_point.as_ref());
        }
        Payload::ObjectionRecorded(fact) => {
            notice.kind = Kind::Objection.into();
            notice.all_channels = true;
            notice.received_via = fact.received_via;
            set_contact(&mut notice, fact.contact_point.as_ref());
        }
        Payload::ConsentWithdrawn(fact) => {
            notice.kind = Kind::ConsentWithdrawn.into();
            notice.channels = fact.channels.clone();
            notice.all_channels = fact.channels.is_empty();
            notice.purposes = fact.purposes.clone();
            notice.received_via = fact.received_via;
        }
        Payload::ToldNotToCall(fact) => {
            notice.kind = Kind::ToldNotToCall.into();
            notice.channels = vec![v1::Channel::LiveCall.into()];
            notice.contact = fact.sealed_number.as_ref().map(sealed_only);
        }
        Payload::ErasureRequested(_) => {
            notice.kind = Kind::Erasure.into();
            notice.all_channels = true;
        }
        Payload::ContactsSuppressed(fact) => {
            notice.kind = Kind::ContactsSuppressed.into();
            notice.all_channels = true;
            notice.subject_id = fact.erased_subject_id.clone();
            notice.suppressed_digests = fact.digests.clone();
        }
        Payload::OrganisationRegistered(_)
        | Payload::ProductCategoriesDefined(_)
        | Payload::SubscriberTypeDeclared(_)
        | Payload::ContactPointRecorded(_)
        | Payload::ConsentGiven(_)
        | Payload::SaleRecorded(_)
        | Payload::NegotiationRecorded(_)
        | Payload::CharitySupportRecorded(_)
        | Payload::MarketingMessageSent(_)
        | Payload::PreferenceServiceListing(_)
        | Payload::DoesNotObjectToCalls(_)
        | Payload::PreferenceServiceScreened(_) => return None,
    }
    Some(notice)
}

/// The contact point's kind and sealed value; its clear `value` is left
/// behind (empty in stored envelopes anyway).
fn set_contact(notice: &mut v1::OptOutNotice, point: Option<&v1::ContactPoint>) {
    if let Some(point) = point {
        notice.contact_kind = point.kind;
        notice.contact = point.sealed.as_ref().map(sealed_only);
    }
}

fn sealed_only(sealed: &v1::SealedValue) -> v1::SealedValue {
    v1::SealedValue {
        digest: sealed.digest.clone(),
        ciphertext: sealed.ciphertext.clone(),
    }
}

/// The feed record's key: the organisation id's bytes, 0x1f, then the
/// subject id's bytes (nothing after the separator for a notice without a
/// subject), as [`crate::routing_key`] builds a fact's.
pub fn opt_out_notice_key(notice: &v1::OptOutNotice) -> Vec<u8> {
    let organisation = notice.organisation_id.as_bytes();
    let subject = notice.subject_id.as_bytes();
    let mut key = Vec::with_capacity(organisation.len() + 1 + subject.len());
    key.extend_from_slice(organisation);
    key.push(ROUTING_KEY_SEPARATOR);
    key.extend_from_slice(subject);
    key
}

/// The notice's bytes on the feed (protobuf binary).
pub fn encode_opt_out_notice(notice: &v1::OptOutNotice) -> Vec<u8> {
    notice.encode_to_vec()
}

/// A feed record's notice. Any input gives a value or an error, never a
/// panic.
pub fn decode_opt_out_notice(bytes: &[u8]) -> Result<v1::OptOutNotice, crate::DecodeError> {
    Ok(v1::OptOutNotice::decode(bytes)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_is_the_organisation_and_the_subject() {
        let notice = v1::OptOutNotice {
            organisation_id: "acme".into(),
            subject_id: "c-1".into(),
            ..v1::OptOutNotice::default()
        };
        assert_eq!(opt_out_notice_key(&notice), b"acme\x1fc-1");
        let address_only = v1::OptOutNotice {
            organisation_id: "acme".into(),
            ..v1::OptOutNotice::default()
        };
        assert_eq!(opt_out_notice_key(&address_only), b"acme\x1f");
    }

    #[test]
    fn an_envelope_without_a_fact_gives_no_notice() {
        let position = LogPosition::new("consent.optouts", 0, 0);
        assert_eq!(opt_out_notice(&v1::Envelope::default(), &position), None);
    }
}
