//! The stored bytes of an envelope: protobuf binary encoding (prost).
//!
//! Stored bytes are never rewritten; readers decode, then upcast and
//! validate with [`crate::event_from_proto`].

use crate::error::DecodeError;
use crate::v1;
use prost::Message;

pub fn encode_envelope(envelope: &v1::Envelope) -> Vec<u8> {
    envelope.encode_to_vec()
}

/// Decodes stored bytes. Any input gives a value or an error, never a panic.
pub fn decode_envelope(bytes: &[u8]) -> Result<v1::Envelope, DecodeError> {
    Ok(v1::Envelope::decode(bytes)?)
}
