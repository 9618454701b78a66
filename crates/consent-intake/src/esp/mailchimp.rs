//! Mailchimp audience webhooks: `application/x-www-form-urlencoded`
//! bodies (`type`, `fired_at`, `data[...]`), authenticated by Mailchimp's
//! documented scheme, a secret in the webhook's URL (Mailchimp does not
//! sign its webhooks), compared in constant time.
//!
//! * `unsubscribe` is an email opt-out of `data[email]`, or an objection
//!   when `data[reason]` is `abuse` (Mailchimp's unsubscribe for a spam
//!   complaint);
//! * `cleaned` (Mailchimp removed an address that bounced or was reported
//!   as spam) is noted, not a refusal; when `data[reason]` is `abuse` it is
//!   a spam complaint, an objection;
//! * `subscribe`, `profile`, `upemail`, `campaign`: ignored (a subscribe
//!   at the ESP is not consent the ledger records).
//!
//! Mailchimp gives no event id, so the provider event id is made of the
//! event's own fields: `{type}:{data[list_id]}:{data[id]}:{fired_at}` (`-`
//! for a missing member id; never the address, which is not evidence in
//! clear).
//! A redelivery of the same event is the same id.

use super::{EspAction, EspDelivery, EspError, EspEvent, EventAddress, Provider};
use consent_domain::vocabulary::{Channel, ContactKind, OptOutMethod};
use consent_domain::Timestamp;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use subtle::ConstantTimeEq;

/// Whether the secret in the request's URL is the configured one, in
/// constant time (both are hashed first, so neither length leaks). An
/// empty configured secret matches nothing.
pub fn secret_matches(configured: &[u8], given: &str) -> bool {
    if configured.is_empty() {
        return false;
    }
    let configured = Sha256::digest(configured);
    let given = Sha256::digest(given.as_bytes());
    configured.ct_eq(&given).into()
}

/// Reads a form-encoded webhook body.
pub fn read_form(body: &[u8]) -> Result<EspDelivery, EspError> {
    let mut delivery = EspDelivery::new(Provider::Mailchimp, body);
    let form: BTreeMap<String, String> = form_urlencoded::parse(body)
        .map(|(name, value)| (name.into_owned(), value.into_owned()))
        .collect();
    let get = |name: &str| {
        form.get(name)
            .map(String::as_str)
            .filter(|v| !v.trim().is_empty())
    };
    let kind = get("type").ok_or_else(|| EspError::payload("type", "required"))?;
    let fired_at = get("fired_at").ok_or_else(|| EspError::payload("fired_at", "required"))?;
    let list_id = get("data[list_id]").unwrap_or_default();
    let email = get("data[email]");
    // Never the address: the provider event id is kept as evidence and
    // logged, and addresses are only ever stored sealed. Events of one
    // second without a member id differ by address in the ledger's id.
    let member = get("data[id]").unwrap_or("-");
    let provider_event_id = format!("{kind}:{list_id}:{member}:{fired_at}");
    let reason = get("data[reason]");
    let action = match (kind, reason) {
        ("unsubscribe" | "cleaned", Some("abuse")) => EspAction::Objection {
            method: OptOutMethod::SpamComplaint,
        },
        ("unsubscribe", _) => EspAction::OptOut {
            channel: Channel::Email,
            method: OptOutMethod::UnsubscribeLink,
        },
        ("cleaned", _) => EspAction::NotARefusal,
        ("subscribe", _) => {
            delivery.ignore(kind, &provider_event_id, "a subscribe at the ESP is not consent the ledger records: record consent with its evidence through the API");
            return Ok(delivery);
        }
        _ => {
            delivery.ignore(
                kind,
                &provider_event_id,
                "not about consent: acknowledged and ignored",
            );
            return Ok(delivery);
        }
    };
    let email = email.ok_or_else(|| EspError::payload("data[email]", "required"))?;
    let occurred_at = parse_fired_at(fired_at)
        .ok_or_else(|| EspError::payload("fired_at", "must be `YYYY-MM-DD HH:MM:SS` (UTC)"))?;
    let mut detail = Vec::new();
    for (name, key) in [
        ("listId", "data[list_id]"),
        ("memberId", "data[id]"),
        ("action", "data[action]"),
        ("reason", "data[reason]"),
        ("campaignId", "data[campaign_id]"),
    ] {
        if let Some(value) = get(key) {
            detail.push((name, value.to_owned()));
        }
    }
    delivery.events.push(EspEvent {
        provider_event_id,
        event_type: kind.to_owned(),
        action,
        address: Some(EventAddress {
            kind: ContactKind::Email,
            value: email.to_owned(),
        }),
        subject: None,
        occurred_at: Some(occurred_at),
        detail,
    });
    Ok(delivery)
}

