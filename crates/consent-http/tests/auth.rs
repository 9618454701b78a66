//! API keys over HTTP: for every route of `consent_http::endpoints()`, no
//! key is 401, another organisation's key is 403 with no data, and the
//! organisation's own key is served; the admin reads and exports any
//! organisation but neither appends nor checks; a batch mixing
//! organisations is refused whole.

mod common;

use common::*;
use consent_auth::{ApiKey, Guard, KeyEntry, KeyRing, Principal};
use consent_domain::OrganisationId;
use consent_http::{endpoints, Access};
use consent_projector::OwnedPartitions;
use consent_service::LedgerConfig;
use reqwest::StatusCode;
use serde_json::{json, Value};

const OTHER_ORG: &str = "globex-direct";

struct Keys {
    own: String,
    other: String,
    admin: String,
}

fn keys() -> (Guard, Keys) {
    let own = ApiKey::from_random_bytes(&[11; 32]);
    let other = ApiKey::from_random_bytes(&[22; 32]);
    let admin = ApiKey::from_random_bytes(&[33; 32]);
    let entries = [
        (&own, Principal::Organisation(OrganisationId::new(ORG))),
        (
            &other,
            Principal::Organisation(OrganisationId::new(OTHER_ORG)),
        ),
        (&admin, Principal::Admin),
    ];
    let text: Vec<String> = entries
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
        .collect();
    let ring = KeyRing::parse(&text.join("\n")).expect("key file");
    (
        Guard::keys(ring),
        Keys {
            own: own.secret().to_owned(),
            other: other.secret().to_owned(),
            admin: admin.secret().to_owned(),
        },
    )
}

/// What a route does with [`ORG`]'s data, which decides who may call it.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Scope {
    /// Appends or checks for [`ORG`]: its own key only.
    Writes,
    /// Reads [`ORG`]'s data: its own key or the admin.
    Reads,
    /// The admin only.
    AdminOnly,
    /// Any authenticated caller: nothing of one organisation.
    AnyCaller,
}

struct Sample {
    path: String,
    body: Option<Value>,
    scope: Scope,
}

/// A request about [`ORG`]'s data for each route; a route without one
/// fails the test, so a new route is tested as soon as it exists.
fn sample(method: &str, template: &str, wait_for: &Value) -> Option<Sample> {
    let check = helmet_email(wait_for);
    let (path, body, scope) = match (method, template) {
        ("POST", "/v1/events") => (
            template.to_owned(),
            Some(objection("2025-04-01T00:00:00Z")),
            Scope::Writes,
        ),
        ("POST", "/v1/checks") => (template.to_owned(), Some(check), Scope::Writes),
        ("POST", "/v1/checks:batch") => (
            template.to_owned(),
            Some(json!({ "checks": [check.clone(), check] })),
            Scope::Writes,
        ),
        ("GET", "/v1/organisations/{organisation}/subjects/{subject}/history") => (
            format!("/v1/organisations/{ORG}/subjects/{SUBJECT}/history"),
            None,
            Scope::Reads,
        ),
        ("GET", "/v1/organisations/{organisation}/suppressions") => (
            format!("/v1/organisations/{ORG}/suppressions"),
            None,
            Scope::Reads,
        ),
        ("GET", "/v1/routing") => (
            format!("/v1/routing?organisationId={ORG}&subjectId={SUBJECT}"),
            None,
            Scope::Reads,
        ),
        ("POST", "/v1/exports") => (
            template.to_owned(),
            Some(json!({ "organisationId": ORG, "subject": { "subjectId": SUBJECT } })),
            Scope::Reads,
        ),
        ("POST", "/v1/eligibility") => (
            template.to_owned(),
            Some(json!({ "organisationId": ORG, "message": check })),
            Scope::Reads,
        ),
        ("POST", "/v1/signals/gpc") => (
            template.to_owned(),
            Some(json!({ "organisationId": ORG, "subjectId": SUBJECT })),
            Scope::Writes,
        ),
        ("POST", "/v1/checkpoints") => (template.to_owned(), Some(json!({})), Scope::AdminOnly),
        (
            "GET",
            "/v1/rule-sets" | "/v1/status" | "/v1/checkpoints/latest" | "/v1/checkpoint-key",
        ) => (template.to_owned(), None, Scope::AnyCaller),
        _ => return None,
    };
    Some(Sample { path, body, scope })
}

