//! Contact points and telephone numbers, normalised so that the same
//! address written twice is the same value:
//!
//! * email: surrounding whitespace trimmed, lower-cased, exactly one `@`
//!   with text on both sides and no whitespace;
//! * telephone numbers (mobile, landline, TPS/CTPS and call preferences):
//!   whitespace removed, then E.164: `+`, a country code not starting with
//!   0, 7 to 15 digits in all;
//! * postal: trimmed, one line of free text.
//!
//! A value the ledger sealed (`SealedValue`, docs/ERASURE.md) is read as
//! its digest (`ContactValue::Digest`): what the rules compare. The
//! ciphertext beside it is never read here.

use crate::error::ValidationError;
use crate::fields::{self, MAX_ID_BYTES, MAX_TEXT_BYTES};
use crate::v1;
use crate::vocabulary::{decode, Vocabulary};
use consent_domain::vocabulary::{ContactDigest, ContactKind, ContactPoint, ContactValue};

/// Fewest digits accepted in an E.164 number (country code included).
const MIN_E164_DIGITS: usize = 7;
/// Most digits E.164 allows (country code included).
const MAX_E164_DIGITS: usize = 15;

/// A contact point, validated and normalised (the form the contact index
/// is keyed by); `field` names it in errors.
pub fn contact_point_from_proto(
    field: &str,
    contact: &v1::ContactPoint,
) -> Result<ContactPoint, ValidationError> {
    let kind: ContactKind = decode(&format!("{field}.kind"), contact.kind)?;
    if let Some(sealed) = &contact.sealed {
        let value = sealed_digest(&format!("{field}.sealed"), sealed)?;
        if !contact.value.is_empty() {
            return Err(ValidationError::new(
                format!("{field}.value"),
                "must be empty when `sealed` is set (a stored value is sealed, never in clear)",
            ));
        }
        return Ok(ContactPoint { kind, value });
    }
    let value = normalised_value(&format!("{field}.value"), kind, &contact.value)?;
    Ok(ContactPoint {
        kind,
        value: ContactValue::Clear(value),
    })
}

/// A contact kind from its wire value; `field` names it in errors.
pub fn contact_kind(field: &str, value: i32) -> Result<ContactKind, ValidationError> {
    decode(field, value)
}

/// A contact value of `kind`, validated and normalised: what the ledger
/// digests and seals.
pub fn normalised_value(
    field: &str,
    kind: ContactKind,
    value: &str,
) -> Result<String, ValidationError> {
    match kind {
        ContactKind::Email => email(field, value),
        ContactKind::Mobile | ContactKind::Landline => telephone_number(field, value),
        ContactKind::Postal => postal_address(field, value),
    }
}

/// A telephone number field that may be sealed (`number` in clear, or
/// `sealed_number`), as the rules compare it.
pub(crate) fn number_or_sealed(
    field: &str,
    number: &str,
    sealed: Option<&v1::SealedValue>,
) -> Result<ContactValue, ValidationError> {
    match sealed {
        Some(sealed) => {
            if !number.is_empty() {
                return Err(ValidationError::new(
                    format!("{field}.number"),
                    "must be empty when `sealed_number` is set (a stored number is sealed, never in clear)",
                ));
            }
            sealed_digest(&format!("{field}.sealed_number"), sealed)
        }
        None => telephone_number(&format!("{field}.number"), number).map(ContactValue::Clear),
    }
}

pub use consent_domain::vocabulary::CONTACT_DIGEST_BYTES;

/// A contact value from its text form, as the API names one (a
/// suppression list's cursor, an address in a path): a digest's text
/// ([`ContactDigest`]'s `Display`: `digest:` and 64 hex digits) is the
/// digest; any other text is a value in clear.
pub fn contact_value_from_text(text: &str) -> ContactValue {
    match ContactDigest::parse(text) {
        Some(digest) => ContactValue::Digest(digest),
        None => ContactValue::clear(text),
    }
}

pub(crate) fn digest_from_bytes(
    field: &str,
    digest: &[u8],
) -> Result<ContactDigest, ValidationError> {
    ContactDigest::from_slice(digest).ok_or_else(|| {
        ValidationError::new(
            field,
            format!(
                "must be {CONTACT_DIGEST_BYTES} bytes (HMAC-SHA256), not {}",
                digest.len()
            ),
        )
    })
}

