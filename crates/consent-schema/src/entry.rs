//! What the ledger asks of values as they enter it (an append, a check, a
//! webhook), beyond what it asks of stored data.
//!
//! Stored data is read strictly and forever: every telephone number in the
//! log is E.164, and any timestamp the protobuf type can hold decodes. At
//! the edge the ledger is both kinder and stricter:
//!
//! * telephone numbers may be in the national format of the ledger's
//!   region ([`PhoneRegion`]) and are stored in E.164
//!   ([`crate::number_to_e164`]), so `07700 900123` and `+447700900123` are
//!   one address, with one digest;
//! * no fact from the future: an event's `occurred_at` may be at most
//!   [`EntryRules::max_clock_skew`] after its `recorded_at` (the time the
//!   ledger received it, unless a producer gives it), and `recorded_at` at
//!   most that after the time the ledger received it; so an opt-out stamped
//!   ahead by a skewed clock cannot wait, unhonoured, for its time to come;
//! * no absurd dates: every timestamp of a fact or a check lies in
//!   [`EARLIEST`]..[`LATEST`].
//!
//! Pure: the time of receipt is an argument.

use crate::contact_fields::{contact_fields, ContactField};
use crate::error::ValidationError;
use crate::telephone::{number_to_e164, PhoneRegion};
use crate::v1;
use crate::v1::envelope::Payload;
use consent_domain::event::{Event, Fact};
use consent_domain::Timestamp;
use std::time::Duration;

/// 1990-01-01T00:00:00Z: no fact the ledger records happened earlier
/// (PECR dates from 2003, the Data Protection Act 1998).
pub const EARLIEST: Timestamp = Timestamp::from_unix_micros(631_152_000 * 1_000_000);
/// 2200-01-01T00:00:00Z: no check is asked about, nor fact stamped, later.
pub const LATEST: Timestamp = Timestamp::from_unix_micros(7_258_118_400 * 1_000_000);

/// How the ledger reads what enters it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EntryRules {
    /// The region whose national format telephone numbers are read in.
    pub phone_region: PhoneRegion,
    /// How far an event's `occurred_at` may lie after the time the ledger
    /// received it (clocks disagree a little).
    pub max_clock_skew: Duration,
}

impl EntryRules {
    /// Five minutes.
    pub const DEFAULT_MAX_CLOCK_SKEW: Duration = Duration::from_secs(300);
}

impl Default for EntryRules {
    fn default() -> Self {
        Self {
            phone_region: PhoneRegion::default(),
            max_clock_skew: Self::DEFAULT_MAX_CLOCK_SKEW,
        }
    }
}

/// Rewrites, in place, every telephone number `payload` carries in clear
/// (a mobile or landline contact point, a preference-service listing, a
/// call preference) in E.164. Other values are left to validation.
pub(crate) fn numbers_to_e164(
    payload: Option<&mut Payload>,
    region: PhoneRegion,
) -> Result<(), ValidationError> {
    for field in contact_fields(payload) {
        match field {
            ContactField::Point {
                path,
                point: contact,
            } => {
                point(path, Some(contact), region)?;
            }
            ContactField::Number {
                path,
                number: value,
                ..
            } => {
                number(&format!("{path}.number"), value, region)?;
            }
        }
    }
    Ok(())
}

/// A contact point's value in E.164 when it is a telephone number; `field`
/// is the contact point's path.
pub(crate) fn point(
    field: &str,
    contact: Option<&mut v1::ContactPoint>,
    region: PhoneRegion,
) -> Result<(), ValidationError> {
    let Some(contact) = contact else {
        return Ok(());
    };
    let telephone = [v1::ContactKind::Mobile, v1::ContactKind::Landline]
        .iter()
        .any(|kind| contact.kind == i32::from(*kind));
    if telephone {
        number(&format!("{field}.value"), &mut contact.value, region)?;
    }
    Ok(())
}

/// A number in clear in E.164; an empty one (absent, or sealed) is left to
/// validation.
fn number(field: &str, value: &mut String, region: PhoneRegion) -> Result<(), ValidationError> {
    if !value.is_empty() {
        *value = number_to_e164(field, value, region)?;
    }
    Ok(())
}