async fn send(
    server: &Server,
    method: &str,
    path: &str,
    body: Option<&Value>,
    authorization: Option<String>,
) -> (StatusCode, reqwest::header::HeaderMap, String) {
    let url = format!("{}{path}", server.base);
    let mut request = match method {
        "GET" => server.client.get(&url),
        "POST" => server.client.post(&url).json(body.unwrap_or(&json!({}))),
        other => panic!("no sample requests for method {other}"),
    };
    // A browser's Global Privacy Control signal, for `/v1/signals/gpc`.
    request = request.header("sec-gpc", "1");
    if let Some(value) = authorization {
        request = request.header("authorization", value);
    }
    let response = request.send().await.expect("request sent");
    let status = response.status();
    let headers = response.headers().clone();
    (status, headers, response.text().await.expect("body"))
}

fn bearer(key: &str) -> Option<String> {
    Some(format!("Bearer {key}"))
}

/// The body is the error document with `code`, and carries nothing of the
/// organisation's data.
fn assert_refused(what: &str, body: &str, code: &str) {
    let value: Value =
        serde_json::from_str(body).unwrap_or_else(|_| panic!("{what}: not JSON: {body}"));
    let error = value["error"]
        .as_object()
        .unwrap_or_else(|| panic!("{what}: {body}"));
    assert_eq!(error["code"], json!(code), "{what}: {body}");
    assert_eq!(
        value.as_object().map(|o| o.len()),
        Some(1),
        "{what}: only `error`: {body}"
    );
    for key in error.keys() {
        assert!(
            ["code", "message", "field"].contains(&key.as_str()),
            "{what}: unexpected `{key}` in {body}"
        );
    }
    for data in [SUBJECT, "order-77", "bikes", "Acme Cycles"] {
        assert!(
            !body.contains(data),
            "{what}: the refusal shows `{data}`: {body}"
        );
    }
}

/// A server in `dir` that requires API keys, and its keys.
async fn guarded_server(dir: &std::path::Path) -> (Server, Keys) {
    let (guard, keys) = keys();
    let server =
        Server::start_guarded(dir, LedgerConfig::default(), OwnedPartitions::All, guard).await;
    (server, keys)
}

