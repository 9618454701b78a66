//! The frame of every page: a skip link, the header (who is signed in,
//! sign-out), the navigation and the main content, as landmarks; the
//! stylesheet is the console's own.

use crate::session::SignedIn;
use maud::{html, Markup, PreEscaped, DOCTYPE};

/// A link of the navigation.
pub struct NavLink {
    pub label: &'static str,
    pub path: &'static str,
    /// Shown to the admin only (the page refuses the others too).
    pub admin_only: bool,
}

/// The navigation, in order. A page reached from the navigation adds its
/// link here.
pub const NAV: &[NavLink] = &[
    NavLink {
        label: "Find a subject",
        path: "/console/subjects",
        admin_only: false,
    },
    NavLink {
        label: "Suppression list",
        path: "/console/suppressions",
        admin_only: false,
    },
    NavLink {
        label: "Evidence",
        path: "/console/evidence",
        admin_only: false,
    },
    NavLink {
        label: "Campaign pre-flight",
        path: "/console/preflight",
        admin_only: false,
    },
    NavLink {
        label: "Replay",
        path: "/console/replay",
        admin_only: false,
    },
    NavLink {
        label: "Jobs",
        path: "/console/jobs",
        admin_only: false,
    },
    NavLink {
        label: "Keys",
        path: "/console/keys",
        admin_only: true,
    },
];

/// A page of a signed-in session: `title` is the `<title>` and the
/// heading; `current` is the path of the navigation link it is under.
pub fn page(signed_in: &SignedIn, current: &str, title: &str, body: Markup) -> Markup {
    page_with_head(signed_in, current, title, html! {}, body)
}

/// [`page`] that runs the console's own script at `script` (a path under
/// `/console/static/`, loaded deferred; never an inline script). The
/// handler returns it through [`crate::security::allow_own_scripts`], or
/// the Content-Security-Policy blocks it; the page must work without it.
pub fn scripted_page(
    signed_in: &SignedIn,
    current: &str,
    title: &str,
    script: &str,
    body: Markup,
) -> Markup {
    let head = html! { script src=(script) defer {} };
    page_with_head(signed_in, current, title, head, body)
}

fn page_with_head(
    signed_in: &SignedIn,
    current: &str,
    title: &str,
    head: Markup,
    body: Markup,
) -> Markup {
    let admin = signed_in.is_admin();
    frame_with_head(
        title,
        head,
        html! {
            header.site {
                a.title href="/console/subjects" { "Consent ledger console" }
                p.who { "Signed in as " strong { (signed_in.who()) } }
                form.inline method="post" action="/console/sign-out" {
                    (csrf_field(signed_in.csrf()))
                    button.secondary type="submit" { "Sign out" }
                }
            }
            nav.site aria-label="Console" {
                ul {
                    @for link in NAV.iter().filter(|link| admin || !link.admin_only) {
                        li {
                            @if link.path == current {
                                a href=(link.path) aria-current="page" { (link.label) }
                            } @else {
                                a href=(link.path) { (link.label) }
                            }
                        }
                    }
                }
            }
        },
        body,
    )
}

/// A page outside a session (sign-in, errors): no navigation.
pub fn bare_page(title: &str, body: Markup) -> Markup {
    frame(
        title,
        html! {
            header.site {
                a.title href="/console" { "Consent ledger console" }
            }
        },
        body,
    )
}

fn frame(title: &str, top: Markup, body: Markup) -> Markup {
    frame_with_head(title, html! {}, top, body)
}

fn frame_with_head(title: &str, head: Markup, top: Markup, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en-GB" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " - Consent ledger console" }
                link rel="stylesheet" href="/console/style.css";
                (head)
            }
            body {
                a.skip-link href="#main" { "Skip to main content" }
                (top)
                main #main tabindex="-1" {
                    h1 { (title) }
                    (body)
                }
            }
        }
    }
}

/// The hidden field carrying the session's CSRF token: in every form that
/// POSTs.
pub fn csrf_field(token: &str) -> Markup {
    html! { input type="hidden" name="csrf" value=(token); }
}

/// `text` in a `<code>`, for identifiers and digests.
pub fn code(text: &str) -> Markup {
    html! { code { (text) } }
}

/// A non-breaking space, for empty cells.
pub fn nothing() -> Markup {
    PreEscaped("&nbsp;".to_owned())
}
