//! `docs/openapi.json` against the API it describes:
//!
//! * its message schemas are the proto3 JSON mapping of `consent.v1`, as
//!   derived here from the compiled descriptors (run with
//!   `CONSENT_WRITE_OPENAPI=1` to rewrite them after a `.proto` change);
//! * it documents exactly the routes the router serves
//!   ([`consent_http::endpoints`]);
//! * a real server answers sample requests to every documented operation
//!   with a documented status and a body valid against its schema.

mod common;

use common::*;
use consent_service::LedgerConfig;
use prost::Message;
use prost_types::field_descriptor_proto::{Label, Type};
use prost_types::{DescriptorProto, FileDescriptorSet};
use reqwest::StatusCode;
use serde_json::{json, Map, Value};
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;

fn document_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/openapi.json")
}

fn document() -> Value {
    let text = std::fs::read_to_string(document_path()).expect("read docs/openapi.json");
    serde_json::from_str(&text).expect("docs/openapi.json is JSON")
}

// ------------------------------------------------- schemas from the protos

/// The JSON Schema of every `consent.v1` message and enum, in the proto3
/// JSON mapping as pbjson writes it: camelCase names, enums by name, 64-bit
/// integers as decimal strings, timestamps as RFC 3339 text.
fn proto_schemas() -> Map<String, Value> {
    let set = FileDescriptorSet::decode(consent_schema::FILE_DESCRIPTOR_SET)
        .expect("the descriptor set decodes");
    let mut schemas = Map::new();
    for file in set.file.iter().filter(|f| f.package() == "consent.v1") {
        for message in &file.message_type {
            message_schema(message, "", &mut schemas);
        }
        for enumeration in &file.enum_type {
            schemas.insert(enumeration.name().to_owned(), enum_schema(enumeration));
        }
    }
    schemas
}

fn enum_schema(enumeration: &prost_types::EnumDescriptorProto) -> Value {
    let names: Vec<&str> = enumeration.value.iter().map(|v| v.name()).collect();
    json!({ "type": "string", "enum": names })
}

fn message_schema(message: &DescriptorProto, outer: &str, schemas: &mut Map<String, Value>) {
    let name = format!("{outer}{}", message.name());
    for nested in &message.nested_type {
        if !nested.options.as_ref().is_some_and(|o| o.map_entry()) {
            message_schema(nested, &format!("{name}."), schemas);
        }
    }
    for enumeration in &message.enum_type {
        schemas.insert(
            format!("{name}.{}", enumeration.name()),
            enum_schema(enumeration),
        );
    }
    let mut properties = Map::new();
    for field in &message.field {
        let json_name = field
            .json_name
            .clone()
            .unwrap_or_else(|| camel_case(field.name()));
        let map_entry = (field.r#type() == Type::Message)
            .then(|| {
                message.nested_type.iter().find(|nested| {
                    nested.options.as_ref().is_some_and(|o| o.map_entry())
                        && field.type_name().ends_with(&format!(".{}", nested.name()))
                })
            })
            .flatten();
        let schema = if let Some(entry) = map_entry {
            json!({ "type": "object", "additionalProperties": field_type(&entry.field[1]) })
        } else if field.label() == Label::Repeated {
            json!({ "type": "array", "items": field_type(field) })
        } else {
            field_type(field)
        };
        properties.insert(json_name, schema);
    }
    schemas.insert(
        name,
        json!({ "type": "object", "additionalProperties": false, "properties": properties }),
    );
}

fn field_type(field: &prost_types::FieldDescriptorProto) -> Value {
    match field.r#type() {
        Type::String => json!({ "type": "string" }),
        Type::Bool => json!({ "type": "boolean" }),
        Type::Int32 | Type::Sint32 | Type::Sfixed32 | Type::Uint32 | Type::Fixed32 => {
            json!({ "type": "integer" })
        }
        Type::Int64 | Type::Sint64 | Type::Sfixed64 | Type::Uint64 | Type::Fixed64 => {
            json!({ "type": "string", "pattern": "^-?[0-9]+$" })
        }
        Type::Double | Type::Float => json!({ "type": "number" }),
        Type::Bytes => json!({ "type": "string", "contentEncoding": "base64" }),
        Type::Enum | Type::Message | Type::Group => match field.type_name() {
            ".google.protobuf.Timestamp" => json!({ "type": "string", "format": "date-time" }),
            name => {
                let local = name.strip_prefix(".consent.v1.").unwrap_or_else(|| {
                    panic!(
                        "field {} has a type outside consent.v1: {name}",
                        field.name()
                    )
                });
                json!({ "$ref": format!("#/components/schemas/{local}") })
            }
        },
    }
}

