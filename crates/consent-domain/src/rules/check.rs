use crate::event::MarketingMessageSent;
use crate::identity::{OrganisationId, ProductCategoryId, SubjectId};
use crate::rules::RuleSetId;
use crate::time::Timestamp;
use crate::vocabulary::{CallCategory, Channel, ContactPoint, MessageClass, Purpose};

/// The question a sender asks before a message goes out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckRequest {
    pub organisation: OrganisationId,
    /// The subject the message goes to; `None` when the sender knows only
    /// the address (`contact_point`), as an ESP does.
    pub subject: Option<SubjectId>,
    pub channel: Channel,
    pub purpose: Purpose,
    /// The category the message markets (soft opt-in similarity).
    pub product_category: Option<ProductCategoryId>,
    pub message_class: MessageClass,
    /// Any promotion in the message; makes a service message marketing.
    pub promotional_content: bool,
    /// The message's sole purpose is furthering the sender's charitable
    /// purposes (reg 22(3A)).
    pub sole_charitable_purpose: bool,
    /// The message carries a simple, free means to opt out (reg 23, and
    /// soft opt-in condition 5).
    pub opt_out_included: bool,
    /// The message identifies the sender (reg 23).
    pub sender_identified: bool,
    /// Only meaningful for live calls.
    pub call_category: CallCategory,
    /// The address or number to be used; needed for TPS/CTPS screening.
    pub contact_point: Option<ContactPoint>,
    /// When the message would be sent. Facts with `occurred_at <= at` count.
    pub at: Timestamp,
    /// Evaluate under this rule set instead of the one in force at `at`.
    pub rule_set: Option<RuleSetId>,
}

impl CheckRequest {
    /// Who the message goes to, in words: the subject id, or, for a check
    /// that names only an address, that the subject is not named.
    pub fn addressee(&self) -> &str {
        match &self.subject {
            Some(subject) => subject.as_str(),
            None => "(not named: the address only)",
        }
    }

    /// The question a recorded send answers: "was this message, as sent,
    /// allowed at `at`?". The caller says how to read the send's sole
    /// charitable purpose (`sole_charitable_purpose`: as recorded, unless a
    /// replay reads old sends otherwise); calls are taken as general calls.
    pub fn for_send(
        organisation: OrganisationId,
        subject: SubjectId,
        at: Timestamp,
        send: &MarketingMessageSent,
        sole_charitable_purpose: bool,
    ) -> Self {
        CheckRequest {
            organisation,
            subject: Some(subject),
            channel: send.channel,
            purpose: send.purpose,
            product_category: send.product_category.clone(),
            message_class: send.message_class,
            promotional_content: send.promotional_content,
            sole_charitable_purpose,
            opt_out_included: send.opt_out_included,
            sender_identified: send.sender_identified,
            call_category: CallCategory::General,
            contact_point: send.contact_point.clone(),
            at,
            rule_set: None,
        }
    }
}
