//! Arbitrary histories for the properties of the fold: distinct events of
//! every kind (subject, address-only and organisation facts) over a few
//! organisations, subjects, categories and addresses, so that they meet,
//! and the deliveries a log may make of them (repeats, any order).
//! The projector's and the view store's properties draw from here.

use consent_domain::event::*;
use consent_domain::vocabulary::*;
use consent_domain::{EventId, OrganisationId, ProductCategoryId, Source, SubjectId, Timestamp};
use proptest::prelude::*;

pub const ORGANISATIONS: [&str; 2] = ["acme", "hope"];
pub const SUBJECTS: [&str; 3] = ["s-1", "s-2", "s-3"];
pub const CATEGORIES: [&str; 3] = ["boots", "socks", "hats"];
pub const EMAILS: [&str; 3] = ["ada@example.com", "bob@example.com", "cy@example.org"];
pub const NUMBERS: [&str; 2] = ["+447700900123", "+441632960001"];

/// 2025-06-01T00:00:00Z: facts are spread over the following 400 days, so
/// that both UK rule sets (before and after 2026-02-05) are exercised.
const BASE_MICROS: i64 = 1_748_736_000_000_000;
const DAY_MICROS: i64 = 86_400_000_000;

pub fn day(n: i64) -> Timestamp {
    Timestamp::from_unix_micros(BASE_MICROS + n * DAY_MICROS)
}

fn pick<T: Clone + std::fmt::Debug + 'static>(
    items: &'static [T],
) -> impl Strategy<Value = T> + Clone {
    proptest::sample::select(items)
}

fn channel() -> impl Strategy<Value = Channel> + Clone {
    pick(&Channel::ALL)
}

fn channels() -> impl Strategy<Value = Vec<Channel>> {
    proptest::sample::subsequence(Channel::ALL.to_vec(), 1..=3)
}

fn purposes() -> impl Strategy<Value = Vec<Purpose>> {
    proptest::sample::subsequence(Purpose::ALL.to_vec(), 1..=2)
}

fn category() -> impl Strategy<Value = ProductCategoryId> + Clone {
    pick(&CATEGORIES).prop_map(ProductCategoryId::new)
}

fn opt_out_method() -> impl Strategy<Value = OptOutMethod> + Clone {
    pick(&[
        OptOutMethod::UnsubscribeLink,
        OptOutMethod::ReplyStop,
        OptOutMethod::Call,
        OptOutMethod::GpcSignal,
    ])
}

fn number() -> impl Strategy<Value = ContactValue> + Clone {
    pick(&NUMBERS).prop_map(ContactValue::clear)
}

fn contact_point() -> impl Strategy<Value = ContactPoint> + Clone {
    prop_oneof![
        pick(&EMAILS).prop_map(|v| ContactPoint {
            kind: ContactKind::Email,
            value: ContactValue::clear(v)
        }),
        pick(&NUMBERS).prop_map(|v| ContactPoint {
            kind: ContactKind::Mobile,
            value: ContactValue::clear(v)
        }),
        pick(&NUMBERS).prop_map(|v| ContactPoint {
            kind: ContactKind::Landline,
            value: ContactValue::clear(v)
        }),
        Just(ContactPoint {
            kind: ContactKind::Postal,
            value: ContactValue::clear("1 High St, York")
        }),
    ]
}

/// An address an opt-out or objection may be received for (not postal).
fn address_point() -> impl Strategy<Value = ContactPoint> + Clone {
    prop_oneof![
        pick(&EMAILS).prop_map(|v| ContactPoint {
            kind: ContactKind::Email,
            value: ContactValue::clear(v)
        }),
        pick(&NUMBERS).prop_map(|v| ContactPoint {
            kind: ContactKind::Mobile,
            value: ContactValue::clear(v)
        }),
    ]
}

fn collection() -> impl Strategy<Value = DetailsCollection> {
    (
        pick(&[
            CollectionRoute::Direct,
            CollectionRoute::ThirdParty,
            CollectionRoute::TradingSubsidiary,
        ]),
        any::<bool>(),
        any::<bool>(),
        proptest::option::of(contact_point()),
    )
        .prop_map(
            |(route, opt_out_offered, opt_out_taken, contact_point)| DetailsCollection {
                route,
                opt_out_offered,
                opt_out_taken,
                form_version: Some("form-1".to_owned()),
                contact_point,
            },
        )
}