#[tokio::test]
async fn every_endpoint_serves_only_its_own_organisation() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (server, keys) = guarded_server(dir.path()).await;

    // The organisation's facts, appended with its key, and a checkpoint
    // signed by the admin once the view has them.
    let (status, _, body) = send(
        &server,
        "POST",
        "/v1/events",
        Some(&shop_and_sale()),
        bearer(&keys.own),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let appended: Value = serde_json::from_str(&body).expect("JSON");
    let wait_for = positions(&appended);
    let (status, _, body) = send(
        &server,
        "POST",
        "/v1/checks",
        Some(&helmet_email(&wait_for)),
        bearer(&keys.own),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _, body) = send(
        &server,
        "POST",
        "/v1/checkpoints",
        None,
        bearer(&keys.admin),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let mut public = Vec::new();
    for endpoint in endpoints() {
        let method = endpoint.method.as_str();
        let route = format!("{method} {}", endpoint.path);
        if endpoint.access == Access::Public {
            // No API key is asked for: operations probes, and intake
            // endpoints that check their own tokens or signatures.
            let (status, headers, body) = send(&server, method, endpoint.path, None, None).await;
            assert!(
                headers.get("www-authenticate").is_none() && !body.contains("\"unauthenticated\""),
                "{route} is public, yet asks for an API key: {status} {body}"
            );
            public.push(endpoint.path);
            continue;
        }
        let sample = sample(method, endpoint.path, &wait_for).unwrap_or_else(|| {
            panic!("{route} has no sample request here: add one, with the scope its handler authorizes")
        });
        let call = |authorization: Option<String>| {
            send(
                &server,
                method,
                &sample.path,
                sample.body.as_ref(),
                authorization,
            )
        };

        // Unauthenticated: no key, a malformed one, an unknown one.
        for (what, authorization) in [
            ("no key", None),
            ("not Bearer", Some(format!("Basic {}", keys.own))),
            (
                "unknown key",
                bearer("clk_revokedOrNeverIssuedKeyxxxxxxxxxxxxxxxxxxxx"),
            ),
            (
                "the hash as key",
                bearer(&consent_auth::KeyHash::of(&keys.own).to_hex()),
            ),
        ] {
            let (status, headers, body) = call(authorization).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{route}, {what}: {body}");
            assert_eq!(
                headers
                    .get("www-authenticate")
                    .and_then(|v| v.to_str().ok()),
                Some("Bearer"),
                "{route}, {what}"
            );
            assert_refused(&format!("{route}, {what}"), &body, "unauthenticated");
        }

        // Another organisation's key.
        let (status, _, body) = call(bearer(&keys.other)).await;
        match sample.scope {
            Scope::AnyCaller => assert_eq!(
                status,
                StatusCode::OK,
                "{route}, another organisation: {body}"
            ),
            _ => {
                assert_eq!(
                    status,
                    StatusCode::FORBIDDEN,
                    "{route}, another organisation: {body}"
                );
                assert_refused(
                    &format!("{route}, another organisation"),
                    &body,
                    "permission_denied",
                );
            }
        }

        // The organisation's own key.
        let (status, _, body) = call(bearer(&keys.own)).await;
        match sample.scope {
            Scope::AdminOnly => {
                assert_eq!(status, StatusCode::FORBIDDEN, "{route}, own key: {body}");
                assert_refused(&format!("{route}, own key"), &body, "permission_denied");
            }
            _ => assert_eq!(status, StatusCode::OK, "{route}, own key: {body}"),
        }

        // The admin.
        let (status, _, body) = call(bearer(&keys.admin)).await;
        match sample.scope {
            Scope::Writes => {
                assert_eq!(status, StatusCode::FORBIDDEN, "{route}, admin: {body}");
                assert_refused(&format!("{route}, admin"), &body, "permission_denied");
            }
            _ => assert_eq!(status, StatusCode::OK, "{route}, admin: {body}"),
        }
    }
    for probe in ["/healthz", "/readyz", "/metrics"] {
        assert!(public.contains(&probe), "{probe} is public: {public:?}");
    }
    assert!(
        public
            .iter()
            .all(|path| !path.starts_with("/v1/organisations")
                && !path.starts_with("/v1/check")
                && !path.starts_with("/v1/export")),
        "no data endpoint is public: {public:?}"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_batch_mixing_organisations_is_refused_whole_and_the_admin_exports_any() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (server, keys) = guarded_server(dir.path()).await;
    let before = server.end_offsets().await;

    // An append with one event of another organisation: nothing appended.
    let mut events = shop_and_sale();
    events["events"][1]["organisationId"] = json!(OTHER_ORG);
    let (status, _, body) = send(
        &server,
        "POST",
        "/v1/events",
        Some(&events),
        bearer(&keys.own),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let error: Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(error["error"]["field"], json!("events[1].organisation_id"));
    assert_eq!(
        server.end_offsets().await,
        before,
        "nothing of the batch was appended"
    );

    // Each organisation appends its own facts.
    let (status, _, body) = send(
        &server,
        "POST",
        "/v1/events",
        Some(&shop_and_sale()),
        bearer(&keys.own),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let mut theirs = shop_and_sale();
    for event in theirs["events"].as_array_mut().expect("events") {
        event["organisationId"] = json!(OTHER_ORG);
    }
    let (status, _, body) = send(
        &server,
        "POST",
        "/v1/events",
        Some(&theirs),
        bearer(&keys.other),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let wait_for = positions(&serde_json::from_str(&body).expect("JSON"));

    // A batch check mixing them.
    let own = helmet_email(&wait_for);
    let mut foreign = own.clone();
    foreign["organisationId"] = json!(OTHER_ORG);
    let batch = json!({ "checks": [own.clone(), foreign.clone(), own] });
    let (status, _, body) = send(
        &server,
        "POST",
        "/v1/checks:batch",
        Some(&batch),
        bearer(&keys.own),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_refused("a mixed batch", &body, "permission_denied");
    assert!(body.contains("checks[1].organisation_id"), "{body}");

    // The admin exports both organisations; each organisation only its own.
    let (status, _, body) = send(
        &server,
        "POST",
        "/v1/checkpoints",
        None,
        bearer(&keys.admin),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    for organisation in [ORG, OTHER_ORG] {
        let export = json!({ "organisationId": organisation, "subject": { "subjectId": SUBJECT } });
        let (status, _, body) = send(
            &server,
            "POST",
            "/v1/exports",
            Some(&export),
            bearer(&keys.admin),
        )
        .await;
        assert_eq!(
            status,
            StatusCode::OK,
            "admin export of {organisation}: {body}"
        );
        assert!(body.contains(organisation), "{body}");
    }
    let export = json!({ "organisationId": ORG, "subject": { "subjectId": SUBJECT } });
    let (status, _, body) = send(
        &server,
        "POST",
        "/v1/exports",
        Some(&export),
        bearer(&keys.other),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_refused("another organisation's export", &body, "permission_denied");
    server.stop().await;
}
