//! Facts, in their validated domain form.
//!
//! The stored form is the protobuf `consent.v1.Envelope` (crate
//! `consent-schema`), which converts to these types and refuses what the
//! core cannot decide on.

use crate::identity::{EventId, OrganisationId, ProductCategoryId, SubjectId};
use crate::time::Timestamp;
use crate::vocabulary::*;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::fmt;

/// Where an event sits in the log (topic, partition, offset).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct EventPosition {
    pub topic: String,
    pub partition: u32,
    pub offset: u64,
}

impl fmt::Display for EventPosition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}@{}", self.topic, self.partition, self.offset)
    }
}

/// Provenance of a fact.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Source {
    pub system: String,
    pub actor: String,
    pub evidence_ref: String,
    pub form_id: String,
    pub url: String,
}

/// One fact with its envelope.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    pub id: EventId,
    pub organisation: OrganisationId,
    /// `None` only for organisation-level facts.
    pub subject: Option<SubjectId>,
    pub occurred_at: Timestamp,
    pub recorded_at: Timestamp,
    pub source: Source,
    pub fact: Fact,
}

/// Every kind of fact the ledger records.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Fact {
    OrganisationRegistered(OrganisationRegistered),
    ProductCategoriesDefined(ProductCategoriesDefined),
    SubscriberTypeDeclared(SubscriberTypeDeclared),
    ContactPointRecorded(ContactPoint),
    ConsentGiven(ConsentGiven),
    ConsentWithdrawn(ConsentWithdrawn),
    SaleRecorded(SaleRecorded),
    NegotiationRecorded(NegotiationRecorded),
    CharitySupportRecorded(CharitySupportRecorded),
    OptOutRecorded(OptOutRecorded),
    ObjectionRecorded(ObjectionRecorded),
    MarketingMessageSent(MarketingMessageSent),
    PreferenceServiceListing(PreferenceServiceListing),
    ToldNotToCall(CallPreference),
    DoesNotObjectToCalls(CallPreference),
    ErasureRequested(ErasureRequested),
    ContactsSuppressed(ContactsSuppressed),
    PreferenceServiceScreened(PreferenceServiceScreened),
}

/// Whom a fact is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FactScope {
    /// About the organisation itself (kind, product similarity).
    Organisation,
    /// About one subject of one organisation; decides eligibility.
    Subject,
    /// About one subject, kept in history and evidence but not needed to
    /// decide (messages sent).
    SubjectHistoryOnly,
    /// About an address of the organisation ([`Fact::address`]), and about
    /// a subject too when it names one: an opt-out or objection received
    /// for an email address or number, a TPS/CTPS listing, a call
    /// preference. Without a subject (an imported suppression list, a TPS
    /// file) it is about the address alone. Decides eligibility.
    SubjectOrAddress,
}

