//! Given / when / then for the rule engine.
//!
//! ```text
//! Scenario::commercial()                       // given: acme, a commercial org
//!     .given_org("2020-01-01", categories(..)) //        its category map
//!     .given("2025-01-10", sale("cars"))       //        facts about alice
//!     .when(email().category("servicing").at("2025-06-01"))
//!     .allowed(SoftOptIn)                      // then
//!     .fired("R3b", Satisfied);
//! ```
//!
//! `when` folds the facts the way the projector does (per organisation and
//! per organisation+subject), picks the rule set as the service does
//! (`RuleCatalogue::uk().select`), decides, and checks what must hold of
//! every decision: rules reported in rule-set order with the rule set's
//! titles and citations, every reason cited, no event after the check's time
//! relied on, allowed exactly when there is no reason against, the same
//! answer twice. Assertion failures print the whole decision.

pub mod dump;
pub mod generate;

use consent_domain::event::{Event, EventPosition, Fact, Source};
use consent_domain::fold::{AddressState, OrganisationState, SubjectState};
use consent_domain::identity::{EventId, OrganisationId, SubjectId};
use consent_domain::rules::{
    addresses_to_consult, decide, decide_with_texts, CheckRequest, Decision, DecisionTexts,
    LawfulBasis, RuleCatalogue, RuleOutcome, RuleSet, RuleSetId,
};
use consent_domain::time::Timestamp;
use consent_domain::vocabulary::*;
use std::collections::BTreeMap;
use std::fmt::Write as _;

pub use crate::facts::*;
pub use consent_domain::rules::LawfulBasis::{
    CharitySoftOptIn, Consent, CorporateSubscriber, LegitimateInterests, LiveCallNotObjected,
    NotDirectMarketing, SoftOptIn,
};
pub use consent_domain::rules::RuleOutcome::{Blocked, Failed, NotApplicable, Satisfied};

/// The organisation scenarios are about, unless told otherwise.
pub const ORG: &str = "acme";
/// The subject scenarios are about, unless told otherwise.
pub const SUBJECT: &str = "alice";

/// `"2025-06-01"` (midnight UTC) or RFC 3339.
pub fn day(text: &str) -> Timestamp {
    if let Some(t) = Timestamp::parse_rfc3339(text) {
        return t;
    }
    let parts: Vec<&str> = text.split('-').collect();
    let [y, m, d] = parts.as_slice() else {
        panic!("not a date: {text}");
    };
    Timestamp::from_date(
        y.parse().expect("year"),
        m.parse().expect("month"),
        d.parse().expect("day"),
    )
    .unwrap_or_else(|| panic!("not a date: {text}"))
}

/// The facts of a ledger, for any organisations and subjects.
#[derive(Clone, Default)]
pub struct Scenario {
    events: Vec<Event>,
    labels: Vec<(String, EventId)>,
}

impl Scenario {
    /// An empty ledger: no organisation, no subject.
    pub fn empty() -> Self {
        Self::default()
    }

    /// `acme`, a commercial organisation registered on 2020-01-01.
    pub fn commercial() -> Self {
        Self::empty().given_org("2020-01-01", registered(OrganisationKind::Commercial))
    }

    /// `acme`, a registered charity (number 1234567) since 2020-01-01.
    pub fn charity() -> Self {
        Self::empty()
            .given_org("2020-01-01", charity_registered("1234567"))
            .labelled("charity registration")
    }

    /// `acme`, a political party registered on 2020-01-01.
    pub fn political_party() -> Self {
        Self::empty().given_org("2020-01-01", registered(OrganisationKind::PoliticalParty))
    }

    /// A fact about `alice` recorded by `acme`.
    pub fn given(self, at: &str, fact: impl Into<Fact>) -> Self {
        self.given_at(day(at), fact)
    }

    pub fn given_at(self, at: Timestamp, fact: impl Into<Fact>) -> Self {
        self.record(ORG, Some(SUBJECT), at, fact.into())
    }

    /// A fact recorded by `acme` about `subject`.
    pub fn given_about(self, subject: &str, at: &str, fact: impl Into<Fact>) -> Self {
        self.record(ORG, Some(subject), day(at), fact.into())
    }

