//! The replay's address states on disk: an unnamed temporary file of
//! (organisation, address) -> [`AddressState`] entries, written once in
//! key order after pass 1, and an index in memory of 16 bytes per entry
//! (a 64-bit hash of the key and the entry's offset), so that what the
//! replay holds grows by 16 bytes per address rather than by the size of
//! its facts. A lookup is a binary search of the index and a positioned
//! read (`pread`; a second one for an entry longer than the first read),
//! safe from every worker thread at once; the file's pages stay in the
//! kernel's page cache, not in the process.
//!
//! An entry is its own length (u32 LE, these four bytes included), the
//! key's length (u32 LE), the key (the organisation, the 0x1f separator,
//! the address) and the state in postcard, the encoding the sled view
//! already uses for domain types.

use consent_domain::{AddressState, OrganisationId};
use consent_replay::AddressStates;
use std::fs::File;
use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
use std::io::{BufWriter, Write};
use std::os::unix::fs::FileExt;
use std::path::Path;

/// Separates the organisation from the address in a key (never part of an
/// organisation id: the routing keys use it the same way).
const SEPARATOR: u8 = consent_schema::ROUTING_KEY_SEPARATOR;

/// The key of `address` for `organisation`.
pub fn address_key(organisation: &OrganisationId, address: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(organisation.as_str().len() + 1 + address.len());
    key.extend_from_slice(organisation.as_str().as_bytes());
    key.push(SEPARATOR);
    key.extend_from_slice(address.as_bytes());
    key
}

fn hash(key: &[u8]) -> u64 {
    // SipHash with fixed keys: the same hash for the same key within the
    // process, which is all the index needs.
    BuildHasherDefault::<DefaultHasher>::default().hash_one(key)
}

/// One entry of the index.
#[derive(Clone, Copy, Debug)]
struct Slot {
    hash: u64,
    offset: u64,
}

/// Bytes read at an entry's offset first: most entries fit.
const FIRST_READ: usize = 1024;

/// Writes the table, one entry per address.
pub struct AddressTableWriter {
    out: BufWriter<File>,
    offset: u64,
    index: Vec<Slot>,
}

impl AddressTableWriter {
    /// A table in an unnamed temporary file in `dir`.
    pub fn create(dir: &Path) -> std::io::Result<Self> {
        Ok(Self {
            out: BufWriter::new(tempfile::tempfile_in(dir)?),
            offset: 0,
            index: Vec::new(),
        })
    }

    /// Adds the state of the address whose key is `key` ([`address_key`]).
    pub fn push(&mut self, key: &[u8], state: &AddressState) -> std::io::Result<()> {
        let mut entry = Vec::with_capacity(8 + key.len() + 256);
        entry.extend_from_slice(&[0; 4]);
        entry.extend_from_slice(&length(key.len())?.to_le_bytes());
        entry.extend_from_slice(key);
        let mut entry = postcard::to_extend(state, entry).map_err(std::io::Error::other)?;
        let entry_length = length(entry.len())?;
        entry[..4].copy_from_slice(&entry_length.to_le_bytes());
        self.out.write_all(&entry)?;
        self.index.push(Slot {
            hash: hash(key),
            offset: self.offset,
        });
        self.offset += u64::from(entry_length);
        Ok(())
    }

    /// The table, ready for lookups.
    pub fn finish(self) -> std::io::Result<AddressTable> {
        let file = self.out.into_inner().map_err(|e| e.into_error())?;
        let mut index = self.index;
        index.sort_unstable_by_key(|slot| (slot.hash, slot.offset));
        index.shrink_to_fit();
        Ok(AddressTable {
            file,
            index,
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
    index: Vec<Slot>,
    bytes: u64,
}

impl AddressTable {
    /// Addresses in the table.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// Bytes of the file.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    fn get(&self, key: &[u8]) -> std::io::Result<Option<AddressState>> {
        let hash = hash(key);
        let first = self.index.partition_point(|slot| slot.hash < hash);
        let corrupt = || std::io::Error::other("the address table's entry is corrupt");
        for slot in self.index[first..].iter().take_while(|s| s.hash == hash) {
            let available = usize::try_from(self.bytes - slot.offset).unwrap_or(usize::MAX);
            let mut entry = vec![0u8; FIRST_READ.min(available)];
            self.file.read_exact_at(&mut entry, slot.offset)?;
            let (word, _) = entry.split_first_chunk::<4>().ok_or_else(corrupt)?;
            let entry_length = u32::from_le_bytes(*word) as usize;
            if entry_length < 8 || entry_length > available {
                return Err(corrupt());
            }
            if entry_length > entry.len() {
                let read = entry.len();
                entry.resize(entry_length, 0);
                self.file
                    .read_exact_at(&mut entry[read..], slot.offset + read as u64)?;
            }
            entry.truncate(entry_length);
            let (word, rest) = entry[4..].split_first_chunk::<4>().ok_or_else(corrupt)?;
            let key_length = u32::from_le_bytes(*word) as usize;
            let (stored_key, state) = rest.split_at_checked(key_length).ok_or_else(corrupt)?;
            if stored_key == key {
                return postcard::from_bytes(state)
                    .map(Some)
                    .map_err(std::io::Error::other);
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
        address: &str,
    ) -> std::io::Result<Option<AddressState>> {
        if self.index.is_empty() {
            return Ok(None);
        }
        self.get(&address_key(organisation, address))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use consent_domain::EventId;

    fn organisation(id: &str) -> OrganisationId {
        OrganisationId::new(id)
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
            let key = address_key(&shop, &format!("digest:{n:064x}"));
            writer.push(&key, &state).expect("written");
            states.push(state);
        }
        let table = writer.finish().expect("finished");
        assert_eq!(table.len(), 500);
        for (n, state) in states.iter().enumerate() {
            let found = table
                .address_state(&shop, &format!("digest:{n:064x}"))
                .expect("read");
            assert_eq!(found.as_ref(), Some(state), "address {n}");
        }
        assert_eq!(
            table
                .address_state(&shop, &format!("digest:{:064x}", 500))
                .expect("read"),
            None
        );
        assert_eq!(
            table
                .address_state(&organisation("other"), &format!("digest:{:064x}", 1))
                .expect("read"),
            None,
            "another organisation's address of the same value is another key"
        );
    }
}
