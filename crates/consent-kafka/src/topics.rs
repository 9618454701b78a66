//! Creating and checking the log's topics.

use crate::config::KafkaConfig;
use crate::context::LogContext;
use crate::error::log_error;
use consent_log::LogError;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, ResourceSpecifier, TopicReplication};
use rdkafka::error::RDKafkaErrorCode;
use rdkafka::metadata::Metadata;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Settings of every topic the log creates: kept forever.
///
/// The log is the system of record and the only backup, so neither time nor
/// size may delete a record. `cleanup.policy` is left to the broker's
/// default, `delete` (with infinite retention, nothing is deleted); it is
/// not set explicitly because tansu 0.6 (the test broker) reads an explicit
/// `cleanup.policy=delete` with `retention.ms=-1` as "delete everything".
/// [`warn_about_lossy_settings`] reports a topic that is compacted or has a
/// finite retention.
const TOPIC_SETTINGS: [(&str, &str); 2] = [("retention.ms", "-1"), ("retention.bytes", "-1")];

/// What the cluster says about one topic.
#[derive(Debug)]
struct TopicState {
    partitions: usize,
    /// Partitions whose leader is known (so they can be written and read).
    partitions_with_leader: usize,
    /// The smallest replica count over the topic's partitions.
    min_replicas: usize,
}

/// Creates the layout's topics (event families, dead letters, derived) where
/// absent, checks every one has the layout's partition count, and waits
/// until every partition has a leader.
///
/// Fails with [`LogError::LayoutMismatch`] when a topic exists with another
/// partition count (repartitioning would move subjects between partitions
/// and break their order), and with [`LogError::Unavailable`] when the
/// cluster does not answer within the request timeout.
pub(crate) async fn ensure_topics(config: &KafkaConfig) -> Result<(), LogError> {
    let admin: AdminClient<LogContext> = config
        .admin_config()
        .create_with_context(LogContext::new("admin"))
        .map_err(|error| log_error("creating the Kafka admin client", &config.brokers, &error))?;
    let admin = Arc::new(admin);
    let wanted = wanted_topics(config);
    let expected = config.layout.partitions as usize;

    let existing = topic_states(&admin, config, config.request_timeout).await?;
    let mut missing = Vec::new();
    for topic in &wanted {
        match existing.get(topic) {
            Some(state) => check_partitions(topic, state, expected)?,
            None => missing.push(topic.clone()),
        }
        if let Some(state) = existing.get(topic) {
            if state.min_replicas < config.replication_factor as usize {
                tracing::warn!(
                    topic = %topic,
                    replicas = state.min_replicas,
                    wanted = config.replication_factor,
                    "topic has fewer replicas than the configured replication factor"
                );
            }
        }
    }

    if !missing.is_empty() {
        create_topics(&admin, config, &missing).await?;
    }
    wait_until_ready(&admin, config, &wanted, expected).await?;
    warn_about_lossy_settings(&admin, config, &wanted).await;
    Ok(())
}

/// Logs a warning for every topic whose settings would let the broker
/// delete records: finite retention, or compaction (which keeps only the
/// latest record per key). Best effort: a broker that cannot describe
/// topic configurations is not an error.
async fn warn_about_lossy_settings(
    admin: &AdminClient<LogContext>,
    config: &KafkaConfig,
    topics: &[String],
) {
    let specifiers: Vec<ResourceSpecifier<'_>> = topics
        .iter()
        .map(|topic| ResourceSpecifier::Topic(topic))
        .collect();
    let options = AdminOptions::new().request_timeout(Some(config.request_timeout));
    let results = match admin.describe_configs(&specifiers, &options).await {
        Ok(results) => results,
        Err(error) => {
            tracing::debug!(%error, "could not describe the log topics' configurations");
            return;
        }
    };
    for (topic, result) in topics.iter().zip(results) {
        let resource = match result {
            Ok(resource) => resource,
            Err(code) => {
                tracing::debug!(topic = %topic, %code, "could not describe a log topic's configuration");
                continue;
            }
        };
        let value = |name: &str| resource.get(name).and_then(|entry| entry.value.clone());
        for name in ["retention.ms", "retention.bytes"] {
            if let Some(limit) = value(name).filter(|v| v.trim() != "-1") {
                tracing::warn!(
                    topic = %topic,
                    setting = name,
                    value = %limit,
                    "log topic has a finite retention: the broker will delete records of the \
                     system of record; set it to -1"
                );
            }
        }
        if let Some(policy) = value("cleanup.policy").filter(|p| p.contains("compact")) {
            tracing::warn!(
                topic = %topic,
                cleanup_policy = %policy,
                "log topic is compacted: the broker will drop all but the latest record per key; \
                 set cleanup.policy=delete"
            );
        }
    }
}

/// The event-family topics followed by the dead-letter topic and the
/// derived topics (the opt-out feed).
fn wanted_topics(config: &KafkaConfig) -> Vec<String> {
    let mut topics = config.layout.topics();
    topics.extend(config.layout.side_topics());
    topics
}

