//! Shared by the projector tests: generated events of every kind, the
//! embedded log in a temporary directory, and a straightforward model fold
//! to compare the projected view with.
#![allow(dead_code)] // each test binary uses a different subset

use consent_domain::event::FactScope;
use consent_domain::event::*;
use consent_domain::rules::{decide, CheckRequest, Decision, RuleCatalogue};
use consent_domain::vocabulary::ContactValue;
use consent_domain::vocabulary::*;
use consent_domain::{
    AddressState, Event, EventId, Fact, OrganisationId, OrganisationState, ProductCategoryId,
    Source, SubjectId, SubjectState, Timestamp,
};
use consent_log::{AppendRecord, EventLog, LogLayout, LogPosition, LogRecord, StartOffsets};
use consent_log_embedded::EmbeddedLog;
use consent_projector::{Projector, ProjectorConfig};
use consent_store::{HistoryEntry, ViewStore};
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

pub const PARTITIONS: u32 = 3;
pub const ORGANISATIONS: [&str; 2] = ["acme", "hope"];
pub const SUBJECTS: [&str; 3] = ["s-1", "s-2", "s-3"];
const CATEGORIES: [&str; 3] = ["boots", "socks", "hats"];
const EMAILS: [&str; 3] = ["ada@example.com", "bob@example.com", "cy@example.org"];
const NUMBERS: [&str; 2] = ["+447700900123", "+441632960001"];

pub fn layout() -> LogLayout {
    consent_schema::ledger_layout("test", PARTITIONS)
}

pub fn open_log(dir: &Path) -> Arc<EmbeddedLog> {
    Arc::new(EmbeddedLog::open(dir, layout()).expect("open the embedded log"))
}

pub fn config(batch_size: usize) -> ProjectorConfig {
    ProjectorConfig {
        batch_size,
        poll_wait: Duration::from_millis(20),
        dead_letters: true,
        retry_initial: Duration::from_millis(10),
        retry_max: Duration::from_millis(100),
        ..ProjectorConfig::default()
    }
}

pub fn projector(
    log: &Arc<EmbeddedLog>,
    store: Arc<dyn ViewStore>,
    batch_size: usize,
) -> Projector {
    let log: Arc<dyn EventLog> = log.clone();
    Projector::new(log, store, config(batch_size))
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

// ------------------------------------------------------------ generated events

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

// ------------------------------------------------------------ the log

pub fn record_of(event: &Event) -> AppendRecord {
    let envelope = consent_schema::event_to_proto(event);
    AppendRecord {
        topic: consent_schema::family_of(&event.fact).topic(&layout()),
        key: consent_schema::record_key(event),
        payload: consent_schema::encode_envelope(&envelope),
        headers: vec![(
            "content-type".to_owned(),
            b"application/x-protobuf".to_vec(),
        )],
    }
}

/// Appends `events` in calls of `chunk` events.
pub async fn append_events(log: &dyn EventLog, events: &[Event], chunk: usize) -> Vec<LogPosition> {
    let mut positions = Vec::new();
    for part in events.chunks(chunk.max(1)) {
        let records = part.iter().map(record_of).collect();
        positions.extend(log.append(records).await.expect("append"));
    }
    positions
}

/// Every record of the given topics, from offset 0.
pub async fn read_topics(log: &dyn EventLog, topics: &[String]) -> Vec<LogRecord> {
    let start: StartOffsets = topics
        .iter()
        .flat_map(|topic| {
            (0..PARTITIONS).map(move |p| (consent_log::TopicPartition::new(topic.clone(), p), 0))
        })
        .collect();
    let mut reader = log.reader(start).await.expect("reader");
    let mut all = Vec::new();
    loop {
        let batch = reader.next_batch(500, Duration::ZERO).await.expect("read");
        if batch.is_empty() {
            return all;
        }
        all.extend(batch);
    }
}

// ------------------------------------------------------------ the model

/// Everything the view says, as plain maps (absent keys: nothing known).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct View {
    pub subjects: BTreeMap<(OrganisationId, SubjectId), SubjectState>,
    pub organisations: BTreeMap<OrganisationId, OrganisationState>,
    pub addresses: BTreeMap<(OrganisationId, ContactValue), AddressState>,
    pub history: BTreeMap<(OrganisationId, SubjectId), Vec<HistoryEntry>>,
    pub contacts: BTreeMap<ContactPoint, Vec<(OrganisationId, SubjectId)>>,
}