/// A fact about one subject, of any of the subject-level kinds.
fn subject_fact() -> impl Strategy<Value = Fact> {
    prop_oneof![
        pick(&[
            SubscriberType::Individual,
            SubscriberType::SoleTrader,
            SubscriberType::Corporate
        ])
        .prop_map(|subscriber_type| Fact::SubscriberTypeDeclared(
            SubscriberTypeDeclared {
                subscriber_type,
                evidence: "companies house".to_owned(),
            }
        )),
        contact_point().prop_map(Fact::ContactPointRecorded),
        (
            channels(),
            purposes(),
            any::<bool>(),
            pick(&[
                CollectionMethod::UntickedCheckbox,
                CollectionMethod::DoubleOptIn,
                CollectionMethod::PreTickedCheckbox
            ]),
            proptest::option::of(contact_point()),
        )
            .prop_map(
                |(channels, purposes, demonstrable, method, contact_point)| {
                    Fact::ConsentGiven(ConsentGiven {
                        channels,
                        purposes,
                        wording_version: demonstrable.then(|| "w-1".to_owned()),
                        wording_sha256: demonstrable.then(|| "ab".repeat(32)),
                        method,
                        collector: ConsentCollector::FirstParty,
                        named_organisations: vec![],
                        condition_of_service: false,
                        contact_point,
                    })
                }
            ),
        (
            proptest::sample::subsequence(Channel::ALL.to_vec(), 0..=2),
            opt_out_method()
        )
            .prop_map(|(channels, received_via)| Fact::ConsentWithdrawn(
                ConsentWithdrawn {
                    channels,
                    purposes: vec![],
                    received_via,
                }
            )),
        (category(), collection()).prop_map(|(product_category, collection)| Fact::SaleRecorded(
            SaleRecorded {
                product_category,
                order_ref: "o-1".to_owned(),
                collection
            }
        )),
        (
            category(),
            pick(&[
                NegotiationKind::QuoteRequested,
                NegotiationKind::GeneralEnquiry
            ]),
            collection()
        )
            .prop_map(
                |(product_category, kind, collection)| Fact::NegotiationRecorded(
                    NegotiationRecorded {
                        product_category,
                        kind,
                        collection
                    }
                )
            ),
        (
            pick(&[SupportKind::Donation, SupportKind::Membership]),
            collection()
        )
            .prop_map(|(kind, collection)| Fact::CharitySupportRecorded(
                CharitySupportRecorded { kind, collection }
            )),
        (
            channels(),
            any::<bool>(),
            opt_out_method(),
            proptest::option::of(address_point())
        )
            .prop_map(|(channels, all_channels, received_via, contact_point)| {
                Fact::OptOutRecorded(OptOutRecorded {
                    contact_point,
                    channels,
                    all_channels,
                    received_via,
                })
            }),
        (opt_out_method(), proptest::option::of(address_point())).prop_map(
            |(received_via, contact_point)| Fact::ObjectionRecorded(ObjectionRecorded {
                contact_point,
                received_via
            })
        ),
        (
            channel(),
            proptest::option::of(category()),
            any::<bool>(),
            proptest::option::of(contact_point())
        )
            .prop_map(|(channel, product_category, promotional, contact_point)| {
                Fact::MarketingMessageSent(MarketingMessageSent {
                    channel,
                    purpose: Purpose::Commercial,
                    product_category,
                    message_class: MessageClass::Marketing,
                    promotional_content: promotional,
                    opt_out_included: true,
                    sender_identified: true,
                    message_id: "m-1".to_owned(),
                    campaign_id: "c-1".to_owned(),
                    contact_point,
                    sole_charitable_purpose: false,
                })
            }),
        (
            pick(&[PreferenceService::Tps, PreferenceService::Ctps]),
            number(),
            0i64..300,
            any::<bool>()
        )
            .prop_map(|(service, number, listed_day, listed)| {
                Fact::PreferenceServiceListing(PreferenceServiceListing {
                    snapshot_ref: None,
                    service,
                    number,
                    listed_at: day(listed_day),
                    listed,
                })
            }),
        number().prop_map(|number| Fact::ToldNotToCall(CallPreference { number })),
        number().prop_map(|number| Fact::DoesNotObjectToCalls(CallPreference { number })),
        Just(Fact::ErasureRequested(ErasureRequested {
            reason: "asked by phone".to_owned()
        })),
    ]
}

