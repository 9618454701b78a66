//! Facts as the scenarios say them: `sale("cars")`, `consent(&[Email],
//! &[Commercial]).pre_ticked()`, `opt_out(&[Email])`, ...
//!
//! Defaults are the lawful ones (a direct collection with an opt-out
//! offered and not taken; an unticked-box consent with its wording
//! recorded), so each scenario states only what is different.

use consent_domain::event::*;
use consent_domain::identity::{EventId, OrganisationId, SubjectId};
use consent_domain::time::Timestamp;
use consent_domain::vocabulary::*;

pub use consent_domain::vocabulary::Channel::{AutomatedCall, Email, LiveCall, Post, Sms};
pub use consent_domain::vocabulary::Purpose::{Campaigning, Charitable, Commercial};

/// The SHA-256 of the consent wording every test consent records (the
/// digest of `test`): a well-formed wording hash, the same everywhere.
pub const WORDING_SHA256: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

pub fn registered(kind: OrganisationKind) -> Fact {
    Fact::OrganisationRegistered(OrganisationRegistered {
        name: "Acme".to_owned(),
        kind,
        charity_register_number: None,
    })
}

pub fn charity_registered(number: &str) -> Fact {
    Fact::OrganisationRegistered(OrganisationRegistered {
        name: "Acme Trust".to_owned(),
        kind: OrganisationKind::Charity,
        charity_register_number: Some(number.to_owned()),
    })
}

/// The organisation's categories and, for each, what its customers would
/// reasonably expect to hear about.
pub fn categories(map: &[(&str, &[&str])]) -> Fact {
    Fact::ProductCategoriesDefined(ProductCategoriesDefined {
        categories: map
            .iter()
            .map(|(id, similar)| ProductCategory {
                id: (*id).into(),
                name: (*id).to_owned(),
                similar: similar.iter().map(|s| (*s).into()).collect(),
            })
            .collect(),
    })
}

pub fn subscriber(subscriber_type: SubscriberType) -> Fact {
    Fact::SubscriberTypeDeclared(SubscriberTypeDeclared {
        subscriber_type,
        evidence: "declared on the account form".to_owned(),
    })
}

/// A contact value from its text: a digest's text (`digest:` and 64 hex
/// digits) is a sealed value's digest, any other text a value in clear.
pub fn contact_value(text: &str) -> ContactValue {
    match ContactDigest::parse(text) {
        Some(digest) => ContactValue::Digest(digest),
        None => ContactValue::clear(text),
    }
}

/// A sealed value's digest from its text (`digest:` and 64 hex digits).
pub fn digest(text: &str) -> ContactDigest {
    ContactDigest::parse(text)
        .unwrap_or_else(|| panic!("{text:?} is not a digest's text (`digest:` and 64 hex digits)"))
}

pub fn email_address(value: &str) -> ContactPoint {
    ContactPoint {
        kind: ContactKind::Email,
        value: contact_value(value),
    }
}

pub fn mobile(number: &str) -> ContactPoint {
    ContactPoint {
        kind: ContactKind::Mobile,
        value: contact_value(number),
    }
}

pub fn postal(address: &str) -> ContactPoint {
    ContactPoint {
        kind: ContactKind::Postal,
        value: contact_value(address),
    }
}

/// A first-party consent by an unticked box, wording v1 recorded.
pub fn consent(channels: &[Channel], purposes: &[Purpose]) -> ConsentBuilder {
    ConsentBuilder(ConsentGiven {
        channels: channels.to_vec(),
        purposes: purposes.to_vec(),
        wording_version: Some("v1".to_owned()),
        wording_sha256: Some(WORDING_SHA256.to_owned()),
        method: CollectionMethod::UntickedCheckbox,
        collector: ConsentCollector::FirstParty,
        named_organisations: vec![],
        condition_of_service: false,
        contact_point: None,
    })
}

pub struct ConsentBuilder(ConsentGiven);

impl ConsentBuilder {
    pub fn pre_ticked(self) -> Self {
        self.method(CollectionMethod::PreTickedCheckbox)
    }

    pub fn method(mut self, method: CollectionMethod) -> Self {
        self.0.method = method;
        self
    }

    pub fn condition_of_service(mut self) -> Self {
        self.0.condition_of_service = true;
        self
    }

