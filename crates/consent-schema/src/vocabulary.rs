//! The closed sets of the domain and their protobuf enums.
//!
//! On the wire an enum is an `i32`. Decoding refuses the `*_UNSPECIFIED`
//! zero value (never a valid fact) and any number this schema does not know,
//! so the domain never sees a value it would have to guess about.

use crate::error::ValidationError;
use crate::v1;
use consent_domain::rules::{LawfulBasis, RuleOutcome};
use consent_domain::vocabulary::{
    CallCategory, Channel, CollectionMethod, CollectionRoute, ContactKind, MessageClass,
    NegotiationKind, OptOutMethod, OrganisationKind, PreferenceService, Purpose, SubscriberType,
    SupportKind,
};
use std::collections::HashMap;

/// A domain enum with a protobuf counterpart: the one place each word of
/// the vocabulary meets its wire number.
pub trait Vocabulary: Sized + Copy + Eq + std::hash::Hash {
    /// The domain value of a wire value; the reason it is refused otherwise.
    fn from_wire(value: i32) -> Result<Self, String>;
    fn to_wire(self) -> i32;
}

/// Decodes the enum in `field`.
pub(crate) fn decode<V: Vocabulary>(field: &str, value: i32) -> Result<V, ValidationError> {
    V::from_wire(value).map_err(|reason| ValidationError::new(field, reason))
}

/// Decodes a repeated enum `field` as a set: every element known, none
/// listed twice (so the list is at most as long as the enum).
pub(crate) fn decode_set<V: Vocabulary>(
    field: &str,
    values: &[i32],
) -> Result<Vec<V>, ValidationError> {
    let mut first_index = HashMap::with_capacity(values.len());
    let mut decoded = Vec::with_capacity(values.len());
    for (index, value) in values.iter().enumerate() {
        let element = format!("{field}[{index}]");
        let item: V = decode(&element, *value)?;
        if let Some(first) = first_index.insert(item, index) {
            return Err(ValidationError::new(
                element,
                format!("duplicate of `{field}[{first}]`"),
            ));
        }
        decoded.push(item);
    }
    Ok(decoded)
}

pub(crate) fn encode_set<V: Vocabulary>(values: &[V]) -> Vec<i32> {
    values.iter().map(|v| v.to_wire()).collect()
}

macro_rules! vocabulary {
    ($domain:ty => $proto:ident { $($variant:ident),+ $(,)? }) => {
        impl Vocabulary for $domain {
            fn from_wire(value: i32) -> Result<Self, String> {
                match v1::$proto::try_from(value) {
                    $(Ok(v1::$proto::$variant) => Ok(Self::$variant),)+
                    Ok(v1::$proto::Unspecified) => Err(format!(
                        "must not be {}",
                        v1::$proto::Unspecified.as_str_name()
                    )),
                    Err(_) => Err(format!(
                        "{value} is not a known consent.v1.{} value",
                        stringify!($proto)
                    )),
                }
            }

            fn to_wire(self) -> i32 {
                match self {
                    $(Self::$variant => v1::$proto::$variant.into(),)+
                }
            }
        }
    };
}

vocabulary!(OrganisationKind => OrganisationKind {
    Commercial, Charity, PoliticalParty, OtherNotForProfit,
});
vocabulary!(SubscriberType => SubscriberType { Individual, SoleTrader, Partnership, Corporate });
vocabulary!(ContactKind => ContactKind { Email, Mobile, Landline, Postal });
vocabulary!(Channel => Channel { Email, Sms, LiveCall, AutomatedCall, Post });
vocabulary!(Purpose => Purpose { Commercial, Campaigning, Charitable });
vocabulary!(CollectionMethod => CollectionMethod {
    UntickedCheckbox, DoubleOptIn, VerbalRecorded, WrittenSigned, PreTickedCheckbox, Inferred,
});
vocabulary!(CollectionRoute => CollectionRoute {
    Direct, ThirdParty, GroupCompany, TradingSubsidiary, FundraisingPlatform,
});
vocabulary!(OptOutMethod => OptOutMethod {
    UnsubscribeLink, OneClick, ReplyStop, Call, InPerson, EmailReply, Letter, GpcSignal,
    PreferenceCentre, SpamComplaint,
});
vocabulary!(MessageClass => MessageClass { Service, Marketing });
vocabulary!(NegotiationKind => NegotiationKind {
    QuoteRequested, DetailsRequested, GeneralEnquiry,
});
vocabulary!(SupportKind => SupportKind { Donation, Membership, Volunteering, ExpressedInterest });
vocabulary!(PreferenceService => PreferenceService { Tps, Ctps });
vocabulary!(CallCategory => CallCategory { General, ClaimsManagement, PensionScheme });
vocabulary!(LawfulBasis => LawfulBasis {
    None, NotDirectMarketing, Consent, SoftOptIn, CharitySoftOptIn, CorporateSubscriber,
    LiveCallNotObjected, LegitimateInterests,
});
vocabulary!(RuleOutcome => RuleOutcome { Satisfied, Failed, Blocked, NotApplicable });
