//! Auto-provisioning: the box fetches its configuration from an HTTPS server
//! (`[provisioning] url`), at start and every `interval_s`, checks it exactly as
//! `tipring check-config` does, keeps the last accepted one in the state directory, and
//! asks the gateway to apply it between calls (docs/CONFIG.md `[provisioning]`).
//!
//! The server is verified against the configured CA only (no public root is trusted: a
//! configuration holds the accounts' passwords); the box may prove itself with a client
//! certificate. An answer is at most [`MAX_BODY`] bytes, fetched within [`FETCH_TIMEOUT`].
//! Nothing the server sends is applied unless it loads in full; a configuration that does
//! not load leaves the running one as it is, and the status says why.

use crate::config::{self, Loaded, Provisioning};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};
use ureq::tls::{Certificate, ClientCert, PrivateKey, RootCerts, TlsConfig};

/// The largest configuration accepted.
pub const MAX_BODY: u64 = 256 * 1024;
/// How long one fetch may take, connection and TLS handshake included.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(15);
/// After a failed fetch, the next try comes this soon (or at the interval, if sooner).
pub const RETRY: Duration = Duration::from_secs(60);

/// Why provisioning could not be set up or a fetch failed.
#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    #[error("{path}: {why}")]
    File { path: PathBuf, why: String },
    #[error("no url")]
    NoUrl,
    #[error("fetch: {0}")]
    Fetch(String),
    #[error("the server answered {0}")]
    Status(u16),
}

/// What the status shows of provisioning.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProvisionStatus {
    pub url: String,
    /// `base` (the file given to `tipring run`) or `provisioned`.
    pub running: String,
    /// RFC 3339 time of the last fetch.
    pub last_fetch: Option<String>,
    /// `unchanged`, `accepted: applied between calls`, `rejected: <first error>`,
    /// `failed: <why>`.
    pub last_result: Option<String>,
    /// RFC 3339 time the running configuration was accepted.
    pub accepted: Option<String>,
}

/// The status, shared between the provisioning task and the status answer.
pub type Shared = Arc<Mutex<ProvisionStatus>>;

/// A configured fetcher.
pub struct Fetcher {
    url: String,
    agent: ureq::Agent,
}

impl Fetcher {
    /// The fetcher of `p` (its CA and client certificate read now).
    pub fn new(p: &Provisioning) -> Result<Fetcher, ProvisionError> {
        let url = p.url.clone().ok_or(ProvisionError::NoUrl)?;
        let ca = p.ca.as_deref().ok_or(ProvisionError::NoUrl)?;
        let roots = certificates(ca)?;
        let client = match (&p.client_cert, &p.client_key) {
            (Some(c), Some(k)) => {
                let chain = certificates(c)?;
                let key = PrivateKey::from_pem(&read(k)?)
                    .map_err(|e| file_error(k, &format!("no usable private key: {e}")))?;
                Some(ClientCert::new_with_certs(&chain, key))
            }
            _ => None,
        };
        let tls = TlsConfig::builder()
            .root_certs(RootCerts::new_with_certs(&roots))
            .client_cert(client)
            .build();
        let agent = ureq::Agent::config_builder()
            .tls_config(tls)
            .https_only(true)
            .max_redirects(3)
            .timeout_global(Some(FETCH_TIMEOUT))
            .user_agent(concat!("tipring/", env!("CARGO_PKG_VERSION")))
            .build()
            .new_agent();
        Ok(Fetcher { url, agent })
    }

    /// The configuration the server has for us now (blocking).
    pub fn fetch(&self) -> Result<String, ProvisionError> {
        let mut response = self
            .agent
            .get(&self.url)
            .config()
            .http_status_as_error(false)
            .build()
            .call()
            .map_err(|e| ProvisionError::Fetch(e.to_string()))?;
        let status = response.status().as_u16();
        if status != 200 {
            return Err(ProvisionError::Status(status));
        }
        response
            .body_mut()
            .with_config()
            .limit(MAX_BODY)
            .read_to_string()
            .map_err(|e| ProvisionError::Fetch(e.to_string()))
    }
}

