//! ESP events in (docs/INTEGRATION.md, "ESP events in"): one endpoint per
//! provider and organisation, each authenticated by the provider's own
//! scheme (checked in `consent-service`, with `consent-intake`), not by an
//! API key, which no ESP can hold:
//!
//! | endpoint | authenticated by |
//! | --- | --- |
//! | `POST /v1/webhooks/sendgrid/{organisation}` | ECDSA P-256 signature and timestamp headers (`X-Twilio-Email-Event-Webhook-*`) |
//! | `POST /v1/webhooks/ses/{organisation}` | the SNS message signature, under the configured certificate |
//! | `GET`, `POST /v1/webhooks/mailchimp/{organisation}/{secret}` | the secret in the URL |
//! | `POST /v1/webhooks/generic/{organisation}` | `x-consent-signature: sha256=<hex HMAC-SHA256 of the body>` |
//!
//! Each answers 200 with what it did ([`outcome_json`]) once the view has
//! applied what it recorded.

use crate::error::ApiError;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::Json;
use bytes::Bytes;
use consent_domain::SubjectId;
use consent_intake::esp::{generic, sendgrid};
use consent_service::{EspNote, EspOutcome, Ledger};
use serde_json::{json, Value};

/// The path prefix of the Mailchimp webhook, whose last segment is a
/// secret: never written to the logs ([`loggable_path`]).
const MAILCHIMP_PREFIX: &str = "/v1/webhooks/mailchimp/";

/// `path` as the request log may show it: the Mailchimp webhook's secret
/// segment replaced.
pub fn loggable_path(path: &str) -> std::borrow::Cow<'_, str> {
    match path.strip_prefix(MAILCHIMP_PREFIX) {
        Some(rest) => {
            let organisation = rest.split('/').next().unwrap_or_default();
            format!("{MAILCHIMP_PREFIX}{organisation}/<secret>").into()
        }
        None => path.into(),
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}

fn notes(notes: &[EspNote]) -> Vec<Value> {
    notes
        .iter()
        .map(|note| {
            json!({
                "providerEventId": note.provider_event_id,
                "eventType": note.event_type,
                "reason": note.reason,
            })
        })
        .collect()
}

/// The answer of every ESP webhook:
///
/// ```json
/// {"organisationId": "acme-cycles", "provider": "sendgrid", "payloadSha256": "<hex>",
///  "recorded": [{"eventId", "subjectId" (null for the address alone), "fact",
///                "providerEventId", "eventType", "replayed", "position"}],
///  "noted": [{"providerEventId", "eventType", "reason"}],
///  "ignored": [{"providerEventId", "eventType", "reason"}],
///  "subscription": {"topicArn", "subscribeUrl"} or null}
/// ```
pub fn outcome_json(outcome: &EspOutcome) -> Value {
    let recorded: Vec<Value> = outcome
        .recorded
        .iter()
        .map(|recorded| {
            let receipt = &recorded.receipt;
            json!({
                "eventId": receipt.event_id.to_string(),
                "subjectId": receipt.subject.as_ref().map(SubjectId::as_str),
                "fact": recorded.fact,
                "providerEventId": recorded.provider_event_id,
                "eventType": recorded.event_type,
                "replayed": receipt.replayed,
                "position": serde_json::to_value(&receipt.position).unwrap_or_default(),
            })
        })
        .collect();
    json!({
        "organisationId": outcome.organisation.as_str(),
        "provider": outcome.provider.as_str(),
        "payloadSha256": outcome.payload_sha256,
        "recorded": recorded,
        "noted": notes(&outcome.noted),
        "ignored": notes(&outcome.ignored),
        "subscription": outcome.subscription.as_ref().map(|s| json!({
            "topicArn": s.topic_arn,
            "subscribeUrl": s.subscribe_url,
        })),
    })
}

/// `POST /v1/webhooks/sendgrid/{organisation}`: the SendGrid Event Webhook.
pub async fn sendgrid_webhook(
    State(ledger): State<Ledger>,
    Path(organisation): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let outcome = ledger
        .sendgrid_webhook(
            &organisation,
            &body,
            header(&headers, sendgrid::SIGNATURE_HEADER),
            header(&headers, sendgrid::TIMESTAMP_HEADER),
        )
        .await?;
    Ok(Json(outcome_json(&outcome)))
}

/// `POST /v1/webhooks/ses/{organisation}`: SES notifications through SNS.
pub async fn ses_webhook(
    State(ledger): State<Ledger>,
    Path(organisation): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let outcome = ledger.ses_webhook(&organisation, &body).await?;
    Ok(Json(outcome_json(&outcome)))
}

/// `GET /v1/webhooks/mailchimp/{organisation}/{secret}`: Mailchimp's
/// validation request when the webhook is saved.
pub async fn mailchimp_validation(
    State(ledger): State<Ledger>,
    Path((organisation, secret)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    ledger.mailchimp_validation(&organisation, &secret)?;
    Ok(Json(
        json!({"organisationId": organisation, "provider": "mailchimp", "status": "ok"}),
    ))
}

/// `POST /v1/webhooks/mailchimp/{organisation}/{secret}`: a Mailchimp
/// audience event.
pub async fn mailchimp_webhook(
    State(ledger): State<Ledger>,
    Path((organisation, secret)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let outcome = ledger
        .mailchimp_webhook(&organisation, &secret, &body)
        .await?;
    Ok(Json(outcome_json(&outcome)))
}

/// `POST /v1/webhooks/generic/{organisation}`: the generic signed webhook.
pub async fn generic_webhook(
    State(ledger): State<Ledger>,
    Path(organisation): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let outcome = ledger
        .generic_webhook(
            &organisation,
            &body,
            header(&headers, generic::SIGNATURE_HEADER),
        )
        .await?;
    Ok(Json(outcome_json(&outcome)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mailchimp_secret_never_reaches_the_request_log() {
        assert_eq!(
            loggable_path("/v1/webhooks/mailchimp/acme-cycles/s3cret"),
            "/v1/webhooks/mailchimp/acme-cycles/<secret>"
        );
        assert_eq!(
            loggable_path("/v1/webhooks/sendgrid/acme-cycles"),
            "/v1/webhooks/sendgrid/acme-cycles"
        );
    }
}
