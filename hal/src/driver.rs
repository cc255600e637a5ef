//! The gateway's serial driver: owns the device, runs the [`Link`] on its own thread,
//! exposes the card's events as a stream (or to a sink of the caller's) and commands as a
//! call, and reopens the device on its own after it vanishes (cable pull, USB
//! re-enumeration, simulator restart).
//!
//! The thread sleeps in `poll(2)` until the device has bytes, a request arrives (each
//! request writes a byte to a wake-up pipe) or the link's next deadline
//! ([`Link::poll_timeout`]) or reopen attempt comes: no polling slice.

use crate::link::{Link, LinkConfig, LinkOutput, LinkStats};
use crate::model::{CmdResult, Command, PortId, TimedEvent};
use crate::wire::{Hello, Role, Seq};
use std::collections::HashMap;
use std::io::{ErrorKind, Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, TryRecvError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Device and line settings (from the board profile).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SerialSettings {
    /// Device path, e.g. `/dev/ttyS1`, or the simulator's stable symlink.
    pub path: PathBuf,
    pub baud: u32,
    /// Line settings; PROTOCOL.md §1 specifies 8N1 without flow control.
    pub data_bits: serialport::DataBits,
    pub parity: serialport::Parity,
    pub stop_bits: serialport::StopBits,
    pub flow_control: serialport::FlowControl,
    /// Wait between attempts to (re)open the device.
    pub reopen_every: Duration,
    pub link: LinkConfig,
}

impl SerialSettings {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        SerialSettings {
            path: path.into(),
            baud: 115_200,
            data_bits: serialport::DataBits::Eight,
            parity: serialport::Parity::None,
            stop_bits: serialport::StopBits::One,
            flow_control: serialport::FlowControl::None,
            reopen_every: Duration::from_millis(50),
            link: LinkConfig::default(),
        }
    }
}

/// What the driver reports, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DriverEvent {
    /// The device was opened.
    DeviceOpened,
    /// The device cannot be opened (missing, permissions, unsupported ioctl); it is tried
    /// again every `reopen_every`. Reported once per distinct reason, not per attempt.
    OpenFailed(String),
    /// The device failed or vanished; it will be reopened.
    DeviceLost(String),
    /// The session with the card is up; its hello.
    LinkUp(Hello),
    LinkDown,
    /// The card speaks no protocol version we know.
    Incompatible(Hello),
    /// A card event, exactly once, in order.
    Event(TimedEvent),
}

/// Why a command call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DriverError {
    #[error("no answer from the card within {0:?}")]
    Timeout(Duration),
    #[error("the driver thread has stopped")]
    Stopped,
}

/// Where a card event goes.
type Sink = Box<dyn FnMut(DriverEvent) + Send>;
/// Who hears a command's result.
type Reply = Box<dyn FnOnce(CmdResult) + Send>;

enum Request {
    Command {
        id: u64,
        port: PortId,
        command: Command,
        reply: Reply,
    },
    /// The caller of command `id` gave up: withdraw it if it was not sent yet.
    Cancel(u64),
}

/// Handle on the running driver. Dropping it stops the thread.
pub struct Driver {
    requests: Sender<Request>,
    /// Written to after each request (and at stop) to wake the thread.
    wake: OwnedFd,
    events: Receiver<DriverEvent>,
    stop: Arc<AtomicBool>,
    stats: Arc<Mutex<LinkStats>>,
    next_id: std::sync::atomic::AtomicU64,
    thread: Option<JoinHandle<()>>,
}

impl Driver {
    /// Starts the driver thread; it opens the device and keeps it open. Its events are
    /// read from [`Driver::events`].
    pub fn start(settings: SerialSettings) -> std::io::Result<Self> {
        let (ev_tx, ev_rx) = mpsc::channel();
        let sink = Box::new(move |e| {
            let _ = ev_tx.send(e);
        });
        Self::spawn(settings, sink, ev_rx)
    }

    /// As [`Driver::start`], but every event is handed to `sink` on the driver's thread as
    /// it happens ([`Driver::events`] stays empty): a caller waking on events needs no
    /// thread of its own to wait for them. `sink` must not wait on this driver.
    pub fn start_with_sink(
        settings: SerialSettings,
        sink: impl FnMut(DriverEvent) + Send + 'static,
    ) -> std::io::Result<Self> {
        let (_, none) = mpsc::channel();
        Self::spawn(settings, Box::new(sink), none)
    }

