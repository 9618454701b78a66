//! Authentication and authorization of the API's endpoints.
//!
//! Every endpoint of [`crate::endpoints`] is either [`Access::ApiKey`] (the
//! default) or [`Access::Public`] (operations probes, and intake endpoints
//! that carry their own signed tokens). The router puts [`authenticate`]
//! in front of every `ApiKey` endpoint: a missing, malformed or unknown
//! key is answered 401 `unauthenticated` before the handler runs. The
//! handlers then reach the ledger only through [`Authorized`], naming the
//! organisation they act for, so a handler cannot read or write the ledger
//! without the authorization rule of `consent-auth` (403
//! `permission_denied`).

use crate::error::ApiError;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use consent_auth::{AuthError, Caller, Guard, Guarded};
use consent_service::Ledger;

/// Who may call an endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Callers present an API key; the handler authorizes through
    /// [`Authorized`].
    ApiKey,
    /// No API key: health, readiness and metrics for operations, and
    /// endpoints that authenticate their caller otherwise (signed
    /// unsubscribe tokens, webhook signatures).
    Public,
}

impl From<AuthError> for ApiError {
    fn from(error: AuthError) -> Self {
        if error.is_unauthenticated() {
            Self::new(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                error.to_string(),
            )
        } else {
            Self {
                field: error.field().map(str::to_owned),
                ..Self::new(
                    StatusCode::FORBIDDEN,
                    "permission_denied",
                    error.to_string(),
                )
            }
        }
    }
}

/// The middleware of every [`Access::ApiKey`] endpoint: the caller of the
/// `Authorization: Bearer <key>` header, into the request's extensions
/// for [`Authorized`]; else 401 with `WWW-Authenticate: Bearer`.
pub async fn authenticate(
    State(guard): State<Guard>,
    mut request: Request,
    next: Next,
) -> Response {
    let authorization = request
        .headers()
        .get(header::AUTHORIZATION)
        .map(HeaderValue::as_bytes);
    match guard.authenticate(authorization) {
        Ok(caller) => {
            request.extensions_mut().insert(caller);
            next.run(request).await
        }
        Err(error) => {
            tracing::info!(%error, "request refused: not authenticated");
            let mut response = ApiError::from(error).into_response();
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            response
        }
    }
}

/// The ledger, for the authenticated caller of this request: reachable
/// only through the authorization rule ([`Guarded`]). A request that did
/// not pass [`authenticate`] (a public endpoint using it by mistake) is
/// refused 401, never served.
pub struct Authorized(pub Guarded<Ledger>);

impl std::ops::Deref for Authorized {
    type Target = Guarded<Ledger>;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl FromRequestParts<Ledger> for Authorized {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, ledger: &Ledger) -> Result<Self, ApiError> {
        let caller = parts
            .extensions
            .get::<Caller>()
            .cloned()
            .ok_or(AuthError::Missing)?;
        Ok(Self(Guarded::new(ledger.clone(), caller)))
    }
}
