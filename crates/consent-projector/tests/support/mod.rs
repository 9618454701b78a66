//! Shared by the projector tests: generated events of every kind, the
//! embedded log in a temporary directory, and a straightforward model fold
//! to compare the projected view with.
#![allow(dead_code)] // each test binary uses a different subset

use consent_domain::event::FactScope;
use consent_domain::rules::{decide, CheckRequest, Decision, RuleCatalogue};
use consent_domain::vocabulary::*;
use consent_domain::{
    AddressState, Event, EventId, Fact, OrganisationId, OrganisationState, ProductCategoryId,
    SubjectId, SubjectState, Timestamp,
};
use consent_log::{AppendRecord, EventLog, LogLayout, LogPosition, LogRecord, StartOffsets};
use consent_log_embedded::EmbeddedLog;
use consent_projector::{Projector, ProjectorConfig};
use consent_store::{HistoryEntry, ViewStore};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

// The generated histories: the kit's, shared with every fold property.
#[allow(unused_imports)]
pub use consent_testkit::arbitrary::{
    all_contacts, canonical, day, deliveries, event_set, fixed_events, EMAILS, NUMBERS,
    ORGANISATIONS, SUBJECTS,
};

pub const PARTITIONS: u32 = 3;

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