    fn spawn(
        settings: SerialSettings,
        events: Sink,
        ev_rx: Receiver<DriverEvent>,
    ) -> std::io::Result<Self> {
        let (req_tx, req_rx) = mpsc::channel();
        let (woken, wake) = nix::unistd::pipe()?;
        for fd in [&woken, &wake] {
            nix::fcntl::fcntl(
                fd.as_raw_fd(),
                nix::fcntl::FcntlArg::F_SETFL(nix::fcntl::OFlag::O_NONBLOCK),
            )?;
        }
        let stop = Arc::new(AtomicBool::new(false));
        let stats = Arc::new(Mutex::new(LinkStats::default()));
        let worker = Worker {
            settings,
            requests: req_rx,
            woken,
            events,
            stop: stop.clone(),
            stats: stats.clone(),
        };
        let thread = std::thread::Builder::new()
            .name("hal-serial".into())
            .spawn(move || worker.run())?;
        Ok(Driver {
            requests: req_tx,
            wake,
            events: ev_rx,
            stop,
            stats,
            next_id: std::sync::atomic::AtomicU64::new(0),
            thread: Some(thread),
        })
    }

    /// The event stream.
    pub fn events(&self) -> &Receiver<DriverEvent> {
        &self.events
    }

    /// Sends a command; the card's result arrives on the returned receiver. Commands wait
    /// while the link is down and go out, in order, once it is up again.
    pub fn submit(
        &self,
        port: PortId,
        command: Command,
    ) -> Result<Receiver<CmdResult>, DriverError> {
        self.submit_with_id(port, command).map(|(_, rx)| rx)
    }

