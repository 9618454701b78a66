//! `consent.v1.Envelope` <-> [`consent_domain::Event`].
//!
//! [`event_from_proto`] is the gate every fact passes on its way into the
//! domain, whether it arrives over the API or is read back from the log: it
//! refuses anything the rules could not decide on and names the field.
//! [`event_to_proto`] is its inverse on valid events:
//! `event_from_proto(&event_to_proto(&e)) == Ok(e)`.

use crate::contact::{
    contact_point_from_proto, contact_point_to_proto, digest_from_bytes, number_or_sealed,
    optional_contact_point, value_to_proto,
};
use crate::error::ValidationError;
use crate::fields::{
    identifier, max_bytes, max_items, optional_identifier, or_empty, required, short_text, text,
    MAX_ENVELOPE_BYTES, MAX_ID_BYTES,
};
use crate::timestamp::{required_timestamp, timestamp_to_proto};
use crate::v1::{self, envelope::Payload};
use crate::vocabulary::{decode, decode_set, encode_set, Vocabulary};
use consent_domain::event::{
    CallPreference, CharitySupportRecorded, ConsentGiven, ConsentWithdrawn, ContactsSuppressed,
    ErasureRequested, FactScope, MarketingMessageSent, NegotiationRecorded, ObjectionRecorded,
    OptOutRecorded, OrganisationRegistered, PreferenceServiceListing, PreferenceServiceScreened,
    ProductCategoriesDefined, ProductCategory, SaleRecorded, SubscriberTypeDeclared,
};
use consent_domain::vocabulary::{ConsentCollector, DetailsCollection, OrganisationKind};
use consent_domain::{Event, EventId, Fact, OrganisationId, ProductCategoryId, Source, SubjectId};
use prost::Message;
use std::collections::HashMap;

/// The schema version this crate writes and reads. Envelopes with version 0
/// (unset) are read as version 1.
pub const SCHEMA_VERSION: u32 = 1;

/// Validates an envelope and converts it to a domain event.
///
/// Refuses (naming the field path, e.g. `consent_given.channels[1]`):
/// a non-UUID `event_id`; an empty `organisation_id`; a `subject_id` that is
/// empty for a subject's fact or set for an organisation-level fact; a
/// missing `occurred_at`, `recorded_at` or `payload`; an unspecified or
/// unknown enum value; a fact missing what the rules need (see each payload
/// in `events.proto`); malformed contact points; oversized strings, lists or
/// envelopes; and a `schema_version` above [`SCHEMA_VERSION`]. Never panics.
pub fn event_from_proto(envelope: &v1::Envelope) -> Result<Event, ValidationError> {
    let size = envelope.encoded_len();
    if size > MAX_ENVELOPE_BYTES {
        return Err(ValidationError::new(
            "envelope",
            format!("is {size} bytes encoded; the limit is {MAX_ENVELOPE_BYTES}"),
        ));
    }
    if envelope.schema_version > SCHEMA_VERSION {
        return Err(ValidationError::new(
            "schema_version",
            format!(
                "version {} is not supported; this ledger reads version {SCHEMA_VERSION}",
                envelope.schema_version
            ),
        ));
    }
    let id = event_id("event_id", &envelope.event_id)?;
    let organisation =
        OrganisationId::new(identifier("organisation_id", &envelope.organisation_id)?);
    let payload = envelope.payload.as_ref().ok_or_else(|| {
        ValidationError::new("payload", "required: set one fact, e.g. `consent_given`")
    })?;
    let fact = fact_from_proto(payload)?;
    let subject = match fact.scope() {
        FactScope::Organisation => {
            if !envelope.subject_id.is_empty() {
                return Err(ValidationError::new(
                    "subject_id",
                    format!(
                        "must be empty for `{}`, an organisation-level fact",
                        fact.kind()
                    ),
                ));
            }
            None
        }
        FactScope::Subject | FactScope::SubjectHistoryOnly => {
            if envelope.subject_id.is_empty() {
                return Err(ValidationError::new(
                    "subject_id",
                    format!("required for `{}`", fact.kind()),
                ));
            }
            Some(SubjectId::new(identifier(
                "subject_id",
                &envelope.subject_id,
            )?))
        }
        // About an address, and about a subject when one is named.
        FactScope::SubjectOrAddress => {
            if envelope.subject_id.is_empty() {
                None
            } else {
                Some(SubjectId::new(identifier(
                    "subject_id",
                    &envelope.subject_id,
                )?))
            }
        }
    };
    let occurred_at = required_timestamp("occurred_at", envelope.occurred_at.as_ref())?;
    let recorded_at = required_timestamp("recorded_at", envelope.recorded_at.as_ref())?;
    let source = match &envelope.source {
        Some(source) => source_from_proto(source)?,
        None => Source::default(),
    };
    Ok(Event {
        id,
        organisation,
        subject,
        occurred_at,
        recorded_at,
        source,
        fact,
    })
}

