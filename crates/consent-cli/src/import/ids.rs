//! Deterministic event ids for imports: the same source row is the same
//! fact, so importing it again appends nothing (docs/OPERATIONS.md,
//! "Imports").

use sha2::{Digest, Sha256};

/// A UUIDv8 made of the first 128 bits of a SHA-256 over a domain tag,
/// the import `kind` (`append`, `sendgrid`, `tps-listing`, ...) and each of
/// `parts`, each length-prefixed so that no two lists of parts hash alike.
pub fn derived_id(kind: &str, parts: &[&[u8]]) -> String {
    let mut hash = Sha256::new();
    hash.update(b"consent-ledger import v1\0");
    for part in std::iter::once(kind.as_bytes()).chain(parts.iter().copied()) {
        hash.update((part.len() as u64).to_be_bytes());
        hash.update(part);
    }
    let digest = hash.finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes)
        .into_uuid()
        .to_string()
}

/// The hex SHA-256 of a file's bytes: what identifies a TPS/CTPS file.
pub fn file_sha256(path: &std::path::Path) -> anyhow::Result<String> {
    use anyhow::Context;
    use std::io::Read;
    let mut file =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut hash = Sha256::new();
    let mut buffer = vec![0u8; 1 << 16];
    loop {
        let read = file
            .read(&mut buffer)
            .with_context(|| format!("reading {}", path.display()))?;
        if read == 0 {
            break;
        }
        hash.update(&buffer[..read]);
    }
    Ok(hex::encode(hash.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_parts_give_the_same_id_and_any_difference_another() {
        let a = derived_id("sendgrid", &[b"acme", b"jo@example.com"]);
        assert_eq!(a, derived_id("sendgrid", &[b"acme", b"jo@example.com"]));
        assert_ne!(a, derived_id("mailchimp", &[b"acme", b"jo@example.com"]));
        // Length prefixes: moving a byte between parts changes the id.
        assert_ne!(
            derived_id("x", &[b"ab", b"c"]),
            derived_id("x", &[b"a", b"bc"])
        );
        assert!(uuid::Uuid::parse_str(&a).is_ok());
    }
}
