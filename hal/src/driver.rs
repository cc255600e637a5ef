//! The gateway's serial driver: owns the device, runs the [`Link`] on its own thread,
//! exposes the card's events as a stream and commands as a call, and reopens the device
//! on its own after it vanishes (cable pull, USB re-enumeration, simulator restart).

use crate::link::{Link, LinkConfig, LinkOutput, LinkStats};
use crate::model::{CmdResult, Command, PortId, TimedEvent};
use crate::wire::{Hello, Role, Seq};
use std::collections::HashMap;
use std::io::{ErrorKind, Read, Write};
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

enum Request {
    Command {
        id: u64,
        port: PortId,
        command: Command,
        reply: Sender<CmdResult>,
    },
    /// The caller of command `id` gave up: withdraw it if it was not sent yet.
    Cancel(u64),
}

/// Handle on the running driver. Dropping it stops the thread.
pub struct Driver {
    requests: Sender<Request>,
    events: Receiver<DriverEvent>,
    stop: Arc<AtomicBool>,
    stats: Arc<Mutex<LinkStats>>,
    next_id: std::sync::atomic::AtomicU64,
    thread: Option<JoinHandle<()>>,
}

impl Driver {
    /// Starts the driver thread; it opens the device and keeps it open.
    pub fn start(settings: SerialSettings) -> std::io::Result<Self> {
        let (req_tx, req_rx) = mpsc::channel();
        let (ev_tx, ev_rx) = mpsc::channel();
        let stop = Arc::new(AtomicBool::new(false));
        let stats = Arc::new(Mutex::new(LinkStats::default()));
        let worker = Worker {
            settings,
            requests: req_rx,
            events: ev_tx,
            stop: stop.clone(),
            stats: stats.clone(),
        };
        let thread = std::thread::Builder::new()
            .name("hal-serial".into())
            .spawn(move || worker.run())?;
        Ok(Driver {
            requests: req_tx,
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

    fn submit_with_id(
        &self,
        port: PortId,
        command: Command,
    ) -> Result<(u64, Receiver<CmdResult>), DriverError> {
        let (reply, rx) = mpsc::channel();
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        self.requests
            .send(Request::Command {
                id,
                port,
                command,
                reply,
            })
            .map_err(|_| DriverError::Stopped)?;
        Ok((id, rx))
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
                let _ = self.requests.send(Request::Cancel(id));
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
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

struct Worker {
    settings: SerialSettings,
    requests: Receiver<Request>,
    events: Sender<DriverEvent>,
    stop: Arc<AtomicBool>,
    stats: Arc<Mutex<LinkStats>>,
}

/// Longest the thread blocks in a read, bounding command latency.
const READ_SLICE: Duration = Duration::from_millis(2);

impl Worker {
    fn run(self) {
        let start = Instant::now();
        let boot_id = boot_id();
        let mut link = Link::new(
            Role::Gateway,
            self.settings.link,
            boot_id,
            None,
            Duration::ZERO,
        );
        let mut port: Option<Box<dyn serialport::SerialPort>> = None;
        let mut next_open = start;
        let mut waiters: HashMap<Seq, Sender<CmdResult>> = HashMap::new();
        let mut seq_of: HashMap<u64, Seq> = HashMap::new();
        let mut buf = [0u8; 512];
        let mut out = Vec::new();
        while !self.stop.load(Ordering::Relaxed) {
            let now = start.elapsed();
            if port.is_none() && Instant::now() >= next_open {
                let s = &self.settings;
                match serialport::new(s.path.to_string_lossy(), s.baud)
                    .data_bits(s.data_bits)
                    .parity(s.parity)
                    .stop_bits(s.stop_bits)
                    .flow_control(s.flow_control)
                    .timeout(READ_SLICE)
                    .open()
                {
                    Ok(p) => {
                        link.transport_reset();
                        port = Some(p);
                        let _ = self.events.send(DriverEvent::DeviceOpened);
                    }
                    Err(_) => next_open = Instant::now() + self.settings.reopen_every,
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
            match port.as_mut() {
                Some(p) => match p.read(&mut buf) {
                    Ok(0) => lost = Some("end of file".to_string()),
                    Ok(n) => link.handle_bytes(start.elapsed(), &buf[..n]),
                    Err(e) if e.kind() == ErrorKind::TimedOut => {}
                    Err(e) if e.kind() == ErrorKind::Interrupted => {}
                    Err(e) => lost = Some(e.to_string()),
                },
                None => std::thread::sleep(READ_SLICE),
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
                let _ = self.events.send(DriverEvent::DeviceLost(why));
            }
            while let Some(o) = link.poll_output() {
                let ev = match o {
                    LinkOutput::Up(h) => DriverEvent::LinkUp(h),
                    LinkOutput::Down => DriverEvent::LinkDown,
                    LinkOutput::Incompatible(h) => DriverEvent::Incompatible(h),
                    LinkOutput::Event(e) => DriverEvent::Event(e),
                    LinkOutput::CommandDone { seq, result } => {
                        if let Some(w) = waiters.remove(&seq) {
                            let _ = w.send(result);
                        }
                        seq_of.retain(|_, s| *s != seq);
                        continue;
                    }
                    // Only a card receives commands.
                    LinkOutput::Command { .. } => continue,
                };
                let _ = self.events.send(ev);
            }
            if let Ok(mut s) = self.stats.lock() {
                *s = link.stats();
            }
        }
    }
}

/// A value that differs between runs (PROTOCOL.md §4 `boot_id`).
pub(crate) fn boot_id() -> u32 {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos() ^ (d.as_secs() as u32))
        .unwrap_or(0);
    t ^ std::process::id().rotate_left(16)
}
