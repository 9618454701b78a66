//! Each fact as a sentence a reader can follow without knowing the schema.

use crate::words::{self, join, when};
use consent_domain::event::{Fact, Source};
use consent_domain::vocabulary::{ConsentCollector, DetailsCollection};

/// A fact in words: one headline and the particulars under it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FactDescription {
    /// E.g. "Sale recorded: cars, order 7781, opt-out offered".
    pub headline: String,
    /// E.g. "Details collected directly from the subject".
    pub details: Vec<String>,
}

/// Describes a fact in words.
pub fn describe(fact: &Fact) -> FactDescription {
    let (headline, details) = match fact {
        Fact::OrganisationRegistered(f) => {
            let mut details = Vec::new();
            if let Some(number) = &f.charity_register_number {
                details.push(format!("Charity register number {number}"));
            }
            (
                format!(
                    "Organisation registered: {}, a {}",
                    f.name,
                    words::organisation_kind(f.kind)
                ),
                details,
            )
        }
        Fact::ProductCategoriesDefined(f) => (
            if f.categories.is_empty() {
                "Product categories defined: no category (every earlier definition is replaced)"
                    .to_owned()
            } else {
                format!(
                    "Product categories defined: {}",
                    join(f.categories.iter().map(|c| c.name.as_str()))
                )
            },
            f.categories
                .iter()
                .map(|c| {
                    if c.similar.is_empty() {
                        format!(
                            "{} ({}): no other category is similar, so customers would expect \
                             to hear only about {} itself",
                            c.name, c.id, c.name
                        )
                    } else {
                        let similar = join(c.similar.iter().map(|s| s.as_str()));
                        format!(
                            "{} ({}): customers would also expect to hear about {similar}",
                            c.name, c.id
                        )
                    }
                })
                .collect(),
        ),
        Fact::SubscriberTypeDeclared(f) => (
            format!(
                "Subscriber type declared: {}",
                words::subscriber_type(f.subscriber_type)
            ),
            non_empty("Evidence", &f.evidence).into_iter().collect(),
        ),
        Fact::ContactPointRecorded(point) => (
            format!("Contact point recorded: {}", words::contact_point(point)),
            vec![],
        ),
        Fact::ConsentGiven(f) => {
            let mut details = vec![format!(
                "Collected by {}, {}",
                words::collection_method(f.method),
                match &f.collector {
                    ConsentCollector::FirstParty => "by the organisation itself".to_owned(),
                    ConsentCollector::ThirdParty { collected_by } =>
                        format!("by a third party, {collected_by}"),
                }
            )];
            details.push(match (&f.wording_version, &f.wording_sha256) {
                (Some(version), Some(sha)) => {
                    format!("Wording shown: version {version}, SHA-256 {sha}")
                }
                (Some(version), None) => {
                    format!("Wording shown: version {version} (no SHA-256 recorded)")
                }
                (None, Some(sha)) => format!("Wording shown: SHA-256 {sha} (no version recorded)"),
                (None, None) => "Wording shown: not recorded".to_owned(),
            });
            if !f.named_organisations.is_empty() {
                details.push(format!(
                    "Organisations named in the wording: {}",
                    join(f.named_organisations.iter().map(|o| o.as_str()))
                ));
            }
            if f.condition_of_service {
                details.push("Made a condition of the service".to_owned());
            }
            if let Some(point) = &f.contact_point {
                details.push(format!("For {}", words::contact_point(point)));
            }
            (
                format!(
                    "Consent given for {} marketing ({})",
                    words::channels(&f.channels, false),
                    words::purposes(&f.purposes, false)
                ),
                details,
            )
        }
        Fact::ConsentWithdrawn(f) => (
            format!(
                "Consent withdrawn for {} ({}), by {}",
                words::channels(&f.channels, true),
                words::purposes(&f.purposes, true),
                words::opt_out_method(f.received_via)
            ),
            vec![],
        ),
        Fact::SaleRecorded(f) => {
            let mut headline = format!("Sale recorded: {}", f.product_category);
            if !f.order_ref.is_empty() {
                headline.push_str(&format!(", order {}", f.order_ref));
            }
            headline.push_str(&opt_out_offer(&f.collection));
            (headline, collection(&f.collection))
        }
        Fact::NegotiationRecorded(f) => (
            format!(
                "Negotiation recorded: {} for {}{}",
                words::negotiation(f.kind),
                f.product_category,
                opt_out_offer(&f.collection)
            ),
            collection(&f.collection),
        ),
        Fact::CharitySupportRecorded(f) => (
            format!(
                "Charity support recorded: {}{}",
                words::support(f.kind),
                opt_out_offer(&f.collection)
            ),
            collection(&f.collection),
        ),
        Fact::OptOutRecorded(f) => {
            let channels = if f.all_channels {
                "every channel".to_owned()
            } else {
                words::channels(&f.channels, false)
            };
            (
                format!(
                    "Opt-out of {channels}, by {}",
                    words::opt_out_method(f.received_via)
                ),
                address_details(f.contact_point.as_ref()),
            )
        }
        Fact::ObjectionRecorded(f) => (
            format!(
                "Objection to direct marketing on every channel, by {}",
                words::opt_out_method(f.received_via)
            ),
            address_details(f.contact_point.as_ref()),
        ),
        Fact::MarketingMessageSent(f) => {
            let mut what = vec![words::purpose(f.purpose)];
            if let Some(category) = &f.product_category {
                what.push(category.as_str());
            }
            let mut details = vec![format!(
                "Opt-out included: {}; sender identified: {}; promotional content: {}",
                words::yes_no(f.opt_out_included),
                words::yes_no(f.sender_identified),
                words::yes_no(f.promotional_content)
            )];
            details.extend(non_empty("Message", &f.message_id));
            details.extend(non_empty("Campaign", &f.campaign_id));
            if let Some(point) = &f.contact_point {
                details.push(format!("To {}", words::contact_point(point)));
            }
            let class = words::message_class(f.message_class);
            let mut class = class.to_owned();
            if let Some(first) = class.get_mut(0..1) {
                first.make_ascii_uppercase();
            }
            (
                format!(
                    "{class} sent by {} ({})",
                    words::channel(f.channel),
                    join(what)
                ),
                details,
            )
        }
        Fact::PreferenceServiceListing(f) => {
            let service = words::preference_service(f.service);
            let headline = if f.listed {
                format!(
                    "{} listed on the {service}",
                    words::contact_value(&f.number)
                )
            } else {
                format!(
                    "{} no longer listed on the {service}",
                    words::contact_value(&f.number)
                )
            };
            (
                headline,
                vec![format!(
                    "Registered with the {service} on {}",
                    when(f.listed_at)
                )],
            )
        }
        Fact::ToldNotToCall(f) => (
            format!("Told not to call {}", words::contact_value(&f.number)),
            vec![],
        ),
        Fact::DoesNotObjectToCalls(f) => (
            format!(
                "Does not object to calls to {}",
                words::contact_value(&f.number)
            ),
            vec![],
        ),
        Fact::ErasureRequested(f) => (
            "Erasure requested: the subject's key is destroyed, their sealed contact details \
             can no longer be read"
                .to_owned(),
            non_empty("Reason", &f.reason).into_iter().collect(),
        ),
        Fact::ContactsSuppressed(f) => (
            format!(
                "{} contact value(s) put on the suppression list after {} asked to be erased",
                f.digests.len(),
                f.erased_subject
            ),
            f.digests
                .iter()
                .map(|d| format!("Suppressed: {}", words::contact_digest(d)))
                .collect(),
        ),
        Fact::PreferenceServiceScreened(f) => (
            format!(
                "Numbers screened against a {} {} file of {} ({} numbers listed)",
                if f.full { "full" } else { "delta" },
                words::preference_service(f.service),
                f.taken_at,
                f.numbers
            ),
            vec![format!("File SHA-256: {}", f.snapshot_ref)],
        ),
    };
    FactDescription { headline, details }
}

