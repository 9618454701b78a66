//! The checkpoint archive: every checkpoint the ledger signed, one signed
//! note per file, named by its time so that names sort in signing order:
//!
//! ```text
//! <data dir>/checkpoints/00000001770249600000.note
//! ```
//!
//! Files are written whole (temporary file, fsync, rename, fsync of the
//! directory) and never changed. The archive is not part of the view: a
//! checkpoint is a statement the ledger made and published, so it survives
//! a rebuild of the view, and a rebuilt view reproduces the same partition
//! roots for it.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// An archive directory could not be read or written.
#[derive(Debug, thiserror::Error)]
#[error("checkpoint archive {path}: {source}")]
pub struct ArchiveError {
    pub path: PathBuf,
    #[source]
    pub source: io::Error,
}

/// The directory of signed checkpoints.
#[derive(Clone, Debug)]
pub struct CheckpointArchive {
    dir: PathBuf,
}

impl CheckpointArchive {
    /// Opens (creating if needed) the archive at `dir`.
    pub fn open(dir: &Path) -> Result<Self, ArchiveError> {
        fs::create_dir_all(dir).map_err(|source| ArchiveError {
            path: dir.to_owned(),
            source,
        })?;
        Ok(Self {
            dir: dir.to_owned(),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Stores a signed note made at `timestamp_ms`; durable on return.
    pub fn store(&self, timestamp_ms: u64, note: &str) -> Result<PathBuf, ArchiveError> {
        let path = self.dir.join(format!("{timestamp_ms:020}.note"));
        let temporary = self.dir.join(format!(".{timestamp_ms:020}.note.tmp"));
        let error = |path: &Path| {
            let path = path.to_owned();
            move |source| ArchiveError { path, source }
        };
        let mut file = fs::File::create(&temporary).map_err(error(&temporary))?;
        file.write_all(note.as_bytes()).map_err(error(&temporary))?;
        file.sync_all().map_err(error(&temporary))?;
        fs::rename(&temporary, &path).map_err(error(&path))?;
        fs::File::open(&self.dir)
            .and_then(|dir| dir.sync_all())
            .map_err(error(&self.dir))?;
        Ok(path)
    }

    /// Every stored note, oldest first.
    pub fn notes(&self) -> Result<Vec<String>, ArchiveError> {
        let error = |path: &Path| {
            let path = path.to_owned();
            move |source| ArchiveError { path, source }
        };
        let mut names: Vec<PathBuf> = fs::read_dir(&self.dir)
            .map_err(error(&self.dir))?
            .filter_map(|entry| entry.ok().map(|entry| entry.path()))
            .filter(|path| {
                path.extension().is_some_and(|ext| ext == "note")
                    && path
                        .file_name()
                        .and_then(|name| name.to_str())
                        .is_some_and(|name| !name.starts_with('.'))
            })
            .collect();
        names.sort();
        names
            .iter()
            .map(|path| fs::read_to_string(path).map_err(error(path)))
            .collect()
    }

    /// The most recent note, if any.
    pub fn latest(&self) -> Result<Option<String>, ArchiveError> {
        Ok(self.notes()?.pop())
    }
}
