//! Sessions: an API key, presented once on the sign-in page, becomes a
//! server-side session.
//!
//! The browser holds only a random 256-bit session id, in the cookie
//! [`COOKIE`] (`HttpOnly; SameSite=Strict; Path=/console`, and `Secure`
//! when `console_secure_cookies` says the console is behind TLS); the key
//! itself is never kept, only its SHA-256, so that every request can check
//! the key is still in the key file: a revoked (or rotated) key ends its
//! sessions at their next request. A session unused for the idle timeout
//! ends; signing out destroys it. Signing in starts a new session id, so
//! an id set before sign-in is never a signed-in one (no fixation).
//!
//! Every session, signed in or not yet, has a CSRF token: every form that
//! POSTs carries it in a hidden field ([`crate::layout::csrf_field`]), and
//! every POST handler checks it ([`SignedIn::check_csrf`]) before it does
//! anything; a POST without it is refused with 403.

use crate::page_error::PageError;
use crate::Console;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue};
use consent_auth::{Action, Caller, Guard, Guarded, KeyHash, Principal};
use consent_domain::OrganisationId;
use consent_service::Ledger;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use subtle::ConstantTimeEq;

/// The session cookie's name.
pub const COOKIE: &str = "consent_console_session";

/// The most sessions kept at once (signed in or not yet); beyond it,
/// expired ones are dropped, and if none is, a new one is refused.
const MAX_SESSIONS: usize = 100_000;

/// How sessions behave.
#[derive(Clone, Copy, Debug)]
pub struct SessionSettings {
    /// A session unused this long ends.
    pub idle: Duration,
}

/// Who a signed-in session is.
#[derive(Clone, Debug)]
struct SignedInAs {
    caller: Caller,
    /// The SHA-256 of the key signed in with (none in open mode).
    key: Option<KeyHash>,
}

struct Session {
    who: Option<SignedInAs>,
    csrf: String,
    last_seen: Instant,
}

/// Every session of this server, in memory: a restart signs everyone out.
#[derive(Clone)]
pub struct Sessions {
    sessions: Arc<Mutex<HashMap<String, Session>>>,
    settings: SessionSettings,
}

/// A session as a request finds it.
#[derive(Clone, Debug)]
pub struct Found {
    pub id: String,
    pub csrf: String,
    signed_in: Option<SignedInAs>,
}

impl Found {
    pub fn is_signed_in(&self) -> bool {
        self.signed_in.is_some()
    }
}

