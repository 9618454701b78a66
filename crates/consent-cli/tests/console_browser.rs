//! The console (`/console`) in headless Chromium against the real binary
//! (issue 15, item 4): sign-in and its refusals, finding a subject by
//! email and by phone, the timeline in order, the eligibility matrix with
//! its citations, the suppression list, keyboard-only use, another
//! organisation's pages, CSRF, the security headers, and key revocation.
//! Each step asserts on what the page shows, saves a screenshot
//! (target/tmp/console-screenshots/) and, for each page, runs axe-core.
//!
//! One ledger and one browser serve the whole file: Chromium's start is
//! the slow part.

mod console;
mod support;

use console::{Browser, Console};
use fantoccini::key::Key;
use serde_json::json;
use support::{car_sale, mobile_recorded};

const ACME: &str = "acme-cycles";
const GLOBEX: &str = "globex";
const SUBJECT: &str = "cust-42";
const EMAIL: &str = "Jane.Doe@Example.org";

/// The story the pages tell: a car sale on 1 March with Jane's email, her
/// mobile recorded on 2 March, her SMS opt-out on 5 March; and globex's
/// own customer, whom acme must never see.
async fn given_the_story(console: &Console) {
    console
        .append(
            ACME,
            vec![
                car_sale(ACME, SUBJECT, EMAIL, "2026-03-01T10:00:00Z"),
                mobile_recorded(ACME, SUBJECT, "07700 900123", "2026-03-02T10:00:00Z"),
                json!({"organisationId": ACME, "subjectId": SUBJECT, "occurredAt": "2026-03-05T10:00:00Z",
                       "optOutRecorded": {"channels": ["CHANNEL_SMS"], "receivedVia": "OPT_OUT_METHOD_REPLY_STOP",
                           "contactPoint": {"kind": "CONTACT_KIND_MOBILE", "value": "+447700900123"}}}),
            ],
        )
        .await;
    console
        .append(
            GLOBEX,
            vec![car_sale(
                GLOBEX,
                "g-1",
                "secret.customer@globex.example",
                "2026-02-01T10:00:00Z",
            )],
        )
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_answers_a_privacy_analyst_in_a_real_browser() {
    let console = Console::start(&[ACME, GLOBEX]).await;
    given_the_story(&console).await;
    let browser = Browser::start().await;

    security_headers_and_cookie(&console).await;
    a_wrong_key_is_refused(&console, &browser).await;
    keyboard_only_sign_in_and_search(&console, &browser).await;
    search_by_phone(&console, &browser).await;
    the_timeline_in_order(&console, &browser).await;
    the_eligibility_matrix(&console, &browser).await;
    the_suppression_list(&console, &browser).await;
    another_organisations_pages_are_refused(&console, &browser).await;
    a_post_without_the_csrf_token_is_refused(&console, &browser).await;
    the_admin_sees_every_organisation(&console, &browser).await;
    the_admin_revokes_a_key(&console, &browser).await;

    browser.close().await;
}

/// Every console response has the strict CSP; the session cookie is
/// HttpOnly, SameSite=Strict, scoped to /console.
async fn security_headers_and_cookie(console: &Console) {
    let response = console
        .ledger
        .client
        .get(console.url("/console/sign-in"))
        .send()
        .await
        .expect("GET /console/sign-in");
    assert_eq!(response.status(), 200);
    let headers = response.headers();
    assert_eq!(
        headers["content-security-policy"],
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; \
         frame-ancestors 'none'; base-uri 'none'"
    );
    assert_eq!(headers["x-frame-options"], "DENY");
    let cookie = headers["set-cookie"].to_str().expect("cookie text");
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/console"] {
        assert!(cookie.contains(attribute), "{cookie} lacks {attribute}");
    }
    assert!(
        !cookie.contains("Secure"),
        "no TLS here, so no Secure: {cookie}"
    );
    let css = console
        .ledger
        .client
        .get(console.url("/console/style.css"))
        .send()
        .await
        .expect("GET the stylesheet");
    assert_eq!(css.status(), 200);
    assert!(css.headers()["content-security-policy"]
        .to_str()
        .expect("CSP")
        .starts_with("default-src 'none'"));
    // A sign-in posted without the form's session and token is refused.
    let key = console.key(ACME);
    assert_eq!(
        console
            .post_with_session("/console/sign-in", None, &[("key", key)])
            .await,
        403
    );
}

async fn a_wrong_key_is_refused(console: &Console, browser: &Browser) {
    browser.goto(&console.url("/console/subjects")).await;
    assert_eq!(
        browser.path().await,
        "/console/sign-in",
        "not signed in: to the sign-in page"
    );
    browser.assert_accessible("sign-in").await;
    browser
        .sign_in(console, "clk_not-a-key-of-this-ledger")
        .await;
    let shown = browser.main_text().await;
    assert!(shown.contains("That API key is not valid here"), "{shown}");
    browser.screenshot("01-sign-in-refused").await;
    browser.goto(&console.url("/console/subjects")).await;
    assert_eq!(
        browser.path().await,
        "/console/sign-in",
        "still not signed in"
    );
}

