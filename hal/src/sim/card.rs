//! The simulator thread: PTY ↔ card-role link ↔ port models, plus fault injection.

use super::port::SimPort;
use super::pty::SimPty;
use crate::link::{Link, LinkConfig, LinkOutput};
use crate::model::{CardInfo, Command, Event, PortId, PortKind, TimedEvent};
use crate::wire::Role;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Firmware version the simulated card announces.
pub const SIM_FIRMWARE: &str = "tipring-sim-1";

/// How to build a simulated card.
#[derive(Debug, Clone)]
pub struct SimConfig {
    pub ports: Vec<PortKind>,
    /// Stable symlink kept pointing at the current PTY slave.
    pub link_path: PathBuf,
    pub link: LinkConfig,
}

/// Faults to inject on the serial line, consumed as they happen.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Faults {
    /// Bytes to write to the gateway before the next frame.
    pub garbage: Vec<u8>,
    /// Outgoing frames to drop.
    pub drop_frames: u32,
    /// Outgoing frames to send twice.
    pub duplicate_frames: u32,
    /// Neither read nor write until then (incoming bytes are discarded).
    pub paused_until: Option<Instant>,
    /// Close the PTY and open a new one after this long.
    pub cable_pull: Option<Duration>,
    /// Cable pulls done so far.
    pub cable_pulls: u32,
}

/// State shared between the handle and the thread.
#[derive(Debug)]
pub struct Shared {
    pub ports: Vec<SimPort>,
    pub faults: Faults,
    /// Every command received, with the result given.
    pub commands: Vec<(PortId, Command, crate::model::CmdResult)>,
    /// Every event reported (in submission order).
    pub events: Vec<TimedEvent>,
    pub link_up: bool,
    pub slave_path: PathBuf,
    /// Events produced by the handle, waiting for the thread to submit them.
    outbox: Vec<(PortId, Event)>,
}

/// Handle on a running simulated card. Dropping it stops the simulator.
pub struct SimCard {
    shared: Arc<Mutex<Shared>>,
    start: Instant,
    link_path: PathBuf,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl SimCard {
    /// Opens the PTY, publishes the symlink and starts the card thread.
    pub fn start(cfg: SimConfig) -> io::Result<Self> {
        let pty = SimPty::open()?;
        pty.publish(&cfg.link_path)?;
        let start = Instant::now();
        let shared = Arc::new(Mutex::new(Shared {
            ports: cfg.ports.iter().map(|&k| SimPort::new(k)).collect(),
            faults: Faults::default(),
            commands: Vec::new(),
            events: Vec::new(),
            link_up: false,
            slave_path: pty.slave_path.clone(),
            outbox: Vec::new(),
        }));
        let info = CardInfo {
            firmware: heapless::String::try_from(SIM_FIRMWARE).unwrap_or_default(),
            ports: cfg
                .ports
                .iter()
                .copied()
                .take(crate::model::MAX_PORTS)
                .collect(),
        };
        let stop = Arc::new(AtomicBool::new(false));
        let worker = Worker {
            shared: shared.clone(),
            stop: stop.clone(),
            start,
            link_path: cfg.link_path.clone(),
            link: Link::new(
                Role::Card,
                cfg.link,
                crate::driver::boot_id(),
                Some(info),
                Duration::ZERO,
            ),
        };
        let thread = std::thread::Builder::new()
            .name("sim-card".into())
            .spawn(move || worker.run(pty))?;
        Ok(SimCard {
            shared,
            start,
            link_path: cfg.link_path,
            stop,
            thread: Some(thread),
        })
    }

    /// The stable path the driver should open.
    pub fn link_path(&self) -> &Path {
        &self.link_path
    }

    /// The current PTY slave device.
    pub fn slave_path(&self) -> PathBuf {
        self.lock().slave_path.clone()
    }

    /// The card clock (ms since start).
    pub fn now_ms(&self) -> u32 {
        self.start.elapsed().as_millis() as u32
    }

    /// Locks the shared state (ports, logs, faults). Keep the guard short.
    pub fn lock(&self) -> MutexGuard<'_, Shared> {
        self.shared.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `f` on port `port`; `None` if there is no such port.
    pub fn with_port<R>(
        &self,
        port: PortId,
        f: impl FnOnce(&mut SimPort, u32, &mut Vec<Event>) -> R,
    ) -> Option<R> {
        let now = self.now_ms();
        let mut s = self.lock();
        let mut out = Vec::new();
        let r = f(s.ports.get_mut(usize::from(port))?, now, &mut out);
        s.outbox.extend(out.into_iter().map(|e| (port, e)));
        Some(r)
    }

    /// Reports an event as if the hardware had seen it (faults, digits, voltage, ...).
    pub fn inject_event(&self, port: PortId, event: Event) {
        self.lock().outbox.push((port, event));
    }

    /// Changes the fault plan.
    pub fn faults(&self, f: impl FnOnce(&mut Faults)) {
        f(&mut self.lock().faults);
    }

    /// One line per port, for `status`.
    pub fn status(&self) -> String {
        let s = self.lock();
        let mut out = format!(
            "link {} on {}\n",
            if s.link_up { "up" } else { "down" },
            s.slave_path.display()
        );
        for (i, p) in s.ports.iter().enumerate() {
            out.push_str(&format!("port {i}: {p}\n"));
        }
        out
    }
}

impl Drop for SimCard {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        let _ = std::fs::remove_file(&self.link_path);
    }
}

