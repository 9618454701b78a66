//! The evidence endpoints: signed checkpoints, the key that verifies them,
//! evidence bundles (or their HTML report) and the eligibility CSV.

use crate::auth::Authorized;
use crate::error::ApiError;
use crate::json::ProtoJson;
use axum::extract::Query;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use consent_auth::Action;
use consent_domain::OrganisationId;
use consent_schema::v1;
use consent_service::signed_checkpoint_to_proto;
use serde::Deserialize;

/// `POST /v1/checkpoints`: sign a checkpoint of what the view has
/// committed now (the latest one again when nothing changed). The admin
/// only.
pub async fn sign_checkpoint(
    authorized: Authorized,
) -> Result<ProtoJson<v1::SignedCheckpoint>, ApiError> {
    let signed = authorized
        .for_admin("sign checkpoints")?
        .sign_checkpoint()
        .await?;
    Ok(ProtoJson(signed_checkpoint_to_proto(&signed)))
}

/// `GET /v1/checkpoints/latest`: the latest signed checkpoint (heads of
/// the whole ledger, no organisation's data): any authenticated caller.
pub async fn latest_checkpoint(
    authorized: Authorized,
) -> Result<ProtoJson<v1::SignedCheckpoint>, ApiError> {
    match authorized.for_any_caller().latest_checkpoint()? {
        Some(signed) => Ok(ProtoJson(signed_checkpoint_to_proto(&signed))),
        None => Err(ApiError::not_found(
            "no checkpoint has been signed yet; POST /v1/checkpoints signs one",
        )),
    }
}

/// `GET /v1/checkpoint-key`: the verifier key of this ledger's
/// checkpoints and bundles, as text (`origin+keyid+base64`).
pub async fn checkpoint_key(authorized: Authorized) -> Result<Response, ApiError> {
    let key = authorized.for_any_caller().checkpoint_key()?;
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

/// `POST /v1/exports`: an evidence bundle (`?format=html`: its report) of
/// the caller's organisation (the admin: any organisation).
pub async fn export(
    authorized: Authorized,
    Query(query): Query<ExportQuery>,
    ProtoJson(request): ProtoJson<v1::ExportRequest>,
) -> Result<Response, ApiError> {
    let ledger = authorized.for_organisation(
        Action::Read,
        "organisation_id",
        &OrganisationId::new(request.organisation_id.as_str()),
    )?;
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
    if html {
        let page = ledger.export_html(request).await?;
        return Ok(([(header::CONTENT_TYPE, "text/html; charset=utf-8")], page).into_response());
    }
    let bundle = ledger.export(request).await?;
    let body = bundle.to_json_pretty().map_err(internal)?;
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

/// `POST /v1/eligibility`: every subject's current eligibility for one
/// message, as CSV, for the caller's organisation (the admin: any).
pub async fn eligibility(
    authorized: Authorized,
    ProtoJson(request): ProtoJson<v1::EligibilityRequest>,
) -> Result<Response, ApiError> {
    let ledger = authorized.for_organisation(
        Action::Read,
        "organisation_id",
        &OrganisationId::new(request.organisation_id.as_str()),
    )?;
    let csv = ledger.eligibility(request).await?;
    Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], csv).into_response())
}

/// An answer that could not be written: a 500.
fn internal(error: impl ToString) -> ApiError {
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        error.to_string(),
    )
}
