//! The generated envelopes as NDJSON: one proto3 JSON envelope per line,
//! as `consent-ledger append` and `POST /v1/events` read them.

use crate::Generator;
use consent_schema::v1;
use std::io::{self, Write};

/// One envelope as a line of proto3 JSON (no newline).
pub fn ndjson_line(envelope: &v1::Envelope) -> String {
    // The pbjson impls serialise every message; a failure would be a bug
    // in them, and the line says so rather than panic.
    serde_json::to_string(envelope)
        .unwrap_or_else(|error| format!("{{\"error\":\"cannot serialise: {error}\"}}"))
}

/// Writes every envelope of `generator` to `out`, one per line, calling
/// `progress` with the count written every 10,000 lines and at the end.
/// Returns the number of lines written.
pub fn write_ndjson(
    generator: Generator,
    out: &mut dyn Write,
    progress: &mut dyn FnMut(u64),
) -> io::Result<u64> {
    let mut written = 0u64;
    for envelope in generator {
        serde_json::to_writer(&mut *out, &envelope).map_err(io::Error::other)?;
        out.write_all(b"\n")?;
        written += 1;
        if written % 10_000 == 0 {
            progress(written);
        }
    }
    progress(written);
    Ok(written)
}
