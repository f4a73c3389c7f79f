//! Headless Chromium driven through chromedriver and fantoccini, with small page helpers.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};
use tokio::process::{Child, Command};

/// Environment variable naming the Chromium binary.
pub const CHROMIUM_ENV: &str = "PARTNERHUB_CHROMIUM";
/// Environment variable naming the chromedriver binary.
pub const CHROMEDRIVER_ENV: &str = "PARTNERHUB_CHROMEDRIVER";

const DEFAULT_CHROMIUM: &str = "/usr/bin/chromium";
const DEFAULT_CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const DRIVER_START_TIMEOUT: Duration = Duration::from_secs(20);
const POLL_INTERVAL: Duration = Duration::from_millis(100);

/// A headless Chromium session with its own chromedriver and a fresh profile directory.
pub struct Browser {
    /// The WebDriver session, for anything the helpers below do not cover.
    pub client: Client,
    processes: Processes,
}

/// Path of the Chromium binary (`PARTNERHUB_CHROMIUM`, default `/usr/bin/chromium`).
pub fn chromium_path() -> PathBuf {
    env_path(CHROMIUM_ENV, DEFAULT_CHROMIUM)
}

/// Path of chromedriver (`PARTNERHUB_CHROMEDRIVER`, default `/usr/bin/chromedriver`).
pub fn chromedriver_path() -> PathBuf {
    env_path(CHROMEDRIVER_ENV, DEFAULT_CHROMEDRIVER)
}

/// Whether both Chromium and chromedriver exist, i.e. browser tests can run here.
pub fn available() -> bool {
    chromium_path().is_file() && chromedriver_path().is_file()
}

/// Starts chromedriver on a free port and opens a headless Chromium session.
pub async fn start() -> Browser {
    let profile = tempfile::Builder::new()
        .prefix("ph-chromium-")
        .tempdir()
        .expect("cannot create a Chromium profile directory");
    let port = free_port();
    let driver_path = chromedriver_path();
    let driver = Command::new(&driver_path)
        .arg(format!("--port={port}"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|err| panic!("cannot start {}: {err}", driver_path.display()));
    let mut processes = Processes {
        driver,
        profile: Some(profile),
    };
    processes.wait_until_listening(port).await;

    let profile_arg = format!(
        "--user-data-dir={}",
        processes.profile_dir().unwrap_or(Path::new("")).display()
    );
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".to_owned(),
        json!({
            "binary": chromium_path(),
            "args": [
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--window-size=1280,900",
                profile_arg,
            ],
        }),
    );
    let client = connect_webdriver(&format!("http://127.0.0.1:{port}"), capabilities).await;
    Browser { client, processes }
}

impl Browser {
    /// Navigates to `url` and waits for the page load.
    pub async fn goto(&self, url: &str) {
        self.client
            .goto(url)
            .await
            .unwrap_or_else(|err| panic!("cannot open {url}: {err}"));
    }

    /// Clears the field matching `css` and types `value` into it.
    pub async fn fill(&self, css: &str, value: &str) {
        let field = self.find(css).await;
        field
            .clear()
            .await
            .unwrap_or_else(|err| panic!("cannot clear {css:?}: {err}"));
        field
            .send_keys(value)
            .await
            .unwrap_or_else(|err| panic!("cannot type into {css:?}: {err}"));
    }

    /// Clicks the first element matching `css`.
    pub async fn click(&self, css: &str) {
        self.find(css)
            .await
            .click()
            .await
            .unwrap_or_else(|err| panic!("cannot click {css:?}: {err}"));
    }

    /// The `id` of the first element matching `css` (for buttons whose ids carry a row's id).
    pub async fn id(&self, css: &str) -> String {
        self.find(css)
            .await
            .attr("id")
            .await
            .unwrap_or_else(|err| panic!("cannot read the id of {css:?}: {err}"))
            .unwrap_or_else(|| panic!("{css:?} has no id"))
    }

    /// Visible text of the first element matching `css`.
    pub async fn text(&self, css: &str) -> String {
        self.find(css)
            .await
            .text()
            .await
            .unwrap_or_else(|err| panic!("cannot read the text of {css:?}: {err}"))
    }

