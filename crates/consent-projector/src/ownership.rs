//! Which partitions of the log one ledger instance owns: all of them (a full
//! replica, the default) or a configured subset, so that several instances
//! can share the subjects between them.
//!
//! An instance that owns partition `p` follows every event-family topic on
//! `p` and answers for the subjects whose routing key hashes to `p`. Every
//! instance also follows the reference topic on **every** partition, but
//! folds from the partitions it does not own only the organisation-level
//! records (key `organisation 0x1f`, see
//! [`consent_schema::ROUTING_KEY_SEPARATOR`]): an organisation's own facts
//! (its kind, its product categories) sit on the partition of its own key,
//! and every check about any of its subjects needs them. Facts about an
//! address (an opt-out or objection received for an address, a TPS
//! listing, a call preference: `Fact::address`) are routed the same way,
//! to the reference topic with the organisation's key, so every instance
//! folds the address's state; the subject part of such a fact is folded
//! only by the owner of the subject ([`OwnedPartitions::owns_subject`]).

use consent_domain::{OrganisationId, SubjectId};
use consent_log::partitioner::partition_for;
use consent_log::{LogLayout, TopicPartition};
use consent_schema::EventFamily;
use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

/// The partitions this instance owns.
///
/// Parsed from and displayed as `all` or a list of partitions and
/// inclusive ranges, `0-3,6`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum OwnedPartitions {
    /// Every partition: a full replica.
    #[default]
    All,
    /// These partitions only (never empty).
    Only(BTreeSet<u32>),
}

/// `--own-partitions` is not `all` or a list such as `0-3,6`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not a set of partitions: {reason} (expected `all` or a list such as `0-3,6`)")]
pub struct ParseOwnedPartitionsError {
    pub text: String,
    pub reason: String,
}

impl OwnedPartitions {
    /// Whether this instance owns `partition`: it follows every topic there
    /// and answers for the subjects routed there.
    pub fn owns(&self, partition: u32) -> bool {
        match self {
            OwnedPartitions::All => true,
            OwnedPartitions::Only(owned) => owned.contains(&partition),
        }
    }

    /// Whether this instance answers for `subject` of `organisation`: it
    /// owns the partition the subject's routing key hashes to. A fact
    /// about an address and a subject is routed with the organisation's
    /// key (every instance folds its address part); its subject part is
    /// folded where this is true.
    pub fn owns_subject(
        &self,
        layout: &LogLayout,
        organisation: &OrganisationId,
        subject: &SubjectId,
    ) -> bool {
        match self {
            OwnedPartitions::All => true,
            OwnedPartitions::Only(owned) => owned.contains(&partition_for(
                &consent_schema::routing_key(organisation, Some(subject)),
                layout.partitions,
            )),
        }
    }

    /// The owned partitions among the layout's.
    pub fn partitions(&self, layout: &LogLayout) -> BTreeSet<u32> {
        (0..layout.partitions).filter(|p| self.owns(*p)).collect()
    }

    /// Every topic-partition the projector reads: each event-family topic
    /// on the owned partitions, and the reference topic on every partition
    /// (for the organisations' own facts).
    pub fn followed(&self, layout: &LogLayout) -> BTreeSet<TopicPartition> {
        let reference = EventFamily::Reference.topic(layout);
        layout
            .topic_partitions()
            .into_iter()
            .filter(|tp| self.owns(tp.partition) || tp.topic == reference)
            .collect()
    }

    /// The first owned partition the layout does not have, if any.
    pub fn outside(&self, layout: &LogLayout) -> Option<u32> {
        match self {
            OwnedPartitions::All => None,
            OwnedPartitions::Only(owned) => owned.iter().copied().find(|p| *p >= layout.partitions),
        }
    }

    /// The partitions as ranges, e.g. `0-3,6`, or `none`.
    pub fn describe(partitions: &BTreeSet<u32>) -> String {
        if partitions.is_empty() {
            return "none".to_owned();
        }
        let mut ranges: Vec<(u32, u32)> = Vec::new();
        for &partition in partitions {
            match ranges.last_mut() {
                Some((_, end)) if end.checked_add(1) == Some(partition) => *end = partition,
                _ => ranges.push((partition, partition)),
            }
        }
        ranges
            .iter()
            .map(|(start, end)| {
                if start == end {
                    start.to_string()
                } else {
                    format!("{start}-{end}")
                }
            })
            .collect::<Vec<_>>()
            .join(",")
    }
}

