//! A small blocking W3C WebDriver client driving headless Chromium through Debian's
//! chromedriver, for whole-process tests of the web admin page: start a browser, load a
//! page, find elements by CSS selector, type and click, wait for a text, run a script,
//! read the cookies (to check their HttpOnly and SameSite flags) and take a screenshot.
//!
//! [`Browser::start`] runs `/usr/bin/chromedriver` on a free loopback port with a fresh
//! Chromium profile; dropping the [`Browser`] ends the session, kills chromedriver and
//! Chromium and removes the profile. Nothing here panics: every failure is a
//! [`WebDriverError`] naming the command, and the test decides what it means.

use base64::Engine as _;
use serde_json::{Value, json};
use std::fmt;
use std::net::TcpListener;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";
/// How long chromedriver has to answer `GET /status` with `ready`.
const READY_LIMIT: Duration = Duration::from_secs(15);
/// Any one WebDriver command (creating the session starts Chromium: the slowest).
const COMMAND_LIMIT: Duration = Duration::from_secs(60);
/// How often [`Browser::wait_for`] and [`Browser::wait_for_text`] look again.
const POLL: Duration = Duration::from_millis(100);
/// The key of a web element reference in W3C WebDriver JSON (WebDriver §12.1).
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";
/// The most a response body may hold (a screenshot, base64).
const BODY_LIMIT: u64 = 64 << 20;

/// Why a WebDriver operation failed.
#[derive(Debug, thiserror::Error)]
pub enum WebDriverError {
    /// A local operation (a port, a directory, a process, a file) failed.
    #[error("{what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
    /// chromedriver exited or did not report ready in time.
    #[error("chromedriver did not become ready: {reason}; its output:\n{log}")]
    NotReady { reason: String, log: String },
    /// The HTTP exchange with chromedriver failed (connection, timeout, body).
    #[error("{command}: HTTP: {source}")]
    Http {
        command: String,
        source: ureq::Error,
    },
    /// chromedriver answered with a WebDriver error (`no such element`, ...).
    #[error("{command}: WebDriver error `{error}` (HTTP {status}): {message}")]
    Command {
        command: String,
        status: u16,
        error: String,
        message: String,
    },
    /// chromedriver answered something that is not the JSON expected.
    #[error("{command}: unexpected response (HTTP {status}): {body}")]
    Protocol {
        command: String,
        status: u16,
        body: String,
    },
    /// [`Browser::wait_for`]: no element matched in time.
    #[error("no element matched `{selector}` within {waited:?}; last error: {last}")]
    NotFound {
        selector: String,
        waited: Duration,
        last: String,
    },
    /// [`Browser::wait_for_text`]: the element never held the text in time.
    #[error(
        "`{selector}` did not contain {needle:?} within {waited:?}; last text seen: {}",
        last.as_deref().map_or("none (no element matched)".to_string(), |t| format!("{t:?}"))
    )]
    TextTimeout {
        selector: String,
        needle: String,
        waited: Duration,
        last: Option<String>,
    },
}

impl WebDriverError {
    /// The WebDriver error code, for a [`WebDriverError::Command`].
    fn code(&self) -> Option<&str> {
        match self {
            WebDriverError::Command { error, .. } => Some(error),
            _ => None,
        }
    }

    /// An element that is not there (yet) or was replaced: worth looking again.
    fn is_transient(&self) -> bool {
        matches!(
            self.code(),
            Some("no such element" | "stale element reference")
        )
    }
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> WebDriverError {
    let what = what.into();
    move |source| WebDriverError::Io { what, source }
}

/// A headless Chromium under a chromedriver child process, with one WebDriver session.
pub struct Browser {
    agent: ureq::Agent,
    /// `http://127.0.0.1:PORT`.
    base: String,
    /// The session id, once created.
    session: Option<String>,
    driver: Child,
    /// Scratch directory: the Chromium profile and chromedriver's output.
    dir: PathBuf,
}

impl fmt::Debug for Browser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Browser")
            .field("base", &self.base)
            .field("session", &self.session)
            .field("dir", &self.dir)
            .finish()
    }
}

