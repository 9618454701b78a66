//! An external sort of log records by key, in bounded memory: records are
//! gathered into a run of at most `run_bytes`; a full run is sorted and
//! written to an unnamed temporary file; at the end the runs are merged
//! k-way (a binary heap over one buffered reader per run).
//!
//! Written here rather than taken from a crate: the records carry their
//! log position and exact bytes through the sort, the runs must be
//! unnamed files (`tempfile::tempfile_in`: gone when dropped, even after a
//! crash), and the whole of it is the short module below. The `extsort`
//! crate sorts an iterator of its own `Sortable` items, which would mean
//! an encoding trait and an input iterator driven from the log reader,
//! for no less code.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// Bytes a record costs in a run beyond its key and payload (its two
/// allocations and fixed fields), so that many small records still fill
/// a run.
const RECORD_OVERHEAD: usize = 64;

/// Buffer of each run's reader during the merge.
const RUN_READ_BUFFER: usize = 16 * 1024;

/// Runs merged at once, at most: as runs of one size accumulate, every
/// `MAX_FAN_IN` of them are merged into one run of the next size, so a
/// sort holds at most `MAX_FAN_IN` files (and read buffers) per size,
/// whatever the input's length (each record is rewritten once per size:
/// twice for 4,000 runs).
pub const MAX_FAN_IN: usize = 64;

/// A log record as the sort carries it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SortRecord {
    /// The grouping key (the routing key of the record's subject).
    pub key: Vec<u8>,
    /// Index of the record's topic in the layout's topic list.
    pub topic: u8,
    pub partition: u32,
    pub offset: u64,
    pub payload: Vec<u8>,
}

impl SortRecord {
    fn order(&self) -> (&[u8], u8, u32, u64) {
        (&self.key, self.topic, self.partition, self.offset)
    }

    fn size(&self) -> usize {
        self.key.len() + self.payload.len() + RECORD_OVERHEAD
    }

    /// Appends the record's encoding: key length (u32 LE), key, topic,
    /// partition (u32 LE), offset (u64 LE), payload length (u32 LE),
    /// payload.
    pub fn write_to(&self, out: &mut impl Write) -> std::io::Result<()> {
        out.write_all(&length(self.key.len())?.to_le_bytes())?;
        out.write_all(&self.key)?;
        out.write_all(&[self.topic])?;
        out.write_all(&self.partition.to_le_bytes())?;
        out.write_all(&self.offset.to_le_bytes())?;
        out.write_all(&length(self.payload.len())?.to_le_bytes())?;
        out.write_all(&self.payload)
    }

    /// Reads one record written by [`SortRecord::write_to`]; `None` at
    /// the end of the input.
    pub fn read_from(input: &mut impl Read) -> std::io::Result<Option<SortRecord>> {
        let mut word = [0u8; 4];
        match input.read_exact(&mut word) {
            Ok(()) => {}
            Err(error) if error.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
            Err(error) => return Err(error),
        }
        let mut key = vec![0u8; u32::from_le_bytes(word) as usize];
        input.read_exact(&mut key)?;
        let mut topic = [0u8; 1];
        input.read_exact(&mut topic)?;
        input.read_exact(&mut word)?;
        let partition = u32::from_le_bytes(word);
        let mut long = [0u8; 8];
        input.read_exact(&mut long)?;
        let offset = u64::from_le_bytes(long);
        input.read_exact(&mut word)?;
        let mut payload = vec![0u8; u32::from_le_bytes(word) as usize];
        input.read_exact(&mut payload)?;
        Ok(Some(SortRecord {
            key,
            topic: topic[0],
            partition,
            offset,
            payload,
        }))
    }
}

fn length(n: usize) -> std::io::Result<u32> {
    u32::try_from(n).map_err(|_| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "a record of 4 GiB or more cannot be sorted",
        )
    })
}

/// Sorts records by (key, position) in at most `run_bytes` of memory
/// (plus one read buffer per run while merging).
pub struct ExternalSort {
    dir: PathBuf,
    run_bytes: usize,
    fan_in: usize,
    run: Vec<SortRecord>,
    filled: usize,
    /// Sorted runs on disk with their size (0: spilled from memory, n:
    /// merged from `fan_in` runs of size n - 1), in the order written: the
    /// sizes never grow towards the end.
    runs: Vec<(u32, File)>,
    spilled_bytes: u64,
}

impl ExternalSort {
    /// A sort whose runs go to unnamed files in `dir`.
    pub fn new(dir: &Path, run_bytes: usize) -> Self {
        Self {
            dir: dir.to_owned(),
            run_bytes: run_bytes.max(1),
            fan_in: MAX_FAN_IN,
            run: Vec::new(),
            filled: 0,
            runs: Vec::new(),
            spilled_bytes: 0,
        }
    }

    /// Merges at most `fan_in` runs at once (at least 2).
    pub fn with_fan_in(mut self, fan_in: usize) -> Self {
        self.fan_in = fan_in.max(2);
        self
    }

    pub fn push(&mut self, record: SortRecord) -> std::io::Result<()> {
        self.filled += record.size();
        self.run.push(record);
        if self.filled >= self.run_bytes {
            self.spill()?;
        }
        Ok(())
    }

    /// Bytes written to run files so far (runs merged into longer runs
    /// count again).
    pub fn spilled_bytes(&self) -> u64 {
        self.spilled_bytes
    }