    /// Sends a command; `done` is called with the card's result on the driver's thread
    /// (never if the command is withdrawn or the driver stops first). `done` must not
    /// wait on this driver.
    pub fn submit_then(
        &self,
        port: PortId,
        command: Command,
        done: impl FnOnce(CmdResult) + Send + 'static,
    ) -> Result<(), DriverError> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        self.request(Request::Command {
            id,
            port,
            command,
            reply: Box::new(done),
        })
    }

    fn submit_with_id(
        &self,
        port: PortId,
        command: Command,
    ) -> Result<(u64, Receiver<CmdResult>), DriverError> {
        let (reply, rx) = mpsc::channel();
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        self.request(Request::Command {
            id,
            port,
            command,
            reply: Box::new(move |r| {
                let _ = reply.send(r);
            }),
        })?;
        Ok((id, rx))
    }

    /// Queues a request and wakes the thread.
    fn request(&self, r: Request) -> Result<(), DriverError> {
        self.requests.send(r).map_err(|_| DriverError::Stopped)?;
        self.wake();
        Ok(())
    }

    fn wake(&self) {
        // A full pipe already wakes the thread.
        let _ = nix::unistd::write(&self.wake, &[1]);
    }

    /// Sends a command and waits for the card's result. On timeout the command is
    /// withdrawn if it had not been sent yet (so a stale command never runs late); one
    /// already on the wire may still be carried out by the card.
    pub fn command(
        &self,
        port: PortId,
        command: Command,
        timeout: Duration,
    ) -> Result<CmdResult, DriverError> {
        let (id, rx) = self.submit_with_id(port, command)?;
        rx.recv_timeout(timeout).map_err(|e| match e {
            RecvTimeoutError::Timeout => {
                let _ = self.request(Request::Cancel(id));
                DriverError::Timeout(timeout)
            }
            RecvTimeoutError::Disconnected => DriverError::Stopped,
        })
    }

    /// Link counters.
    pub fn stats(&self) -> LinkStats {
        self.stats.lock().map(|s| *s).unwrap_or_default()
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        self.wake();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

struct Worker {
    settings: SerialSettings,
    requests: Receiver<Request>,
    /// The read end of the wake-up pipe.
    woken: OwnedFd,
    events: Sink,
    stop: Arc<AtomicBool>,
    stats: Arc<Mutex<LinkStats>>,
}

/// Longest a read of a device `poll(2)` found readable may block (it returns at once).
const READ_SLICE: Duration = Duration::from_millis(2);

impl Worker {
    fn run(mut self) {
        let start = Instant::now();
        let boot_id = boot_id();
        let mut link = Link::new(
            Role::Gateway,
            self.settings.link,
            boot_id,
            None,
            Duration::ZERO,
        );
        let mut port: Option<serialport::TTYPort> = None;
        // The device had bytes (or an error) at the last wake-up.
        let mut readable = false;
        let mut next_open = start;
        let mut open_error: Option<String> = None;
        let mut waiters: HashMap<Seq, Reply> = HashMap::new();
        let mut seq_of: HashMap<u64, Seq> = HashMap::new();
        let mut buf = [0u8; 512];
        let mut out = Vec::new();
        while !self.stop.load(Ordering::Relaxed) {
            let now = start.elapsed();
            if port.is_none() && Instant::now() >= next_open {
                match open_port(&self.settings) {
                    Ok(p) => {
                        link.transport_reset();
                        port = Some(p);
                        open_error = None;
                        (self.events)(DriverEvent::DeviceOpened);
                    }
                    Err(e) => {
                        let why = format!("{}: {e}", self.settings.path.display());
                        if open_error.as_ref() != Some(&why) {
                            (self.events)(DriverEvent::OpenFailed(why.clone()));
                            open_error = Some(why);
                        }
                        next_open = Instant::now() + self.settings.reopen_every;
                    }
                }
            }
            loop {
                match self.requests.try_recv() {
                    Ok(Request::Command {
                        id,
                        port: p,
                        command,
                        reply,
                    }) => {
                        let seq = link.submit_command(now, p, command);
                        waiters.insert(seq, reply);
                        seq_of.insert(id, seq);
                    }
                    Ok(Request::Cancel(id)) => {
                        if let Some(seq) = seq_of.remove(&id)
                            && link.cancel(seq)
                        {
                            waiters.remove(&seq);
                        }
                    }
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Disconnected) => return,
                }
            }
            let mut lost = None;
            if let Some(p) = port.as_mut().filter(|_| std::mem::take(&mut readable)) {
                match p.read(&mut buf) {
                    Ok(0) => lost = Some("end of file".to_string()),
                    Ok(n) => link.handle_bytes(start.elapsed(), &buf[..n]),
                    Err(e) if e.kind() == ErrorKind::TimedOut => {}
                    Err(e) if e.kind() == ErrorKind::Interrupted => {}
                    Err(e) => lost = Some(e.to_string()),
                }
            }
            link.handle_timeout(start.elapsed());
            out.clear();
            link.poll_transmit(&mut out);
            if let Some(p) = port.as_mut()
                && !out.is_empty()
                && let Err(e) = p.write_all(&out)
            {
                lost = Some(e.to_string());
            }
            if let Some(why) = lost {
                port = None;
                next_open = Instant::now() + self.settings.reopen_every;
                (self.events)(DriverEvent::DeviceLost(why));
            }
            while let Some(o) = link.poll_output() {
                let ev = match o {
                    LinkOutput::Up(h) => DriverEvent::LinkUp(h),
                    LinkOutput::Down => DriverEvent::LinkDown,
                    LinkOutput::Incompatible(h) => DriverEvent::Incompatible(h),
                    LinkOutput::Event(e) => DriverEvent::Event(e),
                    LinkOutput::CommandDone { seq, result } => {
                        if let Some(w) = waiters.remove(&seq) {
                            w(result);
                        }
                        seq_of.retain(|_, s| *s != seq);
                        continue;
                    }
                    // Only a card receives commands.
                    LinkOutput::Command { .. } => continue,
                };
                (self.events)(ev);
            }
            if let Ok(mut s) = self.stats.lock() {
                *s = link.stats();
            }
            if self.stop.load(Ordering::Relaxed) {
                return;
            }
            // Sleep until the device has bytes, a request comes or the next deadline.
            let mut due = start + link.poll_timeout();
            if port.is_none() {
                due = due.min(next_open);
            }
            // SAFETY: the descriptor is the open device's, which outlives the wait.
            let device = port
                .as_ref()
                .map(|p| unsafe { BorrowedFd::borrow_raw(p.as_raw_fd()) });
            readable = self.wait(device, due);
        }
    }

    /// Waits in `poll(2)` until `device` is readable (or failed), the wake-up pipe has a
    /// byte (drained here) or `due` has come; whether the device is to be read.
    fn wait(&self, device: Option<BorrowedFd<'_>>, due: Instant) -> bool {
        use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
        let wait = due.saturating_duration_since(Instant::now());
        // Rounded up, so that the thread does not wake just before the deadline.
        let ms = wait.as_micros().div_ceil(1000).min(u128::from(u16::MAX)) as u16;
        let mut fds = vec![PollFd::new(self.woken.as_fd(), PollFlags::POLLIN)];
        fds.extend(device.map(|d| PollFd::new(d, PollFlags::POLLIN)));
        if poll(&mut fds, PollTimeout::from(ms)).is_err() {
            // EINTR: look again.
            return device.is_some();
        }
        let ready = |f: &PollFd<'_>| f.revents().is_some_and(|r| !r.is_empty());
        if ready(&fds[0]) {
            let mut b = [0u8; 64];
            while matches!(nix::unistd::read(self.woken.as_raw_fd(), &mut b), Ok(n) if n > 0) {}
        }
        fds.get(1).is_some_and(ready)
    }
}

