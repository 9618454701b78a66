//! Authentication at the edge, and the ledger behind the authorization
//! rule.

use crate::key_file::KeyRing;
use crate::principal::{Action, AuthError, Caller, Principal};
use consent_domain::OrganisationId;
use std::sync::{Arc, PoisonError, RwLock};

/// How a server authenticates its callers.
#[derive(Clone, Debug)]
pub enum Guard {
    /// No key file: every caller may do everything. The server runs so
    /// only on loopback addresses, or when told `--insecure-no-auth`.
    Open,
    /// Every caller presents one of these keys. Every clone of the guard
    /// shares them, and [`Guard::replace_keys`] swaps them for all at
    /// once: keys are rotated without a restart.
    Keys(Arc<RwLock<Arc<KeyRing>>>),
}

impl Guard {
    pub fn keys(ring: KeyRing) -> Self {
        Self::Keys(Arc::new(RwLock::new(Arc::new(ring))))
    }

    /// Replaces the keys every clone of this guard accepts, from the next
    /// request on (requests already authenticated keep their caller).
    /// Returns `false`, changing nothing, for an open guard: a server
    /// started without keys does not start requiring them.
    pub fn replace_keys(&self, ring: KeyRing) -> bool {
        match self {
            Guard::Open => false,
            Guard::Keys(keys) => {
                *keys.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(ring);
                true
            }
        }
    }

    /// The keys accepted now (`None` for an open guard).
    pub fn current_keys(&self) -> Option<Arc<KeyRing>> {
        match self {
            Guard::Open => None,
            Guard::Keys(keys) => Some(Arc::clone(
                &keys.read().unwrap_or_else(PoisonError::into_inner),
            )),
        }
    }

    /// The caller of a request whose `Authorization` header (gRPC:
    /// `authorization` metadata) is `authorization`: `Bearer <key>`, the
    /// scheme in any case.
    pub fn authenticate(&self, authorization: Option<&[u8]>) -> Result<Caller, AuthError> {
        let Some(ring) = self.current_keys() else {
            return Ok(Caller::Open);
        };
        let value = authorization.ok_or(AuthError::Missing)?;
        let value = std::str::from_utf8(value).map_err(|_| AuthError::Malformed)?;
        let (scheme, key) = value.split_once(' ').ok_or(AuthError::Malformed)?;
        let key = key.trim();
        if !scheme.eq_ignore_ascii_case("bearer")
            || key.is_empty()
            || !key.bytes().all(|byte| byte.is_ascii_graphic())
        {
            return Err(AuthError::Malformed);
        }
        ring.principal_of(key)
            .cloned()
            .map(Caller::Key)
            .ok_or(AuthError::UnknownKey)
    }
}

/// Something (the ledger) reachable only through the authorization rule,
/// for one authenticated caller.
#[derive(Clone, Debug)]
pub struct Guarded<T> {
    inner: T,
    caller: Caller,
}

impl<T> Guarded<T> {
    pub fn new(inner: T, caller: Caller) -> Self {
        Self { inner, caller }
    }

    pub fn caller(&self) -> &Caller {
        &self.caller
    }

    /// For `action` on `organisation`'s data, named by the request at
    /// `field`.
    pub fn for_organisation(
        &self,
        action: Action,
        field: &str,
        organisation: &OrganisationId,
    ) -> Result<&T, AuthError> {
        self.caller.may(action, field, organisation)?;
        Ok(&self.inner)
    }