impl Browser {
    /// Starts chromedriver on a free loopback port, waits (at most 15 s) until it is ready
    /// and opens a session on a headless Chromium with a fresh profile.
    pub fn start() -> Result<Browser, WebDriverError> {
        static STARTED: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "tipring-webdriver-{}-{}",
            std::process::id(),
            STARTED.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        let profile = dir.join("profile");
        std::fs::create_dir_all(&profile).map_err(io(format!("create {}", profile.display())))?;
        let log = dir.join("chromedriver.log");
        let out = std::fs::File::create(&log).map_err(io(format!("create {}", log.display())))?;
        let err = out
            .try_clone()
            .map_err(io(format!("open {}", log.display())))?;
        let port = free_port()?;
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            // Its own process group, so that drop can kill Chromium with it.
            .process_group(0)
            .spawn()
            .map_err(io(format!("spawn {CHROMEDRIVER}")))?;
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .proxy(None)
            .timeout_global(Some(COMMAND_LIMIT))
            .build()
            .into();
        let mut browser = Browser {
            agent,
            base: format!("http://127.0.0.1:{port}"),
            session: None,
            driver,
            dir,
        };
        browser.wait_ready(&log)?;
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-quic",
                    "--no-first-run",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--disable-dev-shm-usage",
                    "--window-size=1280,900",
                    format!("--user-data-dir={}", profile.display()),
                ],
            },
        }}});
        let url = format!("{}/session", browser.base);
        let value = browser.request("new session", "POST", &url, Some(&caps))?;
        match value.get("sessionId").and_then(Value::as_str) {
            Some(id) => browser.session = Some(id.to_string()),
            None => {
                return Err(WebDriverError::Protocol {
                    command: "new session".into(),
                    status: 200,
                    body: format!("no sessionId in {value}"),
                });
            }
        }
        Ok(browser)
    }

    /// Polls `GET /status` until chromedriver says it is ready.
    fn wait_ready(&mut self, log: &Path) -> Result<(), WebDriverError> {
        let start = Instant::now();
        let url = format!("{}/status", self.base);
        loop {
            if let Ok(Some(status)) = self.driver.try_wait() {
                return Err(WebDriverError::NotReady {
                    reason: format!("it exited ({status})"),
                    log: read(log),
                });
            }
            let last = match self.status(&url) {
                Ok(v) if v.get("ready") == Some(&Value::Bool(true)) => return Ok(()),
                Ok(v) => format!("not ready: {v}"),
                Err(e) => e,
            };
            if start.elapsed() >= READY_LIMIT {
                return Err(WebDriverError::NotReady {
                    reason: format!("not ready within {READY_LIMIT:?} ({last})"),
                    log: read(log),
                });
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// One `GET /status`, bounded to a second so that [`READY_LIMIT`] holds; its `value`.
    fn status(&self, url: &str) -> Result<Value, String> {
        let mut response = self
            .agent
            .get(url)
            .config()
            .timeout_global(Some(Duration::from_secs(1)))
            .build()
            .call()
            .map_err(|e| e.to_string())?;
        let text = response
            .body_mut()
            .read_to_string()
            .map_err(|e| e.to_string())?;
        match serde_json::from_str::<Value>(&text) {
            Ok(Value::Object(mut o)) if o.contains_key("value") => {
                Ok(o.remove("value").unwrap_or_default())
            }
            _ => Err(format!("unexpected answer: {text}")),
        }
    }

    /// Loads `url` and waits for the page to load.
    pub fn goto(&self, url: &str) -> Result<(), WebDriverError> {
        self.command(
            &format!("go to {url}"),
            "POST",
            "/url",
            Some(json!({"url": url})),
        )
        .map(drop)
    }

    /// The URL of the current page.
    pub fn current_url(&self) -> Result<String, WebDriverError> {
        let v = self.command("current url", "GET", "/url", None)?;
        string(v, "current url")
    }

    /// The first element matching the CSS selector `css`, now.
    pub fn find(&self, css: &str) -> Result<Element<'_>, WebDriverError> {
        let what = format!("find `{css}`");
        let v = self.command(&what, "POST", "/element", Some(locator(css)))?;
        self.element(&what, &v)
    }

    /// Every element matching the CSS selector `css`, now (maybe none).
    pub fn find_all(&self, css: &str) -> Result<Vec<Element<'_>>, WebDriverError> {
        let what = format!("find all `{css}`");
        let v = self.command(&what, "POST", "/elements", Some(locator(css)))?;
        match v.as_array() {
            Some(list) => list.iter().map(|e| self.element(&what, e)).collect(),
            None => Err(protocol(&what, &v)),
        }
    }

    /// The first element matching `css`, looking every 100 ms for up to `timeout`.
    pub fn wait_for(&self, css: &str, timeout: Duration) -> Result<Element<'_>, WebDriverError> {
        let start = Instant::now();
        loop {
            let last = match self.find(css) {
                Ok(e) => return Ok(e),
                Err(e) if e.is_transient() => e.to_string(),
                Err(e) => return Err(e),
            };
            if start.elapsed() >= timeout {
                return Err(WebDriverError::NotFound {
                    selector: css.into(),
                    waited: start.elapsed(),
                    last,
                });
            }
            std::thread::sleep(POLL);
        }
    }

    /// The first element matching `css` once its text contains `needle`, looking every
    /// 100 ms for up to `timeout`.
    pub fn wait_for_text(
        &self,
        css: &str,
        needle: &str,
        timeout: Duration,
    ) -> Result<Element<'_>, WebDriverError> {
        let start = Instant::now();
        let mut last = None;
        loop {
            match self.find(css).and_then(|e| e.text().map(|t| (e, t))) {
                Ok((e, text)) if text.contains(needle) => return Ok(e),
                Ok((_, text)) => last = Some(text),
                Err(e) if e.is_transient() => {}
                Err(e) => return Err(e),
            }
            if start.elapsed() >= timeout {
                return Err(WebDriverError::TextTimeout {
                    selector: css.into(),
                    needle: needle.into(),
                    waited: start.elapsed(),
                    last,
                });
            }
            std::thread::sleep(POLL);
        }
    }

    /// Saves a PNG screenshot of the viewport at `path`, creating its parent directories.
    pub fn screenshot(&self, path: &Path) -> Result<(), WebDriverError> {
        let v = self.command("screenshot", "GET", "/screenshot", None)?;
        let b64 = string(v, "screenshot")?;
        let png = base64::engine::general_purpose::STANDARD
            .decode(b64.as_bytes())
            .map_err(|e| WebDriverError::Protocol {
                command: "screenshot".into(),
                status: 200,
                body: format!("not base64: {e}"),
            })?;
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(io(format!("create {}", parent.display())))?;
        }
        std::fs::write(path, png).map_err(io(format!("write {}", path.display())))
    }

    /// Runs `script` (a function body: `arguments[i]` are `args`, `return` gives the
    /// result) synchronously in the page; its result.
    pub fn execute(&self, script: &str, args: Vec<Value>) -> Result<Value, WebDriverError> {
        self.command(
            "execute script",
            "POST",
            "/execute/sync",
            Some(json!({"script": script, "args": args})),
        )
    }

    /// The cookies visible to the current page, as WebDriver cookie objects (`name`,
    /// `value`, `path`, `domain`, `secure`, `httpOnly`, `sameSite`, `expiry`).
    pub fn cookies(&self) -> Result<Vec<Value>, WebDriverError> {
        let v = self.command("cookies", "GET", "/cookie", None)?;
        match v {
            Value::Array(list) => Ok(list),
            other => Err(protocol("cookies", &other)),
        }
    }

    /// The current page's DOM serialized as HTML.
    pub fn page_source(&self) -> Result<String, WebDriverError> {
        let v = self.command("page source", "GET", "/source", None)?;
        string(v, "page source")
    }

    /// An element from its W3C reference `v`.
    fn element(&self, what: &str, v: &Value) -> Result<Element<'_>, WebDriverError> {
        match v.get(ELEMENT_KEY).and_then(Value::as_str) {
            Some(id) => Ok(Element {
                browser: self,
                id: id.to_string(),
            }),
            None => Err(protocol(what, v)),
        }
    }

    /// A command on the session: `path` is relative to `/session/{id}`.
    fn command(
        &self,
        what: &str,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, WebDriverError> {
        let Some(session) = &self.session else {
            return Err(WebDriverError::Protocol {
                command: what.into(),
                status: 0,
                body: "no session".into(),
            });
        };
        let url = format!("{}/session/{session}{path}", self.base);
        self.request(what, method, &url, body.as_ref())
    }

    /// One HTTP exchange with chromedriver; the response's `value`, or its error.
    fn request(
        &self,
        what: &str,
        method: &str,
        url: &str,
        body: Option<&Value>,
    ) -> Result<Value, WebDriverError> {
        let command = format!(
            "{what} ({method} {})",
            url.strip_prefix(&self.base).unwrap_or(url)
        );
        let http = |source| WebDriverError::Http {
            command: command.clone(),
            source,
        };
        let mut response = match (method, body) {
            ("POST", body) => self
                .agent
                .post(url)
                .header("Content-Type", "application/json; charset=utf-8")
                .send(body.unwrap_or(&json!({})).to_string()),
            ("DELETE", _) => self.agent.delete(url).call(),
            _ => self.agent.get(url).call(),
        }
        .map_err(http)?;
        let status = response.status().as_u16();
        let text = response
            .body_mut()
            .with_config()
            .limit(BODY_LIMIT)
            .read_to_string()
            .map_err(http)?;
        let json: Value = match serde_json::from_str(&text) {
            Ok(v) => v,
            Err(_) => {
                return Err(WebDriverError::Protocol {
                    command,
                    status,
                    body: text,
                });
            }
        };
        let mut value = match json {
            Value::Object(mut o) if o.contains_key("value") => {
                o.remove("value").unwrap_or_default()
            }
            _ => {
                return Err(WebDriverError::Protocol {
                    command,
                    status,
                    body: text,
                });
            }
        };
        if (200..300).contains(&status) {
            return Ok(value);
        }
        match value.get("error").and_then(Value::as_str) {
            Some(error) => Err(WebDriverError::Command {
                command,
                status,
                error: error.to_string(),
                message: match value.get_mut("message").map(Value::take) {
                    Some(Value::String(m)) => m,
                    _ => String::new(),
                },
            }),
            None => Err(WebDriverError::Protocol {
                command,
                status,
                body: text,
            }),
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if let Some(session) = self.session.take() {
            // Quits Chromium cleanly; the group kill below is there if it does not.
            let url = format!("{}/session/{session}", self.base);
            let _ = self
                .agent
                .delete(&url)
                .config()
                .timeout_global(Some(Duration::from_secs(10)))
                .build()
                .call();
        }
        if let Ok(pid) = i32::try_from(self.driver.id()) {
            let _ = nix::sys::signal::killpg(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// An element of the page a [`Browser`] shows.
#[derive(Clone)]
pub struct Element<'a> {
    browser: &'a Browser,
    id: String,
}

impl fmt::Debug for Element<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Element").field("id", &self.id).finish()
    }
}

impl Element<'_> {
    /// Its rendered text.
    pub fn text(&self) -> Result<String, WebDriverError> {
        let v = self.command("text", "GET", "/text", None)?;
        string(v, "element text")
    }

    /// Its HTML attribute `name` (`None` when absent).
    pub fn attribute(&self, name: &str) -> Result<Option<String>, WebDriverError> {
        let what = format!("attribute `{name}`");
        match self.command(&what, "GET", &format!("/attribute/{name}"), None)? {
            Value::Null => Ok(None),
            Value::String(s) => Ok(Some(s)),
            other => Err(protocol(&what, &other)),
        }
    }

    /// Its DOM property `name` (`value`, `checked`, ...), as JSON (`null` when absent).
    pub fn property(&self, name: &str) -> Result<Value, WebDriverError> {
        self.command(
            &format!("property `{name}`"),
            "GET",
            &format!("/property/{name}"),
            None,
        )
    }

    /// Clicks it (scrolled into view first).
    pub fn click(&self) -> Result<(), WebDriverError> {
        self.command("click", "POST", "/click", Some(json!({})))
            .map(drop)
    }

    /// Empties an editable element.
    pub fn clear(&self) -> Result<(), WebDriverError> {
        self.command("clear", "POST", "/clear", Some(json!({})))
            .map(drop)
    }

    /// Types `text` into it.
    pub fn send_keys(&self, text: &str) -> Result<(), WebDriverError> {
        self.command("send keys", "POST", "/value", Some(json!({"text": text})))
            .map(drop)
    }

    fn command(
        &self,
        what: &str,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, WebDriverError> {
        let what = format!("element {}: {what}", self.id);
        self.browser
            .command(&what, method, &format!("/element/{}{path}", self.id), body)
    }
}

/// A CSS selector locator.
fn locator(css: &str) -> Value {
    json!({"using": "css selector", "value": css})
}

/// `v` as a string, or a protocol error of `what`.
fn string(v: Value, what: &str) -> Result<String, WebDriverError> {
    match v {
        Value::String(s) => Ok(s),
        other => Err(protocol(what, &other)),
    }
}

fn protocol(what: &str, v: &Value) -> WebDriverError {
    WebDriverError::Protocol {
        command: what.into(),
        status: 200,
        body: v.to_string(),
    }
}

/// A loopback TCP port free now (bound, then released for chromedriver).
fn free_port() -> Result<u16, WebDriverError> {
    let l = TcpListener::bind("127.0.0.1:0").map_err(io("bind 127.0.0.1"))?;
    Ok(l.local_addr().map_err(io("local address"))?.port())
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}