/// Opens the device and sets the line up as `s` says, with `serialport`; or, where the
/// kernel does not know the termios2 ioctls `serialport` sets the line with on Linux
/// (ENOSYS: qemu-user, which the test suite runs the ARM binary under, up to at least
/// 10.1; some seccomp sandboxes), with the classic termios calls ([`open_termios`]).
fn open_port(s: &SerialSettings) -> serialport::Result<serialport::TTYPort> {
    let opened = serialport::new(s.path.to_string_lossy(), s.baud)
        .data_bits(s.data_bits)
        .parity(s.parity)
        .stop_bits(s.stop_bits)
        .flow_control(s.flow_control)
        .timeout(READ_SLICE)
        .open_native();
    match opened {
        // `serialport` reports ENOSYS as an unknown error: ask the kernel itself.
        Err(e) if e.kind() == serialport::ErrorKind::Unknown && !has_termios2(&s.path) => {
            Ok(open_termios(s)?)
        }
        r => r,
    }
}

/// Whether the kernel answers TCGETS2 on this device (false only on ENOSYS).
fn has_termios2(path: &std::path::Path) -> bool {
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::OpenOptionsExt;
    let Ok(file) = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(nix::libc::O_NOCTTY | nix::libc::O_NONBLOCK)
        .open(path)
    else {
        return true;
    };
    let mut t = std::mem::MaybeUninit::<nix::libc::termios2>::uninit();
    // SAFETY: TCGETS2 writes one termios2 into `t`, which is that size.
    let r = unsafe { nix::libc::ioctl(file.as_raw_fd(), nix::libc::TCGETS2, t.as_mut_ptr()) };
    !(r == -1 && nix::errno::Errno::last() == nix::errno::Errno::ENOSYS)
}

/// Opens the device as `serialport` does (raw, exclusive, blocking reads bounded by
/// [`READ_SLICE`]) but sets the line with `tcsetattr` (TCSETS) instead of termios2, so
/// only the standard baud rates can be set.
pub(crate) fn open_termios(s: &SerialSettings) -> std::io::Result<serialport::TTYPort> {
    use nix::sys::termios::{
        BaudRate, ControlFlags as C, InputFlags as I, SetArg, cfmakeraw, cfsetspeed, tcgetattr,
        tcsetattr,
    };
    use serialport::{DataBits, FlowControl, Parity, StopBits};
    use std::os::fd::{FromRawFd, IntoRawFd};
    use std::os::unix::fs::OpenOptionsExt;
    let baud = match s.baud {
        1200 => BaudRate::B1200,
        2400 => BaudRate::B2400,
        4800 => BaudRate::B4800,
        9600 => BaudRate::B9600,
        19_200 => BaudRate::B19200,
        38_400 => BaudRate::B38400,
        57_600 => BaudRate::B57600,
        115_200 => BaudRate::B115200,
        230_400 => BaudRate::B230400,
        460_800 => BaudRate::B460800,
        500_000 => BaudRate::B500000,
        921_600 => BaudRate::B921600,
        1_000_000 => BaudRate::B1000000,
        1_500_000 => BaudRate::B1500000,
        2_000_000 => BaudRate::B2000000,
        3_000_000 => BaudRate::B3000000,
        4_000_000 => BaudRate::B4000000,
        other => {
            return Err(std::io::Error::new(
                ErrorKind::InvalidInput,
                format!("{other} baud needs termios2, which this kernel does not have"),
            ));
        }
    };
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(nix::libc::O_NOCTTY | nix::libc::O_NONBLOCK)
        .open(&s.path)?;
    let mut t = tcgetattr(&file)?;
    cfmakeraw(&mut t);
    let (c, i) = (&mut t.control_flags, &mut t.input_flags);
    c.insert(C::CREAD | C::CLOCAL);
    c.remove(C::CSIZE);
    c.insert(match s.data_bits {
        DataBits::Five => C::CS5,
        DataBits::Six => C::CS6,
        DataBits::Seven => C::CS7,
        DataBits::Eight => C::CS8,
    });
    match s.parity {
        Parity::None => {
            c.remove(C::PARENB | C::PARODD);
            i.remove(I::INPCK);
            i.insert(I::IGNPAR);
        }
        Parity::Odd => {
            c.insert(C::PARENB | C::PARODD);
            i.insert(I::INPCK);
            i.remove(I::IGNPAR);
        }
        Parity::Even => {
            c.remove(C::PARODD);
            c.insert(C::PARENB);
            i.insert(I::INPCK);
            i.remove(I::IGNPAR);
        }
    }
    c.set(C::CSTOPB, s.stop_bits == StopBits::Two);
    c.set(C::CRTSCTS, s.flow_control == FlowControl::Hardware);
    i.set(I::IXON | I::IXOFF, s.flow_control == FlowControl::Software);
    cfsetspeed(&mut t, baud)?;
    tcsetattr(&file, SetArg::TCSANOW, &t)?;
    // Blocking reads from here on; the port bounds them with poll.
    nix::fcntl::fcntl(
        std::os::fd::AsRawFd::as_raw_fd(&file),
        nix::fcntl::FcntlArg::F_SETFL(nix::fcntl::OFlag::empty()),
    )?;
    // SAFETY: the descriptor is open and now owned by the port alone (it takes the
    // exclusive lock and TIOCEXCL, as `serialport` does).
    let mut port = unsafe { serialport::TTYPort::from_raw_fd(file.into_raw_fd()) };
    serialport::SerialPort::set_timeout(&mut port, READ_SLICE)?;
    Ok(port)
}

