//! The RFC 8058 one-click form: a POST whose body carries
//! `List-Unsubscribe=One-Click`, as `application/x-www-form-urlencoded` or
//! `multipart/form-data` (section 3.2).

/// The form field and value RFC 8058 requires.
pub const ONE_CLICK_FIELD: &str = "List-Unsubscribe";
pub const ONE_CLICK_VALUE: &str = "One-Click";

/// Why a POST is not an RFC 8058 one-click request.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FormError {
    #[error("the body must be application/x-www-form-urlencoded or multipart/form-data (RFC 8058 section 3.2), not `{0}`")]
    ContentType(String),
    #[error("multipart/form-data without a boundary parameter")]
    NoBoundary,
    #[error("the form must carry `List-Unsubscribe=One-Click` (RFC 8058 section 3.2)")]
    NotOneClick,
}

/// Whether `body` (of `content_type`) is a one-click unsubscribe form.
pub fn check_one_click_form(content_type: &str, body: &[u8]) -> Result<(), FormError> {
    let media = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let found = match media.as_str() {
        "application/x-www-form-urlencoded" => form_urlencoded::parse(body)
            .any(|(name, value)| name == ONE_CLICK_FIELD && value == ONE_CLICK_VALUE),
        "multipart/form-data" => {
            let boundary = boundary(content_type).ok_or(FormError::NoBoundary)?;
            multipart_has_one_click(body, &boundary)
        }
        _ => return Err(FormError::ContentType(content_type.to_owned())),
    };
    if found {
        Ok(())
    } else {
        Err(FormError::NotOneClick)
    }
}

fn boundary(content_type: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|parameter| {
        let (name, value) = parameter.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| value.trim().trim_matches('"').to_owned())
            .filter(|b| !b.is_empty())
    })
}

/// Looks for a part named `List-Unsubscribe` whose content is `One-Click`.
/// Tolerant of LF line ends; only what RFC 8058 needs, not a general
/// multipart parser (files and nested parts are ignored).
fn multipart_has_one_click(body: &[u8], boundary: &str) -> bool {
    let Ok(body) = std::str::from_utf8(body) else {
        return false;
    };
    let delimiter = format!("--{boundary}");
    body.split(delimiter.as_str()).skip(1).any(|part| {
        let part = part
            .strip_prefix("\r\n")
            .or_else(|| part.strip_prefix('\n'));
        let Some(part) = part else {
            return false; // the closing `--`
        };
        let Some((headers, content)) = part
            .split_once("\r\n\r\n")
            .or_else(|| part.split_once("\n\n"))
        else {
            return false;
        };
        let named = headers.lines().any(|line| {
            let Some((name, value)) = line.split_once(':') else {
                return false;
            };
            name.trim().eq_ignore_ascii_case("content-disposition")
                && value.split(';').any(|p| {
                    p.split_once('=').is_some_and(|(k, v)| {
                        k.trim().eq_ignore_ascii_case("name")
                            && v.trim().trim_matches('"') == ONE_CLICK_FIELD
                    })
                })
        });
        named && content.trim_end_matches(['\r', '\n']) == ONE_CLICK_VALUE
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const URLENCODED: &str = "application/x-www-form-urlencoded";

    #[test]
    fn the_urlencoded_form_of_rfc_8058_is_accepted() {
        assert_eq!(
            check_one_click_form(URLENCODED, b"List-Unsubscribe=One-Click"),
            Ok(())
        );
        assert_eq!(
            check_one_click_form(
                "application/x-www-form-urlencoded; charset=utf-8",
                b"x=1&List-Unsubscribe=One-Click"
            ),
            Ok(())
        );
    }

    #[test]
    fn other_forms_are_not_one_click() {
        for body in ["", "List-Unsubscribe=Yes", "list-unsubscribe=One-Click"] {
            assert_eq!(
                check_one_click_form(URLENCODED, body.as_bytes()),
                Err(FormError::NotOneClick),
                "{body}"
            );
        }
        assert!(matches!(
            check_one_click_form("application/json", b"{}"),
            Err(FormError::ContentType(_))
        ));
    }

    #[test]
    fn the_multipart_form_is_accepted() {
        let body = "--XyZ\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\nOne-Click\r\n--XyZ--\r\n";
        assert_eq!(
            check_one_click_form("multipart/form-data; boundary=XyZ", body.as_bytes()),
            Ok(())
        );
        assert_eq!(
            check_one_click_form("multipart/form-data; boundary=\"XyZ\"", body.as_bytes()),
            Ok(())
        );
        let other = body.replace("One-Click", "Two-Clicks");
        assert_eq!(
            check_one_click_form("multipart/form-data; boundary=XyZ", other.as_bytes()),
            Err(FormError::NotOneClick)
        );
        assert_eq!(
            check_one_click_form("multipart/form-data", body.as_bytes()),
            Err(FormError::NoBoundary)
        );
    }
}
