//! The console: the privacy team's web pages, served by the ledger at
//! `/console` (docs/CONSOLE.md).
//!
//! A DPO, a privacy analyst or a support agent signs in with an API key
//! (the keys `consent-auth` checks for the API); the key becomes a
//! server-side session ([`session`]: a random id in an `HttpOnly;
//! SameSite=Strict` cookie, an idle timeout, sign-out destroys it, a
//! revoked key ends it) with a CSRF token checked on every POST. Every page
//! reaches the ledger through the key's [`consent_auth::Guarded`] rule, as
//! the API does: an organisation's key sees only its organisation, the
//! admin key sees all. Every response carries a strict
//! Content-Security-Policy ([`security`]); the pages load nothing from
//! elsewhere and are plain forms and links that work without JavaScript
//! (a running job's page has the console's one script, `progress.js`,
//! which refreshes its progress in place).
//!
//! Architecture invariant: a thin adapter, like consent-http. Each page
//! parses its request, calls consent-service operations and renders the
//! answer with maud (every spliced value escaped); it decides nothing and
//! reaches past consent-service to nothing (`tests/architecture.rs`).
//! Words come from the domain and consent-report (`Channel::in_words`,
//! `consent_report::describe`, `consent_report::words`), never a second
//! vocabulary.
//!
//! # Adding a page
//!
//! 1. **Module**: `src/pages/NAME.rs`, declared in `src/pages/mod.rs`. A
//!    handler takes [`session::SignedIn`] (which signs the visitor in or
//!    sends them to the sign-in page), reaches the ledger through
//!    `signed_in.for_organisation(..)` / `signed_in.for_admin(..)`, and
//!    returns `Result<Markup-page, PageError>` built with
//!    [`layout::page`]. A form that POSTs puts
//!    [`layout::csrf_field`] in the form and its handler calls
//!    `signed_in.check_csrf(&form.csrf)?` first.
//! 2. **Route**: one line in [`routes`] (paths under `/console`).
//! 3. **Nav link**: one entry in [`layout::NAV`] (label, path, admin only
//!    or not), if the page is reached from the navigation.
//! 4. **Test**: a browser test in `crates/consent-cli/tests/console_*.rs`
//!    over the harness of `crates/consent-cli/tests/console/mod.rs` (real
//!    binary, headless Chromium through WebDriver, a screenshot, axe-core):
//!    assert on what the page shows.
//! 5. **Docs**: what the page answers, in docs/CONSOLE.md.

pub mod keys;
pub mod layout;
pub mod page_error;
pub mod pages;
pub mod security;
pub mod session;

pub use keys::{KeyAdministration, KeyAdministrationError, NewKey};
pub use page_error::PageError;
pub use session::{SessionSettings, Sessions, SignedIn};

use axum::routing::{get, post};
use axum::Router;
use consent_auth::Guard;
use consent_service::Ledger;
use std::sync::Arc;
use std::time::Duration;

/// Where the console is served.
pub const BASE: &str = "/console";

/// The console's settings (docs/OPERATIONS.md, settings table).
#[derive(Clone, Debug)]
pub struct ConsoleSettings {
    /// `console_secure_cookies`: mark the session cookie `Secure`, for a
    /// console served behind TLS.
    pub secure_cookies: bool,
    /// `console_session_idle_secs`: a session unused this long ends.
    pub session_idle: Duration,
}

impl Default for ConsoleSettings {
    fn default() -> Self {
        Self {
            secure_cookies: false,
            session_idle: Duration::from_secs(30 * 60),
        }
    }
}

/// What every page handler is given: the ledger, the guard that knows the
/// keys, the sessions, and the key file's administration (when the server
/// has one).
#[derive(Clone)]
pub struct Console {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) ledger: Ledger,
    pub(crate) guard: Guard,
    pub(crate) sessions: Sessions,
    pub(crate) settings: ConsoleSettings,
    pub(crate) keys: Option<Arc<dyn KeyAdministration>>,
}

impl Console {
    /// The console over `ledger`, signing in with the keys of `guard`;
    /// `keys` administers the key file (the Keys page), if the server has
    /// one.
    pub fn new(
        ledger: Ledger,
        guard: Guard,
        settings: ConsoleSettings,
        keys: Option<Arc<dyn KeyAdministration>>,
    ) -> Self {
        let sessions = Sessions::new(SessionSettings {
            idle: settings.session_idle,
        });
        Self {
            inner: Arc::new(Inner {
                ledger,
                guard,
                sessions,
                settings,
                keys,
            }),
        }
    }
}

/// Every route of the console, under [`BASE`]. A new page adds its
/// route here.
pub fn routes() -> Router<Console> {
    use pages::*;
    Router::new()
        .route("/console", get(sign_in::home))
        .route("/console/", get(sign_in::home))
        .route("/console/style.css", get(security::stylesheet))
        .route(
            security::PROGRESS_SCRIPT_PATH,
            get(security::progress_script),
        )
        .route(
            "/console/sign-in",
            get(sign_in::sign_in_page).post(sign_in::sign_in),
        )
        .route("/console/sign-out", post(sign_in::sign_out))
        .route("/console/subjects", get(find::find_page))
        .route(
            "/console/organisations/{organisation}/subjects/{subject}",
            get(timeline::timeline_page),
        )
        .route(
            "/console/organisations/{organisation}/subjects/{subject}/eligibility",
            get(eligibility::eligibility_page),
        )
        .route(
            "/console/suppressions",
            get(suppressions::suppressions_page),
        )
        .route("/console/keys", get(keys::keys_page).post(keys::create_key))
        .route("/console/keys/{id}/revoke", post(keys::revoke_key))
        .route(
            "/console/evidence",
            get(evidence::evidence_page).post(evidence::start_export),
        )
        .route(
            "/console/preflight",
            get(preflight::preflight_page)
                .post(preflight::start_preflight)
                .layer(axum::extract::DefaultBodyLimit::max(
                    preflight::MAX_UPLOAD_BYTES,
                )),
        )
        .route(
            "/console/replay",
            get(replay::replay_page).post(replay::start_replay),
        )
        .route("/console/jobs", get(jobs::jobs_page))
        .route("/console/jobs/{id}", get(jobs::job_page))
        .route("/console/jobs/{id}/{file}", get(jobs::download))
        .route(
            "/console/{*rest}",
            get(sign_in::not_found).post(sign_in::not_found),
        )
}

/// The console's router, ready to merge with the API's
/// (`consent_http::router_guarded`): every response with the security
/// headers of [`security::headers`], every request in a `console_request`
/// span (method, path and status; never the query, which may hold an
/// address searched for).
pub fn router(console: Console) -> Router {
    routes()
        .layer(axum::middleware::from_fn(security::headers))
        .layer(
            tower_http::trace::TraceLayer::new_for_http()
                .make_span_with(|request: &axum::http::Request<axum::body::Body>| {
                    tracing::info_span!(
                        "console_request",
                        method = %request.method(),
                        path = %request.uri().path(),
                    )
                })
                .on_request(())
                .on_response(
                    |response: &axum::http::Response<axum::body::Body>,
                     latency: Duration,
                     _span: &tracing::Span| {
                        let latency_ms = u64::try_from(latency.as_millis()).unwrap_or(u64::MAX);
                        tracing::info!(
                            status = response.status().as_u16(),
                            latency_ms,
                            "console page served"
                        );
                    },
                ),
        )
        .with_state(console)
}
