//! How subject, organisation and address states are stored: the zstd frame of their
//! postcard bytes.
//!
//! Why: a state is rewritten whole on every batch that touches it, and
//! sled 0.34 clones the leaf page (up to 16 entries) of every key it
//! updates and logs the new value, so both projection time and disk grow
//! with the bytes of the states next to it. A state repeats itself (the
//! topic name in every fact's position, organisation and collector names,
//! channel and purpose lists), and compresses well. sled's own page
//! compression cannot be linked (its `zstd-sys` 1.6 conflicts with
//! rdkafka's 2.x); this uses the workspace's `zstd` 0.13, on that same
//! `zstd-sys` 2.x.
//!
//! Level 1: the fastest; a state is a few hundred bytes, which the fold
//! reads once per batch and a check reads on a cache miss.

use crate::keys;
use consent_store::StoreError;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::cell::RefCell;
use zstd::bulk::{Compressor, Decompressor};

/// zstd's fastest level.
const LEVEL: i32 = 1;

/// The largest decoded state accepted: a frame claiming more is corrupt
/// (a real state is kilobytes; this bounds the allocation a damaged value
/// can ask for).
const MAX_DECODED: u64 = 64 << 20;

thread_local! {
    // zstd contexts are large to create (tens to hundreds of KiB), and
    // states are small: one context per thread, made on first use, keeps
    // that cost out of every read and write.
    static COMPRESSOR: RefCell<Option<Compressor<'static>>> = const { RefCell::new(None) };
    static DECOMPRESSOR: RefCell<Option<Decompressor<'static>>> = const { RefCell::new(None) };
}

/// The stored bytes of `state`, and the size of its postcard bytes (what
/// the state caches count, so that their bound in memory does not grow
/// with the compression ratio).
pub fn encode<T: Serialize>(state: &T) -> Result<(Vec<u8>, usize), StoreError> {
    let plain = postcard_bytes(state)?;
    compress(&plain).map(|stored| (stored, plain.len()))
}

/// The zstd frame (level [`LEVEL`], naming its decoded size) of `plain`.
pub fn compress(plain: &[u8]) -> Result<Vec<u8>, StoreError> {
    let failed = |error: String| StoreError::Engine(format!("compressing a value failed: {error}"));
    COMPRESSOR.with(|cell| {
        let mut slot = cell.borrow_mut();
        let compressor = match slot.as_mut() {
            Some(compressor) => compressor,
            None => slot.insert(Compressor::new(LEVEL).map_err(|e| failed(e.to_string()))?),
        };
        compressor
            .compress(plain)
            .map_err(|error| failed(error.to_string()))
    })
}

/// The postcard bytes of `state`: what a stored state's zstd frame holds,
/// and what [`crate::VIEW_FORMAT_VERSION`] versions (the golden test in
/// `golden.rs` hashes them; zstd's own bytes are not part of the format,
/// since any frame decodes).
pub fn postcard_bytes<T: Serialize>(state: &T) -> Result<Vec<u8>, StoreError> {
    postcard::to_stdvec(state)
        .map_err(|error| StoreError::Engine(format!("encoding a state failed: {error}")))
}

/// The state stored as `bytes` at `key`, and the size of its postcard
/// bytes.
pub fn decode<T: DeserializeOwned>(key: &[u8], bytes: &[u8]) -> Result<(T, usize), StoreError> {
    let plain = decompress(key, bytes)?;
    let state = postcard::from_bytes(&plain).map_err(|error| StoreError::Corrupt {
        key: keys::display(key),
        reason: error.to_string(),
    })?;
    Ok((state, plain.len()))
}

/// The bytes of the zstd frame stored as `bytes` at `key`.
pub fn decompress(key: &[u8], bytes: &[u8]) -> Result<Vec<u8>, StoreError> {
    let corrupt = |reason: String| StoreError::Corrupt {
        key: keys::display(key),
        reason,
    };
    // The frame names its decoded size (the compressor writes it); that
    // size, bounded, is the only allocation made.
    let size = match zstd::zstd_safe::get_frame_content_size(bytes) {
        Ok(Some(size)) if size <= MAX_DECODED => size,
        Ok(Some(size)) => return Err(corrupt(format!("a value of {size} bytes is too large"))),
        Ok(None) | Err(_) => {
            return Err(corrupt(
                "a stored value is a zstd frame naming its size".to_owned(),
            ))
        }
    };
    let capacity = usize::try_from(size).map_err(|e| corrupt(e.to_string()))?;
    DECOMPRESSOR.with(|cell| {
        let mut slot = cell.borrow_mut();
        let decompressor = match slot.as_mut() {
            Some(decompressor) => decompressor,
            None => slot.insert(
                Decompressor::new()
                    .map_err(|e| StoreError::Engine(format!("zstd context: {e}")))?,
            ),
        };
        decompressor
            .decompress(bytes, capacity)
            .map_err(|error| corrupt(format!("a stored value is a zstd frame: {error}")))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use consent_domain::SubjectState;

    #[test]
    fn a_state_round_trips() {
        let state = SubjectState::default();
        let (bytes, plain) = encode(&state).expect("encode");
        let (decoded, size) = decode::<SubjectState>(b"S", &bytes).expect("decode");
        assert_eq!((decoded, size), (state, plain));
    }

    #[test]
    fn bytes_that_are_not_a_frame_are_corrupt() {
        match decode::<SubjectState>(b"Sx", &[0xff, 0xff, 0xff]) {
            Err(StoreError::Corrupt { key, .. }) => assert_eq!(key, "Sx"),
            other => panic!("expected corrupt, got {other:?}"),
        }
    }
}