/// The stored form of a domain event, at [`SCHEMA_VERSION`].
pub fn event_to_proto(event: &Event) -> v1::Envelope {
    v1::Envelope {
        event_id: event.id.to_string(),
        organisation_id: event.organisation.as_str().to_owned(),
        subject_id: event
            .subject
            .as_ref()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default(),
        occurred_at: Some(timestamp_to_proto(event.occurred_at)),
        recorded_at: Some(timestamp_to_proto(event.recorded_at)),
        source: Some(source_to_proto(&event.source)),
        schema_version: SCHEMA_VERSION,
        payload: Some(fact_to_proto(&event.fact)),
    }
}

/// An event id: a UUID in text form.
pub fn event_id(field: &str, value: &str) -> Result<EventId, ValidationError> {
    if value.is_empty() {
        return Err(ValidationError::new(field, "required"));
    }
    max_bytes(field, value, MAX_ID_BYTES)?;
    uuid::Uuid::parse_str(value).map(EventId).map_err(|_| {
        ValidationError::new(
            field,
            "must be a UUID, e.g. 0190f2a4-7b3c-7d2e-9f10-1a2b3c4d5e6f",
        )
    })
}

fn source_from_proto(source: &v1::Source) -> Result<Source, ValidationError> {
    Ok(Source {
        system: short_text("source.system", &source.system)?,
        actor: short_text("source.actor", &source.actor)?,
        evidence_ref: text("source.evidence_ref", &source.evidence_ref)?,
        form_id: short_text("source.form_id", &source.form_id)?,
        url: text("source.url", &source.url)?,
    })
}

fn source_to_proto(source: &Source) -> v1::Source {
    v1::Source {
        system: source.system.clone(),
        actor: source.actor.clone(),
        evidence_ref: source.evidence_ref.clone(),
        form_id: source.form_id.clone(),
        url: source.url.clone(),
    }
}

// ------------------------------------------------------------------ facts

