//! The sd_notify protocol (sd_notify(3)): newline-separated `KEY=VALUE` assignments in one
//! datagram to the Unix socket named by `$NOTIFY_SOCKET` (a path, or `@name` for the
//! abstract namespace). `READY=1` once listening (Type=notify), `STATUS=` free text,
//! `WATCHDOG=1` at least every `$WATCHDOG_USEC` microseconds (WatchdogSec=), `STOPPING=1`.
//! No socket in the environment: every call is a no-op, so the binary runs the same outside
//! systemd.

use std::io;
use std::os::unix::net::UnixDatagram;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Where notifications go.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    Path(PathBuf),
    /// Abstract-namespace name, without the leading `@`.
    Abstract(Vec<u8>),
}

/// Sends notifications to the service manager.
#[derive(Debug)]
pub struct Notifier {
    target: Option<(UnixDatagram, Target)>,
}

impl Notifier {
    /// From `$NOTIFY_SOCKET`; a no-op notifier when it is unset or empty.
    pub fn from_env() -> io::Result<Notifier> {
        match std::env::var_os("NOTIFY_SOCKET") {
            Some(s) if !s.is_empty() => {
                use std::os::unix::ffi::OsStrExt;
                Notifier::to_socket(s.as_bytes())
            }
            _ => Ok(Notifier::disabled()),
        }
    }

    /// A notifier that sends nothing.
    pub fn disabled() -> Notifier {
        Notifier { target: None }
    }

    /// To the socket `name` in `$NOTIFY_SOCKET` syntax (`/run/...` or `@abstract`).
    pub fn to_socket(name: &[u8]) -> io::Result<Notifier> {
        use std::os::unix::ffi::OsStrExt;
        let target = match name.split_first() {
            Some((b'@', rest)) => Target::Abstract(rest.to_vec()),
            Some((b'/', _)) => Target::Path(PathBuf::from(std::ffi::OsStr::from_bytes(name))),
            _ => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "NOTIFY_SOCKET is neither an absolute path nor @abstract",
                ));
            }
        };
        Ok(Notifier {
            target: Some((UnixDatagram::unbound()?, target)),
        })
    }

    /// Whether notifications are sent anywhere.
    pub fn enabled(&self) -> bool {
        self.target.is_some()
    }

    /// Sends raw assignments, e.g. `"READY=1\nSTATUS=up"`.
    pub fn notify(&self, state: &str) -> io::Result<()> {
        let Some((sock, target)) = &self.target else {
            return Ok(());
        };
        match target {
            Target::Path(p) => sock.send_to(state.as_bytes(), p)?,
            Target::Abstract(name) => {
                use std::os::linux::net::SocketAddrExt;
                let addr = std::os::unix::net::SocketAddr::from_abstract_name(name)?;
                sock.send_to_addr(state.as_bytes(), &addr)?
            }
        };
        Ok(())
    }

    /// `READY=1` with a status line.
    pub fn ready(&self, status: &str) -> io::Result<()> {
        self.notify(&format!("READY=1\nSTATUS={}", one_line(status)))
    }

    /// `STATUS=` (shown by `systemctl status`).
    pub fn status(&self, status: &str) -> io::Result<()> {
        self.notify(&format!("STATUS={}", one_line(status)))
    }

    /// `WATCHDOG=1`: the main loop is alive.
    pub fn watchdog(&self) -> io::Result<()> {
        self.notify("WATCHDOG=1")
    }

    /// `STOPPING=1` at the start of an orderly shutdown.
    pub fn stopping(&self) -> io::Result<()> {
        self.notify("STOPPING=1")
    }
}

/// A status value may not contain a newline (it would start a new assignment).
fn one_line(s: &str) -> String {
    s.replace(['\n', '\r'], " ")
}

/// The watchdog interval systemd expects, from the values of `$WATCHDOG_USEC` and
/// `$WATCHDOG_PID` (sd_watchdog_enabled(3)): `None` when unset, zero, malformed, or meant
/// for another process.
pub fn watchdog_interval(usec: Option<&str>, pid: Option<&str>, my_pid: u32) -> Option<Duration> {
    let usec: u64 = usec?.trim().parse().ok()?;
    if usec == 0 {
        return None;
    }
    if let Some(pid) = pid {
        let pid: u32 = pid.trim().parse().ok()?;
        if pid != my_pid {
            return None;
        }
    }
    Some(Duration::from_micros(usec))
}

