//! What an export covers, validated from the API's `ExportRequest`.

use consent_domain::rules::{CheckRequest, RuleSetId};
use consent_domain::vocabulary::Channel;
use consent_domain::{OrganisationId, SubjectId, Timestamp};
use consent_schema::{
    check_from_proto, timestamp_from_proto, timestamp_to_proto, v1, ValidationError,
};
use serde_json::{json, Value};

/// Most subjects one campaign export may name (a bundle is one file).
pub const MAX_CAMPAIGN_SUBJECTS: usize = 100_000;

/// The channels a subject bundle's status answers for, in its order.
pub const STATUS_CHANNELS: [Channel; 5] = Channel::ALL;

/// A validated export request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportRequest {
    pub organisation: OrganisationId,
    pub scope: ExportScope,
    /// Decide under this rule set; `None`: the one in force at each time.
    pub rule_set: Option<RuleSetId>,
    /// A previously published checkpoint note to prove consistency with.
    pub previous_checkpoint: Option<String>,
}

impl ExportRequest {
    /// Every question the export asks beyond the recorded sends.
    pub fn questions(&self) -> Vec<&CheckRequest> {
        match &self.scope {
            ExportScope::Subject { checks, .. } => checks.iter().collect(),
            ExportScope::Campaign { message, .. } => vec![message],
            ExportScope::TimeRange { .. } => Vec::new(),
        }
    }

    /// Every question the export asks, to adjust in place (the ledger puts
    /// a check's contact point in the form the rules compare).
    pub fn questions_mut(&mut self) -> Vec<&mut CheckRequest> {
        match &mut self.scope {
            ExportScope::Subject { checks, .. } => checks.iter_mut().collect(),
            ExportScope::Campaign { message, .. } => vec![message],
            ExportScope::TimeRange { .. } => Vec::new(),
        }
    }
}

/// What an export covers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExportScope {
    /// One subject: every event, a decision for every recorded send, the
    /// further questions asked, and the status at `status_at` (the
    /// export's time): may the organisation contact them then, one
    /// decision per channel ([`STATUS_CHANNELS`]), the last decisions of
    /// the bundle.
    Subject {
        subject: SubjectId,
        checks: Vec<CheckRequest>,
        status_at: Timestamp,
    },
    /// A campaign: the same message to each subject at the same time.
    Campaign {
        subjects: Vec<SubjectId>,
        message: CheckRequest,
    },
    /// Every subject with an event in `[from, to)`, and a decision for
    /// every send in it.
    TimeRange { from: Timestamp, to: Timestamp },
}

