//! One subject's life with its organisations: how they came to be known
//! (a sale, an enquiry, a donation, a consent), then a realistic mix of
//! later facts, most of them marketing messages sent.

use crate::organisations::Organisation;
use crate::rng::Rng;
use consent_schema::pbjson_types::Timestamp;
use consent_schema::v1::{self, envelope::Payload};

/// 2024-01-01T00:00:00Z: subjects' histories start from here.
pub const HISTORY_START: i64 = 1_704_067_200;
/// Histories start within this many days of [`HISTORY_START`] (to March
/// 2026), so that some run past 5 February 2026, when the charity soft
/// opt-in began: a replay under the other rule set then has decisions to
/// change.
const START_SPREAD_DAYS: u64 = 800;
const DAY: u64 = 86_400;

/// The kinds of later facts, with their weights per ten thousand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Later {
    Send,
    ContactPoint,
    SubscriberType,
    Consent,
    Withdrawal,
    Sale,
    Negotiation,
    OptOut,
    Objection,
    PreferenceListing,
    ToldNotToCall,
    DoesNotObject,
    Erasure,
}

const LATER: [(Later, u32); 13] = [
    (Later::Send, 5_395),
    (Later::ContactPoint, 500),
    (Later::SubscriberType, 400),
    (Later::Consent, 700),
    (Later::Withdrawal, 300),
    (Later::Sale, 900),
    (Later::Negotiation, 400),
    (Later::OptOut, 500),
    (Later::Objection, 100),
    (Later::PreferenceListing, 400),
    (Later::ToldNotToCall, 100),
    (Later::DoesNotObject, 100),
    (Later::Erasure, 5),
];

const METHODS: [v1::OptOutMethod; 9] = [
    v1::OptOutMethod::UnsubscribeLink,
    v1::OptOutMethod::OneClick,
    v1::OptOutMethod::ReplyStop,
    v1::OptOutMethod::Call,
    v1::OptOutMethod::InPerson,
    v1::OptOutMethod::EmailReply,
    v1::OptOutMethod::Letter,
    v1::OptOutMethod::GpcSignal,
    v1::OptOutMethod::PreferenceCentre,
];

/// A generated fact before it gets its envelope.
pub struct Fact {
    pub organisation: usize,
    pub occurred_at: i64,
    pub payload: Payload,
    pub source: Option<v1::Source>,
}

/// The subject's contact points, fixed per subject.
struct Person {
    email: String,
    mobile: String,
    landline: String,
    postal: String,
}

impl Person {
    fn of(index: u64) -> Self {
        Self {
            email: format!("p{index}@mail{}.example", index % 97),
            mobile: format!("+447{:09}", index % 1_000_000_000),
            landline: format!("+4420{:08}", index % 100_000_000),
            postal: format!("{} High Street, Town {}", 1 + index % 300, index % 1000),
        }
    }

    fn contact(&self, kind: v1::ContactKind) -> v1::ContactPoint {
        let value = match kind {
            v1::ContactKind::Mobile => &self.mobile,
            v1::ContactKind::Landline => &self.landline,
            v1::ContactKind::Postal => &self.postal,
            _ => &self.email,
        };
        v1::ContactPoint {
            kind: kind.into(),
            value: value.clone(),
            sealed: None,
        }
    }
}

/// The home organisation of subject `index` (its first and most frequent
/// counterpart), and the second one it deals with, if any.
pub fn organisations_of(seed: u64, index: u64, organisations: u32) -> (usize, Option<usize>) {
    let mut rng = Rng::for_item(seed, 2, index);
    let count = u64::from(organisations.max(1));
    let home = crate::rng::index(rng.below(count));
    let second = (count > 1 && rng.chance(100))
        .then(|| crate::rng::index((home as u64 + 1 + rng.below(count - 1)) % count));
    (home, second)
}

