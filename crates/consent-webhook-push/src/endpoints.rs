//! The configured endpoints: the webhooks file (`serve --webhooks FILE`),
//! one `[[endpoint]]` table per endpoint.
//!
//! ```toml
//! [[endpoint]]
//! name = "acme-crm"                 # [A-Za-z0-9._-], 1 to 64; names its stored position
//! organisation = "acme"             # whose notices it receives
//! url = "https://crm.example/hooks/opt-outs"
//! secret_file = "acme-crm.secret"   # mode 0600; relative to this file's folder
//! ```

use serde::Deserialize;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// The longest secret file read (a secret is a line of text).
const MAX_SECRET_BYTES: u64 = 4096;

/// One webhook endpoint: where one organisation's notices are pushed.
#[derive(Clone)]
pub struct Endpoint {
    /// Unique among the endpoints; names the endpoint's stored position
    /// and dead letters (`DATA_DIR/webhooks/{name}/`) and its metrics.
    pub name: String,
    /// The organisation whose notices it receives.
    pub organisation: String,
    /// `http://` or `https://`.
    pub url: String,
    /// The HMAC-SHA256 key of the signature (the secret file's text,
    /// trimmed).
    pub secret: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("name", &self.name)
            .field("organisation", &self.organisation)
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

/// Why the webhooks file cannot be used; names the file and the field.
#[derive(Debug, thiserror::Error)]
pub enum EndpointsError {
    #[error("webhooks file {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("webhooks file {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("webhooks file {path}: endpoint[{index}].{field}: {reason}")]
    Field {
        path: PathBuf,
        index: usize,
        field: &'static str,
        reason: String,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    endpoint: Vec<Entry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    name: String,
    organisation: String,
    url: String,
    secret_file: PathBuf,
}

/// Reads the webhooks file at `path` and each endpoint's secret file.
pub fn load_endpoints(path: &Path) -> Result<Vec<Endpoint>, EndpointsError> {
    let text = std::fs::read_to_string(path).map_err(|source| EndpointsError::Read {
        path: path.to_owned(),
        source,
    })?;
    let file: File = toml::from_str(&text).map_err(|error| EndpointsError::Parse {
        path: path.to_owned(),
        message: error.to_string(),
    })?;
    let folder = path.parent().unwrap_or(Path::new("."));
    let mut endpoints: Vec<Endpoint> = Vec::with_capacity(file.endpoint.len());
    for (index, entry) in file.endpoint.into_iter().enumerate() {
        let field = |field: &'static str, reason: String| EndpointsError::Field {
            path: path.to_owned(),
            index,
            field,
            reason,
        };
        check_name(&entry.name).map_err(|reason| field("name", reason))?;
        if endpoints.iter().any(|e| e.name == entry.name) {
            return Err(field(
                "name",
                format!("{:?} names two endpoints", entry.name),
            ));
        }
        if entry.organisation.trim().is_empty() {
            return Err(field("organisation", "must not be empty".to_owned()));
        }
        check_url(&entry.url).map_err(|reason| field("url", reason))?;
        let secret_path = folder.join(&entry.secret_file);
        let secret = consent_secret_file::read_secret(&secret_path, MAX_SECRET_BYTES)
            .map_err(|error| field("secret_file", error.to_string()))?;
        let secret = secret.trim();
        if secret.len() < 16 {
            return Err(field(
                "secret_file",
                format!(
                    "{} holds a secret shorter than 16 characters",
                    secret_path.display()
                ),
            ));
        }
        endpoints.push(Endpoint {
            name: entry.name,
            organisation: entry.organisation,
            url: entry.url,
            secret: Zeroizing::new(secret.as_bytes().to_vec()),
        });
    }
    Ok(endpoints)
}

/// An endpoint name is a file name: 1 to 64 of `[A-Za-z0-9._-]`, not `.`
/// or `..`.
pub fn check_name(name: &str) -> Result<(), String> {
    let legal = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
    if name.is_empty() || name.len() > 64 || !name.chars().all(legal) || name.starts_with('.') {
        return Err(format!(
            "{name:?} must be 1 to 64 characters of [A-Za-z0-9._-], not starting with a dot"
        ));
    }
    Ok(())
}

fn check_url(url: &str) -> Result<(), String> {
    let parsed = reqwest::Url::parse(url).map_err(|error| format!("{url:?}: {error}"))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(format!("{url:?} is not an http:// or https:// URL"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn write(dir: &Path, name: &str, text: &str, mode: u32) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).expect("write");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).expect("chmod");
        path
    }

    #[test]
    fn endpoints_are_read_with_their_secrets() {
        let dir = tempfile::tempdir().expect("tempdir");
        write(dir.path(), "acme.secret", "0123456789abcdef0123\n", 0o600);
        let file = write(
            dir.path(),
            "webhooks.toml",
            "[[endpoint]]\nname = \"acme-crm\"\norganisation = \"acme\"\nurl = \"https://crm.example/hook\"\nsecret_file = \"acme.secret\"\n",
            0o644,
        );
        let endpoints = load_endpoints(&file).expect("load");
        assert_eq!(endpoints.len(), 1);
        assert_eq!(endpoints[0].name, "acme-crm");
        assert_eq!(endpoints[0].organisation, "acme");
        assert_eq!(endpoints[0].secret.as_slice(), b"0123456789abcdef0123");
        assert!(!format!("{:?}", endpoints[0]).contains("0123456789"));
    }

    #[test]
    fn a_bad_entry_is_refused_naming_its_field() {
        let dir = tempfile::tempdir().expect("tempdir");
        write(dir.path(), "ok.secret", "0123456789abcdef0123", 0o600);
        write(dir.path(), "open.secret", "0123456789abcdef0123", 0o644);
        write(dir.path(), "short.secret", "abc", 0o600);
        let cases = [
            (
                "../x",
                "https://a.example/",
                "ok.secret",
                "endpoint[0].name",
            ),
            ("a", "ftp://a.example/", "ok.secret", "endpoint[0].url"),
            ("a", "not a url", "ok.secret", "endpoint[0].url"),
            (
                "a",
                "https://a.example/",
                "open.secret",
                "endpoint[0].secret_file",
            ),
            (
                "a",
                "https://a.example/",
                "short.secret",
                "endpoint[0].secret_file",
            ),
            (
                "a",
                "https://a.example/",
                "missing.secret",
                "endpoint[0].secret_file",
            ),
        ];
        for (name, url, secret, field) in cases {
            let text = format!(
                "[[endpoint]]\nname = {name:?}\norganisation = \"acme\"\nurl = {url:?}\nsecret_file = {secret:?}\n"
            );
            let file = write(dir.path(), "webhooks.toml", &text, 0o644);
            let error = load_endpoints(&file).expect_err(field).to_string();
            assert!(error.contains(field), "{error}");
        }
        let twice = "[[endpoint]]\nname = \"a\"\norganisation = \"acme\"\nurl = \"https://a.example/\"\nsecret_file = \"ok.secret\"\n".repeat(2);
        let file = write(dir.path(), "webhooks.toml", &twice, 0o644);
        let error = load_endpoints(&file).expect_err("twice").to_string();
        assert!(error.contains("endpoint[1].name"), "{error}");
        let file = write(
            dir.path(),
            "webhooks.toml",
            "[[endpoint]]\nnom = 1\n",
            0o644,
        );
        assert!(load_endpoints(&file).is_err());
    }
}
