//! The web admin page (`[web]`; off by default, loopback only): the status live (lines,
//! calls with their SIP ladder, registrations, counters), the call records, the
//! configuration shown and changed with apply-and-roll-back, and the SIP capture.
//!
//! What protects it, as the page can reconfigure the box:
//! - a password checked against its Argon2id hash, with delays after wrong ones and one
//!   check at a time ([`auth`]);
//! - a session cookie that scripts cannot read and other sites cannot send
//!   (`HttpOnly; SameSite=Strict`), and a CSRF token in every form that changes something;
//! - a `Host` that must be a loopback address or `localhost` (a page elsewhere that
//!   rebinds its own name to 127.0.0.1 is refused), and for changes an `Origin` (and
//!   `Sec-Fetch-Site`), when the browser sends one, that is the page's own;
//! - a Content-Security-Policy without inline script, and no caching of any answer;
//! - bounded connections: [`MAX_CLIENTS`] at once, a request head within [`HEAD_TIMEOUT`],
//!   bodies of at most [`MAX_BODY`], a connection at most [`CONNECTION_LIFETIME`].

pub mod auth;
pub mod config_edit;
mod ladder;
mod pages;

use super::control::StatusSource;
use auth::{LoginGate, Refused, Sessions};
use axum::Router;
use axum::extract::{DefaultBodyLimit, Form, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::sync::watch;

/// Connections served at once.
pub const MAX_CLIENTS: usize = 8;
/// How long a client may take to send a request head.
pub const HEAD_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest request body (a configuration is at most provisioning's 256 KiB).
pub const MAX_BODY: usize = 256 * 1024;
/// How long one connection may stay open.
pub const CONNECTION_LIFETIME: Duration = Duration::from_secs(120);
/// The most call records the records page reads (from the file's end).
const RECORDS_TAIL: u64 = 128 * 1024;

/// What outlives one run of the gateway: the logins, the delay after wrong passwords,
/// what the last change of configuration came to.
#[derive(Debug, Default)]
pub struct Admin {
    pub sessions: Sessions,
    pub gate: LoginGate,
    last_change: Mutex<Option<String>>,
}

impl Admin {
    /// Remembers what the last change of configuration came to, for the page.
    pub fn note_change(&self, what: String) {
        *self.last_change.lock().unwrap_or_else(|p| p.into_inner()) = Some(what);
    }

    fn last_change(&self) -> Option<String> {
        self.last_change
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

/// What `tipring run` gives the page so that it can change the configuration.
#[derive(Debug, Clone)]
pub struct Editing {
    pub admin: Arc<Admin>,
    /// The running configuration's text.
    pub text: String,
    /// Where it came from, for the page.
    pub from: String,
    /// Where board profiles are.
    pub board_dir: PathBuf,
    /// Turning it true runs the gateway again (with the saved file) once lines are idle.
    pub reload: watch::Sender<bool>,
}

/// Everything the page's handlers read.
#[derive(Debug)]
pub struct Site {
    status: StatusSource,
    admin: Arc<Admin>,
    password_hash: String,
    idle: Duration,
    records: Option<PathBuf>,
    sip_local: SocketAddr,
    /// The provisioning URL when a server manages the configuration.
    provisioned: Option<String>,
    saved_file: Option<PathBuf>,
    editing: Option<Editing>,
}

impl Site {
    /// The page for `loaded`'s `[web]`, or `None` when it has no password hash. Without
    /// `editing` the configuration is shown but not changed.
    pub fn new(
        loaded: &crate::config::Loaded,
        status: StatusSource,
        sip_local: SocketAddr,
        editing: Option<Editing>,
    ) -> Option<Site> {
        let c = &loaded.config;
        Some(Site {
            status,
            admin: editing
                .as_ref()
                .map_or_else(Default::default, |e| e.admin.clone()),
            password_hash: c.web.password_hash.clone()?,
            idle: Duration::from_secs(u64::from(c.web.idle_minutes) * 60),
            records: c.records.file_path_from_env(),
            sip_local,
            provisioned: c.provisioning.url.clone(),
            saved_file: c.web.file_path_from_env(),
            editing,
        })
    }
}

/// Serves `listener` until the task is dropped.
pub async fn serve(listener: TcpListener, site: Site) {
    let router = router(Arc::new(site));
    super::serve_bounded(MAX_CLIENTS, &listener, |stream| {
        let svc = hyper_util::service::TowerToHyperService::new(router.clone());
        async move {
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(HEAD_TIMEOUT)
                .max_buf_size(64 * 1024)
                .serve_connection(hyper_util::rt::TokioIo::new(stream), svc);
            let _ = tokio::time::timeout(CONNECTION_LIFETIME, conn).await;
        }
    })
    .await;
}

fn router(site: Arc<Site>) -> Router {
    Router::new()
        .route("/", get(status_page))
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
        .route("/api/status", get(api_status))
        .route("/api/ladder", get(api_ladder))
        .route("/records", get(records_page))
        .route("/config", get(config_page).post(config_save))
        .route("/capture.pcap", get(capture))
        .route("/app.js", get(app_js))
        .route("/style.css", get(style_css))
        .layer(middleware::from_fn(guard))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(site)
}

/// Whether `host` (a `Host` or an `Origin`'s authority) names this machine's loopback.
fn loopback_host(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => host.rsplit_once(':').map_or(host, |(h, _)| h),
    };
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Refuses requests for another name (DNS rebinding) and changes from another site, and
/// gives every answer the page's security headers.
async fn guard(req: Request, next: Next) -> Response {
    let h = req.headers();
    let text = |name: &str| h.get(name).and_then(|v| v.to_str().ok());
    if !text("host").is_some_and(loopback_host) {
        return (
            StatusCode::MISDIRECTED_REQUEST,
            "this page answers only to a loopback address or localhost\n",
        )
            .into_response();
    }
    if req.method() != Method::GET && req.method() != Method::HEAD {
        let cross_origin = text("origin").is_some_and(|o| {
            o == "null"
                || !o
                    .strip_prefix("http://")
                    .or_else(|| o.strip_prefix("https://"))
                    .is_some_and(loopback_host)
        });
        let cross_site = text("sec-fetch-site").is_some_and(|s| s != "same-origin" && s != "none");
        if cross_origin || cross_site {
            return (StatusCode::FORBIDDEN, "cross-site request refused\n").into_response();
        }
    }
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    for (name, value) in [
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
             connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "same-origin"),
        (header::CACHE_CONTROL, "no-store"),
    ] {
        h.insert(name, HeaderValue::from_static(value));
    }
    res
}

/// The session the request's cookie names: its id and CSRF token.
fn session(site: &Site, headers: &HeaderMap) -> Option<(String, String)> {
    let id = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| c.trim().strip_prefix(auth::COOKIE)?.strip_prefix('='))?
        .to_owned();
    let csrf = site.admin.sessions.check(&id, Instant::now(), site.idle)?;
    Some((id, csrf))
}

fn to_login() -> Response {
    Redirect::to("/login").into_response()
}

async fn status_page(State(site): State<Arc<Site>>, headers: HeaderMap) -> Response {
    match session(&site, &headers) {
        Some((_, csrf)) => Html(pages::status(&csrf)).into_response(),
        None => to_login(),
    }
}

async fn login_page() -> Html<String> {
    Html(pages::login(None))
}

#[derive(Deserialize)]
struct LoginForm {
    password: String,
}

async fn login(State(site): State<Arc<Site>>, Form(f): Form<LoginForm>) -> Response {
    let refused = |why: String| {
        (
            StatusCode::TOO_MANY_REQUESTS,
            Html(pages::login(Some(&why))),
        )
    };
    match site.admin.gate.begin(Instant::now()) {
        Err(Refused::Locked(d)) => {
            return refused(format!(
                "Too many wrong passwords: try again in {} s.",
                d.as_secs().max(1)
            ))
            .into_response();
        }
        Err(Refused::Busy) => {
            return refused("Another login is being checked: try again.".into()).into_response();
        }
        Ok(()) => {}
    }
    let hash = site.password_hash.clone();
    let right = tokio::task::spawn_blocking(move || auth::verify(&hash, &f.password))
        .await
        .unwrap_or(false);
    site.admin.gate.finish(Instant::now(), right);
    if !right {
        tracing::warn!("web: a login with a wrong password");
        return (
            StatusCode::UNAUTHORIZED,
            Html(pages::login(Some("Wrong password."))),
        )
            .into_response();
    }
    let Some((id, _)) = site.admin.sessions.open(Instant::now()) else {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "no randomness for a session\n",
        )
            .into_response();
    };
    tracing::info!("web: logged in");
    let cookie = format!("{}={id}; Path=/; HttpOnly; SameSite=Strict", auth::COOKIE);
    ([(header::SET_COOKIE, cookie)], Redirect::to("/")).into_response()
}

#[derive(Deserialize)]
struct CsrfForm {
    csrf: String,
}

async fn logout(
    State(site): State<Arc<Site>>,
    headers: HeaderMap,
    Form(f): Form<CsrfForm>,
) -> Response {
    if let Some((id, csrf)) = session(&site, &headers)
        && auth::same(&csrf, &f.csrf)
    {
        site.admin.sessions.close(&id);
    }
    let clear = format!(
        "{}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0",
        auth::COOKIE
    );
    ([(header::SET_COOKIE, clear)], to_login()).into_response()
}

/// The gateway's answer as JSON, or 503 when it did not answer in time.
fn json<T: serde::Serialize>(answer: Option<T>) -> Response {
    match answer {
        Some(a) => axum::Json(a).into_response(),
        None => StatusCode::SERVICE_UNAVAILABLE.into_response(),
    }
}

async fn api_status(State(site): State<Arc<Site>>, headers: HeaderMap) -> Response {
    if session(&site, &headers).is_none() {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    json(site.status.status().await)
}

#[derive(Deserialize)]
struct LadderQuery {
    call_id: String,
}

async fn api_ladder(
    State(site): State<Arc<Site>>,
    headers: HeaderMap,
    Query(q): Query<LadderQuery>,
) -> Response {
    if session(&site, &headers).is_none() {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let rungs = site
        .status
        .messages(super::control::MAX_CAPTURE)
        .await
        .map(|m| ladder::ladder(&m, &q.call_id, site.sip_local));
    json(rungs)
}

async fn records_page(State(site): State<Arc<Site>>, headers: HeaderMap) -> Response {
    let Some((_, csrf)) = session(&site, &headers) else {
        return to_login();
    };
    let records = match &site.records {
        Some(f) => read_records(f).await,
        None => Vec::new(),
    };
    let file = site.records.as_ref().map(|f| f.display().to_string());
    Html(pages::records(&csrf, file.as_deref(), &records)).into_response()
}

/// The last records of `file` (what fits in its last [`RECORDS_TAIL`] bytes), newest
/// first; lines that are not JSON are passed over.
async fn read_records(file: &std::path::Path) -> Vec<serde_json::Value> {
    let file = file.to_owned();
    tokio::task::spawn_blocking(move || tail_records(&file).unwrap_or_default())
        .await
        .unwrap_or_default()
}

fn tail_records(file: &std::path::Path) -> std::io::Result<Vec<serde_json::Value>> {
    use std::io::{Read, Seek};
    let mut f = std::fs::File::open(file)?;
    let from = f.metadata()?.len().saturating_sub(RECORDS_TAIL);
    f.seek(std::io::SeekFrom::Start(from))?;
    let mut bytes = Vec::new();
    f.take(RECORDS_TAIL).read_to_end(&mut bytes)?;
    let text = String::from_utf8_lossy(&bytes);
    let mut lines: Vec<&str> = text.lines().collect();
    if from > 0 && !lines.is_empty() {
        lines.remove(0);
    }
    Ok(lines
        .iter()
        .rev()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect())
}

impl Site {
    /// The configuration page for `text`, before anything is submitted.
    fn config_view<'a>(&self, text: &'a str) -> pages::ConfigView<'a> {
        pages::ConfigView {
            running: self
                .editing
                .as_ref()
                .map(|e| format!("Running: {}.", e.from)),
            last_change: self.admin.last_change(),
            text,
            read_only: self.read_only(),
            ..Default::default()
        }
    }

    /// Why the configuration cannot be changed here, when it cannot.
    fn read_only(&self) -> Option<String> {
        if let Some(url) = &self.provisioned {
            return Some(format!(
                "This box is provisioned from {url}: change its configuration there."
            ));
        }
        if self.editing.is_none() {
            return Some("This gateway was not started by `tipring run`.".into());
        }
        if self.saved_file.is_none() {
            return Some(
                "No place to keep a saved configuration: set [web] file, or run under \
                 systemd (StateDirectory)."
                    .into(),
            );
        }
        None
    }
}

async fn config_page(State(site): State<Arc<Site>>, headers: HeaderMap) -> Response {
    let Some((_, csrf)) = session(&site, &headers) else {
        return to_login();
    };
    let text = site
        .editing
        .as_ref()
        .map(|e| config_edit::mask(&e.text))
        .unwrap_or_default();
    Html(pages::config(&csrf, &site.config_view(&text))).into_response()
}

#[derive(Deserialize)]
struct ConfigForm {
    csrf: String,
    text: String,
}

async fn config_save(
    State(site): State<Arc<Site>>,
    headers: HeaderMap,
    Form(f): Form<ConfigForm>,
) -> Response {
    let Some((_, csrf)) = session(&site, &headers) else {
        return to_login();
    };
    if !auth::same(&csrf, &f.csrf) {
        return (
            StatusCode::FORBIDDEN,
            "the form's CSRF token is not this session's\n",
        )
            .into_response();
    }
    let mut view = site.config_view(&f.text);
    let (Some(editing), Some(saved), None) = (&site.editing, &site.saved_file, &view.read_only)
    else {
        return (StatusCode::CONFLICT, Html(pages::config(&csrf, &view))).into_response();
    };
    let text = match config_edit::unmask(&f.text, &editing.text) {
        Ok(t) => t,
        Err(e) => {
            view.errors.push(crate::config::Diagnostic {
                file: String::new(),
                line: Some(e.line),
                field: e.key.clone(),
                message: e.to_string(),
            });
            return (
                StatusCode::UNPROCESSABLE_ENTITY,
                Html(pages::config(&csrf, &view)),
            )
                .into_response();
        }
    };
    if text == editing.text {
        view.result = Some("Unchanged: nothing to apply.".into());
        return Html(pages::config(&csrf, &view)).into_response();
    }
    let name = saved.display().to_string();
    let board_dir = editing.board_dir.clone();
    let checked = {
        let text = text.clone();
        tokio::task::spawn_blocking(move || crate::config::load_str(&name, &text, &board_dir)).await
    };
    match checked {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => {
            view.errors = e.diagnostics;
            return (
                StatusCode::UNPROCESSABLE_ENTITY,
                Html(pages::config(&csrf, &view)),
            )
                .into_response();
        }
        Err(_) => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
    if let Err(e) = config_edit::save(saved, &text) {
        view.result = Some(format!("Not saved: {}: {e}", saved.display()));
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            Html(pages::config(&csrf, &view)),
        )
            .into_response();
    }
    let what = format!(
        "Saved at {} to {}; applied once every line is idle.",
        config_edit::now(),
        saved.display()
    );
    tracing::info!("web: configuration saved to {}", saved.display());
    site.admin.note_change(what.clone());
    let _ = editing.reload.send(true);
    view.result = Some(what);
    Html(pages::config(&csrf, &view)).into_response()
}

#[derive(Deserialize)]
struct CaptureQuery {
    last: Option<u64>,
}

async fn capture(
    State(site): State<Arc<Site>>,
    headers: HeaderMap,
    Query(q): Query<CaptureQuery>,
) -> Response {
    if session(&site, &headers).is_none() {
        return to_login();
    }
    let span = Duration::from_secs(q.last.unwrap_or(300)).min(super::control::MAX_CAPTURE);
    match site.status.capture(span).await {
        Some(pcap) => (
            [
                (header::CONTENT_TYPE, "application/vnd.tcpdump.pcap"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"tipring-sip.pcap\"",
                ),
            ],
            pcap,
        )
            .into_response(),
        None => StatusCode::SERVICE_UNAVAILABLE.into_response(),
    }
}

async fn app_js() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("app.js"),
    )
        .into_response()
}

async fn style_css() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("style.css"),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_names_are_hosts() {
        for ok in [
            "127.0.0.1:8080",
            "localhost:1",
            "LOCALHOST",
            "[::1]:80",
            "127.9.9.9",
        ] {
            assert!(loopback_host(ok), "{ok}");
        }
        for bad in [
            "evil.example:8080",
            "10.0.0.1:80",
            "[2001:db8::1]:80",
            "",
            "localhost.evil",
        ] {
            assert!(!loopback_host(bad), "{bad}");
        }
    }
}