/// The `count` facts of subject `index`, in time order.
pub fn facts(seed: u64, index: u64, count: u64, organisations: &[Organisation]) -> Vec<Fact> {
    let organisation_count = u32::try_from(organisations.len()).unwrap_or(u32::MAX);
    let (home, second) = organisations_of(seed, index, organisation_count);
    let mut rng = Rng::for_item(seed, 3, index);
    let person = Person::of(index);
    let mut at = HISTORY_START + (rng.below(START_SPREAD_DAYS * DAY)) as i64;
    let mut facts = Vec::with_capacity(crate::rng::index(count));
    let mut sends = 0u64;
    for n in 0..count {
        let organisation = match second {
            Some(second) if n > 0 && rng.chance(100) => second,
            _ => home,
        };
        let org = &organisations[organisation];
        let payload = if n == 0 {
            origin(&mut rng, org, &person)
        } else {
            at += rng.between(3_600, 45 * DAY) as i64;
            let kind = LATER[rng.weighted(&LATER.map(|(_, w)| w))].0;
            later(&mut rng, kind, org, &person, index, &mut sends, at)
        };
        let source = source_for(&payload, index, n);
        facts.push(Fact {
            organisation,
            occurred_at: at,
            payload,
            source,
        });
    }
    facts
}

/// How the organisation came to know the subject.
fn origin(rng: &mut Rng, org: &Organisation, person: &Person) -> Payload {
    match org.kind {
        v1::OrganisationKind::Commercial if rng.chance(700) => sale(rng, org, person),
        v1::OrganisationKind::Commercial => negotiation(rng, org, person),
        v1::OrganisationKind::Charity if rng.chance(800) => support(rng, person),
        _ => consent(rng, org, person),
    }
}

fn later(
    rng: &mut Rng,
    kind: Later,
    org: &Organisation,
    person: &Person,
    index: u64,
    sends: &mut u64,
    at: i64,
) -> Payload {
    let commercial = org.kind == v1::OrganisationKind::Commercial;
    match kind {
        Later::Send => {
            *sends += 1;
            send(rng, org, person, index, *sends, at)
        }
        Later::ContactPoint => Payload::ContactPointRecorded(v1::ContactPointRecorded {
            contact_point: Some(person.contact(*rng.pick(&[
                v1::ContactKind::Email,
                v1::ContactKind::Mobile,
                v1::ContactKind::Landline,
                v1::ContactKind::Postal,
            ]))),
        }),
        Later::SubscriberType => {
            let subscriber_type = match rng.weighted(&[80, 8, 4, 8]) {
                0 => v1::SubscriberType::Individual,
                1 => v1::SubscriberType::SoleTrader,
                2 => v1::SubscriberType::Partnership,
                _ => v1::SubscriberType::Corporate,
            };
            Payload::SubscriberTypeDeclared(v1::SubscriberTypeDeclared {
                subscriber_type: subscriber_type.into(),
                evidence: if subscriber_type == v1::SubscriberType::Corporate {
                    format!("companies-house:{:08}", index % 100_000_000)
                } else {
                    String::new()
                },
            })
        }
        Later::Consent => consent(rng, org, person),
        Later::Withdrawal => Payload::ConsentWithdrawn(v1::ConsentWithdrawn {
            channels: if rng.chance(500) {
                Vec::new()
            } else {
                vec![channel(rng).into()]
            },
            purposes: Vec::new(),
            received_via: (*rng.pick(&METHODS)).into(),
        }),
        Later::Sale if commercial => sale(rng, org, person),
        Later::Sale if org.kind == v1::OrganisationKind::Charity => support(rng, person),
        Later::Negotiation if commercial => negotiation(rng, org, person),
        Later::Sale | Later::Negotiation => consent(rng, org, person),
        Later::OptOut => {
            let all_channels = rng.chance(200);
            Payload::OptOutRecorded(v1::OptOutRecorded {
                contact_point: None,
                channels: if all_channels {
                    Vec::new()
                } else {
                    vec![channel(rng).into()]
                },
                all_channels,
                received_via: (*rng.pick(&METHODS)).into(),
            })
        }
        Later::Objection => Payload::ObjectionRecorded(v1::ObjectionRecorded {
            contact_point: None,
            received_via: (*rng.pick(&METHODS)).into(),
        }),
        Later::PreferenceListing => {
            let corporate = rng.chance(150);
            Payload::PreferenceServiceListing(v1::PreferenceServiceListing {
                snapshot_ref: String::new(),
                service: if corporate {
                    v1::PreferenceService::Ctps
                } else {
                    v1::PreferenceService::Tps
                }
                .into(),
                number: if rng.chance(500) {
                    person.landline.clone()
                } else {
                    person.mobile.clone()
                },
                listed_at: Some(seconds(at - rng.between(DAY, 400 * DAY) as i64)),
                listed: rng.chance(850),
                sealed_number: None,
            })
        }
        Later::ToldNotToCall => Payload::ToldNotToCall(v1::ToldNotToCall {
            number: person.landline.clone(),
            sealed_number: None,
        }),
        Later::DoesNotObject => Payload::DoesNotObjectToCalls(v1::DoesNotObjectToCalls {
            number: person.landline.clone(),
            sealed_number: None,
        }),
        Later::Erasure => Payload::ErasureRequested(v1::ErasureRequested {
            reason: "the subject asked".to_owned(),
        }),
    }
}