fn camel_case(name: &str) -> String {
    let mut out = String::new();
    let mut upper = false;
    for c in name.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

#[test]
fn the_message_schemas_are_the_proto3_json_of_the_protos() {
    let mut document = document();
    let generated = proto_schemas();
    if std::env::var_os("CONSENT_WRITE_OPENAPI").is_some() {
        let schemas = document["components"]["schemas"]
            .as_object_mut()
            .expect("components.schemas");
        for (name, schema) in &generated {
            schemas.insert(name.clone(), schema.clone());
        }
        let text = serde_json::to_string_pretty(&document).expect("serialise");
        std::fs::write(document_path(), text + "\n").expect("write docs/openapi.json");
        return;
    }
    let documented = &document["components"]["schemas"];
    let stale: Vec<&String> = generated
        .iter()
        .filter(|(name, schema)| documented.get(name.as_str()) != Some(*schema))
        .map(|(name, _)| name)
        .collect();
    assert!(
        stale.is_empty(),
        "docs/openapi.json's schemas of {stale:?} differ from proto/; \
         run `CONSENT_WRITE_OPENAPI=1 cargo test -p consent-http --test openapi`"
    );
}

// ------------------------------------------------------ routes vs document

fn documented_operations(document: &Value) -> BTreeSet<(String, String)> {
    let mut operations = BTreeSet::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("path item").keys() {
            if ["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                operations.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    operations
}

#[test]
fn every_route_is_documented_and_every_documented_route_is_served() {
    let served: BTreeSet<(String, String)> = consent_http::endpoints()
        .iter()
        .map(|e| (e.method.to_string(), e.path.to_owned()))
        .collect();
    let documented = documented_operations(&document());
    let undocumented: Vec<_> = served.difference(&documented).collect();
    let unserved: Vec<_> = documented.difference(&served).collect();
    assert!(
        undocumented.is_empty(),
        "routes missing from docs/openapi.json: {undocumented:?}"
    );
    assert!(
        unserved.is_empty(),
        "documented routes the router lacks: {unserved:?}"
    );
}

// ------------------------------------------------- the server vs document

/// A validator of `schema`, with the document's components in reach of its
/// `$ref`s.
fn validator(document: &Value, schema: &Value) -> jsonschema::Validator {
    let mut root = schema.clone();
    if let Some(object) = root.as_object_mut() {
        object.insert("components".to_owned(), document["components"].clone());
    } else {
        panic!("a schema that is not an object: {schema}");
    }
    jsonschema::draft202012::new(&root)
        .unwrap_or_else(|error| panic!("invalid schema {schema}: {error}"))
}

/// Checks one answer against the document: its status is documented for
/// the operation, and its body is valid against that status's schema.
fn conforms(document: &Value, method: &str, path: &str, status: StatusCode, body: &Value) {
    let operation = &document["paths"][path][method.to_lowercase()];
    assert!(operation.is_object(), "{method} {path} is not documented");
    let response = &operation["responses"][status.as_str()];
    assert!(
        response.is_object(),
        "{method} {path} answered {status}, which the document does not list: {body}"
    );
    let schema = &response["content"]["application/json"]["schema"];
    assert!(
        schema.is_object(),
        "{method} {path} {status} has no JSON schema"
    );
    let validator = validator(document, schema);
    let errors: Vec<String> = validator
        .iter_errors(body)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{method} {path} {status}: the body does not match the document: {errors:?}\n{body}"
    );
}

#[tokio::test]
async fn the_server_answers_as_documented() {
    let document = document();
    let dir = tempfile::tempdir().expect("temp dir");
    let server = Server::start(dir.path(), LedgerConfig::default()).await;
    let mut exercised = BTreeSet::new();
    let history = "/v1/organisations/{organisation}/subjects/{subject}/history";

    let mut call = async |method: &str, template: &str, path: &str, body: Option<Value>| {
        let (status, answer) = match &body {
            Some(body) => server.post(path, body).await,
            None => server.get(path).await,
        };
        conforms(&document, method, template, status, &answer);
        exercised.insert((method.to_owned(), template.to_owned()));
        (status, answer)
    };

    let (status, appended) = call("POST", "/v1/events", "/v1/events", Some(shop_and_sale())).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = call(
        "POST",
        "/v1/events",
        "/v1/events",
        Some(json!({ "events": [{}] })),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let check = helmet_email(&positions(&appended));
    let (status, _) = call("POST", "/v1/checks", "/v1/checks", Some(check.clone())).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = call(
        "POST",
        "/v1/checks",
        "/v1/checks",
        Some(json!({ "channel": 7 })),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let mut unknown_rules = check.clone();
    unknown_rules["ruleSetId"] = json!("no-such-rules");
    let (status, _) = call("POST", "/v1/checks", "/v1/checks", Some(unknown_rules)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let batch = json!({ "checks": [check.clone(), check.clone()] });
    let (status, _) = call("POST", "/v1/checks:batch", "/v1/checks:batch", Some(batch)).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = call(
        "POST",
        "/v1/checks:batch",
        "/v1/checks:batch",
        Some(json!([])),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let path = format!(
        "/v1/organisations/{ORG}/subjects/{SUBJECT}/history?at=2025-06-01T00:00:00Z&channel=CHANNEL_EMAIL&purpose=PURPOSE_COMMERCIAL&productCategoryId=helmets&messageClass=MESSAGE_CLASS_MARKETING&optOutIncluded=true&senderIdentified=true"
    );
    let (status, answer) = call("GET", history, &path, None).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let plain = format!("/v1/organisations/{ORG}/subjects/{SUBJECT}/history");
    let (status, _) = call("GET", history, &plain, None).await;
    assert_eq!(status, StatusCode::OK);
    let bad = format!("/v1/organisations/{ORG}/subjects/{SUBJECT}/history?at=yesterday");
    let (status, _) = call("GET", history, &bad, None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let suppressions = "/v1/organisations/{organisation}/suppressions";
    let (status, answer) = call(
        "GET",
        suppressions,
        &format!("/v1/organisations/{ORG}/suppressions?limit=10"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let (status, _) = call(
        "GET",
        suppressions,
        &format!("/v1/organisations/{ORG}/suppressions?limit=0x10"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let routing = format!("/v1/routing?organisationId={ORG}&subjectId={SUBJECT}");
    let (status, _) = call("GET", "/v1/routing", &routing, None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = call("GET", "/v1/routing", "/v1/routing?organisationId=x", None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let (status, _) = call("GET", "/v1/rule-sets", "/v1/rule-sets", None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = call("GET", "/v1/status", "/v1/status", None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = call("GET", "/healthz", "/healthz", None).await;
    assert_eq!(status, StatusCode::OK);

    // Evidence: checkpoints, the key, exports and the eligibility CSV.
    let (status, signed) = call(
        "POST",
        "/v1/checkpoints",
        "/v1/checkpoints",
        Some(json!({})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{signed}");
    assert!(signed["note"]
        .as_str()
        .is_some_and(|note| note.contains("\npartition test.")));
    let (status, latest) = call(
        "GET",
        "/v1/checkpoints/latest",
        "/v1/checkpoints/latest",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(latest["note"], signed["note"]);
    let export = json!({ "organisationId": ORG, "subject": { "subjectId": SUBJECT } });
    let (status, bundle) = call("POST", "/v1/exports", "/v1/exports", Some(export.clone())).await;
    assert_eq!(status, StatusCode::OK, "{bundle}");
    assert!(!bundle["records"].as_array().expect("records").is_empty());
    let (status, _) = call(
        "POST",
        "/v1/exports",
        "/v1/exports",
        Some(json!({ "organisationId": ORG })),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = call(
        "POST",
        "/v1/eligibility",
        "/v1/eligibility",
        Some(json!({ "organisationId": ORG, "message": { "channel": 7 } })),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // The text answers, by content type and content.
    let mut text_answers = Vec::new();
    for (method, path, body, content_type, expect) in [
        (
            "GET",
            "/v1/checkpoint-key",
            None,
            "text/plain",
            "ledger.test/consent+",
        ),
        (
            "POST",
            "/v1/eligibility",
            Some(json!({ "organisationId": ORG, "message": check.clone() })),
            "text/csv",
            "organisation_id,subject_id,",
        ),
        (
            "POST",
            "/v1/exports?format=html",
            Some(export),
            "text/html",
            "VERIFIED",
        ),
    ] {
        let url = format!("{}{path}", server.base);
        let request = match &body {
            Some(body) => server.client.post(&url).json(body),
            None => server.client.get(&url),
        };
        let response = request.send().await.expect("request");
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let template = path.split('?').next().unwrap_or(path);
        let documented =
            &document["paths"][template][method.to_lowercase()]["responses"]["200"]["content"];
        assert!(
            documented[content_type].is_object(),
            "{path} is documented as {content_type}"
        );
        let text = response.text().await.expect("text");
        assert!(text.contains(expect), "{path}: {text}");
        text_answers.push((method.to_owned(), template.to_owned()));
    }

    // Ready once the view has applied what the log held at the first probe.
    let mut ready = None;
    for _ in 0..100 {
        let (status, answer) = call("GET", "/readyz", "/readyz", None).await;
        if status == StatusCode::OK {
            ready = Some(answer);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(ready.expect("ready within 5 s")["status"], json!("ready"));

    // /metrics is text, not JSON: checked by its content type and content.
    let response = server
        .client
        .get(format!("{}/metrics", server.base))
        .send()
        .await
        .expect("GET /metrics");
    assert_eq!(response.status(), StatusCode::OK);
    let documented = &document["paths"]["/metrics"]["get"]["responses"]["200"]["content"];
    assert!(
        documented["text/plain"].is_object(),
        "/metrics is documented as text/plain"
    );
    let text = response.text().await.expect("metrics text");
    assert!(text.contains("consent_checks_total"), "{text}");
    exercised.insert(("GET".to_owned(), "/metrics".to_owned()));
    exercised.extend(text_answers);
    exercised.extend(intake_samples(&document, &server).await);

    let unexercised: Vec<_> = documented_operations(&document)
        .difference(&exercised)
        .cloned()
        .collect();
    assert!(
        unexercised.is_empty(),
        "no sample request for {unexercised:?}"
    );
    server.stop().await;
}

/// One request to an intake endpoint and the status it must get.
struct IntakeSample {
    method: &'static str,
    template: &'static str,
    path: String,
    content_type: Option<&'static str>,
    body: String,
    headers: Vec<(&'static str, String)>,
    expected: StatusCode,
}

/// Samples of the opt-out intake endpoints (form bodies, HTML pages and
/// signed webhooks, so not through the JSON helper): each answer's status
/// is documented, and a JSON body matches its schema.
async fn intake_samples(document: &Value, server: &Server) -> Vec<(String, String)> {
    let page = "/u/{token}";
    let mut exercised = Vec::new();
    let sent = json!({ "events": [{
        "organisationId": ORG,
        "subjectId": SUBJECT,
        "occurredAt": "2025-06-01T09:00:00Z",
        "marketingMessageSent": {
            "channel": "CHANNEL_EMAIL", "purpose": "PURPOSE_COMMERCIAL",
            "messageClass": "MESSAGE_CLASS_MARKETING", "promotionalContent": true,
            "optOutIncluded": true, "senderIdentified": true, "messageId": "openapi-1"
        }
    }] });
    let (status, appended) = server.post("/v1/events", &sent).await;
    assert_eq!(status, StatusCode::OK, "{appended}");
    conforms(document, "POST", "/v1/events", status, &appended);
    let url = appended["appended"][0]["unsubscribeUrl"]
        .as_str()
        .expect("an unsubscribe URL");
    let token = url.rsplit('/').next().expect("a token");
    let forged = format!("{}A", &token[..token.len() - 1]);
    let forged = if forged == token {
        format!("{}B", &token[..token.len() - 1])
    } else {
        forged
    };

    const FORM: &str = "application/x-www-form-urlencoded";
    let stop = "From=%2B447700900123&To=%2B447700900999&Body=STOP";
    let signed = consent_intake::sign_webhook(SMS_SECRET, stop.as_bytes());
    let gpc = json!({ "organisationId": ORG, "subjectId": SUBJECT }).to_string();
    let sample = |method, template, path: String, content_type, body: &str| IntakeSample {
        method,
        template,
        path,
        content_type,
        body: body.to_owned(),
        headers: Vec::new(),
        expected: StatusCode::OK,
    };
    // ESP events in.
    let sendgrid = "/v1/webhooks/sendgrid/{organisation}";
    let ses = "/v1/webhooks/ses/{organisation}";
    let mailchimp = "/v1/webhooks/mailchimp/{organisation}/{secret}";
    let generic = "/v1/webhooks/generic/{organisation}";
    let now = unix_now();
    let sendgrid_body = json!([{"email": "openapi@example.com", "timestamp": 1_700_000_000,
        "event": "unsubscribe", "sg_event_id": "openapi-sg-1"}])
    .to_string();
    let sendgrid_headers = |signature: String| {
        vec![
            ("x-twilio-email-event-webhook-signature", signature),
            ("x-twilio-email-event-webhook-timestamp", now.clone()),
        ]
    };
    let complaint = json!({"notificationType": "Complaint", "complaint": {
        "complainedRecipients": [{"emailAddress": "openapi@example.com"}],
        "complaintFeedbackType": "abuse", "timestamp": "2026-01-27T14:59:38.237Z",
        "feedbackId": "openapi-feedback-1"}})
    .to_string();
    let ses_body = sns_notification("openapi-sns-1", &complaint).to_string();
    let mut forged_ses = sns_notification("openapi-sns-1", &complaint);
    forged_ses["Message"] = json!(complaint.replace("openapi@", "other@"));
    let mailchimp_path = format!("/v1/webhooks/mailchimp/{ORG}/{MAILCHIMP_SECRET}");
    let mailchimp_form = "type=unsubscribe&fired_at=2026-03-01+10%3A00%3A00&data%5Bid%5D=m1&data%5Blist_id%5D=l1&data%5Bemail%5D=openapi%40example.com";
    let generic_body = json!({"organisationId": ORG, "address": "openapi@example.com",
        "kind": "opt_out", "channel": "email", "occurredAt": "2026-03-01T10:00:00Z",
        "providerEventId": "openapi-generic-1"})
    .to_string();
    let generic_signature = consent_intake::sign_webhook(GENERIC_SECRET, generic_body.as_bytes());
    let json_type = Some("application/json");
    let requests = [
        sample("GET", page, format!("/u/{token}"), None, ""),
        IntakeSample {
            expected: StatusCode::FORBIDDEN,
            ..sample("GET", page, format!("/u/{forged}"), None, "")
        },
        IntakeSample {
            expected: StatusCode::FORBIDDEN,
            ..sample(
                "POST",
                page,
                format!("/u/{forged}"),
                Some(FORM),
                "List-Unsubscribe=One-Click",
            )
        },
        IntakeSample {
            expected: StatusCode::BAD_REQUEST,
            ..sample(
                "POST",
                page,
                format!("/u/{token}"),
                Some(FORM),
                "List-Unsubscribe=Yes",
            )
        },
        sample(
            "POST",
            page,
            format!("/u/{token}"),
            Some(FORM),
            "List-Unsubscribe=One-Click",
        ),
        IntakeSample {
            headers: vec![("x-consent-signature", signed)],
            ..sample(
                "POST",
                "/v1/webhooks/sms",
                "/v1/webhooks/sms".to_owned(),
                Some(FORM),
                stop,
            )
        },
        IntakeSample {
            headers: vec![("x-consent-signature", "sha256=00".to_owned())],
            expected: StatusCode::FORBIDDEN,
            ..sample(
                "POST",
                "/v1/webhooks/sms",
                "/v1/webhooks/sms".to_owned(),
                Some(FORM),
                stop,
            )
        },
        IntakeSample {
            headers: vec![("sec-gpc", "1".to_owned())],
            ..sample(
                "POST",
                "/v1/signals/gpc",
                "/v1/signals/gpc".to_owned(),
                Some("application/json"),
                &gpc,
            )
        },
        IntakeSample {
            expected: StatusCode::BAD_REQUEST,
            ..sample(
                "POST",
                "/v1/signals/gpc",
                "/v1/signals/gpc".to_owned(),
                Some("application/json"),
                &gpc,
            )
        },
        IntakeSample {
            headers: sendgrid_headers(sign_sendgrid(&now, &sendgrid_body)),
            ..sample(
                "POST",
                sendgrid,
                format!("/v1/webhooks/sendgrid/{ORG}"),
                json_type,
                &sendgrid_body,
            )
        },
        IntakeSample {
            headers: sendgrid_headers(sign_sendgrid(&now, "[]")),
            expected: StatusCode::FORBIDDEN,
            ..sample(
                "POST",
                sendgrid,
                format!("/v1/webhooks/sendgrid/{ORG}"),
                json_type,
                &sendgrid_body,
            )
        },
        IntakeSample {
            expected: StatusCode::NOT_FOUND,
            ..sample(
                "POST",
                sendgrid,
                "/v1/webhooks/sendgrid/no-such-org".to_owned(),
                json_type,
                &sendgrid_body,
            )
        },
        sample(
            "POST",
            ses,
            format!("/v1/webhooks/ses/{ORG}"),
            Some("text/plain"),
            &ses_body,
        ),
        IntakeSample {
            expected: StatusCode::FORBIDDEN,
            ..sample(
                "POST",
                ses,
                format!("/v1/webhooks/ses/{ORG}"),
                Some("text/plain"),
                &forged_ses.to_string(),
            )
        },
        IntakeSample {
            expected: StatusCode::BAD_REQUEST,
            ..sample(
                "POST",
                ses,
                format!("/v1/webhooks/ses/{ORG}"),
                Some("text/plain"),
                "{}",
            )
        },
        sample("GET", mailchimp, mailchimp_path.clone(), None, ""),
        IntakeSample {
            expected: StatusCode::FORBIDDEN,
            ..sample(
                "GET",
                mailchimp,
                format!("/v1/webhooks/mailchimp/{ORG}/wrong"),
                None,
                "",
            )
        },
        sample(
            "POST",
            mailchimp,
            mailchimp_path.clone(),
            Some(FORM),
            mailchimp_form,
        ),
        IntakeSample {
            expected: StatusCode::BAD_REQUEST,
            ..sample(
                "POST",
                mailchimp,
                mailchimp_path.clone(),
                Some(FORM),
                "type=unsubscribe",
            )
        },
        IntakeSample {
            headers: vec![("x-consent-signature", generic_signature)],
            ..sample(
                "POST",
                generic,
                format!("/v1/webhooks/generic/{ORG}"),
                json_type,
                &generic_body,
            )
        },
        IntakeSample {
            headers: vec![("x-consent-signature", "sha256=00".to_owned())],
            expected: StatusCode::FORBIDDEN,
            ..sample(
                "POST",
                generic,
                format!("/v1/webhooks/generic/{ORG}"),
                json_type,
                &generic_body,
            )
        },
    ];
    for IntakeSample {
        method,
        template,
        path,
        content_type,
        body,
        headers,
        expected,
    } in requests
    {
        let url = format!("{}{path}", server.base);
        let mut request = match method {
            "GET" => server.client.get(&url),
            _ => server.client.post(&url).body(body),
        };
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        for (name, value) in headers {
            request = request.header(name, value);
        }
        let response = request.send().await.expect("request");
        let status = response.status();
        assert_eq!(status, expected, "{method} {path}");
        let answered_type = response
            .headers()
            .get("content-type")
            .and_then(|t| t.to_str().ok())
            .unwrap_or_default()
            .split(';')
            .next()
            .unwrap_or_default()
            .to_owned();
        let text = response.text().await.expect("body");
        if answered_type == "application/json" {
            let body: Value = serde_json::from_str(&text).expect("JSON");
            conforms(document, method, template, status, &body);
        } else {
            let documented = &document["paths"][template][method.to_lowercase()]["responses"]
                [status.as_str()]["content"][answered_type.as_str()];
            assert!(
                documented.is_object(),
                "{method} {template} {status} is documented as {answered_type}"
            );
        }
        exercised.push((method.to_owned(), template.to_owned()));
    }
    exercised
}
