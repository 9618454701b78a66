//! Signed per-message unsubscribe tokens (the `{token}` of
//! `https://<public url>/u/{token}`).
//!
//! A token names one message sent to one subject: the organisation, the
//! subject, the message id, the channel, the id of the
//! `MarketingMessageSent` event and when the token was issued. Those are
//! encoded compactly and authenticated with HMAC-SHA256 under the ledger's
//! intake secret; the token is base64url (no padding) of
//!
//! ```text
//! version (1) | send event id (16) | issued_at micros (8, big-endian)
//!   | channel (1) | organisation | subject | message id | MAC (16)
//! ```
//!
//! where each text is a 2-byte big-endian length and its UTF-8 bytes, and
//! MAC is the first 16 bytes (128 bits, RFC 2104 section 5 truncation) of
//! HMAC-SHA256 over a domain-separation label and everything before it.
//! Nothing in the token is secret (the recipient knows who they are); the
//! MAC makes it unforgeable, so the ledger keeps no table of issued tokens.
//!
//! Pure: no IO, no clock (the issue time is an argument).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use consent_domain::vocabulary::Channel;
use consent_domain::{EventId, OrganisationId, SubjectId, Timestamp};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

type HmacSha256 = Hmac<Sha256>;

/// The token format's version byte.
const VERSION: u8 = 1;
/// Bytes of the truncated MAC.
pub const MAC_BYTES: usize = 16;
/// Domain separation: a MAC over these bytes is never a MAC of anything
/// else the same secret authenticates.
const LABEL: &[u8] = b"consent-ledger unsubscribe token v1\0";
/// Largest token accepted (characters), well above any honest token.
pub const MAX_TOKEN_CHARS: usize = 2048;
/// Bytes of the intake secret.
pub const SECRET_BYTES: usize = 32;

/// What an unsubscribe token says: one message sent to one subject.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnsubscribeClaim {
    pub organisation: OrganisationId,
    pub subject: SubjectId,
    /// The message's own id (`MarketingMessageSent.message_id`; may be
    /// empty when the producer gave none).
    pub message_id: String,
    pub channel: Channel,
    /// The `MarketingMessageSent` event the token was issued for.
    pub send_event: EventId,
    pub issued_at: Timestamp,
}

/// A verified token: its claim and a stable id derived from its MAC.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedToken {
    pub claim: UnsubscribeClaim,
    /// Hex of the token's MAC: names the token in evidence without
    /// repeating it.
    pub token_id: String,
    /// The id of the opt-out this token records: the same token always
    /// gives the same id, so a replayed click is the same fact (the fold
    /// counts an id once) and can be recognised in the view.
    pub opt_out_event: EventId,
}

/// Why a token is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not a token of this format at all (bad base64, truncated, unknown
    /// version, bad UTF-8 or channel).
    #[error("malformed unsubscribe token: {0}")]
    Malformed(&'static str),
    /// Well-formed, but its MAC is not ours: forged or altered.
    #[error("the unsubscribe token's signature does not verify: it was not issued by this ledger, or was altered")]
    BadSignature,
}

/// The intake secret: the HMAC key of unsubscribe tokens. Never printed.
#[derive(Clone)]
pub struct IntakeSecret(Zeroizing<[u8; SECRET_BYTES]>);

impl IntakeSecret {
    pub fn from_bytes(bytes: [u8; SECRET_BYTES]) -> Self {
        Self(Zeroizing::new(bytes))
    }

    pub(crate) fn as_bytes(&self) -> &[u8; SECRET_BYTES] {
        &self.0
    }

    fn mac(&self) -> HmacSha256 {
        // HMAC accepts keys of any length; a 32-byte key cannot fail.
        let mut mac = <HmacSha256 as Mac>::new_from_slice(self.0.as_slice())
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(LABEL);
        mac
    }

    /// The token for `claim`.
    pub fn mint(&self, claim: &UnsubscribeClaim) -> String {
        let mut bytes = encode_claim(claim);
        let mut mac = self.mac();
        mac.update(&bytes);
        let tag = mac.finalize().into_bytes();
        bytes.extend_from_slice(&tag[..MAC_BYTES]);
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// The claim of `token`, if this secret issued it unaltered.
    pub fn verify(&self, token: &str) -> Result<VerifiedToken, TokenError> {
        if token.len() > MAX_TOKEN_CHARS {
            return Err(TokenError::Malformed("too long"));
        }
        let bytes = URL_SAFE_NO_PAD
            .decode(token)
            .map_err(|_| TokenError::Malformed("not base64url without padding"))?;
        if bytes.len() < MAC_BYTES + 1 {
            return Err(TokenError::Malformed("too short"));
        }
        let (body, tag) = bytes.split_at(bytes.len() - MAC_BYTES);
        let mut mac = self.mac();
        mac.update(body);
        // Constant-time comparison of the truncated tag.
        mac.verify_truncated_left(tag)
            .map_err(|_| TokenError::BadSignature)?;
        let claim = decode_claim(body)?;
        Ok(VerifiedToken {
            claim,
            token_id: hex::encode(tag),
            opt_out_event: opt_out_event_id(tag),
        })
    }
}

impl std::fmt::Debug for IntakeSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IntakeSecret(..)")
    }
}

