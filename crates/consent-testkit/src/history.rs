//! Histories as a compliance officer would tell them: "the charity was
//! registered in 2024; Ann gave on 10 February 2026; on 1 March we emailed
//! her (message c-ann-0301)".
//!
//! Defaults are the lawful ones: details collected directly, an opt-out
//! offered and not taken; messages that identify the sender and carry an
//! opt-out.

mod stories;
pub use stories::*;

use consent_domain::event::*;
use consent_domain::rules::RuleCatalogue;
use consent_domain::vocabulary::*;
use consent_domain::{
    Event, EventId, OrganisationId, ProductCategoryId, Source, SubjectId, Timestamp,
};
use consent_replay::{QuestionRef, ReplayPlan, ReplayReport, Replayer};
use std::collections::BTreeSet;

/// Replays `events`, in the given order, under `plan`.
pub fn replay(events: &[Event], plan: ReplayPlan) -> ReplayReport {
    let mut replayer = match Replayer::new(plan, RuleCatalogue::uk()) {
        Ok(replayer) => replayer,
        Err(error) => panic!("plan refused: {error}"),
    };
    for event in events {
        replayer.apply(event, None);
    }
    replayer.report()
}

pub fn at(date: &str) -> Timestamp {
    Timestamp::parse_rfc3339(&format!("{date}T09:00:00Z"))
        .unwrap_or_else(|| panic!("test date {date} is not YYYY-MM-DD"))
}

/// Events in the order they were told, with ids 1, 2, 3, ...
#[derive(Clone, Debug, Default)]
pub struct History {
    pub events: Vec<Event>,
}

impl History {
    fn push(
        &mut self,
        organisation: &str,
        subject: Option<&str>,
        date: &str,
        fact: Fact,
    ) -> EventId {
        let next = u128::try_from(self.events.len()).unwrap_or(u128::MAX) + 1;
        let id = EventId(uuid::Uuid::from_u128(next));
        let occurred_at = at(date);
        self.events.push(Event {
            id,
            organisation: OrganisationId::from(organisation),
            subject: subject.map(SubjectId::from),
            occurred_at,
            recorded_at: occurred_at,
            source: Source::default(),
            fact,
        });
        id
    }

    pub fn charity(&mut self, organisation: &str, date: &str) -> &mut Self {
        self.push(
            organisation,
            None,
            date,
            Fact::OrganisationRegistered(OrganisationRegistered {
                name: format!("{organisation} (registered charity)"),
                kind: OrganisationKind::Charity,
                charity_register_number: Some("1190001".to_owned()),
            }),
        );
        self
    }

    pub fn company(&mut self, organisation: &str, date: &str) -> &mut Self {
        self.push(
            organisation,
            None,
            date,
            Fact::OrganisationRegistered(OrganisationRegistered {
                name: format!("{organisation} Ltd"),
                kind: OrganisationKind::Commercial,
                charity_register_number: None,
            }),
        );
        self
    }

    /// The organisation's categories and what each one's customers would
    /// expect to hear about.
    pub fn categories(
        &mut self,
        organisation: &str,
        date: &str,
        map: &[(&str, &[&str])],
    ) -> &mut Self {
        self.push(
            organisation,
            None,
            date,
            Fact::ProductCategoriesDefined(category_map(map)),
        );
        self
    }

    pub fn support(
        &mut self,
        organisation: &str,
        subject: &str,
        date: &str,
        route: CollectionRoute,
    ) -> &mut Self {
        self.push(
            organisation,
            Some(subject),
            date,
            Fact::CharitySupportRecorded(CharitySupportRecorded {
                kind: SupportKind::Donation,
                collection: collection(route),
            }),
        );
        self
    }

    pub fn sale(
        &mut self,
        organisation: &str,
        subject: &str,
        date: &str,
        category: &str,
    ) -> &mut Self {
        self.push(
            organisation,
            Some(subject),
            date,
            Fact::SaleRecorded(SaleRecorded {
                product_category: ProductCategoryId::from(category),
                order_ref: format!("order-{subject}-{date}"),
                collection: collection(CollectionRoute::Direct),
            }),
        );
        self
    }