    /// A fact recorded by `acme` for an address with no subject (a row of
    /// an imported suppression list or TPS file).
    pub fn given_for_address(self, at: &str, fact: impl Into<Fact>) -> Self {
        self.record(ORG, None, day(at), fact.into())
    }

    /// `acme` screened against a full file of `service` taken on `taken_at`
    /// (and imported the same day), listing `numbers`. Its rows carry no
    /// listing date, so each gives the file's date. The file is labelled
    /// "<TPS|CTPS> file <taken_at>".
    pub fn screened_full(
        self,
        service: PreferenceService,
        taken_at: &str,
        numbers: &[&str],
    ) -> Self {
        self.screening(
            service,
            taken_at,
            true,
            &numbers.iter().map(|n| (*n, true)).collect::<Vec<_>>(),
        )
    }

    /// A current TPS screening listing no number (`acme` screened
    /// against a full TPS file the day before `at`).
    pub fn tps_screened_before(self, at: &str) -> Self {
        self.tps_screened_before_time(day(at))
    }

    pub fn tps_screened_before_time(self, at: Timestamp) -> Self {
        self.screening_at(PreferenceService::Tps, at.plus_days(-1), true, &[])
    }

    /// `acme` screened against a change file of `service` taken on
    /// `taken_at`: each number listed (`true`) or taken off (`false`).
    pub fn screened_changes(
        self,
        service: PreferenceService,
        taken_at: &str,
        changes: &[(&str, bool)],
    ) -> Self {
        self.screening(service, taken_at, false, changes)
    }

    fn screening(
        self,
        service: PreferenceService,
        taken_at: &str,
        full: bool,
        rows: &[(&str, bool)],
    ) -> Self {
        self.screening_at(service, day(taken_at), full, rows)
    }

    fn screening_at(
        mut self,
        service: PreferenceService,
        taken_at: Timestamp,
        full: bool,
        rows: &[(&str, bool)],
    ) -> Self {
        let name = match service {
            PreferenceService::Tps => "TPS",
            PreferenceService::Ctps => "CTPS",
        };
        let kind = if full { "file" } else { "changes" };
        let reference = format!("{name}-{kind}-{}", taken_at.unix_micros());
        for (number, listed) in rows {
            self = self.record(
                ORG,
                None,
                taken_at,
                file_row(service, &reference, number, taken_at, *listed),
            );
        }
        let label = format!("{name} {kind} {}", &taken_at.to_string()[..10]);
        self.record(
            ORG,
            None,
            taken_at,
            screened(service, &reference, full, taken_at, rows.len() as u64),
        )
        .labelled(&label)
    }

    /// A fact about `acme` itself.
    pub fn given_org(self, at: &str, fact: impl Into<Fact>) -> Self {
        self.record(ORG, None, day(at), fact.into())
    }

    /// A fact recorded by another organisation, about `subject` or (with
    /// `None`) about itself.
    pub fn given_elsewhere(
        self,
        organisation: &str,
        subject: Option<&str>,
        at: &str,
        fact: impl Into<Fact>,
    ) -> Self {
        self.record(organisation, subject, day(at), fact.into())
    }

    /// Names the last fact given, for [`Then::relies_on`].
    pub fn labelled(mut self, label: &str) -> Self {
        let id = self.events.last().expect("a fact to label").id;
        self.labels.push((label.to_owned(), id));
        self
    }

    fn record(
        mut self,
        organisation: &str,
        subject: Option<&str>,
        at: Timestamp,
        fact: Fact,
    ) -> Self {
        let n = self.events.len() as u128 + 1;
        self.events.push(Event {
            id: EventId(uuid::Uuid::from_u128(n)),
            organisation: OrganisationId::from(organisation),
            subject: subject.map(SubjectId::from),
            occurred_at: at,
            recorded_at: at,
            source: Source::default(),
            fact,
        });
        self
    }

