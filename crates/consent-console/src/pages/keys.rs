//! Keys (admin only): list, create and revoke the API keys. A change
//! applies at once, to the API and to the console: a revoked key's
//! sessions end at their next request.

use crate::keys::{KeyAdministration, NewKey};
use crate::layout::{csrf_field, page};
use crate::page_error::PageError;
use crate::pages::{organisation_id, path_segment, posted, Posted};
use crate::session::{describe, SignedIn};
use axum::extract::{Path, Query};
use axum::response::{IntoResponse, Redirect, Response};
use consent_auth::{Caller, Principal};
use maud::{html, Markup};
use serde::Deserialize;
use std::sync::Arc;

#[derive(Deserialize, Default)]
pub struct KeysQuery {
    #[serde(default)]
    revoked: Option<String>,
}

/// `GET /console/keys`.
pub async fn keys_page(
    signed_in: SignedIn,
    Query(query): Query<KeysQuery>,
) -> Result<Markup, PageError> {
    signed_in.for_admin("administer the API keys")?;
    let notice = query
        .revoked
        .map(|id| format!("Key {id} is revoked: it can no longer call the ledger or sign in."));
    render(&signed_in, notice.as_deref(), None)
}

fn administration(signed_in: &SignedIn) -> Option<Arc<dyn KeyAdministration>> {
    signed_in.console().inner.keys.clone()
}

fn render(
    signed_in: &SignedIn,
    notice: Option<&str>,
    created: Option<&NewKey>,
) -> Result<Markup, PageError> {
    let Some(keys) = administration(signed_in) else {
        return Ok(page(
            signed_in,
            "/console/keys",
            "Keys",
            html! {
                div.notice role="status" {
                    p { "This ledger reads no key file it can change (it runs without keys, or its keys \
                         come from the environment): keys are managed where they are defined." }
                }
            },
        ));
    };
    let entries = keys
        .list()
        .map_err(|error| PageError::Internal(error.to_string()))?;
    let body = html! {
        @if let Some(notice) = notice { div.notice role="status" { p { (notice) } } }
        @if let Some(created) = created {
            div.notice role="status" {
                p { "Key " code { (created.id) } " is created. Copy it now: it is shown once, and the ledger keeps only its SHA-256." }
                p.secret #new-key { (created.secret) }
            }
        }
        table {
            caption { (entries.len()) " API " (if entries.len() == 1 { "key" } else { "keys" }) }
            thead { tr { th scope="col" { "Id" } th scope="col" { "Who" } th scope="col" { "Created" } th scope="col" { "Note" } th scope="col" { "Action" } } }
            tbody {
                @for entry in &entries {
                    @let id = entry.hash.id();
                    tr {
                        td { code { (id) } }
                        td { (describe(&Caller::Key(entry.principal.clone()))) }
                        td { (entry.created.as_deref().unwrap_or("not recorded")) }
                        td { (entry.note.as_deref().unwrap_or("")) }
                        td {
                            form.inline method="post" action={"/console/keys/" (path_segment(&id)) "/revoke"} {
                                (csrf_field(signed_in.csrf()))
                                button.danger type="submit" aria-label={"Revoke key " (id)} { "Revoke" }
                            }
                        }
                    }
                }
            }
        }
        h2 { "Create a key" }
        form.panel method="post" action="/console/keys" {
            (csrf_field(signed_in.csrf()))
            fieldset {
                legend { "Whose key" }
                input #for-organisation type="radio" name="holder" value="organisation" checked;
                label for="for-organisation" { "An organisation's" }
                input #for-admin type="radio" name="holder" value="admin";
                label for="for-admin" { "The admin's" }
            }
            div.field {
                label for="organisation" { "Organisation (for an organisation's key)" }
                input #organisation type="text" name="organisation";
            }
            div.field {
                label for="note" { "What it is for" }
                input #note type="text" name="note";
            }
            button type="submit" { "Create the key" }
        }
    };
    Ok(page(signed_in, "/console/keys", "Keys", body))
}

#[derive(Deserialize)]
pub struct CreateForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    holder: String,
    #[serde(default)]
    organisation: String,
    #[serde(default)]
    note: String,
}

/// `POST /console/keys`: creates a key and shows it once.
pub async fn create_key(
    signed_in: SignedIn,
    form: Posted<CreateForm>,
) -> Result<Response, PageError> {
    let form = posted(form)?;
    signed_in.check_csrf(&form.csrf)?;
    signed_in.for_admin("create API keys")?;
    let keys = administration(&signed_in)
        .ok_or_else(|| PageError::NotFound("this ledger has no key file".to_owned()))?;
    let principal = match form.holder.as_str() {
        "admin" => Principal::Admin,
        "organisation" => Principal::Organisation(organisation_id(&form.organisation)?),
        other => {
            return Err(PageError::invalid(
                "holder",
                format!("`organisation` or `admin`, not {other:?}"),
            ))
        }
    };
    let note = Some(form.note.trim().to_owned()).filter(|note| !note.is_empty());
    let created = keys
        .create(principal, note)
        .map_err(|error| PageError::Internal(error.to_string()))?;
    tracing::info!(id = %created.id, by = %signed_in.who(), "console: API key created");
    Ok(render(&signed_in, None, Some(&created))?.into_response())
}

#[derive(Deserialize)]
pub struct RevokeForm {
    #[serde(default)]
    csrf: String,
}

/// `POST /console/keys/{id}/revoke`.
pub async fn revoke_key(
    signed_in: SignedIn,
    Path(id): Path<String>,
    form: Posted<RevokeForm>,
) -> Result<Response, PageError> {
    let form = posted(form)?;
    signed_in.check_csrf(&form.csrf)?;
    signed_in.for_admin("revoke API keys")?;
    let keys = administration(&signed_in)
        .ok_or_else(|| PageError::NotFound("this ledger has no key file".to_owned()))?;
    let id = id.trim().to_owned();
    if !keys
        .revoke(&id)
        .map_err(|error| PageError::Internal(error.to_string()))?
    {
        return Err(PageError::NotFound(format!("there is no key with id {id}")));
    }
    tracing::info!(%id, by = %signed_in.who(), "console: API key revoked");
    Ok(Redirect::to(&format!("/console/keys?revoked={}", path_segment(&id))).into_response())
}