    /// Polls until the page's visible text or its HTML source contains `needle`; panics after
    /// `timeout` with the current URL and an excerpt of the page.
    pub async fn wait_for_text(&self, needle: &str, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            let body = self.body_text().await;
            if body.contains(needle) {
                return;
            }
            let source = self.client.source().await.unwrap_or_default();
            if source.contains(needle) {
                return;
            }
            if Instant::now() >= deadline {
                let excerpt: String = body.chars().take(2000).collect();
                panic!(
                    "text {needle:?} did not appear within {timeout:?} on {}; page text:\n{excerpt}",
                    self.current_url().await
                );
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }

    /// The URL currently shown.
    /// Ids used more than once on the current page (invalid HTML; a label finds the wrong one).
    pub async fn duplicate_ids(&self) -> Vec<String> {
        let found = self
            .client
            .execute(
                "const ids = [...document.querySelectorAll('[id]')].map(e => e.id);
                 return [...new Set(ids.filter((id, i) => ids.indexOf(id) !== i))];",
                vec![],
            )
            .await
            .expect("run a script");
        serde_json::from_value(found).expect("a list of ids")
    }

    pub async fn current_url(&self) -> String {
        self.client
            .current_url()
            .await
            .map(|url| url.to_string())
            .unwrap_or_else(|err| panic!("cannot read the current URL: {err}"))
    }

    /// Saves a PNG of the viewport to `<workspace>/test-artifacts/<name>.png` and returns its path.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self
            .client
            .screenshot()
            .await
            .unwrap_or_else(|err| panic!("cannot take screenshot {name:?}: {err}"));
        let dir = artifacts_dir();
        std::fs::create_dir_all(&dir)
            .unwrap_or_else(|err| panic!("cannot create {}: {err}", dir.display()));
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png)
            .unwrap_or_else(|err| panic!("cannot write {}: {err}", path.display()));
        path
    }

    /// Resizes the browser window (outer size, in CSS pixels).
    pub async fn set_window_size(&self, width: u32, height: u32) {
        self.client
            .set_window_size(width, height)
            .await
            .unwrap_or_else(|err| panic!("cannot resize the window to {width}x{height}: {err}"));
    }

    /// Ends the WebDriver session (closing Chromium) and stops chromedriver.
    pub async fn close(self) {
        let Browser {
            client,
            mut processes,
        } = self;
        // Best effort: the processes are killed below either way.
        let _ = client.close().await;
        let _ = processes.driver.kill().await;
    }

    async fn find(&self, css: &str) -> fantoccini::elements::Element {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|err| panic!("no element matches {css:?}: {err}"))
    }

    async fn body_text(&self) -> String {
        self.client
            .execute(
                "return document.body ? document.body.innerText : '';",
                Vec::new(),
            )
            .await
            .ok()
            .and_then(|value| value.as_str().map(str::to_owned))
            .unwrap_or_default()
    }
}

/// Opens a WebDriver session at `url`. chromedriver listens on loopback over plain HTTP, so the
/// client needs no TLS at all (and the workspace keeps a single rustls crypto backend).
async fn connect_webdriver(url: &str, capabilities: serde_json::Map<String, Value>) -> Client {
    ClientBuilder::new(HttpConnector::new())
        .capabilities(capabilities)
        .connect(url)
        .await
        .unwrap_or_else(|err| {
            panic!("cannot open a Chromium session via chromedriver at {url}: {err}")
        })
}

/// chromedriver plus the profile directory; on drop kills chromedriver and any Chromium process
/// still using the profile (e.g. after a test panicked before [`Browser::close`]).
struct Processes {
    driver: Child,
    profile: Option<tempfile::TempDir>,
}

impl Processes {
    fn profile_dir(&self) -> Option<&Path> {
        self.profile.as_ref().map(tempfile::TempDir::path)
    }