/// The address an opt-out or objection was received for, suppressed for
/// every subject that uses it.
fn address_details(contact: Option<&consent_domain::vocabulary::ContactPoint>) -> Vec<String> {
    contact
        .map(|point| {
            format!(
                "Received for {}: suppressed whichever subject it is used for",
                words::contact_value(&point.value)
            )
        })
        .into_iter()
        .collect()
}

/// The provenance of a fact, as `label: value` pairs that are present.
pub fn source(source: &Source) -> Vec<String> {
    [
        ("System", &source.system),
        ("Actor", &source.actor),
        ("Evidence", &source.evidence_ref),
        ("Form", &source.form_id),
        ("URL", &source.url),
    ]
    .into_iter()
    .filter_map(|(label, value)| non_empty(label, value))
    .collect()
}

/// `, opt-out offered` / `, opt-out offered and taken` / `, no opt-out offered`.
fn opt_out_offer(collection: &DetailsCollection) -> String {
    match (collection.opt_out_offered, collection.opt_out_taken) {
        (true, false) => ", opt-out offered".to_owned(),
        (true, true) => ", opt-out offered and taken".to_owned(),
        (false, true) => ", opt-out taken".to_owned(),
        (false, false) => ", no opt-out offered".to_owned(),
    }
}

fn collection(collection: &DetailsCollection) -> Vec<String> {
    let mut details = vec![format!(
        "Contact details obtained {}",
        words::collection_route(collection.route)
    )];
    details.extend(
        collection
            .form_version
            .as_deref()
            .and_then(|v| non_empty("Form version", v)),
    );
    if let Some(point) = &collection.contact_point {
        details.push(format!("Contact point: {}", words::contact_point(point)));
    }
    details
}

fn non_empty(label: &str, value: &str) -> Option<String> {
    (!value.trim().is_empty()).then(|| format!("{label}: {value}"))
}
