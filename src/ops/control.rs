//! The control socket: a Unix stream socket (mode 0660, the service's group) on which the
//! running gateway answers `tipring status`.
//!
//! A client sends one request line and reads the answer until the gateway closes:
//! `status` → the [`Status`] as one JSON line; `capture SECONDS` → the SIP messages of
//! the last SECONDS as a pcap file ([`super::capture`]); anything else → `{"error": ...}`.
//! The socket only reads state: nothing asked on it places a call, rings a line or shows a
//! secret. A client that sends nothing within [`REQUEST_TIMEOUT`] or more than
//! [`MAX_REQUEST`] bytes is dropped, and at most [`MAX_CLIENTS`] are served at once.

use super::capture::Captured;
use super::status::{LineStatus, SipStatus, Status};
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{mpsc, oneshot};

/// The longest request line.
pub const MAX_REQUEST: usize = 256;
/// How long a client may take to send its request.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(2);
/// Clients served at once.
pub const MAX_CLIENTS: usize = 4;
/// How long the gateway's two sides may take to describe themselves.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(2);
/// The largest answer a client reads.
const MAX_ANSWER: u64 = 4 << 20;

/// A question to one side of the gateway: its part of the status, sent back.
pub type Query<T> = oneshot::Sender<T>;

/// The longest span a capture may ask for.
pub const MAX_CAPTURE: Duration = Duration::from_secs(24 * 3600);

/// A question to the SIP side.
#[derive(Debug)]
pub enum SipQuery {
    /// Its part of the status.
    Status(Query<SipStatus>),
    /// The messages of the last `span`.
    Capture {
        span: Duration,
        reply: Query<Vec<Captured>>,
    },
}

/// Why the control socket could not be opened, or a client could not ask it.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    #[error("{path}: exists and is not a socket; not replaced")]
    NotASocket { path: PathBuf },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "cannot reach the gateway at {path}: {source} (is tipring running, and may this user open the socket?)"
    )]
    Connect {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the gateway at {path} answered: {answer}")]
    Answer { path: PathBuf, answer: String },
}

/// Asks both sides of the running gateway for their part of the status.
#[derive(Debug, Clone)]
pub struct StatusSource {
    started: Instant,
    lines: mpsc::Sender<Query<LineStatus>>,
    sip: mpsc::Sender<SipQuery>,
    provisioning: Option<super::provision::Shared>,
    rtp: Option<super::capture::RtpTap>,
}

impl StatusSource {
    /// The line side answers on `lines`, the SIP side on `sip`.
    pub fn new(
        started: Instant,
        lines: mpsc::Sender<Query<LineStatus>>,
        sip: mpsc::Sender<SipQuery>,
    ) -> StatusSource {
        StatusSource {
            started,
            lines,
            sip,
            provisioning: None,
            rtp: None,
        }
    }

    /// Captures also hold the RTP headers `tap` keeps.
    pub fn with_rtp(mut self, tap: Option<super::capture::RtpTap>) -> StatusSource {
        self.rtp = tap;
        self
    }

    /// The status also shows `p`.
    pub fn with_provisioning(mut self, p: Option<super::provision::Shared>) -> StatusSource {
        self.provisioning = p;
        self
    }

    /// The status now, or `None` when a side does not answer in time (stopping, or its
    /// queue full of other clients' questions).
    pub async fn status(&self) -> Option<Status> {
        let (ltx, lrx) = oneshot::channel();
        let (stx, srx) = oneshot::channel();
        self.lines.try_send(ltx).ok()?;
        self.sip.try_send(SipQuery::Status(stx)).ok()?;
        let (lines, sip) = tokio::time::timeout(ANSWER_TIMEOUT, async { (lrx.await, srx.await) })
            .await
            .ok()?;
        Some(Status {
            version: env!("CARGO_PKG_VERSION").to_owned(),
            uptime_s: self.started.elapsed().as_secs(),
            lines: lines.ok()?,
            sip: sip.ok()?,
            provisioning: self
                .provisioning
                .as_ref()
                .and_then(|p| p.lock().ok().map(|p| p.clone())),
        })
    }

    /// The SIP messages of the last `span`, oldest first.
    pub async fn messages(&self, span: Duration) -> Option<Vec<Captured>> {
        let (reply, rx) = oneshot::channel();
        self.sip.try_send(SipQuery::Capture { span, reply }).ok()?;
        tokio::time::timeout(ANSWER_TIMEOUT, rx).await.ok()?.ok()
    }

    /// The SIP messages (and the RTP headers, when kept) of the last `span` as a pcap
    /// file.
    pub async fn capture(&self, span: Duration) -> Option<Vec<u8>> {
        let mut all = self.messages(span).await?;
        if let Some(tap) = &self.rtp {
            all.extend(tap.since(span));
            all.sort_by_key(|c| c.at);
        }
        super::capture::pcap(&all).ok()
    }
}

