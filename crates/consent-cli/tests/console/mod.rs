//! The console in a real browser: headless Chromium driven over WebDriver
//! (Debian's `chromium` and `chromium-driver`, through `fantoccini`),
//! against the real `consent-ledger` binary with real API keys, and
//! axe-core (from npm, `.ci/install-node-tools.sh`) injected into pages.
//!
//! A test file uses it with `mod support; mod console;` and, usually, one
//! [`Console`] (a ledger with keys) and one [`Browser`] for all its
//! checks, since starting Chromium is the slow part:
//!
//! ```ignore
//! let console = Console::start(&["acme-cycles", "globex"]).await;
//! let browser = Browser::start().await;
//! browser.sign_in(&console, console.key("acme-cycles")).await;
//! browser.goto(&console.url("/console/subjects")).await;
//! assert!(browser.main_text().await.contains("Find a subject"));
//! browser.screenshot("find").await;
//! browser.assert_accessible("find").await;
//! ```
//!
//! A missing tool (chromedriver, chromium, axe-core) fails the test with
//! how to install it; it is never skipped.
#![allow(dead_code)] // each test binary uses a different subset

use crate::support::{describe, free_address, run, Ledger};
use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The WebDriver server (Debian's `chromium-driver`); `CHROMEDRIVER`
/// names another.
fn chromedriver() -> String {
    std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".to_owned())
}

/// The browser (Debian's `chromium`); `CHROMIUM` names another.
fn chromium() -> String {
    std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned())
}

/// axe-core's browser build, as `.ci/install-node-tools.sh` installs it;
/// `CONSENT_AXE_JS` names another copy.
fn axe_source() -> String {
    let path = std::env::var("CONSENT_AXE_JS")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            let home = std::env::var("HOME").unwrap_or_else(|_| "/root".to_owned());
            PathBuf::from(home).join(".cache/consent-ledger/node/node_modules/axe-core/axe.min.js")
        });
    std::fs::read_to_string(&path).unwrap_or_else(|error| {
        panic!(
            "axe-core is needed for the console's accessibility checks, at {} ({error}): \
             run `bash .ci/install-node-tools.sh`",
            path.display()
        )
    })
}

/// Where screenshots go: `target/tmp/console-screenshots/NAME.png`, the
/// tests' artefacts.
pub fn screenshot_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("console-screenshots")
}

/// A ledger serving the console, with an API key for the admin and one
/// per organisation, each organisation registered as a car dealer.
pub struct Console {
    pub ledger: Ledger,
    pub admin_key: String,
    keys: BTreeMap<String, String>,
    _dir: tempfile::TempDir,
}