/// The view the log should give: every record, in position order, decoded
/// and folded one by one; history keeps the copy at the lowest position of
/// each event id; contacts are every contact point any record carried;
/// a fact naming an address is folded into that address's state too
/// (address-only facts there alone).
pub fn model_fold(records: &[LogRecord]) -> View {
    let mut sorted: Vec<&LogRecord> = records.iter().collect();
    sorted.sort_by(|a, b| a.position.cmp(&b.position));
    let mut view = View::default();
    let mut history: BTreeMap<(OrganisationId, SubjectId), BTreeMap<EventId, HistoryEntry>> =
        BTreeMap::new();
    let mut contacts: BTreeMap<ContactPoint, BTreeSet<(OrganisationId, SubjectId)>> =
        BTreeMap::new();
    for record in sorted {
        let Ok(envelope) = consent_schema::decode_envelope(&record.payload) else {
            continue;
        };
        let Ok(event) = consent_schema::event_from_proto(&envelope) else {
            continue;
        };
        let position = consent_schema::event_position(&record.position);
        if let Some(address) = event.fact.address() {
            view.addresses
                .entry((event.organisation.clone(), address.to_owned()))
                .or_default()
                .apply(&event, Some(position.clone()));
        }
        let Some(subject) = event.subject.clone() else {
            if event.fact.scope() == FactScope::Organisation {
                view.organisations
                    .entry(event.organisation.clone())
                    .or_default()
                    .apply(&event, Some(position));
            }
            continue;
        };
        let key = (event.organisation.clone(), subject);
        if !matches!(event.fact, Fact::MarketingMessageSent(_)) {
            view.subjects
                .entry(key.clone())
                .or_default()
                .apply(&event, Some(position.clone()));
        }
        history
            .entry(key.clone())
            .or_default()
            .entry(event.id)
            .or_insert(HistoryEntry {
                organisation: key.0.clone(),
                subject: key.1.clone(),
                occurred_at: event.occurred_at,
                event_id: event.id,
                position,
                stored_bytes: record.payload.clone(),
            });
        for contact in carried_contacts(&event.fact) {
            contacts.entry(contact).or_default().insert(key.clone());
        }
    }
    view.history = history
        .into_iter()
        .map(|(key, entries)| {
            let mut entries: Vec<HistoryEntry> = entries.into_values().collect();
            entries.sort_by_key(|e| (e.occurred_at, e.event_id));
            (key, entries)
        })
        .collect();
    view.contacts = contacts
        .into_iter()
        .map(|(c, pairs)| (c, pairs.into_iter().collect()))
        .collect();
    view
}