/// The bound socket; the file is removed when it is dropped (unless another socket has
/// taken its place by then).
#[derive(Debug)]
pub struct ControlSocket {
    listener: UnixListener,
    path: PathBuf,
    /// The socket file's device and inode.
    file: (u64, u64),
}

impl ControlSocket {
    /// Binds `path` (a socket left by an earlier run is replaced; any other file is not)
    /// and gives it mode 0660.
    pub fn bind(path: &Path) -> Result<ControlSocket, ControlError> {
        let io = |source| ControlError::Io {
            path: path.to_owned(),
            source,
        };
        match std::fs::symlink_metadata(path) {
            Ok(m) if m.file_type().is_socket() => std::fs::remove_file(path).map_err(io)?,
            Ok(_) => {
                return Err(ControlError::NotASocket {
                    path: path.to_owned(),
                });
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io(e)),
        }
        // Bound under the service's umask (0027: no one else can connect), then opened
        // to the group.
        let listener = UnixListener::bind(path).map_err(io)?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660)).map_err(io)?;
        let file = file_id(path).map_err(io)?;
        Ok(ControlSocket {
            listener,
            path: path.to_owned(),
            file,
        })
    }

    /// The socket's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Serves clients until the task is dropped.
    pub async fn serve(self, source: StatusSource) {
        super::serve_bounded(MAX_CLIENTS, &self.listener, |stream| {
            let source = source.clone();
            async move {
                let _ = serve_one(stream, &source).await;
            }
        })
        .await;
    }
}

