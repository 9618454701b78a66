//! Each kind of fact in the words the report's timeline uses.

use consent_domain::event::*;
use consent_domain::identity::{OrganisationId, ProductCategoryId};
use consent_domain::time::Timestamp;
use consent_domain::vocabulary::*;
use consent_report::describe;

fn headline(fact: Fact) -> String {
    describe(&fact).headline
}

fn collection(offered: bool, taken: bool) -> DetailsCollection {
    DetailsCollection {
        route: CollectionRoute::ThirdParty,
        opt_out_offered: offered,
        opt_out_taken: taken,
        form_version: None,
        contact_point: None,
    }
}

#[test]
fn a_sale_says_what_was_sold_and_whether_an_opt_out_was_offered_and_taken() {
    let sale = |offered, taken| {
        Fact::SaleRecorded(SaleRecorded {
            product_category: ProductCategoryId::from("cars"),
            order_ref: "7781".to_owned(),
            collection: collection(offered, taken),
        })
    };
    assert_eq!(
        headline(sale(true, false)),
        "Sale recorded: cars, order 7781, opt-out offered"
    );
    assert_eq!(
        headline(sale(true, true)),
        "Sale recorded: cars, order 7781, opt-out offered and taken"
    );
    assert_eq!(
        headline(sale(false, false)),
        "Sale recorded: cars, order 7781, no opt-out offered"
    );
    assert_eq!(
        describe(&sale(true, false)).details,
        ["Contact details obtained from a third party"]
    );
}

#[test]
fn consent_names_channels_purposes_method_and_wording() {
    let consent = Fact::ConsentGiven(ConsentGiven {
        channels: vec![Channel::Email, Channel::Sms],
        purposes: vec![Purpose::Commercial],
        wording_version: None,
        wording_sha256: None,
        method: CollectionMethod::PreTickedCheckbox,
        collector: ConsentCollector::ThirdParty {
            collected_by: OrganisationId::from("leads-r-us"),
        },
        named_organisations: vec![OrganisationId::from("acme-motors")],
        condition_of_service: true,
        contact_point: None,
    });
    let description = describe(&consent);
    assert_eq!(
        description.headline,
        "Consent given for email and SMS marketing (commercial)"
    );
    assert_eq!(
        description.details,
        [
            "Collected by a pre-ticked checkbox (not an affirmative act), by a third party, leads-r-us",
            "Wording shown: not recorded",
            "Organisations named in the wording: acme-motors",
            "Made a condition of the service",
        ]
    );
}

#[test]
fn opt_outs_objections_and_withdrawals_say_what_they_cover() {
    assert_eq!(
        headline(Fact::OptOutRecorded(OptOutRecorded {
            contact_point: None,
            channels: vec![],
            all_channels: true,
            received_via: OptOutMethod::Letter,
        })),
        "Opt-out of every channel, by letter"
    );
    assert_eq!(
        headline(Fact::OptOutRecorded(OptOutRecorded {
            contact_point: None,
            channels: vec![Channel::Sms],
            all_channels: false,
            received_via: OptOutMethod::ReplyStop,
        })),
        "Opt-out of SMS, by reply STOP"
    );
    assert_eq!(
        headline(Fact::ConsentWithdrawn(ConsentWithdrawn {
            channels: vec![],
            purposes: vec![Purpose::Charitable],
            received_via: OptOutMethod::PreferenceCentre,
        })),
        "Consent withdrawn for every channel (charitable), by preference centre"
    );
    assert_eq!(
        headline(Fact::ObjectionRecorded(ObjectionRecorded {
            contact_point: None,
            received_via: OptOutMethod::GpcSignal,
        })),
        "Objection to direct marketing on every channel, by Global Privacy Control signal"
    );
}

#[test]
fn calls_and_preference_services_name_the_number() {
    let listing = Fact::PreferenceServiceListing(PreferenceServiceListing {
        snapshot_ref: None,
        service: PreferenceService::Tps,
        number: ContactValue::clear("+447700900123"),
        listed_at: Timestamp::from_date(2025, 11, 3).expect("date"),
        listed: true,
    });
    let description = describe(&listing);
    assert_eq!(description.headline, "+447700900123 listed on the TPS");
    assert_eq!(
        description.details,
        ["Registered with the TPS on 2025-11-03 00:00:00 UTC"]
    );
    assert_eq!(
        headline(Fact::ToldNotToCall(CallPreference {
            number: ContactValue::clear("+441632960001")
        })),
        "Told not to call +441632960001"
    );
}

#[test]
fn charity_support_negotiation_and_erasure_read_plainly() {
    assert_eq!(
        headline(Fact::CharitySupportRecorded(CharitySupportRecorded {
            kind: SupportKind::Donation,
            collection: collection(true, false),
        })),
        "Charity support recorded: donation, opt-out offered"
    );
    assert_eq!(
        headline(Fact::NegotiationRecorded(NegotiationRecorded {
            product_category: ProductCategoryId::from("insurance"),
            kind: NegotiationKind::QuoteRequested,
            collection: collection(true, false),
        })),
        "Negotiation recorded: quote requested for insurance, opt-out offered"
    );
    let erasure = describe(&Fact::ErasureRequested(ErasureRequested {
        reason: "customer asked by phone".to_owned(),
    }));
    assert!(
        erasure
            .headline
            .starts_with("Erasure requested: the subject's key is destroyed"),
        "{}",
        erasure.headline
    );
    assert_eq!(erasure.details, ["Reason: customer asked by phone"]);
    let suppressed = describe(&Fact::ContactsSuppressed(ContactsSuppressed {
        digests: vec![consent_domain::vocabulary::ContactDigest([0xab; 32])],
        erasure: consent_domain::EventId(uuid::Uuid::from_u128(1)),
        erased_subject: "cust-42".into(),
    }));
    assert_eq!(
        suppressed.headline,
        "1 contact value(s) put on the suppression list after cust-42 asked to be erased"
    );
    assert_eq!(
        suppressed.details,
        ["Suppressed: (sealed, digest abababababab…)"]
    );
}