/// A fact about an organisation itself.
fn organisation_fact() -> impl Strategy<Value = Fact> {
    prop_oneof![
        pick(&[
            OrganisationKind::Commercial,
            OrganisationKind::Charity,
            OrganisationKind::PoliticalParty
        ])
        .prop_map(|kind| Fact::OrganisationRegistered(OrganisationRegistered {
            name: "An Organisation".to_owned(),
            kind,
            charity_register_number: (kind == OrganisationKind::Charity)
                .then(|| "1234567".to_owned()),
        })),
        proptest::sample::subsequence(CATEGORIES.to_vec(), 1..=2).prop_map(|similar_to_boots| {
            Fact::ProductCategoriesDefined(ProductCategoriesDefined {
                categories: vec![ProductCategory {
                    id: ProductCategoryId::new("boots"),
                    name: "Boots".to_owned(),
                    similar: similar_to_boots
                        .into_iter()
                        .map(ProductCategoryId::new)
                        .collect(),
                }],
            })
        }),
    ]
}

/// An event without its id: (organisation, subject, occurred_at, fact);
/// subject `None` (index `SUBJECTS.len()`) makes a fact about an address
/// an address-only fact (an imported suppression list), and is ignored
/// for every other fact.
fn unnumbered_event() -> impl Strategy<Value = (usize, usize, i64, Fact)> {
    (
        0..ORGANISATIONS.len(),
        0..=SUBJECTS.len(),
        0i64..400,
        prop_oneof![5 => subject_fact(), 1 => organisation_fact()],
    )
}

/// A set of distinct events (unique ids), in their canonical stored form.
pub fn event_set(max: usize) -> impl Strategy<Value = Vec<Event>> {
    proptest::collection::vec(unnumbered_event(), 1..=max).prop_map(numbered)
}

/// `n` distinct events, the same on every run.
pub fn fixed_events(n: usize) -> Vec<Event> {
    use proptest::strategy::ValueTree;
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    proptest::collection::vec(unnumbered_event(), n)
        .prop_map(numbered)
        .new_tree(&mut runner)
        .expect("generate events")
        .current()
}

fn numbered(events: Vec<(usize, usize, i64, Fact)>) -> Vec<Event> {
    events
        .into_iter()
        .enumerate()
        .map(|(i, (o, s, at, fact))| {
            let organisation_level = matches!(
                fact,
                Fact::OrganisationRegistered(_) | Fact::ProductCategoriesDefined(_)
            );
            let address_only = fact.address().is_some() && s == SUBJECTS.len();
            let subject = SUBJECTS[s % SUBJECTS.len()];
            canonical(Event {
                id: EventId(uuid::Uuid::from_u128(u128::try_from(i).unwrap_or(0) + 1)),
                organisation: OrganisationId::new(ORGANISATIONS[o]),
                subject: (!organisation_level && !address_only).then(|| SubjectId::new(subject)),
                occurred_at: day(at),
                recorded_at: day(at),
                source: Source {
                    system: "crm".to_owned(),
                    ..Source::default()
                },
                fact,
            })
        })
        .collect()
}

/// The event as it reads back from its stored bytes (what the projector
/// sees). Panics if the generator made an invalid event: a test bug.
pub fn canonical(event: Event) -> Event {
    consent_schema::event_from_proto(&consent_schema::event_to_proto(&event))
        .unwrap_or_else(|error| panic!("generated an invalid event {event:?}: {error}"))
}

/// A delivery: every event at least once, some twice or more, shuffled.
pub fn deliveries(events: Vec<Event>) -> impl Strategy<Value = Vec<Event>> {
    let n = events.len();
    proptest::collection::vec(0..n, 0..=n).prop_flat_map(move |extra| {
        let mut all: Vec<Event> = events.clone();
        all.extend(extra.into_iter().map(|i| events[i].clone()));
        Just(all).prop_shuffle()
    })
}

/// Every contact point the generators use.
pub fn all_contacts() -> Vec<ContactPoint> {
    let mut all: Vec<ContactPoint> = EMAILS
        .iter()
        .map(|v| ContactPoint {
            kind: ContactKind::Email,
            value: ContactValue::clear(*v),
        })
        .collect();
    for v in NUMBERS {
        all.push(ContactPoint {
            kind: ContactKind::Mobile,
            value: ContactValue::clear(v),
        });
        all.push(ContactPoint {
            kind: ContactKind::Landline,
            value: ContactValue::clear(v),
        });
    }
    all.push(ContactPoint {
        kind: ContactKind::Postal,
        value: ContactValue::clear("1 High St, York"),
    });
    all
}
