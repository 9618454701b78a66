//! What `GET /metrics` of the real binary shows an operator: opt-outs by
//! the method they were received by, refusals by rule and code, and the
//! checkpoints; and that every metric deploy/grafana's dashboard and
//! deploy/prometheus' alert rules query is one the ledger exports, and
//! every one it exports is in docs/OPERATIONS.md.

mod support;

use reqwest::StatusCode;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;
use support::{car_dealer, free_address, Ledger};

const ORG: &str = "acme-motors";
const SUBJECT: &str = "cust-7";

/// The scrape: each series (`name{labels}`, as rendered) and its value,
/// and the metric names the `# TYPE` lines declare, with their types.
struct Scrape {
    series: BTreeMap<String, f64>,
    types: BTreeMap<String, String>,
}

impl Scrape {
    async fn of(ledger: &Ledger) -> Self {
        let response = ledger
            .client
            .get(format!("{}/metrics", ledger.base))
            .send()
            .await
            .expect("GET /metrics");
        assert_eq!(response.status(), StatusCode::OK);
        let text = response.text().await.expect("text");
        let mut series = BTreeMap::new();
        let mut types = BTreeMap::new();
        for line in text.lines() {
            if let Some(declaration) = line.strip_prefix("# TYPE ") {
                let (name, kind) = declaration.split_once(' ').expect("# TYPE name type");
                types.insert(name.to_owned(), kind.to_owned());
            } else if !line.starts_with('#') && !line.is_empty() {
                let (name, value) = line.rsplit_once(' ').expect("series value");
                series.insert(name.to_owned(), value.parse().expect("a number"));
            }
        }
        Self { series, types }
    }

    /// The value of the series of `name` whose labels include every one of
    /// `labels` (0 when there is none).
    fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.series
            .iter()
            .filter(|(series, _)| {
                let (series_name, rest) = series.split_once('{').unwrap_or((series, ""));
                series_name == name
                    && labels
                        .iter()
                        .all(|(k, v)| rest.contains(&format!("{k}=\"{v}\"")))
            })
            .map(|(_, value)| *value)
            .sum()
    }

    /// Whether `name`, as a query names it, is exported: a metric, or a
    /// histogram's `_bucket`, `_sum` or `_count` series.
    fn exports(&self, name: &str) -> bool {
        self.types.contains_key(name)
            || ["_bucket", "_sum", "_count"].iter().any(|suffix| {
                name.strip_suffix(suffix)
                    .is_some_and(|base| self.types.get(base).is_some_and(|t| t == "histogram"))
            })
    }
}

fn sent(message_id: &str) -> Value {
    json!({"organisationId": ORG, "subjectId": SUBJECT, "occurredAt": "2026-04-01T09:00:00Z",
           "marketingMessageSent": {"channel": "CHANNEL_EMAIL", "purpose": "PURPOSE_COMMERCIAL",
               "productCategoryId": "servicing", "messageClass": "MESSAGE_CLASS_MARKETING",
               "promotionalContent": true, "optOutIncluded": true, "senderIdentified": true,
               "messageId": message_id,
               "contactPoint": {"kind": "CONTACT_KIND_EMAIL", "value": "jo@example.com"}}})
}

fn email_check(subject: &str) -> Value {
    json!({"organisationId": ORG, "subjectId": subject,
           "channel": "CHANNEL_EMAIL", "purpose": "PURPOSE_COMMERCIAL", "productCategoryId": "servicing",
           "messageClass": "MESSAGE_CLASS_MARKETING", "promotionalContent": true,
           "optOutIncluded": true, "senderIdentified": true})
}