fn channel(rng: &mut Rng) -> v1::Channel {
    match rng.weighted(&[60, 25, 8, 2, 5]) {
        0 => v1::Channel::Email,
        1 => v1::Channel::Sms,
        2 => v1::Channel::LiveCall,
        3 => v1::Channel::AutomatedCall,
        _ => v1::Channel::Post,
    }
}

fn collection(rng: &mut Rng, person: &Person) -> v1::DetailsCollection {
    let route = match rng.weighted(&[90, 4, 3, 2, 1]) {
        0 => v1::CollectionRoute::Direct,
        1 => v1::CollectionRoute::ThirdParty,
        2 => v1::CollectionRoute::GroupCompany,
        3 => v1::CollectionRoute::TradingSubsidiary,
        _ => v1::CollectionRoute::FundraisingPlatform,
    };
    let opt_out_offered = rng.chance(950);
    v1::DetailsCollection {
        route: route.into(),
        opt_out_offered,
        opt_out_taken: opt_out_offered && rng.chance(60),
        form_version: format!("form-v{}", 1 + rng.below(4)),
        contact_point: match rng.weighted(&[60, 30, 10]) {
            0 => Some(person.contact(v1::ContactKind::Email)),
            1 => Some(person.contact(v1::ContactKind::Mobile)),
            _ => None,
        },
    }
}

fn category(rng: &mut Rng, org: &Organisation) -> String {
    if org.categories.is_empty() {
        "general".to_owned()
    } else {
        rng.pick(&org.categories).id.clone()
    }
}

fn sale(rng: &mut Rng, org: &Organisation, person: &Person) -> Payload {
    Payload::SaleRecorded(v1::SaleRecorded {
        product_category_id: category(rng, org),
        order_ref: format!("o-{}", rng.below(100_000_000)),
        collection: Some(collection(rng, person)),
    })
}

fn negotiation(rng: &mut Rng, org: &Organisation, person: &Person) -> Payload {
    Payload::NegotiationRecorded(v1::NegotiationRecorded {
        product_category_id: category(rng, org),
        kind: match rng.weighted(&[50, 35, 15]) {
            0 => v1::NegotiationKind::QuoteRequested,
            1 => v1::NegotiationKind::DetailsRequested,
            _ => v1::NegotiationKind::GeneralEnquiry,
        }
        .into(),
        collection: Some(collection(rng, person)),
    })
}

