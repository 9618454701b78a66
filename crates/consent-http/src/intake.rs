//! Opt-out intake endpoints (docs/OPT-OUTS.md):
//!
//! | endpoint | authenticated by | records |
//! | --- | --- | --- |
//! | `GET /u/{token}` | the token's MAC | nothing: a confirmation page whose button POSTs |
//! | `POST /u/{token}` (`List-Unsubscribe=One-Click`) | the token's MAC | `OptOutRecorded`, one-click, the token's channel |
//! | `POST /v1/webhooks/sms` | `x-consent-signature` (HMAC-SHA256 of the body) | `OptOutRecorded`, reply STOP, SMS |
//! | `POST /v1/signals/gpc` (`Sec-GPC: 1`) | an API key, like every `/v1` call | `ObjectionRecorded`, GPC signal |
//!
//! The `/u/...` routes and the SMS webhook are NOT behind API keys: a
//! recipient's mail client and an SMS provider hold none. They are
//! authenticated by the signed token and by the webhook's signature
//! instead (checked in `consent-service`, with `consent-intake`), so they
//! are registered as public endpoints. A GET never unsubscribes: link
//! scanners and previews follow GETs.

use crate::auth::Authorized;
use crate::error::ApiError;
use crate::json::ProtoJson;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use bytes::Bytes;
use consent_auth::Action;
use consent_domain::vocabulary::Channel;
use consent_domain::{OrganisationId, SubjectId};
use consent_intake::sms::SIGNATURE_HEADER;
use consent_intake::{FormError, TokenError};
use consent_schema::v1;
use consent_service::{
    GpcSignal, IntakeError, IntakeReceipt, Ledger, OneClickRequest, TokenStatus,
};
use maud::{html, Markup, DOCTYPE};

/// The response header saying what a one-click POST did: `recorded`, or
/// `already-recorded` for a replayed token.
pub const OPT_OUT_HEADER: &str = "consent-opt-out";
/// The response header naming the opt-out's event id.
pub const EVENT_ID_HEADER: &str = "consent-event-id";

impl From<IntakeError> for ApiError {
    fn from(error: IntakeError) -> Self {
        let message = error.to_string();
        let with_field = |error: ApiError, field: &str| ApiError {
            field: Some(field.to_owned()),
            ..error
        };
        match error {
            IntakeError::NotConfigured(_) => ApiError::not_found(message),
            IntakeError::Token(TokenError::Malformed(_)) => {
                ApiError::invalid(Some("token".to_owned()), message)
            }
            IntakeError::Token(TokenError::BadSignature) => with_field(
                ApiError::new(StatusCode::FORBIDDEN, "permission_denied", message),
                "token",
            ),
            IntakeError::Form(FormError::ContentType(_) | FormError::NoBoundary) => {
                ApiError::invalid(Some("content-type".to_owned()), message)
            }
            IntakeError::Form(FormError::NotOneClick) => {
                ApiError::invalid(Some("List-Unsubscribe".to_owned()), message)
            }
            IntakeError::BadSignature => with_field(
                ApiError::new(StatusCode::FORBIDDEN, "permission_denied", message),
                SIGNATURE_HEADER,
            ),
            IntakeError::Header { header, .. } => {
                ApiError::invalid(Some(header.to_owned()), message)
            }
            IntakeError::EspNotConfigured { .. } => ApiError::not_found(message),
            IntakeError::Esp(error) if error.is_authentication() => with_field(
                ApiError::new(StatusCode::FORBIDDEN, "permission_denied", message),
                &error.field(),
            ),
            IntakeError::Esp(error) => ApiError::invalid(Some(error.field()), message),
            IntakeError::Invalid(error) => ApiError::invalid(Some(error.field), message),
            IntakeError::Ledger(error) => ApiError::from(error),
        }
    }
}