impl ExportRequest {
    /// Validates the wire request; errors name the field. `now` is the
    /// default time of a subject export's extra checks without `at`, and
    /// the time of its status.
    pub fn from_proto(
        request: &v1::ExportRequest,
        now: Timestamp,
    ) -> Result<Self, ValidationError> {
        let organisation_id = &request.organisation_id;
        let rule_set =
            (!request.rule_set_id.is_empty()).then(|| RuleSetId(request.rule_set_id.clone()));
        // Every question of the export is asked for its organisation (and
        // the export's rule set, if one is named).
        let question = |template: &v1::CheckRequest, subject_id: &str, field: &str| {
            let mut asked = template.clone();
            asked.organisation_id = organisation_id.clone();
            asked.subject_id = subject_id.to_owned();
            if let Some(rule_set) = &rule_set {
                asked.rule_set_id = rule_set.0.clone();
            }
            check_from_proto(&asked, now).map_err(|error| error.within(field))
        };
        let scope = match &request.scope {
            None => {
                return Err(ValidationError::new(
                    "scope",
                    "one of subject, campaign or time_range is required",
                ))
            }
            Some(v1::export_request::Scope::Subject(subject)) => {
                let subject_id = question(&placeholder_check(), &subject.subject_id, "subject")?
                    .subject
                    .ok_or_else(|| ValidationError::new("subject.subject_id", "required"))?;
                let checks = subject
                    .checks
                    .iter()
                    .enumerate()
                    .map(|(i, check)| {
                        question(check, subject_id.as_str(), &format!("subject.checks[{i}]"))
                    })
                    .collect::<Result<_, _>>()?;
                ExportScope::Subject {
                    subject: subject_id,
                    checks,
                    status_at: now,
                }
            }
            Some(v1::export_request::Scope::Campaign(campaign)) => {
                let message = campaign.message.as_ref().ok_or_else(|| {
                    ValidationError::new("campaign.message", "the message is required")
                })?;
                if message.at.is_none() {
                    return Err(ValidationError::new(
                        "campaign.message.at",
                        "a campaign export needs the send time",
                    ));
                }
                if campaign.subject_ids.is_empty() {
                    return Err(ValidationError::new(
                        "campaign.subject_ids",
                        "name at least one subject",
                    ));
                }
                if campaign.subject_ids.len() > MAX_CAMPAIGN_SUBJECTS {
                    return Err(ValidationError::new(
                        "campaign.subject_ids",
                        format!("at most {MAX_CAMPAIGN_SUBJECTS} subjects per export"),
                    ));
                }
                let mut subjects = Vec::with_capacity(campaign.subject_ids.len());
                let mut template = None;
                for (i, subject_id) in campaign.subject_ids.iter().enumerate() {
                    let asked =
                        question(message, subject_id, "campaign.message").map_err(|error| {
                            ValidationError::new(
                                format!("campaign.subject_ids[{i}]"),
                                error.to_string(),
                            )
                        })?;
                    subjects.push(asked.subject.clone().ok_or_else(|| {
                        ValidationError::new("campaign.subject_ids", "a subject id is required")
                    })?);
                    template.get_or_insert(asked);
                }
                subjects.sort();
                subjects.dedup();
                ExportScope::Campaign {
                    subjects,
                    message: template.ok_or_else(|| {
                        ValidationError::new("campaign.subject_ids", "name at least one subject")
                    })?,
                }
            }
            Some(v1::export_request::Scope::TimeRange(range)) => {
                let bound =
                    |field: &str, value: &Option<consent_schema::pbjson_types::Timestamp>| {
                        value
                            .as_ref()
                            .ok_or_else(|| ValidationError::new(field, "required"))
                            .and_then(|at| timestamp_from_proto(field, at))
                    };
                let from = bound("time_range.from", &range.from)?;
                let to = bound("time_range.to", &range.to)?;
                if to <= from {
                    return Err(ValidationError::new(
                        "time_range.to",
                        "must be after time_range.from",
                    ));
                }
                ExportScope::TimeRange { from, to }
            }
        };
        // The organisation id itself, checked like any question's.
        let organisation = question(&placeholder_check(), "-", "organisation_id")?.organisation;
        Ok(Self {
            organisation,
            scope,
            rule_set,
            previous_checkpoint: (!request.previous_checkpoint.is_empty())
                .then(|| request.previous_checkpoint.clone()),
        })
    }

    /// The scope as the bundle records it (and the manifest signs).
    pub fn scope_json(&self) -> Value {
        let organisation = self.organisation.as_str();
        match &self.scope {
            ExportScope::Subject {
                subject,
                checks,
                status_at,
            } => json!({
                "kind": "subject",
                "organisation": organisation,
                "subject": subject.as_str(),
                "extra_checks": checks.len(),
                "status": {
                    "at": serde_json::to_value(timestamp_to_proto(*status_at)).unwrap_or(Value::Null),
                    "decisions": STATUS_CHANNELS.len(),
                },
            }),
            ExportScope::Campaign { subjects, message } => json!({
                "kind": "campaign",
                "organisation": organisation,
                "subjects": subjects.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
                "message": serde_json::to_value(message_template(message)).unwrap_or(Value::Null),
            }),
            ExportScope::TimeRange { from, to } => json!({
                "kind": "time_range",
                "organisation": organisation,
                "from": serde_json::to_value(timestamp_to_proto(*from)).unwrap_or(Value::Null),
                "to": serde_json::to_value(timestamp_to_proto(*to)).unwrap_or(Value::Null),
            }),
        }
    }
}

/// A campaign's message without the subject it was first asked for.
fn message_template(message: &CheckRequest) -> v1::CheckRequest {
    let mut template = consent_schema::check_to_proto(message);
    template.subject_id.clear();
    template
}

/// A question valid in everything but the ids, to validate ids with.
fn placeholder_check() -> v1::CheckRequest {
    v1::CheckRequest {
        channel: v1::Channel::Email.into(),
        purpose: v1::Purpose::Commercial.into(),
        message_class: v1::MessageClass::Marketing.into(),
        ..Default::default()
    }
}
