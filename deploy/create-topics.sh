#!/usr/bin/env bash
# Creates the ledger's topics on a Kafka cluster, if absent, with the settings
# the ledger relies on, and checks that existing ones have the right partition
# count. Run by the `kafka-topics` one-shot service in docker-compose.yml; it
# uses the kafka-topics.sh tool of the apache/kafka image.
#
#   BOOTSTRAP           bootstrap servers (default kafka:9092)
#   TOPIC_PREFIX        topic name prefix (default consent)
#   PARTITIONS          partitions per topic, the same for all (default 8)
#   REPLICATION_FACTOR  replicas per partition (default 1 here; 3 in production)
#
# The topic names and settings match crates/consent-kafka (KafkaLog::open
# creates the same topics when they are missing).
set -euo pipefail

bootstrap="${BOOTSTRAP:-kafka:9092}"
prefix="${TOPIC_PREFIX:-consent}"
partitions="${PARTITIONS:-8}"
replication="${REPLICATION_FACTOR:-1}"
kafka_topics="${KAFKA_TOPICS:-/opt/kafka/bin/kafka-topics.sh}"

configs=(--config retention.ms=-1 --config retention.bytes=-1 --config cleanup.policy=delete)
if ((replication >= 2)); then
    configs+=(--config min.insync.replicas=2)
fi

for suffix in grants commerce optouts messages reference dead-letters opt-out-feed; do
    topic="$prefix.$suffix"
    "$kafka_topics" --bootstrap-server "$bootstrap" --create --if-not-exists \
        --topic "$topic" --partitions "$partitions" --replication-factor "$replication" \
        "${configs[@]}"
    actual="$("$kafka_topics" --bootstrap-server "$bootstrap" --describe --topic "$topic" \
        | sed -n 's/.*PartitionCount: *\([0-9]*\).*/\1/p' | head -n 1)"
    if [[ "$actual" != "$partitions" ]]; then
        echo "topic $topic has $actual partitions, expected $partitions" >&2
        exit 1
    fi
    echo "topic $topic ready: $partitions partitions, replication $replication"
done
