//! Sign-in and sign-out: an API key becomes a session (see
//! [`crate::session`]).

use crate::layout::{bare_page, csrf_field};
use crate::page_error::PageError;
use crate::pages::{posted, Posted};
use crate::session::{self, SignedIn};
use crate::Console;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{html, Markup};
use serde::Deserialize;
use subtle::ConstantTimeEq;

/// `GET /console`: the subject search when signed in, else the sign-in.
pub async fn home(State(console): State<Console>, headers: HeaderMap) -> Redirect {
    match console.session_of(&headers) {
        Some(found) if found.is_signed_in() => Redirect::to("/console/subjects"),
        _ => Redirect::to("/console/sign-in"),
    }
}

#[derive(Deserialize)]
pub struct SignInQuery {
    #[serde(default)]
    ended: Option<String>,
    #[serde(default)]
    signed_out: Option<String>,
}

/// `GET /console/sign-in`: the form; its CSRF token belongs to a session
/// not signed in yet.
pub async fn sign_in_page(
    State(console): State<Console>,
    headers: HeaderMap,
    Query(query): Query<SignInQuery>,
) -> Result<Response, PageError> {
    let session = match console.session_of(&headers) {
        Some(found) if found.is_signed_in() => {
            return Ok(Redirect::to("/console/subjects").into_response())
        }
        Some(found) => found,
        None => console.inner.sessions.start()?,
    };
    let notice = match query {
        SignInQuery { ended: Some(_), .. } => Some(
            "Your session ended: the key it was signed in with is no longer valid \
             (revoked or replaced). Sign in with a valid key.",
        ),
        SignInQuery {
            signed_out: Some(_),
            ..
        } => Some("You are signed out."),
        _ => None,
    };
    let page = form(&console, &session.csrf, notice, None);
    Ok((
        [(
            header::SET_COOKIE,
            session::set_cookie(&session.id, console.secure_cookies()),
        )],
        page,
    )
        .into_response())
}

fn form(console: &Console, csrf: &str, notice: Option<&str>, error: Option<&str>) -> Markup {
    let open = console.inner.guard.current_keys().is_none();
    bare_page(
        "Sign in",
        html! {
            @if let Some(notice) = notice { div.notice role="status" { p { (notice) } } }
            @if let Some(error) = error { div.error role="alert" { p { (error) } } }
            p {
                "Sign in with an API key of the ledger: an organisation's key shows that \
                 organisation's subjects only; the admin key shows every organisation and the keys."
            }
            form.panel method="post" action="/console/sign-in" {
                (csrf_field(csrf))
                div.field {
                    label for="key" { "API key" }
                    p.hint #key-hint { "It starts with " code { "clk_" } ". It is kept in this browser's session only as long as you are signed in." }
                    @if open {
                        p.hint { "This ledger runs without API keys (open mode): leave it empty." }
                    }
                    input #key type="password" name="key" autocomplete="off" aria-describedby="key-hint" required[!open];
                }
                button type="submit" { "Sign in" }
            }
        },
    )
}

#[derive(Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    key: String,
}

/// `POST /console/sign-in`: a valid key starts a signed-in session under a
/// new id; a wrong key shows the form again (401).
pub async fn sign_in(
    State(console): State<Console>,
    headers: HeaderMap,
    form_data: Posted<SignInForm>,
) -> Result<Response, PageError> {
    let form_data = posted(form_data)?;
    let Some(session) = console.session_of(&headers) else {
        return Err(PageError::Csrf);
    };
    if form_data.csrf.is_empty()
        || !bool::from(form_data.csrf.as_bytes().ct_eq(session.csrf.as_bytes()))
    {
        return Err(PageError::Csrf);
    }
    match console.sign_in(&session.id, &form_data.key) {
        Ok(signed_in) => Ok((
            [(
                header::SET_COOKIE,
                session::set_cookie(&signed_in.id, console.secure_cookies()),
            )],
            Redirect::to("/console/subjects"),
        )
            .into_response()),
        Err(PageError::WrongKey) => {
            tracing::info!("console: sign-in refused, unknown or revoked key");
            Ok((
                StatusCode::UNAUTHORIZED,
                form(
                    &console,
                    &session.csrf,
                    None,
                    Some("That API key is not valid here: it is unknown or has been revoked."),
                ),
            )
                .into_response())
        }
        Err(other) => Err(other),
    }
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    pub csrf: String,
}

/// `POST /console/sign-out`: destroys the session.
pub async fn sign_out(
    signed_in: SignedIn,
    form_data: Posted<CsrfForm>,
) -> Result<Response, PageError> {
    let form_data = posted(form_data)?;
    signed_in.check_csrf(&form_data.csrf)?;
    let console = signed_in.console();
    console.inner.sessions.end(&signed_in.session);
    tracing::info!(who = %signed_in.who(), "console: signed out");
    Ok((
        [(
            header::SET_COOKIE,
            session::clear_cookie(console.secure_cookies()),
        )],
        Redirect::to("/console/sign-in?signed_out=1"),
    )
        .into_response())
}

/// Any other path under `/console`.
pub async fn not_found() -> PageError {
    PageError::NotFound("there is no such page in the console".to_owned())
}
