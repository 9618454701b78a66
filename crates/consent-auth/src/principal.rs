//! Who a caller is, what they ask to do, and the rule between the two.

use consent_domain::OrganisationId;

/// The holder of a key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Principal {
    /// An organisation's systems: its own data only.
    Organisation(OrganisationId),
    /// The ledger's operator: reads and exports any organisation, signs
    /// checkpoints; never appends or checks.
    Admin,
}

/// What a request does with one organisation's data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Append facts of the organisation.
    Append,
    /// Decide whether the organisation may send a message (single, batch or
    /// streamed checks).
    Check,
    /// Read the organisation's data: history, routing, exports,
    /// eligibility.
    Read,
}

impl Action {
    fn verb(self) -> &'static str {
        match self {
            Action::Append => "append facts of",
            Action::Check => "check messages of",
            Action::Read => "read the data of",
        }
    }
}

impl Principal {
    /// The one authorization rule: whether this principal may do `action`
    /// on `organisation`'s data.
    pub fn may(&self, action: Action, organisation: &OrganisationId) -> bool {
        match self {
            Principal::Organisation(own) => own == organisation,
            Principal::Admin => action == Action::Read,
        }
    }

    fn describe(&self) -> String {
        match self {
            Principal::Organisation(own) => {
                format!("the API key of organisation `{}`", own.as_str())
            }
            Principal::Admin => "the admin key".to_owned(),
        }
    }
}

/// The caller of one request, once authenticated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Caller {
    /// Open mode: the ledger runs without a key file (loopback, or
    /// explicitly insecure), so every caller may do everything.
    Open,
    /// A caller who presented a known key.
    Key(Principal),
}

impl Caller {
    /// `Ok` when the caller may do `action` on `organisation`'s data;
    /// `field` names where the request gave the organisation.
    pub fn may(
        &self,
        action: Action,
        field: &str,
        organisation: &OrganisationId,
    ) -> Result<(), AuthError> {
        match self {
            Caller::Open => Ok(()),
            Caller::Key(principal) if principal.may(action, organisation) => Ok(()),
            Caller::Key(principal) => Err(AuthError::Denied {
                field: Some(field.to_owned()),
                message: match principal {
                    Principal::Admin if action != Action::Read => format!(
                        "the admin key may not {} an organisation; use that organisation's API key",
                        action.verb().trim_end_matches(" of")
                    ),
                    _ => format!(
                        "{} may not {} organisation `{}`",
                        principal.describe(),
                        action.verb(),
                        organisation.as_str()
                    ),
                },
            }),
        }
    }

    /// `Ok` for the admin (and in open mode).
    pub fn must_be_admin(&self, what: &str) -> Result<(), AuthError> {
        match self {
            Caller::Open | Caller::Key(Principal::Admin) => Ok(()),
            Caller::Key(principal) => Err(AuthError::Denied {
                field: None,
                message: format!(
                    "only the admin key may {what}; {} may not",
                    principal.describe()
                ),
            }),
        }
    }
}

/// Why a request is refused before it reaches the ledger. Messages name
/// what the caller sent or may do, never another organisation's data.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No credentials (HTTP 401, gRPC UNAUTHENTICATED).
    #[error("this endpoint needs an API key: send `Authorization: Bearer <key>`")]
    Missing,
    /// Credentials that are not `Bearer <key>` (401).
    #[error("the authorization is not `Bearer <key>`")]
    Malformed,
    /// A key this ledger does not know: mistyped or revoked (401).
    #[error("the API key is not valid here (unknown or revoked)")]
    UnknownKey,
    /// A valid key that may not do this (HTTP 403, gRPC
    /// PERMISSION_DENIED).
    #[error("{message}")]
    Denied {
        /// The request field that named the organisation, if one did.
        field: Option<String>,
        message: String,
    },
}

impl AuthError {
    /// 401 / UNAUTHENTICATED, as opposed to 403 / PERMISSION_DENIED.
    pub fn is_unauthenticated(&self) -> bool {
        !matches!(self, AuthError::Denied { .. })
    }

    pub fn field(&self) -> Option<&str> {
        match self {
            AuthError::Denied { field, .. } => field.as_deref(),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn org(id: &str) -> OrganisationId {
        OrganisationId::new(id)
    }

    #[test]
    fn an_organisation_acts_only_for_itself() {
        let acme = Principal::Organisation(org("acme"));
        for action in [Action::Append, Action::Check, Action::Read] {
            assert!(acme.may(action, &org("acme")), "{action:?}");
            assert!(!acme.may(action, &org("globex")), "{action:?}");
            assert!(!acme.may(action, &org("")), "{action:?}");
            assert!(!acme.may(action, &org("acme ")), "{action:?}");
        }
    }

    #[test]
    fn the_admin_reads_any_organisation_but_neither_appends_nor_checks() {
        assert!(Principal::Admin.may(Action::Read, &org("acme")));
        assert!(Principal::Admin.may(Action::Read, &org("globex")));
        assert!(!Principal::Admin.may(Action::Append, &org("acme")));
        assert!(!Principal::Admin.may(Action::Check, &org("acme")));
    }

    #[test]
    fn refusals_name_the_field_and_are_forbidden_not_unauthenticated() {
        let caller = Caller::Key(Principal::Organisation(org("acme")));
        let error = caller
            .may(Action::Append, "events[1].organisation_id", &org("globex"))
            .expect_err("another organisation");
        assert!(!error.is_unauthenticated());
        assert_eq!(error.field(), Some("events[1].organisation_id"));
        assert!(error.to_string().contains("`globex`"), "{error}");
        let admin = Caller::Key(Principal::Admin)
            .may(Action::Check, "organisation_id", &org("acme"))
            .expect_err("admin checks");
        assert!(
            admin.to_string().contains("admin key may not check"),
            "{admin}"
        );
        assert!(caller.must_be_admin("sign checkpoints").is_err());
        assert!(Caller::Key(Principal::Admin).must_be_admin("sign").is_ok());
    }

    #[test]
    fn open_mode_allows_everything() {
        assert!(Caller::Open.may(Action::Append, "x", &org("any")).is_ok());
        assert!(Caller::Open.must_be_admin("sign").is_ok());
        assert!(AuthError::Missing.is_unauthenticated());
        assert!(AuthError::UnknownKey.is_unauthenticated());
    }
}