    async fn wait_until_listening(&mut self, port: u16) {
        let deadline = Instant::now() + DRIVER_START_TIMEOUT;
        loop {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return;
            }
            if let Ok(Some(status)) = self.driver.try_wait() {
                panic!("chromedriver exited before accepting connections: {status}");
            }
            if Instant::now() >= deadline {
                panic!(
                    "chromedriver did not accept connections on 127.0.0.1:{port} within {DRIVER_START_TIMEOUT:?}"
                );
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }
}

impl Drop for Processes {
    fn drop(&mut self) {
        let _ = self.driver.start_kill();
        if let Some(dir) = self.profile_dir() {
            kill_processes_using(dir);
        }
        if let Some(profile) = self.profile.take() {
            // Chromium may still be writing into it for a moment; a leftover temp dir is harmless.
            let _ = profile.close();
        }
    }
}

/// Kills (SIGKILL) every process whose command line mentions `--user-data-dir=<dir>`.
fn kill_processes_using(dir: &Path) {
    let marker = format!("--user-data-dir={}", dir.display());
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return;
    };
    let pids: Vec<String> = entries
        .filter_map(Result::ok)
        .filter_map(|entry| entry.file_name().into_string().ok())
        .filter(|name| name.bytes().all(|b| b.is_ascii_digit()))
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .map(|cmdline| {
                    cmdline
                        .split(|b| *b == 0)
                        .any(|arg| arg == marker.as_bytes())
                })
                .unwrap_or(false)
        })
        .collect();
    if !pids.is_empty() {
        let _ = std::process::Command::new("kill")
            .arg("-KILL")
            .args(&pids)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// `<workspace>/test-artifacts`.
pub fn artifacts_dir() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .ancestors()
        .nth(2)
        .unwrap_or(manifest_dir)
        .join("test-artifacts")
}

fn env_path(var: &str, default: &str) -> PathBuf {
    std::env::var_os(var)
        .filter(|value| !value.is_empty())
        .map_or_else(|| PathBuf::from(default), PathBuf::from)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("cannot find a free local port")
}

/// Whether this browser test should run: `false` (and a note) when Chromium or chromedriver is
/// missing on a developer's machine; a failure in CI or wherever chromedriver was named, since
/// browser tests must run there.
pub fn required(test: &str) -> bool {
    if available() {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none() && std::env::var_os(CHROMEDRIVER_ENV).is_none(),
        "Chromium or chromedriver is missing, but browser tests must run here"
    );
    eprintln!("Chromium or chromedriver is missing: {test} is skipped");
    false
}

/// Run `flow` against `app` in a fresh headless Chromium. When it panics, a screenshot of the
/// page goes to `test-artifacts/<name>-failure.png` and browser and app are closed before the
/// panic goes on; otherwise both are closed after it.
pub async fn run(
    name: &str,
    app: crate::support::app::TestApp,
    flow: impl AsyncFnOnce(&crate::support::app::TestApp, &Browser),
) {
    let browser = start().await;
    let outcome = crate::support::harness::CatchUnwind::new(flow(&app, &browser)).await;
    if outcome.is_err()
        && let Ok(png) = browser.client.screenshot().await
    {
        let dir = artifacts_dir();
        let _ = std::fs::create_dir_all(&dir);
        let _ = std::fs::write(dir.join(format!("{name}-failure.png")), png);
    }
    browser.close().await;
    app.finish().await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

/// How long the helpers below wait for the page, and how often they look.
const WAIT: Duration = Duration::from_secs(10);

/// Click the button whose text is `label`.
pub async fn click_button(browser: &Browser, label: &str) {
    let xpath = format!("//button[normalize-space(.)='{label}']");
    browser
        .client
        .find(fantoccini::Locator::XPath(&xpath))
        .await
        .unwrap_or_else(|err| panic!("no button {label:?}: {err}"))
        .click()
        .await
        .unwrap_or_else(|err| panic!("cannot click {label:?}: {err}"));
}

/// Wait until `done` holds, failing with `what` and the page the browser is on.
pub async fn wait_until<F, Fut>(browser: &Browser, what: &str, mut done: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + WAIT;
    while !done().await {
        assert!(
            Instant::now() < deadline,
            "waited {WAIT:?} for {what}; the browser is at {}",
            browser.current_url().await
        );
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

/// Wait until the browser shows `path` (after a redirect or a form post).
pub async fn wait_for_path(browser: &Browser, path: &str) {
    wait_until(
        browser,
        &format!("the path to be {path}"),
        move || async move { crate::support::app::path_of(&browser.current_url().await) == path },
    )
    .await;
}
