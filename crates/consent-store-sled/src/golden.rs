//! The golden test of the view's encoding: what [`VIEW_FORMAT_VERSION`]
//! promises.
//!
//! A view of one format version must read back under any build that
//! claims that version. So one deterministic sample of everything the store
//! encodes from domain types (a subject's, an organisation's, with its
//! suppressions, and an address's state; a history entry; a frontier and the
//! stored offsets), holding one fact of every [`Fact`] variant with every
//! optional field set, is encoded with the store's own encoding, and the
//! SHA-256 of those bytes is recorded here next to the version. A change to
//! a stored type (a field, a variant, their order) changes the bytes, and
//! this test fails until the version is bumped and the new hash recorded.
//!
//! What is hashed is the postcard bytes of each state (what its zstd frame
//! holds), not the zstd frame: any zstd frame decodes, so the compressor's
//! own output is not part of the format (a zstd upgrade may change it).

use crate::records::RecordBlock;
use crate::{history_value, state_codec, VIEW_FORMAT_VERSION};
use consent_domain::event::{
    CallPreference, CharitySupportRecorded, ConsentGiven, ConsentWithdrawn, ContactsSuppressed,
    ErasureRequested, MarketingMessageSent, NegotiationRecorded, ObjectionRecorded, OptOutRecorded,
    OrganisationRegistered, PreferenceServiceListing, PreferenceServiceScreened,
    ProductCategoriesDefined, ProductCategory, SaleRecorded, SubscriberTypeDeclared,
};
use consent_domain::fold::{Applied, FactSet, Recorded};
use consent_domain::vocabulary::{
    Channel, CollectionMethod, CollectionRoute, ConsentCollector, ContactDigest, ContactKind,
    ContactPoint, ContactValue, DetailsCollection, MessageClass, NegotiationKind, OptOutMethod,
    OrganisationKind, PreferenceService, Purpose, SubscriberType, SupportKind,
};
use consent_domain::{
    AddressState, Event, EventId, EventPosition, Fact, OrganisationId, OrganisationState,
    ProductCategoryId, Source, SubjectId, SubjectState, Timestamp,
};
use consent_evidence::merkle::{leaf_hash, Frontier};
use consent_log::TopicPartition;
use consent_store::{HistoryEntry, StoredOffsets};
use sha2::{Digest, Sha256};

/// The SHA-256 of the sample's encoding under [`VIEW_FORMAT_VERSION`].
/// When the version is bumped, record the hash the failing test prints.
const GOLDEN: (u32, &str) = (
    9,
    "aba68ff92f2c538ed12e0360d91d49419f2ab11613228c24f3e760c8aaa55a8a",
);

const ORGANISATION: &str = "golden-org";
const SUBJECT: &str = "golden-subject";
/// A sealed address: every contact value of the sample is its digest but
/// one, in clear, so that both forms are encoded.
const ADDRESS: ContactDigest = ContactDigest([0x60; 32]);

fn at(day: u64) -> Timestamp {
    Timestamp::from_unix_millis(1_700_000_000_000 + day * 86_400_000)
}

fn contact(kind: ContactKind) -> Option<ContactPoint> {
    Some(ContactPoint {
        kind,
        value: ContactValue::Digest(ADDRESS),
    })
}

fn collection() -> DetailsCollection {
    DetailsCollection {
        route: CollectionRoute::Direct,
        opt_out_offered: true,
        opt_out_taken: false,
        form_version: Some("form-3".to_owned()),
        contact_point: contact(ContactKind::Email),
    }
}

