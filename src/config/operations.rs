//! The operator's view of a running gateway: the `[control]` socket (`tipring status`),
//! the `[records]` of calls, the `[metrics]` endpoint, the `[capture]` ring, `[provisioning]`
//! and the `[web]` admin page (docs/CONFIG.md).

use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Under systemd, the directory `RuntimeDirectory=` made (systemd.exec(5)).
const RUNTIME_DIRECTORY: &str = "RUNTIME_DIRECTORY";
/// Under systemd, the directory `StateDirectory=` made.
const STATE_DIRECTORY: &str = "STATE_DIRECTORY";

/// `[control]`: the Unix socket `tipring status` asks.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Control {
    /// The socket's path. Unset: `control.sock` in the service's runtime directory when
    /// systemd gives one (`/run/tipring`), else no socket.
    pub socket: Option<PathBuf>,
    /// `false`: no socket at all.
    pub enabled: Option<bool>,
}

impl Control {
    /// Where the socket goes, if anywhere (`runtime_dir`: `$RUNTIME_DIRECTORY`).
    pub fn socket_path(&self, runtime_dir: Option<&Path>) -> Option<PathBuf> {
        if self.enabled == Some(false) {
            return None;
        }
        self.socket
            .clone()
            .or_else(|| runtime_dir.map(|d| d.join("control.sock")))
    }

    /// [`Control::socket_path`] with the process's environment.
    pub fn socket_path_from_env(&self) -> Option<PathBuf> {
        self.socket_path(first_dir(RUNTIME_DIRECTORY).as_deref())
    }
}

/// `[records]`: one JSON line per call.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Records {
    /// The records file. Unset: `calls.jsonl` in the service's state directory when
    /// systemd gives one (`/var/lib/tipring`), else no file.
    pub file: Option<PathBuf>,
    /// `false`: no file (the journal entries stay as `journal` says).
    pub enabled: bool,
    /// The file is rotated (`calls.jsonl.1`, `.2`...) before it grows beyond this.
    pub max_bytes: u64,
    /// Rotated files kept.
    pub keep: u32,
    /// One structured journal entry per call (when journald runs).
    pub journal: bool,
}

impl Default for Records {
    fn default() -> Self {
        Records {
            file: None,
            enabled: true,
            max_bytes: 1024 * 1024,
            keep: 3,
            journal: true,
        }
    }
}

impl Records {
    /// Where the records go, if to a file (`state_dir`: `$STATE_DIRECTORY`).
    pub fn file_path(&self, state_dir: Option<&Path>) -> Option<PathBuf> {
        if !self.enabled {
            return None;
        }
        self.file
            .clone()
            .or_else(|| state_dir.map(|d| d.join("calls.jsonl")))
    }

    /// [`Records::file_path`] with the process's environment.
    pub fn file_path_from_env(&self) -> Option<PathBuf> {
        self.file_path(first_dir(STATE_DIRECTORY).as_deref())
    }
}

/// `[metrics]`: an OpenMetrics text endpoint, off unless `listen` is set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Metrics {
    /// A loopback address and port (`127.0.0.1:9464`): a scraper on the box, or a tunnel
    /// to it, reads `GET /metrics`.
    pub listen: Option<SocketAddr>,
}

/// `[capture]`: the ring of recent SIP messages `tipring capture` writes out.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Capture {
    /// Bytes of messages held (0: none).
    pub sip_bytes: u32,
    /// Bytes of the calls' RTP and RTCP headers held (0: none, the default).
    pub rtp_bytes: u32,
}

impl Default for Capture {
    fn default() -> Self {
        Capture {
            sip_bytes: 1024 * 1024,
            rtp_bytes: 0,
        }
    }
}