/// Tab reaches the key field and Enter submits; on the search page Tab
/// reaches the navigation links and the form's fields, and Enter searches.
async fn keyboard_only_sign_in_and_search(console: &Console, browser: &Browser) {
    browser.goto(&console.url("/console/sign-in")).await;
    let mut reached = Vec::new();
    for _ in 0..6 {
        browser.press(Key::Tab).await;
        let focused = browser.focused().await;
        reached.push(focused.clone());
        if focused.starts_with("input#key") {
            break;
        }
    }
    assert!(
        reached
            .first()
            .is_some_and(|f| f.contains("Skip to main content")),
        "the skip link comes first: {reached:?}"
    );
    assert!(
        reached.last().is_some_and(|f| f.starts_with("input#key")),
        "Tab reaches the key field: {reached:?}"
    );
    browser.type_text(console.key(ACME)).await;
    browser.press_enter_and_wait().await;
    browser.wait_for_path("/console/subjects").await;
    let shown = browser.page_text().await;
    assert!(
        shown.contains("Signed in as organisation acme-cycles"),
        "{shown}"
    );

    let mut reached = Vec::new();
    for _ in 0..20 {
        browser.press(Key::Tab).await;
        let focused = browser.focused().await;
        reached.push(focused.clone());
        if focused.starts_with("input#by-") {
            break;
        }
    }
    for wanted in ["Find a subject", "Suppression list"] {
        assert!(
            reached
                .iter()
                .any(|f| f.starts_with("a#") && f.ends_with(wanted)),
            "Tab reaches the nav link {wanted}: {reached:?}"
        );
    }
    assert!(
        reached.iter().any(|f| f.starts_with("input#organisation")),
        "Tab reaches the organisation field: {reached:?}"
    );
    assert_eq!(
        reached.last().map(String::as_str),
        Some("input#by-id|"),
        "Tab reaches the search's choices (one stop, the checked one): {reached:?}"
    );
    // The arrow keys move within the radio group: "Email address".
    browser.press(Key::Right).await;
    assert_eq!(browser.focused().await, "input#by-email|");
    browser.press(Key::Tab).await;
    assert!(browser.focused().await.starts_with("input#value"));
    browser.type_text("  jane.doe@EXAMPLE.org ").await;
    browser.press_enter_and_wait().await;
    browser.wait_for_path("/console/subjects").await;
    let shown = browser.main_text().await;
    assert!(shown.contains("1 subject of acme-cycles found"), "{shown}");
    assert!(shown.contains("Subject cust-42"), "{shown}");
    browser.screenshot("02-found-by-email").await;
    browser.assert_accessible("find (by email)").await;
}

async fn search_by_phone(console: &Console, browser: &Browser) {
    browser
        .goto(&console.url("/console/subjects?by=phone&value=07700+900123"))
        .await;
    let shown = browser.main_text().await;
    assert!(shown.contains("1 subject of acme-cycles found"), "{shown}");
    assert!(shown.contains("Subject cust-42"), "{shown}");
    browser.screenshot("03-found-by-phone").await;
    browser
        .goto(&console.url("/console/subjects?by=email&value=nobody%40example.org"))
        .await;
    assert!(browser
        .main_text()
        .await
        .contains("No subject of acme-cycles matches"));
}

async fn the_timeline_in_order(console: &Console, browser: &Browser) {
    browser
        .goto(&console.url("/console/subjects?by=id&value=cust-42"))
        .await;
    browser.click("ul.results a").await;
    assert_eq!(
        browser.path().await,
        "/console/organisations/acme-cycles/subjects/cust-42"
    );
    let shown = browser.main_text().await;
    assert!(
        shown.contains("3 facts, in the order they occurred"),
        "{shown}"
    );
    let sale = shown.find("2026-03-01 10:00:00 UTC").expect("the sale");
    let mobile = shown
        .find("2026-03-02 10:00:00 UTC")
        .expect("the mobile number");
    let opt_out = shown.find("2026-03-05 10:00:00 UTC").expect("the opt-out");
    assert!(sale < mobile && mobile < opt_out, "in order: {shown}");
    assert!(
        shown.contains("jane.doe@example.org"),
        "the address opened for its subject: {shown}"
    );
    assert!(shown.contains("Log position"), "{shown}");
    let evidence = browser.find("ol.timeline li a").await;
    let href = evidence.attr("href").await.expect("href").expect("a link");
    assert!(
        href.starts_with("/console/evidence?organisation=acme-cycles&subject=cust-42"),
        "each fact links to its evidence: {href}"
    );
    browser.screenshot("04-timeline").await;
    browser.assert_accessible("timeline").await;
}

