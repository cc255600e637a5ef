//! What `tipring run` opens for its operator besides the lines and SIP: the control
//! socket, the metrics listener, the admin page and the call records' sinks
//! (docs/CONFIG.md `[control]`, `[metrics]`, `[web]`, `[records]`). None of them is needed for calls: one that cannot be opened
//! is logged and left out.

use super::Log;
use super::runtime::RecordSinks;
use crate::config::Loaded;
use crate::ops::control::{ControlSocket, StatusSource};
use crate::ops::journal::{JOURNAL_SOCKET, Journal};
use crate::ops::record::Recorder;
use crate::ops::records_file::RecordsFile;
use crate::service::log::Sink;
use std::path::Path;

/// The operator's listeners; they stop (and the socket file goes) when this is dropped,
/// or with [`Operator::stop`], which also waits until their sockets are closed.
pub struct Operator {
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Operator {
    /// Stops the listeners and waits until they are gone (their addresses free again).
    pub async fn stop(mut self) {
        for t in std::mem::take(&mut self.tasks) {
            t.abort();
            let _ = t.await;
        }
    }
}

impl Drop for Operator {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// Opens the control socket, the metrics listener and the admin page the configuration
/// asks for; `sip_local` is the SIP side's address (the page's ladders tell direction by
/// it), `web` what the page may change.
pub fn start(
    loaded: &Loaded,
    log: &Log,
    status: &StatusSource,
    sip_local: std::net::SocketAddr,
    web: Option<crate::ops::web::Editing>,
) -> Operator {
    let c = &loaded.config;
    let mut tasks = Vec::new();
    if let Some(path) = c.control.socket_path_from_env() {
        match ControlSocket::bind(&path) {
            Ok(sock) => {
                log.line(format_args!(
                    "status on {} (tipring status)",
                    path.display()
                ));
                tasks.push(tokio::spawn(sock.serve(status.clone())));
            }
            Err(e) => log.line(format_args!("control socket not opened: {e}")),
        }
    }
    if let Some(addr) = c.metrics.listen {
        match tcp_listener(addr) {
            Ok(l) => {
                log.line(format_args!("metrics on http://{addr}/metrics"));
                tasks.push(tokio::spawn(crate::ops::metrics::serve(l, status.clone())));
            }
            Err(e) => log.line(format_args!("metrics listener {addr} not opened: {e}")),
        }
    }
    if let Some(addr) = c.web.listen
        && let Some(site) = crate::ops::web::Site::new(loaded, status.clone(), sip_local, web)
    {
        match tcp_listener(addr) {
            Ok(l) => {
                log.line(format_args!("admin page on http://{addr}/"));
                tasks.push(tokio::spawn(crate::ops::web::serve(l, site)));
            }
            Err(e) => log.line(format_args!("admin page {addr} not opened: {e}")),
        }
    }
    Operator { tasks }
}

/// A listening TCP socket for the runtime.
fn tcp_listener(addr: std::net::SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    let l = std::net::TcpListener::bind(addr)?;
    l.set_nonblocking(true)?;
    tokio::net::TcpListener::from_std(l)
}

/// The recorder for this configuration: the MOS assumes one packet time and the jitter
/// buffer's minimum depth before the network's delay.
pub fn recorder(loaded: &Loaded) -> Recorder {
    let m = &loaded.config.media;
    Recorder::new(f64::from(m.ptime_ms + m.jitter_min_ms))
}

/// Where call records go: the configured (or the service's default) file, and the journal
/// when the log goes there.
pub fn record_sinks(loaded: &Loaded, log: &Log) -> RecordSinks {
    let r = &loaded.config.records;
    let file = r.file_path_from_env().map(|p| {
        log.line(format_args!("call records to {}", p.display()));
        RecordsFile::new(&p, r.max_bytes, r.keep)
    });
    let journal = (r.journal && Sink::detect() == Sink::Journal)
        .then(|| Journal::new(Path::new(JOURNAL_SOCKET)).ok())
        .flatten();
    RecordSinks { file, journal }
}
