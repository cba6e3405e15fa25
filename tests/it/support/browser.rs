//! A real browser for the console's tests: Debian's headless Chromium, driven over
//! WebDriver (fantoccini) through a `chromedriver` this harness starts on a free port,
//! with a fresh profile, and kills (with the Chromium it started) when dropped.
//!
//! The page is read through small scripts that return text, so a probe never holds an
//! element that the page has since replaced; every wait is bounded.

use std::os::unix::process::CommandExt as _;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use serde_json::{Value, json};
use tempfile::TempDir;

use super::servers::free_port;
use super::wait;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// A laptop's screen.
const WINDOW: (u32, u32) = (1366, 900);
/// How long the page may take to show what a test waits for.
pub const PATIENCE: Duration = Duration::from_secs(30);

/// One browser session, in a Chromium of its own.
pub struct Browser {
    client: Client,
    _driver: Driver,
}

/// The `chromedriver` process group (it and the Chromium it starts), and their profile.
struct Driver {
    child: Child,
    profile: TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        if let Ok(group) = i32::try_from(self.child.id()) {
            let _ = killpg(Pid::from_raw(group), Signal::SIGKILL);
        }
        let _ = self.child.wait();
    }
}

impl Browser {
    /// Starts `chromedriver` and a headless Chromium with a fresh profile. The flags keep
    /// Chromium from reaching for the network on its own (updates, sync, QUIC probes).
    pub async fn start() -> Self {
        assert!(
            std::path::Path::new(CHROMEDRIVER).exists(),
            "{CHROMEDRIVER} is missing: run deploy/setup.sh (it installs chromium-driver)"
        );
        let profile = tempfile::tempdir().expect("a profile directory");
        let port = free_port();
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("starting chromedriver");
        let driver = Driver { child, profile };
        let url = format!("http://127.0.0.1:{port}");
        until_listening(&url).await;
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities(&driver))
            .connect(&url)
            .await
            .expect("a WebDriver session");
        Self {
            client,
            _driver: driver,
        }
    }

    /// Opens an address, as if pasted into the address bar.
    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.expect("navigation");
    }

    /// The path and query of the address the page shows now.
    pub async fn address(&self) -> String {
        let url = self.client.current_url().await.expect("the current URL");
        match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        }
    }

    /// Runs a script in the page and returns what it returns.
    pub async fn script(&self, source: &str, args: Vec<Value>) -> Value {
        self.client.execute(source, args).await.expect("a script")
    }

    /// The text of the first element matching `css`, if there is one.
    pub async fn text(&self, css: &str) -> Option<String> {
        let found = self
            .script(
                "const e = document.querySelector(arguments[0]); return e ? e.textContent : null;",
                vec![json!(css)],
            )
            .await;
        found.as_str().map(str::to_owned)
    }

    /// The texts of every element matching `css`.
    pub async fn texts(&self, css: &str) -> Vec<String> {
        let found = self
            .script(
                "return [...document.querySelectorAll(arguments[0])].map((e) => e.textContent);",
                vec![json!(css)],
            )
            .await;
        serde_json::from_value(found).expect("a list of texts")
    }

    /// An attribute of the first element matching `css`, if there is one and it has it.
    pub async fn attribute(&self, css: &str, name: &str) -> Option<String> {
        let found = self
            .script(
                "const e = document.querySelector(arguments[0]); return e ? e.getAttribute(arguments[1]) : null;",
                vec![json!(css), json!(name)],
            )
            .await;
        found.as_str().map(str::to_owned)
    }

    /// Waits (bounded) until the text of `css` satisfies `wanted`, and returns it.
    pub async fn until_text(&self, css: &str, wanted: impl Fn(&str) -> bool) -> String {
        wait::until(&format!("the text of {css}"), PATIENCE, || async {
            self.text(css).await.filter(|t| wanted(t))
        })
        .await
    }

    /// Waits (bounded) until `attribute` of `css` satisfies `wanted`, and returns it.
    pub async fn until_attribute(
        &self,
        css: &str,
        attribute: &str,
        wanted: impl Fn(&str) -> bool,
    ) -> String {
        wait::until(&format!("{attribute} of {css}"), PATIENCE, || async {
            self.attribute(css, attribute).await.filter(|v| wanted(v))
        })
        .await
    }

    /// Clicks the first element matching `css`, as a person would.
    pub async fn click(&self, css: &str) {
        self.client
            .find(Locator::Css(css))
            .await
            .expect("the element to click")
            .click()
            .await
            .expect("a click");
    }

    /// Types into the first element matching `css` (keys, so `\u{e007}` is Enter).
    pub async fn type_into(&self, css: &str, keys: &str) {
        self.client
            .find(Locator::Css(css))
            .await
            .expect("the element to type into")
            .send_keys(keys)
            .await
            .expect("typing");
    }

    /// Accepts the confirmation dialog that is open or about to open, and returns its text.
    pub async fn accept_confirmation(&self) -> String {
        let text = wait::until("a confirmation dialog", PATIENCE, || async {
            self.client.get_alert_text().await.ok()
        })
        .await;
        self.client.accept_alert().await.expect("accepting");
        text
    }

    /// Saves a PNG of the page (the window grown to its height, up to twice a laptop's) as
    /// `<name>.png` in the folder named by `PARTICIPANT_SCREENSHOTS` (relative to the
    /// repository), when it is set: how the README's pictures are made.
    pub async fn screenshot(&self, name: &str) {
        let Some(folder) = std::env::var_os("PARTICIPANT_SCREENSHOTS") else {
            return;
        };
        let height = self
            .script(
                "return document.documentElement.scrollHeight + window.outerHeight - window.innerHeight;",
                vec![],
            )
            .await
            .as_u64()
            .and_then(|h| u32::try_from(h).ok())
            .unwrap_or(WINDOW.1)
            .clamp(WINDOW.1, 2 * WINDOW.1);
        self.client
            .set_window_size(WINDOW.0, height)
            .await
            .expect("room for the whole page");
        let png = self.client.screenshot().await.expect("a screenshot");
        self.client
            .set_window_size(WINDOW.0, WINDOW.1)
            .await
            .expect("the laptop's window again");
        let repository = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
        let path = repository.join(folder).join(format!("{name}.png"));
        std::fs::write(&path, png).expect("writing the screenshot");
    }

    /// Ends the session (Chromium quits); the driver goes on drop.
    pub async fn close(self) {
        self.client.close().await.expect("closing the session");
    }
}

fn capabilities(driver: &Driver) -> serde_json::Map<String, Value> {
    let profile = driver.profile.path().display();
    let options = json!({
        "binary": CHROMIUM,
        "args": [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            format!("--user-data-dir={profile}"),
            format!("--window-size={},{}", WINDOW.0, WINDOW.1),
        ],
    });
    let mut capabilities = serde_json::Map::new();
    capabilities.insert("goog:chromeOptions".into(), options);
    // A dialog is answered by the test itself, never dismissed behind its back.
    capabilities.insert("unhandledPromptBehavior".into(), json!("ignore"));
    capabilities
}

/// Waits until `chromedriver` answers its status.
async fn until_listening(url: &str) {
    let http = reqwest::Client::new();
    wait::until("chromedriver listening", PATIENCE, || async {
        let status = http.get(format!("{url}/status")).send().await.ok()?;
        status.status().is_success().then_some(())
    })
    .await;
}
