//! A subject's own key: what erasure destroys.

use crate::error::SealError;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use consent_domain::{OrganisationId, SubjectId};
use zeroize::Zeroizing;

/// Bytes in a subject key.
pub const SUBJECT_KEY_BYTES: usize = 32;
/// Bytes of the random nonce that starts a ciphertext.
const NONCE_BYTES: usize = 24;

/// The key the contact values of one subject of one organisation are
/// encrypted under (XChaCha20-Poly1305: random 192-bit nonces are safe for
/// any number of values under one key).
#[derive(Clone)]
pub struct SubjectKey(Zeroizing<[u8; SUBJECT_KEY_BYTES]>);

impl SubjectKey {
    /// A new random key.
    pub fn generate() -> Result<Self, SealError> {
        let mut bytes = Zeroizing::new([0u8; SUBJECT_KEY_BYTES]);
        getrandom::fill(bytes.as_mut_slice()).map_err(|e| SealError::Random(e.to_string()))?;
        Ok(Self(bytes))
    }

    pub fn from_bytes(bytes: [u8; SUBJECT_KEY_BYTES]) -> Self {
        Self(Zeroizing::new(bytes))
    }

    pub fn as_bytes(&self) -> &[u8; SUBJECT_KEY_BYTES] {
        &self.0
    }

    /// `value` encrypted: the nonce, then ciphertext and tag. Bound to the
    /// organisation and subject, so a ciphertext moved to another subject's
    /// record does not open.
    pub fn seal(
        &self,
        organisation: &OrganisationId,
        subject: &SubjectId,
        value: &str,
    ) -> Result<Vec<u8>, SealError> {
        let mut nonce = [0u8; NONCE_BYTES];
        getrandom::fill(&mut nonce).map_err(|e| SealError::Random(e.to_string()))?;
        let aad = associated_data(organisation, subject);
        let ciphertext = self
            .cipher()
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: value.as_bytes(),
                    aad: &aad,
                },
            )
            .map_err(|_| SealError::Cipher)?;
        let mut sealed = Vec::with_capacity(NONCE_BYTES + ciphertext.len());
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(&ciphertext);
        Ok(sealed)
    }

    /// The value sealed in `sealed`, when it was sealed under this key for
    /// this organisation and subject and is unchanged.
    pub fn open(
        &self,
        organisation: &OrganisationId,
        subject: &SubjectId,
        sealed: &[u8],
    ) -> Result<String, SealError> {
        if sealed.len() < NONCE_BYTES {
            return Err(SealError::Cipher);
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_BYTES);
        let aad = associated_data(organisation, subject);
        let plain = self
            .cipher()
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: &aad,
                },
            )
            .map_err(|_| SealError::Cipher)?;
        String::from_utf8(plain).map_err(|_| SealError::Cipher)
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(self.0.as_slice().into())
    }
}

impl std::fmt::Debug for SubjectKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SubjectKey(..)")
    }
}

fn associated_data(organisation: &OrganisationId, subject: &SubjectId) -> Vec<u8> {
    let mut aad = Vec::with_capacity(organisation.as_str().len() + subject.as_str().len() + 1);
    aad.extend_from_slice(organisation.as_str().as_bytes());
    aad.push(0);
    aad.extend_from_slice(subject.as_str().as_bytes());
    aad
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_value_opens_only_with_its_key_for_its_subject() {
        let key = SubjectKey::generate().expect("a key");
        let acme = OrganisationId::from("acme");
        let alice = SubjectId::from("alice");
        let sealed = key.seal(&acme, &alice, "ada@example.com").expect("sealed");
        assert!(!sealed
            .windows("ada@example.com".len())
            .any(|w| w == b"ada@example.com"));
        assert_eq!(
            key.open(&acme, &alice, &sealed).ok().as_deref(),
            Some("ada@example.com")
        );
        let other_key = SubjectKey::generate().expect("a key");
        assert!(other_key.open(&acme, &alice, &sealed).is_err());
        assert!(key.open(&acme, &SubjectId::from("bob"), &sealed).is_err());
        let mut tampered = sealed.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert!(key.open(&acme, &alice, &tampered).is_err());
        assert!(key.open(&acme, &alice, &sealed[..10]).is_err());
        // Random nonces: sealing twice gives two ciphertexts.
        assert_ne!(
            sealed,
            key.seal(&acme, &alice, "ada@example.com").expect("sealed")
        );
    }
}
