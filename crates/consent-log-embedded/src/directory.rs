//! The log's data directory: exclusive lock, stored layout, file names.

use consent_log::LogError;
use consent_log::LogLayout;
use consent_log::TopicPartition;
use serde::{Deserialize, Serialize};
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The most partitions per topic the embedded log accepts: every partition
/// keeps a file open, and one machine's descriptor limit is finite.
pub const MAX_PARTITIONS: u32 = 1024;

const LOCK_FILE: &str = "LOCK";
const LAYOUT_FILE: &str = "layout.json";
const PARTITIONS_DIR: &str = "partitions";
const LAYOUT_FORMAT: u32 = 1;

/// `layout.json`: the layout the directory was created with.
#[derive(Debug, Serialize, Deserialize)]
struct StoredLayout {
    format: u32,
    layout: StoredLayoutFields,
}

/// What of a [`LogLayout`] the directory keeps: the prefix and partition
/// count, which can never change under stored records. The topics are
/// not kept: a topic the layout names that has no files yet gets them.
#[derive(Debug, Serialize, Deserialize)]
struct StoredLayoutFields {
    topic_prefix: String,
    partitions: u32,
}

/// An open data directory. Holds an exclusive advisory lock on `LOCK` for
/// its lifetime, so two logs (in this or another process) never append to
/// the same files.
#[derive(Debug)]
pub(super) struct DataDir {
    root: PathBuf,
    _lock: File,
}

impl DataDir {
    /// Creates or opens `root` for `layout`: validates the layout, takes the
    /// lock, and stores the layout on first open or checks it against the
    /// stored one.
    pub fn open(root: &Path, layout: &LogLayout) -> Result<Self, LogError> {
        validate(layout)?;
        fs::create_dir_all(root).map_err(|e| io_error(root, e))?;
        let lock = lock(root)?;
        let layout_path = root.join(LAYOUT_FILE);
        match fs::read(&layout_path) {
            Ok(bytes) => check_stored_layout(&layout_path, &bytes, layout)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                store_layout(root, layout)?;
            }
            Err(e) => return Err(io_error(&layout_path, e)),
        }
        let partitions = root.join(PARTITIONS_DIR);
        fs::create_dir_all(&partitions).map_err(|e| io_error(&partitions, e))?;
        sync_dir(root)?;
        Ok(Self {
            root: root.to_owned(),
            _lock: lock,
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `partitions/{topic}-{partition}.log`.
    pub fn partition_path(&self, topic_partition: &TopicPartition) -> PathBuf {
        self.root.join(PARTITIONS_DIR).join(format!(
            "{}-{}.log",
            topic_partition.topic, topic_partition.partition
        ))
    }

    /// Makes newly created partition files durable.
    pub fn sync_partitions_dir(&self) -> Result<(), LogError> {
        sync_dir(&self.root.join(PARTITIONS_DIR))
    }
}

/// A layout the embedded log can hold: 1..=[`MAX_PARTITIONS`] partitions, and
/// a topic prefix and suffixes of Kafka's legal topic characters, safe as
/// file names, naming each topic once.
fn validate(layout: &LogLayout) -> Result<(), LogError> {
    if layout.partitions == 0 || layout.partitions > MAX_PARTITIONS {
        return Err(LogError::LayoutMismatch(format!(
            "{} partitions per topic; the embedded log needs 1 to {MAX_PARTITIONS}",
            layout.partitions
        )));
    }
    let prefix = &layout.topic_prefix;
    let legal = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
    if prefix.is_empty() || prefix.len() > 200 || !prefix.chars().all(legal) {
        return Err(LogError::LayoutMismatch(format!(
            "topic prefix {prefix:?} must be 1 to 200 characters of [A-Za-z0-9._-]"
        )));
    }
    let dead_letters = layout.dead_letter_topic();
    let suffixes: Vec<&String> = layout
        .topic_suffixes
        .iter()
        .chain(&layout.derived_suffixes)
        .collect();
    for suffix in suffixes.iter().copied() {
        if suffix.is_empty() || suffix.len() > 40 || !suffix.chars().all(legal) {
            return Err(LogError::LayoutMismatch(format!(
                "topic suffix {suffix:?} must be 1 to 40 characters of [A-Za-z0-9._-]"
            )));
        }
        if layout.topic(suffix) == dead_letters
            || suffixes.iter().filter(|s| **s == suffix).count() > 1
        {
            return Err(LogError::LayoutMismatch(format!(
                "topic suffix {suffix:?} names one topic twice"
            )));
        }
    }
    Ok(())
}

fn lock(root: &Path) -> Result<File, LogError> {
    let path = root.join(LOCK_FILE);
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| io_error(&path, e))?;
    match fs4::FileExt::try_lock(&file) {
        Ok(()) => Ok(file),
        Err(fs4::TryLockError::WouldBlock) => Err(LogError::Unavailable(format!(
            "{} is already open by another embedded log",
            root.display()
        ))),
        Err(fs4::TryLockError::Error(e)) => Err(io_error(&path, e)),
    }
}

fn check_stored_layout(path: &Path, bytes: &[u8], wanted: &LogLayout) -> Result<(), LogError> {
    let stored: StoredLayout = serde_json::from_slice(bytes).map_err(|e| LogError::Corrupt {
        path: path.display().to_string(),
        reason: format!("unreadable layout: {e}"),
    })?;
    if stored.format != LAYOUT_FORMAT {
        return Err(LogError::Corrupt {
            path: path.display().to_string(),
            reason: format!("unknown layout format {}", stored.format),
        });
    }
    let stored = stored.layout;
    if stored.partitions != wanted.partitions {
        return Err(LogError::LayoutMismatch(format!(
            "the log in {} has {} partitions per topic, but {} were configured; \
             partition counts cannot change (keys would move partitions)",
            path.display(),
            stored.partitions,
            wanted.partitions
        )));
    }
    if stored.topic_prefix != wanted.topic_prefix {
        return Err(LogError::LayoutMismatch(format!(
            "the log in {} has topic prefix {:?}, but {:?} was configured",
            path.display(),
            stored.topic_prefix,
            wanted.topic_prefix
        )));
    }
    Ok(())
}

/// Writes `layout.json` atomically: temporary file, fsync, rename, fsync of
/// the directory.
fn store_layout(root: &Path, layout: &LogLayout) -> Result<(), LogError> {
    let stored = StoredLayout {
        format: LAYOUT_FORMAT,
        layout: StoredLayoutFields {
            topic_prefix: layout.topic_prefix.clone(),
            partitions: layout.partitions,
        },
    };
    let json = serde_json::to_vec_pretty(&stored)
        .map_err(|e| LogError::Backend(format!("cannot encode the log layout: {e}")))?;
    let temp = root.join(format!("{LAYOUT_FILE}.tmp"));
    let write = || -> std::io::Result<()> {
        let mut file = File::create(&temp)?;
        file.write_all(&json)?;
        file.sync_all()
    };
    write().map_err(|e| io_error(&temp, e))?;
    let path = root.join(LAYOUT_FILE);
    fs::rename(&temp, &path).map_err(|e| io_error(&path, e))?;
    sync_dir(root)
}

/// Fsyncs a directory so entries created or renamed in it survive a crash.
#[cfg(unix)]
fn sync_dir(dir: &Path) -> Result<(), LogError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| io_error(dir, e))
}

/// Directories cannot be opened as files on this platform; metadata of
/// created files is made durable by the file system itself.
#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> Result<(), LogError> {
    Ok(())
}

fn io_error(path: &Path, source: std::io::Error) -> LogError {
    LogError::Io {
        path: path.display().to_string(),
        source,
    }
}
