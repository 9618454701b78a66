//! The questions a replay asks again: recorded sends, and current
//! eligibility, each as the [`CheckRequest`] `decide` answers.

use crate::plan::{CharitableSendReading, EligibilityQuestions};
use consent_domain::event::{Fact, MarketingMessageSent};
use consent_domain::rules::CheckRequest;
use consent_domain::vocabulary::{
    CallCategory, Channel, ContactKind, ContactPoint, MessageClass, OrganisationKind, Purpose,
};
use consent_domain::{
    Event, EventId, EventPosition, OrganisationId, OrganisationState, ProductCategoryId, SubjectId,
    SubjectState, Timestamp,
};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// Which question a replayed decision answers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum QuestionRef {
    /// "Was this recorded send lawful?"
    Send {
        /// The `MarketingMessageSent` event.
        event_id: EventId,
        /// The log position it was read from (the lowest, if delivered
        /// more than once).
        position: Option<EventPosition>,
        message_id: String,
        campaign_id: String,
    },
    /// "May the organisation market to this subject on this channel at
    /// `as_of`?" (see [`EligibilityQuestions`]).
    Eligibility {
        #[serde(with = "crate::rfc3339")]
        as_of: Timestamp,
    },
}

impl QuestionRef {
    /// `send` or `eligibility`.
    pub fn kind(&self) -> &'static str {
        match self {
            QuestionRef::Send { .. } => "send",
            QuestionRef::Eligibility { .. } => "eligibility",
        }
    }
}

/// A question and the check it is asked as. `request.rule_set` is left
/// `None`; the replayer fills it per side.
#[derive(Clone, Debug)]
pub(crate) struct Question {
    pub reference: QuestionRef,
    pub request: CheckRequest,
}

/// A recorded `MarketingMessageSent`, kept aside from the fold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RecordedSend {
    pub id: EventId,
    pub organisation: OrganisationId,
    pub subject: SubjectId,
    pub occurred_at: Timestamp,
    pub position: Option<EventPosition>,
    pub send: MarketingMessageSent,
}

impl RecordedSend {
    /// The send an event records, read from `position`: moved out of an
    /// owned event, copied from a borrowed one. `None` for any other fact
    /// or a send without a subject.
    pub fn of(event: Cow<'_, Event>, position: &Option<EventPosition>) -> Option<Self> {
        let recorded = |event: Event| match event {
            Event {
                id,
                organisation,
                subject: Some(subject),
                occurred_at,
                fact: Fact::MarketingMessageSent(send),
                ..
            } => Some(RecordedSend {
                id,
                organisation,
                subject,
                occurred_at,
                position: position.clone(),
                send,
            }),
            _ => None,
        };
        match event {
            Cow::Owned(event) => recorded(event),
            Cow::Borrowed(event) => match (&event.fact, &event.subject) {
                (Fact::MarketingMessageSent(send), Some(subject)) => Some(RecordedSend {
                    id: event.id,
                    organisation: event.organisation.clone(),
                    subject: subject.clone(),
                    occurred_at: event.occurred_at,
                    position: position.clone(),
                    send: send.clone(),
                }),
                _ => None,
            },
        }
    }

    /// The send as it happened, asked again at its `occurred_at`.
    pub fn question(&self, reading: CharitableSendReading) -> Question {
        let send = &self.send;
        let sole_charitable_purpose = match reading {
            CharitableSendReading::Recorded => send.sole_charitable_purpose,
            CharitableSendReading::RecordedPurposeIsSole => {
                send.sole_charitable_purpose || send.purpose == Purpose::Charitable
            }
            CharitableSendReading::NeverSole => false,
        };
        Question {
            reference: QuestionRef::Send {
                event_id: self.id,
                position: self.position.clone(),
                message_id: send.message_id.clone(),
                campaign_id: send.campaign_id.clone(),
            },
            request: CheckRequest::for_send(
                self.organisation.clone(),
                self.subject.clone(),
                self.occurred_at,
                send,
                sole_charitable_purpose,
            ),
        }
    }
}

/// One eligibility question per channel for one (organisation, subject)
/// pair, as [`EligibilityQuestions`] describes.
pub(crate) fn eligibility_questions(
    organisation: &OrganisationId,
    subject: &SubjectId,
    organisation_state: Option<&OrganisationState>,
    subject_state: &SubjectState,
    asked: &EligibilityQuestions,
) -> Vec<Question> {
    let at = asked.as_of;
    let kind = organisation_state
        .and_then(|o| o.registration_as_of(at))
        .and_then(|r| match &r.fact {
            Fact::OrganisationRegistered(registered) => Some(registered.kind),
            _ => None,
        });
    let (purpose, sole_charitable_purpose, product_category) = match kind {
        Some(OrganisationKind::Charity) => (Purpose::Charitable, true, None),
        Some(OrganisationKind::PoliticalParty | OrganisationKind::OtherNotForProfit) => {
            (Purpose::Campaigning, false, None)
        }
        Some(OrganisationKind::Commercial) | None => (
            Purpose::Commercial,
            false,
            latest_category(subject_state, at),
        ),
    };
    asked
        .channels
        .iter()
        .map(|&channel| Question {
            reference: QuestionRef::Eligibility { as_of: at },
            request: CheckRequest {
                organisation: organisation.clone(),
                subject: Some(subject.clone()),
                channel,
                purpose,
                product_category: product_category.clone(),
                message_class: MessageClass::Marketing,
                promotional_content: true,
                sole_charitable_purpose,
                opt_out_included: true,
                sender_identified: true,
                call_category: CallCategory::General,
                contact_point: latest_contact_point(subject_state, channel, at),
                at,
                rule_set: None,
            },
        })
        .collect()
}

/// The category of the subject's latest sale or negotiation as of `at`.
fn latest_category(subject: &SubjectState, at: Timestamp) -> Option<ProductCategoryId> {
    subject
        .facts
        .as_of(at)
        .iter()
        .rev()
        .find_map(|f| match &f.fact {
            Fact::SaleRecorded(sale) => Some(sale.product_category.clone()),
            Fact::NegotiationRecorded(negotiation) => Some(negotiation.product_category.clone()),
            _ => None,
        })
}

/// The subject's latest recorded contact point usable on `channel`.
fn latest_contact_point(
    subject: &SubjectState,
    channel: Channel,
    at: Timestamp,
) -> Option<ContactPoint> {
    let usable: &[ContactKind] = match channel {
        Channel::Email => &[ContactKind::Email],
        Channel::Sms => &[ContactKind::Mobile],
        Channel::LiveCall | Channel::AutomatedCall => &[ContactKind::Mobile, ContactKind::Landline],
        Channel::Post => &[ContactKind::Postal],
    };
    subject
        .facts
        .as_of(at)
        .iter()
        .rev()
        .find_map(|f| match &f.fact {
            Fact::ContactPointRecorded(point) if usable.contains(&point.kind) => {
                Some(point.clone())
            }
            _ => None,
        })
}