    /// The states the projector would hold for `organisation`,
    /// (`organisation`, `subject`) and each of the organisation's
    /// addresses: every event, each at its own offset.
    pub fn states(
        &self,
        organisation: &str,
        subject: Option<&str>,
    ) -> (
        OrganisationState,
        SubjectState,
        BTreeMap<ContactValue, AddressState>,
    ) {
        let mut org = OrganisationState::default();
        let mut subj = SubjectState::default();
        let mut addresses: BTreeMap<ContactValue, AddressState> = BTreeMap::new();
        for (offset, event) in self.events.iter().enumerate() {
            let position = Some(EventPosition {
                topic: "test.facts".to_owned(),
                partition: 0,
                offset: offset as u64,
            });
            if event.organisation.as_str() != organisation {
                continue;
            }
            org.apply(event, position.clone());
            if let Some(address) = event.fact.address() {
                addresses
                    .entry(address.clone())
                    .or_default()
                    .apply(event, position.clone());
            }
            if event
                .subject
                .as_ref()
                .is_some_and(|s| Some(s.as_str()) == subject)
            {
                subj.apply(event, position);
            }
        }
        (org, subj, addresses)
    }

    /// What `decide` is given for `check`: the rule set chosen as the
    /// service chooses it (`RuleCatalogue::uk().select`), the states the
    /// projector would hold, and the states of the addresses to consult.
    pub fn inputs(&self, check: &Check) -> Inputs {
        let request = check.request();
        let catalogue = RuleCatalogue::uk();
        let rule_set = catalogue
            .select(request.rule_set.as_ref(), request.at)
            .unwrap_or_else(|e| panic!("rule set: {e}"))
            .clone();
        let (organisation, subject, all_addresses) = self.states(
            request.organisation.as_str(),
            request.subject.as_ref().map(|s| s.as_str()),
        );
        let addresses: Vec<AddressState> = addresses_to_consult(&subject, &request)
            .into_iter()
            .filter_map(|address| all_addresses.get(&address).cloned())
            .collect();
        Inputs {
            rule_set,
            organisation,
            subject,
            addresses,
            request,
        }
    }

    /// Decide `check` against these facts.
    pub fn when(&self, check: Check) -> Then {
        let Inputs {
            rule_set,
            organisation: org,
            subject: subj,
            addresses,
            request,
        } = self.inputs(&check);
        let decision = decide(&rule_set, &org, &subj, &addresses, &request);
        assert_eq!(
            decision,
            decide(&rule_set, &org, &subj, &addresses, &request),
            "decide is deterministic"
        );
        let without_texts = decide_with_texts(
            &rule_set,
            &org,
            &subj,
            &addresses,
            &request,
            DecisionTexts::Omitted,
        );
        assert_eq!(
            without_texts,
            decision.clone().without_texts(),
            "without texts, the decision is the full one with its texts left out"
        );
        dump::decision(&request, &decision, &without_texts);
        let then = Then {
            decision,
            rule_set,
            request,
            events: self.events.clone(),
            labels: self.labels.clone(),
        };
        then.check_invariants();
        then
    }
}

/// What `decide` is given for one check (see [`Scenario::inputs`]).
pub struct Inputs {
    pub rule_set: RuleSet,
    pub organisation: OrganisationState,
    pub subject: SubjectState,
    pub addresses: Vec<AddressState>,
    pub request: CheckRequest,
}

/// The question: a message about to be sent.
#[derive(Clone)]
pub struct Check {
    request: CheckRequest,
    at: Option<Timestamp>,
}

fn check(channel: Channel, contact_point: Option<ContactPoint>) -> Check {
    Check {
        request: CheckRequest {
            organisation: OrganisationId::from(ORG),
            subject: Some(SubjectId::from(SUBJECT)),
            channel,
            purpose: Purpose::Commercial,
            product_category: None,
            message_class: MessageClass::Marketing,
            promotional_content: true,
            sole_charitable_purpose: false,
            opt_out_included: true,
            sender_identified: true,
            call_category: CallCategory::General,
            contact_point,
            at: Timestamp::from_unix_micros(0),
            rule_set: None,
        },
        at: None,
    }
}

/// A marketing email from acme to alice, identifying acme, with an opt-out.
pub fn email() -> Check {
    check(Channel::Email, None)
}

