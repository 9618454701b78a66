//! Decoded states kept in memory between reads, keyed by their sled key.
//!
//! A check reads one organisation's and one subject's state; decoding them
//! (postcard, every fact of the state) cost more than the two sled gets. A
//! [`StateCache`] keeps the decoded values behind [`Arc`]s, so a repeated
//! read is a hash lookup. It never serves a value older than the tree:
//!
//! * [`SledStore::apply`](crate::SledStore) calls [`StateCache::written`]
//!   for every key it writes, after the batch is in the tree: an entry
//!   that was cached is replaced by the new value (a key that was not
//!   cached is not added, so the projector's writes do not evict what
//!   checks read), and the key's shard moves to a new generation;
//! * a reader that loaded a value from the tree caches it only if its
//!   shard is still in the generation it saw before loading, so a load
//!   that raced with a write is returned but not kept.
//!
//! The cache is bounded by the encoded size of what it holds (a stand-in
//! for its memory); a full shard forgets its oldest entries first.

use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasher, RandomState};
use std::sync::{Arc, PoisonError, RwLock, RwLockWriteGuard};

/// Shards, each with its own lock, so concurrent readers rarely meet.
const SHARDS: usize = 16;

/// A cached value: present (with its encoded size) or known absent.
type Entry<V> = (Option<Arc<V>>, usize);

/// A bounded, sharded map from sled keys to decoded values.
pub(crate) struct StateCache<V> {
    shards: Box<[RwLock<Shard<V>>]>,
    hasher: RandomState,
    /// Encoded bytes each shard may hold.
    shard_budget: usize,
}

struct Shard<V> {
    /// Moves on at every write to a key of the shard.
    generation: u64,
    entries: HashMap<Vec<u8>, Entry<V>>,
    /// Keys in the order they were cached (the oldest is forgotten first).
    /// May name keys no longer cached; those are skipped.
    order: VecDeque<Vec<u8>>,
    /// Encoded bytes of `entries`.
    bytes: usize,
}

impl<V> Default for Shard<V> {
    fn default() -> Self {
        Self {
            generation: 0,
            entries: HashMap::new(),
            order: VecDeque::new(),
            bytes: 0,
        }
    }
}

/// What a known-absent key counts against the budget.
const ABSENT_BYTES: usize = 1;

impl<V> StateCache<V> {
    /// A cache holding up to about `budget` encoded bytes.
    pub(crate) fn new(budget: usize) -> Self {
        Self {
            shards: (0..SHARDS).map(|_| RwLock::default()).collect(),
            hasher: RandomState::new(),
            shard_budget: (budget / SHARDS).max(1),
        }
    }

    /// The value of `key`: cached, or loaded by `load` (which returns the
    /// decoded value and its encoded size) and cached if no write to the
    /// key's shard happened meanwhile.
    pub(crate) fn get_or_load<E>(
        &self,
        key: &[u8],
        load: impl FnOnce() -> Result<Option<(V, usize)>, E>,
    ) -> Result<Option<Arc<V>>, E> {
        let shard = self.shard(key);
        let generation = {
            let shard = shard.read().unwrap_or_else(PoisonError::into_inner);
            if let Some((value, _)) = shard.entries.get(key) {
                return Ok(value.clone());
            }
            shard.generation
        };
        let (value, bytes) = match load()? {
            Some((value, bytes)) => (Some(Arc::new(value)), bytes),
            None => (None, ABSENT_BYTES),
        };
        let mut shard = write(shard);
        if shard.generation == generation && !shard.entries.contains_key(key) {
            shard.bytes += bytes;
            shard.entries.insert(key.to_vec(), (value.clone(), bytes));
            shard.order.push_back(key.to_vec());
            shard.evict_beyond(self.shard_budget);
        }
        Ok(value)
    }

    /// `key` was written to the tree with `value` (encoded in `bytes`), or
    /// the write failed (`None`: forget the key, its state is unknown).
    pub(crate) fn written(&self, key: &[u8], value: Option<(V, usize)>) {
        let mut shard = write(self.shard(key));
        shard.generation += 1;
        let Some((cached, cached_bytes)) = shard.entries.get_mut(key) else {
            return;
        };
        let old_bytes = *cached_bytes;
        match value {
            Some((value, bytes)) => {
                *cached = Some(Arc::new(value));
                *cached_bytes = bytes;
                shard.bytes = shard.bytes - old_bytes + bytes;
                shard.evict_beyond(self.shard_budget);
            }
            None => {
                shard.entries.remove(key);
                shard.bytes -= old_bytes;
            }
        }
    }

