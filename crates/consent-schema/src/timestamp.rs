//! `google.protobuf.Timestamp` <-> [`consent_domain::Timestamp`].
//!
//! The wire form has nanoseconds; the domain keeps microseconds, so
//! sub-microsecond digits are dropped on the way in. A valid wire timestamp
//! lies in 0001-01-01T00:00:00Z ..= 9999-12-31T23:59:59.999999999Z with
//! `nanos` in 0..=999_999_999 (the protobuf definition, which is also the
//! range RFC 3339 text can express).

use crate::error::ValidationError;
use consent_domain::Timestamp;

/// 0001-01-01T00:00:00Z in seconds since the epoch.
const MIN_SECONDS: i64 = -62_135_596_800;
/// 9999-12-31T23:59:59Z in seconds since the epoch.
const MAX_SECONDS: i64 = 253_402_300_799;
const MAX_NANOS: i32 = 999_999_999;

/// Converts a wire timestamp, naming `field` when it is out of range.
pub fn timestamp_from_proto(
    field: &str,
    value: &pbjson_types::Timestamp,
) -> Result<Timestamp, ValidationError> {
    if !(0..=MAX_NANOS).contains(&value.nanos) {
        return Err(ValidationError::new(
            format!("{field}.nanos"),
            format!("must be in 0..={MAX_NANOS}"),
        ));
    }
    if !(MIN_SECONDS..=MAX_SECONDS).contains(&value.seconds) {
        return Err(ValidationError::new(
            format!("{field}.seconds"),
            "must lie between 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z",
        ));
    }
    Timestamp::from_unix_parts(value.seconds, value.nanos)
        .ok_or_else(|| ValidationError::new(field, "out of range"))
}

/// A timestamp field that must be present.
pub(crate) fn required_timestamp(
    field: &str,
    value: Option<&pbjson_types::Timestamp>,
) -> Result<Timestamp, ValidationError> {
    match value {
        Some(value) => timestamp_from_proto(field, value),
        None => Err(ValidationError::new(field, "required")),
    }
}

pub fn timestamp_to_proto(value: Timestamp) -> pbjson_types::Timestamp {
    let (seconds, nanos) = value.unix_parts();
    pbjson_types::Timestamp { seconds, nanos }
}
