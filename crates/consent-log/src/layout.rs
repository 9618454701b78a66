use crate::position::TopicPartition;
use serde::{Deserialize, Serialize};

/// The families of facts the ledger records; each has its own topic.
///
/// All topics are co-partitioned: same partition count, same partitioner, so
/// one (organisation, subject) key maps to the same partition number in each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum EventFamily {
    /// Consent given and withdrawn.
    Grants,
    /// Sales, negotiations for a sale, charity support or interest.
    Commerce,
    /// Opt-outs, objections, told-not-to-call, does-not-object, erasure.
    OptOuts,
    /// Marketing messages sent.
    Messages,
    /// Organisations, product categories and similarity, subscriber types,
    /// contact points, TPS/CTPS listings.
    Reference,
}

impl EventFamily {
    pub const ALL: [EventFamily; 5] = [
        EventFamily::Grants,
        EventFamily::Commerce,
        EventFamily::OptOuts,
        EventFamily::Messages,
        EventFamily::Reference,
    ];

    /// The topic name without the layout's prefix.
    pub fn suffix(self) -> &'static str {
        match self {
            EventFamily::Grants => "grants",
            EventFamily::Commerce => "commerce",
            EventFamily::OptOuts => "optouts",
            EventFamily::Messages => "messages",
            EventFamily::Reference => "reference",
        }
    }
}

/// Topic names and partition count of a ledger's log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogLayout {
    /// Prefix of every topic name, e.g. `consent` gives `consent.grants`.
    pub topic_prefix: String,
    /// Partitions per topic (the same for every topic).
    pub partitions: u32,
}

impl Default for LogLayout {
    fn default() -> Self {
        Self {
            topic_prefix: "consent".to_owned(),
            partitions: 8,
        }
    }
}

impl LogLayout {
    pub fn new(topic_prefix: impl Into<String>, partitions: u32) -> Self {
        Self {
            topic_prefix: topic_prefix.into(),
            partitions,
        }
    }

    pub fn topic(&self, family: EventFamily) -> String {
        format!("{}.{}", self.topic_prefix, family.suffix())
    }

    /// The dead-letter topic: records the projector could not decode or
    /// validate, with the reason and their origin in headers.
    pub fn dead_letter_topic(&self) -> String {
        format!("{}.dead-letters", self.topic_prefix)
    }

    /// The event-family topics, in [`EventFamily::ALL`] order.
    pub fn topics(&self) -> Vec<String> {
        EventFamily::ALL.iter().map(|f| self.topic(*f)).collect()
    }

    pub fn family_of(&self, topic: &str) -> Option<EventFamily> {
        EventFamily::ALL
            .iter()
            .copied()
            .find(|f| self.topic(*f) == topic)
    }

    /// Every topic-partition of the event-family topics.
    pub fn topic_partitions(&self) -> Vec<TopicPartition> {
        self.topics()
            .into_iter()
            .flat_map(|t| (0..self.partitions).map(move |p| TopicPartition::new(t.clone(), p)))
            .collect()
    }
}