/// Mailchimp's `fired_at`, `2009-03-26 21:40:57`, read as UTC.
fn parse_fired_at(text: &str) -> Option<Timestamp> {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    let at = time::PrimitiveDateTime::parse(text.trim(), &format).ok()?;
    Timestamp::from_unix_parts(at.assume_utc().unix_timestamp(), 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Mailchimp's documented webhook samples ("Sync audience data with
    // webhooks"; the `cleaned` sample of its webhooks reference), form
    // encoded as Mailchimp posts them.
    const UNSUBSCRIBE: &str = "type=unsubscribe&fired_at=2009-03-26+21%3A40%3A57&data%5Baction%5D=unsub&data%5Breason%5D=manual&data%5Bid%5D=8a25ff1d98&data%5Blist_id%5D=a6b5da1054&data%5Bemail%5D=api%2Bunsub%40mailchimp.com&data%5Bemail_type%5D=html&data%5Bmerges%5D%5BEMAIL%5D=api%2Bunsub%40mailchimp.com&data%5Bmerges%5D%5BFNAME%5D=Mailchimp&data%5Bmerges%5D%5BLNAME%5D=API&data%5Bmerges%5D%5BINTERESTS%5D=Group1%2CGroup2&data%5Bip_opt%5D=10.20.10.30&data%5Bcampaign_id%5D=cb398d21d2";
    const CLEANED: &str = "type=cleaned&fired_at=2009-03-26+22%3A01%3A00&data%5Blist_id%5D=a6b5da1054&data%5Bcampaign_id%5D=4fjk2ma9xd&data%5Breason%5D=hard&data%5Bemail%5D=api%2Bcleaned%40mailchimp.com";
    const SUBSCRIBE: &str = "type=subscribe&fired_at=2009-03-26+21%3A35%3A57&data%5Bid%5D=8a25ff1d98&data%5Blist_id%5D=a6b5da1054&data%5Bemail%5D=api%40mailchimp.com&data%5Bemail_type%5D=html&data%5Bip_opt%5D=10.20.10.30&data%5Bip_signup%5D=10.20.10.30";

    #[test]
    fn the_documented_unsubscribe_is_an_email_opt_out() {
        let delivery = read_form(UNSUBSCRIBE.as_bytes()).expect("read");
        assert_eq!(delivery.events.len(), 1);
        let event = &delivery.events[0];
        assert_eq!(
            event.action,
            EspAction::OptOut {
                channel: Channel::Email,
                method: OptOutMethod::UnsubscribeLink
            }
        );
        assert_eq!(
            event.address.as_ref().map(|a| a.value.as_str()),
            Some("api+unsub@mailchimp.com")
        );
        assert_eq!(
            event.provider_event_id,
            "unsubscribe:a6b5da1054:8a25ff1d98:2009-03-26 21:40:57"
        );
        assert_eq!(
            event.occurred_at,
            Timestamp::parse_rfc3339("2009-03-26T21:40:57Z")
        );
        assert!(event
            .detail
            .contains(&("campaignId", "cb398d21d2".to_owned())));
    }

    #[test]
    fn the_documented_cleaned_is_noted_not_a_refusal_and_subscribe_is_ignored() {
        let delivery = read_form(CLEANED.as_bytes()).expect("read");
        assert_eq!(delivery.events[0].action, EspAction::NotARefusal);
        assert_eq!(delivery.events[0].event_type, "cleaned");
        // No member id in the sample: never the address in its place.
        assert_eq!(
            delivery.events[0].provider_event_id,
            "cleaned:a6b5da1054:-:2009-03-26 22:01:00"
        );
        let delivery = read_form(SUBSCRIBE.as_bytes()).expect("read");
        assert!(delivery.events.is_empty());
        assert_eq!(delivery.ignored[0].event_type, "subscribe");
    }

    #[test]
    fn an_unsubscribe_for_abuse_is_an_objection() {
        let abuse = UNSUBSCRIBE.replace("reason%5D=manual", "reason%5D=abuse");
        let delivery = read_form(abuse.as_bytes()).expect("read");
        assert_eq!(
            delivery.events[0].action,
            EspAction::Objection {
                method: OptOutMethod::SpamComplaint
            }
        );
    }

    #[test]
    fn a_form_without_its_fields_is_refused_naming_them() {
        assert_eq!(
            read_form(b"fired_at=2009-03-26+21%3A40%3A57")
                .unwrap_err()
                .field(),
            "type"
        );
        assert_eq!(
            read_form(b"type=unsubscribe").unwrap_err().field(),
            "fired_at"
        );
        assert_eq!(
            read_form(b"type=unsubscribe&fired_at=2009-03-26+21%3A40%3A57")
                .unwrap_err()
                .field(),
            "data[email]"
        );
        assert_eq!(
            read_form(b"type=unsubscribe&fired_at=yesterday&data%5Bemail%5D=a%40example.com")
                .unwrap_err()
                .field(),
            "fired_at"
        );
    }

    #[test]
    fn the_secret_matches_only_itself() {
        assert!(secret_matches(b"s3cret-in-the-url", "s3cret-in-the-url"));
        assert!(!secret_matches(b"s3cret-in-the-url", "s3cret-in-the-ur"));
        assert!(!secret_matches(b"s3cret-in-the-url", ""));
        assert!(!secret_matches(b"", ""));
    }
}