impl fmt::Display for OwnedPartitions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OwnedPartitions::All => f.write_str("all"),
            OwnedPartitions::Only(owned) => f.write_str(&Self::describe(owned)),
        }
    }
}

impl FromStr for OwnedPartitions {
    type Err = ParseOwnedPartitionsError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let error = |reason: String| ParseOwnedPartitionsError {
            text: text.to_owned(),
            reason,
        };
        let trimmed = text.trim();
        if trimmed.eq_ignore_ascii_case("all") {
            return Ok(OwnedPartitions::All);
        }
        let number = |item: &str| {
            item.trim()
                .parse::<u32>()
                .map_err(|_| error(format!("`{}` is not a partition number", item.trim())))
        };
        let mut owned = BTreeSet::new();
        for item in trimmed.split(',') {
            if item.trim().is_empty() {
                return Err(error("an empty item".to_owned()));
            }
            match item.split_once('-') {
                Some((start, end)) => {
                    let (start, end) = (number(start)?, number(end)?);
                    if start > end {
                        return Err(error(format!("the range {start}-{end} is reversed")));
                    }
                    owned.extend(start..=end);
                }
                None => {
                    owned.insert(number(item)?);
                }
            }
        }
        Ok(OwnedPartitions::Only(owned))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<OwnedPartitions, ParseOwnedPartitionsError> {
        text.parse()
    }

    #[test]
    fn lists_and_ranges_parse_and_print_back_compactly() {
        let owned = parse("6, 0-3").expect("valid");
        assert_eq!(owned, OwnedPartitions::Only([0, 1, 2, 3, 6].into()));
        assert_eq!(owned.to_string(), "0-3,6");
        assert_eq!(parse("all").expect("valid"), OwnedPartitions::All);
        assert_eq!(parse("5").expect("valid").to_string(), "5");
        assert_eq!(parse("1-1,2").expect("valid").to_string(), "1-2");
    }

    #[test]
    fn nonsense_is_refused_saying_why() {
        for (text, why) in [
            ("", "an empty item"),
            ("1,,2", "an empty item"),
            ("3-1", "reversed"),
            ("a", "`a` is not a partition number"),
            ("-1", "`` is not a partition number"),
        ] {
            let error = parse(text).expect_err(text);
            assert!(error.to_string().contains(why), "{text}: {error}");
        }
    }

    #[test]
    fn a_subject_is_owned_where_its_routing_key_hashes() {
        let layout = consent_schema::ledger_layout("c", 4);
        let (organisation, subject) = (OrganisationId::new("acme"), SubjectId::new("cust-42"));
        let partition = partition_for(
            &consent_schema::routing_key(&organisation, Some(&subject)),
            4,
        );
        for p in 0..4 {
            let owned = OwnedPartitions::Only([p].into());
            assert_eq!(
                owned.owns_subject(&layout, &organisation, &subject),
                p == partition,
                "partition {p}"
            );
        }
        assert!(OwnedPartitions::All.owns_subject(&layout, &organisation, &subject));
    }

    #[test]
    fn an_owner_follows_its_partitions_and_the_reference_topic_everywhere() {
        let layout = consent_schema::ledger_layout("c", 4);
        let owned = parse("1,3").expect("valid");
        let followed = owned.followed(&layout);
        for tp in layout.topic_partitions() {
            let expected = tp.partition == 1 || tp.partition == 3 || tp.topic == "c.reference";
            assert_eq!(followed.contains(&tp), expected, "{tp}");
        }
        assert_eq!(
            OwnedPartitions::All.followed(&layout).len(),
            layout.topic_partitions().len()
        );
        assert_eq!(owned.outside(&layout), None);
        assert_eq!(parse("2-4").expect("valid").outside(&layout), Some(4));
    }
}
