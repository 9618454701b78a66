//! The endpoints: each turns a wire request into one ledger operation and
//! its answer (or error) into a response.

use crate::auth::Authorized;
use crate::error::ApiError;
use crate::history_query::HistoryQuery;
use crate::json::ProtoJson;
use crate::status::status_document;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query};
use axum::Json;
use consent_auth::Action;
use consent_domain::{OrganisationId, SubjectId};
use consent_schema::v1;

/// `POST /v1/events`: append facts (validated as a whole), every one of
/// the caller's organisation.
pub async fn append(
    authorized: Authorized,
    ProtoJson(request): ProtoJson<v1::AppendRequest>,
) -> Result<ProtoJson<v1::AppendResponse>, ApiError> {
    let ledger = authorized.for_each_organisation(
        Action::Append,
        "events",
        request
            .events
            .iter()
            .map(|event| event.organisation_id.as_str()),
    )?;
    let appended = ledger.append_response(request.events).await?;
    Ok(ProtoJson(v1::AppendResponse { appended }))
}

/// `POST /v1/checks`: decide one check.
pub async fn check(
    authorized: Authorized,
    ProtoJson(request): ProtoJson<v1::CheckRequest>,
) -> Result<ProtoJson<v1::Decision>, ApiError> {
    let ledger = authorized.for_organisation(
        Action::Check,
        "organisation_id",
        &OrganisationId::new(request.organisation_id.as_str()),
    )?;
    Ok(ProtoJson(ledger.check(request).await?))
}

/// `POST /v1/checks:batch`: decide several checks.
pub async fn check_batch(
    authorized: Authorized,
    ProtoJson(request): ProtoJson<v1::CheckBatchRequest>,
) -> Result<ProtoJson<v1::CheckBatchResponse>, ApiError> {
    let ledger = authorized.for_each_organisation(
        Action::Check,
        "checks",
        request
            .checks
            .iter()
            .map(|check| check.organisation_id.as_str()),
    )?;
    let decisions = ledger.check_batch(request.checks).await?;
    Ok(ProtoJson(v1::CheckBatchResponse { decisions }))
}

/// `GET /v1/organisations/{organisation}/subjects/{subject}/history`: the
/// subject's events, as of `at`, with a decision when the query asks.
pub async fn history(
    authorized: Authorized,
    Path((organisation, subject)): Path<(String, String)>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<ProtoJson<v1::HistoryResponse>, ApiError> {
    let organisation = OrganisationId::new(organisation);
    let ledger = authorized.for_organisation(Action::Read, "organisation", &organisation)?;
    let Query(pairs) = query.map_err(|rejection| ApiError::invalid(None, rejection.body_text()))?;
    let query = HistoryQuery::from_pairs(pairs)?;
    let response = ledger
        .history(
            &organisation,
            &SubjectId::new(subject),
            query.at,
            query.decision_for,
        )
        .await?;
    Ok(ProtoJson(response))
}

/// `GET /v1/organisations/{organisation}/suppressions?after=&limit=`: one
/// page of the organisation's suppression list; `after` is the previous
/// page's `nextCursor`.
pub async fn suppressions(
    authorized: Authorized,
    Path(organisation): Path<String>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<ProtoJson<v1::SuppressionListResponse>, ApiError> {
    let organisation = OrganisationId::new(organisation);
    let ledger = authorized.for_organisation(Action::Read, "organisation", &organisation)?;
    let Query(pairs) = query.map_err(|rejection| ApiError::invalid(None, rejection.body_text()))?;
    let mut request = v1::SuppressionListRequest {
        organisation_id: organisation.as_str().to_owned(),
        ..v1::SuppressionListRequest::default()
    };
    for (name, value) in pairs {
        match name.as_str() {
            "after" => request.after = value,
            "limit" => {
                request.limit = value.parse().map_err(|_| {
                    ApiError::invalid(
                        Some("limit".to_owned()),
                        format!(
                            "`{value}` is not a number of entries (1 to {})",
                            consent_service::MAX_SUPPRESSION_PAGE
                        ),
                    )
                })?
            }
            other => {
                return Err(ApiError::invalid(
                    Some(other.to_owned()),
                    "not a parameter of the suppression list (`after`, `limit`)".to_owned(),
                ))
            }
        }
    }
    Ok(ProtoJson(ledger.suppressions(request).await?))
}

/// `GET /v1/routing?organisationId=&subjectId=`: the partition of a
/// subject's facts and whether this instance owns it, for a router in front
/// of instances that each own some partitions:
///
/// ```json
/// {"organisationId": "acme-motors", "subjectId": "cust-42", "partition": 5,
///  "partitions": 8, "ownedHere": false, "ownedPartitions": "0-3"}
/// ```
pub async fn routing(
    authorized: Authorized,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let Query(pairs) = query.map_err(|rejection| ApiError::invalid(None, rejection.body_text()))?;
    let mut organisation = None;
    let mut subject = None;
    for (name, value) in pairs {
        let slot = match name.as_str() {
            "organisationId" | "organisation_id" => &mut organisation,
            "subjectId" | "subject_id" => &mut subject,
            _ => {
                return Err(ApiError::invalid(
                    Some(name.clone()),
                    format!(
                    "unknown query parameter `{name}`; expected `organisationId` and `subjectId`"
                ),
                ))
            }
        };
        if slot.replace(value).is_some() {
            return Err(ApiError::invalid(
                Some(name.clone()),
                format!("query parameter `{name}` is given more than once"),
            ));
        }
    }
    let required = |value: Option<String>, name: &str| {
        value.filter(|v| !v.is_empty()).ok_or_else(|| {
            ApiError::invalid(
                Some(name.to_owned()),
                format!(
                    "`{name}` is required: the routing key is the organisation and the subject"
                ),
            )
        })
    };
    let organisation = OrganisationId::new(required(organisation, "organisationId")?);
    let subject = SubjectId::new(required(subject, "subjectId")?);
    let ledger = authorized.for_organisation(Action::Read, "organisationId", &organisation)?;
    let routing = ledger.routing(&organisation, &subject);
    Ok(Json(serde_json::json!({
        "organisationId": organisation.as_str(),
        "subjectId": subject.as_str(),
        "partition": routing.partition,
        "partitions": routing.partitions,
        "ownedHere": routing.owned,
        "ownedPartitions": ledger.owned_partitions().to_string(),
    })))
}

/// `GET /v1/rule-sets`: every rule set, oldest first.
pub async fn rule_sets(authorized: Authorized) -> ProtoJson<Vec<v1::RuleSetDescription>> {
    ProtoJson(authorized.for_any_caller().rule_sets())
}

/// `GET /v1/status`: projection offsets, lag, dead letters, log reachability.
/// Counters and offsets over all organisations, as `/metrics` shows them:
/// any authenticated caller.
pub async fn status(authorized: Authorized) -> Json<serde_json::Value> {
    Json(status_document(&authorized.for_any_caller().status().await))
}

/// Any other path.
pub async fn not_found() -> ApiError {
    ApiError::not_found("no such endpoint")
}

/// A known path with another method.
pub async fn method_not_allowed() -> ApiError {
    ApiError::new(
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this endpoint does not accept that method",
    )
}
