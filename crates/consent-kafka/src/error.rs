//! Maps rdkafka errors to the log's [`LogError`].

use consent_log::LogError;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};

/// Whether `code` means "the cluster cannot be reached or cannot take this
/// now" (retrying later may succeed), as opposed to a request that is wrong.
pub(crate) fn is_unavailable(code: RDKafkaErrorCode) -> bool {
    use RDKafkaErrorCode as C;
    matches!(
        code,
        C::MessageTimedOut
            | C::OperationTimedOut
            | C::RequestTimedOut
            | C::AllBrokersDown
            | C::BrokerTransportFailure
            | C::Resolve
            | C::BrokerNotAvailable
            | C::LeaderNotAvailable
            | C::NotLeaderForPartition
            | C::NetworkException
            | C::NotEnoughReplicas
            | C::NotEnoughReplicasAfterAppend
            | C::NotCoordinator
            | C::CoordinatorNotAvailable
            | C::CoordinatorLoadInProgress
            | C::QueueFull
            | C::TimedOutQueue
    )
}

/// Converts an rdkafka error met while doing `what` against `brokers`.
pub(crate) fn log_error(what: &str, brokers: &str, error: &KafkaError) -> LogError {
    if let KafkaError::ClientCreation(reason) = error {
        // librdkafka refused a setting (an unknown key, a value it does not
        // take, a certificate file it cannot read); its reason names it.
        return LogError::Settings(match crate::connection::diagnose(reason) {
            Some(hint) => format!("{what}: {hint} (librdkafka: {reason})"),
            None => format!("{what}: {reason}"),
        });
    }
    match error.rdkafka_error_code() {
        Some(code) if is_unavailable(code) => LogError::Unavailable(format!(
            "{what}: Kafka at {brokers} did not answer: {error}"
        )),
        Some(RDKafkaErrorCode::UnknownTopicOrPartition | RDKafkaErrorCode::UnknownTopic) => {
            LogError::LayoutMismatch(format!(
                "{what}: a topic of the layout is missing on Kafka at {brokers}: {error}"
            ))
        }
        _ => LogError::Backend(format!("{what}: {error}")),
    }
}