    pub fn without_wording(mut self) -> Self {
        self.0.wording_version = None;
        self.0.wording_sha256 = None;
        self
    }

    /// Collected by a third party, naming these organisations.
    pub fn collected_by(mut self, collector: &str, naming: &[&str]) -> Self {
        self.0.collector = ConsentCollector::ThirdParty {
            collected_by: OrganisationId::from(collector),
        };
        self.0.named_organisations = naming.iter().map(|o| OrganisationId::from(*o)).collect();
        self
    }

    pub fn for_address(mut self, point: ContactPoint) -> Self {
        self.0.contact_point = Some(point);
        self
    }
}

impl From<ConsentBuilder> for Fact {
    fn from(b: ConsentBuilder) -> Fact {
        Fact::ConsentGiven(b.0)
    }
}

/// A withdrawal of consent; empty lists mean every channel / purpose.
pub fn withdrawal(channels: &[Channel], purposes: &[Purpose]) -> Fact {
    Fact::ConsentWithdrawn(ConsentWithdrawn {
        channels: channels.to_vec(),
        purposes: purposes.to_vec(),
        received_via: OptOutMethod::PreferenceCentre,
    })
}

/// A sale of `category`, details collected directly with an opt-out
/// offered and not taken.
pub fn sale(category: &str) -> Collected {
    Collected::new(Occasion::Sale(category.to_owned()))
}

/// A negotiation for a sale of `category`.
pub fn negotiation(category: &str, kind: NegotiationKind) -> Collected {
    Collected::new(Occasion::Negotiation(category.to_owned(), kind))
}

/// Support given to a charity.
pub fn support(kind: SupportKind) -> Collected {
    Collected::new(Occasion::Support(kind))
}

pub enum Occasion {
    Sale(String),
    Negotiation(String, NegotiationKind),
    Support(SupportKind),
}

/// An occasion on which contact details were collected.
pub struct Collected {
    occasion: Occasion,
    collection: DetailsCollection,
}

impl Collected {
    fn new(occasion: Occasion) -> Self {
        Self {
            occasion,
            collection: DetailsCollection {
                route: CollectionRoute::Direct,
                opt_out_offered: true,
                opt_out_taken: false,
                form_version: Some("checkout-v2".to_owned()),
                contact_point: None,
            },
        }
    }

    /// The details came by this route instead of directly.
    pub fn via(mut self, route: CollectionRoute) -> Self {
        self.collection.route = route;
        self
    }

    pub fn no_opt_out_offered(mut self) -> Self {
        self.collection.opt_out_offered = false;
        self
    }

    pub fn opt_out_taken(mut self) -> Self {
        self.collection.opt_out_taken = true;
        self
    }

    pub fn at_address(mut self, point: ContactPoint) -> Self {
        self.collection.contact_point = Some(point);
        self
    }
}

impl From<Collected> for Fact {
    fn from(c: Collected) -> Fact {
        match c.occasion {
            Occasion::Sale(category) => Fact::SaleRecorded(SaleRecorded {
                product_category: category.as_str().into(),
                order_ref: "order-1".to_owned(),
                collection: c.collection,
            }),
            Occasion::Negotiation(category, kind) => {
                Fact::NegotiationRecorded(NegotiationRecorded {
                    product_category: category.as_str().into(),
                    kind,
                    collection: c.collection,
                })
            }
            Occasion::Support(kind) => Fact::CharitySupportRecorded(CharitySupportRecorded {
                kind,
                collection: c.collection,
            }),
        }
    }
}

pub fn opt_out(channels: &[Channel]) -> Fact {
    Fact::OptOutRecorded(OptOutRecorded {
        contact_point: None,
        channels: channels.to_vec(),
        all_channels: false,
        received_via: OptOutMethod::UnsubscribeLink,
    })
}

/// An opt-out of `channels` received for `point` (an unsubscribe from
/// that address, a row of an imported suppression list).
pub fn opt_out_for(point: ContactPoint, channels: &[Channel]) -> Fact {
    Fact::OptOutRecorded(OptOutRecorded {
        contact_point: Some(point),
        channels: channels.to_vec(),
        all_channels: false,
        received_via: OptOutMethod::UnsubscribeLink,
    })
}

/// An objection to direct marketing received for `point` (Art 21(3)).
pub fn objection_for(point: ContactPoint, via: OptOutMethod) -> Fact {
    Fact::ObjectionRecorded(ObjectionRecorded {
        contact_point: Some(point),
        received_via: via,
    })
}

