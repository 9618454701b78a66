//! The sparse in-memory offset index of one partition.

/// Bytes of log between two index entries (Kafka's `index.interval.bytes`).
const INDEX_INTERVAL_BYTES: u64 = 4096;

/// Maps some offsets to the file position of their frame: the first record,
/// then the first record at least [`INDEX_INTERVAL_BYTES`] past the previous
/// entry. A read from any offset starts at the nearest entry at or before it
/// and walks forward at most about one interval, instead of from the start.
///
/// Invariant: entries are strictly increasing in both offset and position.
/// Built during recovery at open and extended by every append; never stored.
#[derive(Debug, Default)]
pub(super) struct SparseIndex {
    entries: Vec<(u64, u64)>,
}

impl SparseIndex {
    /// Notes that the frame of `offset` starts at `pos`; calls come in
    /// increasing offset order.
    pub fn note(&mut self, offset: u64, pos: u64) {
        let due = match self.entries.last() {
            None => true,
            Some(&(last_offset, last_pos)) => {
                offset > last_offset && pos >= last_pos.saturating_add(INDEX_INTERVAL_BYTES)
            }
        };
        if due {
            self.entries.push((offset, pos));
        }
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
}
