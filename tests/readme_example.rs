//! The README's worked example gives the answers the README says it gives.
//!
//! The request bodies are read from README.md itself, so the README cannot
//! drift from what the ledger accepts and answers.

use consent_ledger_tests::{readme_curl_bodies, RunningLedger};
use serde_json::Value;

fn readme() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"))
        .expect("README.md")
}

fn reason_codes(decision: &Value) -> Vec<(String, String)> {
    decision["reasonsAgainst"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            (
                r["ruleId"].as_str().unwrap_or("").to_owned(),
                r["code"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

fn rule_outcome(decision: &Value, rule: &str) -> String {
    decision["rules"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|r| r["ruleId"] == rule)
        .and_then(|r| r["outcome"].as_str())
        .unwrap_or("absent")
        .to_owned()
}

/// Adds `waitFor` with every position `appended` returned (read-your-writes).
fn waiting_for(check: &str, appended: &[Value]) -> String {
    let mut check: Value = serde_json::from_str(check).expect("README check body is JSON");
    let positions: Vec<Value> = appended.iter().map(|a| a["position"].clone()).collect();
    check["waitFor"] = Value::Array(positions);
    check.to_string()
}

fn with_field(check: &str, field: &str, value: &str) -> String {
    let mut check: Value = serde_json::from_str(check).expect("JSON");
    check[field] = Value::String(value.to_owned());
    check.to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_car_sale_example_answers_as_documented() {
    let readme = readme();
    let bodies = readme_curl_bodies(&readme);
    let paths: Vec<&str> = bodies.iter().map(|(path, _)| path.as_str()).collect();
    assert_eq!(
        paths,
        ["/v1/events", "/v1/checks", "/v1/events"],
        "the README's curl commands"
    );
    let (sale, check, opt_out) = (&bodies[0].1, &bodies[1].1, &bodies[2].1);
    let ledger = RunningLedger::start().await;

    // Given the dealer, its category map and the sale.
    let (status, appended) = ledger.post("/v1/events", sale).await;
    assert_eq!(status, 200, "{appended}");
    let appended = appended["appended"].as_array().cloned().unwrap_or_default();
    assert_eq!(appended.len(), 3);
    assert_eq!(appended[2]["position"]["topic"], "consent.commerce");

    // When Acme asks to email about servicing in June: the soft opt-in.
    let (status, decision) = ledger
        .post("/v1/checks", &waiting_for(check, &appended))
        .await;
    assert_eq!(status, 200, "{decision}");
    assert_eq!(decision["allowed"], true, "{decision:#}");
    assert_eq!(decision["lawfulBasis"], "LAWFUL_BASIS_SOFT_OPT_IN");
    assert_eq!(decision["ruleSetId"], "uk-pecr-duaa-2026-02-05");
    assert_eq!(rule_outcome(&decision, "R3b"), "RULE_OUTCOME_SATISFIED");
    let citation = decision["rules"]
        .as_array()
        .and_then(|rules| rules.iter().find(|r| r["ruleId"] == "R3b"))
        .and_then(|r| r["citation"].as_str())
        .unwrap_or_default();
    assert!(citation.contains("PECR 2003 reg 22(3)"), "{citation}");
    let relied: Vec<&str> = decision["reliedOn"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["kind"].as_str())
        .collect();
    assert!(relied.contains(&"sale_recorded"), "{relied:?}");

    // When the category is insurance instead: refused, R3b condition 3.
    let (_, insurance) = ledger
        .post(
            "/v1/checks",
            &with_field(check, "productCategoryId", "insurance"),
        )
        .await;
    assert_eq!(insurance["allowed"], false);
    let insurance_reasons = reason_codes(&insurance);
    let r3b = insurance["reasonsAgainst"]
        .as_array()
        .and_then(|reasons| reasons.iter().find(|r| r["ruleId"] == "R3b"))
        .and_then(|r| r["message"].as_str())
        .unwrap_or_default()
        .to_owned();
    assert!(
        r3b.contains("insurance is not similar to cars"),
        "{insurance_reasons:?}: {r3b}"
    );

    // When the customer unsubscribes in April: the June check is refused by R1 ...
    let (status, appended) = ledger.post("/v1/events", opt_out).await;
    assert_eq!(status, 200, "{appended}");
    let appended = appended["appended"].as_array().cloned().unwrap_or_default();
    let (_, june) = ledger
        .post("/v1/checks", &waiting_for(check, &appended))
        .await;
    assert_eq!(june["allowed"], false, "{june:#}");
    assert!(
        reason_codes(&june)
            .iter()
            .any(|(rule, code)| rule == "R1" && code == "opted_out"),
        "{:?}",
        reason_codes(&june)
    );

    // ... while a check as of mid-March, before the opt-out, is still allowed.
    let (_, march) = ledger
        .post(
            "/v1/checks",
            &with_field(check, "at", "2026-03-15T09:00:00Z"),
        )
        .await;
    assert_eq!(march["allowed"], true, "{march:#}");
}
