//! Form fields the Evidence, Replay and Campaign pre-flight pages share:
//! the channel, purpose and rule-set choices, and times as a person types
//! them.

use crate::page_error::PageError;
use consent_domain::rules::RuleSet;
use consent_domain::vocabulary::{Channel, Purpose};
use consent_domain::Timestamp;
use consent_schema::v1;
use maud::{html, Markup};

/// The `<option>`s of a channel `<select>`, `selected` chosen.
pub fn channel_options(selected: &str) -> Markup {
    html! {
        @for channel in Channel::ALL {
            option value=(channel.as_str()) selected[channel.as_str() == selected] {
                (capitalised(consent_report::words::channel(channel)))
            }
        }
    }
}

/// The message a form asks about: its channel and purpose (email and
/// commercial first), the product category it markets and when it is
/// sent, each with its label (`category` and `at` name the last two).
pub fn message_fields(category: &str, at: &str) -> Markup {
    html! {
        div.field {
            label for="channel" { "Channel" }
            select #channel name="channel" { (channel_options("email")) }
        }
        div.field {
            label for="purpose" { "Purpose" }
            select #purpose name="purpose" { (purpose_options("commercial")) }
        }
        div.field {
            label for="category" { (category) }
            input #category type="text" name="category";
        }
        div.field {
            label for="at" { (at) }
            p.hint #at-hint { "A date (2026-03-01) or a time (2026-03-01T09:00:00Z), UTC." }
            input #at type="text" name="at" aria-describedby="at-hint";
        }
    }
}

/// The `<option>`s of a purpose `<select>`, `selected` chosen.
pub fn purpose_options(selected: &str) -> Markup {
    html! {
        @for purpose in Purpose::ALL {
            option value=(purpose.as_str()) selected[purpose.as_str() == selected] {
                (capitalised(consent_report::words::purpose(purpose)))
            }
        }
    }
}

/// The `<option>`s of a rule-set `<select>`: first `none` (value empty),
/// then every rule set of the catalogue.
pub fn rule_set_options(rule_sets: &[RuleSet], selected: &str, none: &str) -> Markup {
    html! {
        option value="" selected[selected.is_empty()] { (none) }
        @for rule_set in rule_sets {
            option value=(rule_set.id.as_str()) selected[rule_set.id.as_str() == selected] {
                (rule_set.id.as_str()) ": " (rule_set.title)
            }
        }
    }
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The channel chosen in field `channel`.
pub fn parse_channel(text: &str) -> Result<v1::Channel, PageError> {
    let channel = Channel::ALL
        .into_iter()
        .find(|c| c.as_str() == text.trim())
        .ok_or_else(|| {
            PageError::invalid(
                "channel",
                "choose email, sms, live_call, automated_call or post",
            )
        })?;
    Ok(match channel {
        Channel::Email => v1::Channel::Email,
        Channel::Sms => v1::Channel::Sms,
        Channel::LiveCall => v1::Channel::LiveCall,
        Channel::AutomatedCall => v1::Channel::AutomatedCall,
        Channel::Post => v1::Channel::Post,
    })
}

/// The purpose chosen in field `purpose`.
pub fn parse_purpose(text: &str) -> Result<v1::Purpose, PageError> {
    let purpose = Purpose::ALL
        .into_iter()
        .find(|p| p.as_str() == text.trim())
        .ok_or_else(|| {
            PageError::invalid("purpose", "choose commercial, campaigning or charitable")
        })?;
    Ok(match purpose {
        Purpose::Commercial => v1::Purpose::Commercial,
        Purpose::Campaigning => v1::Purpose::Campaigning,
        Purpose::Charitable => v1::Purpose::Charitable,
    })
}

/// A time as typed in `field`: a date (`2026-03-01`, midnight UTC) or an
/// RFC 3339 time; empty: none.
pub fn parse_time(field: &str, text: &str) -> Result<Option<Timestamp>, PageError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let date = || {
        let mut parts = text.splitn(3, '-');
        let year = parts.next()?.parse().ok()?;
        let month = parts.next()?.parse().ok()?;
        let day = parts.next()?.parse().ok()?;
        Timestamp::from_date(year, month, day)
    };
    let parsed = if text.len() == 10 {
        date()
    } else {
        Timestamp::parse_rfc3339(text)
    };
    parsed.map(Some).ok_or_else(|| {
        PageError::invalid(
            field,
            format!("`{text}` is not a date (2026-03-01) or a time (2026-03-01T09:00:00Z)"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_date_is_midnight_utc_and_a_time_is_read_as_rfc_3339() {
        assert_eq!(
            parse_time("at", "2026-03-01").expect("a date"),
            Timestamp::parse_rfc3339("2026-03-01T00:00:00Z")
        );
        assert_eq!(
            parse_time("at", " 2026-03-01T09:30:00Z ").expect("a time"),
            Timestamp::parse_rfc3339("2026-03-01T09:30:00Z")
        );
        assert_eq!(parse_time("at", "").expect("none"), None);
        let error = parse_time("from", "1 March").expect_err("refused");
        assert_eq!(
            error.to_string(),
            "from: `1 March` is not a date (2026-03-01) or a time (2026-03-01T09:00:00Z)"
        );
    }

    #[test]
    fn a_channel_or_purpose_not_offered_is_refused_naming_the_field() {
        assert_eq!(parse_channel("sms").expect("sms"), v1::Channel::Sms);
        assert!(parse_channel("fax")
            .expect_err("fax")
            .to_string()
            .starts_with("channel: "));
        assert_eq!(
            parse_purpose("charitable").expect("charitable"),
            v1::Purpose::Charitable
        );
        assert!(parse_purpose("x").is_err());
    }
}
