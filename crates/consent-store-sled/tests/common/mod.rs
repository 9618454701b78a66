//! Values for the view store tests.
#![allow(dead_code)] // each test binary uses a different subset

use consent_domain::event::{ErasureRequested, OrganisationRegistered};
use consent_domain::vocabulary::{Channel, ContactPoint, ContactValue, OrganisationKind};
use consent_domain::{
    AddressState, Event, EventPosition, Fact, OrganisationId, OrganisationState, SubjectId,
    SubjectState, Timestamp,
};
use consent_store::{HistoryEntry, StoreError, StoredOffsets, ViewStore};
use consent_testkit::facts;
use std::collections::BTreeMap;

pub use consent_testkit::facts::event_id;

/// Event `id` of `organisation` at `occurred_at` (microseconds since the
/// epoch), about `subject` or none.
pub fn event(
    id: u128,
    occurred_at: i64,
    organisation: &str,
    subject: Option<&str>,
    fact: Fact,
) -> Event {
    facts::event(
        id,
        organisation,
        subject,
        Timestamp::from_unix_micros(occurred_at),
        fact,
    )
}

pub fn position(offset: u64) -> EventPosition {
    EventPosition {
        topic: "test.optouts".to_owned(),
        partition: 0,
        offset,
    }
}

/// A subject state holding one erasure request per `(id, occurred_at)`.
pub fn subject_state(organisation: &str, subject: &str, facts: &[(u128, i64)]) -> SubjectState {
    let mut state = SubjectState::default();
    for (offset, (id, at)) in (0u64..).zip(facts) {
        let fact = Fact::ErasureRequested(ErasureRequested {
            reason: format!("r{id}"),
        });
        state.apply(
            &event(*id, *at, organisation, Some(subject), fact),
            Some(position(offset)),
        );
    }
    state
}

pub fn organisation_state(organisation: &str, facts: &[(u128, i64)]) -> OrganisationState {
    let mut state = OrganisationState::default();
    for (offset, (id, at)) in (0u64..).zip(facts) {
        let fact = Fact::OrganisationRegistered(OrganisationRegistered {
            name: format!("name {id}"),
            kind: OrganisationKind::Commercial,
            charity_register_number: None,
        });
        state.apply(
            &event(*id, *at, organisation, None, fact),
            Some(position(offset)),
        );
    }
    state
}

/// Addresses the tests store states for (in `ContactValue` order, so that
/// paging through them is comparable): in clear, and a sealed one's digest.
pub const ADDRESSES: &[&str] = &[
    "+447700900123",
    "ada@example.com",
    "bob@example.com",
    "digest:1e1f1e1f00000000000000000000000000000000000000000000000000000001",
];

/// An address of [`ADDRESSES`] as the store keys it: a digest's text is the
/// digest, any other text a value in clear.
pub use consent_testkit::facts::contact_value as address_value;

/// An address state holding one email opt-out received for `address` per
/// `(id, occurred_at)`, the odd ids under no subject.
pub fn address_state(organisation: &str, address: &str, facts: &[(u128, i64)]) -> AddressState {
    let mut state = AddressState::default();
    for (offset, (id, at)) in (0u64..).zip(facts) {
        let fact = facts::opt_out_for(facts::email_address(address), &[Channel::Email]);
        let subject = (id % 2 == 0).then_some("s1");
        state.apply(
            &event(*id, *at, organisation, subject, fact),
            Some(position(offset)),
        );
    }
    state
}

pub fn history_entry(
    organisation: &str,
    subject: &str,
    id: u128,
    occurred_at: i64,
    offset: u64,
) -> HistoryEntry {
    HistoryEntry {
        organisation: OrganisationId::new(organisation),
        subject: SubjectId::new(subject),
        occurred_at: Timestamp::from_unix_micros(occurred_at),
        event_id: event_id(id),
        position: position(offset),
        stored_bytes: offset.to_be_bytes().to_vec(),
    }
}

pub fn email(n: u64) -> ContactPoint {
    facts::email_address(&format!("person{n}@example.com"))
}

/// One page of `address_states`.
pub type AddressPage = Vec<(ContactValue, AddressState)>;

/// Everything a store holds about the given keys, for comparing stores.
#[derive(Debug, PartialEq)]
pub struct Snapshot {
    pub subjects: BTreeMap<(String, String), Option<SubjectState>>,
    pub organisations: BTreeMap<String, Option<OrganisationState>>,
    pub history: BTreeMap<(String, String), Vec<HistoryEntry>>,
    pub history_by_id: BTreeMap<(String, String, u128), Option<HistoryEntry>>,
    pub contacts: BTreeMap<ContactPoint, Vec<(OrganisationId, SubjectId)>>,
    pub offsets: Option<StoredOffsets>,
    /// `subjects_of` per organisation.
    pub subjects_of: BTreeMap<String, Vec<SubjectId>>,
    pub addresses: BTreeMap<(String, String), Option<AddressState>>,
    /// `address_states` per organisation and page size: every page, read
    /// one after the other from the previous page's last address.
    pub address_pages: BTreeMap<(String, usize), Vec<AddressPage>>,
}

pub fn snapshot(
    store: &dyn ViewStore,
    organisations: &[&str],
    subjects: &[&str],
    event_ids: &[u128],
    contacts: &[ContactPoint],
) -> Result<Snapshot, StoreError> {
    let mut snap = Snapshot {
        subjects: BTreeMap::new(),
        organisations: BTreeMap::new(),
        history: BTreeMap::new(),
        history_by_id: BTreeMap::new(),
        contacts: BTreeMap::new(),
        offsets: store.offsets()?,
        subjects_of: BTreeMap::new(),
        addresses: BTreeMap::new(),
        address_pages: BTreeMap::new(),
    };
    for o in organisations {
        let org = OrganisationId::new(*o);
        snap.subjects_of
            .insert(o.to_string(), store.subjects_of(&org)?);
        snap.organisations
            .insert(o.to_string(), store.organisation_state(&org)?);
        for s in subjects {
            let subject = SubjectId::new(*s);
            snap.subjects.insert(
                (o.to_string(), s.to_string()),
                store.subject_state(&org, &subject)?,
            );
            snap.history.insert(
                (o.to_string(), s.to_string()),
                store.history(&org, &subject)?,
            );
            for id in event_ids {
                snap.history_by_id.insert(
                    (o.to_string(), s.to_string(), *id),
                    store.history_entry(&org, &subject, &event_id(*id))?,
                );
            }
        }
    }
    for o in organisations {
        let org = OrganisationId::new(*o);
        for a in ADDRESSES {
            snap.addresses.insert(
                (o.to_string(), a.to_string()),
                store.address_state(&org, &address_value(a))?,
            );
        }
        for limit in [1, 2, 10] {
            let mut pages = Vec::new();
            let mut after: Option<ContactValue> = None;
            loop {
                let page = store.address_states(&org, after.as_ref(), limit)?;
                let Some((last, _)) = page.last() else {
                    break;
                };
                after = Some(last.clone());
                pages.push(page);
            }
            snap.address_pages.insert((o.to_string(), limit), pages);
        }
    }
    for contact in contacts {
        snap.contacts
            .insert(contact.clone(), store.subjects_by_contact(contact)?);
    }
    Ok(snap)
}