async fn the_eligibility_matrix(console: &Console, browser: &Browser) {
    browser
        .goto(&console.url("/console/organisations/acme-cycles/subjects/cust-42"))
        .await;
    browser.click("main p a").await;
    assert!(browser.path().await.ends_with("/eligibility"));
    let today = browser.main_text().await;
    assert!(today.contains("Refused"), "{today}");
    browser.screenshot("05-eligibility-today").await;
    browser.assert_accessible("eligibility").await;

    // What if: the servicing email on 1 June.
    browser.fill("#at", "2026-06-01T09:00").await;
    browser.fill("#category", "servicing").await;
    browser.click("form.panel button[type=submit]").await;
    let shown = browser.main_text().await;
    let email_row = browser
        .find("table.matrix tbody tr:nth-child(1)")
        .await
        .text()
        .await
        .expect("row");
    let sms_row = browser
        .find("table.matrix tbody tr:nth-child(2)")
        .await
        .text()
        .await
        .expect("row");
    assert!(shown.contains("2026-06-01 09:00:00 UTC"), "{shown}");
    assert!(email_row.starts_with("Email"), "{email_row}");
    assert!(
        email_row.contains("Allowed") && email_row.contains("commercial soft opt-in"),
        "the sale's soft opt-in covers servicing emails: {email_row}"
    );
    assert!(sms_row.contains("Refused"), "{sms_row}");
    assert!(
        sms_row.contains("PECR"),
        "each reason with its citation: {sms_row}"
    );
    browser.screenshot("06-eligibility-what-if").await;
}

async fn the_suppression_list(console: &Console, browser: &Browser) {
    browser.goto(&console.url("/console/suppressions")).await;
    let shown = browser.main_text().await;
    assert!(
        shown.contains("+447700900123"),
        "the opted-out number: {shown}"
    );
    assert!(shown.contains("opt out recorded"), "{shown}");
    browser.screenshot("07-suppressions").await;
    browser.assert_accessible("suppression list").await;
    browser
        .goto(&console.url("/console/suppressions?q=07700+900123"))
        .await;
    assert!(browser
        .main_text()
        .await
        .contains("07700 900123 is on the suppression list of acme-cycles"));
    browser
        .goto(&console.url("/console/suppressions?q=nobody%40example.org"))
        .await;
    assert!(browser
        .main_text()
        .await
        .contains("is not on the suppression list"));
}

async fn another_organisations_pages_are_refused(console: &Console, browser: &Browser) {
    for path in [
        "/console/organisations/globex/subjects/g-1",
        "/console/organisations/globex/subjects/g-1/eligibility",
    ] {
        browser.goto(&console.url(path)).await;
        let shown = browser.page_text().await;
        assert!(shown.contains("Not allowed"), "{path}: {shown}");
        assert!(
            !shown.contains("secret.customer"),
            "{path} leaks nothing: {shown}"
        );
        assert!(
            !shown.contains("2026-02-01"),
            "{path} leaks nothing: {shown}"
        );
    }
    // The search's organisation is the key's, whatever the URL says.
    browser
        .goto(&console.url("/console/subjects?organisation=globex&by=id&value=g-1"))
        .await;
    assert!(browser
        .main_text()
        .await
        .contains("No subject of acme-cycles matches"));
    browser.goto(&console.url("/console/keys")).await;
    assert!(browser.page_text().await.contains("only the admin key may"));
    browser.screenshot("08-other-organisation-refused").await;
    let status = console
        .ledger
        .client
        .get(console.url("/console/organisations/globex/subjects/g-1"))
        .header(
            "cookie",
            format!(
                "consent_console_session={}",
                browser.session_cookie().await.expect("a session")
            ),
        )
        .send()
        .await
        .expect("GET")
        .status();
    assert_eq!(status, 403);
}

async fn a_post_without_the_csrf_token_is_refused(console: &Console, browser: &Browser) {
    // In the browser: the sign-out form without its hidden token.
    browser.goto(&console.url("/console/subjects")).await;
    browser
        .client
        .execute(
            "document.querySelector('header form input[name=csrf]').remove();",
            vec![],
        )
        .await
        .expect("remove the token");
    browser.sign_out().await;
    let shown = browser.page_text().await;
    assert!(shown.contains("Form refused"), "{shown}");
    browser.screenshot("09-csrf-refused").await;
    browser.assert_accessible("form refused").await;
    browser.goto(&console.url("/console/subjects")).await;
    assert_eq!(browser.path().await, "/console/subjects", "still signed in");
    // And from outside: the session's cookie, no token.
    let cookie = browser.session_cookie().await.expect("a session");
    let response = console
        .ledger
        .client
        .post(console.url("/console/sign-out"))
        .header("cookie", format!("consent_console_session={cookie}"))
        .form(&[("csrf", "forged")])
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status(), 403);
    browser.sign_out().await;
    assert!(browser.main_text().await.contains("You are signed out"));
}