impl Sessions {
    pub fn new(settings: SessionSettings) -> Self {
        Self {
            sessions: Arc::new(Mutex::new(HashMap::new())),
            settings,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Session>> {
        self.sessions.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The live session of `id`, touched; an idle one is ended.
    pub fn find(&self, id: &str) -> Option<Found> {
        let mut sessions = self.lock();
        let now = Instant::now();
        let session = sessions.get_mut(id)?;
        if now.duration_since(session.last_seen) > self.settings.idle {
            sessions.remove(id);
            return None;
        }
        session.last_seen = now;
        Some(Found {
            id: id.to_owned(),
            csrf: session.csrf.clone(),
            signed_in: session.who.clone(),
        })
    }

    /// A new session, not signed in: what the sign-in form's CSRF token
    /// belongs to.
    pub fn start(&self) -> Result<Found, PageError> {
        self.insert(None)
    }

    fn insert(&self, who: Option<SignedInAs>) -> Result<Found, PageError> {
        let id = random_token()?;
        let csrf = random_token()?;
        let mut sessions = self.lock();
        if sessions.len() >= MAX_SESSIONS {
            let now = Instant::now();
            let idle = self.settings.idle;
            sessions.retain(|_, s| now.duration_since(s.last_seen) <= idle);
            if sessions.len() >= MAX_SESSIONS {
                tracing::warn!(sessions = sessions.len(), "console: too many sessions");
                return Err(PageError::Unavailable(
                    "the console has too many open sessions; try again later".to_owned(),
                ));
            }
        }
        sessions.insert(
            id.clone(),
            Session {
                who: who.clone(),
                csrf: csrf.clone(),
                last_seen: Instant::now(),
            },
        );
        Ok(Found {
            id,
            csrf,
            signed_in: who,
        })
    }

    /// Ends the session `id` (sign-out, a revoked key).
    pub fn end(&self, id: &str) {
        self.lock().remove(id);
    }

    /// Signs in: ends the session `previous` (the one the sign-in form
    /// came from) and starts a new one, under a new id, for `caller`.
    fn sign_in(
        &self,
        previous: &str,
        caller: Caller,
        key: Option<KeyHash>,
    ) -> Result<Found, PageError> {
        self.end(previous);
        self.insert(Some(SignedInAs { caller, key }))
    }

    /// How many sessions are open (tests).
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// 32 random bytes from the operating system, in hex.
fn random_token() -> Result<String, PageError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|error| {
        tracing::error!(%error, "console: no random session id could be drawn");
        PageError::Unavailable("no session could be started; try again".to_owned())
    })?;
    Ok(hex::encode(bytes))
}

/// The session id the request's cookie names, if any.
pub fn session_id(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.trim().to_owned())
        .filter(|value| !value.is_empty() && value.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The `Set-Cookie` value that gives the browser session `id`.
pub fn set_cookie(id: &str, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{COOKIE}={id}; HttpOnly; SameSite=Strict; Path=/console{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("consent_console_session=; Max-Age=0"))
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn clear_cookie(secure: bool) -> HeaderValue {
    HeaderValue::from_static(if secure {
        "consent_console_session=; HttpOnly; SameSite=Strict; Path=/console; Max-Age=0; Secure"
    } else {
        "consent_console_session=; HttpOnly; SameSite=Strict; Path=/console; Max-Age=0"
    })
}

/// Whether the key a session signed in with is still accepted, by the
/// same principal: false once it is revoked or the key file changes who
/// it belongs to.
fn still_valid(guard: &Guard, who: &SignedInAs) -> bool {
    match (&who.key, guard.current_keys()) {
        (None, None) => who.caller == Caller::Open,
        (Some(hash), Some(ring)) => ring.entries().iter().any(|entry| {
            entry.hash.matches(hash) && who.caller == Caller::Key(entry.principal.clone())
        }),
        _ => false,
    }
}

impl Console {
    /// The session of a request, if it has a live one (signed in or not).
    pub(crate) fn session_of(&self, headers: &HeaderMap) -> Option<Found> {
        self.inner.sessions.find(&session_id(headers)?)
    }

    /// Signs the session `previous` in with `key` (empty in open mode):
    /// the new session, or why not.
    pub(crate) fn sign_in(&self, previous: &str, key: &str) -> Result<Found, PageError> {
        let key = key.trim();
        let guard = &self.inner.guard;
        let caller = if guard.current_keys().is_none() {
            Caller::Open
        } else {
            guard
                .authenticate(Some(format!("Bearer {key}").as_bytes()))
                .map_err(|_| PageError::WrongKey)?
        };
        let hash = match caller {
            Caller::Open => None,
            Caller::Key(_) => Some(KeyHash::of(key)),
        };
        tracing::info!(who = %describe(&caller), "console: signed in");
        self.inner.sessions.sign_in(previous, caller, hash)
    }

    pub(crate) fn secure_cookies(&self) -> bool {
        self.inner.settings.secure_cookies
    }
}

/// Who a caller is, in words: "organisation `acme`", "the admin".
pub fn describe(caller: &Caller) -> String {
    match caller {
        Caller::Open => "open mode (no API keys)".to_owned(),
        Caller::Key(Principal::Admin) => "the admin".to_owned(),
        Caller::Key(Principal::Organisation(organisation)) => {
            format!("organisation {}", organisation.as_str())
        }
    }
}

/// A request from a signed-in session: the ledger behind the key's
/// authorization rule, and the session's CSRF token. A request without a
/// live session, or whose key has been revoked since, is sent to the
/// sign-in page instead of reaching the handler.
pub struct SignedIn {
    pub(crate) console: Console,
    pub(crate) session: String,
    pub(crate) csrf: String,
    pub(crate) ledger: Guarded<Ledger>,
}

impl FromRequestParts<Console> for SignedIn {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, console: &Console) -> Result<Self, PageError> {
        let Some(found) = console.session_of(&parts.headers) else {
            return Err(PageError::SignInNeeded("Please sign in."));
        };
        let Some(who) = found.signed_in else {
            return Err(PageError::SignInNeeded("Please sign in."));
        };
        if !still_valid(&console.inner.guard, &who) {
            console.inner.sessions.end(&found.id);
            tracing::info!(who = %describe(&who.caller), "console: session ended, its key is no longer valid");
            return Err(PageError::SignInNeeded(
                "Your session ended: the key it was signed in with is no longer valid (revoked or replaced).",
            ));
        }
        Ok(Self {
            console: console.clone(),
            session: found.id,
            csrf: found.csrf,
            ledger: Guarded::new(console.inner.ledger.clone(), who.caller),
        })
    }
}

impl SignedIn {
    /// Refuses (403) a POST whose form did not carry this session's CSRF
    /// token.
    pub fn check_csrf(&self, token: &str) -> Result<(), PageError> {
        if !token.is_empty() && bool::from(token.as_bytes().ct_eq(self.csrf.as_bytes())) {
            Ok(())
        } else {
            tracing::warn!("console: a POST without this session's CSRF token was refused");
            Err(PageError::Csrf)
        }
    }

    /// The ledger, to read `organisation`'s data: refused (403) for
    /// another organisation's key.
    pub fn for_organisation(&self, organisation: &OrganisationId) -> Result<&Ledger, PageError> {
        self.ledger
            .for_organisation(Action::Read, "organisation", organisation)
            .map_err(|_| PageError::OtherOrganisation)
    }

    /// The ledger, for what only the admin may do (`what`).
    pub fn for_admin(&self, what: &str) -> Result<&Ledger, PageError> {
        self.ledger
            .for_admin(what)
            .map_err(|error| PageError::Forbidden(error.to_string()))
    }

    pub fn caller(&self) -> &Caller {
        self.ledger.caller()
    }

    /// The organisation of an organisation's key; `None` for the admin
    /// (and open mode), who choose one.
    pub fn own_organisation(&self) -> Option<&OrganisationId> {
        match self.ledger.principal() {
            Some(Principal::Organisation(organisation)) => Some(organisation),
            _ => None,
        }
    }

    /// The admin (or open mode): may see every organisation and the keys.
    pub fn is_admin(&self) -> bool {
        self.caller().must_be_admin("administer").is_ok()
    }

    /// Who is signed in, in words.
    pub fn who(&self) -> String {
        describe(self.caller())
    }

    pub fn csrf(&self) -> &str {
        &self.csrf
    }

    pub fn console(&self) -> &Console {
        &self.console
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use consent_auth::{ApiKey, KeyEntry, KeyRing};

    fn ring(keys: &[(&ApiKey, Principal)]) -> KeyRing {
        let text = keys
            .iter()
            .map(|(key, principal)| {
                KeyEntry {
                    hash: key.hash(),
                    principal: principal.clone(),
                    created: None,
                    note: None,
                }
                .to_toml()
            })
            .collect::<Vec<_>>()
            .join("\n");
        KeyRing::parse(&text).expect("a key ring")
    }

    fn acme() -> Principal {
        Principal::Organisation(OrganisationId::new("acme"))
    }

    #[test]
    fn the_cookie_is_http_only_strict_to_the_console_and_secure_behind_tls() {
        let plain = set_cookie("ab12", false);
        assert_eq!(
            plain.to_str().expect("text"),
            "consent_console_session=ab12; HttpOnly; SameSite=Strict; Path=/console"
        );
        let secure = set_cookie("ab12", true);
        assert!(secure.to_str().expect("text").ends_with("; Secure"));
        assert!(clear_cookie(false)
            .to_str()
            .expect("text")
            .contains("Max-Age=0"));
    }

    #[test]
    fn the_session_id_is_read_from_the_cookie_header_and_nothing_else() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("theme=dark; consent_console_session=00ff; other=1"),
        );
        assert_eq!(session_id(&headers).as_deref(), Some("00ff"));
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("consent_console_session=<script>"),
        );
        assert_eq!(session_id(&headers), None, "not a session id");
        assert_eq!(session_id(&HeaderMap::new()), None);
    }

    #[test]
    fn a_session_unused_for_the_idle_timeout_ends_and_sign_out_destroys_it() {
        let sessions = Sessions::new(SessionSettings {
            idle: Duration::from_secs(3600),
        });
        let started = sessions.start().expect("a session");
        assert_eq!(started.id.len(), 64, "256 random bits in hex");
        assert_ne!(started.id, started.csrf);
        let signed_in = sessions
            .sign_in(&started.id, Caller::Open, None)
            .expect("signed in");
        assert_ne!(signed_in.id, started.id, "a new id at sign-in");
        assert!(sessions.find(&started.id).is_none(), "the old id is gone");
        assert!(sessions
            .find(&signed_in.id)
            .is_some_and(|f| f.is_signed_in()));
        sessions.end(&signed_in.id);
        assert!(sessions.find(&signed_in.id).is_none(), "signed out");

        let impatient = Sessions::new(SessionSettings {
            idle: Duration::ZERO,
        });
        let session = impatient.start().expect("a session");
        std::thread::sleep(Duration::from_millis(2));
        assert!(impatient.find(&session.id).is_none(), "idle too long");
        assert!(impatient.is_empty(), "and forgotten");
    }

    #[test]
    fn a_revoked_or_reassigned_key_is_no_longer_valid_for_its_sessions() {
        let key = ApiKey::from_random_bytes(&[1; 32]);
        let admin = ApiKey::from_random_bytes(&[2; 32]);
        let guard = Guard::keys(ring(&[(&key, acme()), (&admin, Principal::Admin)]));
        let who = SignedInAs {
            caller: Caller::Key(acme()),
            key: Some(key.hash()),
        };
        assert!(still_valid(&guard, &who));
        guard.replace_keys(ring(&[(&admin, Principal::Admin)]));
        assert!(!still_valid(&guard, &who), "revoked");
        guard.replace_keys(ring(&[
            (&key, Principal::Admin),
            (&admin, Principal::Admin),
        ]));
        assert!(!still_valid(&guard, &who), "now another principal's key");
        let open = SignedInAs {
            caller: Caller::Open,
            key: None,
        };
        assert!(still_valid(&Guard::Open, &open));
        assert!(!still_valid(&guard, &open), "keys now required");
    }
}
