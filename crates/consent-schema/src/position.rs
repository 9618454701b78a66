//! Log positions in their three forms: the wire's `consent.v1.LogPosition`,
//! the domain's [`EventPosition`] and the log's [`LogPosition`]. All three
//! are (topic, partition, offset); converting loses nothing.

use crate::v1;
use consent_domain::EventPosition;
use consent_log::LogPosition;

impl From<EventPosition> for v1::LogPosition {
    fn from(p: EventPosition) -> Self {
        Self {
            topic: p.topic,
            partition: p.partition,
            offset: p.offset,
        }
    }
}

impl From<&EventPosition> for v1::LogPosition {
    fn from(p: &EventPosition) -> Self {
        Self {
            topic: p.topic.clone(),
            partition: p.partition,
            offset: p.offset,
        }
    }
}

impl From<v1::LogPosition> for EventPosition {
    fn from(p: v1::LogPosition) -> Self {
        Self {
            topic: p.topic,
            partition: p.partition,
            offset: p.offset,
        }
    }
}

impl From<LogPosition> for v1::LogPosition {
    fn from(p: LogPosition) -> Self {
        Self {
            topic: p.topic,
            partition: p.partition,
            offset: p.offset,
        }
    }
}

impl From<&LogPosition> for v1::LogPosition {
    fn from(p: &LogPosition) -> Self {
        Self {
            topic: p.topic.clone(),
            partition: p.partition,
            offset: p.offset,
        }
    }
}

impl From<v1::LogPosition> for LogPosition {
    fn from(p: v1::LogPosition) -> Self {
        Self {
            topic: p.topic,
            partition: p.partition,
            offset: p.offset,
        }
    }
}

/// The domain's name for where the log stored a record.
pub fn event_position(position: &LogPosition) -> EventPosition {
    EventPosition {
        topic: position.topic.clone(),
        partition: position.partition,
        offset: position.offset,
    }
}

/// The log's name for where an event was read from.
pub fn log_position(position: &EventPosition) -> LogPosition {
    LogPosition::new(position.topic.clone(), position.partition, position.offset)
}