struct Worker {
    shared: Arc<Mutex<Shared>>,
    stop: Arc<AtomicBool>,
    start: Instant,
    link_path: PathBuf,
    link: Link,
}

impl Worker {
    fn lock(&self) -> MutexGuard<'_, Shared> {
        self.shared.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn run(mut self, mut pty: SimPty) {
        let mut buf = [0u8; 512];
        let mut out = Vec::new();
        while !self.stop.load(Ordering::Relaxed) {
            // Cable pull: close the PTY, wait, open a new one and move the symlink.
            let pull = self.lock().faults.cable_pull.take();
            if let Some(d) = pull {
                drop(pty);
                std::thread::sleep(d);
                pty = match SimPty::open().and_then(|p| p.publish(&self.link_path).map(|_| p)) {
                    Ok(p) => p,
                    Err(_) => return,
                };
                self.link.transport_reset();
                let mut s = self.lock();
                s.slave_path = pty.slave_path.clone();
                s.faults.cable_pulls += 1;
            }
            let paused = self
                .lock()
                .faults
                .paused_until
                .is_some_and(|t| Instant::now() < t);
            if let Ok(true) = pty.wait_readable(2) {
                match pty.master.read(&mut buf) {
                    Ok(n) if !paused => self.link.handle_bytes(self.start.elapsed(), &buf[..n]),
                    Ok(_) => {}
                    // EIO: no process has the slave open right now; keep serving.
                    Err(_) => std::thread::sleep(Duration::from_millis(2)),
                }
            }
            let now = self.start.elapsed();
            let now_ms = now.as_millis() as u32;
            self.link.handle_timeout(now);
            while let Some(o) = self.link.poll_output() {
                match o {
                    LinkOutput::Command { seq, port, command } => {
                        let mut s = self.lock();
                        let mut evs = Vec::new();
                        let result = match s.ports.get_mut(usize::from(port)) {
                            Some(p) => p.apply(now_ms, &command, &mut evs),
                            None => crate::model::CmdResult::NoSuchPort,
                        };
                        s.commands.push((port, command, result));
                        s.outbox.extend(evs.into_iter().map(|e| (port, e)));
                        drop(s);
                        self.link.answer(now, seq, result);
                    }
                    LinkOutput::Up(_) => self.lock().link_up = true,
                    LinkOutput::Down => self.lock().link_up = false,
                    LinkOutput::Incompatible(_)
                    | LinkOutput::Event(_)
                    | LinkOutput::CommandDone { .. } => {}
                }
            }
            let events = {
                let mut s = self.lock();
                let mut evs: Vec<(PortId, Event)> = std::mem::take(&mut s.outbox);
                for (i, p) in s.ports.iter_mut().enumerate() {
                    let mut e = Vec::new();
                    p.tick(now_ms, &mut e);
                    evs.extend(e.into_iter().map(|e| (i as PortId, e)));
                }
                let timed: Vec<TimedEvent> = evs
                    .into_iter()
                    .map(|(port, event)| TimedEvent {
                        at_ms: now_ms,
                        port,
                        event,
                    })
                    .collect();
                s.events.extend(timed.iter().copied());
                timed
            };
            for e in events {
                self.link.submit_event(now, e);
            }
            out.clear();
            self.link.poll_transmit(&mut out);
            if out.is_empty() || paused {
                continue;
            }
            let wire = self.apply_faults(&out);
            // A full PTY buffer (nobody reading) must not stall the card.
            let _ = pty.master.write_all(&wire);
        }
    }

    /// Drops, duplicates and prefixes garbage to outgoing frames as planned.
    fn apply_faults(&self, bytes: &[u8]) -> Vec<u8> {
        let mut s = self.lock();
        let f = &mut s.faults;
        let mut wire = std::mem::take(&mut f.garbage);
        for frame in bytes.split_inclusive(|&b| b == 0) {
            if frame.len() > 1 && f.drop_frames > 0 {
                f.drop_frames -= 1;
                continue;
            }
            wire.extend_from_slice(frame);
            if frame.len() > 1 && f.duplicate_frames > 0 {
                f.duplicate_frames -= 1;
                wire.extend_from_slice(frame);
            }
        }
        wire
    }
}
