//! The README's car dealer as evidence: acme-motors sells cust-42 a car
//! (opt-out offered, not taken), emails about servicing, and the customer
//! unsubscribes. Two real decisions: email about servicing on 15 March
//! (allowed, soft opt-in) and on 1 June (refused, opted out).

#![allow(dead_code)]

use consent_domain::event::*;
use consent_domain::fold::{OrganisationState, SubjectState};
use consent_domain::identity::{EventId, OrganisationId, ProductCategoryId, SubjectId};
use consent_domain::rules::{decide, CheckRequest, Decision, RuleCatalogue, RuleSet};
use consent_domain::time::Timestamp;
use consent_domain::vocabulary::*;
use consent_report::*;

pub const ORG: &str = "acme-motors";
pub const SUBJECT: &str = "cust-42";
pub const ROOT: &str = "q1dJtC8GxD2ouH5nvkMeJSCaOKZ0zDq9WCQ7e6xVxfs=";
pub const ORIGIN: &str = "ledger.acme.example/consent";
pub const SIGNER: &str = "ledger.acme.example/consent+5c3a0f1e";

pub fn at(text: &str) -> Timestamp {
    Timestamp::parse_rfc3339(text).unwrap_or_else(|| panic!("not RFC 3339: {text}"))
}

pub fn position(topic: &str, partition: u32, offset: u64) -> EventPosition {
    EventPosition {
        topic: topic.to_owned(),
        partition,
        offset,
    }
}

fn id(n: u128) -> EventId {
    EventId(uuid::Uuid::from_u128(
        0x0190_0000_0000_7000_8000_0000_0000_0000 + n,
    ))
}

pub fn event(n: u128, subject: Option<&str>, occurred: &str, fact: Fact) -> Event {
    Event {
        id: id(n),
        organisation: OrganisationId::from(ORG),
        subject: subject.map(SubjectId::from),
        occurred_at: at(occurred),
        // Recorded two seconds after it occurred.
        recorded_at: Timestamp::from_unix_micros(at(occurred).unix_micros() + 2_000_000),
        source: Source::default(),
        fact,
    }
}

pub use consent_testkit::facts::email_address as email;

/// The events, their log positions and the decisions over them.
pub struct Example {
    pub events: Vec<(EventPosition, Event)>,
    pub requests: Vec<CheckRequest>,
    pub decisions: Vec<Decision>,
    pub rule_set: RuleSet,
}

impl Example {
    pub fn car_dealer() -> Self {
        Self::with_events(car_dealer_events())
    }

    /// Folds `events` as the projector does and decides the two questions.
    pub fn with_events(events: Vec<(EventPosition, Event)>) -> Self {
        let mut organisation = OrganisationState::default();
        let mut subject = SubjectState::default();
        for (position, event) in &events {
            organisation.apply(event, Some(position.clone()));
            if event.subject.as_ref().map(SubjectId::as_str) == Some(SUBJECT) {
                subject.apply(event, Some(position.clone()));
            }
        }
        let requests = vec![
            servicing_email("2026-03-15T09:00:00Z"),
            servicing_email("2026-06-01T09:00:00Z"),
        ];
        let catalogue = RuleCatalogue::uk();
        let rule_set = catalogue
            .select(None, requests[0].at)
            .expect("a rule set in force")
            .clone();
        let decisions = requests
            .iter()
            .map(|request| {
                let in_force = catalogue.select(None, request.at).expect("in force");
                assert_eq!(in_force.id, rule_set.id, "both checks under one rule set");
                decide(in_force, &organisation, &subject, &[], request)
            })
            .collect();
        Self {
            events,
            requests,
            decisions,
            rule_set,
        }
    }

    pub fn event(&self, kind: &str) -> &Event {
        &self
            .events
            .iter()
            .find(|(_, e)| e.fact.kind() == kind)
            .unwrap_or_else(|| panic!("no {kind} event"))
            .1
    }

    pub fn verification(&self) -> VerificationSummary {
        VerificationSummary {
            passed: true,
            checkpoint: CheckpointSummary {
                origin: ORIGIN.to_owned(),
                tree_size: 5,
                root_base64: ROOT.to_owned(),
                time: at("2026-06-01T10:00:00Z"),
            },
            signers: vec![SIGNER.to_owned()],
            consistent_with: None,
            records_proven: self.events.len(),
            records_total: self.events.len(),
            findings: vec![],
        }
    }

