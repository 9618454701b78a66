//! The facts a decision may read: those with `occurred_at <= T`, typed.
//!
//! Invariant: nothing in the rules reads a fact except through [`Facts`],
//! so no fact that occurred after the check's time can influence it.

use crate::event::*;
use crate::fold::{AddressState, OrganisationState, Recorded, SubjectState, Suppressions};
use crate::identity::EventId;
use crate::rules::decision::EventReference;
use crate::time::Timestamp;
use crate::vocabulary::{Channel, ContactPoint, Purpose};

/// One fact of a given kind, with the record that carries it.
#[derive(Debug)]
pub(crate) struct Known<'a, T> {
    pub event: &'a Recorded<Fact>,
    pub fact: &'a T,
}

impl<T> Clone for Known<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Known<'_, T> {}

impl<T> Known<'_, T> {
    pub fn id(&self) -> EventId {
        self.event.id
    }

    pub fn at(&self) -> Timestamp {
        self.event.occurred_at
    }
}

/// The facts about one organisation and one of its subjects, as of `at`.
pub(crate) struct Facts<'a> {
    pub at: Timestamp,
    pub subject: &'a [Recorded<Fact>],
    pub organisation: &'a [Recorded<Fact>],
    /// The facts of each address the message may go to, whichever subject
    /// they were recorded under.
    pub addresses: Vec<&'a [Recorded<Fact>]>,
    suppressions: &'a Suppressions,
}

impl<'a> Facts<'a> {
    pub fn as_of(
        organisation: &'a OrganisationState,
        subject: &'a SubjectState,
        addresses: &'a [AddressState],
        at: Timestamp,
    ) -> Self {
        Self {
            at,
            subject: subject.facts.as_of(at),
            organisation: organisation.facts.as_of(at),
            addresses: addresses.iter().map(|a| a.facts.as_of(at)).collect(),
            suppressions: &organisation.suppressions,
        }
    }

    /// The organisation's suppressions of `contact` (compared by value, the
    /// digest for sealed contacts) that occurred by `at`, in time order.
    pub fn suppressions_of(&self, contact: &ContactPoint) -> Vec<Known<'a, ContactsSuppressed>> {
        let at = self.at;
        self.suppressions
            .of(&contact.value)
            .iter()
            .take_while(|event| event.occurred_at <= at)
            .filter_map(|event| match &event.fact {
                Fact::ContactsSuppressed(fact) => Some(Known { event, fact }),
                _ => None,
            })
            .collect()
    }

    /// The subject's facts of one kind, in time order.
    pub fn each<T: 'a>(
        &self,
        pick: impl Fn(&'a Fact) -> Option<&'a T> + 'a,
    ) -> impl DoubleEndedIterator<Item = Known<'a, T>> + 'a {
        self.subject
            .iter()
            .filter_map(move |event| pick(&event.fact).map(|fact| Known { event, fact }))
    }

    /// The latest registration of the organisation.
    pub fn registration(&self) -> Option<Known<'a, OrganisationRegistered>> {
        self.organisation
            .iter()
            .rev()
            .find_map(|event| match &event.fact {
                Fact::OrganisationRegistered(fact) => Some(Known { event, fact }),
                _ => None,
            })
    }

    /// The latest product-similarity definition of the organisation.
    pub fn categories(&self) -> Option<Known<'a, ProductCategoriesDefined>> {
        self.organisation
            .iter()
            .rev()
            .find_map(|event| match &event.fact {
                Fact::ProductCategoriesDefined(fact) => Some(Known { event, fact }),
                _ => None,
            })
    }

    /// The latest subscriber-type declaration; `None` means individual.
    pub fn subscriber(&self) -> Subscriber<'a> {
        Subscriber {
            declared: self
                .each(|f| match f {
                    Fact::SubscriberTypeDeclared(d) => Some(d),
                    _ => None,
                })
                .next_back(),
        }
    }

    /// Objections, and opt-outs that cover `channel`, in time order (read
    /// as they are iterated, nothing collected).
    pub fn refusals(
        &self,
        channel: Channel,
    ) -> impl DoubleEndedIterator<Item = Refusal<'a>> + Clone + 'a {
        self.subject
            .iter()
            .filter_map(move |event| match &event.fact {
                Fact::ObjectionRecorded(fact) => Some(Refusal::Objection(Known { event, fact })),
                Fact::OptOutRecorded(fact) if fact.covers(channel) => {
                    Some(Refusal::OptOut(Known { event, fact }))
                }
                _ => None,
            })
    }

    /// Consent withdrawals that cover `channel` and `purpose`.
    pub fn withdrawals(
        &self,
        channel: Channel,
        purpose: Purpose,
    ) -> impl DoubleEndedIterator<Item = Known<'a, ConsentWithdrawn>> + 'a {
        self.each(move |f| match f {
            Fact::ConsentWithdrawn(w) if w.covers(channel, purpose) => Some(w),
            _ => None,
        })
    }

    /// A reference to a fact this view can see, for a decision's evidence.
    pub fn reference(&self, id: EventId) -> Option<EventReference> {
        self.subject
            .iter()
            .chain(self.organisation)
            .find(|f| f.id == id)
            .or_else(|| {
                self.suppressions
                    .facts()
                    .into_iter()
                    .find(|f| f.id == id && f.occurred_at <= self.at)
            })
            .map(|f| EventReference {
                id: f.id,
                position: f.position.clone(),
                kind: std::borrow::Cow::Borrowed(f.fact.kind()),
                occurred_at: f.occurred_at,
            })
    }
}

