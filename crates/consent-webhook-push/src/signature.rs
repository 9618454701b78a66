//! The signature of each push: HMAC-SHA256, under the endpoint's secret,
//! over the timestamp, a dot and the body, so that a receiver can refuse
//! both a forged body and a replayed old one.
//!
//! ```text
//! X-Consent-Ledger-Signature: t=1767225600,v1=5f2b...e9 (hex)
//! signed bytes:               "1767225600" + "." + body
//! ```

use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::time::{Duration, SystemTime};
use subtle::ConstantTimeEq;

/// The header carrying the signature.
pub const SIGNATURE_HEADER: &str = "x-consent-ledger-signature";
/// The header carrying the notice's source event id (also in the body):
/// what a receiver deduplicates on.
pub const EVENT_ID_HEADER: &str = "x-consent-ledger-event-id";
/// How far a signature's time may be from the receiver's clock before
/// [`verify`] refuses it as a replay (5 minutes).
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(300);

/// The signature header's value for `body` sent at `timestamp` (seconds
/// since the Unix epoch).
pub fn sign(secret: &[u8], timestamp: u64, body: &[u8]) -> String {
    format!(
        "t={timestamp},v1={}",
        hex::encode(tag(secret, timestamp, body))
    )
}

/// Why a signature was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SignatureError {
    #[error("the signature header is not `t=<unix seconds>,v1=<hex HMAC-SHA256>`")]
    Malformed,
    #[error("the signature was made at {timestamp}, more than {tolerance_secs} s from now: a replay or a skewed clock")]
    OutsideTolerance { timestamp: u64, tolerance_secs: u64 },
    #[error("the signature does not match the body under this secret")]
    Mismatch,
}

/// Checks a signature header as a receiver does: well formed, made within
/// `tolerance` of `now`, and the HMAC of the timestamp and `body` under
/// `secret` (compared in constant time).
pub fn verify(
    secret: &[u8],
    header: &str,
    body: &[u8],
    now: SystemTime,
    tolerance: Duration,
) -> Result<(), SignatureError> {
    let (timestamp, given) = parse(header).ok_or(SignatureError::Malformed)?;
    let signed_at = SystemTime::UNIX_EPOCH + Duration::from_secs(timestamp);
    let skew = now
        .duration_since(signed_at)
        .or_else(|_| signed_at.duration_since(now))
        .unwrap_or(Duration::MAX);
    if skew > tolerance {
        return Err(SignatureError::OutsideTolerance {
            timestamp,
            tolerance_secs: tolerance.as_secs(),
        });
    }
    let expected = tag(secret, timestamp, body);
    if bool::from(expected.as_slice().ct_eq(&given)) {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

fn parse(header: &str) -> Option<(u64, Vec<u8>)> {
    let mut timestamp = None;
    let mut tag = None;
    for part in header.split(',') {
        match part.trim().split_once('=')? {
            ("t", value) => timestamp = Some(value.parse().ok()?),
            ("v1", value) => tag = Some(hex::decode(value).ok()?),
            _ => {}
        }
    }
    Some((timestamp?, tag?))
}

fn tag(secret: &[u8], timestamp: u64, body: &[u8]) -> Vec<u8> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.finalize().into_bytes().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"whsec-test";

    fn at(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn a_signature_verifies_within_the_tolerance_only() {
        let header = sign(SECRET, 1_767_225_600, b"{}");
        assert!(header.starts_with("t=1767225600,v1="));
        assert_eq!(
            verify(SECRET, &header, b"{}", at(1_767_225_700), DEFAULT_TOLERANCE),
            Ok(())
        );
        assert_eq!(
            verify(SECRET, &header, b"{}", at(1_767_225_500), DEFAULT_TOLERANCE),
            Ok(())
        );
        assert_eq!(
            verify(SECRET, &header, b"{}", at(1_767_226_000), DEFAULT_TOLERANCE),
            Err(SignatureError::OutsideTolerance {
                timestamp: 1_767_225_600,
                tolerance_secs: 300
            })
        );
    }

    #[test]
    fn another_body_secret_or_time_does_not_verify() {
        let header = sign(SECRET, 100, b"{\"a\":1}");
        let now = at(100);
        assert_eq!(
            verify(SECRET, &header, b"{\"a\":2}", now, DEFAULT_TOLERANCE),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(b"other", &header, b"{\"a\":1}", now, DEFAULT_TOLERANCE),
            Err(SignatureError::Mismatch)
        );
        let moved = header.replace("t=100", "t=101");
        assert_eq!(
            verify(SECRET, &moved, b"{\"a\":1}", at(101), DEFAULT_TOLERANCE),
            Err(SignatureError::Mismatch)
        );
        for malformed in ["", "t=1", "v1=00", "t=x,v1=00", "t=1,v1=zz", "sha256=00"] {
            assert_eq!(
                verify(SECRET, malformed, b"", now, DEFAULT_TOLERANCE),
                Err(SignatureError::Malformed),
                "{malformed}"
            );
        }
    }

    #[test]
    fn the_tag_is_hmac_sha256_of_the_timestamp_a_dot_and_the_body() {
        // RFC 4231 test case 2's key over the message built as documented,
        // computed independently: printf '1.what do ya want for nothing?'
        // | openssl dgst -sha256 -hmac Jefe
        assert_eq!(
            sign(b"Jefe", 1, b"what do ya want for nothing?"),
            "t=1,v1=a9049465ce89cfb8e9aac62333abda66f80e3403f51f57f6bae3c3a4485eca38"
        );
    }
}