fn carried_contacts(fact: &Fact) -> Vec<ContactPoint> {
    let carried = match fact {
        Fact::ContactPointRecorded(c) => Some(c),
        Fact::ConsentGiven(f) => f.contact_point.as_ref(),
        Fact::SaleRecorded(f) => f.collection.contact_point.as_ref(),
        Fact::NegotiationRecorded(f) => f.collection.contact_point.as_ref(),
        Fact::CharitySupportRecorded(f) => f.collection.contact_point.as_ref(),
        Fact::MarketingMessageSent(f) => f.contact_point.as_ref(),
        _ => None,
    };
    carried.cloned().into_iter().collect()
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

/// What a store holds for every organisation, subject, address and
/// contact point the generators use (addresses read as the suppression
/// list is, a page of two at a time).
pub fn view_of(store: &dyn ViewStore) -> View {
    let mut view = View::default();
    for o in ORGANISATIONS {
        let organisation = OrganisationId::new(o);
        let mut after: Option<ContactValue> = None;
        loop {
            let page = store
                .address_states(&organisation, after.as_ref(), 2)
                .expect("address states");
            let Some((last, _)) = page.last() else {
                break;
            };
            after = Some(last.clone());
            for (address, state) in page {
                let known = store
                    .address_state(&organisation, &address)
                    .expect("address state");
                assert_eq!(known.as_ref(), Some(&state), "{o}/{address} read alone");
                view.addresses
                    .insert((organisation.clone(), address), state);
            }
        }
        if let Some(state) = store
            .organisation_state(&organisation)
            .expect("organisation state")
        {
            view.organisations.insert(organisation.clone(), state);
        }
        for s in SUBJECTS {
            let subject = SubjectId::new(s);
            let key = (organisation.clone(), subject.clone());
            if let Some(state) = store
                .subject_state(&organisation, &subject)
                .expect("subject state")
            {
                view.subjects.insert(key.clone(), state);
            }
            let history = store.history(&organisation, &subject).expect("history");
            if !history.is_empty() {
                view.history.insert(key, history);
            }
        }
    }
    for contact in all_contacts() {
        let pairs = store.subjects_by_contact(&contact).expect("contacts");
        if !pairs.is_empty() {
            view.contacts.insert(contact, pairs);
        }
    }
    view
}

// ------------------------------------------------------------ decisions

/// The questions asked of every view: each organisation, subject, channel
/// and a commercial and a charitable purpose, at two times.
pub fn checks() -> Vec<CheckRequest> {
    let mut checks = Vec::new();
    for o in ORGANISATIONS {
        for s in SUBJECTS {
            for channel in Channel::ALL {
                for purpose in [Purpose::Commercial, Purpose::Charitable] {
                    for at in [day(200), day(420)] {
                        checks.push(CheckRequest {
                            organisation: OrganisationId::new(o),
                            subject: Some(SubjectId::new(s)),
                            channel,
                            purpose,
                            product_category: Some(ProductCategoryId::new("socks")),
                            message_class: MessageClass::Marketing,
                            promotional_content: true,
                            sole_charitable_purpose: purpose == Purpose::Charitable,
                            opt_out_included: true,
                            sender_identified: true,
                            call_category: CallCategory::General,
                            contact_point: match channel {
                                Channel::Email => Some(ContactPoint {
                                    kind: ContactKind::Email,
                                    value: ContactValue::clear(EMAILS[0]),
                                }),
                                Channel::Post => None,
                                _ => Some(ContactPoint {
                                    kind: ContactKind::Mobile,
                                    value: ContactValue::clear(NUMBERS[0]),
                                }),
                            },
                            at,
                            rule_set: None,
                        });
                    }
                }
            }
        }
        // A sender that knows only the address.
        for (channel, contact_point) in [
            (
                Channel::Email,
                ContactPoint {
                    kind: ContactKind::Email,
                    value: ContactValue::clear(EMAILS[0]),
                },
            ),
            (
                Channel::Sms,
                ContactPoint {
                    kind: ContactKind::Mobile,
                    value: ContactValue::clear(NUMBERS[0]),
                },
            ),
        ] {
            for at in [day(200), day(420)] {
                checks.push(CheckRequest {
                    organisation: OrganisationId::new(o),
                    subject: None,
                    channel,
                    purpose: Purpose::Commercial,
                    product_category: Some(ProductCategoryId::new("socks")),
                    message_class: MessageClass::Marketing,
                    promotional_content: true,
                    sole_charitable_purpose: false,
                    opt_out_included: true,
                    sender_identified: true,
                    call_category: CallCategory::General,
                    contact_point: Some(contact_point.clone()),
                    at,
                    rule_set: None,
                });
            }
        }
    }
    checks
}

/// The decisions a view gives for [`checks`].
pub fn decisions(view: &View) -> Vec<Decision> {
    let catalogue = RuleCatalogue::uk();
    checks()
        .iter()
        .map(|check| {
            let rule_set = catalogue
                .select(None, check.at)
                .expect("a UK rule set is in force");
            let organisation = view
                .organisations
                .get(&check.organisation)
                .cloned()
                .unwrap_or_default();
            let subject = check
                .subject
                .as_ref()
                .and_then(|s| view.subjects.get(&(check.organisation.clone(), s.clone())))
                .cloned()
                .unwrap_or_default();
            let addresses: Vec<AddressState> =
                consent_domain::rules::addresses_to_consult(&subject, check)
                    .into_iter()
                    .filter_map(|a| {
                        view.addresses
                            .get(&(check.organisation.clone(), a))
                            .cloned()
                    })
                    .collect();
            decide(rule_set, &organisation, &subject, &addresses, check)
        })
        .collect()
}

/// The facts a view holds, without log positions: what must not depend on
/// the order or the number of times events were delivered.
pub type Facts = BTreeMap<String, Vec<(EventId, Timestamp, Fact)>>;

pub fn facts_of(view: &View) -> Facts {
    let mut facts = Facts::new();
    for ((o, s), state) in &view.subjects {
        let list = state
            .facts
            .facts()
            .iter()
            .map(|r| (r.id, r.occurred_at, r.fact.clone()))
            .collect();
        facts.insert(format!("subject {o}/{s}"), list);
    }
    for (o, state) in &view.organisations {
        let list = state
            .facts
            .facts()
            .iter()
            .map(|r| (r.id, r.occurred_at, r.fact.clone()))
            .collect();
        facts.insert(format!("organisation {o}"), list);
    }
    for ((o, a), state) in &view.addresses {
        let list = state
            .facts
            .facts()
            .iter()
            .map(|r| (r.id, r.occurred_at, r.fact.clone()))
            .collect();
        facts.insert(format!("address {o}/{a}"), list);
    }
    for ((o, s), entries) in &view.history {
        let list = entries
            .iter()
            .map(|e| {
                let envelope =
                    consent_schema::decode_envelope(&e.stored_bytes).expect("stored bytes decode");
                let event =
                    consent_schema::event_from_proto(&envelope).expect("stored bytes validate");
                (e.event_id, e.occurred_at, event.fact)
            })
            .collect();
        facts.insert(format!("history {o}/{s}"), list);
    }
    for (contact, pairs) in &view.contacts {
        facts.insert(format!("contact {contact:?} {pairs:?}"), Vec::new());
    }
    facts
}

/// The view of a set of events folded directly, each once, in the given
/// order, with made-up positions.
pub fn set_view(events: &[Event]) -> View {
    let records: Vec<LogRecord> = events
        .iter()
        .enumerate()
        .map(|(i, event)| {
            let record = record_of(event);
            LogRecord {
                position: LogPosition::new(record.topic, 0, u64::try_from(i).unwrap_or(u64::MAX)),
                key: record.key,
                payload: record.payload,
                headers: record.headers,
                timestamp_ms: 0,
            }
        })
        .collect();
    model_fold(&records)
}

/// Decisions without the log positions of the events they relied on.
pub fn without_positions(mut decisions: Vec<Decision>) -> Vec<Decision> {
    for decision in &mut decisions {
        for reference in &mut decision.relied_on {
            reference.position = None;
        }
    }
    decisions
}