/// The subscriber type as of the check. PECR protects individual
/// subscribers; without a declaration the subscriber is individual.
#[derive(Clone, Copy)]
pub(crate) struct Subscriber<'a> {
    pub declared: Option<Known<'a, SubscriberTypeDeclared>>,
}

impl Subscriber<'_> {
    pub fn is_individual(&self) -> bool {
        self.declared
            .is_none_or(|d| d.fact.subscriber_type.is_individual())
    }

    pub fn evidence(&self) -> Vec<EventId> {
        self.declared.map(|d| d.id()).into_iter().collect()
    }

    /// "a sole trader (declared 2025-01-01T00:00:00Z)", "an individual (no
    /// subscriber type declared)".
    pub fn describe(&self) -> String {
        use crate::vocabulary::SubscriberType::*;
        match self.declared {
            None => {
                "an individual subscriber (no subscriber type declared, so individual)".to_owned()
            }
            Some(d) => {
                let kind = match d.fact.subscriber_type {
                    Individual => "an individual subscriber",
                    SoleTrader => "a sole trader, an individual subscriber",
                    Partnership => "an ordinary partnership, an individual subscriber",
                    Corporate => "a corporate subscriber",
                };
                format!("{kind} (declared {})", d.at())
            }
        }
    }
}

/// Something the subject did that refuses marketing.
#[derive(Clone, Copy)]
pub(crate) enum Refusal<'a> {
    /// UK GDPR Art 21: absolute, every channel.
    Objection(Known<'a, ObjectionRecorded>),
    /// An opt-out covering the channel in question.
    OptOut(Known<'a, OptOutRecorded>),
}

impl Refusal<'_> {
    pub fn id(&self) -> EventId {
        match self {
            Refusal::Objection(k) => k.id(),
            Refusal::OptOut(k) => k.id(),
        }
    }

    pub fn at(&self) -> Timestamp {
        match self {
            Refusal::Objection(k) => k.at(),
            Refusal::OptOut(k) => k.at(),
        }
    }

    /// "an objection to direct marketing on 2025-01-01T00:00:00Z (via GPC signal)"
    pub fn describe(&self) -> String {
        match self {
            Refusal::Objection(k) => format!(
                "an objection to direct marketing on {} (via {})",
                k.at(),
                super::text::opt_out_method(k.fact.received_via)
            ),
            Refusal::OptOut(k) => format!(
                "an opt-out of {} on {} (via {})",
                super::text::opt_out_scope(k.fact),
                k.at(),
                super::text::opt_out_method(k.fact.received_via)
            ),
        }
    }
}