/// The certificates of a PEM file (at least one).
fn certificates(path: &Path) -> Result<Vec<Certificate<'static>>, ProvisionError> {
    let certs: Vec<Certificate<'static>> = ureq::tls::parse_pem(&read(path)?)
        .filter_map(|item| match item {
            Ok(ureq::tls::PemItem::Certificate(c)) => Some(c),
            _ => None,
        })
        .collect();
    if certs.is_empty() {
        return Err(file_error(path, "no certificate in it"));
    }
    Ok(certs)
}

fn read(path: &Path) -> Result<Vec<u8>, ProvisionError> {
    std::fs::read(path).map_err(|e| file_error(path, &e.to_string()))
}

fn file_error(path: &Path, why: &str) -> ProvisionError {
    ProvisionError::File {
        path: path.to_owned(),
        why: why.to_owned(),
    }
}

/// What became of one fetched configuration.
#[derive(Debug)]
pub enum Verdict {
    /// The same text as the running configuration.
    Unchanged,
    /// It loads in full: apply it.
    Accepted(Box<Loaded>),
    /// It does not load: the first error, `file:line: field: message`.
    Rejected(String),
}

/// Checks `text` as `check-config` would (its board from `board_dir`); `running` is the
/// running configuration's text. A configuration without `[provisioning]` keeps
/// `base`'s, so that provisioning cannot switch itself off by omission.
pub fn judge(text: &str, running: &str, board_dir: &Path, base: &Provisioning) -> Verdict {
    if text == running {
        return Verdict::Unchanged;
    }
    match config::load_str("provisioned", text, board_dir) {
        Ok(mut l) => {
            if l.config.provisioning.url.is_none() {
                l.config.provisioning = base.clone();
            }
            Verdict::Accepted(Box::new(l))
        }
        Err(e) => Verdict::Rejected(
            e.diagnostics
                .first()
                .map(ToString::to_string)
                .unwrap_or_else(|| e.to_string()),
        ),
    }
}

/// Writes `text` to `path` (mode 0640) through a temporary file and a rename, so that a
/// crash never leaves half a configuration.
pub fn keep(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = path.with_extension("toml.new");
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(true)
        .mode(0o640)
        .open(&tmp)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}

/// The configuration to start with: the kept provisioned file when `base` provisions and
/// the file loads, else `base`. Returns it with its text and one line saying which.
pub fn startup(base: Loaded, base_text: String, board_dir: &Path) -> (Loaded, String, String) {
    let Some(path) = base.config.provisioning.file_path_from_env() else {
        return (base, base_text, "no provisioning".into());
    };
    let Ok(text) = std::fs::read_to_string(&path) else {
        return (
            base,
            base_text,
            format!("no provisioned configuration in {} yet", path.display()),
        );
    };
    match judge(&text, &base_text, board_dir, &base.config.provisioning) {
        Verdict::Accepted(l) => (
            *l,
            text,
            format!(
                "running the provisioned configuration of {}",
                path.display()
            ),
        ),
        Verdict::Unchanged => (
            base,
            base_text,
            "the provisioned configuration is the base".into(),
        ),
        Verdict::Rejected(why) => (
            base,
            base_text,
            format!("{} not used: {why}", path.display()),
        ),
    }
}

/// Fetches and judges until a new configuration is accepted (kept in `file`, then
/// `reload` is raised) or the task is dropped; each outcome goes to `shared` and the log.
pub async fn run(
    fetcher: Fetcher,
    file: PathBuf,
    running: String,
    board_dir: PathBuf,
    interval: Duration,
    shared: Shared,
    reload: tokio::sync::watch::Sender<bool>,
) {
    let fetcher = Arc::new(fetcher);
    let base = config::Provisioning::default();
    loop {
        let f = fetcher.clone();
        let got = tokio::task::spawn_blocking(move || f.fetch())
            .await
            .unwrap_or_else(|e| Err(ProvisionError::Fetch(e.to_string())));
        let now = super::timestamp::rfc3339(SystemTime::now());
        let (result, wait) = match got {
            Err(e) => (format!("failed: {e}"), interval.min(RETRY)),
            Ok(text) => match judge(&text, &running, &board_dir, &base) {
                Verdict::Unchanged => ("unchanged".to_owned(), interval),
                Verdict::Rejected(why) => (format!("rejected: {why}"), interval),
                Verdict::Accepted(_) => match keep(&file, &text) {
                    Ok(()) => {
                        report(&shared, &now, "accepted: applied between calls");
                        let _ = reload.send(true);
                        return;
                    }
                    Err(e) => (
                        format!("failed: {}: {e}", file.display()),
                        interval.min(RETRY),
                    ),
                },
            },
        };
        report(&shared, &now, &result);
        tokio::time::sleep(wait).await;
    }
}