/// A value that differs between runs (PROTOCOL.md §4 `boot_id`).
pub(crate) fn boot_id() -> u32 {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos() ^ (d.as_secs() as u32))
        .unwrap_or(0);
    t ^ std::process::id().rotate_left(16)
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::sys::termios::{BaudRate, ControlFlags, cfgetospeed, tcgetattr};
    use std::os::fd::AsFd;

    /// A device that cannot be opened is reported with its path and reason, once, while
    /// the driver keeps trying.
    #[test]
    fn a_device_that_cannot_be_opened_is_reported_once() {
        let path = std::env::temp_dir().join(format!("tipring-no-card-{}", std::process::id()));
        let d = Driver::start(SerialSettings::new(&path)).unwrap();
        std::thread::sleep(Duration::from_millis(400));
        let events: Vec<DriverEvent> = d.events().try_iter().collect();
        let failed: Vec<&String> = events
            .iter()
            .filter_map(|e| match e {
                DriverEvent::OpenFailed(why) => Some(why),
                _ => None,
            })
            .collect();
        assert_eq!(failed.len(), 1, "{events:?}");
        assert!(
            failed[0].contains(&path.display().to_string()),
            "{failed:?}"
        );
        assert!(!events.contains(&DriverEvent::DeviceOpened));
    }

    /// The termios fallback (what runs under qemu-user) opens a PTY raw at the board's
    /// settings and carries bytes both ways.
    #[test]
    fn termios_fallback_opens_a_pty() {
        let pair = nix::pty::openpty(None, None).unwrap();
        let path = nix::unistd::ttyname(pair.slave.as_fd()).unwrap();
        let mut port = open_termios(&SerialSettings::new(&path)).unwrap();
        let t = tcgetattr(pair.slave.as_fd()).unwrap();
        assert_eq!(cfgetospeed(&t), BaudRate::B115200);
        assert!(
            t.control_flags
                .contains(ControlFlags::CS8 | ControlFlags::CLOCAL)
        );
        assert!(!t.control_flags.contains(ControlFlags::PARENB));
        let mut master = std::fs::File::from(pair.master);
        master.write_all(b"\x00card\x00").unwrap();
        let mut got = Vec::new();
        let end = Instant::now() + Duration::from_secs(2);
        while got.len() < 6 && Instant::now() < end {
            let mut b = [0u8; 16];
            match port.read(&mut b) {
                Ok(n) => got.extend_from_slice(&b[..n]),
                Err(e) if e.kind() == ErrorKind::TimedOut => {}
                Err(e) => panic!("{e}"),
            }
        }
        assert_eq!(got, b"\x00card\x00", "raw mode: bytes unchanged");
        port.write_all(b"gw\n").unwrap();
        let mut b = [0u8; 3];
        master.read_exact(&mut b).unwrap();
        assert_eq!(&b, b"gw\n", "raw mode: no output processing");
        let odd = SerialSettings {
            baud: 12_345,
            ..SerialSettings::new(&path)
        };
        assert_eq!(
            open_termios(&odd).unwrap_err().kind(),
            ErrorKind::InvalidInput
        );
    }
}