    /// The report of the example, all decisions recomputed and verified.
    pub fn report(&self) -> EvidenceReport<'_> {
        EvidenceReport {
            title: format!("Evidence for subject {SUBJECT} of {ORG}"),
            produced_at: at("2026-06-01T10:05:00Z"),
            scope: ReportScope::Subject {
                organisation: OrganisationId::from(ORG),
                subject: SubjectId::from(SUBJECT),
            },
            verification: self.verification(),
            events: self
                .events
                .iter()
                .map(|(position, event)| ReportEvent {
                    position: position.clone(),
                    event,
                })
                .collect(),
            decisions: self
                .requests
                .iter()
                .zip(&self.decisions)
                .map(|(request, decision)| ReportDecision {
                    request,
                    decision,
                    recomputed: true,
                })
                .collect(),
            rule_sets: vec![&self.rule_set],
        }
    }
}

pub fn servicing_email(when: &str) -> CheckRequest {
    CheckRequest {
        organisation: OrganisationId::from(ORG),
        subject: Some(SubjectId::from(SUBJECT)),
        channel: Channel::Email,
        purpose: Purpose::Commercial,
        product_category: Some(ProductCategoryId::from("servicing")),
        message_class: MessageClass::Marketing,
        promotional_content: true,
        sole_charitable_purpose: false,
        opt_out_included: true,
        sender_identified: true,
        call_category: CallCategory::General,
        contact_point: Some(email("jo@example.com")),
        at: at(when),
        rule_set: None,
    }
}

fn category(id: &str, name: &str, similar: &[&str]) -> ProductCategory {
    ProductCategory {
        id: ProductCategoryId::from(id),
        name: name.to_owned(),
        similar: similar
            .iter()
            .map(|s| ProductCategoryId::from(*s))
            .collect(),
    }
}

/// The README's facts, plus a servicing email sent in March and the
/// customer's unsubscribe in April; in log order.
pub fn car_dealer_events() -> Vec<(EventPosition, Event)> {
    let mut sale = event(
        3,
        Some(SUBJECT),
        "2026-03-01T14:30:00Z",
        Fact::SaleRecorded(SaleRecorded {
            product_category: ProductCategoryId::from("cars"),
            order_ref: "7781".to_owned(),
            collection: DetailsCollection {
                route: CollectionRoute::Direct,
                opt_out_offered: true,
                opt_out_taken: false,
                form_version: Some("sale-form-v3".to_owned()),
                contact_point: Some(email("jo@example.com")),
            },
        }),
    );
    sale.source = Source {
        system: "dealer-pos".to_owned(),
        form_id: "sale-form".to_owned(),
        evidence_ref: "order 7781".to_owned(),
        ..Source::default()
    };
    vec![
        (
            position("consent.reference", 6, 0),
            event(
                1,
                None,
                "2026-01-10T09:00:00Z",
                Fact::OrganisationRegistered(OrganisationRegistered {
                    name: "Acme Motors Ltd".to_owned(),
                    kind: OrganisationKind::Commercial,
                    charity_register_number: None,
                }),
            ),
        ),
        (
            position("consent.reference", 6, 1),
            event(
                2,
                None,
                "2026-01-10T09:00:00Z",
                Fact::ProductCategoriesDefined(ProductCategoriesDefined {
                    categories: vec![
                        category("cars", "Cars", &["servicing", "mot"]),
                        category("servicing", "Servicing", &["mot"]),
                        category("mot", "MOT tests", &[]),
                        category("insurance", "Motor insurance", &[]),
                    ],
                }),
            ),
        ),
        (position("consent.commerce", 2, 0), sale),
        (
            position("consent.messages", 2, 0),
            event(
                4,
                Some(SUBJECT),
                "2026-03-15T09:00:00Z",
                Fact::MarketingMessageSent(MarketingMessageSent {
                    channel: Channel::Email,
                    purpose: Purpose::Commercial,
                    product_category: Some(ProductCategoryId::from("servicing")),
                    message_class: MessageClass::Marketing,
                    promotional_content: true,
                    opt_out_included: true,
                    sender_identified: true,
                    message_id: "msg-0315".to_owned(),
                    campaign_id: "spring-service".to_owned(),
                    contact_point: Some(email("jo@example.com")),
                    sole_charitable_purpose: false,
                }),
            ),
        ),
        (
            position("consent.optouts", 2, 0),
            event(
                5,
                Some(SUBJECT),
                "2026-04-02T08:00:00Z",
                Fact::OptOutRecorded(OptOutRecorded {
                    contact_point: None,
                    channels: vec![Channel::Email],
                    all_channels: false,
                    received_via: OptOutMethod::UnsubscribeLink,
                }),
            ),
        ),
    ]
}

/// `&`, `<`, `>` and `"` as HTML writes them in text and attributes.
pub fn escaped(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The part of `html` from the element with `id="{id}"` to the next
/// `<section` (or the end).
pub fn section<'h>(html: &'h str, id: &str) -> &'h str {
    let marker = format!("id=\"{id}\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no element with {marker}"));
    let rest = &html[start..];
    let end = rest[1..].find("<section").map_or(rest.len(), |i| i + 1);
    &rest[..end]
}
