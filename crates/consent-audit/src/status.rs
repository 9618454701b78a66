//! A subject bundle's status: the decisions the export made at its own
//! time, one per channel, that open its report ("may the organisation
//! contact this person today, by channel"). The scope names it
//! (`"status": {"at": ..., "decisions": n}`: the bundle's last `n`
//! decisions). [`status_findings`] checks that those are exactly one
//! decision per channel ([`Channel::ALL`]), each about the scope's
//! organisation and subject and asked at the status's time, so that an
//! altered bundle cannot hide a channel from the report's status.
//!
//! A subject scope without a status (bundles made before the export named
//! one) has nothing to check; campaigns and time ranges have no status.

use crate::recorded::RecordedDecision;
use consent_domain::vocabulary::Channel;
use consent_domain::Timestamp;
use consent_evidence::DecisionFinding;
use consent_schema::timestamp_from_proto;
use serde_json::Value;

/// Every way the status of a subject bundle (`scope`, with its
/// `decisions`) departs from one decision per channel; none when it is
/// that, or when the scope names no status.
pub fn status_findings(scope: &Value, decisions: &[Value]) -> Vec<DecisionFinding> {
    if scope.get("kind").and_then(Value::as_str) != Some("subject") {
        return Vec::new();
    }
    let Some(status) = scope.get("status") else {
        return Vec::new();
    };
    let about = |message: String| DecisionFinding {
        decision: None,
        message: format!("the subject's status: {message}"),
    };
    let at = status
        .get("at")
        .cloned()
        .and_then(|at| serde_json::from_value::<consent_schema::pbjson_types::Timestamp>(at).ok())
        .and_then(|at| timestamp_from_proto("scope.status.at", &at).ok());
    let Some(at) = at else {
        return vec![about(
            "the scope's `status.at` is not a time, so the status cannot be checked".to_owned(),
        )];
    };
    let Some(count) = status
        .get("decisions")
        .and_then(Value::as_u64)
        .and_then(|count| usize::try_from(count).ok())
    else {
        return vec![about(
            "the scope's `status.decisions` is not a count, so the status cannot be checked"
                .to_owned(),
        )];
    };
    let mut findings = Vec::new();
    if count != Channel::ALL.len() {
        findings.push(about(format!(
            "the scope names {count} decisions, but a subject's status is one decision per \
             channel ({}: {})",
            Channel::ALL.len(),
            channel_list(&Channel::ALL)
        )));
    }
    let Some(first) = decisions.len().checked_sub(count) else {
        findings.push(about(format!(
            "the scope names the last {count} decisions, but the bundle has {}",
            decisions.len()
        )));
        return findings;
    };
    let organisation = scope.get("organisation").and_then(Value::as_str);
    let subject = scope.get("subject").and_then(Value::as_str);
    let mut answered: Vec<Channel> = Vec::new();
    for (index, value) in decisions.iter().enumerate().skip(first) {
        let finding = |message: String| DecisionFinding {
            decision: Some(index),
            message: format!("a decision of the subject's status {message}"),
        };
        let question = match RecordedDecision::from_value(value)
            .map_err(|error| error.to_string())
            .and_then(|recorded| recorded.question().map_err(|error| error.to_string()))
        {
            Ok(question) => question,
            Err(error) => {
                findings.push(finding(format!("cannot be read: {error}")));
                continue;
            }
        };
        let asked_about = question.subject.as_ref().map(|s| s.as_str());
        if Some(question.organisation.as_str()) != organisation || asked_about != subject {
            findings.push(finding(format!(
                "is about subject {} of {}, not the scope's subject {} of {}",
                asked_about.unwrap_or("(none)"),
                question.organisation.as_str(),
                subject.unwrap_or("(none)"),
                organisation.unwrap_or("(none)"),
            )));
        }
        if question.at != at {
            findings.push(finding(format!(
                "was asked at {}, not at the status's time {}",
                when(question.at),
                when(at)
            )));
        }
        answered.push(question.channel);
    }
    let missing: Vec<Channel> = Channel::ALL
        .into_iter()
        .filter(|channel| !answered.contains(channel))
        .collect();
    if !missing.is_empty() {
        findings.push(about(format!("no decision for {}", channel_list(&missing))));
    }
    for channel in Channel::ALL {
        let times = answered.iter().filter(|c| **c == channel).count();
        if times > 1 {
            findings.push(about(format!(
                "{times} decisions for {}, where there is one per channel",
                channel.as_str()
            )));
        }
    }
    findings
}

