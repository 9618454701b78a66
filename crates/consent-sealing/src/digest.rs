//! The contact digest: what the rules compare instead of an address.

use consent_domain::OrganisationId;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

/// Bytes in the contact-digest key.
pub const CONTACT_DIGEST_KEY_BYTES: usize = 32;

/// Domain separation: a digest is never confused with any other HMAC the
/// ledger computes under another key.
const CONTEXT: &[u8] = b"consent-ledger contact digest v1\0";

/// Domain separation of the key's fingerprint from every contact digest.
const FINGERPRINT_CONTEXT: &[u8] = b"consent-ledger contact-digest-key fingerprint v1\0";

/// The ledger's key for contact digests (one per ledger, never rotated
/// while suppressions made under it must hold: a new key gives new
/// digests, and suppression compares digests).
pub struct ContactDigestKey(Zeroizing<[u8; CONTACT_DIGEST_KEY_BYTES]>);

impl ContactDigestKey {
    pub fn from_bytes(bytes: [u8; CONTACT_DIGEST_KEY_BYTES]) -> Self {
        Self(Zeroizing::new(bytes))
    }

    /// HMAC-SHA256 of the organisation and the normalised value. Scoped to
    /// the organisation: two organisations' digests of one address differ,
    /// so digests cannot link a person across organisations.
    pub fn digest(&self, organisation: &OrganisationId, normalised: &str) -> [u8; 32] {
        // HMAC accepts a key of any length: this cannot fail.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.0.as_slice())
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(CONTEXT);
        mac.update(organisation.as_str().as_bytes());
        mac.update(b"\0");
        mac.update(normalised.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// What the log records to tell this key from another without holding
    /// it: HMAC-SHA256 under the key of a fixed, domain-separated message.
    /// Two instances with the same key compute the same fingerprint; the
    /// fingerprint reveals nothing of the key (HMAC is a PRF), and it is
    /// never equal to a contact digest (different context).
    pub fn fingerprint(&self) -> [u8; 32] {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.0.as_slice())
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(FINGERPRINT_CONTEXT);
        mac.finalize().into_bytes().into()
    }
}

impl std::fmt::Debug for ContactDigestKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ContactDigestKey(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_address_same_digest_within_an_organisation_only() {
        let key = ContactDigestKey::from_bytes([7; 32]);
        let acme = OrganisationId::from("acme");
        let other = OrganisationId::from("other");
        assert_eq!(
            key.digest(&acme, "ada@example.com"),
            key.digest(&acme, "ada@example.com")
        );
        assert_ne!(
            key.digest(&acme, "ada@example.com"),
            key.digest(&acme, "bob@example.com")
        );
        assert_ne!(
            key.digest(&acme, "ada@example.com"),
            key.digest(&other, "ada@example.com")
        );
        // The separator keeps (org, value) pairs apart.
        assert_ne!(
            key.digest(&OrganisationId::from("a"), "b@c"),
            key.digest(&OrganisationId::from("a\0b"), "@c")
        );
        let another_key = ContactDigestKey::from_bytes([8; 32]);
        assert_eq!(
            key.fingerprint(),
            ContactDigestKey::from_bytes([7; 32]).fingerprint()
        );
        assert_ne!(key.fingerprint(), another_key.fingerprint());
        assert_ne!(
            key.digest(&acme, "ada@example.com"),
            another_key.digest(&acme, "ada@example.com")
        );
    }
}