fn fact_from_proto(payload: &Payload) -> Result<Fact, ValidationError> {
    Ok(match payload {
        Payload::OrganisationRegistered(p) => {
            Fact::OrganisationRegistered(organisation_registered(p)?)
        }
        Payload::ProductCategoriesDefined(p) => {
            Fact::ProductCategoriesDefined(product_categories_defined(p)?)
        }
        Payload::SubscriberTypeDeclared(p) => {
            const F: &str = "subscriber_type_declared";
            Fact::SubscriberTypeDeclared(SubscriberTypeDeclared {
                subscriber_type: decode(&format!("{F}.subscriber_type"), p.subscriber_type)?,
                evidence: text(&format!("{F}.evidence"), &p.evidence)?,
            })
        }
        Payload::ContactPointRecorded(p) => {
            const F: &str = "contact_point_recorded.contact_point";
            Fact::ContactPointRecorded(contact_point_from_proto(
                F,
                required(F, p.contact_point.as_ref())?,
            )?)
        }
        Payload::ConsentGiven(p) => Fact::ConsentGiven(consent_given(p)?),
        Payload::ConsentWithdrawn(p) => {
            const F: &str = "consent_withdrawn";
            Fact::ConsentWithdrawn(ConsentWithdrawn {
                channels: decode_set(&format!("{F}.channels"), &p.channels)?,
                purposes: decode_set(&format!("{F}.purposes"), &p.purposes)?,
                received_via: decode(&format!("{F}.received_via"), p.received_via)?,
            })
        }
        Payload::SaleRecorded(p) => {
            const F: &str = "sale_recorded";
            Fact::SaleRecorded(SaleRecorded {
                product_category: ProductCategoryId::new(identifier(
                    &format!("{F}.product_category_id"),
                    &p.product_category_id,
                )?),
                order_ref: short_text(&format!("{F}.order_ref"), &p.order_ref)?,
                collection: details_collection(&format!("{F}.collection"), p.collection.as_ref())?,
            })
        }
        Payload::NegotiationRecorded(p) => {
            const F: &str = "negotiation_recorded";
            Fact::NegotiationRecorded(NegotiationRecorded {
                product_category: ProductCategoryId::new(identifier(
                    &format!("{F}.product_category_id"),
                    &p.product_category_id,
                )?),
                kind: decode(&format!("{F}.kind"), p.kind)?,
                collection: details_collection(&format!("{F}.collection"), p.collection.as_ref())?,
            })
        }
        Payload::CharitySupportRecorded(p) => {
            const F: &str = "charity_support_recorded";
            Fact::CharitySupportRecorded(CharitySupportRecorded {
                kind: decode(&format!("{F}.kind"), p.kind)?,
                collection: details_collection(&format!("{F}.collection"), p.collection.as_ref())?,
            })
        }
        Payload::OptOutRecorded(p) => {
            const F: &str = "opt_out_recorded";
            let channels = decode_set(&format!("{F}.channels"), &p.channels)?;
            if channels.is_empty() && !p.all_channels {
                return Err(ValidationError::new(
                    format!("{F}.channels"),
                    "list at least one channel, or set `all_channels`",
                ));
            }
            Fact::OptOutRecorded(OptOutRecorded {
                channels,
                all_channels: p.all_channels,
                received_via: decode(&format!("{F}.received_via"), p.received_via)?,
                contact_point: optional_contact_point(
                    &format!("{F}.contact_point"),
                    p.contact_point.as_ref(),
                )?,
            })
        }
        Payload::ObjectionRecorded(p) => Fact::ObjectionRecorded(ObjectionRecorded {
            received_via: decode("objection_recorded.received_via", p.received_via)?,
            contact_point: optional_contact_point(
                "objection_recorded.contact_point",
                p.contact_point.as_ref(),
            )?,
        }),
        Payload::MarketingMessageSent(p) => Fact::MarketingMessageSent(marketing_message_sent(p)?),
        Payload::PreferenceServiceListing(p) => {
            const F: &str = "preference_service_listing";
            Fact::PreferenceServiceListing(PreferenceServiceListing {
                service: decode(&format!("{F}.service"), p.service)?,
                number: number_or_sealed(F, &p.number, p.sealed_number.as_ref())?,
                listed_at: required_timestamp(&format!("{F}.listed_at"), p.listed_at.as_ref())?,
                listed: p.listed,
                snapshot_ref: optional_identifier(&format!("{F}.snapshot_ref"), &p.snapshot_ref)?,
            })
        }
        Payload::ToldNotToCall(p) => Fact::ToldNotToCall(CallPreference {
            number: number_or_sealed("told_not_to_call", &p.number, p.sealed_number.as_ref())?,
        }),
        Payload::DoesNotObjectToCalls(p) => Fact::DoesNotObjectToCalls(CallPreference {
            number: number_or_sealed(
                "does_not_object_to_calls",
                &p.number,
                p.sealed_number.as_ref(),
            )?,
        }),
        Payload::ErasureRequested(p) => Fact::ErasureRequested(ErasureRequested {
            reason: text("erasure_requested.reason", &p.reason)?,
        }),
        Payload::ContactsSuppressed(p) => Fact::ContactsSuppressed(contacts_suppressed(p)?),
        Payload::PreferenceServiceScreened(p) => {
            const F: &str = "preference_service_screened";
            Fact::PreferenceServiceScreened(PreferenceServiceScreened {
                service: decode(&format!("{F}.service"), p.service)?,
                full: p.full,
                taken_at: required_timestamp(&format!("{F}.taken_at"), p.taken_at.as_ref())?,
                snapshot_ref: identifier(&format!("{F}.snapshot_ref"), &p.snapshot_ref)?.to_owned(),
                numbers: p.numbers,
            })
        }
    })
}