/// [`watchdog_interval`] from this process's environment.
pub fn watchdog_interval_from_env() -> Option<Duration> {
    let usec = std::env::var("WATCHDOG_USEC").ok();
    let pid = std::env::var("WATCHDOG_PID").ok();
    watchdog_interval(usec.as_deref(), pid.as_deref(), std::process::id())
}

/// Sans-IO pacing of `WATCHDOG=1`: due every half interval, as sd_watchdog_enabled(3)
/// recommends, so one late loop turn does not trip the watchdog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WatchdogPacer {
    period: Duration,
    next: Instant,
}

impl WatchdogPacer {
    /// For a watchdog `interval`, starting at `now` (first ping due at once).
    pub fn new(interval: Duration, now: Instant) -> WatchdogPacer {
        WatchdogPacer {
            period: interval / 2,
            next: now,
        }
    }

    /// When the next ping is due.
    pub fn deadline(&self) -> Instant {
        self.next
    }

    /// Whether a ping is due at `now`; if so the next one is scheduled.
    pub fn poll(&mut self, now: Instant) -> bool {
        if now < self.next {
            return false;
        }
        self.next = now + self.period;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bound() -> (UnixDatagram, PathBuf) {
        let dir = std::env::temp_dir().join(format!(
            "tipring-notify-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("notify.sock");
        let _ = std::fs::remove_file(&path);
        let sock = UnixDatagram::bind(&path).unwrap();
        sock.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        (sock, path)
    }

    fn recv(sock: &UnixDatagram) -> String {
        let mut buf = [0u8; 512];
        let n = sock.recv(&mut buf).unwrap();
        String::from_utf8(buf[..n].to_vec()).unwrap()
    }

    #[test]
    fn sends_ready_status_watchdog_stopping_to_a_path_socket() {
        let (sock, path) = bound();
        use std::os::unix::ffi::OsStrExt;
        let n = Notifier::to_socket(path.as_os_str().as_bytes()).unwrap();
        assert!(n.enabled());
        n.ready("4 ports, 1 account\nregistered").unwrap();
        assert_eq!(recv(&sock), "READY=1\nSTATUS=4 ports, 1 account registered");
        n.status("port 0 in call").unwrap();
        assert_eq!(recv(&sock), "STATUS=port 0 in call");
        n.watchdog().unwrap();
        assert_eq!(recv(&sock), "WATCHDOG=1");
        n.stopping().unwrap();
        assert_eq!(recv(&sock), "STOPPING=1");
        let _ = std::fs::remove_file(&path);
    }

    #[test]
    fn sends_to_an_abstract_socket() {
        use std::os::linux::net::SocketAddrExt;
        let name = format!("tipring-notify-test-{}", std::process::id());
        let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
        let sock = UnixDatagram::bind_addr(&addr).unwrap();
        sock.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        let n = Notifier::to_socket(format!("@{name}").as_bytes()).unwrap();
        n.watchdog().unwrap();
        assert_eq!(recv(&sock), "WATCHDOG=1");
    }

    #[test]
    fn disabled_and_bad_sockets() {
        let n = Notifier::disabled();
        assert!(!n.enabled());
        n.ready("x").unwrap();
        assert!(Notifier::to_socket(b"relative/path").is_err());
        assert!(Notifier::to_socket(b"").is_err());
        // A socket nobody listens on is an error the caller sees.
        let n = Notifier::to_socket(b"/nonexistent/tipring/notify").unwrap();
        assert!(n.watchdog().is_err());
    }

    #[test]
    fn watchdog_interval_follows_sd_watchdog_enabled() {
        assert_eq!(
            watchdog_interval(Some("10000000"), None, 42),
            Some(Duration::from_secs(10))
        );
        assert_eq!(
            watchdog_interval(Some("10000000"), Some("42"), 42),
            Some(Duration::from_secs(10))
        );
        assert_eq!(watchdog_interval(Some("10000000"), Some("41"), 42), None);
        assert_eq!(watchdog_interval(Some("0"), None, 42), None);
        assert_eq!(watchdog_interval(Some("ten"), None, 42), None);
        assert_eq!(watchdog_interval(None, Some("42"), 42), None);
    }

    #[test]
    fn pacer_pings_every_half_interval() {
        let t0 = Instant::now();
        let mut p = WatchdogPacer::new(Duration::from_secs(10), t0);
        assert!(p.poll(t0));
        assert_eq!(p.deadline(), t0 + Duration::from_secs(5));
        assert!(!p.poll(t0 + Duration::from_millis(4999)));
        assert!(p.poll(t0 + Duration::from_secs(6)));
        assert_eq!(p.deadline(), t0 + Duration::from_secs(11));
    }
}