    pub fn enquiry(
        &mut self,
        organisation: &str,
        subject: &str,
        date: &str,
        category: &str,
    ) -> &mut Self {
        self.push(
            organisation,
            Some(subject),
            date,
            Fact::NegotiationRecorded(NegotiationRecorded {
                product_category: ProductCategoryId::from(category),
                kind: NegotiationKind::GeneralEnquiry,
                collection: collection(CollectionRoute::Direct),
            }),
        );
        self
    }

    pub fn consent(
        &mut self,
        organisation: &str,
        subject: &str,
        date: &str,
        purpose: Purpose,
    ) -> &mut Self {
        self.push(
            organisation,
            Some(subject),
            date,
            crate::facts::consent(&[Channel::Email], &[purpose]).into(),
        );
        self
    }

    pub fn email_opt_out(&mut self, organisation: &str, subject: &str, date: &str) -> &mut Self {
        self.push(
            organisation,
            Some(subject),
            date,
            Fact::OptOutRecorded(OptOutRecorded {
                contact_point: None,
                channels: vec![Channel::Email],
                all_channels: false,
                received_via: OptOutMethod::UnsubscribeLink,
            }),
        );
        self
    }

    /// A marketing email for `purpose`, marketing `category` when given.
    pub fn email(
        &mut self,
        organisation: &str,
        subject: &str,
        date: &str,
        message_id: &str,
        purpose: Purpose,
        category: Option<&str>,
    ) -> &mut Self {
        self.send(
            organisation,
            subject,
            date,
            message_id,
            purpose,
            category,
            true,
        )
    }

    /// As [`History::email`], without an opt-out in the message.
    pub fn email_without_opt_out(
        &mut self,
        organisation: &str,
        subject: &str,
        date: &str,
        message_id: &str,
        purpose: Purpose,
    ) -> &mut Self {
        self.send(
            organisation,
            subject,
            date,
            message_id,
            purpose,
            None,
            false,
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn send(
        &mut self,
        organisation: &str,
        subject: &str,
        date: &str,
        message_id: &str,
        purpose: Purpose,
        category: Option<&str>,
        opt_out_included: bool,
    ) -> &mut Self {
        self.push(
            organisation,
            Some(subject),
            date,
            Fact::MarketingMessageSent(MarketingMessageSent {
                channel: Channel::Email,
                purpose,
                product_category: category.map(ProductCategoryId::from),
                message_class: MessageClass::Marketing,
                promotional_content: true,
                opt_out_included,
                sender_identified: true,
                message_id: message_id.to_owned(),
                campaign_id: format!("campaign-{date}"),
                contact_point: None,
                sole_charitable_purpose: purpose == Purpose::Charitable,
            }),
        );
        self
    }
}

pub fn category_map(map: &[(&str, &[&str])]) -> ProductCategoriesDefined {
    ProductCategoriesDefined {
        categories: map
            .iter()
            .map(|(id, similar)| ProductCategory {
                id: ProductCategoryId::from(*id),
                name: (*id).to_owned(),
                similar: similar
                    .iter()
                    .map(|s| ProductCategoryId::from(*s))
                    .collect(),
            })
            .collect(),
    }
}

fn collection(route: CollectionRoute) -> DetailsCollection {
    DetailsCollection {
        route,
        opt_out_offered: true,
        opt_out_taken: false,
        form_version: Some("form-v1".to_owned()),
        contact_point: None,
    }
}

/// The message ids of a list of samples.
pub fn message_ids(samples: &[consent_replay::ChangeSample]) -> BTreeSet<String> {
    samples
        .iter()
        .filter_map(|s| match &s.question {
            QuestionRef::Send { message_id, .. } => Some(message_id.clone()),
            QuestionRef::Eligibility { .. } => None,
        })
        .collect()
}

/// The subjects of a list of samples.
pub fn subjects(samples: &[consent_replay::ChangeSample]) -> BTreeSet<String> {
    samples
        .iter()
        .map(|s| s.subject.as_str().to_owned())
        .collect()
}

pub fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

/// Every change in the report, as message ids, whatever its kind.
pub fn changed_messages(report: &ReplayReport) -> BTreeSet<String> {
    let samples = &report.samples;
    message_ids(&samples.refused_to_allowed)
        .into_iter()
        .chain(message_ids(&samples.allowed_to_refused))
        .chain(message_ids(&samples.basis_changed))
        .collect()
}
