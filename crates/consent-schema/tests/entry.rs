//! What the ledger asks of values as they enter it: UK numbers in national
//! format stored in E.164, and no fact from the future or from an absurd
//! date (`prepare_for_append`, `check_for_entry`).

use consent_domain::event::Fact;
use consent_domain::Timestamp;
use consent_schema::v1::{self, envelope::Payload};
use consent_schema::{
    check_for_entry, event_from_proto, prepare_for_append, EntryRules, PhoneRegion, ValidationError,
};
use consent_testkit::wire::every_kind::{at, envelope, every_payload};
use std::time::Duration;

/// 2026-01-01T00:00:01Z: when the fixtures say they were recorded.
const RECEIVED_SECONDS: i64 = 1_767_225_601;

fn received() -> Timestamp {
    Timestamp::from_unix_micros(RECEIVED_SECONDS * 1_000_000)
}

/// `wire` as the ledger receives it: no `recorded_at`, so the time of
/// receipt is its recording time.
fn posted(mut wire: v1::Envelope) -> v1::Envelope {
    wire.recorded_at = None;
    wire
}

fn prepare(wire: v1::Envelope) -> Result<v1::Envelope, ValidationError> {
    prepare_with(wire, &EntryRules::default())
}

fn prepare_with(wire: v1::Envelope, rules: &EntryRules) -> Result<v1::Envelope, ValidationError> {
    prepare_for_append(wire, received(), uuid::Uuid::nil, rules).map(|(stored, _)| stored)
}

fn told_not_to_call(number: &str) -> v1::Envelope {
    posted(envelope(Payload::ToldNotToCall(v1::ToldNotToCall {
        number: number.to_owned(),
        sealed_number: None,
    })))
}

fn mobile(value: &str) -> Option<v1::ContactPoint> {
    Some(v1::ContactPoint {
        kind: v1::ContactKind::Mobile.into(),
        value: value.to_owned(),
        sealed: None,
    })
}

fn stored_number(stored: &v1::Envelope) -> String {
    match &stored.payload {
        Some(Payload::ToldNotToCall(p)) => p.number.clone(),
        other => panic!("not a told-not-to-call: {other:?}"),
    }
}

#[test]
fn a_uk_number_in_any_usual_spelling_is_stored_in_e164() {
    for (written, e164) in [
        ("07700 900123", "+447700900123"),
        ("07700900123", "+447700900123"),
        ("+44 7700 900123", "+447700900123"),
        ("0044 7700 900123", "+447700900123"),
        ("+447700900123", "+447700900123"),
        ("01632 960001", "+441632960001"),
    ] {
        let stored = prepare(told_not_to_call(written)).expect(written);
        assert_eq!(stored_number(&stored), e164, "{written:?}");
        // What is stored passes the strict reading of the log.
        assert!(event_from_proto(&stored).is_ok());
    }
}

#[test]
fn the_log_itself_stays_strictly_e164() {
    let mut stored = told_not_to_call("07700 900123");
    stored.recorded_at = at(RECEIVED_SECONDS);
    let error = event_from_proto(&stored).expect_err("a national number is not stored form");
    assert_eq!(error.field, "told_not_to_call.number");
}

#[test]
fn the_region_decides_what_a_national_number_means() {
    let ireland = EntryRules {
        phone_region: "IE".parse().expect("a region"),
        ..EntryRules::default()
    };
    let stored = prepare_with(told_not_to_call("087 123 4567"), &ireland).expect("Irish");
    assert_eq!(stored_number(&stored), "+353871234567");
    // International numbers mean the same whatever the region.
    let stored = prepare_with(told_not_to_call("+44 7700 900123"), &ireland).expect("UK");
    assert_eq!(stored_number(&stored), "+447700900123");
    assert_eq!(EntryRules::default().phone_region, PhoneRegion::GB);
}