fn sealed_digest(field: &str, sealed: &v1::SealedValue) -> Result<ContactValue, ValidationError> {
    digest_from_bytes(&format!("{field}.digest"), &sealed.digest).map(ContactValue::Digest)
}

/// The wire form of a value the rules compare: sealed (without ciphertext)
/// when it is a digest, in clear otherwise: `(value, sealed)`.
pub(crate) fn value_to_proto(value: &ContactValue) -> (String, Option<v1::SealedValue>) {
    match value {
        ContactValue::Digest(digest) => (
            String::new(),
            Some(v1::SealedValue {
                digest: digest.as_bytes().to_vec(),
                ciphertext: Vec::new(),
            }),
        ),
        ContactValue::Clear(value) => (value.clone(), None),
    }
}

pub(crate) fn optional_contact_point(
    field: &str,
    contact: Option<&v1::ContactPoint>,
) -> Result<Option<ContactPoint>, ValidationError> {
    contact
        .map(|c| contact_point_from_proto(field, c))
        .transpose()
}

/// The wire form of a domain contact point. A digest goes back as a sealed
/// value without its ciphertext (the domain never holds it): re-encoding a
/// decoded event never brings an address back.
pub(crate) fn contact_point_to_proto(contact: &ContactPoint) -> v1::ContactPoint {
    let (value, sealed) = value_to_proto(&contact.value);
    v1::ContactPoint {
        kind: contact.kind.to_wire(),
        value,
        sealed,
    }
}

/// A normalised email address.
pub(crate) fn email(field: &str, value: &str) -> Result<String, ValidationError> {
    let normalised = value.trim().to_lowercase();
    if normalised.is_empty() {
        return Err(ValidationError::new(field, "required"));
    }
    fields::max_bytes(field, &normalised, MAX_ID_BYTES)?;
    if normalised
        .chars()
        .any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(ValidationError::new(
            field,
            "an email address must not contain whitespace",
        ));
    }
    match normalised.split_once('@') {
        Some((local, domain))
            if !local.is_empty() && !domain.is_empty() && !domain.contains('@') =>
        {
            Ok(normalised)
        }
        _ => Err(ValidationError::new(
            field,
            "must be an email address: one `@` with text on both sides",
        )),
    }
}

/// A telephone number in E.164 form (`+441632960001`).
pub(crate) fn telephone_number(field: &str, value: &str) -> Result<String, ValidationError> {
    // Bound the work before copying: the longest acceptable input is the
    // longest E.164 number with some spacing.
    fields::max_bytes(field, value, MAX_ID_BYTES)?;
    let compact: String = value.chars().filter(|c| !c.is_whitespace()).collect();
    if compact.is_empty() {
        return Err(ValidationError::new(field, "required"));
    }
    let digits = compact.strip_prefix('+').unwrap_or("");
    let well_formed = digits.bytes().all(|b| b.is_ascii_digit())
        && (MIN_E164_DIGITS..=MAX_E164_DIGITS).contains(&digits.len())
        && !digits.starts_with('0');
    if !well_formed {
        return Err(ValidationError::new(
            field,
            "must be an E.164 number: `+`, then the country code and number, 7 to 15 digits (e.g. +441632960001)",
        ));
    }
    Ok(compact)
}

fn postal_address(field: &str, value: &str) -> Result<String, ValidationError> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(ValidationError::new(field, "required"));
    }
    fields::max_bytes(field, trimmed, MAX_TEXT_BYTES)?;
    Ok(trimmed.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_is_trimmed_and_lower_cased() {
        assert_eq!(
            email("f", "  Ada@Example.COM ").as_deref(),
            Ok("ada@example.com")
        );
        for bad in [
            "",
            "ada",
            "@example.com",
            "ada@",
            "a@b@c",
            "ada lovelace@example.com",
        ] {
            assert!(email("f", bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn numbers_lose_spaces_and_must_be_e164() {
        assert_eq!(
            telephone_number("f", "+44 1632 960 001").as_deref(),
            Ok("+441632960001")
        );
        for bad in [
            "",
            "01632960001",
            "+0441632960001",
            "+44-1632-960001",
            "+123",
            "+1234567890123456",
        ] {
            assert!(telephone_number("f", bad).is_err(), "{bad:?} accepted");
        }
    }
}