pub fn opt_out_of_everything() -> Fact {
    Fact::OptOutRecorded(OptOutRecorded {
        contact_point: None,
        channels: vec![],
        all_channels: true,
        received_via: OptOutMethod::ReplyStop,
    })
}

/// An objection to direct marketing (UK GDPR Art 21(2)-(3)).
pub fn objection(via: OptOutMethod) -> Fact {
    Fact::ObjectionRecorded(ObjectionRecorded {
        contact_point: None,
        received_via: via,
    })
}

pub fn tps(number: &str, listed_at: Timestamp) -> Fact {
    listing(PreferenceService::Tps, number, listed_at, true)
}

pub fn ctps(number: &str, listed_at: Timestamp) -> Fact {
    listing(PreferenceService::Ctps, number, listed_at, true)
}

pub fn delisted(service: PreferenceService, number: &str, listed_at: Timestamp) -> Fact {
    listing(service, number, listed_at, false)
}

fn listing(service: PreferenceService, number: &str, listed_at: Timestamp, listed: bool) -> Fact {
    Fact::PreferenceServiceListing(PreferenceServiceListing {
        snapshot_ref: None,
        service,
        number: contact_value(number),
        listed_at,
        listed,
    })
}

/// A row of the TPS/CTPS file `reference`: the number is listed (or, in a
/// change file, `listed: false` takes it off). `listed_at` as the importer
/// recorded it: a file with no listing dates gives its own date.
pub fn file_row(
    service: PreferenceService,
    reference: &str,
    number: &str,
    listed_at: Timestamp,
    listed: bool,
) -> Fact {
    Fact::PreferenceServiceListing(PreferenceServiceListing {
        snapshot_ref: Some(reference.to_owned()),
        service,
        number: contact_value(number),
        listed_at,
        listed,
    })
}

/// The organisation screened against the TPS/CTPS file `reference`
/// (full, or a change file), taken at `taken_at` (an organisation-level
/// fact).
pub fn screened(
    service: PreferenceService,
    reference: &str,
    full: bool,
    taken_at: Timestamp,
    numbers: u64,
) -> Fact {
    Fact::PreferenceServiceScreened(PreferenceServiceScreened {
        service,
        full,
        taken_at,
        snapshot_ref: reference.to_owned(),
        numbers,
    })
}

pub fn told_not_to_call(number: &str) -> Fact {
    Fact::ToldNotToCall(CallPreference {
        number: contact_value(number),
    })
}

pub fn does_not_object(number: &str) -> Fact {
    Fact::DoesNotObjectToCalls(CallPreference {
        number: contact_value(number),
    })
}

pub fn erasure() -> Fact {
    Fact::ErasureRequested(ErasureRequested {
        reason: "Art 17 request by email".to_owned(),
    })
}

/// `acme`'s suppression of `digests` after `erased_subject` asked to be
/// erased (an organisation-level fact: give it with `given_org`).
pub fn contacts_suppressed(digests: &[&str], erased_subject: &str) -> Fact {
    Fact::ContactsSuppressed(ContactsSuppressed {
        digests: digests.iter().map(|d| digest(d)).collect(),
        erasure: consent_domain::EventId(uuid::Uuid::from_u128(0xe7a5e)),
        erased_subject: consent_domain::SubjectId::from(erased_subject),
    })
}

pub fn contact(point: ContactPoint) -> Fact {
    Fact::ContactPointRecorded(point)
}

/// `at` plus `days`.
pub fn days_after(at: Timestamp, days: i64) -> Timestamp {
    at.plus_days(days)
}

/// The event id numbered `n` (tests name events by number).
pub fn event_id(n: u128) -> EventId {
    EventId(uuid::Uuid::from_u128(n))
}

/// Event `n` of `organisation`: `fact`, about `subject` (or no subject),
/// occurred and recorded at `at`, from an unnamed source.
pub fn event(
    n: u128,
    organisation: &str,
    subject: Option<&str>,
    at: Timestamp,
    fact: Fact,
) -> Event {
    Event {
        id: event_id(n),
        organisation: OrganisationId::new(organisation),
        subject: subject.map(SubjectId::new),
        occurred_at: at,
        recorded_at: at,
        source: Source::default(),
        fact,
    }
}