fn check_partitions(topic: &str, state: &TopicState, expected: usize) -> Result<(), LogError> {
    if state.partitions == expected {
        Ok(())
    } else {
        Err(LogError::LayoutMismatch(format!(
            "topic {topic} has {} partitions but the log layout has {expected}; \
             the partition count of an existing log cannot change",
            state.partitions
        )))
    }
}

async fn create_topics(
    admin: &AdminClient<LogContext>,
    config: &KafkaConfig,
    missing: &[String],
) -> Result<(), LogError> {
    let partitions = i32::try_from(config.layout.partitions).map_err(|_| {
        LogError::LayoutMismatch(format!(
            "{} partitions is more than Kafka supports",
            config.layout.partitions
        ))
    })?;
    let replication = i32::from(config.replication_factor);
    let min_insync = min_insync_replicas(config.replication_factor);
    let new_topics: Vec<NewTopic<'_>> = missing
        .iter()
        .map(|topic| {
            let mut new_topic =
                NewTopic::new(topic, partitions, TopicReplication::Fixed(replication));
            for (key, value) in TOPIC_SETTINGS {
                new_topic = new_topic.set(key, value);
            }
            if let Some(min_insync) = &min_insync {
                new_topic = new_topic.set("min.insync.replicas", min_insync);
            }
            new_topic
        })
        .collect();
    let options = AdminOptions::new()
        .request_timeout(Some(config.request_timeout))
        .operation_timeout(Some(config.request_timeout));
    let results = admin
        .create_topics(&new_topics, &options)
        .await
        .map_err(|error| log_error("creating the log's topics", &config.brokers, &error))?;
    for result in results {
        match result {
            Ok(topic) => tracing::info!(
                topic = %topic,
                partitions,
                replication_factor = config.replication_factor,
                "created log topic"
            ),
            // Another ledger instance created it first; its partition count
            // is checked by `wait_until_ready`.
            Err((topic, RDKafkaErrorCode::TopicAlreadyExists)) => {
                tracing::debug!(topic = %topic, "log topic already exists")
            }
            Err((topic, code)) => {
                let error = rdkafka::error::KafkaError::AdminOp(code);
                return Err(log_error(
                    &format!("creating log topic {topic}"),
                    &config.brokers,
                    &error,
                ));
            }
        }
    }
    Ok(())
}

/// `min.insync.replicas` for a replication factor: 2 whenever there are at
/// least 2 replicas (so an acknowledged record is on two brokers), unset
/// (the broker's default) on a single-replica log.
fn min_insync_replicas(replication_factor: u16) -> Option<String> {
    (replication_factor >= 2).then(|| "2".to_owned())
}

/// Waits until every wanted topic is visible with the expected partitions,
/// each with a leader.
async fn wait_until_ready(
    admin: &Arc<AdminClient<LogContext>>,
    config: &KafkaConfig,
    wanted: &[String],
    expected: usize,
) -> Result<(), LogError> {
    let deadline = Instant::now() + config.request_timeout;
    loop {
        let remaining = deadline.saturating_duration_since(Instant::now());
        let states = topic_states(admin, config, remaining.max(Duration::from_millis(100))).await?;
        let mut not_ready = None;
        for topic in wanted {
            match states.get(topic) {
                Some(state) => {
                    check_partitions(topic, state, expected)?;
                    if state.partitions_with_leader < expected {
                        not_ready = Some(topic);
                    }
                }
                None => not_ready = Some(topic),
            }
        }
        match not_ready {
            None => return Ok(()),
            Some(topic) if Instant::now() >= deadline => {
                return Err(LogError::Unavailable(format!(
                    "topic {topic} was not ready on Kafka at {} within {:?}",
                    config.brokers, config.request_timeout
                )))
            }
            Some(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

/// The cluster's topics, from a metadata request for all topics (asking
/// for named topics could make a broker auto-create them with its defaults).
async fn topic_states(
    admin: &Arc<AdminClient<LogContext>>,
    config: &KafkaConfig,
    timeout: Duration,
) -> Result<BTreeMap<String, TopicState>, LogError> {
    let client = Arc::clone(admin);
    let metadata =
        tokio::task::spawn_blocking(move || client.inner().fetch_metadata(None, timeout))
            .await
            .map_err(|error| LogError::Backend(format!("metadata task failed: {error}")))?
            .map_err(|error| log_error("reading Kafka topic metadata", &config.brokers, &error))?;
    Ok(states_of(&metadata))
}

fn states_of(metadata: &Metadata) -> BTreeMap<String, TopicState> {
    metadata
        .topics()
        .iter()
        .filter(|topic| topic.error().is_none())
        .map(|topic| {
            let partitions = topic.partitions();
            let state = TopicState {
                partitions: partitions.len(),
                partitions_with_leader: partitions
                    .iter()
                    .filter(|p| p.error().is_none() && p.leader() >= 0)
                    .count(),
                min_replicas: partitions
                    .iter()
                    .map(|p| p.replicas().len())
                    .min()
                    .unwrap_or(0),
            };
            (topic.name().to_owned(), state)
        })
        .collect()
}
