//! Checks shared by every message: identifiers, free text, list sizes.
//!
//! The limits keep one fact small (nobody stores megabytes in a field) and
//! keep identifiers usable as keys: an identifier is never empty, never has
//! leading or trailing whitespace and never contains a control character
//! (so the 0x1f separator of [`crate::routing_key`] cannot occur in it).

use crate::error::ValidationError;

/// Longest identifier, in bytes (event, organisation, subject, category ids,
/// references, versions).
pub const MAX_ID_BYTES: usize = 256;
/// Longest free text, in bytes (names, evidence, reasons, addresses, URLs).
pub const MAX_TEXT_BYTES: usize = 4096;
/// Most elements in one repeated field.
pub const MAX_LIST_ITEMS: usize = 1000;
/// Largest encoded envelope, in bytes.
pub const MAX_ENVELOPE_BYTES: usize = 256 * 1024;

/// A required identifier.
pub(crate) fn identifier<'a>(field: &str, value: &'a str) -> Result<&'a str, ValidationError> {
    if value.is_empty() {
        return Err(ValidationError::new(field, "required"));
    }
    check_identifier(field, value)?;
    Ok(value)
}

/// An optional identifier: empty means absent.
pub(crate) fn optional_identifier(
    field: &str,
    value: &str,
) -> Result<Option<String>, ValidationError> {
    if value.is_empty() {
        return Ok(None);
    }
    check_identifier(field, value)?;
    Ok(Some(value.to_owned()))
}

fn check_identifier(field: &str, value: &str) -> Result<(), ValidationError> {
    max_bytes(field, value, MAX_ID_BYTES)?;
    if value.trim() != value {
        return Err(ValidationError::new(
            field,
            "must not start or end with whitespace",
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(ValidationError::new(
            field,
            "must not contain control characters",
        ));
    }
    Ok(())
}

/// A short free-form reference (order, message or campaign id); may be empty.
pub(crate) fn short_text(field: &str, value: &str) -> Result<String, ValidationError> {
    max_bytes(field, value, MAX_ID_BYTES)?;
    Ok(value.to_owned())
}

/// Free text; may be empty.
pub(crate) fn text(field: &str, value: &str) -> Result<String, ValidationError> {
    max_bytes(field, value, MAX_TEXT_BYTES)?;
    Ok(value.to_owned())
}

pub(crate) fn max_bytes(field: &str, value: &str, limit: usize) -> Result<(), ValidationError> {
    if value.len() > limit {
        return Err(ValidationError::new(
            field,
            format!("is {} bytes long; the limit is {limit}", value.len()),
        ));
    }
    Ok(())
}

pub(crate) fn max_items(field: &str, len: usize) -> Result<(), ValidationError> {
    if len > MAX_LIST_ITEMS {
        return Err(ValidationError::new(
            field,
            format!("has {len} elements; the limit is {MAX_LIST_ITEMS}"),
        ));
    }
    Ok(())
}

/// A required message field.
pub(crate) fn required<'a, T>(field: &str, value: Option<&'a T>) -> Result<&'a T, ValidationError> {
    value.ok_or_else(|| ValidationError::new(field, "required"))
}

/// Empty string for an absent optional value.
pub(crate) fn or_empty(value: &Option<String>) -> String {
    value.clone().unwrap_or_default()
}
