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
    /// What the rules compare: the keyed digest of a value the ledger
    /// sealed (every value appended through it), or a value in clear.
    pub value: ContactValue,
}

/// A contact value (an email address, a telephone number, a postal
/// address) as the rules compare it.
///
/// The two forms are two types, so that the places that may only ever
/// hold digests (a suppression list, the address index) say so in their
/// signatures and cannot be handed a clear value.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ContactValue {
    /// As normalised at the edge (lower-case email, E.164 number): a value
    /// that reached the domain without being sealed (facts built in
    /// process, a history replayed from an unsealed log).
    Clear(String),
    /// The keyed digest of a value the ledger sealed: equal addresses of
    /// one organisation have equal digests, and the address itself is not
    /// in the state, the decisions or the evidence.
    Digest(ContactDigest),
}

impl ContactValue {
    /// A value in clear, as normalised at the edge.
    pub fn clear(value: impl Into<String>) -> Self {
        ContactValue::Clear(value.into())
    }

    /// The digest, for a sealed value; `None` for a value in clear.
    pub fn digest(&self) -> Option<&ContactDigest> {
        match self {
            ContactValue::Digest(digest) => Some(digest),
            ContactValue::Clear(_) => None,
        }
    }
}

/// The text form: a clear value as it is, a digest as
/// [`CONTACT_DIGEST_PREFIX`] and 64 hex digits (how the API names a
/// contact value: a suppression list's addresses and its cursor).
impl std::fmt::Display for ContactValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ContactValue::Clear(value) => f.write_str(value),
            ContactValue::Digest(digest) => digest.fmt(f),
        }
    }
}

impl From<ContactDigest> for ContactValue {
    fn from(digest: ContactDigest) -> Self {
        ContactValue::Digest(digest)
    }
}

/// The keyed digest (HMAC-SHA256, docs/ERASURE.md) of a sealed contact
/// value: what the rules compare in place of the value.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ContactDigest(pub [u8; CONTACT_DIGEST_BYTES]);

/// Bytes in a contact digest (HMAC-SHA256).
pub const CONTACT_DIGEST_BYTES: usize = 32;

impl ContactDigest {
    /// The digest of `bytes`, if they are one ([`CONTACT_DIGEST_BYTES`] long).
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        bytes.try_into().ok().map(ContactDigest)
    }

    pub fn as_bytes(&self) -> &[u8; CONTACT_DIGEST_BYTES] {
        &self.0
    }

    /// The digest in its text form ([`CONTACT_DIGEST_PREFIX`] and 64 hex
    /// digits), parsed back; `None` for any other text.
    pub fn parse(text: &str) -> Option<Self> {
        let hex = text.strip_prefix(CONTACT_DIGEST_PREFIX)?;
        if hex.len() != 2 * CONTACT_DIGEST_BYTES {
            return None;
        }
        let mut bytes = [0u8; CONTACT_DIGEST_BYTES];
        for (byte, pair) in bytes.iter_mut().zip(hex.as_bytes().chunks_exact(2)) {
            let pair = std::str::from_utf8(pair).ok()?;
            *byte = u8::from_str_radix(pair, 16).ok()?;
        }
        Some(ContactDigest(bytes))
    }

    /// The digest as prose shows it: shortened to its first 12 hex digits,
    /// enough to tell addresses apart in one decision.
    pub fn shortened(&self) -> String {
        format!("{CONTACT_DIGEST_PREFIX}{}…", self.first_hex_digits())
    }

    /// The first 12 hex digits of the digest.
    pub fn first_hex_digits(&self) -> String {
        self.0[..6]
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect()
    }
}

impl std::fmt::Display for ContactDigest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(CONTACT_DIGEST_PREFIX)?;
        for byte in &self.0 {
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}

impl std::fmt::Debug for ContactDigest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

/// How a sealed contact value's digest starts in its text form.
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