impl Console {
    /// Creates the keys (`consent-ledger api-key create`) and starts
    /// `consent-ledger serve` with them.
    pub async fn start(organisations: &[&str]) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let data_dir = dir.path().join("data");
        let admin_key = create_key(&data_dir, None).await;
        let mut keys = BTreeMap::new();
        for organisation in organisations {
            keys.insert(
                (*organisation).to_owned(),
                create_key(&data_dir, Some(organisation)).await,
            );
        }
        let ledger = Ledger::serve(&data_dir, &[], &[]).await;
        let console = Self {
            ledger,
            admin_key,
            keys,
            _dir: dir,
        };
        for organisation in organisations {
            console
                .append(organisation, crate::support::car_dealer(organisation))
                .await;
        }
        console
    }

    /// The API key of `organisation`.
    pub fn key(&self, organisation: &str) -> &str {
        self.keys
            .get(organisation)
            .unwrap_or_else(|| panic!("no key for {organisation}"))
    }

    /// The URL of `path` on this ledger.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.ledger.base)
    }

    /// Appends `events` with `organisation`'s key, and waits until the view
    /// has applied them.
    pub async fn append(&self, organisation: &str, events: Vec<Value>) -> Value {
        let response = self
            .ledger
            .client
            .post(self.url("/v1/events"))
            .bearer_auth(self.key(organisation))
            .json(&json!({ "events": events }))
            .send()
            .await
            .expect("POST /v1/events");
        let status = response.status();
        let body: Value = response.json().await.expect("JSON answer");
        assert!(status.is_success(), "append: {status} {body}");
        self.wait_caught_up().await;
        body
    }

    async fn wait_caught_up(&self) {
        let started = Instant::now();
        loop {
            let status: Value = self
                .ledger
                .client
                .get(self.url("/v1/status"))
                .bearer_auth(&self.admin_key)
                .send()
                .await
                .expect("GET /v1/status")
                .json()
                .await
                .expect("status JSON");
            if status["recordsBehind"] == json!(0) {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "the view did not catch up: {status}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Console {
    /// Signs in with `key` as a second browser would (an HTTP client of
    /// its own, no redirects followed): the session cookie's value.
    pub async fn http_session(&self, key: &str) -> String {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("HTTP client");
        let form = client
            .get(self.url("/console/sign-in"))
            .send()
            .await
            .expect("GET the sign-in page");
        let cookie = session_cookie_of(&form).expect("a session for the sign-in form");
        let page = form.text().await.expect("the sign-in page");
        let csrf = page
            .split("name=\"csrf\" value=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .expect("the form's CSRF token")
            .to_owned();
        let signed_in = client
            .post(self.url("/console/sign-in"))
            .header("cookie", format!("consent_console_session={cookie}"))
            .form(&[("csrf", csrf.as_str()), ("key", key)])
            .send()
            .await
            .expect("POST the sign-in form");
        assert_eq!(signed_in.status(), 303, "signed in");
        session_cookie_of(&signed_in).expect("the signed-in session")
    }

    /// The status and `Location` of `GET path` with the session `cookie`.
    pub async fn get_with_session(&self, path: &str, cookie: &str) -> (u16, String) {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("HTTP client");
        let response = client
            .get(self.url(path))
            .header("cookie", format!("consent_console_session={cookie}"))
            .send()
            .await
            .expect("GET");
        let location = response
            .headers()
            .get("location")
            .and_then(|l| l.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        (response.status().as_u16(), location)
    }
}

impl Console {
    /// The status of a POST of `form` to `path` with the session `cookie`
    /// (none: no cookie), redirects not followed.
    pub async fn post_with_session(
        &self,
        path: &str,
        cookie: Option<&str>,
        form: &[(&str, &str)],
    ) -> u16 {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("HTTP client");
        let mut request = client.post(self.url(path)).form(form);
        if let Some(cookie) = cookie {
            request = request.header("cookie", format!("consent_console_session={cookie}"));
        }
        request.send().await.expect("POST").status().as_u16()
    }
}

fn session_cookie_of(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("consent_console_session="))
        .and_then(|v| v.split(';').next())
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

/// `consent-ledger api-key create` in `data_dir`: the admin's key, or
/// `organisation`'s.
pub async fn create_key(data_dir: &std::path::Path, organisation: Option<&str>) -> String {
    let mut args = vec![
        "api-key".to_owned(),
        "create".to_owned(),
        "--data-dir".to_owned(),
        data_dir.display().to_string(),
    ];
    match organisation {
        Some(organisation) => args.extend(["--organisation".to_owned(), organisation.to_owned()]),
        None => args.push("--admin".to_owned()),
    }
    let output = run(&args, Duration::from_secs(30)).await;
    assert!(output.status.success(), "{}", describe(&output));
    String::from_utf8(output.stdout)
        .expect("UTF-8 key")
        .trim()
        .to_owned()
}

/// Headless Chromium, driven by its own chromedriver on a free port.
/// Both end when it is dropped.
pub struct Browser {
    pub client: Client,
    driver: Child,
}

impl Browser {
    pub async fn start() -> Self {
        Self::start_with(&[]).await
    }

    /// A browser with JavaScript turned off (`--blink-settings=
    /// scriptEnabled=false`), as some users browse: the pages must work
    /// by links and forms alone. WebDriver's synchronous scripts still run
    /// (so [`Browser::click`] works), but not the page's timers, so
    /// axe-core cannot.
    pub async fn start_without_javascript() -> Self {
        Self::start_with(&["--blink-settings=scriptEnabled=false"]).await
    }

    /// A browser with Chromium's `extra` arguments.
    pub async fn start_with(extra: &[&str]) -> Self {
        let port = free_address().port();
        // A process group of its own: chromedriver and the Chromium it
        // starts, ended together when the browser is dropped.
        use std::os::unix::process::CommandExt;
        let driver = Command::new(chromedriver())
            .arg(format!("--port={port}"))
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|error| {
                panic!(
                    "chromedriver is needed for the console's browser tests ({error}): \
                     install Debian's chromium-driver (bash .ci/install-deps.sh)"
                )
            });
        let mut args = vec![
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--window-size=1280,1000",
            "--lang=en-GB",
        ];
        args.extend_from_slice(extra);
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".to_owned(),
            json!({ "binary": chromium(), "args": args }),
        );
        let url = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        let client = loop {
            match ClientBuilder::native()
                .capabilities(capabilities.clone())
                .connect(&url)
                .await
            {
                Ok(client) => break client,
                Err(error) => {
                    assert!(
                        started.elapsed() < Duration::from_secs(30),
                        "no WebDriver session from chromedriver on {url}: {error}"
                    );
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        };
        Self { client, driver }
    }

    pub async fn goto(&self, url: &str) {
        self.client
            .goto(url)
            .await
            .unwrap_or_else(|error| panic!("open {url}: {error}"));
    }

    /// The text of the page's `<main>` (what it shows, without the frame).
    pub async fn main_text(&self) -> String {
        self.find("main").await.text().await.expect("the main text")
    }

    /// The text of the whole page.
    pub async fn page_text(&self) -> String {
        self.find("body").await.text().await.expect("the page text")
    }

    pub async fn title(&self) -> String {
        self.client.title().await.expect("title")
    }

    /// The path of the page shown.
    pub async fn path(&self) -> String {
        let url = self.client.current_url().await.expect("URL");
        match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        }
    }

    /// Waits (bounded) until the page shown is at `path` and loaded.
    pub async fn wait_for_path(&self, path: &str) {
        let started = Instant::now();
        loop {
            let url = self.client.current_url().await.expect("URL");
            let ready = self
                .client
                .execute("return document.readyState;", vec![])
                .await
                .expect("readyState");
            if url.path() == path && ready == json!("complete") {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "the browser did not reach {path}: it shows {url}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub async fn find(&self, css: &str) -> fantoccini::elements::Element {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|error| panic!("no element {css}: {error}"))
    }

    /// Types `text` into the field `css` (after clearing it).
    pub async fn fill(&self, css: &str, text: &str) {
        let field = self.find(css).await;
        field.clear().await.expect("clear the field");
        field.send_keys(text).await.expect("type into the field");
    }

    /// Clicks `css` (a link or a submit button) and waits for the page it
    /// leads to.
    pub async fn click(&self, css: &str) {
        let element = self.find(css).await;
        self.mark_page().await;
        element.click().await.expect("click");
        self.wait_for_new_page().await;
    }

    /// Marks the page shown, so that [`Browser::wait_for_new_page`] knows
    /// when another replaced it.
    pub async fn mark_page(&self) {
        self.client
            .execute("window.__consentOldPage = true;", vec![])
            .await
            .expect("mark the page");
    }

    /// Waits (bounded) until a new page replaced the marked one and has
    /// loaded.
    pub async fn wait_for_new_page(&self) {
        let started = Instant::now();
        loop {
            let loaded = self
                .client
                .execute(
                    "return window.__consentOldPage === undefined && document.readyState === 'complete';",
                    vec![],
                )
                .await
                .unwrap_or(json!(false));
            if loaded == json!(true) {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "no new page loaded within 10 s"
            );
            tokio::time::sleep(Duration::from_millis(30)).await;
        }
    }

    /// Presses Enter (submitting the form in focus) and waits for the
    /// page it leads to.
    pub async fn press_enter_and_wait(&self) {
        self.mark_page().await;
        self.press(Key::Enter).await;
        self.wait_for_new_page().await;
    }

    /// Presses `key` on the keyboard, as a user does (WebDriver key
    /// actions, not element events).
    pub async fn press(&self, key: Key) {
        let actions = KeyActions::new("keyboard".to_owned())
            .then(KeyAction::Down { value: key.into() })
            .then(KeyAction::Up { value: key.into() });
        self.client
            .perform_actions(actions)
            .await
            .expect("key actions");
    }

    /// Types `text` with the keyboard into whatever has the focus.
    pub async fn type_text(&self, text: &str) {
        let mut actions = KeyActions::new("keyboard".to_owned());
        for c in text.chars() {
            actions = actions
                .then(KeyAction::Down { value: c })
                .then(KeyAction::Up { value: c });
        }
        self.client
            .perform_actions(actions)
            .await
            .expect("key actions");
    }

    /// What has the focus: its tag, id, name and text, e.g.
    /// `a#|Find a subject` or `input#value`.
    pub async fn focused(&self) -> String {
        let value = self
            .client
            .execute(
                "const e = document.activeElement; \
                 return e ? (e.tagName.toLowerCase() + '#' + (e.id || '') + '|' + (e.textContent || '').trim()) : '';",
                vec![],
            )
            .await
            .expect("the focused element");
        value.as_str().unwrap_or_default().to_owned()
    }

    /// Saves a screenshot of the page as `NAME.png` in [`screenshot_dir`].
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.client.screenshot().await.expect("screenshot");
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir).expect("the screenshot directory");
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).expect("write the screenshot");
        path
    }

    /// Runs axe-core on the page and asserts it finds no serious or
    /// critical violation; `name` says which page in the failure.
    pub async fn assert_accessible(&self, name: &str) {
        // WebDriver's scripts are not subject to the page's CSP.
        let injected = self
            .client
            .execute(&format!("{}\nreturn typeof axe;", axe_source()), vec![])
            .await
            .expect("inject axe-core");
        assert_eq!(injected, json!("object"), "axe-core did not load");
        let found = self
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];\
                 axe.run(document, {resultTypes: ['violations']}).then(r => done(r.violations.map(v => \
                   ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => n.target.join(' '))})))) \
                   .catch(e => done([{id: 'axe-error', impact: 'critical', help: String(e), nodes: []}]));",
                vec![],
            )
            .await
            .expect("run axe-core");
        let serious: Vec<&Value> = found
            .as_array()
            .expect("a list of violations")
            .iter()
            .filter(|v| matches!(v["impact"].as_str(), Some("serious" | "critical")))
            .collect();
        assert!(
            serious.is_empty(),
            "axe-core finds serious or critical violations on the {name} page: {}",
            serde_json::to_string_pretty(&serious).unwrap_or_default()
        );
    }

    /// Signs in on the sign-in page with `key` (mouse and form, as a user).
    pub async fn sign_in(&self, console: &Console, key: &str) {
        self.goto(&console.url("/console/sign-in")).await;
        self.fill("#key", key).await;
        self.click("main button[type=submit]").await;
    }

    /// Signs out with the header's button.
    pub async fn sign_out(&self) {
        self.click("header form button[type=submit]").await;
    }

    /// The session cookie's value (WebDriver sees HttpOnly cookies).
    pub async fn session_cookie(&self) -> Option<String> {
        self.client
            .get_all_cookies()
            .await
            .expect("cookies")
            .into_iter()
            .find(|c| c.name() == "consent_console_session")
            .map(|c| c.value().to_owned())
    }
}

impl Browser {
    /// Ends the WebDriver session (Chromium quits), then chromedriver.
    pub async fn close(self) {
        if let Err(error) = self.client.clone().close().await {
            eprintln!("the WebDriver session did not close: {error}");
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Only the process group this browser started (chromedriver and
        // its Chromium), by its id: asked to stop, then made to.
        let group = format!("-{}", self.driver.id());
        let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
        std::thread::sleep(Duration::from_millis(300));
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.driver.wait();
    }
}
