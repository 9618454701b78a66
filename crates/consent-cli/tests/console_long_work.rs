//! The console's long work in headless Chromium against the real binary
//! (issue 15, items 2 and 4): export a subject's evidence and see it
//! verified, then verify the downloaded bundle again as a third party
//! would; upload a campaign's recipients (a WebDriver file input) and see
//! the counts by outcome and reason, then download each recipient's
//! answer; run a replay and see its changes, then download the list; the
//! progress page of a long job updated in place until the result shows,
//! and, with JavaScript off, reached through its "Check again" link;
//! another organisation's key finds none of these jobs. Each step asserts
//! on what the page shows, saves a screenshot
//! (target/tmp/console-screenshots/) and runs axe-core on the page.

mod console;
mod support;

use console::{Browser, Console};
use fantoccini::Locator;
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use support::{car_sale, describe, run};

const ACME: &str = "acme-cycles";
const GLOBEX: &str = "globex";
const SUBJECT: &str = "cust-42";
const EMAIL: &str = "Jane.Doe@Example.org";

/// Jane (cust-42) bought a car on 1 March, giving her email; a servicing
/// email went to her on 10 March (cars are similar to servicing: the soft
/// opt-in). cust-43 bought one and objected.
async fn given_the_story(console: &Console) {
    console
        .append(
            ACME,
            vec![
                car_sale(ACME, SUBJECT, EMAIL, "2026-03-01T10:00:00Z"),
                json!({"organisationId": ACME, "subjectId": SUBJECT, "occurredAt": "2026-03-10T09:00:00Z",
                       "marketingMessageSent": {"channel": "CHANNEL_EMAIL", "purpose": "PURPOSE_COMMERCIAL",
                           "productCategoryId": "servicing", "messageClass": "MESSAGE_CLASS_MARKETING",
                           "promotionalContent": true, "optOutIncluded": true, "senderIdentified": true,
                           "messageId": "m-1", "campaignId": "spring-servicing"}}),
                car_sale(ACME, "cust-43", "bob@example.org", "2026-03-02T10:00:00Z"),
                json!({"organisationId": ACME, "subjectId": "cust-43", "occurredAt": "2026-03-05T10:00:00Z",
                       "objectionRecorded": {"receivedVia": "OPT_OUT_METHOD_ONE_CLICK"}}),
            ],
        )
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_runs_exports_preflights_and_replays_as_jobs_in_a_real_browser() {
    let console = Console::start(&[ACME, GLOBEX]).await;
    given_the_story(&console).await;
    let browser = Browser::start().await;
    browser.sign_in(&console, console.key(ACME)).await;

    let export = export_and_verify_a_subjects_evidence(&console, &browser).await;
    let preflight = preflight_a_campaign(&console, &browser).await;
    let replay = replay_under_another_similarity_map(&console, &browser).await;
    the_progress_page_of_a_long_job(&console, &browser).await;
    the_progress_page_without_javascript(&console).await;
    another_organisation_finds_none_of_the_jobs(&console, &[&export, &preflight, &replay]).await;
    the_admin_sees_them_but_cannot_preflight(&console, &[&export, &preflight, &replay]).await;

    browser.close().await;
}

/// The main text once it contains `needle`, waiting (bounded) while the
/// job's page updates itself (or is loaded again); the page is read
/// afresh each time.
async fn wait_for_text(browser: &Browser, needle: &str, within: Duration) -> String {
    let started = Instant::now();
    loop {
        let text = match browser.client.find(Locator::Css("main")).await {
            Ok(main) => main.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        if text.contains(needle) {
            return text;
        }
        assert!(
            started.elapsed() < within,
            "the page did not show {needle:?} within {within:?}; it shows:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A file of the job the browser shows, fetched as the browser would
/// (its session cookie): the status, the headers' disposition and body.
async fn download(console: &Console, browser: &Browser, path: &str) -> (u16, String, Vec<u8>) {
    let cookie = browser.session_cookie().await.expect("a session");
    download_with(console, &cookie, path).await
}

async fn download_with(console: &Console, cookie: &str, path: &str) -> (u16, String, Vec<u8>) {
    let response = console
        .ledger
        .client
        .get(console.url(path))
        .header("cookie", format!("consent_console_session={cookie}"))
        .send()
        .await
        .expect("GET a job's file");
    let status = response.status().as_u16();
    let disposition = response
        .headers()
        .get("content-disposition")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body = response.bytes().await.expect("the file").to_vec();
    (status, disposition, body)
}

/// From Jane's timeline, the "Evidence" of her servicing email: the
/// evidence page names that event, its log position and its anchor in the
/// report; the export runs, its page says "Verified" with the verifier's
/// result, the downloaded bundle verifies again offline with the key the
/// ledger publishes, and the report has the event at that anchor. Returns
/// the job's path.
async fn export_and_verify_a_subjects_evidence(console: &Console, browser: &Browser) -> String {
    browser
        .goto(&console.url(&format!("/console/organisations/{ACME}/subjects/{SUBJECT}")))
        .await;
    let email = "ol.timeline > li:nth-child(2)";
    let event = browser
        .find(email)
        .await
        .attr("id")
        .await
        .expect("id")
        .expect("each entry has its event's id");
    let event_id = event.strip_prefix("event-").expect("event-ID").to_owned();
    let position = browser
        .find(&format!("{email} div.meta span.mono"))
        .await
        .text()
        .await
        .expect("the log position");
    browser.click(&format!("{email} div.meta a")).await;
    assert_eq!(
        browser.path().await,
        format!("/console/evidence?organisation={ACME}&subject={SUBJECT}&event={event_id}")
    );
    assert_eq!(browser.title().await, "Evidence - Consent ledger console");
    let named = browser
        .find("#evidence-event")
        .await
        .text()
        .await
        .expect("the event");
    assert!(named.contains(&format!("Event {event_id}")), "{named}");
    assert!(named.contains("2026-03-10 09:00:00 UTC"), "{named}");
    assert!(
        named.contains("will include this event"),
        "the export offered includes it: {named}"
    );
    assert_eq!(
        browser
            .find("#evidence-event-position")
            .await
            .text()
            .await
            .expect("position"),
        position
    );
    let anchor = browser
        .find("#evidence-event-anchor")
        .await
        .text()
        .await
        .expect("anchor");
    assert_eq!(
        anchor,
        format!("#{event}"),
        "the timeline's and the report's id"
    );
    browser.screenshot("evidence-of-an-event").await;
    browser.assert_accessible("evidence of an event").await;
    // An event the subject does not have is said so; a malformed one is
    // refused, naming the field.
    browser
        .goto(&console.url(&format!(
            "/console/evidence?organisation={ACME}&subject={SUBJECT}&event=0190f2a4-7b3c-7d2e-9f10-1a2b3c4d5e6f"
        )))
        .await;
    let text = browser.main_text().await;
    assert!(
        text.contains(
            "The ledger holds no event 0190f2a4-7b3c-7d2e-9f10-1a2b3c4d5e6f of subject cust-42"
        ),
        "{text}"
    );
    browser
        .goto(&console.url(&format!(
            "/console/evidence?organisation={ACME}&subject={SUBJECT}&event=not-an-id"
        )))
        .await;
    let text = browser.main_text().await;
    assert!(
        text.contains("event") && text.contains("must be a UUID"),
        "{text}"
    );
    browser
        .goto(&console.url(&format!(
            "/console/evidence?organisation={ACME}&subject={SUBJECT}&event={event_id}"
        )))
        .await;
    assert_eq!(
        browser
            .find("#subject")
            .await
            .prop("value")
            .await
            .expect("value")
            .as_deref(),
        Some(SUBJECT)
    );
    browser.screenshot("evidence-form").await;
    browser.assert_accessible("evidence form").await;
    browser.click("main form button[type=submit]").await;

    let text = wait_for_text(browser, "Verified", Duration::from_secs(60)).await;
    let job = browser.path().await;
    assert!(job.starts_with("/console/jobs/"), "{job}");
    assert!(
        text.contains("Evidence export of subject cust-42"),
        "{text}"
    );
    assert!(text.contains("The verifier's result"), "{text}");
    assert!(text.contains("Records proven"), "{text}");
    assert!(
        text.contains("consent-ledger verify evidence-acme-cycles-subject_cust-42-"),
        "{text}"
    );
    let verdict = browser
        .find("#verdict")
        .await
        .text()
        .await
        .expect("verdict");
    assert_eq!(verdict, "Verified");
    browser.screenshot("evidence-verified").await;
    browser.assert_accessible("evidence result").await;

    // The bundle, as downloaded, verifies with the key the ledger
    // publishes: what a regulator would run.
    let (status, disposition, bundle) =
        download(console, browser, &format!("{job}/bundle.json")).await;
    assert_eq!(status, 200);
    assert!(
        disposition.starts_with("attachment; filename=\"evidence-acme-cycles-subject_cust-42-"),
        "{disposition}"
    );
    let parsed: Value = serde_json::from_slice(&bundle).expect("the bundle is JSON");
    assert_eq!(parsed["scope"]["subject"], SUBJECT);
    let key = console
        .ledger
        .client
        .get(console.url("/v1/checkpoint-key"))
        .bearer_auth(console.key(ACME))
        .send()
        .await
        .expect("GET /v1/checkpoint-key")
        .text()
        .await
        .expect("the key");
    let dir = tempfile::tempdir().expect("temp dir");
    let bundle_file = dir.path().join("bundle.json");
    let key_file = dir.path().join("checkpoint.pub");
    std::fs::write(&bundle_file, &bundle).expect("write the bundle");
    std::fs::write(&key_file, key.trim()).expect("write the key");
    let verified = run(
        &[
            "verify".to_owned(),
            bundle_file.display().to_string(),
            "--key".to_owned(),
            key_file.display().to_string(),
        ],
        Duration::from_secs(60),
    )
    .await;
    assert!(verified.status.success(), "{}", describe(&verified));
    assert!(String::from_utf8_lossy(&verified.stdout).starts_with("PASS"));

    // The report is drawn from that bundle and names its file.
    let (status, _, report) = download(console, browser, &format!("{job}/report.html")).await;
    assert_eq!(status, 200);
    let report = String::from_utf8(report).expect("HTML");
    assert!(report.starts_with("<!DOCTYPE html>"));
    assert!(report.contains("evidence-acme-cycles-subject_cust-42-"));
    assert!(
        report.contains(&format!("id=\"{event}\"")),
        "the report has the event at the anchor the evidence page named"
    );
    job
}

/// A campaign's recipients, uploaded through the file input: the counts
/// by outcome and reason, the bad row named, and each recipient's answer
/// as CSV. Returns the job's path.
async fn preflight_a_campaign(console: &Console, browser: &Browser) -> String {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("spring-servicing.csv");
    std::fs::write(
        &file,
        "Name,Email,subject_id\n\
         Jane,jane.doe@example.org,\n\
         Bob,,cust-43\n\
         Stranger,stranger@example.org,\n\
         Nobody,,\n",
    )
    .expect("write the recipients");
    browser.goto(&console.url("/console/preflight")).await;
    assert!(browser.main_text().await.contains("Recipients (CSV)"));
    browser.assert_accessible("pre-flight form").await;
    browser
        .find("#recipients")
        .await
        .send_keys(&file.display().to_string())
        .await
        .expect("choose the file");
    browser.fill("#category", "servicing").await;
    browser.fill("#at", "2026-06-01T09:00:00Z").await;
    browser.screenshot("preflight-form").await;
    browser.click("main form button[type=submit]").await;

    let text = wait_for_text(browser, "Recipients by outcome", Duration::from_secs(60)).await;
    let job = browser.path().await;
    let count =
        |id: &'static str| async move { browser.find(id).await.text().await.expect("a count") };
    assert_eq!(count("#count-allowed").await, "1");
    assert_eq!(count("#count-refused").await, "2");
    assert_eq!(count("#count-invalid").await, "1");
    assert!(text.contains("commercial soft opt-in"), "{text}");
    assert!(text.contains("R1 objection_recorded"), "{text}");
    assert!(text.contains("UK GDPR Art 21"), "{text}");
    assert!(
        text.contains("row 5: no recipient: fill in subject_id, email or phone"),
        "{text}"
    );
    assert!(text.contains("Columns not read: Name"), "{text}");
    browser.screenshot("preflight-result").await;
    browser.assert_accessible("pre-flight result").await;

    let (status, disposition, csv) =
        download(console, browser, &format!("{job}/recipients.csv")).await;
    assert_eq!(status, 200);
    assert_eq!(
        disposition,
        "attachment; filename=\"preflight-acme-cycles.csv\""
    );
    let csv = String::from_utf8(csv).expect("UTF-8");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "row,recipient,subjects,channel,allowed,lawful_basis,reasons,citations,explanation"
    );
    assert!(
        lines[1].starts_with("2,jane.doe@example.org,cust-42,email,yes,soft_opt_in,"),
        "{csv}"
    );
    assert!(
        lines[2].starts_with("3,cust-43,cust-43,email,no,none,"),
        "{csv}"
    );
    assert!(lines[2].contains("R1:objection_recorded"), "{csv}");
    assert!(
        lines[3].starts_with("4,stranger@example.org,,email,no,none,"),
        "{csv}"
    );
    assert!(lines[4].contains("invalid_row"), "{csv}");
    job
}

/// Servicing no longer similar to cars: March's email to Jane loses its
/// soft opt-in. The page shows the change by organisation, channel and
/// rule; the list downloads. Returns the job's path.
async fn replay_under_another_similarity_map(console: &Console, browser: &Browser) -> String {
    browser.goto(&console.url("/console/replay")).await;
    browser.assert_accessible("replay form").await;
    browser
        .fill(
            "#similarity",
            r#"{"acme-cycles": {"categories": [{"id": "cars", "name": "Cars"}, {"id": "servicing", "name": "Servicing"}]}}"#,
        )
        .await;
    browser.screenshot("replay-form").await;
    browser.click("main form button[type=submit]").await;

    let text = wait_for_text(browser, "decision replayed", Duration::from_secs(120)).await;
    let job = browser.path().await;
    assert!(text.contains("1 decision replayed: 1 changed."), "{text}");
    assert!(
        text.contains("with the similar products of acme-cycles replaced"),
        "{text}"
    );
    let totals = browser
        .find("#replay-totals")
        .await
        .text()
        .await
        .expect("totals");
    assert!(totals.contains("acme-cycles 1 1 1 0 0"), "{totals}");
    let channels = browser
        .find("#replay-channels")
        .await
        .text()
        .await
        .expect("channels");
    assert!(channels.contains("email 1 1 1 0 0"), "{channels}");
    let rules = browser
        .find("#replay-rules")
        .await
        .text()
        .await
        .expect("rules");
    assert!(rules.contains("R3b"), "{rules}");
    browser.screenshot("replay-result").await;
    browser.assert_accessible("replay result").await;

    let (status, _, changes) = download(console, browser, &format!("{job}/changes.ndjson")).await;
    assert_eq!(status, 200);
    let changes = String::from_utf8(changes).expect("UTF-8");
    assert_eq!(changes.lines().count(), 1, "{changes}");
    let change: Value = serde_json::from_str(changes.trim()).expect("JSON");
    assert_eq!(change["change"], "allowed_to_refused");
    assert_eq!(change["subject"], SUBJECT);
    job
}

/// A file of `n` recipients, for a job long enough to watch.
fn many_recipients(dir: &std::path::Path, n: usize) -> std::path::PathBuf {
    let file = dir.join(format!("everyone-{n}.csv"));
    let mut csv = String::from("email\n");
    for i in 0..n {
        csv.push_str(&format!("person-{i}@example.org\n"));
    }
    std::fs::write(&file, csv).expect("write the recipients");
    file
}

/// Uploads `file` as a pre-flight's recipients and submits the form: the
/// browser shows the job's page.
async fn start_preflight(console: &Console, browser: &Browser, file: &std::path::Path) {
    browser.goto(&console.url("/console/preflight")).await;
    browser
        .find("#recipients")
        .await
        .send_keys(&file.display().to_string())
        .await
        .expect("choose the file");
    browser.click("main form button[type=submit]").await;
}

/// A pre-flight of 60,000 recipients: its page shows the progress in a
/// polite live region, with no `<meta http-equiv="refresh">`; the
/// console's own script refreshes it in place until the result shows,
/// without the page being reloaded. axe-core runs with every rule.
async fn the_progress_page_of_a_long_job(console: &Console, browser: &Browser) {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = many_recipients(dir.path(), 60_000);
    start_preflight(console, browser, &file).await;

    let text = browser.main_text().await;
    assert!(text.contains("Running: checking the recipients."), "{text}");
    assert!(
        text.contains("The result shows on this page when the job is done. Check again"),
        "{text}"
    );
    let page = browser
        .client
        .execute(
            "const s = document.getElementById('job-status'); \
             return {refresh: document.querySelector('meta[http-equiv=refresh]') !== null, \
                     scripts: Array.from(document.scripts).map(e => e.getAttribute('src')), \
                     role: s.getAttribute('role'), live: s.getAttribute('aria-live')};",
            vec![],
        )
        .await
        .expect("the page's parts");
    assert_eq!(
        page,
        json!({"refresh": false, "scripts": ["/console/static/progress.js"],
               "role": "status", "live": "polite"})
    );
    let progress = browser.find("#job-progress").await;
    assert_eq!(
        progress.attr("max").await.expect("max").as_deref(),
        Some("60000")
    );
    let job = browser.path().await;
    browser.screenshot("job-progress").await;
    browser.assert_accessible("job progress").await;

    // Only the script may update the page from now on: a reload or a
    // navigation would drop this mark.
    browser
        .client
        .execute("window.__consentSamePage = true;", vec![])
        .await
        .expect("mark the page");
    let text = wait_for_text(browser, "Recipients by outcome", Duration::from_secs(300)).await;
    assert!(text.contains("60000 recipients of acme-cycles"), "{text}");
    assert!(text.contains("Finished"), "{text}");
    assert!(!text.contains("Check again"), "{text}");
    let same = browser
        .client
        .execute(
            "return window.__consentSamePage === true && \
             document.getElementById('job-status').hasAttribute('data-running') === false;",
            vec![],
        )
        .await
        .expect("the same page");
    assert_eq!(
        same,
        json!(true),
        "the result replaced the progress in place"
    );
    assert_eq!(browser.path().await, job);
    assert_eq!(
        browser.title().await,
        "Campaign pre-flight - Consent ledger console"
    );
    browser.screenshot("job-result-in-place").await;
    browser
        .assert_accessible("job result, shown in place")
        .await;

    // The script, as served: the console's own, allowed by the page's
    // policy alone (the other pages allow no script).
    let script = console
        .ledger
        .client
        .get(console.url("/console/static/progress.js"))
        .send()
        .await
        .expect("GET the script");
    assert_eq!(script.status(), 200);
    assert_eq!(
        script.headers()["content-type"],
        "text/javascript; charset=utf-8"
    );
    let cookie = browser.session_cookie().await.expect("a session");
    let preflight = console
        .ledger
        .client
        .get(console.url("/console/preflight"))
        .header("cookie", format!("consent_console_session={cookie}"))
        .send()
        .await
        .expect("GET the pre-flight page");
    assert!(!preflight.headers()["content-security-policy"]
        .to_str()
        .expect("CSP")
        .contains("script-src"));
}

/// With JavaScript off, a long job's page still gets to its result: the
/// "Check again" link loads it afresh until the result shows.
async fn the_progress_page_without_javascript(console: &Console) {
    let browser = Browser::start_without_javascript().await;
    browser.sign_in(console, console.key(ACME)).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let file = many_recipients(dir.path(), 60_000);
    start_preflight(console, &browser, &file).await;
    let job = browser.path().await;
    let text = browser.main_text().await;
    assert!(text.contains("Running: checking the recipients."), "{text}");
    assert!(text.contains("Check again"), "{text}");
    // axe-core needs the page's timers, which are off with JavaScript:
    // the same page was checked with every rule above.
    browser.screenshot("job-progress-without-javascript").await;

    let started = Instant::now();
    let mut looks = 0;
    let text = loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        browser.click("#check-again").await;
        looks += 1;
        let text = browser.main_text().await;
        if text.contains("Recipients by outcome") {
            break text;
        }
        assert!(text.contains("Check again"), "{text}");
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "no result after {looks} looks: {text}"
        );
    };
    assert!(text.contains("60000 recipients of acme-cycles"), "{text}");
    assert_eq!(browser.path().await, job);
    browser.screenshot("job-result-without-javascript").await;
    browser.close().await;
}

/// Another organisation's key: every job's page and file is "not found",
/// and its list of jobs is empty.
async fn another_organisation_finds_none_of_the_jobs(console: &Console, jobs: &[&String]) {
    let cookie = console.http_session(console.key(GLOBEX)).await;
    for job in jobs {
        let (status, _) = console.get_with_session(job, &cookie).await;
        assert_eq!(status, 404, "{job}");
        for file in [
            "bundle.json",
            "report.html",
            "recipients.csv",
            "changes.ndjson",
        ] {
            let (status, _, body) = download_with(console, &cookie, &format!("{job}/{file}")).await;
            assert_eq!(status, 404, "{job}/{file}");
            assert!(!String::from_utf8_lossy(&body).contains(SUBJECT));
        }
    }
    let (status, _, list) = download_with(console, &cookie, "/console/jobs").await;
    assert_eq!(status, 200);
    let list = String::from_utf8_lossy(&list).into_owned();
    assert!(list.contains("No job yet."), "{list}");
    assert!(!list.contains(SUBJECT));
}

/// The admin key sees every organisation's jobs; it reads, never checks,
/// so it cannot run a pre-flight.
async fn the_admin_sees_them_but_cannot_preflight(console: &Console, jobs: &[&String]) {
    let cookie = console.http_session(&console.admin_key).await;
    for job in jobs {
        let (status, _) = console.get_with_session(job, &cookie).await;
        assert_eq!(status, 200, "{job}");
    }
    let (_, _, page) = download_with(console, &cookie, "/console/preflight").await;
    let page = String::from_utf8_lossy(&page).into_owned();
    assert!(
        page.contains("only an organisation&#39;s key may do")
            || page.contains("only an organisation's key may do"),
        "{page}"
    );
    assert!(!page.contains("type=\"file\""));
}
