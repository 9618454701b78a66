//! The sparse in-memory offset index of one partition.

/// Bytes of log between two index entries at first (Kafka's
/// `index.interval.bytes`); doubled each time the index reaches its most
/// entries.
const INDEX_INTERVAL_BYTES: u64 = 4096;

/// Bytes one entry takes in memory: `(offset, position)`.
pub(super) const ENTRY_BYTES: usize = 16;

/// Fewest entries a partition's index may be limited to.
pub(super) const MIN_ENTRIES: usize = 8;

/// Maps some offsets to the file position of their frame: the first record,
/// then the first record at least one interval past the previous entry. A
/// read from any offset starts at the nearest entry at or before it and
/// walks forward at most about one interval, instead of from the start.
///
/// Memory is bounded: at most `max_entries` entries. When the index is
/// full it drops every other entry and doubles its interval, so a longer
/// log costs longer walks (about one interval each), never more memory.
///
/// Invariant: entries are strictly increasing in both offset and position,
/// and there are at most `max_entries` of them. Built during recovery at
/// open and extended by every append; never stored.
#[derive(Debug)]
pub(super) struct SparseIndex {
    entries: Vec<(u64, u64)>,
    interval: u64,
    max_entries: usize,
}

impl Default for SparseIndex {
    fn default() -> Self {
        Self::with_max_entries(usize::MAX)
    }
}

impl SparseIndex {
    /// An empty index of at most `max_entries` entries (at least
    /// [`MIN_ENTRIES`]).
    pub fn with_max_entries(max_entries: usize) -> Self {
        Self {
            entries: Vec::new(),
            interval: INDEX_INTERVAL_BYTES,
            max_entries: max_entries.max(MIN_ENTRIES),
        }
    }

    /// Notes that the frame of `offset` starts at `pos`; calls come in
    /// increasing offset order.
    pub fn note(&mut self, offset: u64, pos: u64) {
        let due = match self.entries.last() {
            None => true,
            Some(&(last_offset, last_pos)) => {
                offset > last_offset && pos >= last_pos.saturating_add(self.interval)
            }
        };
        if !due {
            return;
        }
        if self.entries.len() >= self.max_entries {
            self.thin();
        }
        self.entries.push((offset, pos));
    }

    /// Keeps every other entry (the first among them) and doubles the
    /// interval.
    fn thin(&mut self) {
        let mut keep = false;
        self.entries.retain(|_| {
            keep = !keep;
            keep
        });
        self.interval = self.interval.saturating_mul(2);
    }

    /// The indexed `(offset, position)` nearest at or before `offset`, or the
    /// start of the file.
    pub fn floor(&self, offset: u64) -> (u64, u64) {
        let after = self.entries.partition_point(|&(o, _)| o <= offset);
        match after.checked_sub(1).and_then(|i| self.entries.get(i)) {
            Some(&entry) => entry,
            None => (0, 0),
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_nearest_entry_at_or_before_an_offset() {
        let mut index = SparseIndex::default();
        // 100-byte records: an entry every 41 records.
        for offset in 0..200u64 {
            index.note(offset, offset * 100);
        }
        assert_eq!(index.floor(0), (0, 0));
        assert_eq!(index.floor(40), (0, 0));
        assert_eq!(index.floor(41), (41, 4100));
        assert_eq!(index.floor(199), (164, 16400));
        assert_eq!(index.floor(10_000), (164, 16400));
    }

    #[test]
    fn an_empty_index_points_at_the_start() {
        assert_eq!(SparseIndex::default().floor(5), (0, 0));
    }

    #[test]
    fn a_full_index_thins_out_and_stays_within_its_entries() {
        let mut index = SparseIndex::with_max_entries(MIN_ENTRIES);
        // 100-byte records over 10 MB: 2,441 entries without a bound.
        for offset in 0..100_000u64 {
            index.note(offset, offset * 100);
            assert!(index.len() <= MIN_ENTRIES);
        }
        // Every answer is still an indexed record at or before the offset,
        // and a read walks at most about one (doubled) interval from it.
        for offset in [0, 1, 41, 5_000, 99_999] {
            let (found, pos) = index.floor(offset);
            assert!(found <= offset);
            assert_eq!(pos, found * 100);
        }
        let (found, _) = index.floor(99_999);
        assert!(
            (99_999 - found) * 100 <= 2 * index.interval,
            "walks {} bytes, interval {}",
            (99_999 - found) * 100,
            index.interval
        );
    }
}