    fn spill(&mut self) -> std::io::Result<()> {
        if self.run.is_empty() {
            return Ok(());
        }
        self.run.sort_unstable_by(|a, b| a.order().cmp(&b.order()));
        let file = tempfile::tempfile_in(&self.dir)?;
        let mut out = BufWriter::with_capacity(RUN_READ_BUFFER, file);
        for record in self.run.drain(..) {
            self.spilled_bytes += record.size() as u64;
            record.write_to(&mut out)?;
        }
        let mut file = out.into_inner().map_err(|e| e.into_error())?;
        file.seek(SeekFrom::Start(0))?;
        self.runs.push((0, file));
        self.filled = 0;
        // Give the run's memory back rather than keep its capacity.
        self.run = Vec::new();
        self.compact()
    }

    /// While the last `fan_in` runs are of one size, merges them into one
    /// run of the next size (a counter in base `fan_in`).
    fn compact(&mut self) -> std::io::Result<()> {
        loop {
            let Some(&(size, _)) = self.runs.last() else {
                return Ok(());
            };
            let same = self
                .runs
                .iter()
                .rev()
                .take_while(|(s, _)| *s == size)
                .count();
            if same < self.fan_in {
                return Ok(());
            }
            let group: Vec<File> = self
                .runs
                .split_off(self.runs.len() - same)
                .into_iter()
                .map(|(_, file)| file)
                .collect();
            let file = tempfile::tempfile_in(&self.dir)?;
            let mut out = BufWriter::with_capacity(RUN_READ_BUFFER, file);
            for record in merge(group)? {
                let record = record?;
                self.spilled_bytes += record.size() as u64;
                record.write_to(&mut out)?;
            }
            let mut file = out.into_inner().map_err(|e| e.into_error())?;
            file.seek(SeekFrom::Start(0))?;
            self.runs.push((size + 1, file));
        }
    }

    /// Every record pushed, in (key, position) order.
    pub fn finish(mut self) -> std::io::Result<Sorted> {
        if self.runs.is_empty() {
            self.run.sort_unstable_by(|a, b| a.order().cmp(&b.order()));
            return Ok(Sorted(Source::InMemory(self.run.into_iter())));
        }
        self.spill()?;
        merge(self.runs.into_iter().map(|(_, file)| file).collect())
    }
}

/// The records of sorted `runs`, merged in (key, position) order.
fn merge(runs: Vec<File>) -> std::io::Result<Sorted> {
    let mut readers: Vec<BufReader<File>> = runs
        .into_iter()
        .map(|file| BufReader::with_capacity(RUN_READ_BUFFER, file))
        .collect();
    let mut heap = BinaryHeap::with_capacity(readers.len());
    for (run, reader) in readers.iter_mut().enumerate() {
        if let Some(record) = SortRecord::read_from(reader)? {
            heap.push(Reverse(Head { record, run }));
        }
    }
    Ok(Sorted(Source::Merged { readers, heap }))
}

/// The next record of one run, ordered for the merge.
struct Head {
    record: SortRecord,
    run: usize,
}

impl PartialEq for Head {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Head {}
impl PartialOrd for Head {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Head {
    fn cmp(&self, other: &Self) -> Ordering {
        self.record
            .order()
            .cmp(&other.record.order())
            .then(self.run.cmp(&other.run))
    }
}

/// The sorted records: from memory when they fitted in one run, else
/// merged from the run files.
pub struct Sorted(Source);

enum Source {
    InMemory(std::vec::IntoIter<SortRecord>),
    Merged {
        readers: Vec<BufReader<File>>,
        heap: BinaryHeap<Reverse<Head>>,
    },
}

impl Iterator for Sorted {
    type Item = std::io::Result<SortRecord>;

    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.0 {
            Source::InMemory(records) => records.next().map(Ok),
            Source::Merged { readers, heap } => {
                let Reverse(Head { record, run }) = heap.pop()?;
                match SortRecord::read_from(&mut readers[run]) {
                    Ok(Some(next)) => heap.push(Reverse(Head { record: next, run })),
                    Ok(None) => {}
                    Err(error) => return Some(Err(error)),
                }
                Some(Ok(record))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn record(key: u8, offset: u64, size: usize) -> SortRecord {
        SortRecord {
            key: vec![b'k', key],
            topic: (offset % 3) as u8,
            partition: 1,
            offset,
            payload: vec![key; size],
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]

        /// Whatever the run size (one run in memory, or many on disk) and
        /// however many runs are merged at once (runs merged into longer
        /// runs first), the output is every record pushed, in (key,
        /// position) order.
        #[test]
        fn sorts_every_record_whatever_the_run_size(
            keys in proptest::collection::vec((0u8..20, 0usize..300), 0..400),
            run_bytes in prop_oneof![Just(1usize), 100usize..5_000, Just(usize::MAX)],
            fan_in in prop_oneof![Just(2usize), 3usize..6, Just(MAX_FAN_IN)],
        ) {
            let dir = tempfile::tempdir().unwrap();
            let mut sort = ExternalSort::new(dir.path(), run_bytes).with_fan_in(fan_in);
            let mut expected = Vec::new();
            for (offset, (key, size)) in keys.into_iter().enumerate() {
                let r = record(key, offset as u64, size);
                expected.push(r.clone());
                sort.push(r).unwrap();
            }
            expected.sort_by(|a, b| a.order().cmp(&b.order()));
            let sorted: Vec<SortRecord> = sort.finish().unwrap().map(Result::unwrap).collect();
            prop_assert_eq!(sorted, expected);
        }
    }
}