impl Drop for ControlSocket {
    fn drop(&mut self) {
        if file_id(&self.path).is_ok_and(|f| f == self.file) {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// A file's device and inode.
fn file_id(path: &Path) -> std::io::Result<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::symlink_metadata(path).map(|m| (m.dev(), m.ino()))
}

async fn serve_one(stream: UnixStream, source: &StatusSource) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut line = Vec::new();
    let mut reader = BufReader::new(read.take(MAX_REQUEST as u64 + 1));
    let got = tokio::time::timeout(REQUEST_TIMEOUT, reader.read_until(b'\n', &mut line)).await;
    let answer = match got {
        Ok(Ok(_)) if line.len() <= MAX_REQUEST => answer(line.trim_ascii(), source).await,
        Ok(Ok(_)) => error("request too long"),
        Ok(Err(e)) => return Err(e),
        Err(_) => error("no request in time"),
    };
    write.write_all(&answer).await?;
    write.shutdown().await
}

/// The answer to one request line.
async fn answer(request: &[u8], source: &StatusSource) -> Vec<u8> {
    let late = || error("the gateway did not answer in time");
    let words: Vec<&[u8]> = request.split(|&b| b == b' ').collect();
    match words[..] {
        [b"status"] => match source.status().await {
            Some(s) => {
                let mut json = serde_json::to_vec(&s).unwrap_or_default();
                json.push(b'\n');
                json
            }
            None => late(),
        },
        [b"capture", secs] => {
            let span = std::str::from_utf8(secs)
                .ok()
                .and_then(|s| s.parse::<u64>().ok())
                .map(Duration::from_secs)
                .filter(|d| !d.is_zero() && *d <= MAX_CAPTURE);
            match span {
                Some(span) => source.capture(span).await.unwrap_or_else(late),
                None => error("capture takes a number of seconds, 1..=86400"),
            }
        }
        _ => error("unknown request (known: status, capture SECONDS)"),
    }
}

fn error(why: &str) -> Vec<u8> {
    let mut e = serde_json::json!({ "error": why }).to_string().into_bytes();
    e.push(b'\n');
    e
}

/// Asks the gateway at `path` for its status (blocking; `tipring status`).
pub fn query(path: &Path) -> Result<Status, ControlError> {
    let answer = ask(path, "status")?;
    serde_json::from_slice(&answer).map_err(|_| refused(path, &answer))
}

/// Asks the gateway at `path` for the SIP messages of the last `span`, as a pcap file
/// (blocking; `tipring capture`).
pub fn capture(path: &Path, span: Duration) -> Result<Vec<u8>, ControlError> {
    let answer = ask(path, &format!("capture {}", span.as_secs()))?;
    // A pcap file starts with its magic number; an error is a JSON object.
    if answer.starts_with(b"{") || answer.len() < 24 {
        return Err(refused(path, &answer));
    }
    Ok(answer)
}

fn refused(path: &Path, answer: &[u8]) -> ControlError {
    ControlError::Answer {
        path: path.to_owned(),
        answer: String::from_utf8_lossy(answer)
            .trim()
            .chars()
            .take(200)
            .collect(),
    }
}

/// One request, its whole answer.
fn ask(path: &Path, request: &str) -> Result<Vec<u8>, ControlError> {
    use std::io::{Read, Write};
    let connect = |source| ControlError::Connect {
        path: path.to_owned(),
        source,
    };
    let mut s = std::os::unix::net::UnixStream::connect(path).map_err(connect)?;
    s.set_read_timeout(Some(
        REQUEST_TIMEOUT + ANSWER_TIMEOUT + Duration::from_secs(1),
    ))
    .map_err(connect)?;
    s.write_all(format!("{request}\n").as_bytes())
        .map_err(connect)?;
    let mut answer = Vec::new();
    s.take(MAX_ANSWER)
        .read_to_end(&mut answer)
        .map_err(connect)?;
    Ok(answer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::status::RegistrationStatus;

    fn dir() -> PathBuf {
        crate::ops::scratch_dir("control")
    }

    /// Two sides that answer every question, as the gateway's loops do.
    fn source() -> StatusSource {
        let (ltx, mut lrx) = mpsc::channel::<Query<LineStatus>>(4);
        let (stx, mut srx) = mpsc::channel::<SipQuery>(4);
        tokio::spawn(async move {
            while let Some(q) = lrx.recv().await {
                let _ = q.send(LineStatus::default());
            }
        });
        tokio::spawn(async move {
            while let Some(q) = srx.recv().await {
                let q = match q {
                    SipQuery::Status(q) => q,
                    SipQuery::Capture { reply, .. } => {
                        let _ = reply.send(vec![Captured {
                            at: std::time::SystemTime::now(),
                            from: "127.0.0.1:5060".parse().unwrap(),
                            to: "127.0.0.2:5060".parse().unwrap(),
                            bytes: std::sync::Arc::from(&b"OPTIONS sip:x SIP/2.0\r\n\r\n"[..]),
                            orig_len: 25,
                        }]);
                        continue;
                    }
                };
                let mut s = SipStatus::default();
                s.registrations.push(RegistrationStatus {
                    account: "pbx".into(),
                    state: "registered".into(),
                    expires_in_s: Some(60),
                    last_code: Some(200),
                });
                let _ = q.send(s);
            }
        });
        StatusSource::new(Instant::now(), ltx, stx)
    }

    async fn ask(path: &Path, request: &[u8]) -> String {
        let mut s = UnixStream::connect(path).await.unwrap();
        s.write_all(request).await.unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).await.unwrap();
        out
    }

    #[tokio::test]
    async fn status_is_answered_and_other_requests_are_refused() {
        let path = dir().join("control.sock");
        let sock = ControlSocket::bind(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o660);
        let server = tokio::spawn(sock.serve(source()));
        let p = path.clone();
        let status = tokio::task::spawn_blocking(move || query(&p))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(status.sip.registrations[0].account, "pbx");
        assert_eq!(status.version, env!("CARGO_PKG_VERSION"));
        let e = ask(&path, b"call 911\n").await;
        assert!(e.contains("unknown request"), "{e}");
        let e = ask(&path, b"capture 0\n").await;
        assert!(e.contains("number of seconds"), "{e}");
        let p = path.clone();
        let pcap = tokio::task::spawn_blocking(move || capture(&p, Duration::from_secs(60)))
            .await
            .unwrap()
            .unwrap();
        let mut r = pcap_file::pcap::PcapReader::new(&pcap[..]).unwrap();
        assert!(r.next_packet().unwrap().is_ok());
        let e = ask(&path, &[b'x'; MAX_REQUEST + 1]).await;
        assert!(e.contains("too long"), "{e}");
        server.abort();
    }

    #[tokio::test]
    async fn a_client_that_says_nothing_is_dropped() {
        let path = dir().join("control.sock");
        let server = tokio::spawn(ControlSocket::bind(&path).unwrap().serve(source()));
        let mut s = UnixStream::connect(&path).await.unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).await.unwrap();
        assert!(out.contains("no request in time"), "{out}");
        server.abort();
    }

    #[test]
    fn an_old_socket_is_replaced_but_no_other_file() {
        let d = dir();
        let path = d.join("control.sock");
        drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let sock = ControlSocket::bind(&path).unwrap();
            drop(sock);
        });
        assert!(!path.exists(), "removed when dropped");
        let file = d.join("file");
        std::fs::write(&file, "keep me").unwrap();
        let e = rt.block_on(async { ControlSocket::bind(&file).unwrap_err() });
        assert!(matches!(e, ControlError::NotASocket { .. }), "{e}");
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "keep me");
        let e = query(&d.join("none")).unwrap_err().to_string();
        assert!(e.contains("cannot reach the gateway at"), "{e}");
    }
}
