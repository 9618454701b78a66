//! The opt-out feed's derivation: every stored fact that stops marketing
//! gives one `OptOutNotice`, every other fact none, and no notice carries a
//! clear contact value.

use consent_log::LogPosition;
use consent_schema::v1::{self, envelope::Payload};
use consent_schema::{
    contact_fields, decode_opt_out_notice, encode_opt_out_notice, opt_out_notice,
    opt_out_notice_key, ContactField,
};
use consent_testkit::wire::every_kind::{envelope, every_payload, EVENT_ID};

const DIGEST: [u8; 32] = [0xd1; 32];
const CIPHERTEXT: [u8; 48] = [0xc7; 48];

/// The kind of notice a fact gives, if any: the feed's contract, one arm
/// per kind of fact (a new kind of fact does not compile until it is
/// placed here).
fn expected_kind(payload: &Payload) -> Option<v1::OptOutNoticeKind> {
    use v1::OptOutNoticeKind as Kind;
    match payload {
        Payload::OptOutRecorded(_) => Some(Kind::OptOut),
        Payload::ObjectionRecorded(_) => Some(Kind::Objection),
        Payload::ConsentWithdrawn(_) => Some(Kind::ConsentWithdrawn),
        Payload::ToldNotToCall(_) => Some(Kind::ToldNotToCall),
        Payload::ErasureRequested(_) => Some(Kind::Erasure),
        Payload::ContactsSuppressed(_) => Some(Kind::ContactsSuppressed),
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
        | Payload::PreferenceServiceScreened(_) => None,
    }
}

/// `envelope` as the log stores it: every contact value replaced by its
/// sealed form (a digest and a ciphertext), as consent-sealing does at the
/// append edge.
fn stored(mut envelope: v1::Envelope) -> (v1::Envelope, Vec<String>) {
    let mut clear = Vec::new();
    for field in contact_fields(envelope.payload.as_mut()) {
        let sealed = v1::SealedValue {
            digest: DIGEST.to_vec(),
            ciphertext: CIPHERTEXT.to_vec(),
        };
        match field {
            ContactField::Point { point, .. } => {
                clear.push(std::mem::take(&mut point.value));
                point.sealed = Some(sealed);
            }
            ContactField::Number {
                number,
                sealed: slot,
                ..
            } => {
                clear.push(std::mem::take(number));
                *slot = Some(sealed);
            }
        }
    }
    (envelope, clear)
}

fn position() -> LogPosition {
    LogPosition::new("consent.optouts", 3, 41)
}

#[test]
fn every_fact_that_stops_marketing_gives_a_notice_and_no_other_fact_does() {
    for payload in every_payload() {
        let expected = expected_kind(&payload);
        let (stored, _) = stored(envelope(payload.clone()));
        let notice = opt_out_notice(&stored, &position());
        assert_eq!(
            notice.as_ref().map(|n| n.kind()),
            expected,
            "the notice of {payload:?}"
        );
        if let Some(notice) = notice {
            assert_eq!(notice.source_event_id, EVENT_ID);
            assert_eq!(notice.organisation_id, "acme");
            assert_eq!(
                notice.source_position,
                Some(v1::LogPosition {
                    topic: "consent.optouts".into(),
                    partition: 3,
                    offset: 41
                })
            );
            assert_eq!(notice.occurred_at, stored.occurred_at);
            assert!(
                !notice.subject_id.is_empty(),
                "{payload:?} names its subject"
            );
        }
    }
}

#[test]
fn no_notice_carries_a_clear_contact_value_only_its_sealed_form() {
    let mut sealed_seen = 0;
    for payload in every_payload() {
        let (stored, clear) = stored(envelope(payload.clone()));
        let Some(notice) = opt_out_notice(&stored, &position()) else {
            continue;
        };
        let bytes = encode_opt_out_notice(&notice);
        for value in clear.iter().filter(|v| !v.is_empty()) {
            assert!(
                !bytes.windows(value.len()).any(|w| w == value.as_bytes()),
                "{value} in the notice of {payload:?}"
            );
        }
        if let Some(contact) = &notice.contact {
            assert_eq!(contact.digest, DIGEST);
            assert_eq!(contact.ciphertext, CIPHERTEXT);
            sealed_seen += 1;
        }
        assert_eq!(decode_opt_out_notice(&bytes).ok().as_ref(), Some(&notice));
    }
    assert!(
        sealed_seen > 0,
        "some opt-out of every_payload has an address"
    );
}

#[test]
fn what_each_notice_covers() {
    use v1::Channel;
    let opt_out = v1::OptOutRecorded {
        channels: vec![Channel::Email.into(), Channel::Sms.into()],
        all_channels: false,
        received_via: v1::OptOutMethod::OneClick.into(),
        contact_point: None,
    };
    let notice = opt_out_notice(&envelope(Payload::OptOutRecorded(opt_out)), &position())
        .expect("an opt-out gives a notice");
    assert_eq!(
        notice.channels().collect::<Vec<_>>(),
        [Channel::Email, Channel::Sms]
    );
    assert!(!notice.all_channels);
    assert_eq!(notice.received_via(), v1::OptOutMethod::OneClick);
    assert_eq!(opt_out_notice_key(&notice), b"acme\x1fs-1");

    let objection = opt_out_notice(
        &envelope(Payload::ObjectionRecorded(v1::ObjectionRecorded::default())),
        &position(),
    )
    .expect("an objection gives a notice");
    assert!(objection.all_channels, "an objection covers every channel");

    let withdrawal = opt_out_notice(
        &envelope(Payload::ConsentWithdrawn(v1::ConsentWithdrawn {
            channels: vec![],
            purposes: vec![v1::Purpose::Commercial.into()],
            received_via: v1::OptOutMethod::PreferenceCentre.into(),
        })),
        &position(),
    )
    .expect("a withdrawal gives a notice");
    assert!(withdrawal.all_channels, "no channel named is every channel");
    assert_eq!(
        withdrawal.purposes().collect::<Vec<_>>(),
        [v1::Purpose::Commercial]
    );

    let suppressed = opt_out_notice(
        &envelope(Payload::ContactsSuppressed(v1::ContactsSuppressed {
            digests: vec![DIGEST.to_vec()],
            erasure_event_id: EVENT_ID.into(),
            erased_subject_id: "s-9".into(),
        })),
        &position(),
    )
    .expect("a suppression gives a notice");
    assert_eq!(suppressed.subject_id, "s-9", "keyed to the erased subject");
    assert_eq!(suppressed.suppressed_digests, [DIGEST.to_vec()]);
}
