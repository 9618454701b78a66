//! The facts a decision may read: those with `occurred_at <= T`, typed.
//!
//! Invariant: nothing in the rules reads a fact except through [`Facts`],
//! so no fact that occurred after the check's time can influence it.

use crate::event::*;
use crate::fold::{AddressState, OrganisationState, Recorded, SubjectState, Suppressions};
use crate::identity::EventId;
use crate::rules::check::CheckRequest;
use crate::rules::decision::EventReference;
use crate::time::Timestamp;
use crate::vocabulary::{Channel, ContactPoint, ContactValue, Purpose};

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

/// The facts about one organisation, one of its subjects and the addresses
/// the message may go to, as of `at`.
pub(crate) struct Facts<'a> {
    pub at: Timestamp,
    pub subject: &'a [Recorded<Fact>],
    pub organisation: &'a [Recorded<Fact>],
    /// The facts of each address the message may go to (of the states the
    /// caller loaded, see [`super::addresses_to_consult`], those about a
    /// [`Facts::destinations`]), whichever subject they were recorded
    /// under, or none.
    addresses: Vec<&'a [Recorded<Fact>]>,
    /// The addresses the message may go to: the check's contact point, or
    /// else the subject's recorded addresses that can receive the channel.
    pub destinations: Vec<&'a ContactPoint>,
    suppressions: &'a Suppressions,
}

impl<'a> Facts<'a> {
    pub fn as_of(
        organisation: &'a OrganisationState,
        subject: &'a SubjectState,
        addresses: &'a [AddressState],
        request: &'a CheckRequest,
    ) -> Self {
        let at = request.at;
        let subject = subject.facts.as_of(at);
        let destinations = destinations(subject, request);
        let addresses = addresses
            .iter()
            .map(|state| state.facts.as_of(at))
            .filter(|facts| {
                // Every fact of an address state names that address.
                facts
                    .first()
                    .and_then(|f| f.fact.address())
                    .is_some_and(|a| destinations.iter().any(|d| d.value == *a))
            })
            .collect();
        Self {
            at,
            subject,
            organisation: organisation.facts.as_of(at),
            addresses,
            destinations,
            suppressions: &organisation.suppressions,
        }
    }

    /// The message may go to `value` (compared as stored: normalised, or
    /// its digest once sealed).
    pub fn goes_to(&self, value: &ContactValue) -> bool {
        self.destinations.iter().any(|d| d.value == *value)
    }

