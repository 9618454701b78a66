//! The headers every console response carries, and the resources the
//! console serves itself: its stylesheet, and the one script of the
//! job's page.
//!
//! The Content-Security-Policy allows nothing but the console's own
//! stylesheet and images: no script (the pages work without JavaScript),
//! no frame may embed a page (clickjacking), forms post only to the
//! console itself, and no `<base>` may redirect relative links. A page
//! that asks for it ([`allow_own_scripts`]: a running job's page, which
//! refreshes its progress in place) may also run the console's own
//! scripts and fetch from the console ([`SCRIPTED_CONTENT_SECURITY_POLICY`]);
//! never an inline script, never one from elsewhere.

use axum::extract::Request;
use axum::http::{header, HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The console's Content-Security-Policy.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; img-src 'self'; \
     form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The policy of a page that runs the console's own scripts
/// ([`allow_own_scripts`]): [`CONTENT_SECURITY_POLICY`] with scripts and
/// fetches from the console itself (`'self'`), none inline.
pub const SCRIPTED_CONTENT_SECURITY_POLICY: &str =
    "default-src 'none'; style-src 'self'; img-src 'self'; \
     script-src 'self'; connect-src 'self'; \
     form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The script of a running job's page: refreshes the progress in place
/// and shows the result when the job is done (docs/CONSOLE.md, "Jobs and
/// progress"), compiled into the binary.
pub const PROGRESS_SCRIPT: &str = include_str!("progress.js");

/// Where [`PROGRESS_SCRIPT`] is served.
pub const PROGRESS_SCRIPT_PATH: &str = "/console/static/progress.js";

/// A response's mark, set by a handler, that its page runs the console's
/// own scripts: [`headers`] then sends [`SCRIPTED_CONTENT_SECURITY_POLICY`].
#[derive(Clone, Copy, Debug)]
pub struct OwnScripts;

/// `response` with the mark that lets it run the console's own scripts.
pub fn allow_own_scripts(response: impl IntoResponse) -> Response {
    let mut response = response.into_response();
    response.extensions_mut().insert(OwnScripts);
    response
}

/// The stylesheet, compiled into the binary.
pub const STYLESHEET: &str = include_str!("style.css");

/// Adds the security headers to every response: the CSP, no MIME
/// sniffing, no framing, no referrer leaving the page (subject ids are
/// in its URLs), and no caching of pages that show personal data.
pub async fn headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let policy = if response.extensions().get::<OwnScripts>().is_some() {
        SCRIPTED_CONTENT_SECURITY_POLICY
    } else {
        CONTENT_SECURITY_POLICY
    };
    let headers = response.headers_mut();
    let set = [
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(policy),
        ),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        (
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ),
        (
            HeaderName::from_static("cross-origin-opener-policy"),
            HeaderValue::from_static("same-origin"),
        ),
    ];
    for (name, value) in set {
        headers.insert(name, value);
    }
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    response
}

/// `GET /console/style.css`.
pub async fn stylesheet() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        STYLESHEET,
    )
}

/// `GET /console/static/progress.js`.
pub async fn progress_script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        PROGRESS_SCRIPT,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn directives(policy: &str) -> Vec<&str> {
        let mut directives: Vec<&str> = policy.split(';').map(str::trim).collect();
        directives.sort_unstable();
        directives
    }

    #[test]
    fn a_page_with_the_consoles_own_script_allows_that_and_nothing_more() {
        let strict = directives(CONTENT_SECURITY_POLICY);
        let scripted = directives(SCRIPTED_CONTENT_SECURITY_POLICY);
        let added: Vec<&str> = scripted
            .iter()
            .copied()
            .filter(|d| !strict.contains(d))
            .collect();
        assert_eq!(added, ["connect-src 'self'", "script-src 'self'"]);
        assert!(strict.iter().all(|d| scripted.contains(d)));
        assert!(!CONTENT_SECURITY_POLICY.contains("script-src"));
    }

    #[test]
    fn the_progress_script_fetches_only_the_console_itself() {
        assert!(PROGRESS_SCRIPT.contains("fetch(window.location.pathname"));
        assert!(!PROGRESS_SCRIPT.contains("http:") && !PROGRESS_SCRIPT.contains("https:"));
        assert!(!PROGRESS_SCRIPT.contains("eval("));
    }
}
