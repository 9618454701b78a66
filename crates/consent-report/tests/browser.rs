//! The report as a regulator sees it: opened in headless Chromium (Debian's
//! `chromium`), screenshotted, and the key facts read back from the
//! screenshot with OCR (`tesseract`) and from the rendered DOM.
//!
//! Needs `chromium` and `tesseract` (`.ci/install-deps.sh` installs both).
//! Missing tools fail the test, unless `CONSENT_SKIP_BROWSER_TESTS=1`.
//! The page and its screenshot are kept in
//! `target/tmp/consent-report-browser/` for a person to look at.

mod support;

use consent_domain::event::Source;
use consent_report::render_html;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};
use support::*;

const WIDTH: u32 = 1280;
const HEIGHT: u32 = 2400;
const TOOL_TIMEOUT: Duration = Duration::from_secs(120);
/// An event field that would change the page's title if it ever ran.
const HOSTILE_ACTOR: &str = "<script>document.title='owned'</script>";

#[test]
fn the_report_opened_in_chromium_shows_the_key_facts() {
    let Some(tools) = Tools::find() else {
        return;
    };
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut events = car_dealer_events();
    events[2].1.source = Source {
        actor: HOSTILE_ACTOR.to_owned(),
        ..events[2].1.source.clone()
    };
    let example = Example::with_events(events);
    let html = render_html(&example.report());
    let page = dir.path().join("report.html");
    std::fs::write(&page, &html).expect("write the report");
    let url = format!("file://{}", page.display());

    // The screenshot: a real PNG of the window's size.
    let screenshot = dir.path().join("report.png");
    let output = tools.chromium(
        dir.path(),
        &[
            &format!("--window-size={WIDTH},{HEIGHT}"),
            &format!("--screenshot={}", screenshot.display()),
            &url,
        ],
    );
    assert!(
        output.status.success(),
        "chromium failed: {}",
        describe(&output)
    );
    let png = std::fs::read(&screenshot)
        .unwrap_or_else(|e| panic!("chromium wrote no screenshot ({e}): {}", describe(&output)));
    let (width, height) = png_size(&png);
    assert_eq!((width, height), (WIDTH, HEIGHT), "screenshot size");
    assert!(
        png.len() > 50_000,
        "a {} byte screenshot is nearly blank",
        png.len()
    );
    keep(&page, &screenshot);

    // What a reader sees: the key facts, read from the pixels.
    let seen = tools.ocr(&screenshot);
    let seen_words = seen.split_whitespace().collect::<Vec<_>>().join(" ");
    for fact in [
        "cust-42",
        "acme-motors",
        "VERIFIED",
        "ALLOWED",
        "REFUSED",
        "PECR",
        "soft opt-in",
    ] {
        assert!(
            seen_words.contains(fact),
            "OCR of the screenshot did not find {fact:?}; it read:\n{seen}"
        );
    }

    // The rendered DOM: the facts exactly, and the hostile field inert.
    let output = tools.chromium(dir.path(), &["--dump-dom", &url]);
    assert!(
        output.status.success(),
        "chromium failed: {}",
        describe(&output)
    );
    let dom = String::from_utf8_lossy(&output.stdout);
    for fact in [
        "<title>Evidence for subject cust-42 of acme-motors</title>",
        "Subject cust-42 of organisation acme-motors",
        ">VERIFIED<",
        "<div class=\"answer allowed\">ALLOWED</div>",
        "<div class=\"answer refused\">REFUSED</div>",
        "Sale recorded: cars, order 7781, opt-out offered",
        "Opt-out of email, by unsubscribe link",
        "consent.commerce/2@0",
        "UK GDPR Art 21(2), 21(3), 21(5); PECR 2003 reg 22(3)(c)",
        ROOT,
        "Actor: &lt;script&gt;document.title='owned'&lt;/script&gt;",
    ] {
        assert!(dom.contains(fact), "the DOM lacks {fact:?}:\n{dom}");
    }
    assert!(
        !dom.to_lowercase().contains("<script"),
        "a script element in the DOM"
    );
    assert!(!dom.contains("<title>owned</title>"));
}

/// The two external programs, or `None` when the test is to be skipped.
struct Tools {
    chromium: PathBuf,
    tesseract: PathBuf,
}

impl Tools {
    fn find() -> Option<Self> {
        if std::env::var("CONSENT_SKIP_BROWSER_TESTS").as_deref() == Ok("1") {
            eprintln!("CONSENT_SKIP_BROWSER_TESTS=1: browser test skipped");
            return None;
        }
        let find = |name: &str, package: &str| {
            which(name).unwrap_or_else(|| {
                panic!(
                    "`{name}` is not installed (Debian package {package}): run .ci/install-deps.sh, \
                     or set CONSENT_SKIP_BROWSER_TESTS=1 to skip the browser test"
                )
            })
        };
        Some(Self {
            chromium: find("chromium", "chromium"),
            tesseract: find("tesseract", "tesseract-ocr"),
        })
    }

    fn chromium(&self, dir: &Path, args: &[&str]) -> Output {
        let mut command = Command::new(&self.chromium);
        command
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-dev-shm-usage",
                "--hide-scrollbars",
                "--no-first-run",
                "--allow-file-access-from-files",
            ])
            // Its own profile, so parallel runs do not share a lock.
            .arg(format!("--user-data-dir={}", dir.join("profile").display()))
            .args(args);
        run(command)
    }

    fn ocr(&self, png: &Path) -> String {
        let mut command = Command::new(&self.tesseract);
        command.arg(png).arg("stdout");
        let output = run(command);
        assert!(
            output.status.success(),
            "tesseract failed: {}",
            describe(&output)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }
}

fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// Runs a command to completion, killing it after [`TOOL_TIMEOUT`].
fn run(mut command: Command) -> Output {
    let program = format!("{:?}", command.get_program());
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("could not start {program}: {e}"));
    // Read the pipes on threads so a chatty child cannot block on them.
    let mut stdout = child.stdout.take().expect("piped stdout");
    let mut stderr = child.stderr.take().expect("piped stderr");
    let out = std::thread::spawn(move || {
        let mut buffer = Vec::new();
        std::io::Read::read_to_end(&mut stdout, &mut buffer).map(|_| buffer)
    });
    let err = std::thread::spawn(move || {
        let mut buffer = Vec::new();
        std::io::Read::read_to_end(&mut stderr, &mut buffer).map(|_| buffer)
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the child") {
            break status;
        }
        if started.elapsed() > TOOL_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{program} did not finish within {TOOL_TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    Output {
        status,
        stdout: out.join().expect("stdout reader").expect("read stdout"),
        stderr: err.join().expect("stderr reader").expect("read stderr"),
    }
}

fn describe(output: &Output) -> String {
    format!(
        "{}; stderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Width and height from a PNG's IHDR chunk.
fn png_size(png: &[u8]) -> (u32, u32) {
    assert!(
        png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 24 && &png[12..16] == b"IHDR",
        "not a PNG"
    );
    let word = |at: usize| u32::from_be_bytes([png[at], png[at + 1], png[at + 2], png[at + 3]]);
    (word(16), word(20))
}

/// Copies the page and its screenshot where a person can open them.
fn keep(page: &Path, screenshot: &Path) {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("consent-report-browser");
    if std::fs::create_dir_all(&dir).is_ok() {
        let _ = std::fs::copy(page, dir.join("report.html"));
        let _ = std::fs::copy(screenshot, dir.join("report.png"));
        eprintln!("report and screenshot kept in {}", dir.display());
    }
}
