//! The ledger's sources of time and of event ids, behind small traits so
//! that tests can fix them.

use consent_domain::{EventId, Timestamp};
use std::time::{SystemTime, UNIX_EPOCH};

/// The time "now", as the ledger sees it: `recorded_at` of appended events
/// and the `at` of checks that give none.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> Timestamp;
}

/// The machine's wall clock (UTC).
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        match SystemTime::now().duration_since(UNIX_EPOCH) {
            Ok(since) => {
                Timestamp::from_unix_micros(i64::try_from(since.as_micros()).unwrap_or(i64::MAX))
            }
            Err(before) => Timestamp::from_unix_micros(
                i64::try_from(before.duration().as_micros()).map_or(i64::MIN, |micros| -micros),
            ),
        }
    }
}

/// Ids for events that arrive without one.
pub trait IdGenerator: Send + Sync + 'static {
    fn new_id(&self) -> EventId;
}

/// Time-ordered UUIDv7 ids, so ids sort roughly by the time they were given.
#[derive(Clone, Copy, Debug, Default)]
pub struct UuidV7;

impl IdGenerator for UuidV7 {
    fn new_id(&self) -> EventId {
        EventId(uuid::Uuid::now_v7())
    }
}