fn contacts_suppressed(p: &v1::ContactsSuppressed) -> Result<ContactsSuppressed, ValidationError> {
    const F: &str = "contacts_suppressed";
    if p.digests.is_empty() {
        return Err(ValidationError::new(
            format!("{F}.digests"),
            "at least one digest: a suppression that names no contact suppresses nothing",
        ));
    }
    crate::fields::max_items(&format!("{F}.digests"), p.digests.len())?;
    let digests = p
        .digests
        .iter()
        .enumerate()
        .map(|(i, digest)| digest_from_bytes(&format!("{F}.digests[{i}]"), digest))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ContactsSuppressed {
        digests,
        erasure: event_id(&format!("{F}.erasure_event_id"), &p.erasure_event_id)?,
        erased_subject: SubjectId::new(identifier(
            &format!("{F}.erased_subject_id"),
            &p.erased_subject_id,
        )?),
    })
}

fn organisation_registered(
    p: &v1::OrganisationRegistered,
) -> Result<OrganisationRegistered, ValidationError> {
    const F: &str = "organisation_registered";
    let kind: OrganisationKind = decode(&format!("{F}.kind"), p.kind)?;
    let number_field = format!("{F}.charity_register_number");
    let charity_register_number = optional_identifier(&number_field, &p.charity_register_number)?;
    if kind == OrganisationKind::Charity && charity_register_number.is_none() {
        return Err(ValidationError::new(
            number_field,
            "required for ORGANISATION_KIND_CHARITY (the charity's register number)",
        ));
    }
    Ok(OrganisationRegistered {
        name: text(&format!("{F}.name"), &p.name)?,
        kind,
        charity_register_number,
    })
}

fn product_categories_defined(
    p: &v1::ProductCategoriesDefined,
) -> Result<ProductCategoriesDefined, ValidationError> {
    const F: &str = "product_categories_defined.categories";
    max_items(F, p.categories.len())?;
    let mut first_index: HashMap<&str, usize> = HashMap::with_capacity(p.categories.len());
    let mut categories = Vec::with_capacity(p.categories.len());
    for (index, category) in p.categories.iter().enumerate() {
        let field = format!("{F}[{index}]");
        let id_field = format!("{field}.id");
        let id = identifier(&id_field, &category.id)?;
        if let Some(first) = first_index.insert(id, index) {
            return Err(ValidationError::new(
                id_field,
                format!("duplicate of `{F}[{first}].id`"),
            ));
        }
        let similar_field = format!("{field}.similar_category_ids");
        max_items(&similar_field, category.similar_category_ids.len())?;
        let similar = category
            .similar_category_ids
            .iter()
            .enumerate()
            .map(|(i, s)| {
                identifier(&format!("{similar_field}[{i}]"), s).map(ProductCategoryId::new)
            })
            .collect::<Result<_, _>>()?;
        categories.push(ProductCategory {
            id: ProductCategoryId::new(id),
            name: text(&format!("{field}.name"), &category.name)?,
            similar,
        });
    }
    Ok(ProductCategoriesDefined { categories })
}