impl Fact {
    /// The `snake_case` name of the fact, as in the protobuf `payload` oneof.
    pub fn kind(&self) -> &'static str {
        match self {
            Fact::OrganisationRegistered(_) => "organisation_registered",
            Fact::ProductCategoriesDefined(_) => "product_categories_defined",
            Fact::SubscriberTypeDeclared(_) => "subscriber_type_declared",
            Fact::ContactPointRecorded(_) => "contact_point_recorded",
            Fact::ConsentGiven(_) => "consent_given",
            Fact::ConsentWithdrawn(_) => "consent_withdrawn",
            Fact::SaleRecorded(_) => "sale_recorded",
            Fact::NegotiationRecorded(_) => "negotiation_recorded",
            Fact::CharitySupportRecorded(_) => "charity_support_recorded",
            Fact::OptOutRecorded(_) => "opt_out_recorded",
            Fact::ObjectionRecorded(_) => "objection_recorded",
            Fact::MarketingMessageSent(_) => "marketing_message_sent",
            Fact::PreferenceServiceListing(_) => "preference_service_listing",
            Fact::ToldNotToCall(_) => "told_not_to_call",
            Fact::DoesNotObjectToCalls(_) => "does_not_object_to_calls",
            Fact::ErasureRequested(_) => "erasure_requested",
            Fact::ContactsSuppressed(_) => "contacts_suppressed",
            Fact::PreferenceServiceScreened(_) => "preference_service_screened",
        }
    }

    /// The contact point the fact was recorded with, if it names one (a
    /// fact names at most one). Telephone numbers of TPS/CTPS listings and
    /// call preferences are not contact points: they carry no contact kind
    /// (mobile or landline).
    pub fn contact_point(&self) -> Option<&ContactPoint> {
        match self {
            Fact::ContactPointRecorded(p) => Some(p),
            Fact::ConsentGiven(f) => f.contact_point.as_ref(),
            Fact::SaleRecorded(f) => f.collection.contact_point.as_ref(),
            Fact::NegotiationRecorded(f) => f.collection.contact_point.as_ref(),
            Fact::CharitySupportRecorded(f) => f.collection.contact_point.as_ref(),
            Fact::MarketingMessageSent(f) => f.contact_point.as_ref(),
            Fact::OrganisationRegistered(_)
            | Fact::ProductCategoriesDefined(_)
            | Fact::SubscriberTypeDeclared(_)
            | Fact::ConsentWithdrawn(_)
            | Fact::OptOutRecorded(_)
            | Fact::ObjectionRecorded(_)
            | Fact::PreferenceServiceListing(_)
            | Fact::ToldNotToCall(_)
            | Fact::DoesNotObjectToCalls(_)
            | Fact::ErasureRequested(_)
            | Fact::ContactsSuppressed(_)
            | Fact::PreferenceServiceScreened(_) => None,
        }
    }

    /// The address (a contact value as the ledger compares it: normalised,
    /// or its digest once sealed) under which the organisation keeps this
    /// fact whichever subject it concerns: the contact point an opt-out or
    /// objection was received for, the number of a TPS/CTPS listing or of
    /// a call preference. `None` for every other fact.
    pub fn address(&self) -> Option<&ContactValue> {
        match self {
            Fact::OptOutRecorded(f) => f.contact_point.as_ref().map(|p| &p.value),
            Fact::ObjectionRecorded(f) => f.contact_point.as_ref().map(|p| &p.value),
            Fact::PreferenceServiceListing(f) => Some(&f.number),
            Fact::ToldNotToCall(f) | Fact::DoesNotObjectToCalls(f) => Some(&f.number),
            _ => None,
        }
    }

    /// Every contact value the fact carries: its contact point's value
    /// and telephone numbers (digests, for sealed values). What a
    /// suppression list is looked up by. Borrowed, but for a suppression's
    /// digests, which are made values here.
    pub fn contact_values(&self) -> Vec<Cow<'_, ContactValue>> {
        match self {
            Fact::PreferenceServiceListing(f) => vec![Cow::Borrowed(&f.number)],
            Fact::ToldNotToCall(f) | Fact::DoesNotObjectToCalls(f) => {
                vec![Cow::Borrowed(&f.number)]
            }
            Fact::ContactsSuppressed(f) => f
                .digests
                .iter()
                .map(|digest| Cow::Owned(ContactValue::Digest(*digest)))
                .collect(),
            Fact::OptOutRecorded(_) | Fact::ObjectionRecorded(_) => {
                self.address().map(Cow::Borrowed).into_iter().collect()
            }
            Fact::PreferenceServiceScreened(_) => Vec::new(),
            Fact::ContactPointRecorded(_)
            | Fact::ConsentGiven(_)
            | Fact::SaleRecorded(_)
            | Fact::NegotiationRecorded(_)
            | Fact::CharitySupportRecorded(_)
            | Fact::MarketingMessageSent(_)
            | Fact::OrganisationRegistered(_)
            | Fact::ProductCategoriesDefined(_)
            | Fact::SubscriberTypeDeclared(_)
            | Fact::ConsentWithdrawn(_)
            | Fact::ErasureRequested(_) => self
                .contact_point()
                .map(|point| Cow::Borrowed(&point.value))
                .into_iter()
                .collect(),
        }
    }

    pub fn scope(&self) -> FactScope {
        match self {
            Fact::OrganisationRegistered(_)
            | Fact::ProductCategoriesDefined(_)
            | Fact::ContactsSuppressed(_)
            | Fact::PreferenceServiceScreened(_) => FactScope::Organisation,
            Fact::MarketingMessageSent(_) => FactScope::SubjectHistoryOnly,
            _ if self.address().is_some() => FactScope::SubjectOrAddress,
            _ => FactScope::Subject,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrganisationRegistered {
    pub name: String,
    pub kind: OrganisationKind,
    /// Present (and required by the edge) for charities.
    pub charity_register_number: Option<String>,
}

/// The organisation's categories and what each one's customers would
/// reasonably expect to hear about. Replaces any earlier definition from its
/// `occurred_at` on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductCategoriesDefined {
    pub categories: Vec<ProductCategory>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductCategory {
    pub id: ProductCategoryId,
    pub name: String,
    pub similar: Vec<ProductCategoryId>,
}

impl ProductCategoriesDefined {
    /// Would a customer of `bought` reasonably expect marketing about
    /// `marketed`? A category is always similar to itself; otherwise only
    /// what the mapping lists. Unknown categories are not similar (fail
    /// closed).
    pub fn is_similar(&self, bought: &ProductCategoryId, marketed: &ProductCategoryId) -> bool {
        if bought == marketed {
            return true;
        }
        self.categories
            .iter()
            .find(|c| &c.id == bought)
            .is_some_and(|c| c.similar.iter().any(|s| s == marketed))
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscriberTypeDeclared {
    pub subscriber_type: SubscriberType,
    pub evidence: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentGiven {
    pub channels: Vec<Channel>,
    pub purposes: Vec<Purpose>,
    /// Version and SHA-256 of the wording shown; `None` when the producer did
    /// not record them (then the consent is not demonstrable).
    pub wording_version: Option<String>,
    pub wording_sha256: Option<String>,
    pub method: CollectionMethod,
    pub collector: ConsentCollector,
    /// Organisations named specifically in third-party consent wording.
    pub named_organisations: Vec<OrganisationId>,
    pub condition_of_service: bool,
    pub contact_point: Option<ContactPoint>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentWithdrawn {
    /// Empty means every channel.
    pub channels: Vec<Channel>,
    /// Empty means every purpose.
    pub purposes: Vec<Purpose>,
    pub received_via: OptOutMethod,
}

impl ConsentWithdrawn {
    pub fn covers(&self, channel: Channel, purpose: Purpose) -> bool {
        (self.channels.is_empty() || self.channels.contains(&channel))
            && (self.purposes.is_empty() || self.purposes.contains(&purpose))
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaleRecorded {
    pub product_category: ProductCategoryId,
    pub order_ref: String,
    pub collection: DetailsCollection,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NegotiationRecorded {
    pub product_category: ProductCategoryId,
    pub kind: NegotiationKind,
    pub collection: DetailsCollection,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CharitySupportRecorded {
    pub kind: SupportKind,
    pub collection: DetailsCollection,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OptOutRecorded {
    /// The channels opted out of; every channel when `all_channels`.
    pub channels: Vec<Channel>,
    pub all_channels: bool,
    pub received_via: OptOutMethod,
    /// The address the opt-out was received for: suppressed for the
    /// organisation on these channels whatever subject it is used for.
    pub contact_point: Option<ContactPoint>,
}

impl OptOutRecorded {
    pub fn covers(&self, channel: Channel) -> bool {
        self.all_channels || self.channels.contains(&channel)
    }
}

/// UK GDPR Art 21(2)-(3): absolute, for this organisation, on every channel.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectionRecorded {
    pub received_via: OptOutMethod,
    /// The address the objection was received for: suppressed for the
    /// organisation on every channel whatever subject it is used for.
    pub contact_point: Option<ContactPoint>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarketingMessageSent {
    pub channel: Channel,
    pub purpose: Purpose,
    pub product_category: Option<ProductCategoryId>,
    pub message_class: MessageClass,
    pub promotional_content: bool,
    pub opt_out_included: bool,
    pub sender_identified: bool,
    pub message_id: String,
    pub campaign_id: String,
    pub contact_point: Option<ContactPoint>,
    /// The message's sole purpose was furthering the sender's charitable
    /// purposes (reg 22(3A)); false for sends recorded without it.
    pub sole_charitable_purpose: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreferenceServiceListing {
    pub service: PreferenceService,
    /// E.164 number, or its digest.
    pub number: ContactValue,
    /// When the number was registered with the service.
    pub listed_at: Timestamp,
    /// False: the number is no longer listed.
    pub listed: bool,
    /// The screening ([`PreferenceServiceScreened::snapshot_ref`]) this
    /// listing was imported with; `None` for a listing recorded on its own.
    pub snapshot_ref: Option<String>,
}

/// The organisation screened its numbers against a TPS or CTPS file (PECR
/// reg 21(3), 26), every row of which is recorded as a
/// [`PreferenceServiceListing`] with the same `snapshot_ref`. Appended
/// after the rows, so an interrupted import is no screening. A full file
/// replaces the list; a delta adds and removes listings on top of the
/// latest full one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreferenceServiceScreened {
    pub service: PreferenceService,
    /// A full file (true) or a delta (false).
    pub full: bool,
    /// The date the file describes (the service's extract date).
    pub taken_at: Timestamp,
    /// Identifies the file (hex SHA-256 of its bytes).
    pub snapshot_ref: String,
    /// Numbers listed in the file.
    pub numbers: u64,
}

/// A number-scoped call preference told to this caller: told-not-to-call
/// (reg 21(1)(a)) or does-not-object (reg 21(4)).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallPreference {
    /// E.164 number, or its digest.
    pub number: ContactValue,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErasureRequested {
    pub reason: String,
}

/// Contact values the organisation must never market to again, whichever
/// subject they are recorded under: its suppression list, one entry per
/// erasure (UK GDPR Art 17, Art 21(3)). An organisation-level fact, so it
/// reaches every state of the organisation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactsSuppressed {
    /// The contact values as the ledger compares them: their keyed digests
    /// (see [`crate::vocabulary::ContactPoint::value`]).
    pub digests: Vec<ContactDigest>,
    /// The erasure request this follows from.
    pub erasure: EventId,
    pub erased_subject: SubjectId,
}