/// A ledger (embedded log, HTTP and gRPC) that has done a bit of
/// everything: appends, an opt-out by SMS STOP through the API, a one-click
/// unsubscribe through its own link, refused checks over both APIs, and a
/// checkpoint. Returns the scrapes before and after.
async fn busy_ledger(data: &Path) -> (Ledger, Scrape, Scrape) {
    let grpc = free_address();
    // A webhook endpoint that is down: its opt-out notices are dead-lettered
    // at the first try, and its metrics are exported.
    let folder = data.with_extension("webhooks");
    std::fs::create_dir_all(&folder).expect("webhooks folder");
    let secret = folder.join("webhook.secret");
    std::fs::write(&secret, "whsec-0123456789abcdef\n").expect("secret");
    std::fs::set_permissions(
        &secret,
        <std::fs::Permissions as std::os::unix::fs::PermissionsExt>::from_mode(0o600),
    )
    .expect("chmod");
    let webhooks = folder.join("webhooks.toml");
    std::fs::write(
        &webhooks,
        format!(
            "[[endpoint]]\nname = \"down-crm\"\norganisation = \"{ORG}\"\nurl = \"http://{}/hook\"\nsecret_file = \"webhook.secret\"\n",
            free_address()
        ),
    )
    .expect("webhooks file");
    let ledger = Ledger::serve(
        data,
        &[],
        &[
            "--grpc-listen",
            &grpc.to_string(),
            "--webhooks",
            &webhooks.display().to_string(),
            "--webhook-max-tries",
            "1",
        ],
    )
    .await;
    let before = Scrape::of(&ledger).await;

    ledger
        .post_ok("/v1/events", &json!({"events": car_dealer(ORG)}))
        .await;
    let message = ledger
        .post_ok("/v1/events", &json!({"events": [sent("msg-1")]}))
        .await;
    ledger
        .post_ok(
            "/v1/events",
            &json!({"events": [{"organisationId": ORG, "subjectId": "cust-8",
                "occurredAt": "2026-04-02T09:00:00Z",
                "optOutRecorded": {"channels": ["CHANNEL_SMS"], "receivedVia": "OPT_OUT_METHOD_REPLY_STOP"}}]}),
        )
        .await;
    // The person's mail client posts the one-click form to the link.
    let link = message["appended"][0]["unsubscribeUrl"]
        .as_str()
        .expect("an unsubscribe link")
        .to_owned();
    let clicked = ledger
        .client
        .post(&link)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .expect("POST the one-click form");
    assert_eq!(clicked.status(), StatusCode::OK);

    // Refused over HTTP (opted out) and over gRPC (nothing known).
    let refused = ledger.post_ok("/v1/checks", &email_check(SUBJECT)).await;
    assert_eq!(refused["allowed"], json!(false), "{refused}");
    let mut client = consent_grpc::ConsentLedgerClient::connect(format!("http://{grpc}"))
        .await
        .expect("gRPC connect");
    let request: consent_schema::v1::CheckRequest =
        serde_json::from_value(email_check("nobody")).expect("a check request");
    let decision = client
        .check(request)
        .await
        .expect("a gRPC check")
        .into_inner();
    assert!(!decision.allowed);

    ledger.post_ok("/v1/checkpoints", &json!({})).await;
    ledger.wait_caught_up(Duration::from_secs(30)).await;
    let after = Scrape::of(&ledger).await;
    // Remember the refusal's reasons for the caller.
    std::fs::write(data.join("refused.json"), refused.to_string()).expect("write");
    (ledger, before, after)
}

#[tokio::test]
async fn opt_outs_by_method_refusals_by_rule_and_checkpoints_move_on_metrics() {
    let data = tempfile::tempdir().expect("data dir");
    let (ledger, before, after) = busy_ledger(&data.path().join("ledger")).await;
    let moved = |name: &str, labels: &[(&str, &str)]| {
        after.value(name, labels) - before.value(name, labels)
    };

    let opt_outs = "consent_opt_outs_recorded_total";
    assert_eq!(
        moved(
            opt_outs,
            &[
                ("method", "reply_stop"),
                ("entry", "api"),
                ("fact", "opt_out_recorded")
            ]
        ),
        1.0
    );
    assert_eq!(
        moved(
            opt_outs,
            &[
                ("method", "one_click"),
                ("entry", "intake"),
                ("fact", "opt_out_recorded")
            ]
        ),
        1.0
    );
    assert_eq!(moved(opt_outs, &[]), 2.0, "only the two opt-outs count");

    // Each reason against the refused check counts under its rule and code.
    let refused: Value = serde_json::from_str(
        &std::fs::read_to_string(data.path().join("ledger/refused.json")).expect("read"),
    )
    .expect("json");
    let reasons = refused["reasonsAgainst"].as_array().expect("reasons");
    assert!(!reasons.is_empty());
    for reason in reasons {
        let (rule, code) = (
            reason["ruleId"].as_str().expect("rule"),
            reason["code"].as_str().expect("code"),
        );
        assert!(
            moved("consent_refusals_total", &[("rule", rule), ("code", code)]) >= 1.0,
            "{rule} {code}: {:?}",
            after.series
        );
    }
    // Two checks refused (HTTP and gRPC), each with at least one reason.
    assert!(moved("consent_refusals_total", &[]) >= 2.0);
    assert_eq!(
        moved("consent_checks_total", &[("outcome", "refused")]),
        2.0
    );

    // The checkpoint just signed covers everything.
    let signed_at = after.value("consent_checkpoint_latest_timestamp_seconds", &[]);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("time")
        .as_secs_f64();
    assert!(signed_at > 0.0 && signed_at <= now + 1.0, "{signed_at}");
    assert_eq!(after.value("consent_checkpoint_unsigned_records", &[]), 0.0);
    // New records make it fall behind.
    ledger
        .post_ok("/v1/events", &json!({"events": [sent("msg-2")]}))
        .await;
    ledger.wait_caught_up(Duration::from_secs(30)).await;
    let later = Scrape::of(&ledger).await;
    assert_eq!(later.value("consent_checkpoint_unsigned_records", &[]), 1.0);
}

