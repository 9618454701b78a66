//! Contact points and telephone numbers, normalised so that the same
//! address written twice is the same value:
//!
//! * email: surrounding whitespace trimmed, lower-cased, exactly one `@`
//!   with text on both sides and no whitespace;
//! * telephone numbers (mobile, landline, TPS/CTPS and call preferences):
//!   whitespace removed, then E.164: `+`, a country code not starting with
//!   0, 7 to 15 digits in all;
//! * postal: trimmed, one line of free text.

use crate::error::ValidationError;
use crate::fields::{self, MAX_ID_BYTES, MAX_TEXT_BYTES};
use crate::v1;
use crate::vocabulary::{decode, Vocabulary};
use consent_domain::vocabulary::{ContactKind, ContactPoint};

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
    let value_field = format!("{field}.value");
    let value = match kind {
        ContactKind::Email => email(&value_field, &contact.value)?,
        ContactKind::Mobile | ContactKind::Landline => {
            telephone_number(&value_field, &contact.value)?
        }
        ContactKind::Postal => postal_address(&value_field, &contact.value)?,
    };
    Ok(ContactPoint { kind, value })
}

pub(crate) fn optional_contact_point(
    field: &str,
    contact: Option<&v1::ContactPoint>,
) -> Result<Option<ContactPoint>, ValidationError> {
    contact
        .map(|c| contact_point_from_proto(field, c))
        .transpose()
}

pub(crate) fn contact_point_to_proto(contact: &ContactPoint) -> v1::ContactPoint {
    v1::ContactPoint {
        kind: contact.kind.to_wire(),
        value: contact.value.clone(),
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