/// A marketing SMS, identifying the sender, with an opt-out.
pub fn sms() -> Check {
    check(Channel::Sms, None)
}

/// A live marketing call to `number`.
pub fn live_call(number: &str) -> Check {
    check(Channel::LiveCall, Some(mobile(number)))
}

/// An automated marketing call to `number`.
pub fn automated_call(number: &str) -> Check {
    check(Channel::AutomatedCall, Some(mobile(number)))
}

/// A marketing letter.
pub fn post() -> Check {
    check(Channel::Post, None)
}

impl Check {
    /// When the message would be sent.
    pub fn at(self, when: &str) -> Self {
        self.at_time(day(when))
    }

    pub fn at_time(mut self, when: Timestamp) -> Self {
        self.at = Some(when);
        self
    }

    /// The product category the message markets.
    pub fn category(mut self, category: &str) -> Self {
        self.request.product_category = Some(category.into());
        self
    }

    pub fn purpose(mut self, purpose: Purpose) -> Self {
        self.request.purpose = purpose;
        self
    }

    /// Solely furthering the sender's charitable purposes.
    pub fn charitable(mut self) -> Self {
        self.request.purpose = Purpose::Charitable;
        self.request.sole_charitable_purpose = true;
        self
    }

    /// Charitable, but not solely.
    pub fn partly_charitable(mut self) -> Self {
        self.request.purpose = Purpose::Charitable;
        self.request.sole_charitable_purpose = false;
        self
    }

    pub fn campaigning(self) -> Self {
        self.purpose(Purpose::Campaigning)
    }

    /// A service message with no promotion.
    pub fn service_message(mut self) -> Self {
        self.request.message_class = MessageClass::Service;
        self.request.promotional_content = false;
        self
    }

    /// Adds promotional content to the message.
    pub fn with_promotion(mut self) -> Self {
        self.request.promotional_content = true;
        self
    }

    pub fn without_opt_out(mut self) -> Self {
        self.request.opt_out_included = false;
        self
    }

    pub fn without_sender_identified(mut self) -> Self {
        self.request.sender_identified = false;
        self
    }

    pub fn call_category(mut self, category: CallCategory) -> Self {
        self.request.call_category = category;
        self
    }

    pub fn to(mut self, point: ContactPoint) -> Self {
        self.request.contact_point = Some(point);
        self
    }

    pub fn without_contact_point(mut self) -> Self {
        self.request.contact_point = None;
        self
    }

    /// Evaluate under this rule set instead of the one in force.
    pub fn under(mut self, rule_set: &str) -> Self {
        self.request.rule_set = Some(RuleSetId::from(rule_set));
        self
    }

    /// Sent by another organisation.
    pub fn from(mut self, organisation: &str) -> Self {
        self.request.organisation = OrganisationId::from(organisation);
        self
    }

    /// Addressed to the contact point only: the sender names no subject
    /// (as an ESP does).
    pub fn only_to(mut self, point: ContactPoint) -> Self {
        self.request.subject = None;
        self.request.contact_point = Some(point);
        self
    }

    /// Sent to another subject.
    pub fn about(mut self, subject: &str) -> Self {
        self.request.subject = Some(SubjectId::from(subject));
        self
    }

    pub fn request(&self) -> CheckRequest {
        let mut request = self.request.clone();
        request.at = self.at.expect("say when: .at(\"2025-06-01\")");
        request
    }
}

/// The decision, with assertions that read like the rule.
pub struct Then {
    decision: Decision,
    rule_set: RuleSet,
    request: CheckRequest,
    events: Vec<Event>,
    labels: Vec<(String, EventId)>,
}

impl Then {
    pub fn decision(&self) -> &Decision {
        &self.decision
    }

    pub fn allowed(self, basis: LawfulBasis) -> Self {
        self.assert(
            self.decision.allowed && self.decision.lawful_basis == basis,
            &format!("expected allowed with basis {basis:?}"),
        );
        self
    }

    pub fn refused(self) -> Self {
        self.assert(!self.decision.allowed, "expected refused");
        self
    }

