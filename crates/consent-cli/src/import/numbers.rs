//! UK telephone numbers as TPS/CTPS files write them (national format,
//! `01632 960001`), as E.164 (`+441632960001`): the form the ledger stores,
//! so that a number's import id is the same however the file spelled it.
//!
//! The same rule as the ledger's own reading of numbers (libphonenumber
//! validity via the `phonenumber` crate, Ofcom's drama and test ranges
//! accepted although libphonenumber calls them invalid). Region GB: TPS and
//! CTPS list UK numbers only.

use phonenumber::{country, Mode};

/// Ofcom's UK numbers for TV, radio and testing, as the E.164 digits they
/// start with (each ten digits after `+44`).
const OFCOM_DRAMA: [&str; 20] = [
    "+441134960",
    "+441144960",
    "+441154960",
    "+441164960",
    "+441174960",
    "+441184960",
    "+441214960",
    "+441314960",
    "+441414960",
    "+441514960",
    "+441614960",
    "+441914980",
    "+442079460",
    "+442896496",
    "+442920180",
    "+441632960",
    "+447700900",
    "+448081570",
    "+449098790",
    "+443069990",
];

/// `written` (national or international) as E.164, or why it is not a
/// UK telephone number.
pub fn uk_number_to_e164(written: &str) -> Result<String, String> {
    let written = written.trim();
    if written.is_empty() {
        return Err("no number on the line".to_owned());
    }
    if let Some(other) = written.chars().find(|c| {
        !(c.is_ascii_digit() || c.is_whitespace() || ['+', '-', '(', ')', '.', '/'].contains(c))
    }) {
        return Err(format!("`{other}` in a telephone number"));
    }
    let number = phonenumber::parse(Some(country::Id::GB), written)
        .map_err(|error| format!("`{written}` is not a telephone number ({error})"))?;
    let e164 = number.format().mode(Mode::E164).to_string();
    let drama = e164.len() == 13 && OFCOM_DRAMA.iter().any(|range| e164.starts_with(range));
    if !(number.is_valid() || drama) {
        return Err(format!(
            "`{written}` ({e164}) is not a valid UK telephone number (a digit missing or one too many?)"
        ));
    }
    Ok(e164)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn national_numbers_as_tps_files_write_them_become_e164() {
        for (written, e164) in [
            ("01632 960001", "+441632960001"),
            ("01632960001", "+441632960001"),
            ("07700 900123", "+447700900123"),
            ("0207 3787244", "+442073787244"),
            ("07400 123456", "+447400123456"),
            ("+447700900123", "+447700900123"),
        ] {
            assert_eq!(uk_number_to_e164(written).as_deref(), Ok(e164), "{written}");
        }
        assert!(uk_number_to_e164("07700 90012").is_err());
        assert!(uk_number_to_e164("0800 FLOWERS").is_err());
    }
}
