//! The suppression list of an organisation: every address it may not
//! market to (opt-outs and objections received for it, TPS/CTPS listings
//! and call preferences of a number, erasures), a page at a time, and a
//! search by address (through its digest).

use crate::layout::page;
use crate::page_error::PageError;
use crate::pages::{organisation_id, query_value, timeline_path};
use crate::session::SignedIn;
use axum::extract::Query;
use consent_domain::vocabulary::Channel;
use consent_report::words;
use consent_schema::{v1, Vocabulary};
use consent_service::AddressSearch;
use maud::{html, Markup};
use serde::Deserialize;

/// Entries a page shows.
const PAGE: u32 = 50;

#[derive(Deserialize, Default)]
pub struct SuppressionQuery {
    #[serde(default)]
    organisation: String,
    /// The previous page's last address.
    #[serde(default)]
    after: String,
    /// An email address or telephone number to look up.
    #[serde(default)]
    q: String,
}

/// `GET /console/suppressions?organisation=&after=&q=`.
pub async fn suppressions_page(
    signed_in: SignedIn,
    Query(query): Query<SuppressionQuery>,
) -> Result<Markup, PageError> {
    let organisation_text = match signed_in.own_organisation() {
        Some(own) => own.as_str().to_owned(),
        None => query.organisation.trim().to_owned(),
    };
    let search = query.q.trim();
    let form = html! {
        form.panel method="get" action="/console/suppressions" role="search" {
            div.field {
                label for="organisation" { "Organisation" }
                @if signed_in.own_organisation().is_some() {
                    input #organisation type="text" name="organisation" value=(organisation_text) readonly;
                } @else {
                    input #organisation type="text" name="organisation" value=(organisation_text) required;
                }
            }
            div.field {
                label for="q" { "Find an address (optional)" }
                p.hint #q-hint { "An email address or a telephone number; empty to list every address." }
                input #q type="search" name="q" value=(search) aria-describedby="q-hint";
            }
            button type="submit" { "Show" }
        }
    };
    if organisation_text.is_empty() {
        return Ok(page(
            &signed_in,
            "/console/suppressions",
            "Suppression list",
            html! { p { "Name the organisation whose list to show." } (form) },
        ));
    }
    let organisation = organisation_id(&organisation_text)?;
    let ledger = signed_in.for_organisation(&organisation)?;
    let (entries, next) = if search.is_empty() {
        let page = ledger
            .suppressions(v1::SuppressionListRequest {
                organisation_id: organisation.as_str().to_owned(),
                after: query.after.clone(),
                limit: PAGE,
            })
            .await?;
        (page.entries, page.next_cursor)
    } else {
        let kind = if search.contains('@') {
            AddressSearch::Email
        } else {
            AddressSearch::Telephone
        };
        (
            ledger
                .suppression_of(&organisation, kind, "q", search)
                .await?,
            String::new(),
        )
    };
    let o = organisation.as_str();
    let body = html! {
        (form)
        @if !search.is_empty() {
            p role="status" {
                @if entries.is_empty() { (search) " is not on the suppression list of " (o) "." }
                @else { (search) " is on the suppression list of " (o) "." }
            }
        } @else {
            p role="status" { (entries.len()) " " (if entries.len() == 1 { "address" } else { "addresses" }) " on this page." }
        }
        @if !entries.is_empty() {
            table {
                caption { "Suppressed addresses of " (o) }
                thead { tr { th scope="col" { "Address" } th scope="col" { "Kind" } th scope="col" { "Why" } } }
                tbody {
                    @for entry in &entries {
                        tr {
                            td {
                                @if entry.clear_value.is_empty() { (words::contact_value(&entry.address)) }
                                @else { (entry.clear_value) }
                            }
                            td { (kind(entry.kind)) }
                            td {
                                ul.reasons {
                                    @for fact in &entry.facts { li { (suppressing(o, fact)) } }
                                }
                            }
                        }
                    }
                }
            }
        }
        nav.pager aria-label="Pages" {
            @if !query.after.is_empty() {
                a href={"/console/suppressions?organisation=" (query_value(o))} { "First page" }
            }
            @if !next.is_empty() {
                a href={"/console/suppressions?organisation=" (query_value(o)) "&after=" (query_value(&next))} { "Next page" }
            }
        }
    };
    Ok(page(
        &signed_in,
        "/console/suppressions",
        "Suppression list",
        body,
    ))
}

fn kind(kind: i32) -> &'static str {
    match v1::ContactKind::try_from(kind) {
        Ok(v1::ContactKind::Email) => "email address",
        Ok(v1::ContactKind::Mobile) => "mobile number",
        Ok(v1::ContactKind::Landline) => "landline number",
        Ok(v1::ContactKind::Postal) => "postal address",
        _ => "not stated",
    }
}

/// One fact that suppresses an address, in words.
fn suppressing(organisation: &str, fact: &v1::SuppressingFact) -> Markup {
    let channels: Vec<Channel> = fact
        .channels
        .iter()
        .filter_map(|c| Channel::from_wire(*c).ok())
        .collect();
    let when = fact
        .occurred_at
        .as_ref()
        .and_then(|t| consent_schema::timestamp_from_proto("occurred_at", t).ok())
        .map(words::when)
        .unwrap_or_default();
    html! {
        (fact.kind.replace('_', " "))
        @if fact.all_channels { ", every channel" }
        @else if !channels.is_empty() { ", " (words::channels(&channels, false)) }
        ", " (when)
        @if !fact.subject_id.is_empty() {
            " (" a href=(timeline_path(organisation, &fact.subject_id)) { "subject " (fact.subject_id) } ")"
        }
    }
}