/// Refuses an event from the future or from an absurd date: `received` is
/// when the ledger received it.
pub(crate) fn event_times(
    event: &Event,
    received: Timestamp,
    rules: &EntryRules,
) -> Result<(), ValidationError> {
    plausible("occurred_at", event.occurred_at)?;
    plausible("recorded_at", event.recorded_at)?;
    if let Fact::PreferenceServiceListing(listing) = &event.fact {
        plausible("preference_service_listing.listed_at", listing.listed_at)?;
    }
    not_after(
        "recorded_at",
        event.recorded_at,
        received,
        "the time the ledger received it",
        rules,
    )?;
    let received_it = if event.recorded_at == received {
        "the time the ledger received it"
    } else {
        "its recorded_at"
    };
    not_after(
        "occurred_at",
        event.occurred_at,
        event.recorded_at,
        received_it,
        rules,
    )
}

/// Refuses a time outside [`EARLIEST`]..[`LATEST`], naming `field`.
pub(crate) fn plausible(field: &str, at: Timestamp) -> Result<(), ValidationError> {
    if at < EARLIEST || at >= LATEST {
        return Err(ValidationError::new(
            field,
            format!("{at} is not a plausible date: it must lie between {EARLIEST} and {LATEST}"),
        ));
    }
    Ok(())
}

fn not_after(
    field: &str,
    at: Timestamp,
    reference: Timestamp,
    what: &str,
    rules: &EntryRules,
) -> Result<(), ValidationError> {
    let ahead = at.unix_micros().saturating_sub(reference.unix_micros());
    let tolerance = i64::try_from(rules.max_clock_skew.as_micros()).unwrap_or(i64::MAX);
    if ahead > tolerance {
        return Err(ValidationError::new(
            field,
            format!(
                "{at} is {} after {what} ({reference}); the tolerance is {}: a fact is recorded \
                 once it has happened (is a clock ahead, or the time zone missing?)",
                span(Duration::from_micros(ahead.unsigned_abs())),
                span(rules.max_clock_skew),
            ),
        ));
    }
    Ok(())
}

/// A duration for people, to the second and in its two largest units:
/// `3 h`, `2 h 5 min`, `5 min`, `1 min 30 s`, `91 d 20 h`.
fn span(duration: Duration) -> String {
    let seconds = (duration.as_micros() + 500_000) / 1_000_000;
    let parts = [
        (seconds / 86_400, "d"),
        (seconds / 3_600 % 24, "h"),
        (seconds / 60 % 60, "min"),
        (seconds % 60, "s"),
    ];
    let Some(first) = parts.iter().position(|(n, _)| *n > 0) else {
        return "0 s".to_owned();
    };
    parts[first..]
        .iter()
        .take(2)
        .filter(|(n, _)| *n > 0)
        .map(|(n, unit)| format!("{n} {unit}"))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_people_write_them() {
        assert_eq!(span(Duration::from_secs(300)), "5 min");
        assert_eq!(span(Duration::from_secs(3 * 3600)), "3 h");
        assert_eq!(span(Duration::from_secs(3 * 3600 + 61)), "3 h 1 min");
        assert_eq!(span(Duration::from_secs(3 * 3600 + 5)), "3 h");
        assert_eq!(span(Duration::from_millis(3 * 3_600_000 - 20)), "3 h");
        assert_eq!(
            span(Duration::from_secs(91 * 86_400 + 20 * 3600 + 59)),
            "91 d 20 h"
        );
        assert_eq!(span(Duration::from_secs(90)), "1 min 30 s");
        assert_eq!(span(Duration::from_secs(2 * 86_400)), "2 d");
        assert_eq!(span(Duration::ZERO), "0 s");
    }

    #[test]
    fn the_bounds_are_the_documented_dates() {
        assert_eq!(EARLIEST.to_string(), "1990-01-01T00:00:00Z");
        assert_eq!(LATEST.to_string(), "2200-01-01T00:00:00Z");
        assert_eq!(Timestamp::from_date(1990, 1, 1), Some(EARLIEST));
        assert_eq!(Timestamp::from_date(2200, 1, 1), Some(LATEST));
    }
}
