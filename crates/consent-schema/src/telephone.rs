//! Telephone numbers as they enter the ledger: in the national format of
//! the ledger's region (`07700 900123` in the UK) or international
//! (`+44 7700 900123`, `0044 7700 900123`), read with the `phonenumber`
//! crate (Google's libphonenumber metadata) into E.164 (`+447700900123`),
//! the one form the log stores and the digest is taken over.
//!
//! What is accepted is a **valid** number in libphonenumber's sense (the
//! country code exists, and the number lies in a range of the right length
//! allocated there), so that a digit dropped or added is refused rather
//! than recorded as another address, which would leave the real one
//! unsuppressed. libphonenumber deliberately calls Ofcom's ranges for TV,
//! radio and testing invalid (07700 900000-900999, 01632 960000-960999,
//! ...), but they are the documented UK test numbers, the ones every
//! example and test uses: they are accepted as well ([`OFCOM_DRAMA`]). A
//! weaker "possible number" check (only the length) would take them too,
//! but would also take `07700 90012`, a mobile number missing a digit,
//! because some UK landlines have nine digits. The price of validity: a
//! number in a range allocated after the `phonenumber` crate's metadata
//! was built is refused (naming the field) until the crate is updated.
//!
//! Letters are refused before parsing (libphonenumber would read
//! `0800 FLOWERS` as digits, and drop `ext. 5`), and so is anything that is
//! not a digit, a space or one of `+ - ( ) . /`.

use crate::error::ValidationError;
use crate::fields::{self, MAX_ID_BYTES};
use phonenumber::metadata::DATABASE;
use phonenumber::{country, Mode};
use std::fmt;
use std::str::FromStr;

/// The country whose national format the ledger reads numbers in (GB by
/// default): `01632 960001` means `+441632960001` in GB.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PhoneRegion(country::Id);

impl PhoneRegion {
    /// The United Kingdom.
    pub const GB: PhoneRegion = PhoneRegion(country::Id::GB);

    /// The ISO 3166-1 alpha-2 code, e.g. `GB`.
    pub fn code(&self) -> &str {
        self.0.as_ref()
    }
}

impl Default for PhoneRegion {
    fn default() -> Self {
        Self::GB
    }
}

impl fmt::Display for PhoneRegion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A region code that names no region with numbering metadata.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a region with a telephone numbering plan: give an ISO 3166-1 alpha-2 code such as GB, IE or FR")]
pub struct UnknownPhoneRegion(String);

impl FromStr for PhoneRegion {
    type Err = UnknownPhoneRegion;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let code = text.trim().to_ascii_uppercase();
        let id = country::Id::from_str(&code).map_err(|_| UnknownPhoneRegion(text.to_owned()))?;
        if DATABASE.by_id(id.as_ref()).is_none() {
            return Err(UnknownPhoneRegion(text.to_owned()));
        }
        Ok(Self(id))
    }
}

/// Characters a telephone number may be written with, besides digits.
const SEPARATORS: &[char] = &['+', '-', '(', ')', '.', '/'];

/// A telephone number as a caller wrote it, in the national format of
/// `region` or international, as E.164 (`+447700900123`); `field` names it
/// in errors.
pub fn number_to_e164(
    field: &str,
    value: &str,
    region: PhoneRegion,
) -> Result<String, ValidationError> {
    fields::max_bytes(field, value, MAX_ID_BYTES)?;
    let written = value.trim();
    if written.is_empty() {
        return Err(ValidationError::new(field, "required"));
    }
    if let Some(other) = written
        .chars()
        .find(|c| !(c.is_ascii_digit() || c.is_whitespace() || SEPARATORS.contains(c)))
    {
        return Err(ValidationError::new(
            field,
            format!(
                "`{other}` in a telephone number: write digits, spaces and `+ - ( ) .` only \
                 (e.g. 07700 900123 or +447700900123)"
            ),
        ));
    }
    if written.chars().skip(1).any(|c| c == '+') {
        return Err(ValidationError::new(
            field,
            "`+` may only start a telephone number (e.g. +447700900123)",
        ));
    }
    let number = phonenumber::parse(Some(region.0), written).map_err(|error| {
        ValidationError::new(
            field,
            format!(
                "is not a telephone number ({error}): write it in {region} national format \
                 (e.g. 07700 900123) or international (e.g. +447700900123)"
            ),
        )
    })?;
    let e164 = number.format().mode(Mode::E164).to_string();
    if !(number.is_valid() || is_ofcom_drama(&e164)) {
        return Err(ValidationError::new(
            field,
            format!(
                "{e164} is not a valid telephone number (no number of that length is allocated \
                 there: a digit missing or one too many?)"
            ),
        ));
    }
    Ok(e164)
}

