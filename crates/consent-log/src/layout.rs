use crate::position::TopicPartition;

/// Topic names and partition count of a log.
///
/// The log has one topic per suffix (`{prefix}.{suffix}`), all
/// co-partitioned: the same partition count and the same [partitioner], so
/// one key maps to the same partition number in each. It also has a
/// dead-letter topic (`{prefix}.dead-letters`) of the same partition count.
/// What each topic holds is the caller's business: the ledger's topics are
/// its event families (`consent_schema::ledger_layout`).
///
/// [partitioner]: crate::partitioner
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogLayout {
    /// Prefix of every topic name, e.g. `consent` gives `consent.grants`.
    pub topic_prefix: String,
    /// Partitions per topic (the same for every topic).
    pub partitions: u32,
    /// The topics' names after the prefix, in order (`grants` gives
    /// `consent.grants`); the dead-letter topic is not among them.
    pub topic_suffixes: Vec<String>,
    /// The derived topics' names after the prefix: written from what was
    /// read on the topics above, never followed by a projector, and not
    /// among [`LogLayout::topics`]. Empty unless set with
    /// [`LogLayout::with_derived`].
    pub derived_suffixes: Vec<String>,
}

impl LogLayout {
    pub fn new(
        topic_prefix: impl Into<String>,
        partitions: u32,
        topic_suffixes: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        Self {
            topic_prefix: topic_prefix.into(),
            partitions,
            topic_suffixes: topic_suffixes.into_iter().map(Into::into).collect(),
            derived_suffixes: Vec::new(),
        }
    }

    /// This layout with the derived topics `suffixes` (see
    /// [`LogLayout::derived_suffixes`]).
    #[must_use]
    pub fn with_derived(mut self, suffixes: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.derived_suffixes = suffixes.into_iter().map(Into::into).collect();
        self
    }

    /// The derived topics, in order (see [`LogLayout::derived_suffixes`]).
    pub fn derived_topics(&self) -> Vec<String> {
        self.derived_suffixes
            .iter()
            .map(|s| self.topic(s))
            .collect()
    }

    /// Every topic the log holds beyond [`LogLayout::topics`]: the
    /// dead-letter topic, then the derived topics. A log creates them with
    /// the others and accepts appends to them and readers of them.
    pub fn side_topics(&self) -> Vec<String> {
        std::iter::once(self.dead_letter_topic())
            .chain(self.derived_topics())
            .collect()
    }

    /// Whether `topic` is a derived topic of this layout.
    pub fn has_derived_topic(&self, topic: &str) -> bool {
        topic
            .strip_prefix(self.topic_prefix.as_str())
            .and_then(|rest| rest.strip_prefix('.'))
            .is_some_and(|suffix| self.derived_suffixes.iter().any(|s| s == suffix))
    }

    /// The full name of the topic with `suffix`: `{prefix}.{suffix}`.
    pub fn topic(&self, suffix: &str) -> String {
        format!("{}.{suffix}", self.topic_prefix)
    }

    /// The dead-letter topic: records the projector could not decode or
    /// validate, with the reason and their origin in headers.
    pub fn dead_letter_topic(&self) -> String {
        self.topic("dead-letters")
    }

    /// The topics of [`LogLayout::topic_suffixes`], in that order (not the
    /// dead-letter topic).
    pub fn topics(&self) -> Vec<String> {
        self.topic_suffixes.iter().map(|s| self.topic(s)).collect()
    }

    /// Whether `topic` is one of [`LogLayout::topics`] (the dead-letter
    /// topic is not).
    pub fn has_topic(&self, topic: &str) -> bool {
        topic
            .strip_prefix(self.topic_prefix.as_str())
            .and_then(|rest| rest.strip_prefix('.'))
            .is_some_and(|suffix| self.topic_suffixes.iter().any(|s| s == suffix))
    }

    /// Every topic-partition of [`LogLayout::topics`].
    pub fn topic_partitions(&self) -> Vec<TopicPartition> {
        self.topics()
            .into_iter()
            .flat_map(|t| (0..self.partitions).map(move |p| TopicPartition::new(t.clone(), p)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_are_the_prefix_and_each_suffix_in_order() {
        let layout = LogLayout::new("c", 2, ["one", "two"]);
        assert_eq!(layout.topics(), ["c.one", "c.two"]);
        assert_eq!(layout.dead_letter_topic(), "c.dead-letters");
        assert!(layout.has_topic("c.two"));
        assert!(!layout.has_topic("c.dead-letters"));
        assert!(!layout.has_topic("d.one"));
        assert!(!layout.has_topic("cone"));
        assert!(layout.derived_topics().is_empty());
        assert_eq!(layout.side_topics(), ["c.dead-letters"]);
        assert_eq!(
            layout.topic_partitions(),
            [
                TopicPartition::new("c.one", 0),
                TopicPartition::new("c.one", 1),
                TopicPartition::new("c.two", 0),
                TopicPartition::new("c.two", 1),
            ]
        );
    }

    #[test]
    fn derived_topics_are_side_topics_not_topics() {
        let layout = LogLayout::new("c", 2, ["one"]).with_derived(["feed"]);
        assert_eq!(layout.topics(), ["c.one"]);
        assert_eq!(layout.derived_topics(), ["c.feed"]);
        assert_eq!(layout.side_topics(), ["c.dead-letters", "c.feed"]);
        assert!(layout.has_derived_topic("c.feed"));
        assert!(!layout.has_topic("c.feed"));
        assert!(!layout.has_derived_topic("c.one"));
        assert_eq!(layout.topic_partitions().len(), 2);
    }
}