/// One fact of every variant, every optional field set, in the enum's
/// order.
fn every_fact() -> Vec<Fact> {
    let category = ProductCategoryId::new("garden");
    vec![
        Fact::OrganisationRegistered(OrganisationRegistered {
            name: "Golden Charity".to_owned(),
            kind: OrganisationKind::Charity,
            charity_register_number: Some("1234567".to_owned()),
        }),
        Fact::ProductCategoriesDefined(ProductCategoriesDefined {
            categories: vec![ProductCategory {
                id: category.clone(),
                name: "Garden".to_owned(),
                similar: vec![ProductCategoryId::new("outdoor")],
            }],
        }),
        Fact::SubscriberTypeDeclared(SubscriberTypeDeclared {
            subscriber_type: SubscriberType::SoleTrader,
            evidence: "declared at sign-up".to_owned(),
        }),
        Fact::ContactPointRecorded(ContactPoint {
            kind: ContactKind::Mobile,
            value: ContactValue::clear("+447700900999"),
        }),
        Fact::ConsentGiven(ConsentGiven {
            channels: vec![Channel::Email, Channel::Sms],
            purposes: vec![Purpose::Commercial, Purpose::Charitable],
            wording_version: Some("v2".to_owned()),
            wording_sha256: Some("ab".repeat(32)),
            method: CollectionMethod::DoubleOptIn,
            collector: ConsentCollector::ThirdParty {
                collected_by: OrganisationId::new("collector"),
            },
            named_organisations: vec![OrganisationId::new(ORGANISATION)],
            condition_of_service: true,
            contact_point: contact(ContactKind::Email),
        }),
        Fact::ConsentWithdrawn(ConsentWithdrawn {
            channels: vec![Channel::LiveCall],
            purposes: vec![Purpose::Campaigning],
            received_via: OptOutMethod::PreferenceCentre,
        }),
        Fact::SaleRecorded(SaleRecorded {
            product_category: category.clone(),
            order_ref: "order-1".to_owned(),
            collection: collection(),
        }),
        Fact::NegotiationRecorded(NegotiationRecorded {
            product_category: category.clone(),
            kind: NegotiationKind::DetailsRequested,
            collection: collection(),
        }),
        Fact::CharitySupportRecorded(CharitySupportRecorded {
            kind: SupportKind::Membership,
            collection: collection(),
        }),
        Fact::OptOutRecorded(OptOutRecorded {
            channels: vec![Channel::Email],
            all_channels: true,
            received_via: OptOutMethod::OneClick,
            contact_point: contact(ContactKind::Email),
        }),
        Fact::ObjectionRecorded(ObjectionRecorded {
            received_via: OptOutMethod::Letter,
            contact_point: contact(ContactKind::Postal),
        }),
        Fact::MarketingMessageSent(MarketingMessageSent {
            channel: Channel::Sms,
            purpose: Purpose::Charitable,
            product_category: Some(category),
            message_class: MessageClass::Marketing,
            promotional_content: true,
            opt_out_included: true,
            sender_identified: true,
            message_id: "message-1".to_owned(),
            campaign_id: "campaign-1".to_owned(),
            contact_point: contact(ContactKind::Mobile),
            sole_charitable_purpose: true,
        }),
        Fact::PreferenceServiceListing(PreferenceServiceListing {
            service: PreferenceService::Ctps,
            number: ContactValue::Digest(ADDRESS),
            listed_at: at(1),
            listed: true,
            snapshot_ref: Some("tps-2024-01".to_owned()),
        }),
        Fact::ToldNotToCall(CallPreference {
            number: ContactValue::Digest(ADDRESS),
        }),
        Fact::DoesNotObjectToCalls(CallPreference {
            number: ContactValue::Digest(ADDRESS),
        }),
        Fact::ErasureRequested(ErasureRequested {
            reason: "asked by letter".to_owned(),
        }),
        Fact::ContactsSuppressed(ContactsSuppressed {
            digests: vec![ADDRESS, ContactDigest([0x61; 32])],
            erasure: EventId(uuid::Uuid::from_u128(0xe4a5)),
            erased_subject: SubjectId::new("erased-subject"),
        }),
        Fact::PreferenceServiceScreened(PreferenceServiceScreened {
            service: PreferenceService::Tps,
            full: true,
            taken_at: at(2),
            snapshot_ref: "tps-2024-02".to_owned(),
            numbers: 21_000_000,
        }),
    ]
}