    /// The facts recorded for the addresses the message may go to, under
    /// any subject or none, as of `at` (each address's in time order).
    pub fn address_facts(&self) -> impl Iterator<Item = &'a Recorded<Fact>> + Clone + '_ {
        self.addresses.iter().flat_map(|facts| facts.iter())
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

    /// Objections, and opt-outs that cover `channel`: the subject's own,
    /// then those received for an address the message may go to under
    /// another subject or none (read as they are iterated, nothing
    /// collected; each once). Not in time order across the two: take the
    /// latest with [`Refusal::latest`].
    pub fn refusals(&self, channel: Channel) -> impl Iterator<Item = Refusal<'a>> + Clone + '_ {
        let subject = self.subject;
        let own = subject.iter().filter_map(move |event| {
            Refusal::of(event, channel).map(|what| {
                let by_address = what.address().is_some_and(|a| self.goes_to(&a.value));
                Refusal {
                    what,
                    under_subject: true,
                    by_address,
                }
            })
        });
        let others = self
            .address_facts()
            .filter(move |event| !contains(subject, event))
            .filter_map(move |event| {
                Refusal::of(event, channel).map(|what| Refusal {
                    what,
                    under_subject: false,
                    by_address: true,
                })
            });
        own.chain(others)
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
            .or_else(|| self.address_facts().find(|f| f.id == id))
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

/// The addresses a message may go to: the check's contact point, or else
/// the subject's recorded addresses that can receive the channel (the
/// message will go to one of them). What [`super::addresses_to_consult`]
/// names, as contact points.
fn destinations<'a>(
    subject: &'a [Recorded<Fact>],
    request: &'a CheckRequest,
) -> Vec<&'a ContactPoint> {
    match &request.contact_point {
        Some(point) => vec![point],
        None => {
            let mut points: Vec<&ContactPoint> = subject
                .iter()
                .filter_map(|recorded| recorded.fact.contact_point())
                .filter(|point| super::scope::fits(request.channel, point.kind))
                .collect();
            points.sort_unstable_by(|a, b| a.value.cmp(&b.value));
            points.dedup_by(|a, b| a.value == b.value);
            points
        }
    }
}

/// `facts` (sorted by time and id) holds `event`.
fn contains(facts: &[Recorded<Fact>], event: &Recorded<Fact>) -> bool {
    facts
        .binary_search_by(|f| (f.occurred_at, f.id).cmp(&(event.occurred_at, event.id)))
        .is_ok()
}

/// An objection, or an opt-out covering the channel in question.
#[derive(Clone, Copy)]
pub(crate) enum Refused<'a> {
    /// UK GDPR Art 21: absolute, every channel.
    Objection(Known<'a, ObjectionRecorded>),
    /// An opt-out covering the channel in question.
    OptOut(Known<'a, OptOutRecorded>),
}

impl<'a> Refused<'a> {
    /// The address it was received for, if it names one.
    pub fn address(&self) -> Option<&'a ContactPoint> {
        match self {
            Refused::Objection(k) => k.fact.contact_point.as_ref(),
            Refused::OptOut(k) => k.fact.contact_point.as_ref(),
        }
    }
}

/// A refusal of marketing that bears on this check: the subject's own, or
/// one received for an address the message may go to.
#[derive(Clone, Copy)]
pub(crate) struct Refusal<'a> {
    pub what: Refused<'a>,
    /// Recorded under the subject the check is about.
    pub under_subject: bool,
    /// Received for an address the message may go to: it suppresses that
    /// address whichever subject it was recorded under (R1), and only a
    /// later consent naming that address lifts it.
    pub by_address: bool,
}

impl<'a> Refusal<'a> {
    fn of(event: &'a Recorded<Fact>, channel: Channel) -> Option<Refused<'a>> {
        match &event.fact {
            Fact::ObjectionRecorded(fact) => Some(Refused::Objection(Known { event, fact })),
            Fact::OptOutRecorded(fact) if fact.covers(channel) => {
                Some(Refused::OptOut(Known { event, fact }))
            }
            _ => None,
        }
    }

    /// The latest of `refusals`, by time then event id.
    pub fn latest(refusals: impl Iterator<Item = Refusal<'a>>) -> Option<Refusal<'a>> {
        refusals.max_by_key(|r| (r.at(), r.id()))
    }

    pub fn id(&self) -> EventId {
        match &self.what {
            Refused::Objection(k) => k.id(),
            Refused::OptOut(k) => k.id(),
        }
    }

    pub fn at(&self) -> Timestamp {
        match &self.what {
            Refused::Objection(k) => k.at(),
            Refused::OptOut(k) => k.at(),
        }
    }

    pub fn is_objection(&self) -> bool {
        matches!(self.what, Refused::Objection(_))
    }

    /// The address it was received for, if it names one.
    pub fn address(&self) -> Option<&'a ContactPoint> {
        self.what.address()
    }

    /// "an objection to direct marketing on 2025-01-01T00:00:00Z (via GPC
    /// signal)", "... received for the email address a@example.com"
    pub fn describe(&self) -> String {
        let what = match &self.what {
            Refused::Objection(k) => format!(
                "an objection to direct marketing on {} (via {})",
                k.at(),
                super::text::opt_out_method(k.fact.received_via)
            ),
            Refused::OptOut(k) => format!(
                "an opt-out of {} on {} (via {})",
                super::text::opt_out_scope(k.fact),
                k.at(),
                super::text::opt_out_method(k.fact.received_via)
            ),
        };
        match self.address() {
            None => what,
            Some(point) => format!(
                "{what}, received for the {}",
                super::text::contact_point(point)
            ),
        }
    }
}
