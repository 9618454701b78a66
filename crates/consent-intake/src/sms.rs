//! Inbound SMS opt-outs: the STOP keywords, the provider's form and the
//! webhook's signature.
//!
//! The webhook is authenticated by `X-Consent-Signature: sha256=<hex>`,
//! the HMAC-SHA256 of the raw request body under a secret shared with the
//! SMS provider (or the relay in front of it). Not an API key: the
//! provider cannot hold one.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The header carrying the webhook's signature.
pub const SIGNATURE_HEADER: &str = "x-consent-signature";

/// The keywords that opt out (case-insensitive, the message trimmed): the
/// set mobile operators and carriers honour.
pub const STOP_KEYWORDS: [&str; 6] = ["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"];

/// Whether an inbound message's body is an opt-out keyword.
pub fn is_stop_keyword(body: &str) -> bool {
    let body = body.trim();
    STOP_KEYWORDS
        .iter()
        .any(|keyword| body.eq_ignore_ascii_case(keyword))
}

/// An inbound message as the provider posts it (Twilio-style field names).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InboundSms {
    /// The sender's number.
    pub from: String,
    /// The number that received it (the organisation's).
    pub to: String,
    pub body: String,
    /// The provider's id of the message (`MessageSid`, `SmsSid` or
    /// `MessageId`), when given: makes a retried delivery the same fact.
    pub provider_message_id: String,
}

/// Why an inbound form is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum InboundError {
    #[error("the form field `{0}` is required")]
    Missing(&'static str),
}

/// Reads the provider's `application/x-www-form-urlencoded` body.
pub fn parse_inbound_form(body: &[u8]) -> Result<InboundSms, InboundError> {
    let mut sms = InboundSms::default();
    for (name, value) in form_urlencoded::parse(body) {
        match name.as_ref() {
            "From" => sms.from = value.into_owned(),
            "To" => sms.to = value.into_owned(),
            "Body" => sms.body = value.into_owned(),
            "MessageSid" | "SmsSid" | "MessageId" if sms.provider_message_id.is_empty() => {
                sms.provider_message_id = value.into_owned()
            }
            _ => {}
        }
    }
    if sms.from.trim().is_empty() {
        return Err(InboundError::Missing("From"));
    }
    if sms.to.trim().is_empty() {
        return Err(InboundError::Missing("To"));
    }
    Ok(sms)
}

/// The signature header value for `body` under `secret`:
/// `sha256=<lower-case hex>`.
pub fn sign_webhook(secret: &[u8], body: &[u8]) -> String {
    let mut mac = mac(secret);
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Whether `header` is the signature of `body` under `secret` (compared in
/// constant time). An empty secret verifies nothing.
pub fn verify_webhook(secret: &[u8], body: &[u8], header: &str) -> bool {
    if secret.is_empty() {
        return false;
    }
    let Some(hex_tag) = header.trim().strip_prefix("sha256=") else {
        return false;
    };
    let Ok(tag) = hex::decode(hex_tag) else {
        return false;
    };
    let mut mac = mac(secret);
    mac.update(body);
    mac.verify_slice(&tag).is_ok()
}

fn mac(secret: &[u8]) -> Hmac<Sha256> {
    <Hmac<Sha256> as Mac>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_stop_keywords_in_any_case_and_padding_opt_out() {
        for body in [
            "STOP",
            "stop",
            " Stop \n",
            "STOPALL",
            "unsubscribe",
            "Cancel",
            "end",
            "QUIT",
        ] {
            assert!(is_stop_keyword(body), "{body:?}");
        }
        for body in ["", "STOP please", "don't stop", "HELP", "START"] {
            assert!(!is_stop_keyword(body), "{body:?}");
        }
    }

    #[test]
    fn the_provider_form_is_read_by_field_name() {
        let sms =
            parse_inbound_form(b"From=%2B447700900123&To=%2B447700900999&Body=STOP&MessageSid=SM1")
                .expect("parsed");
        assert_eq!(sms.from, "+447700900123");
        assert_eq!(sms.to, "+447700900999");
        assert_eq!(sms.body, "STOP");
        assert_eq!(sms.provider_message_id, "SM1");
        assert_eq!(
            parse_inbound_form(b"To=%2B447700900999&Body=STOP"),
            Err(InboundError::Missing("From"))
        );
    }

    #[test]
    fn a_signature_verifies_only_under_its_secret_and_body() {
        let header = sign_webhook(b"shared", b"Body=STOP");
        assert!(verify_webhook(b"shared", b"Body=STOP", &header));
        assert!(!verify_webhook(b"other", b"Body=STOP", &header));
        assert!(!verify_webhook(b"shared", b"Body=STOP ", &header));
        assert!(!verify_webhook(b"", b"Body=STOP", &header));
        assert!(!verify_webhook(b"shared", b"Body=STOP", "sha256=zz"));
        assert!(!verify_webhook(b"shared", b"Body=STOP", ""));
    }

    proptest! {
        #[test]
        fn any_altered_body_byte_fails_the_signature(
            body in prop::collection::vec(any::<u8>(), 1..200),
            index in any::<prop::sample::Index>(),
            flip in 1u8..=255,
        ) {
            let header = sign_webhook(b"shared", &body);
            let mut altered = body.clone();
            let at = index.index(altered.len());
            altered[at] ^= flip;
            prop_assert!(!verify_webhook(b"shared", &altered, &header));
        }
    }
}
