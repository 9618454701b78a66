//! Timestamps as export files write them.

use consent_domain::Timestamp;

/// A row's or an option's time: RFC 3339 (`2026-03-01T14:30:00Z`,
/// `2026-03-01T14:30:00.524+00:00`), the same with a space for `T` and no
/// offset, read as UTC (`2026-03-01 14:30:00`, as Mailchimp and SendGrid's
/// app export), Unix seconds (`1772375400`, as SendGrid's API answers), or a
/// date (`2026-03-01`, midnight UTC).
pub fn parse_time(text: &str) -> Option<Timestamp> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    if text.bytes().all(|b| b.is_ascii_digit()) {
        let seconds: i64 = text.parse().ok()?;
        return Timestamp::from_unix_parts(seconds, 0);
    }
    if let Some(at) = Timestamp::parse_rfc3339(text) {
        return Some(at);
    }
    if text.len() == 10 {
        let mut parts = text.split('-');
        let year = parts.next()?.parse().ok()?;
        let month = parts.next()?.parse().ok()?;
        let day = parts.next()?.parse().ok()?;
        return Timestamp::from_date(year, month, day);
    }
    let with_t = text.replacen(' ', "T", 1);
    Timestamp::parse_rfc3339(&with_t).or_else(|| Timestamp::parse_rfc3339(&format!("{with_t}Z")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_times_in_every_shape_read_as_the_same_instant() {
        let at = Timestamp::parse_rfc3339("2026-03-01T14:30:00Z").expect("RFC 3339");
        for text in [
            "2026-03-01T14:30:00Z",
            "2026-03-01T14:30:00+00:00",
            "2026-03-01 14:30:00",
            "1772375400",
        ] {
            assert_eq!(parse_time(text), Some(at), "{text}");
        }
        assert_eq!(parse_time("2026-03-01"), Timestamp::from_date(2026, 3, 1));
        assert_eq!(parse_time(""), None);
        assert_eq!(parse_time("yesterday"), None);
    }
}