    /// Forgets everything (after writes the cache cannot follow, such as a
    /// clear of the tree).
    pub(crate) fn clear(&self) {
        for shard in &self.shards {
            let mut shard = write(shard);
            shard.generation += 1;
            shard.entries.clear();
            shard.order.clear();
            shard.bytes = 0;
        }
    }

    fn shard(&self, key: &[u8]) -> &RwLock<Shard<V>> {
        let index = usize::try_from(self.hasher.hash_one(key) % SHARDS as u64).unwrap_or(0);
        &self.shards[index]
    }
}

impl<V> Shard<V> {
    /// Forgets the oldest entries until the shard holds at most `budget`
    /// bytes (the newest entry stays, whatever its size).
    fn evict_beyond(&mut self, budget: usize) {
        while self.bytes > budget && self.entries.len() > 1 {
            let Some(oldest) = self.order.pop_front() else {
                return;
            };
            if let Some((_, bytes)) = self.entries.remove(&oldest) {
                self.bytes -= bytes;
            }
        }
        // Keys forgotten by a failed write stay in `order`; drop them once
        // they are most of it.
        if self.order.len() > 2 * self.entries.len() + SHARDS {
            let entries = &self.entries;
            self.order.retain(|key| entries.contains_key(key));
        }
    }
}

fn write<V>(shard: &RwLock<Shard<V>>) -> RwLockWriteGuard<'_, Shard<V>> {
    // A panic while holding the lock leaves at worst a stale byte count,
    // never a value the tree does not hold.
    shard.write().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::convert::Infallible;

    fn load(value: &'static str) -> Result<Option<(String, usize)>, Infallible> {
        Ok(Some((value.to_owned(), value.len())))
    }

    fn get(cache: &StateCache<String>, key: &str) -> Option<String> {
        cache
            .get_or_load(key.as_bytes(), || load("loaded"))
            .expect("infallible")
            .map(|value| (*value).clone())
    }

    #[test]
    fn a_cached_value_is_served_until_its_key_is_written() {
        let cache = StateCache::new(1 << 20);
        assert_eq!(get(&cache, "k"), Some("loaded".into()));
        let again = cache.get_or_load(b"k", || load("not read"));
        assert_eq!(
            again.expect("infallible").as_deref(),
            Some(&"loaded".into())
        );
        cache.written(b"k", Some(("new".to_owned(), 3)));
        assert_eq!(get(&cache, "k"), Some("new".into()));
        cache.written(b"k", None);
        assert_eq!(
            get(&cache, "k"),
            Some("loaded".into()),
            "forgotten: read again"
        );
    }

    #[test]
    fn a_write_does_not_add_a_key_that_was_not_cached() {
        let cache = StateCache::new(1 << 20);
        cache.written(b"k", Some(("written".to_owned(), 7)));
        assert_eq!(get(&cache, "k"), Some("loaded".into()));
    }

    #[test]
    fn a_load_that_raced_with_a_write_is_returned_but_not_kept() {
        let cache = StateCache::new(1 << 20);
        let raced = cache.get_or_load(b"k", || {
            cache.written(b"k", Some(("newer".to_owned(), 5)));
            load("older")
        });
        assert_eq!(raced.expect("infallible").as_deref(), Some(&"older".into()));
        assert_eq!(get(&cache, "k"), Some("loaded".into()), "not cached");
    }

    #[test]
    fn a_known_absent_key_is_cached_as_absent() {
        let cache: StateCache<String> = StateCache::new(1 << 20);
        let absent = cache.get_or_load(b"k", || Ok::<_, Infallible>(None));
        assert_eq!(absent.expect("infallible"), None);
        assert_eq!(get(&cache, "k"), None);
    }

    #[test]
    fn a_full_shard_forgets_its_oldest_entries() {
        // One shard's budget is 10 bytes: at most one 6-byte value.
        let cache = StateCache::new(10 * SHARDS);
        let keys: Vec<String> = (0..200).map(|i| format!("key-{i}")).collect();
        for key in &keys {
            get(&cache, key);
        }
        for shard in cache.shards.iter() {
            let shard = shard.read().expect("not poisoned");
            assert!(shard.bytes <= 10, "{} bytes", shard.bytes);
            assert_eq!(shard.bytes, 6 * shard.entries.len());
        }
        let newest = keys.last().expect("keys");
        let reloaded = cache.get_or_load(newest.as_bytes(), || load("reloaded"));
        assert_eq!(
            reloaded.expect("infallible").as_deref(),
            Some(&"loaded".into()),
            "the newest entry is kept"
        );
    }
}