    /// A reason against with this rule and code.
    pub fn because(self, rule: &str, code: &str) -> Self {
        self.assert(
            self.has_reason(rule, code),
            &format!("expected reason {rule}/{code}"),
        );
        self
    }

    /// Exactly these reasons against (as a set of rule/code pairs).
    pub fn only_because(self, expected: &[(&str, &str)]) -> Self {
        let mut actual: Vec<(String, String)> = self
            .decision
            .reasons_against
            .iter()
            .map(|r| (r.rule.to_string(), r.code.to_string()))
            .collect();
        actual.sort();
        actual.dedup();
        let mut wanted: Vec<(String, String)> = expected
            .iter()
            .map(|(r, c)| ((*r).to_owned(), (*c).to_owned()))
            .collect();
        wanted.sort();
        self.assert(
            actual == wanted,
            &format!("expected exactly the reasons {wanted:?}"),
        );
        self
    }

    pub fn not_because(self, rule: &str, code: &str) -> Self {
        self.assert(
            !self.has_reason(rule, code),
            &format!("expected no reason {rule}/{code}"),
        );
        self
    }

    /// The rule was evaluated with this outcome.
    pub fn fired(self, rule: &str, outcome: RuleOutcome) -> Self {
        let actual = self
            .decision
            .rules
            .iter()
            .find(|f| f.rule.as_str() == rule)
            .map(|f| f.outcome);
        self.assert(
            actual == Some(outcome),
            &format!("expected {rule} {outcome:?}, got {actual:?}"),
        );
        self
    }

    /// The rule is not part of the rule set used.
    pub fn not_in_rule_set(self, rule: &str) -> Self {
        self.assert(
            !self.decision.rules.iter().any(|f| f.rule.as_str() == rule),
            &format!("expected {rule} not to be evaluated"),
        );
        self
    }

    /// The rule's detail sentence mentions `text`.
    pub fn explains(self, rule: &str, text: &str) -> Self {
        let found = self
            .decision
            .rules
            .iter()
            .any(|f| f.rule.as_str() == rule && f.detail.contains(text));
        self.assert(
            found,
            &format!("expected {rule}'s detail to mention {text:?}"),
        );
        self
    }

    /// The reason with this code says `text`.
    pub fn reason_says(self, code: &str, text: &str) -> Self {
        let found = self
            .decision
            .reasons_against
            .iter()
            .any(|r| r.code == code && r.message.contains(text));
        self.assert(found, &format!("expected reason {code} to say {text:?}"));
        self
    }

    /// The reason with this rule and code is cited with `text`.
    pub fn cites(self, rule: &str, code: &str, text: &str) -> Self {
        let found = self
            .decision
            .reasons_against
            .iter()
            .any(|r| r.rule.as_str() == rule && r.code == code && r.citation.contains(text));
        self.assert(found, &format!("expected {rule}/{code} to cite {text:?}"));
        self
    }

    /// The reason with this code names the labelled events (and maybe more).
    pub fn reason_names(self, code: &str, labels: &[&str]) -> Self {
        let ids: Vec<EventId> = labels.iter().map(|l| self.label(l)).collect();
        let found = self
            .decision
            .reasons_against
            .iter()
            .any(|r| r.code == code && ids.iter().all(|id| r.events.contains(id)));
        self.assert(found, &format!("expected reason {code} to name {labels:?}"));
        self
    }

    /// Exactly the labelled events are relied on.
    pub fn relies_on(self, labels: &[&str]) -> Self {
        let mut wanted: Vec<EventId> = labels.iter().map(|l| self.label(l)).collect();
        wanted.sort();
        let mut actual: Vec<EventId> = self.decision.relied_on.iter().map(|r| r.id).collect();
        actual.sort();
        self.assert(
            actual == wanted,
            &format!("expected to rely on exactly {labels:?}"),
        );
        self
    }

    /// The kinds of the events relied on, in time order.
    pub fn relies_on_kinds(self, kinds: &[&str]) -> Self {
        let actual: Vec<&str> = self
            .decision
            .relied_on
            .iter()
            .map(|r| r.kind.as_ref())
            .collect();
        self.assert(
            actual == kinds,
            &format!("expected to rely on kinds {kinds:?}"),
        );
        self
    }