/// The deterministic id of the opt-out a token records: a UUIDv8 from
/// SHA-256 over a label and the token's MAC.
fn opt_out_event_id(tag: &[u8]) -> EventId {
    let digest = Sha256::new()
        .chain_update(b"consent-ledger one-click opt-out\0")
        .chain_update(tag)
        .finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    EventId(uuid::Builder::from_custom_bytes(bytes).into_uuid())
}

/// A deterministic event id for an intake fact, from a label and its
/// parts (e.g. the provider's message id of an inbound SMS), so that a
/// provider's retry records the same fact again rather than a second one.
pub fn derived_event_id(label: &str, parts: &[&str]) -> EventId {
    let mut hasher = Sha256::new();
    hasher.update(label.as_bytes());
    for part in parts {
        hasher.update([0u8]);
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part.as_bytes());
    }
    let digest = hasher.finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    EventId(uuid::Builder::from_custom_bytes(bytes).into_uuid())
}

fn channel_code(channel: Channel) -> u8 {
    match channel {
        Channel::Email => 1,
        Channel::Sms => 2,
        Channel::LiveCall => 3,
        Channel::AutomatedCall => 4,
        Channel::Post => 5,
    }
}

fn channel_from_code(code: u8) -> Option<Channel> {
    Some(match code {
        1 => Channel::Email,
        2 => Channel::Sms,
        3 => Channel::LiveCall,
        4 => Channel::AutomatedCall,
        5 => Channel::Post,
        _ => return None,
    })
}

fn encode_claim(claim: &UnsubscribeClaim) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    out.push(VERSION);
    out.extend_from_slice(claim.send_event.0.as_bytes());
    out.extend_from_slice(&claim.issued_at.unix_micros().to_be_bytes());
    out.push(channel_code(claim.channel));
    for text in [
        claim.organisation.as_str(),
        claim.subject.as_str(),
        claim.message_id.as_str(),
    ] {
        // Identifiers are at most 256 bytes once validated; a longer text
        // is cut at a character boundary rather than wrapped.
        let text = truncate(text, usize::from(u16::MAX));
        let length = u16::try_from(text.len()).unwrap_or(u16::MAX);
        out.extend_from_slice(&length.to_be_bytes());
        out.extend_from_slice(text.as_bytes());
    }
    out
}