/// Ofcom's UK numbers for TV, radio and other media, and for testing
/// (Ofcom, "TV, radio and theatre numbers"): each a thousand numbers, as the
/// E.164 digits they start with (all ten digits long after `+44`).
pub const OFCOM_DRAMA: [&str; 20] = [
    "+441134960", // 0113 496 0xxx Leeds
    "+441144960", // 0114 496 0xxx Sheffield
    "+441154960", // 0115 496 0xxx Nottingham
    "+441164960", // 0116 496 0xxx Leicester
    "+441174960", // 0117 496 0xxx Bristol
    "+441184960", // 0118 496 0xxx Reading
    "+441214960", // 0121 496 0xxx Birmingham
    "+441314960", // 0131 496 0xxx Edinburgh
    "+441414960", // 0141 496 0xxx Glasgow
    "+441514960", // 0151 496 0xxx Liverpool
    "+441614960", // 0161 496 0xxx Manchester
    "+441914980", // 0191 498 0xxx Tyneside
    "+442079460", // 020 7946 0xxx London
    "+442896496", // 028 9649 6xxx Belfast
    "+442920180", // 029 2018 0xxx Cardiff
    "+441632960", // 01632 960xxx no area
    "+447700900", // 07700 900xxx mobile
    "+448081570", // 08081 570xxx freephone
    "+449098790", // 0909 879 0xxx premium rate
    "+443069990", // 03069 990xxx UK-wide
];

/// Whether `e164` is one of [`OFCOM_DRAMA`]'s numbers.
fn is_ofcom_drama(e164: &str) -> bool {
    // `+44` and ten digits.
    e164.len() == 13 && OFCOM_DRAMA.iter().any(|range| e164.starts_with(range))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gb(value: &str) -> Result<String, ValidationError> {
        number_to_e164("number", value, PhoneRegion::GB)
    }

    #[test]
    fn uk_numbers_in_every_usual_spelling_become_e164() {
        for (written, e164) in [
            ("07700 900123", "+447700900123"),
            ("07700900123", "+447700900123"),
            ("+44 7700 900123", "+447700900123"),
            ("0044 7700 900123", "+447700900123"),
            ("+447700900123", "+447700900123"),
            ("+44 (0) 7700 900123", "+447700900123"),
            ("07700-900-123", "+447700900123"),
            ("01632 960001", "+441632960001"),
            ("(01632) 960001", "+441632960001"),
            ("+44 1632 960 001", "+441632960001"),
            ("020 7946 0958", "+442079460958"),
            ("0800 123 456", "+44800123456"),
            ("  07700 900123 ", "+447700900123"),
        ] {
            assert_eq!(gb(written).as_deref(), Ok(e164), "{written:?}");
        }
    }

    #[test]
    fn ofcom_drama_numbers_are_accepted_though_libphonenumber_calls_them_invalid() {
        // The reason this module checks possibility, not validity.
        for drama in [
            "07700 900000",
            "07700 900999",
            "01632 960000",
            "01632 960999",
        ] {
            let parsed = phonenumber::parse(Some(country::Id::GB), drama).expect("parses");
            assert!(
                !parsed.is_valid(),
                "{drama}: libphonenumber now calls it valid"
            );
            assert!(gb(drama).is_ok(), "{drama} refused");
        }
    }

    #[test]
    fn international_numbers_keep_their_country() {
        assert_eq!(gb("+1 202 555 0123").as_deref(), Ok("+12025550123"));
        assert_eq!(gb("00 33 6 12 34 56 78").as_deref(), Ok("+33612345678"));
        let ireland: PhoneRegion = "ie".parse().expect("a region");
        assert_eq!(
            number_to_e164("n", "087 123 4567", ireland).as_deref(),
            Ok("+353871234567")
        );
    }

    #[test]
    fn impossible_numbers_are_refused_naming_the_field() {
        for bad in [
            "",
            "   ",
            "12345",
            "999",
            "07700 90012",
            "077009001234",
            "07700 9OO123",
            "0800 FLOWERS",
            "07700 900123 ext. 5",
            "tel:+447700900123",
            "+44 7700 +900123",
            "+0441632960001",
            "+999 1234 5678",
            "ada@example.com",
        ] {
            let error = gb(bad).expect_err(bad);
            assert_eq!(error.field, "number", "{bad:?}: {error}");
        }
        let error = gb("07700 90012").expect_err("too short");
        assert!(
            error.reason.contains("+44770090012 is not a valid"),
            "{error}"
        );
        let error = gb("07700 9OO123").expect_err("letters");
        assert!(error.reason.contains("`O`"), "{error}");
    }

    #[test]
    fn regions_are_iso_codes_with_a_numbering_plan() {
        assert_eq!("GB".parse(), Ok(PhoneRegion::GB));
        assert_eq!(" gb ".parse(), Ok(PhoneRegion::GB));
        assert_eq!(PhoneRegion::default().to_string(), "GB");
        for bad in ["", "UK", "XX", "001", "Great Britain"] {
            assert!(bad.parse::<PhoneRegion>().is_err(), "{bad:?} accepted");
        }
    }
}