fn report(shared: &Shared, now: &str, result: &str) {
    tracing::info!("provisioning: {result}");
    if let Ok(mut s) = shared.lock() {
        s.last_fetch = Some(now.to_owned());
        s.last_result = Some(result.to_owned());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "board = \"sim\"\n[[ports]]\nindex = 0\nkind = \"fxs\"\n\
                        hotline = \"sip:1@192.0.2.1\"\n";

    fn board() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("board")
    }

    fn base() -> Provisioning {
        Provisioning {
            url: Some("https://prov.example/gw.toml".into()),
            ca: Some("/etc/tipring/ca.pem".into()),
            ..Provisioning::default()
        }
    }

    #[test]
    fn the_same_text_is_unchanged_and_a_bad_one_rejected_with_its_line() {
        assert!(matches!(
            judge(GOOD, GOOD, &board(), &base()),
            Verdict::Unchanged
        ));
        let bad = GOOD.replace("fxs", "fxx");
        match judge(&bad, GOOD, &board(), &base()) {
            Verdict::Rejected(why) => {
                assert!(why.starts_with("provisioned:4: ports[0].kind"), "{why}")
            }
            v => panic!("{v:?}"),
        }
        match judge("not toml [", GOOD, &board(), &base()) {
            Verdict::Rejected(why) => assert!(why.starts_with("provisioned:"), "{why}"),
            v => panic!("{v:?}"),
        }
    }

    #[test]
    fn an_accepted_configuration_keeps_the_base_provisioning_unless_it_has_its_own() {
        let other = format!("{GOOD}\n[timers]\nring_timeout_ms = 30000\n");
        let Verdict::Accepted(l) = judge(&other, GOOD, &board(), &base()) else {
            panic!("not accepted");
        };
        assert_eq!(l.config.provisioning, base());
        let own = format!(
            "{GOOD}\n[provisioning]\nurl = \"https://elsewhere.example/x\"\nca = \"/etc/b.pem\"\n"
        );
        let Verdict::Accepted(l) = judge(&own, GOOD, &board(), &base()) else {
            panic!("not accepted");
        };
        assert_eq!(
            l.config.provisioning.url.as_deref(),
            Some("https://elsewhere.example/x")
        );
    }

    #[test]
    fn kept_files_are_whole_and_not_for_everyone() {
        use std::os::unix::fs::PermissionsExt;
        let dir = crate::ops::scratch_dir("provision");
        let f = dir.join("provisioned.toml");
        keep(&f, "one").unwrap();
        keep(&f, "two").unwrap();
        assert_eq!(std::fs::read_to_string(&f).unwrap(), "two");
        assert!(!dir.join("provisioned.toml.new").exists());
        let mode = std::fs::metadata(&f).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode & 0o007, 0, "{mode:o}");
    }

    #[test]
    fn a_missing_or_empty_ca_is_an_error_naming_the_file() {
        let dir = crate::ops::scratch_dir("provision-ca");
        let mut p = base();
        p.ca = Some(dir.join("none.pem"));
        let e = Fetcher::new(&p).err().unwrap().to_string();
        assert!(e.contains("none.pem"), "{e}");
        std::fs::write(dir.join("empty.pem"), "nothing here\n").unwrap();
        p.ca = Some(dir.join("empty.pem"));
        let e = Fetcher::new(&p).err().unwrap().to_string();
        assert!(e.contains("empty.pem: no certificate in it"), "{e}");
    }
}