/// Names every variant with no wildcard arm: a new [`Fact`] variant fails
/// to compile here. Add it, then add a sample of it (every optional field
/// set) to [`every_fact`]; the test below checks that the samples cover
/// every variant the enum has.
fn sampled(fact: &Fact) -> &'static str {
    match fact {
        Fact::OrganisationRegistered(_)
        | Fact::ProductCategoriesDefined(_)
        | Fact::SubscriberTypeDeclared(_)
        | Fact::ContactPointRecorded(_)
        | Fact::ConsentGiven(_)
        | Fact::ConsentWithdrawn(_)
        | Fact::SaleRecorded(_)
        | Fact::NegotiationRecorded(_)
        | Fact::CharitySupportRecorded(_)
        | Fact::OptOutRecorded(_)
        | Fact::ObjectionRecorded(_)
        | Fact::MarketingMessageSent(_)
        | Fact::PreferenceServiceListing(_)
        | Fact::ToldNotToCall(_)
        | Fact::DoesNotObjectToCalls(_)
        | Fact::ErasureRequested(_)
        | Fact::ContactsSuppressed(_)
        | Fact::PreferenceServiceScreened(_) => fact.kind(),
    }
}

/// How many variants `Fact` has, as serde sees it: postcard reads a
/// variant index first, and an index past the last variant is refused as
/// such, while a valid one runs out of input reading its fields.
fn fact_variant_count() -> u8 {
    (0..=u8::MAX)
        .find(|index| {
            !matches!(
                postcard::from_bytes::<Fact>(&[*index]),
                Err(postcard::Error::DeserializeUnexpectedEnd)
            )
        })
        .expect("fewer than 256 variants")
}

fn position(offset: u64) -> EventPosition {
    EventPosition {
        topic: "consent.subject".to_owned(),
        partition: 3,
        offset,
    }
}

fn events() -> Vec<(Event, EventPosition)> {
    every_fact()
        .into_iter()
        .zip(0u64..)
        .map(|(fact, n)| {
            let event = Event {
                id: EventId(uuid::Uuid::from_u128(0x601d_0000 + u128::from(n))),
                organisation: OrganisationId::new(ORGANISATION),
                subject: Some(SubjectId::new(SUBJECT)),
                occurred_at: at(n),
                recorded_at: at(n + 1),
                source: Source {
                    system: "crm".to_owned(),
                    actor: "agent-7".to_owned(),
                    evidence_ref: "ref-1".to_owned(),
                    form_id: "form-1".to_owned(),
                    url: "https://example.org/form".to_owned(),
                },
                fact,
            };
            (event, position(100 + n))
        })
        .collect()
}

struct Sample {
    subject: SubjectState,
    organisation: OrganisationState,
    address: AddressState,
}

fn sample() -> Sample {
    let mut sample = Sample {
        subject: SubjectState::default(),
        organisation: OrganisationState::default(),
        address: AddressState::default(),
    };
    for (event, position) in events() {
        let held = [
            sample.subject.apply(&event, Some(position.clone())),
            sample.organisation.apply(&event, Some(position.clone())),
            sample.address.apply(&event, Some(position)),
        ];
        // Every fact is held by some state, except the messages sent, which
        // the view keeps only as history entries (the log's bytes).
        let history_only = matches!(event.fact, Fact::MarketingMessageSent(_));
        assert_eq!(
            held.contains(&Applied::Added),
            !history_only,
            "the sample's {} fact: which state holds it changed; update this test",
            event.fact.kind()
        );
    }
    sample
}

