//! The evidence endpoints: signed checkpoints, the key that verifies them,
//! evidence bundles (or their HTML report) and the eligibility CSV.

use crate::error::ApiError;
use crate::json::ProtoJson;
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use consent_audit::{audit_bundle, bundle_report_html};
use consent_domain::Timestamp;
use consent_export::SignedCheckpoint;
use consent_schema::{timestamp_to_proto, v1};
use consent_service::Ledger;
use serde::Deserialize;

/// `POST /v1/checkpoints`: sign a checkpoint of what the view has
/// committed now (the latest one again when nothing changed).
pub async fn sign_checkpoint(
    State(ledger): State<Ledger>,
) -> Result<ProtoJson<v1::SignedCheckpoint>, ApiError> {
    let ledger_for_task = ledger.clone();
    let signed = tokio::task::spawn_blocking(move || ledger_for_task.sign_checkpoint())
        .await
        .map_err(|error| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                error.to_string(),
            )
        })??;
    Ok(ProtoJson(signed_checkpoint_to_proto(&signed)))
}

/// `GET /v1/checkpoints/latest`: the latest signed checkpoint.
pub async fn latest_checkpoint(
    State(ledger): State<Ledger>,
) -> Result<ProtoJson<v1::SignedCheckpoint>, ApiError> {
    match ledger.latest_checkpoint()? {
        Some(signed) => Ok(ProtoJson(signed_checkpoint_to_proto(&signed))),
        None => Err(ApiError::not_found(
            "no checkpoint has been signed yet; POST /v1/checkpoints signs one",
        )),
    }
}

/// `GET /v1/checkpoint-key`: the verifier key of this ledger's
/// checkpoints and bundles, as text (`origin+keyid+base64`).
pub async fn checkpoint_key(State(ledger): State<Ledger>) -> Result<Response, ApiError> {
    let key = ledger.checkpoint_key()?;
    Ok((
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("{key}\n"),
    )
        .into_response())
}

#[derive(Deserialize)]
pub struct ExportQuery {
    /// `bundle` (default): the evidence bundle file; `html`: the
    /// regulator's report of it.
    #[serde(default)]
    format: Option<String>,
}

/// `POST /v1/exports`: an evidence bundle (`?format=html`: its report).
pub async fn export(
    State(ledger): State<Ledger>,
    Query(query): Query<ExportQuery>,
    ProtoJson(request): ProtoJson<v1::ExportRequest>,
) -> Result<Response, ApiError> {
    let html = match query.format.as_deref() {
        None | Some("bundle") => false,
        Some("html") => true,
        Some(other) => {
            return Err(ApiError::invalid(
                Some("format".to_owned()),
                format!("format must be `bundle` or `html`, not `{other}`"),
            ))
        }
    };
    let bundle = ledger.export(request).await?;
    if html {
        let key = ledger.checkpoint_key()?;
        let catalogue = ledger.catalogue().clone();
        let page = tokio::task::spawn_blocking(move || {
            let report = audit_bundle(&bundle, &[key], &catalogue);
            bundle_report_html(&bundle, &report, &catalogue, now())
        })
        .await
        .map_err(|error| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                error.to_string(),
            )
        })?;
        return Ok(([(header::CONTENT_TYPE, "text/html; charset=utf-8")], page).into_response());
    }
    let body = bundle.to_json_pretty().map_err(|error| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            error.to_string(),
        )
    })?;
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

/// `POST /v1/eligibility`: every subject's current eligibility for one
/// message, as CSV.
pub async fn eligibility(
    State(ledger): State<Ledger>,
    ProtoJson(request): ProtoJson<v1::EligibilityRequest>,
) -> Result<Response, ApiError> {
    let message = request.message.unwrap_or_default();
    let csv = tokio::task::spawn_blocking(move || {
        let mut csv = Vec::new();
        ledger
            .eligibility_csv(&request.organisation_id, &message, &mut csv)
            .map(|_| csv)
    })
    .await
    .map_err(|error| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            error.to_string(),
        )
    })??;
    Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], csv).into_response())
}

fn signed_checkpoint_to_proto(signed: &SignedCheckpoint) -> v1::SignedCheckpoint {
    let checkpoint = &signed.checkpoint;
    v1::SignedCheckpoint {
        note: signed.note.clone(),
        origin: checkpoint.origin.clone(),
        ledger_head: checkpoint.root_hash.to_base64(),
        records: checkpoint.records(),
        signed_at: Some(timestamp_to_proto(Timestamp::from_unix_micros(
            i64::try_from(checkpoint.timestamp_ms)
                .unwrap_or(i64::MAX / 1000)
                .saturating_mul(1000),
        ))),
    }
}

fn now() -> Timestamp {
    let micros = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|since| i64::try_from(since.as_micros()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    Timestamp::from_unix_micros(micros)
}