fn channel_list(channels: &[Channel]) -> String {
    channels
        .iter()
        .map(|channel| channel.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn when(at: Timestamp) -> String {
    consent_report::words::when(at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use consent_schema::{timestamp_to_proto, v1};
    use serde_json::json;

    const AT: &str = "2026-06-01T09:00:00Z";

    fn at() -> Timestamp {
        let proto: consent_schema::pbjson_types::Timestamp =
            serde_json::from_value(json!(AT)).expect("a time");
        timestamp_from_proto("at", &proto).expect("a time")
    }

    fn scope(decisions: usize) -> Value {
        json!({"kind": "subject", "organisation": "acme-cycles", "subject": "cust-42",
               "extra_checks": 0, "status": {"at": AT, "decisions": decisions}})
    }

    fn decision(subject: &str, channel: v1::Channel, at: Timestamp) -> Value {
        RecordedDecision {
            request: v1::CheckRequest {
                organisation_id: "acme-cycles".to_owned(),
                subject_id: subject.to_owned(),
                channel: channel.into(),
                purpose: v1::Purpose::Commercial.into(),
                message_class: v1::MessageClass::Marketing.into(),
                at: Some(timestamp_to_proto(at)),
                ..Default::default()
            },
            decision: v1::Decision::default(),
        }
        .to_value()
    }

    const CHANNELS: [v1::Channel; 5] = [
        v1::Channel::Email,
        v1::Channel::Sms,
        v1::Channel::LiveCall,
        v1::Channel::AutomatedCall,
        v1::Channel::Post,
    ];

    /// An extra check first, then the status: one decision per channel.
    fn bundle_decisions(channels: &[v1::Channel]) -> Vec<Value> {
        let mut decisions = vec![decision(
            "cust-42",
            v1::Channel::Email,
            Timestamp::from_unix_micros(0),
        )];
        decisions.extend(channels.iter().map(|c| decision("cust-42", *c, at())));
        decisions
    }

    fn messages(findings: &[DecisionFinding]) -> Vec<String> {
        findings.iter().map(|f| f.message.clone()).collect()
    }

    #[test]
    fn one_decision_per_channel_at_the_status_time_passes() {
        assert_eq!(status_findings(&scope(5), &bundle_decisions(&CHANNELS)), []);
    }

    #[test]
    fn a_status_that_hides_a_channel_fails_naming_it() {
        let without_post = bundle_decisions(&CHANNELS[..4]);
        let findings = messages(&status_findings(&scope(4), &without_post));
        assert_eq!(
            findings,
            [
                "the subject's status: the scope names 4 decisions, but a subject's status is one \
                 decision per channel (5: email, sms, live_call, automated_call, post)",
                "the subject's status: no decision for post",
            ]
        );
    }

    #[test]
    fn a_channel_answered_twice_in_place_of_another_fails() {
        let sms_twice = bundle_decisions(&[
            v1::Channel::Email,
            v1::Channel::Sms,
            v1::Channel::LiveCall,
            v1::Channel::AutomatedCall,
            v1::Channel::Sms,
        ]);
        let findings = messages(&status_findings(&scope(5), &sms_twice));
        assert_eq!(
            findings,
            [
                "the subject's status: no decision for post",
                "the subject's status: 2 decisions for sms, where there is one per channel",
            ]
        );
    }

    #[test]
    fn a_status_decision_of_another_subject_or_time_fails() {
        let mut decisions = bundle_decisions(&CHANNELS);
        decisions[1] = decision("cust-43", v1::Channel::Email, at());
        decisions[2] = decision("cust-42", v1::Channel::Sms, Timestamp::from_unix_micros(0));
        let findings = status_findings(&scope(5), &decisions);
        assert_eq!(findings.len(), 2, "{findings:?}");
        assert_eq!(findings[0].decision, Some(1));
        assert!(findings[0]
            .message
            .contains("is about subject cust-43 of acme-cycles, not the scope's subject cust-42"));
        assert_eq!(findings[1].decision, Some(2));
        assert!(
            findings[1].message.contains("was asked at 1970-01-01"),
            "{findings:?}"
        );
    }

    #[test]
    fn a_status_naming_more_decisions_than_the_bundle_has_fails() {
        let findings = messages(&status_findings(
            &scope(5),
            &bundle_decisions(&CHANNELS)[..3],
        ));
        assert_eq!(
            findings,
            ["the subject's status: the scope names the last 5 decisions, but the bundle has 3"]
        );
    }

    #[test]
    fn campaigns_time_ranges_and_scopes_without_a_status_have_nothing_to_check() {
        let decisions = bundle_decisions(&CHANNELS[..1]);
        for scope in [
            json!({"kind": "campaign", "organisation": "acme-cycles", "subjects": ["cust-42"]}),
            json!({"kind": "time_range", "organisation": "acme-cycles"}),
            json!({"kind": "subject", "organisation": "acme-cycles", "subject": "cust-42"}),
        ] {
            assert_eq!(status_findings(&scope, &decisions), [], "{scope}");
        }
    }
}