/// A field's path, a payload with a national number in it, and how to read
/// the stored number back.
type TelephoneField = (&'static str, Payload, fn(&Payload) -> String);

/// Every field that holds a telephone number.
fn every_telephone_field() -> Vec<TelephoneField> {
    let payloads = every_payload();
    let find = |kind: &str| {
        payloads
            .iter()
            .find(|p| format!("{p:?}").starts_with(kind))
            .cloned()
            .expect(kind)
    };
    let mut fields: Vec<TelephoneField> = Vec::new();
    fields.push((
        "contact_point_recorded.contact_point.value",
        Payload::ContactPointRecorded(v1::ContactPointRecorded {
            contact_point: mobile("07700 900123"),
        }),
        |p| match p {
            Payload::ContactPointRecorded(p) => p.contact_point.clone().expect("cp").value,
            _ => unreachable!(),
        },
    ));
    let Payload::ConsentGiven(mut consent) = find("ConsentGiven") else {
        unreachable!()
    };
    consent.channels = vec![v1::Channel::Sms.into()];
    consent.contact_point = mobile("07700 900123");
    fields.push((
        "consent_given.contact_point.value",
        Payload::ConsentGiven(consent),
        |p| match p {
            Payload::ConsentGiven(p) => p.contact_point.clone().expect("cp").value,
            _ => unreachable!(),
        },
    ));
    let Payload::SaleRecorded(mut sale) = find("SaleRecorded") else {
        unreachable!()
    };
    if let Some(collection) = &mut sale.collection {
        collection.contact_point = Some(v1::ContactPoint {
            kind: v1::ContactKind::Landline.into(),
            value: "01632 960001".to_owned(),
            sealed: None,
        });
    }
    fields.push((
        "sale_recorded.collection.contact_point.value",
        Payload::SaleRecorded(sale),
        |p| match p {
            Payload::SaleRecorded(p) => {
                p.collection
                    .clone()
                    .and_then(|c| c.contact_point)
                    .expect("cp")
                    .value
            }
            _ => unreachable!(),
        },
    ));
    let Payload::MarketingMessageSent(mut sent) = find("MarketingMessageSent") else {
        unreachable!()
    };
    sent.channel = v1::Channel::Sms.into();
    sent.contact_point = mobile("07700 900123");
    fields.push((
        "marketing_message_sent.contact_point.value",
        Payload::MarketingMessageSent(sent),
        |p| match p {
            Payload::MarketingMessageSent(p) => p.contact_point.clone().expect("cp").value,
            _ => unreachable!(),
        },
    ));
    let Payload::PreferenceServiceListing(mut listing) = find("PreferenceServiceListing") else {
        unreachable!()
    };
    listing.number = "01632 960001".to_owned();
    fields.push((
        "preference_service_listing.number",
        Payload::PreferenceServiceListing(listing),
        |p| match p {
            Payload::PreferenceServiceListing(p) => p.number.clone(),
            _ => unreachable!(),
        },
    ));
    fields.push((
        "told_not_to_call.number",
        Payload::ToldNotToCall(v1::ToldNotToCall {
            number: "01632 960001".to_owned(),
            sealed_number: None,
        }),
        |p| match p {
            Payload::ToldNotToCall(p) => p.number.clone(),
            _ => unreachable!(),
        },
    ));
    fields.push((
        "does_not_object_to_calls.number",
        Payload::DoesNotObjectToCalls(v1::DoesNotObjectToCalls {
            number: "01632 960001".to_owned(),
            sealed_number: None,
        }),
        |p| match p {
            Payload::DoesNotObjectToCalls(p) => p.number.clone(),
            _ => unreachable!(),
        },
    ));
    fields
}

#[test]
fn every_telephone_field_takes_a_national_number() {
    for (field, payload, read) in every_telephone_field() {
        let stored = prepare(posted(envelope(payload))).unwrap_or_else(|e| panic!("{field}: {e}"));
        let number = read(stored.payload.as_ref().expect("payload"));
        assert!(
            number == "+447700900123" || number == "+441632960001",
            "{field}: stored {number:?}"
        );
    }
}

#[test]
fn an_invalid_number_is_refused_naming_its_field() {
    for bad in ["07700 90012", "12345", "07700 9OO123", "0800 FLOWERS"] {
        for (field, payload, _) in every_telephone_field() {
            let mut wire = posted(envelope(payload));
            replace_number(wire.payload.as_mut().expect("payload"), bad);
            let error = prepare(wire).expect_err(field);
            assert_eq!(error.field, field, "{bad:?}: {error}");
        }
    }
}

fn replace_number(payload: &mut Payload, value: &str) {
    let value = value.to_owned();
    match payload {
        Payload::ContactPointRecorded(p) => p.contact_point.as_mut().expect("cp").value = value,
        Payload::ConsentGiven(p) => p.contact_point.as_mut().expect("cp").value = value,
        Payload::SaleRecorded(p) => {
            p.collection
                .as_mut()
                .and_then(|c| c.contact_point.as_mut())
                .expect("cp")
                .value = value
        }
        Payload::MarketingMessageSent(p) => p.contact_point.as_mut().expect("cp").value = value,
        Payload::PreferenceServiceListing(p) => p.number = value,
        Payload::ToldNotToCall(p) => p.number = value,
        Payload::DoesNotObjectToCalls(p) => p.number = value,
        other => panic!("no number in {other:?}"),
    }
}

// ------------------------------------------------------------------ time

fn occurring(seconds_after_receipt: i64) -> v1::Envelope {
    let mut wire = told_not_to_call("+447700900123");
    wire.occurred_at = at(RECEIVED_SECONDS + seconds_after_receipt);
    wire
}

#[test]
fn a_fact_from_the_future_is_refused_naming_occurred_at() {
    let error = prepare(occurring(3 * 3600)).expect_err("3 h ahead");
    assert_eq!(error.field, "occurred_at");
    assert!(
        error.reason.contains(
            "is 3 h after the time the ledger received it (2026-01-01T00:00:01Z); the tolerance is 5 min"
        ),
        "{error}"
    );
    // Within the tolerance, clocks merely disagree.
    assert!(prepare(occurring(60)).is_ok());
    assert!(prepare(occurring(300)).is_ok());
    assert!(prepare(occurring(301)).is_err());
}

#[test]
fn the_tolerance_is_a_setting() {
    let strict = EntryRules {
        max_clock_skew: Duration::from_secs(30),
        ..EntryRules::default()
    };
    let error = prepare_with(occurring(60), &strict).expect_err("1 min ahead, 30 s allowed");
    assert!(error.reason.contains("the tolerance is 30 s"), "{error}");
    let lenient = EntryRules {
        max_clock_skew: Duration::from_secs(4 * 3600),
        ..EntryRules::default()
    };
    assert!(prepare_with(occurring(3 * 3600), &lenient).is_ok());
}

#[test]
fn a_historical_fact_is_fine_and_so_is_its_own_recording_time() {
    // An import of 2020's records, received in 2026.
    let mut wire = told_not_to_call("+447700900123");
    wire.occurred_at = at(1_577_836_800); // 2020-01-01
    wire.recorded_at = at(1_577_836_900);
    assert!(prepare(wire.clone()).is_ok());
    // Measured against the producer's own recording time.
    wire.occurred_at = at(1_577_836_900 + 3600);
    let error = prepare(wire).expect_err("after its own recording");
    assert_eq!(error.field, "occurred_at");
    assert!(
        error.reason.contains("1 h after its recorded_at"),
        "{error}"
    );
}

#[test]
fn a_recording_time_from_the_future_is_refused() {
    let mut wire = told_not_to_call("+447700900123");
    wire.recorded_at = at(RECEIVED_SECONDS + 86_400);
    let error = prepare(wire).expect_err("recorded tomorrow");
    assert_eq!(error.field, "recorded_at");
    assert!(
        error
            .reason
            .contains("1 d after the time the ledger received it"),
        "{error}"
    );
}

#[test]
fn absurd_dates_are_refused_wherever_they_are() {
    let end_of_time = 253_402_300_799; // 9999-12-31T23:59:59Z
    let start_of_time = -62_135_596_800; // 0001-01-01T00:00:00Z
    for seconds in [end_of_time, start_of_time, 631_151_999] {
        let mut wire = told_not_to_call("+447700900123");
        wire.occurred_at = at(seconds);
        let error = prepare(wire).expect_err("absurd");
        assert_eq!(error.field, "occurred_at");
        assert!(error.reason.contains("not a plausible date"), "{error}");
    }
    let mut wire = told_not_to_call("+447700900123");
    wire.occurred_at = at(631_152_000); // 1990-01-01: the first plausible time
    assert!(prepare(wire).is_ok());

    let mut listing = posted(envelope(Payload::PreferenceServiceListing(
        v1::PreferenceServiceListing {
            snapshot_ref: String::new(),
            service: v1::PreferenceService::Tps.into(),
            number: "+441632960001".to_owned(),
            listed_at: at(start_of_time),
            listed: true,
            sealed_number: None,
        },
    )));
    let error = prepare(listing.clone()).expect_err("listed in year 1");
    assert_eq!(error.field, "preference_service_listing.listed_at");
    if let Some(Payload::PreferenceServiceListing(p)) = &mut listing.payload {
        p.listed_at = at(1_700_000_000);
    }
    let (_, event) =
        prepare_for_append(listing, received(), uuid::Uuid::nil, &EntryRules::default())
            .expect("a plausible listing");
    assert!(matches!(event.fact, Fact::PreferenceServiceListing(_)));
}

// ----------------------------------------------------------------- checks

fn check(contact: Option<v1::ContactPoint>) -> v1::CheckRequest {
    v1::CheckRequest {
        organisation_id: "acme".into(),
        subject_id: "s-1".into(),
        channel: v1::Channel::LiveCall.into(),
        purpose: v1::Purpose::Commercial.into(),
        message_class: v1::MessageClass::Marketing.into(),
        contact_point: contact,
        ..Default::default()
    }
}

#[test]
fn a_check_takes_a_national_number_and_asks_about_its_e164_form() {
    let rules = EntryRules::default();
    for written in ["07700 900123", "0044 7700 900123", "+447700900123"] {
        let question = check_for_entry(&check(mobile(written)), received(), &rules).expect(written);
        assert_eq!(
            question.contact_point.map(|c| c.value),
            Some(consent_domain::vocabulary::ContactValue::clear(
                "+447700900123"
            )),
            "{written:?}"
        );
    }
    let error = check_for_entry(&check(mobile("07700 90012")), received(), &rules)
        .expect_err("a digit short");
    assert_eq!(error.field, "contact_point.value");
}

#[test]
fn a_check_at_an_absurd_time_is_refused_naming_at() {
    let rules = EntryRules::default();
    let mut request = check(None);
    request.at = at(253_402_300_799);
    let error = check_for_entry(&request, received(), &rules).expect_err("9999");
    assert_eq!(error.field, "at");
    // A check about next year is a fair question.
    request.at = at(RECEIVED_SECONDS + 365 * 86_400);
    assert!(check_for_entry(&request, received(), &rules).is_ok());
}
