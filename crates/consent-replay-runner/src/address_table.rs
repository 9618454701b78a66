//! The replay's address states on disk: an unnamed temporary file of
//! (organisation, address) -> [`AddressState`] entries, written once in
//! key order after pass 1, and a sparse index in memory: the first key
//! and the offset of every block of [`BLOCK_ENTRIES`] entries, so that
//! what the replay holds grows by a few bytes per address rather than by
//! the size of its facts (about 3 bytes an address for keys of about 90
//! bytes). A lookup is a binary search of the index and one positioned
//! read (`pread`) of the block, scanned in key order; it is safe from
//! every worker thread at once, and the file's pages stay in the kernel's
//! page cache, not in the process.
//!
//! An entry is its own length (u32 LE, these four bytes included), the
//! key's length (u32 LE), the key (the organisation, the 0x1f separator,
//! the address) and the state in postcard, the encoding the sled view
//! already uses for domain types.

use consent_domain::vocabulary::ContactValue;
use consent_domain::{AddressState, OrganisationId};
use consent_replay::AddressStates;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::os::unix::fs::FileExt;
use std::path::Path;

/// Separates the organisation from the address in a key (never part of an
/// organisation id: the routing keys use it the same way).
const SEPARATOR: u8 = consent_schema::ROUTING_KEY_SEPARATOR;

/// Entries per block of the index: a lookup reads one block (a few KiB).
pub const BLOCK_ENTRIES: usize = 32;

/// The key of `address` for `organisation`: the organisation, the
/// separator, then `c` and the value in clear or `d` and the digest's bytes
/// (the last part of the key, so it needs no escaping).
pub fn address_key(organisation: &OrganisationId, address: &ContactValue) -> Vec<u8> {
    let mut key = Vec::with_capacity(organisation.as_str().len() + 2 + 32);
    key.extend_from_slice(organisation.as_str().as_bytes());
    key.push(SEPARATOR);
    match address {
        ContactValue::Clear(value) => {
            key.push(b'c');
            key.extend_from_slice(value.as_bytes());
        }
        ContactValue::Digest(digest) => {
            key.push(b'd');
            key.extend_from_slice(digest.as_bytes());
        }
    }
    key
}

/// One block of the index: its first key and where it starts.
#[derive(Debug)]
struct Block {
    first_key: Box<[u8]>,
    offset: u64,
}

/// Writes the table, one entry per address, in ascending key order.
pub struct AddressTableWriter {
    out: BufWriter<File>,
    offset: u64,
    entries: usize,
    index: Vec<Block>,
    last_key: Vec<u8>,
}

impl AddressTableWriter {
    /// A table in an unnamed temporary file in `dir`.
    pub fn create(dir: &Path) -> std::io::Result<Self> {
        Ok(Self {
            out: BufWriter::new(tempfile::tempfile_in(dir)?),
            offset: 0,
            entries: 0,
            index: Vec::new(),
            last_key: Vec::new(),
        })
    }

    /// Adds the state of the address whose key is `key` ([`address_key`]),
    /// which must come after every key added before it.
    pub fn push(&mut self, key: &[u8], state: &AddressState) -> std::io::Result<()> {
        if self.entries > 0 && key <= self.last_key.as_slice() {
            return Err(std::io::Error::other(
                "the address table's keys must be added in ascending order",
            ));
        }
        let mut entry = Vec::with_capacity(8 + key.len() + 256);
        entry.extend_from_slice(&[0; 4]);
        entry.extend_from_slice(&length(key.len())?.to_le_bytes());
        entry.extend_from_slice(key);
        let mut entry = postcard::to_extend(state, entry).map_err(std::io::Error::other)?;
        let entry_length = length(entry.len())?;
        entry[..4].copy_from_slice(&entry_length.to_le_bytes());
        self.out.write_all(&entry)?;
        if self.entries % BLOCK_ENTRIES == 0 {
            self.index.push(Block {
                first_key: key.into(),
                offset: self.offset,
            });
        }
        self.entries += 1;
        self.offset += u64::from(entry_length);
        self.last_key.clear();
        self.last_key.extend_from_slice(key);
        Ok(())
    }

    /// The table, ready for lookups.
    pub fn finish(self) -> std::io::Result<AddressTable> {
        let file = self.out.into_inner().map_err(|e| e.into_error())?;
        let mut index = self.index;
        index.shrink_to_fit();
        Ok(AddressTable {
            file,
            index,
            entries: self.entries,
            bytes: self.offset,
        })
    }
}

fn length(n: usize) -> std::io::Result<u32> {
    u32::try_from(n).map_err(|_| std::io::Error::other("an address state of 4 GiB or more"))
}