fn truncate(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

fn decode_claim(bytes: &[u8]) -> Result<UnsubscribeClaim, TokenError> {
    let mut reader = Reader(bytes);
    if reader.take(1)?[0] != VERSION {
        return Err(TokenError::Malformed("unknown version"));
    }
    let mut id = [0u8; 16];
    id.copy_from_slice(reader.take(16)?);
    let mut micros = [0u8; 8];
    micros.copy_from_slice(reader.take(8)?);
    let channel =
        channel_from_code(reader.take(1)?[0]).ok_or(TokenError::Malformed("unknown channel"))?;
    let organisation = reader.text()?;
    let subject = reader.text()?;
    let message_id = reader.text()?;
    if !reader.0.is_empty() {
        return Err(TokenError::Malformed("trailing bytes"));
    }
    Ok(UnsubscribeClaim {
        organisation: OrganisationId::new(organisation),
        subject: SubjectId::new(subject),
        message_id,
        channel,
        send_event: EventId(uuid::Uuid::from_bytes(id)),
        issued_at: Timestamp::from_unix_micros(i64::from_be_bytes(micros)),
    })
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], TokenError> {
        if self.0.len() < n {
            return Err(TokenError::Malformed("truncated"));
        }
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        Ok(head)
    }

    fn text(&mut self) -> Result<String, TokenError> {
        let length = self.take(2)?;
        let length = usize::from(u16::from_be_bytes([length[0], length[1]]));
        let bytes = self.take(length)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| TokenError::Malformed("text is not UTF-8"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn secret(byte: u8) -> IntakeSecret {
        IntakeSecret::from_bytes([byte; SECRET_BYTES])
    }

    fn claim() -> UnsubscribeClaim {
        UnsubscribeClaim {
            organisation: OrganisationId::new("acme-cycles"),
            subject: SubjectId::new("customer-1842"),
            message_id: "spring-sale-0001".to_owned(),
            channel: Channel::Email,
            send_event: EventId(uuid::Uuid::from_u128(
                0x0190f2a4_7b3c_7d2e_9f10_1a2b3c4d5e6f,
            )),
            issued_at: Timestamp::from_unix_micros(1_750_000_000_000_000),
        }
    }

    fn channels() -> impl Strategy<Value = Channel> {
        prop::sample::select(Channel::ALL.to_vec())
    }

    prop_compose! {
        fn claims()(
            organisation in "[a-z0-9-]{1,40}",
            subject in "\\PC{1,60}",
            message_id in "\\PC{0,60}",
            channel in channels(),
            id in any::<u128>(),
            micros in any::<i64>(),
        ) -> UnsubscribeClaim {
            UnsubscribeClaim {
                organisation: OrganisationId::new(organisation),
                subject: SubjectId::new(subject),
                message_id,
                channel,
                send_event: EventId(uuid::Uuid::from_u128(id)),
                issued_at: Timestamp::from_unix_micros(micros),
            }
        }
    }

    #[test]
    fn a_token_is_compact_url_safe_and_gives_back_its_claim() {
        let token = secret(7).mint(&claim());
        assert!(token.len() < 120, "{} characters: {token}", token.len());
        assert!(token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        let verified = secret(7).verify(&token).expect("verifies");
        assert_eq!(verified.claim, claim());
        assert_eq!(verified.token_id.len(), 2 * MAC_BYTES);
    }

    #[test]
    fn another_secret_refuses_the_token() {
        let token = secret(7).mint(&claim());
        assert_eq!(secret(8).verify(&token), Err(TokenError::BadSignature));
    }

    #[test]
    fn garbage_is_malformed_not_a_panic() {
        for token in ["", "!!!", "AAAA", &"A".repeat(5000)] {
            assert!(
                matches!(secret(7).verify(token), Err(TokenError::Malformed(_))),
                "{token:?}"
            );
        }
    }

    #[test]
    fn the_opt_out_id_is_the_same_for_the_same_token_and_differs_between_messages() {
        let token = secret(7).mint(&claim());
        let first = secret(7).verify(&token).expect("verifies");
        let again = secret(7).verify(&token).expect("verifies");
        assert_eq!(first.opt_out_event, again.opt_out_event);
        let mut other = claim();
        other.message_id = "spring-sale-0002".to_owned();
        let other = secret(7).verify(&secret(7).mint(&other)).expect("verifies");
        assert_ne!(first.opt_out_event, other.opt_out_event);
    }

    proptest! {
        #[test]
        fn every_claim_round_trips(claim in claims(), key in any::<u8>()) {
            let token = secret(key).mint(&claim);
            prop_assert_eq!(secret(key).verify(&token).map(|v| v.claim), Ok(claim));
        }

        /// Any altered byte of a token (its claim or its MAC) is refused.
        #[test]
        fn any_altered_byte_is_refused(
            claim in claims(),
            index in any::<prop::sample::Index>(),
            flip in 1u8..=255,
        ) {
            let token = secret(3).mint(&claim);
            let mut bytes = URL_SAFE_NO_PAD.decode(&token).expect("base64");
            let at = index.index(bytes.len());
            bytes[at] ^= flip;
            let altered = URL_SAFE_NO_PAD.encode(&bytes);
            prop_assert!(secret(3).verify(&altered).is_err());
        }

        /// Cutting or extending a token is refused too.
        #[test]
        fn a_cut_or_extended_token_is_refused(
            claim in claims(),
            cut in 1usize..40,
            extra in prop::collection::vec(any::<u8>(), 1..8),
        ) {
            let token = secret(3).mint(&claim);
            let bytes = URL_SAFE_NO_PAD.decode(&token).expect("base64");
            let cut = cut.min(bytes.len());
            let shorter = URL_SAFE_NO_PAD.encode(&bytes[..bytes.len() - cut]);
            prop_assert!(secret(3).verify(&shorter).is_err());
            let mut longer = bytes.clone();
            longer.extend_from_slice(&extra);
            prop_assert!(secret(3).verify(&URL_SAFE_NO_PAD.encode(&longer)).is_err());
        }

        #[test]
        fn arbitrary_text_never_panics(text in "\\PC{0,200}") {
            let _ = secret(3).verify(&text);
        }
    }
}