    /// For `action` on every organisation a list names: `organisations`
    /// yields each item's organisation id, and the refusal names the
    /// first item at fault as `{list}[i].organisation_id`.
    pub fn for_each_organisation<'a>(
        &self,
        action: Action,
        list: &str,
        organisations: impl IntoIterator<Item = &'a str>,
    ) -> Result<&T, AuthError> {
        if self.caller != Caller::Open {
            for (index, organisation) in organisations.into_iter().enumerate() {
                self.caller.may(
                    action,
                    &format!("{list}[{index}].organisation_id"),
                    &OrganisationId::new(organisation),
                )?;
            }
        }
        Ok(&self.inner)
    }

    /// For what only the admin may do (`what`, for the refusal).
    pub fn for_admin(&self, what: &str) -> Result<&T, AuthError> {
        self.caller.must_be_admin(what)?;
        Ok(&self.inner)
    }

    /// For what any authenticated caller may do: nothing of one
    /// organisation's data (rule sets, the checkpoint key).
    pub fn for_any_caller(&self) -> &T {
        &self.inner
    }

    /// The principal, when a key was presented.
    pub fn principal(&self) -> Option<&Principal> {
        match &self.caller {
            Caller::Open => None,
            Caller::Key(principal) => Some(principal),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key_file::KeyEntry;
    use crate::ApiKey;

    /// A key ring of these keys and principals.
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
        KeyRing::parse(&text).expect("ring")
    }

    fn acme_org() -> Principal {
        Principal::Organisation(OrganisationId::new("acme"))
    }

    fn guard() -> (Guard, ApiKey, ApiKey) {
        let acme_key = ApiKey::from_random_bytes(&[1; 32]);
        let admin = ApiKey::from_random_bytes(&[2; 32]);
        let guard = Guard::keys(ring(&[(&acme_key, acme_org()), (&admin, Principal::Admin)]));
        (guard, acme_key, admin)
    }

    #[test]
    fn bearer_keys_authenticate_and_anything_else_is_unauthenticated() {
        let (guard, acme, admin) = guard();
        let bearer = |key: &str| format!("Bearer {key}");
        assert_eq!(
            guard.authenticate(Some(bearer(acme.secret()).as_bytes())),
            Ok(Caller::Key(Principal::Organisation(OrganisationId::new(
                "acme"
            ))))
        );
        assert_eq!(
            guard.authenticate(Some(format!("bearer {}", admin.secret()).as_bytes())),
            Ok(Caller::Key(Principal::Admin))
        );
        assert_eq!(guard.authenticate(None), Err(AuthError::Missing));
        for malformed in [
            "".to_owned(),
            acme.secret().to_owned(),
            format!("Basic {}", acme.secret()),
            "Bearer ".to_owned(),
            format!("Bearer {} x", acme.secret()),
        ] {
            assert_eq!(
                guard.authenticate(Some(malformed.as_bytes())),
                Err(AuthError::Malformed),
                "{malformed:?}"
            );
        }
        assert_eq!(
            guard.authenticate(Some(b"Bearer clk_revoked")),
            Err(AuthError::UnknownKey)
        );
        assert_eq!(
            guard.authenticate(Some(&[b'B', 0xff])),
            Err(AuthError::Malformed)
        );
    }

    #[test]
    fn replaced_keys_apply_to_every_clone_from_the_next_request() {
        let (guard, acme, admin) = guard();
        let served_by_http = guard.clone();
        let bearer = |key: &ApiKey| format!("Bearer {}", key.secret());
        // Rotation: the admin key stays, acme's old key goes, a new one comes.
        let rotated = ApiKey::from_random_bytes(&[3; 32]);
        assert!(guard.replace_keys(ring(&[(&rotated, acme_org()), (&admin, Principal::Admin)])));
        assert_eq!(
            served_by_http.authenticate(Some(bearer(&acme).as_bytes())),
            Err(AuthError::UnknownKey)
        );
        assert_eq!(
            served_by_http.authenticate(Some(bearer(&rotated).as_bytes())),
            Ok(Caller::Key(Principal::Organisation(OrganisationId::new(
                "acme"
            ))))
        );
        assert_eq!(
            served_by_http.authenticate(Some(bearer(&admin).as_bytes())),
            Ok(Caller::Key(Principal::Admin))
        );
    }

    #[test]
    fn an_open_guard_never_starts_requiring_keys() {
        assert!(!Guard::Open.replace_keys(KeyRing::default()));
        assert_eq!(Guard::Open.authenticate(None), Ok(Caller::Open));
    }

    #[test]
    fn open_mode_lets_anyone_in() {
        assert_eq!(Guard::Open.authenticate(None), Ok(Caller::Open));
        assert_eq!(Guard::Open.authenticate(Some(b"junk")), Ok(Caller::Open));
    }

    #[test]
    fn the_guarded_value_is_reached_only_through_the_rule() {
        let acme = Guarded::new(
            "ledger",
            Caller::Key(Principal::Organisation(OrganisationId::new("acme"))),
        );
        let org = OrganisationId::new;
        assert_eq!(
            acme.for_organisation(Action::Read, "organisation_id", &org("acme")),
            Ok(&"ledger")
        );
        assert!(acme
            .for_organisation(Action::Read, "organisation_id", &org("globex"))
            .is_err());
        let mixed = acme
            .for_each_organisation(Action::Append, "events", ["acme", "acme", "globex"])
            .expect_err("a batch mixing organisations");
        assert_eq!(mixed.field(), Some("events[2].organisation_id"));
        assert!(acme
            .for_each_organisation(Action::Append, "events", ["acme", "acme"])
            .is_ok());
        assert!(acme.for_admin("sign checkpoints").is_err());
        let admin = Guarded::new("ledger", Caller::Key(Principal::Admin));
        assert!(admin.for_admin("sign checkpoints").is_ok());
        assert!(admin
            .for_organisation(Action::Read, "organisation_id", &org("globex"))
            .is_ok());
        assert!(admin
            .for_each_organisation(Action::Check, "checks", ["acme"])
            .is_err());
    }
}
