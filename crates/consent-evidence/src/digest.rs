//! The digests an evidence manifest signs: of notes, of the record list and
//! of JSON values in a canonical form.

use crate::merkle::Hash;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// `SHA-256(bytes)`.
pub fn sha256(bytes: &[u8]) -> Hash {
    Hash::from_bytes(Sha256::digest(bytes).into())
}

/// `SHA-256` over the records' leaf hashes, in list order. A leaf hash
/// binds a record's position and exact bytes, so this changes when a
/// record is added, dropped, reordered, moved or altered.
pub fn records_digest(leaf_hashes: &[Hash]) -> Hash {
    let mut hasher = Sha256::new();
    for leaf_hash in leaf_hashes {
        hasher.update(leaf_hash.as_bytes());
    }
    Hash::from_bytes(hasher.finalize().into())
}

/// `SHA-256` of the canonical JSON of `value` (see [`canonical_json`]).
pub fn json_digest(value: &Value) -> Hash {
    sha256(&canonical_json(value))
}

/// One byte string per JSON value, whatever its formatting or key order:
/// no white space, object keys sorted by their UTF-8 bytes, strings and
/// numbers as serde_json writes them (numbers keep their parsed form, so a
/// value read back from a bundle gives the bytes it was sealed with).
pub fn canonical_json(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical(item, out);
            }
            out.push(b']');
        }
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|(a, _), (b, _)| a.as_bytes().cmp(b.as_bytes()));
            out.push(b'{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                out.extend_from_slice(Value::String(key.clone()).to_string().as_bytes());
                out.push(b':');
                write_canonical(item, out);
            }
            out.push(b'}');
        }
        scalar => out.extend_from_slice(scalar.to_string().as_bytes()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn canonical_json_ignores_key_order_and_spacing() {
        let a: Value =
            serde_json::from_str(r#"{ "b": [1, {"y": null, "x": "é\n"}], "a": true }"#).unwrap();
        let b: Value = serde_json::from_str(r#"{"a":true,"b":[1,{"x":"é\n","y":null}]}"#).unwrap();
        assert_eq!(canonical_json(&a), canonical_json(&b));
        assert_eq!(
            String::from_utf8(canonical_json(&a)).unwrap(),
            r#"{"a":true,"b":[1,{"x":"é\n","y":null}]}"#
        );
        assert_ne!(json_digest(&a), json_digest(&json!({"a": false})));
    }
}