fn support(rng: &mut Rng, person: &Person) -> Payload {
    Payload::CharitySupportRecorded(v1::CharitySupportRecorded {
        kind: match rng.weighted(&[60, 20, 10, 10]) {
            0 => v1::SupportKind::Donation,
            1 => v1::SupportKind::Membership,
            2 => v1::SupportKind::Volunteering,
            _ => v1::SupportKind::ExpressedInterest,
        }
        .into(),
        collection: Some(collection(rng, person)),
    })
}

fn consent(rng: &mut Rng, org: &Organisation, person: &Person) -> Payload {
    let mut channels = vec![v1::Channel::Email.into()];
    if rng.chance(400) {
        channels.push(v1::Channel::Sms.into());
    }
    if rng.chance(100) {
        channels.push(v1::Channel::LiveCall.into());
    }
    let third_party = rng.chance(50);
    let digest: [u8; 32] = rng.bytes();
    Payload::ConsentGiven(v1::ConsentGiven {
        channels,
        purposes: vec![org.purpose().into()],
        wording_version: format!("w{}", 1 + rng.below(5)),
        wording_sha256: digest.iter().map(|b| format!("{b:02x}")).collect(),
        method: match rng.weighted(&[50, 30, 10, 5, 3, 2]) {
            0 => v1::CollectionMethod::UntickedCheckbox,
            1 => v1::CollectionMethod::DoubleOptIn,
            2 => v1::CollectionMethod::VerbalRecorded,
            3 => v1::CollectionMethod::WrittenSigned,
            4 => v1::CollectionMethod::PreTickedCheckbox,
            _ => v1::CollectionMethod::Inferred,
        }
        .into(),
        collector: if third_party {
            v1::ConsentCollector::ThirdParty
        } else {
            v1::ConsentCollector::FirstParty
        }
        .into(),
        collected_by_organisation_id: if third_party {
            "list-broker".to_owned()
        } else {
            String::new()
        },
        named_organisation_ids: if third_party {
            vec![org.id.clone()]
        } else {
            Vec::new()
        },
        condition_of_service: rng.chance(20),
        contact_point: rng
            .chance(500)
            .then(|| person.contact(v1::ContactKind::Email)),
    })
}

fn send(
    rng: &mut Rng,
    org: &Organisation,
    person: &Person,
    index: u64,
    number: u64,
    at: i64,
) -> Payload {
    let channel = channel(rng);
    let commercial = org.kind == v1::OrganisationKind::Commercial;
    let campaign = (at - HISTORY_START).max(0) / (14 * DAY as i64);
    Payload::MarketingMessageSent(v1::MarketingMessageSent {
        channel: channel.into(),
        purpose: org.purpose().into(),
        product_category_id: if commercial {
            category(rng, org)
        } else {
            String::new()
        },
        message_class: v1::MessageClass::Marketing.into(),
        promotional_content: true,
        opt_out_included: rng.chance(970),
        sender_identified: rng.chance(990),
        message_id: format!("m-{index}-{number}"),
        campaign_id: format!("{}-c{campaign}", org.id),
        contact_point: match channel {
            v1::Channel::Email if rng.chance(300) => Some(person.contact(v1::ContactKind::Email)),
            _ => None,
        },
        // A charity's appeals are solely charitable.
        sole_charitable_purpose: org.kind == v1::OrganisationKind::Charity,
    })
}

/// Where the fact came from: the point of sale or the web form for
/// collections, nothing for the rest (as most feeds send it).
fn source_for(payload: &Payload, index: u64, n: u64) -> Option<v1::Source> {
    match payload {
        Payload::SaleRecorded(sale) => Some(v1::Source {
            system: "pos".to_owned(),
            evidence_ref: format!("order {}", sale.order_ref),
            ..v1::Source::default()
        }),
        Payload::ConsentGiven(_) => Some(v1::Source {
            system: "web".to_owned(),
            form_id: "signup".to_owned(),
            evidence_ref: format!("submission {index}-{n}"),
            ..v1::Source::default()
        }),
        _ => None,
    }
}

pub fn seconds(at: i64) -> Timestamp {
    Timestamp {
        seconds: at,
        nanos: 0,
    }
}