fn header_text(headers: &HeaderMap, name: impl header::AsHeaderName) -> String {
    headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// `GET /u/{token}`: what the link unsubscribes from, with a button that
/// POSTs the one-click form. Records nothing.
pub async fn unsubscribe_page(
    State(ledger): State<Ledger>,
    Path(token): Path<String>,
) -> Result<Html<String>, ApiError> {
    let status = ledger.unsubscribe_token(&token)?;
    Ok(Html(confirmation_page(&status).into_string()))
}

/// `POST /u/{token}` with `List-Unsubscribe=One-Click`: records the
/// opt-out and answers once checks refuse.
pub async fn one_click(
    State(ledger): State<Ledger>,
    Path(token): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let receipt = ledger
        .one_click_unsubscribe(OneClickRequest {
            token,
            content_type: header_text(&headers, header::CONTENT_TYPE),
            body: body.to_vec(),
            user_agent: header_text(&headers, header::USER_AGENT),
        })
        .await?;
    let page = done_page(&receipt).into_string();
    let mut response = Html(page).into_response();
    let outcome = if receipt.replayed {
        "already-recorded"
    } else {
        "recorded"
    };
    response
        .headers_mut()
        .insert(OPT_OUT_HEADER, HeaderValue::from_static(outcome));
    if let Ok(id) = HeaderValue::from_str(&receipt.event_id.to_string()) {
        response.headers_mut().insert(EVENT_ID_HEADER, id);
    }
    Ok(response)
}

/// `POST /v1/webhooks/sms`: an inbound SMS from the provider, signed.
/// Answers 200 whether or not anything was recorded (providers retry
/// errors), with a note saying which:
///
/// ```json
/// {"recorded": [{"eventId": "...", "subjectId": "...", "position": {...}}],
///  "organisationId": "acme-cycles", "note": "..."}
/// ```
pub async fn sms_webhook(
    State(ledger): State<Ledger>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<serde_json::Value>, ApiError> {
    let signature = headers
        .get(SIGNATURE_HEADER)
        .and_then(|value| value.to_str().ok());
    let outcome = ledger.sms_inbound(&body, signature).await?;
    let recorded: Vec<serde_json::Value> = outcome
        .recorded
        .iter()
        .map(|receipt| {
            serde_json::json!({
                "eventId": receipt.event_id.to_string(),
                "subjectId": receipt.subject.as_ref().map(SubjectId::as_str),
                "position": serde_json::to_value(&receipt.position).unwrap_or_default(),
            })
        })
        .collect();
    Ok(Json(serde_json::json!({
        "recorded": recorded,
        "organisationId": outcome.organisation.as_ref().map(OrganisationId::as_str),
        "note": outcome.note,
    })))
}

/// The body of `POST /v1/signals/gpc`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GpcBody {
    #[serde(alias = "organisation_id")]
    organisation_id: String,
    #[serde(alias = "subject_id")]
    subject_id: String,
}

/// `POST /v1/signals/gpc`: a visitor's Global Privacy Control signal,
/// forwarded with its `Sec-GPC: 1` header by the organisation's web
/// backend (with its API key): records an objection.
pub async fn gpc_signal(
    authorized: Authorized,
    headers: HeaderMap,
    ProtoJson(body): ProtoJson<GpcBody>,
) -> Result<ProtoJson<v1::AppendedEvent>, ApiError> {
    let ledger = authorized.for_organisation(
        Action::Append,
        "organisationId",
        &OrganisationId::new(body.organisation_id.clone()),
    )?;
    let receipt = ledger
        .gpc_signal(GpcSignal {
            organisation_id: body.organisation_id,
            subject_id: body.subject_id,
            sec_gpc: headers
                .get("sec-gpc")
                .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned()),
            user_agent: header_text(&headers, header::USER_AGENT),
        })
        .await?;
    Ok(ProtoJson(v1::AppendedEvent {
        event_id: receipt.event_id.to_string(),
        position: Some(receipt.position),
        unsubscribe_url: String::new(),
        already_present: receipt.replayed,
    }))
}

fn channel_words(channel: Channel) -> &'static str {
    match channel {
        Channel::Email => "emails",
        Channel::Sms => "text messages",
        Channel::LiveCall => "marketing calls",
        Channel::AutomatedCall => "automated calls",
        Channel::Post => "post",
    }
}

fn page(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en-GB" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="robots" content="noindex";
                title { (title) }
            }
            body {
                main { h1 { (title) } (body) }
            }
        }
    }
}

fn confirmation_page(status: &TokenStatus) -> Markup {
    let claim = &status.claim;
    if status.already_used {
        return page(
            "You are unsubscribed",
            html! {
                p { "You have already unsubscribed from " (channel_words(claim.channel))
                    " from " (claim.organisation.as_str()) ". Nothing more is needed." }
            },
        );
    }
    page(
        "Unsubscribe",
        html! {
            p { "Stop " (channel_words(claim.channel)) " from "
                (claim.organisation.as_str()) "?" }
            // Posts the RFC 8058 form to this same URL.
            form method="post" enctype="application/x-www-form-urlencoded" {
                input type="hidden" name="List-Unsubscribe" value="One-Click";
                button type="submit" { "Unsubscribe" }
            }
        },
    )
}

fn done_page(receipt: &IntakeReceipt) -> Markup {
    if receipt.replayed {
        page(
            "You are unsubscribed",
            html! { p { "This unsubscribe was already recorded; nothing new was recorded." } },
        )
    } else {
        page(
            "You are unsubscribed",
            html! { p { "Your unsubscribe from " (receipt.organisation.as_str())
            " is recorded and takes effect now." } },
        )
    }
}
