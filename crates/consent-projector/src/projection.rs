//! What a ledger is built over: the log a projector follows, the view it
//! writes, and the handle on its progress, handed out together by
//! [`crate::Projector::projection`] so that they cannot be mixed with
//! another projector's.

use crate::handle::ProjectionHandle;
use consent_log::EventLog;
use consent_store::ViewStore;
use std::fmt;
use std::sync::Arc;

/// The parts of one [`crate::Projector`] a reader of its view needs: the
/// log it folds, the view store it folds into, and its
/// [`ProjectionHandle`]. Made only by [`crate::Projector::projection`], so
/// the log a ledger appends to and the view it reads are, by construction,
/// the ones the handle reports progress on.
#[derive(Clone)]
pub struct Projection {
    log: Arc<dyn EventLog>,
    store: Arc<dyn ViewStore>,
    handle: ProjectionHandle,
}

impl Projection {
    pub(crate) fn new(
        log: Arc<dyn EventLog>,
        store: Arc<dyn ViewStore>,
        handle: ProjectionHandle,
    ) -> Self {
        Self { log, store, handle }
    }

    /// The log the projector follows.
    pub fn log(&self) -> &Arc<dyn EventLog> {
        &self.log
    }

    /// The view the projector writes.
    pub fn store(&self) -> &Arc<dyn ViewStore> {
        &self.store
    }

    /// The projector's progress (read-your-writes, ownership, heads).
    pub fn handle(&self) -> &ProjectionHandle {
        &self.handle
    }

    /// The log, the view and the handle, as one projector made them.
    pub fn into_parts(self) -> (Arc<dyn EventLog>, Arc<dyn ViewStore>, ProjectionHandle) {
        (self.log, self.store, self.handle)
    }
}

impl fmt::Debug for Projection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Projection")
            .field("layout", self.log.layout())
            .field("handle", &self.handle)
            .finish_non_exhaustive()
    }
}
