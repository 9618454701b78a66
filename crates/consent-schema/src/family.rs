//! The ledger's topics: one per family of facts, over the log's generic
//! [`LogLayout`].

use consent_log::LogLayout;

/// The families of facts the ledger records; each has its own topic
/// (`{prefix}.{suffix}`, see [`EventFamily::suffix`]).
///
/// All topics are co-partitioned: same partition count, same partitioner, so
/// one (organisation, subject) key maps to the same partition number in each.
/// Which family a fact belongs to is [`crate::family_of`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
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
    /// Every family, in the order of the ledger's topics.
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

    /// This family's topic in `layout`: `consent.grants` for
    /// [`EventFamily::Grants`] under the prefix `consent`.
    pub fn topic(self, layout: &LogLayout) -> String {
        layout.topic(self.suffix())
    }

    /// The family whose topic in `layout` is `topic` (none for the
    /// dead-letter topic or a topic of no family).
    pub fn of_topic(layout: &LogLayout, topic: &str) -> Option<EventFamily> {
        EventFamily::ALL
            .into_iter()
            .find(|family| family.topic(layout) == topic)
    }
}

/// The ledger's log layout: a topic per [`EventFamily`] (in
/// [`EventFamily::ALL`] order) under `topic_prefix`, each with `partitions`
/// partitions, and the opt-out feed as its derived topic
/// ([`crate::opt_out_feed_topic`]).
pub fn ledger_layout(topic_prefix: impl Into<String>, partitions: u32) -> LogLayout {
    LogLayout::new(
        topic_prefix,
        partitions,
        EventFamily::ALL.map(EventFamily::suffix),
    )
    .with_derived([crate::OPT_OUT_FEED_SUFFIX])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_family_has_its_topic_and_is_found_by_it() {
        let layout = ledger_layout("consent", 8);
        assert_eq!(
            layout.topics(),
            [
                "consent.grants",
                "consent.commerce",
                "consent.optouts",
                "consent.messages",
                "consent.reference"
            ]
        );
        for family in EventFamily::ALL {
            assert_eq!(
                EventFamily::of_topic(&layout, &family.topic(&layout)),
                Some(family)
            );
        }
        assert_eq!(
            EventFamily::of_topic(&layout, &layout.dead_letter_topic()),
            None
        );
        assert_eq!(layout.partitions, 8);
        assert_eq!(layout.derived_topics(), ["consent.opt-out-feed"]);
        assert_eq!(EventFamily::of_topic(&layout, "consent.opt-out-feed"), None);
    }
}