async fn the_admin_sees_every_organisation(console: &Console, browser: &Browser) {
    browser.sign_in(console, &console.admin_key).await;
    assert!(browser.page_text().await.contains("Signed in as the admin"));
    browser
        .goto(&console.url(
            "/console/subjects?organisation=globex&by=email&value=secret.customer%40globex.example",
        ))
        .await;
    let shown = browser.main_text().await;
    assert!(shown.contains("1 subject of globex found"), "{shown}");
    browser.click("ul.results a").await;
    let shown = browser.main_text().await;
    assert!(shown.contains("secret.customer@globex.example"), "{shown}");
    browser.click("main p a").await;
    assert!(
        browser
            .main_text()
            .await
            .contains("May globex contact this person"),
        "the admin reads any organisation's eligibility"
    );
    browser.screenshot("10-admin-reads-globex").await;

    // globex's suppression list, fifty a page.
    let opt_outs = (0..55)
        .map(|n| {
            json!({"organisationId": GLOBEX, "occurredAt": "2026-02-02T10:00:00Z",
                   "optOutRecorded": {"channels": ["CHANNEL_EMAIL"], "receivedVia": "OPT_OUT_METHOD_UNSUBSCRIBE_LINK",
                       "contactPoint": {"kind": "CONTACT_KIND_EMAIL", "value": format!("imported-{n}@globex.example")}}})
        })
        .collect();
    console.append(GLOBEX, opt_outs).await;
    browser
        .goto(&console.url("/console/suppressions?organisation=globex"))
        .await;
    let first = browser.main_text().await;
    assert!(first.contains("50 addresses on this page"), "{first}");
    browser.click("nav.pager a").await;
    let second = browser.main_text().await;
    assert!(second.contains("5 addresses on this page"), "{second}");
    assert!(second.contains("First page"), "{second}");
    browser.sign_out().await;
}

async fn the_admin_revokes_a_key(console: &Console, browser: &Browser) {
    // Key forms without the CSRF token change nothing.
    let admin = console.http_session(&console.admin_key).await;
    let globex_id = consent_auth::KeyHash::of(console.key(GLOBEX)).id();
    for (path, form) in [
        ("/console/keys".to_owned(), vec![("holder", "admin")]),
        (format!("/console/keys/{globex_id}/revoke"), vec![]),
        (
            format!("/console/keys/{globex_id}/revoke"),
            vec![("csrf", "forged")],
        ),
    ] {
        assert_eq!(
            console.post_with_session(&path, Some(&admin), &form).await,
            403,
            "{path} {form:?}"
        );
    }

    // acme is signed in elsewhere while the admin revokes its key.
    let acme_session = console.http_session(console.key(ACME)).await;
    assert_eq!(
        console
            .get_with_session("/console/subjects", &acme_session)
            .await
            .0,
        200
    );

    browser.sign_in(console, &console.admin_key).await;
    browser.click("nav a[href='/console/keys']").await;
    let shown = browser.main_text().await;
    assert!(shown.contains("3 API keys"), "{shown}");
    assert!(shown.contains("organisation acme-cycles"), "{shown}");
    browser.assert_accessible("keys").await;
    let acme_id = consent_auth::KeyHash::of(console.key(ACME)).id();
    browser
        .click(&format!("button[aria-label='Revoke key {acme_id}']"))
        .await;
    let shown = browser.main_text().await;
    assert!(
        shown.contains(&format!("Key {acme_id} is revoked")),
        "{shown}"
    );
    assert!(shown.contains("2 API keys"), "{shown}");
    browser.screenshot("11-key-revoked").await;

    // A new key for acme, shown once.
    browser.fill("#organisation", ACME).await;
    browser.fill("#note", "privacy team").await;
    browser.click("form.panel button[type=submit]").await;
    let new_key = browser
        .find("#new-key")
        .await
        .text()
        .await
        .expect("the new key");
    assert!(new_key.starts_with("clk_"), "{new_key}");
    browser.sign_out().await;

    // The revoked key can no longer sign in, and its session is over.
    browser.sign_in(console, console.key(ACME)).await;
    assert!(browser
        .main_text()
        .await
        .contains("That API key is not valid here"));
    assert_eq!(
        console
            .get_with_session("/console/subjects", &acme_session)
            .await,
        (303, "/console/sign-in?ended=key".to_owned()),
        "the revoked key's session ended"
    );
    // The new one can.
    browser.sign_in(console, &new_key).await;
    assert!(browser
        .page_text()
        .await
        .contains("Signed in as organisation acme-cycles"));
    browser.screenshot("12-new-key-signed-in").await;
}