fn consent_given(p: &v1::ConsentGiven) -> Result<ConsentGiven, ValidationError> {
    const F: &str = "consent_given";
    let channels = decode_set(&format!("{F}.channels"), &p.channels)?;
    if channels.is_empty() {
        return Err(ValidationError::new(
            format!("{F}.channels"),
            "at least one channel is required",
        ));
    }
    let purposes = decode_set(&format!("{F}.purposes"), &p.purposes)?;
    if purposes.is_empty() {
        return Err(ValidationError::new(
            format!("{F}.purposes"),
            "at least one purpose is required",
        ));
    }
    let wording_sha256 = wording_sha256(&format!("{F}.wording_sha256"), &p.wording_sha256)?;
    let collected_by_field = format!("{F}.collected_by_organisation_id");
    let collected_by = optional_identifier(&collected_by_field, &p.collected_by_organisation_id)?;
    let collector_field = format!("{F}.collector");
    let collector = match (v1::ConsentCollector::try_from(p.collector), collected_by) {
        (Ok(v1::ConsentCollector::FirstParty), None) => ConsentCollector::FirstParty,
        (Ok(v1::ConsentCollector::FirstParty), Some(_)) => {
            return Err(ValidationError::new(
                collected_by_field,
                "must be empty when `collector` is CONSENT_COLLECTOR_FIRST_PARTY",
            ));
        }
        (Ok(v1::ConsentCollector::ThirdParty), Some(by)) => ConsentCollector::ThirdParty {
            collected_by: OrganisationId::new(by),
        },
        (Ok(v1::ConsentCollector::ThirdParty), None) => {
            return Err(ValidationError::new(
                collected_by_field,
                "required when `collector` is CONSENT_COLLECTOR_THIRD_PARTY",
            ));
        }
        (Ok(v1::ConsentCollector::Unspecified), _) => {
            return Err(ValidationError::new(
                collector_field,
                "must not be CONSENT_COLLECTOR_UNSPECIFIED",
            ));
        }
        (Err(_), _) => {
            return Err(ValidationError::new(
                collector_field,
                format!(
                    "{} is not a known consent.v1.ConsentCollector value",
                    p.collector
                ),
            ));
        }
    };
    let named_field = format!("{F}.named_organisation_ids");
    max_items(&named_field, p.named_organisation_ids.len())?;
    let named_organisations = p
        .named_organisation_ids
        .iter()
        .enumerate()
        .map(|(i, id)| identifier(&format!("{named_field}[{i}]"), id).map(OrganisationId::new))
        .collect::<Result<_, _>>()?;
    Ok(ConsentGiven {
        channels,
        purposes,
        wording_version: optional_identifier(&format!("{F}.wording_version"), &p.wording_version)?,
        wording_sha256,
        method: decode(&format!("{F}.method"), p.method)?,
        collector,
        named_organisations,
        condition_of_service: p.condition_of_service,
        contact_point: optional_contact_point(
            &format!("{F}.contact_point"),
            p.contact_point.as_ref(),
        )?,
    })
}

/// A SHA-256 digest in hex (64 digits), lower-cased; empty means absent.
fn wording_sha256(field: &str, value: &str) -> Result<Option<String>, ValidationError> {
    if value.is_empty() {
        return Ok(None);
    }
    if value.len() != 64 || !value.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ValidationError::new(
            field,
            "must be a SHA-256 digest: 64 hex digits",
        ));
    }
    Ok(Some(value.to_ascii_lowercase()))
}

fn marketing_message_sent(
    p: &v1::MarketingMessageSent,
) -> Result<MarketingMessageSent, ValidationError> {
    const F: &str = "marketing_message_sent";
    Ok(MarketingMessageSent {
        channel: decode(&format!("{F}.channel"), p.channel)?,
        purpose: decode(&format!("{F}.purpose"), p.purpose)?,
        product_category: optional_identifier(
            &format!("{F}.product_category_id"),
            &p.product_category_id,
        )?
        .map(ProductCategoryId::new),
        message_class: decode(&format!("{F}.message_class"), p.message_class)?,
        promotional_content: p.promotional_content,
        opt_out_included: p.opt_out_included,
        sender_identified: p.sender_identified,
        message_id: short_text(&format!("{F}.message_id"), &p.message_id)?,
        campaign_id: short_text(&format!("{F}.campaign_id"), &p.campaign_id)?,
        contact_point: optional_contact_point(
            &format!("{F}.contact_point"),
            p.contact_point.as_ref(),
        )?,
        sole_charitable_purpose: p.sole_charitable_purpose,
    })
}