/// `[provisioning]`: the configuration fetched from an HTTPS server, at start and on a
/// timer (docs/CONFIG.md).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Provisioning {
    /// `https://…` URL of this box's configuration; unset: no provisioning.
    pub url: Option<String>,
    /// PEM file of the CA (or CAs) the server's certificate must chain to; no other root is
    /// trusted.
    pub ca: Option<PathBuf>,
    /// PEM certificate chain and key the box proves itself with, when the server asks.
    pub client_cert: Option<PathBuf>,
    pub client_key: Option<PathBuf>,
    /// Seconds between fetches.
    pub interval_s: u32,
    /// Where the last accepted configuration is kept. Unset: `provisioned.toml` in the
    /// service's state directory (`/var/lib/tipring`), else no provisioning.
    pub file: Option<PathBuf>,
}

impl Default for Provisioning {
    fn default() -> Self {
        Provisioning {
            url: None,
            ca: None,
            client_cert: None,
            client_key: None,
            interval_s: 3600,
            file: None,
        }
    }
}

impl Provisioning {
    /// Where the last accepted configuration is kept (`state_dir`: `$STATE_DIRECTORY`).
    pub fn file_path(&self, state_dir: Option<&Path>) -> Option<PathBuf> {
        self.url.as_ref()?;
        self.file
            .clone()
            .or_else(|| state_dir.map(|d| d.join("provisioned.toml")))
    }

    /// [`Provisioning::file_path`] with the process's environment.
    pub fn file_path_from_env(&self) -> Option<PathBuf> {
        self.file_path(first_dir(STATE_DIRECTORY).as_deref())
    }
}

/// `[web]`: the admin page, off unless `listen` is set.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Web {
    /// A loopback address and port (`127.0.0.1:8080`): a browser on the box, or through a
    /// tunnel to it, opens `http://ADDRESS/`.
    pub listen: Option<SocketAddr>,
    /// The admin password's Argon2id hash as a PHC string (`tipring web-password` prints
    /// one); required with `listen`.
    pub password_hash: Option<String>,
    /// Minutes a login lasts without a request.
    pub idle_minutes: u32,
    /// Where a configuration saved on the page is kept. Unset: `web.toml` in the service's
    /// state directory (`/var/lib/tipring`), else the page cannot save.
    pub file: Option<PathBuf>,
}

impl Default for Web {
    fn default() -> Self {
        Web {
            listen: None,
            password_hash: None,
            idle_minutes: 15,
            file: None,
        }
    }
}

impl Web {
    /// Where a saved configuration goes (`state_dir`: `$STATE_DIRECTORY`).
    pub fn file_path(&self, state_dir: Option<&Path>) -> Option<PathBuf> {
        self.file
            .clone()
            .or_else(|| state_dir.map(|d| d.join("web.toml")))
    }

    /// [`Web::file_path`] with the process's environment.
    pub fn file_path_from_env(&self) -> Option<PathBuf> {
        self.file_path(first_dir(STATE_DIRECTORY).as_deref())
    }
}

/// The first directory of a systemd directory variable (a `:`-separated list).
fn first_dir(var: &str) -> Option<PathBuf> {
    let v = std::env::var_os(var)?;
    let first = v.to_str()?.split(':').next()?.to_owned();
    (!first.is_empty()).then(|| PathBuf::from(first))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_socket_and_records_default_to_the_service_directories() {
        let c = Control::default();
        assert_eq!(c.socket_path(None), None);
        assert_eq!(
            c.socket_path(Some(Path::new("/run/tipring"))),
            Some(PathBuf::from("/run/tipring/control.sock"))
        );
        let off = Control {
            enabled: Some(false),
            socket: Some("/tmp/x".into()),
        };
        assert_eq!(off.socket_path(Some(Path::new("/run/tipring"))), None);
        let r = Records::default();
        assert_eq!(
            r.file_path(Some(Path::new("/var/lib/tipring"))),
            Some(PathBuf::from("/var/lib/tipring/calls.jsonl"))
        );
        let r = Records {
            enabled: false,
            ..Records::default()
        };
        assert_eq!(r.file_path(Some(Path::new("/var/lib/tipring"))), None);
    }
}