/// The metric names a PromQL text mentions (`consent_*`, and `up`).
fn metric_names(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut rest = text;
    while let Some(at) = rest.find("consent_") {
        let preceded = rest[..at]
            .chars()
            .last()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
        let name: String = rest[at..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        rest = &rest[at + name.len()..];
        if !preceded {
            names.insert(name);
        }
    }
    names
}

#[tokio::test]
async fn the_dashboard_and_the_alerts_query_only_metrics_the_ledger_exports() {
    let data = tempfile::tempdir().expect("data dir");
    let (_ledger, _, scrape) = busy_ledger(&data.path().join("ledger")).await;
    let deploy = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy");

    let dashboard: Value = serde_json::from_str(
        &std::fs::read_to_string(deploy.join("grafana/consent-ledger.json")).expect("dashboard"),
    )
    .expect("JSON");
    let mut queries = Vec::new();
    for panel in dashboard["panels"].as_array().expect("panels") {
        for target in panel["targets"].as_array().into_iter().flatten() {
            queries.push(target["expr"].as_str().expect("expr").to_owned());
        }
    }
    let templating = dashboard["templating"].to_string();
    let alerts: serde_norway::Value = serde_norway::from_str(
        &std::fs::read_to_string(deploy.join("prometheus/alerts.yml")).expect("alerts"),
    )
    .expect("YAML");
    for group in alerts["groups"].as_sequence().expect("groups") {
        for rule in group["rules"].as_sequence().expect("rules") {
            queries.push(rule["expr"].as_str().expect("expr").to_owned());
        }
    }
    let mut referenced = BTreeSet::new();
    for text in queries.iter().chain([&templating]) {
        referenced.extend(metric_names(text));
    }
    let needed = [
        "consent_appends_total",
        "consent_checks_total",
        "consent_http_request_duration_seconds_bucket",
        "consent_projection_lag_records_sum",
        "consent_projection_dead_letters_total",
        "consent_opt_outs_recorded_total",
        "consent_refusals_total",
        "consent_checkpoint_latest_timestamp_seconds",
        "consent_log_reachable",
    ];
    for name in needed {
        assert!(
            referenced.contains(name),
            "the dashboard or alerts use {name}"
        );
    }
    // And the operator's list of metrics names every one exported.
    let operations = std::fs::read_to_string(deploy.join("../docs/OPERATIONS.md")).expect("docs");
    let undocumented: Vec<&String> = scrape
        .types
        .keys()
        .filter(|name| name.starts_with("consent_") && !operations.contains(&format!("`{name}`")))
        .collect();
    assert!(
        undocumented.is_empty(),
        "docs/OPERATIONS.md (Metrics) does not list {undocumented:?}"
    );
    let unknown: Vec<&String> = referenced.iter().filter(|n| !scrape.exports(n)).collect();
    assert!(
        unknown.is_empty(),
        "queried but not exported: {unknown:?}; exported: {:?}",
        scrape.types.keys().collect::<Vec<_>>()
    );
}