    /// The rule's published citation mentions `text`.
    pub fn cites_rule(self, rule: &str, text: &str) -> Self {
        let found = self
            .decision
            .rules
            .iter()
            .any(|f| f.rule.as_str() == rule && f.citation.contains(text));
        self.assert(found, &format!("expected {rule} to cite {text:?}"));
        self
    }

    pub fn under_rule_set(self, id: &str) -> Self {
        self.assert(
            self.decision.rule_set.as_str() == id,
            &format!("expected rule set {id}"),
        );
        self
    }

    fn label(&self, label: &str) -> EventId {
        self.labels
            .iter()
            .find(|(l, _)| l == label)
            .map(|(_, id)| *id)
            .unwrap_or_else(|| panic!("no fact labelled {label:?}"))
    }

    fn has_reason(&self, rule: &str, code: &str) -> bool {
        self.decision
            .reasons_against
            .iter()
            .any(|r| r.rule.as_str() == rule && r.code == code)
    }

    #[track_caller]
    fn assert(&self, ok: bool, expectation: &str) {
        if !ok {
            panic!("{expectation}\n\n{}", render(&self.decision));
        }
    }

    /// What holds of every decision.
    #[track_caller]
    fn check_invariants(&self) {
        let d = &self.decision;
        self.assert(
            d.rule_set == self.rule_set.id,
            "names the rule set used (R8)",
        );
        self.assert(
            d.evaluated_at == self.request.at,
            "evaluated at the check's time",
        );
        let listed: Vec<_> = self
            .rule_set
            .rules
            .iter()
            .map(|r| (&r.id, &r.title, &r.citation))
            .collect();
        let fired: Vec<_> = d
            .rules
            .iter()
            .map(|f| (&f.rule, &f.title, &f.citation))
            .collect();
        self.assert(
            listed == fired,
            "every rule reported, in rule-set order, as published",
        );
        self.assert(
            d.allowed == d.reasons_against.is_empty(),
            "allowed exactly when no reason stands against",
        );
        self.assert(
            d.allowed == (d.lawful_basis != LawfulBasis::None),
            "a basis exactly when allowed",
        );
        for reason in &d.reasons_against {
            self.assert(
                !reason.code.is_empty()
                    && !reason.message.is_empty()
                    && !reason.citation.is_empty(),
                "every reason has a code, a message and a citation",
            );
            self.assert(
                self.rule_set.rule(reason.rule.as_str()).is_some(),
                "every reason names a rule of the rule set",
            );
            for id in &reason.events {
                let event = self.events.iter().find(|e| e.id == *id);
                self.assert(
                    event.is_some_and(|e| e.occurred_at <= self.request.at),
                    "a reason names only facts known at the check's time",
                );
            }
        }
        for reference in &d.relied_on {
            let event = self.events.iter().find(|e| e.id == reference.id);
            self.assert(
                event.is_some_and(|e| {
                    e.occurred_at <= self.request.at
                        && e.occurred_at == reference.occurred_at
                        && e.fact.kind() == reference.kind
                }) && reference.position.is_some(),
                "relied-on events are known at the check's time, with kind and log position",
            );
        }
    }
}

/// The decision as a compliance officer would read it.
pub fn render(d: &Decision) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} under {} at {} (basis {:?})",
        if d.allowed { "ALLOWED" } else { "REFUSED" },
        d.rule_set,
        d.evaluated_at,
        d.lawful_basis
    );
    for r in &d.reasons_against {
        let _ = writeln!(
            out,
            "  reason {}/{}: {} [{}] {:?}",
            r.rule, r.code, r.message, r.citation, r.events
        );
    }
    for f in &d.rules {
        let _ = writeln!(
            out,
            "  {:>3} {:?}: {}",
            f.rule.as_str(),
            f.outcome,
            f.detail
        );
    }
    for e in &d.relied_on {
        let _ = writeln!(out, "  relied on {} {} at {}", e.kind, e.id, e.occurred_at);
    }
    out
}
