//! Instants in time, as plain values. The core never reads a clock.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Microseconds since the Unix epoch, UTC.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Timestamp(i64);

const MICROS_PER_SECOND: i64 = 1_000_000;
const MICROS_PER_DAY: i64 = 86_400 * MICROS_PER_SECOND;

impl Timestamp {
    pub const fn from_unix_micros(micros: i64) -> Self {
        Self(micros)
    }

    pub const fn unix_micros(self) -> i64 {
        self.0
    }

    /// From milliseconds since the epoch (e.g. a checkpoint's `time-ms`),
    /// saturating at the end of time.
    pub fn from_unix_millis(millis: u64) -> Self {
        Self(i64::try_from(millis).map_or(i64::MAX, |ms| ms.saturating_mul(1_000)))
    }

    /// From seconds and nanoseconds (the protobuf `Timestamp` shape);
    /// sub-microsecond precision is dropped. `None` when out of range.
    pub fn from_unix_parts(seconds: i64, nanos: i32) -> Option<Self> {
        let micros = seconds.checked_mul(MICROS_PER_SECOND)?;
        micros.checked_add(i64::from(nanos) / 1_000).map(Self)
    }

    /// (seconds, nanoseconds) since the epoch, nanoseconds in 0..1e9.
    pub fn unix_parts(self) -> (i64, i32) {
        let seconds = self.0.div_euclid(MICROS_PER_SECOND);
        let micros = self.0.rem_euclid(MICROS_PER_SECOND);
        // rem_euclid keeps micros in 0..1_000_000, so nanos fit in i32.
        (seconds, i32::try_from(micros * 1_000).unwrap_or(0))
    }

    /// Midnight UTC at the start of a calendar date. `None` for an invalid date.
    pub fn from_date(year: i32, month: u8, day: u8) -> Option<Self> {
        let month = time::Month::try_from(month).ok()?;
        let date = time::Date::from_calendar_date(year, month, day).ok()?;
        let seconds = date.midnight().assume_utc().unix_timestamp();
        seconds.checked_mul(MICROS_PER_SECOND).map(Self)
    }

    /// Parses RFC 3339 (`2026-02-05T00:00:00Z`).
    pub fn parse_rfc3339(text: &str) -> Option<Self> {
        let parsed =
            time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
                .ok()?;
        let nanos = parsed.unix_timestamp_nanos();
        i64::try_from(nanos / 1_000).ok().map(Self)
    }

    pub fn plus_days(self, days: i64) -> Self {
        Self(self.0.saturating_add(days.saturating_mul(MICROS_PER_DAY)))
    }

    pub fn minus_days(self, days: i64) -> Self {
        Self(self.0.saturating_sub(days.saturating_mul(MICROS_PER_DAY)))
    }
}

impl fmt::Display for Timestamp {
    /// RFC 3339 in UTC, e.g. `2026-02-05T00:00:00Z`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let nanos = i128::from(self.0) * 1_000;
        match time::OffsetDateTime::from_unix_timestamp_nanos(nanos)
            .ok()
            .and_then(|t| {
                t.format(&time::format_description::well_known::Rfc3339)
                    .ok()
            }) {
            Some(text) => f.write_str(&text),
            None => write!(f, "{}us", self.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_rfc3339_agree() {
        let date = Timestamp::from_date(2026, 2, 5).expect("valid date");
        assert_eq!(date.to_string(), "2026-02-05T00:00:00Z");
        assert_eq!(Timestamp::parse_rfc3339("2026-02-05T00:00:00Z"), Some(date));
    }

    #[test]
    fn unix_parts_round_trip_before_and_after_epoch() {
        for micros in [-1_500_000, -1, 0, 1, 1_700_000_000_123_456] {
            let t = Timestamp::from_unix_micros(micros);
            let (s, n) = t.unix_parts();
            assert!((0..1_000_000_000).contains(&n));
            assert_eq!(Timestamp::from_unix_parts(s, n), Some(t));
        }
    }
}