/// Every value the sample encodes, as the store writes it.
fn encoded(sample: &Sample) -> Vec<Vec<u8>> {
    let history = HistoryEntry {
        organisation: OrganisationId::new(ORGANISATION),
        subject: SubjectId::new(SUBJECT),
        occurred_at: at(3),
        event_id: EventId(uuid::Uuid::from_u128(0x4157)),
        position: position(7),
        stored_bytes: b"the record's bytes as stored in the log".to_vec(),
    };
    let block = RecordBlock::of(vec![
        history.stored_bytes.clone(),
        b"another record".to_vec(),
    ]);
    let mut frontier = Frontier::new();
    for leaf in [b"a", b"b", b"c"] {
        frontier.append(leaf_hash(leaf)).expect("a small tree");
    }
    let offsets: StoredOffsets = [
        (TopicPartition::new("consent.subject", 3), 117),
        (TopicPartition::new("consent.reference", 0), 9),
    ]
    .into_iter()
    .collect();
    let subject_facts = sample
        .subject
        .facts
        .facts()
        .iter()
        .map(|fact| crate::encode(fact).expect("subject fact"));
    subject_facts
        .chain([
            state_codec::postcard_bytes(&sample.organisation).expect("organisation state"),
            state_codec::postcard_bytes(&sample.address).expect("address state"),
            history_value(&history).expect("history entry"),
            crate::encode(&frontier).expect("frontier"),
            crate::encode(&offsets).expect("offsets"),
            block.plain().expect("record block"),
        ])
        .collect()
}

fn sha256_hex(values: &[Vec<u8>]) -> String {
    let mut hasher = Sha256::new();
    for value in values {
        // Length-prefixed, so moving bytes between values changes the hash.
        hasher.update((value.len() as u64).to_be_bytes());
        hasher.update(value);
    }
    hex::encode(hasher.finalize())
}

#[test]
fn the_sample_holds_one_fact_of_every_variant() {
    let kinds: Vec<&str> = every_fact().iter().map(sampled).collect();
    let indices: Vec<u8> = every_fact()
        .iter()
        .map(|fact| postcard::to_stdvec(fact).expect("encode")[0])
        .collect();
    let expected: Vec<u8> = (0..fact_variant_count()).collect();
    assert_eq!(
        indices, expected,
        "every_fact() must hold one fact of every Fact variant, in the enum's order \
         (it holds {kinds:?})"
    );
}

#[test]
fn the_sample_reads_back_through_the_stores_codec() {
    let sample = sample();
    let facts = sample.subject.facts.facts().iter().map(|fact| {
        let bytes = crate::encode(fact).expect("encode");
        crate::decode::<Recorded<Fact>>(b"S", &bytes).expect("decode")
    });
    let subject = SubjectState {
        facts: FactSet::from_recorded(facts),
    };
    assert_eq!(subject, sample.subject);
    let (bytes, _) = state_codec::encode(&sample.organisation).expect("encode");
    let (organisation, _) = state_codec::decode::<OrganisationState>(b"O", &bytes).expect("decode");
    assert_eq!(organisation, sample.organisation);
    let (bytes, _) = state_codec::encode(&sample.address).expect("encode");
    let (address, _) = state_codec::decode::<AddressState>(b"A", &bytes).expect("decode");
    assert_eq!(address, sample.address);
}

#[test]
fn the_views_encoding_is_the_one_its_format_version_names() {
    let hash = sha256_hex(&encoded(&sample()));
    let (version, golden) = GOLDEN;
    if version == VIEW_FORMAT_VERSION {
        assert_eq!(
            hash,
            golden,
            "the view's encoding changed: bump VIEW_FORMAT_VERSION (and record the new hash \
             in GOLDEN in crates/consent-store-sled/src/golden.rs: ({}, \"{hash}\"))",
            VIEW_FORMAT_VERSION + 1
        );
    } else {
        panic!(
            "VIEW_FORMAT_VERSION is {VIEW_FORMAT_VERSION} but GOLDEN records version {version}: \
             record the hash for the new version in GOLDEN in \
             crates/consent-store-sled/src/golden.rs: ({VIEW_FORMAT_VERSION}, \"{hash}\")"
        );
    }
}
