//! The words of the law and of marketing practice, as closed sets.
//!
//! There is no "unspecified" here: the edges refuse unspecified values, so
//! the core never has to guess.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum OrganisationKind {
    Commercial,
    Charity,
    PoliticalParty,
    OtherNotForProfit,
}

/// PECR reg 22 protects individual subscribers; corporate subscribers only
/// get reg 23 (identification and opt-out).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum SubscriberType {
    Individual,
    SoleTrader,
    /// An ordinary (English or Welsh) partnership.
    Partnership,
    /// Limited company, LLP, Scottish partnership, public body.
    Corporate,
}

impl SubscriberType {
    /// Sole traders and ordinary partnerships are individual subscribers.
    pub fn is_individual(self) -> bool {
        !matches!(self, SubscriberType::Corporate)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ContactKind {
    Email,
    Mobile,
    Landline,
    Postal,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ContactPoint {
    pub kind: ContactKind,
    /// What the rules compare. For a value the ledger sealed (every value
    /// appended through it), the keyed digest in text form
    /// ([`CONTACT_DIGEST_PREFIX`] then 64 hex digits): equal addresses of
    /// one organisation have equal digests, and the address itself is not
    /// in the state, the decisions or the evidence. Otherwise the address
    /// as normalised by the edge (lower-case email, E.164 number).
    pub value: String,
}

/// How a sealed contact value's digest starts in [`ContactPoint::value`]
/// (and in the numbers of TPS/CTPS listings and call preferences).
pub const CONTACT_DIGEST_PREFIX: &str = "digest:";

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Channel {
    Email,
    /// SMS and MMS.
    Sms,
    LiveCall,
    AutomatedCall,
    Post,
}

impl Channel {
    pub const ALL: [Channel; 5] = [
        Channel::Email,
        Channel::Sms,
        Channel::LiveCall,
        Channel::AutomatedCall,
        Channel::Post,
    ];

    /// "Electronic mail" in PECR reg 22: email, SMS/MMS (and voicemail,
    /// in-app and social direct messages, which the ledger records as email).
    pub const ELECTRONIC_MAIL: [Channel; 2] = [Channel::Email, Channel::Sms];

    /// One of [`Channel::ELECTRONIC_MAIL`].
    pub fn is_electronic_mail(self) -> bool {
        Self::ELECTRONIC_MAIL.contains(&self)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Sms => "sms",
            Channel::LiveCall => "live_call",
            Channel::AutomatedCall => "automated_call",
            Channel::Post => "post",
        }
    }

    /// The channel as a sentence names it: "email", "SMS", "live calls",
    /// "automated calls", "post" (decisions and the regulator's page).
    pub fn in_words(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Sms => "SMS",
            Channel::LiveCall => "live calls",
            Channel::AutomatedCall => "automated calls",
            Channel::Post => "post",
        }
    }
}

/// What a message promotes (PECR as amended by DUAA s.110).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Purpose {
    /// Commercial products or services.
    Commercial,
    /// Promoting aims and ideals, including political campaigning.
    Campaigning,
    /// Furthering a charity's charitable purposes, including fundraising.
    Charitable,
}

impl Purpose {
    pub const ALL: [Purpose; 3] = [
        Purpose::Commercial,
        Purpose::Campaigning,
        Purpose::Charitable,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Commercial => "commercial",
            Purpose::Campaigning => "campaigning",
            Purpose::Charitable => "charitable",
        }
    }
}

/// How consent was collected. Only a clear affirmative act is consent
/// (UK GDPR Art 4(11)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum CollectionMethod {
    UntickedCheckbox,
    DoubleOptIn,
    VerbalRecorded,
    WrittenSigned,
    PreTickedCheckbox,
    Inferred,
}

impl CollectionMethod {
    pub fn is_affirmative_act(self) -> bool {
        !matches!(
            self,
            CollectionMethod::PreTickedCheckbox | CollectionMethod::Inferred
        )
    }
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ConsentCollector {
    FirstParty,
    /// Collected by another organisation (the id is the collector).
    ThirdParty {
        collected_by: crate::OrganisationId,
    },
}

/// How an organisation obtained a person's contact details.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum CollectionRoute {
    Direct,
    ThirdParty,
    GroupCompany,
    TradingSubsidiary,
    FundraisingPlatform,
}

/// The circumstances in which contact details were collected: soft opt-in
/// conditions 1 (directly) and 4 (a simple means to refuse, offered and not
/// taken).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct DetailsCollection {
    pub route: CollectionRoute,
    pub opt_out_offered: bool,
    pub opt_out_taken: bool,
    pub form_version: Option<String>,
    pub contact_point: Option<ContactPoint>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum OptOutMethod {
    UnsubscribeLink,
    /// RFC 8058 one-click.
    OneClick,
    ReplyStop,
    Call,
    InPerson,
    EmailReply,
    Letter,
    /// Global Privacy Control: objection by automated means (UK GDPR Art 21(5)).
    GpcSignal,
    PreferenceCentre,
    /// The recipient marked a message as spam; the mailbox provider's
    /// feedback loop reported it through the ESP.
    SpamComplaint,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum MessageClass {
    Service,
    Marketing,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum NegotiationKind {
    QuoteRequested,
    DetailsRequested,
    /// A query not about buying: not a negotiation for a sale.
    GeneralEnquiry,
}

impl NegotiationKind {
    /// An express request about buying (ICO: a quote, details of what is
    /// offered), as opposed to any query.
    pub fn is_negotiation_for_sale(self) -> bool {
        !matches!(self, NegotiationKind::GeneralEnquiry)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum SupportKind {
    Donation,
    Membership,
    Volunteering,
    ExpressedInterest,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum PreferenceService {
    /// Telephone Preference Service (individuals).
    Tps,
    /// Corporate Telephone Preference Service.
    Ctps,
}

/// Live-call categories with rules of their own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum CallCategory {
    General,
    /// PECR reg 21A: consent required.
    ClaimsManagement,
    /// PECR reg 21B: consent or an existing client relationship.
    PensionScheme,
}