/// The address states, looked up by (organisation, address).
#[derive(Debug)]
pub struct AddressTable {
    file: File,
    index: Vec<Block>,
    entries: usize,
    bytes: u64,
}

impl AddressTable {
    /// Addresses in the table.
    pub fn len(&self) -> usize {
        self.entries
    }

    pub fn is_empty(&self) -> bool {
        self.entries == 0
    }

    /// Bytes of the file.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    fn get(&self, key: &[u8]) -> std::io::Result<Option<AddressState>> {
        let after = self
            .index
            .partition_point(|block| block.first_key.as_ref() <= key);
        let Some(block) = after.checked_sub(1).and_then(|i| self.index.get(i)) else {
            return Ok(None);
        };
        let end = self.index.get(after).map_or(self.bytes, |next| next.offset);
        let corrupt = || std::io::Error::other("the address table's block is corrupt");
        let length = usize::try_from(end - block.offset).map_err(|_| corrupt())?;
        let mut bytes = vec![0u8; length];
        self.file.read_exact_at(&mut bytes, block.offset)?;
        let mut rest = bytes.as_slice();
        while !rest.is_empty() {
            let (word, _) = rest.split_first_chunk::<4>().ok_or_else(corrupt)?;
            let entry_length = u32::from_le_bytes(*word) as usize;
            let (entry, next) = rest.split_at_checked(entry_length).ok_or_else(corrupt)?;
            let (word, entry) = entry
                .get(4..)
                .and_then(<[u8]>::split_first_chunk::<4>)
                .ok_or_else(corrupt)?;
            let key_length = u32::from_le_bytes(*word) as usize;
            let (stored_key, state) = entry.split_at_checked(key_length).ok_or_else(corrupt)?;
            match stored_key.cmp(key) {
                std::cmp::Ordering::Less => rest = next,
                std::cmp::Ordering::Equal => {
                    return postcard::from_bytes(state)
                        .map(Some)
                        .map_err(std::io::Error::other)
                }
                std::cmp::Ordering::Greater => break,
            }
        }
        Ok(None)
    }
}

impl AddressStates for AddressTable {
    type Error = std::io::Error;

    fn address_state(
        &self,
        organisation: &OrganisationId,
        address: &ContactValue,
    ) -> std::io::Result<Option<AddressState>> {
        if self.is_empty() {
            return Ok(None);
        }
        self.get(&address_key(organisation, address))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use consent_domain::vocabulary::ContactDigest;
    use consent_domain::EventId;

    fn organisation(id: &str) -> OrganisationId {
        OrganisationId::new(id)
    }

    /// The `n`th of some digests, in key order.
    fn digest(n: u32) -> ContactValue {
        let mut bytes = [0u8; 32];
        bytes[28..].copy_from_slice(&n.to_be_bytes());
        ContactValue::Digest(ContactDigest(bytes))
    }

    #[test]
    fn every_address_written_is_found_and_no_other() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let mut writer = AddressTableWriter::create(dir.path()).expect("a table");
        let shop = organisation("shop");
        let mut states = Vec::new();
        for n in 0..500u32 {
            let mut state = AddressState::default();
            // Every 50th entry is longer than the first read of a lookup.
            let subjects = if n % 50 == 0 { 200 } else { 1 };
            for s in 0..subjects {
                state.subjects.insert(
                    EventId(uuid::Uuid::from_u128(u128::from(n) << 32 | s)),
                    consent_domain::SubjectId::new(format!("s{n}-{s}")),
                );
            }
            let key = address_key(&shop, &digest(n));
            writer.push(&key, &state).expect("written");
            states.push(state);
        }
        let table = writer.finish().expect("finished");
        assert_eq!(table.len(), 500);
        for (n, state) in (0u32..).zip(&states) {
            let found = table.address_state(&shop, &digest(n)).expect("read");
            assert_eq!(found.as_ref(), Some(state), "address {n}");
        }
        assert_eq!(
            table.address_state(&shop, &digest(500)).expect("read"),
            None
        );
        assert_eq!(
            table
                .address_state(&organisation("other"), &digest(1))
                .expect("read"),
            None,
            "another organisation's address of the same value is another key"
        );
        assert_eq!(
            table
                .address_state(&shop, &ContactValue::clear(""))
                .expect("read"),
            None,
            "a key before the first"
        );
    }

    #[test]
    fn keys_out_of_order_are_refused() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let mut writer = AddressTableWriter::create(dir.path()).expect("a table");
        let state = AddressState::default();
        writer.push(b"shop\x1fb", &state).expect("first");
        assert!(writer.push(b"shop\x1fa", &state).is_err());
        assert!(writer.push(b"shop\x1fb", &state).is_err(), "twice");
    }
}