fn details_collection(
    field: &str,
    collection: Option<&v1::DetailsCollection>,
) -> Result<DetailsCollection, ValidationError> {
    let c = required(field, collection)?;
    Ok(DetailsCollection {
        route: decode(&format!("{field}.route"), c.route)?,
        opt_out_offered: c.opt_out_offered,
        opt_out_taken: c.opt_out_taken,
        form_version: optional_identifier(&format!("{field}.form_version"), &c.form_version)?,
        contact_point: optional_contact_point(
            &format!("{field}.contact_point"),
            c.contact_point.as_ref(),
        )?,
    })
}

// ------------------------------------------------------------- to the wire

fn fact_to_proto(fact: &Fact) -> Payload {
    match fact {
        Fact::OrganisationRegistered(f) => {
            Payload::OrganisationRegistered(v1::OrganisationRegistered {
                name: f.name.clone(),
                kind: f.kind.to_wire(),
                charity_register_number: or_empty(&f.charity_register_number),
            })
        }
        Fact::ProductCategoriesDefined(f) => {
            Payload::ProductCategoriesDefined(v1::ProductCategoriesDefined {
                categories: f
                    .categories
                    .iter()
                    .map(|c| v1::ProductCategory {
                        id: c.id.as_str().to_owned(),
                        name: c.name.clone(),
                        similar_category_ids: c
                            .similar
                            .iter()
                            .map(|s| s.as_str().to_owned())
                            .collect(),
                    })
                    .collect(),
            })
        }
        Fact::SubscriberTypeDeclared(f) => {
            Payload::SubscriberTypeDeclared(v1::SubscriberTypeDeclared {
                subscriber_type: f.subscriber_type.to_wire(),
                evidence: f.evidence.clone(),
            })
        }
        Fact::ContactPointRecorded(c) => Payload::ContactPointRecorded(v1::ContactPointRecorded {
            contact_point: Some(contact_point_to_proto(c)),
        }),
        Fact::ConsentGiven(f) => {
            let (collector, collected_by) = match &f.collector {
                ConsentCollector::FirstParty => (v1::ConsentCollector::FirstParty, String::new()),
                ConsentCollector::ThirdParty { collected_by } => (
                    v1::ConsentCollector::ThirdParty,
                    collected_by.as_str().to_owned(),
                ),
            };
            Payload::ConsentGiven(v1::ConsentGiven {
                channels: encode_set(&f.channels),
                purposes: encode_set(&f.purposes),
                wording_version: or_empty(&f.wording_version),
                wording_sha256: or_empty(&f.wording_sha256),
                method: f.method.to_wire(),
                collector: collector.into(),
                collected_by_organisation_id: collected_by,
                named_organisation_ids: f
                    .named_organisations
                    .iter()
                    .map(|o| o.as_str().to_owned())
                    .collect(),
                condition_of_service: f.condition_of_service,
                contact_point: f.contact_point.as_ref().map(contact_point_to_proto),
            })
        }
        Fact::ConsentWithdrawn(f) => Payload::ConsentWithdrawn(v1::ConsentWithdrawn {
            channels: encode_set(&f.channels),
            purposes: encode_set(&f.purposes),
            received_via: f.received_via.to_wire(),
        }),
        Fact::SaleRecorded(f) => Payload::SaleRecorded(v1::SaleRecorded {
            product_category_id: f.product_category.as_str().to_owned(),
            order_ref: f.order_ref.clone(),
            collection: Some(details_collection_to_proto(&f.collection)),
        }),
        Fact::NegotiationRecorded(f) => Payload::NegotiationRecorded(v1::NegotiationRecorded {
            product_category_id: f.product_category.as_str().to_owned(),
            kind: f.kind.to_wire(),
            collection: Some(details_collection_to_proto(&f.collection)),
        }),
        Fact::CharitySupportRecorded(f) => {
            Payload::CharitySupportRecorded(v1::CharitySupportRecorded {
                kind: f.kind.to_wire(),
                collection: Some(details_collection_to_proto(&f.collection)),
            })
        }
        Fact::OptOutRecorded(f) => Payload::OptOutRecorded(v1::OptOutRecorded {
            channels: encode_set(&f.channels),
            all_channels: f.all_channels,
            received_via: f.received_via.to_wire(),
            contact_point: f.contact_point.as_ref().map(contact_point_to_proto),
        }),
        Fact::ObjectionRecorded(f) => Payload::ObjectionRecorded(v1::ObjectionRecorded {
            received_via: f.received_via.to_wire(),
            contact_point: f.contact_point.as_ref().map(contact_point_to_proto),
        }),
        Fact::MarketingMessageSent(f) => Payload::MarketingMessageSent(v1::MarketingMessageSent {
            channel: f.channel.to_wire(),
            purpose: f.purpose.to_wire(),
            product_category_id: f
                .product_category
                .as_ref()
                .map(|c| c.as_str().to_owned())
                .unwrap_or_default(),
            message_class: f.message_class.to_wire(),
            promotional_content: f.promotional_content,
            opt_out_included: f.opt_out_included,
            sender_identified: f.sender_identified,
            message_id: f.message_id.clone(),
            campaign_id: f.campaign_id.clone(),
            contact_point: f.contact_point.as_ref().map(contact_point_to_proto),
            sole_charitable_purpose: f.sole_charitable_purpose,
        }),
        Fact::PreferenceServiceListing(f) => {
            let (number, sealed_number) = value_to_proto(&f.number);
            Payload::PreferenceServiceListing(v1::PreferenceServiceListing {
                service: f.service.to_wire(),
                number,
                listed_at: Some(timestamp_to_proto(f.listed_at)),
                listed: f.listed,
                sealed_number,
                snapshot_ref: f.snapshot_ref.clone().unwrap_or_default(),
            })
        }
        Fact::ToldNotToCall(f) => {
            let (number, sealed_number) = value_to_proto(&f.number);
            Payload::ToldNotToCall(v1::ToldNotToCall {
                number,
                sealed_number,
            })
        }
        Fact::DoesNotObjectToCalls(f) => {
            let (number, sealed_number) = value_to_proto(&f.number);
            Payload::DoesNotObjectToCalls(v1::DoesNotObjectToCalls {
                number,
                sealed_number,
            })
        }
        Fact::ErasureRequested(f) => Payload::ErasureRequested(v1::ErasureRequested {
            reason: f.reason.clone(),
        }),
        Fact::ContactsSuppressed(f) => Payload::ContactsSuppressed(v1::ContactsSuppressed {
            digests: f.digests.iter().map(|d| d.as_bytes().to_vec()).collect(),
            erasure_event_id: f.erasure.to_string(),
            erased_subject_id: f.erased_subject.as_str().to_owned(),
        }),
        Fact::PreferenceServiceScreened(f) => {
            Payload::PreferenceServiceScreened(v1::PreferenceServiceScreened {
                service: f.service.to_wire(),
                full: f.full,
                taken_at: Some(timestamp_to_proto(f.taken_at)),
                snapshot_ref: f.snapshot_ref.clone(),
                numbers: f.numbers,
            })
        }
    }
}

fn details_collection_to_proto(c: &DetailsCollection) -> v1::DetailsCollection {
    v1::DetailsCollection {
        route: c.route.to_wire(),
        opt_out_offered: c.opt_out_offered,
        opt_out_taken: c.opt_out_taken,
        form_version: or_empty(&c.form_version),
        contact_point: c.contact_point.as_ref().map(contact_point_to_proto),
    }
}
