//! The simulator thread: PTY ↔ card-role link ↔ port models, plus fault injection.

use super::audio::{AudioSockets, FrameSink, FrameSource, MAX_RECORDED, PortAudio};
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
    /// Directory for the per-port audio sockets; no audio when `None`.
    pub audio_dir: Option<PathBuf>,
}

impl SimConfig {
    /// Ports of these kinds, serial symlink and audio sockets under `dir`.
    pub fn new(ports: Vec<PortKind>, dir: &Path) -> Self {
        SimConfig {
            ports,
            link_path: dir.join("card.tty"),
            link: LinkConfig::default(),
            audio_dir: Some(dir.join("audio")),
        }
    }
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
    /// Per-port audio (sources, sinks, recording).
    pub audio: Vec<PortAudio>,
    /// Events produced by the handle, waiting for the thread to submit them.
    outbox: Vec<(PortId, Event)>,
}

/// Handle on a running simulated card. Dropping it stops the simulator.
pub struct SimCard {
    shared: Arc<Mutex<Shared>>,
    start: Instant,
    link_path: PathBuf,
    audio_dir: Option<PathBuf>,
    stop: Arc<AtomicBool>,
    threads: [Option<JoinHandle<()>>; 2],
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
            audio: cfg.ports.iter().map(|_| PortAudio::default()).collect(),
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
        let audio_thread = match &cfg.audio_dir {
            Some(dir) => {
                let socks = AudioSockets::bind(dir, cfg.ports.len())?;
                let (shared, stop) = (shared.clone(), stop.clone());
                Some(
                    std::thread::Builder::new()
                        .name("sim-audio".into())
                        .spawn(move || audio_loop(socks, shared, stop))?,
                )
            }
            None => None,
        };
        let thread = std::thread::Builder::new()
            .name("sim-card".into())
            .spawn(move || worker.run(pty))?;
        Ok(SimCard {
            shared,
            start,
            link_path: cfg.link_path,
            audio_dir: cfg.audio_dir,
            stop,
            threads: [Some(thread), audio_thread],
        })
    }

    /// Where the per-port audio sockets live, if audio is on.
    pub fn audio_dir(&self) -> Option<&Path> {
        self.audio_dir.as_deref()
    }

    /// Plays `source` towards the gateway on `port`, replacing what was playing.
    pub fn play(&self, port: PortId, source: Box<dyn FrameSource>) {
        if let Some(a) = self.lock().audio.get_mut(usize::from(port)) {
            a.source = Some(source);
        }
    }

    /// Whether `port` is still playing a source.
    pub fn is_playing(&self, port: PortId) -> bool {
        self.lock()
            .audio
            .get(usize::from(port))
            .is_some_and(|a| a.source.is_some())
    }

    /// Hands everything the gateway sends on `port` to `sink` as well.
    pub fn add_sink(&self, port: PortId, sink: Box<dyn FrameSink>) {
        if let Some(a) = self.lock().audio.get_mut(usize::from(port)) {
            a.sinks.push(sink);
        }
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
        for t in self.threads.iter_mut().filter_map(Option::take) {
            let _ = t.join();
        }
        let _ = std::fs::remove_file(&self.link_path);
    }
}

/// Audio frame period.
const FRAME_PERIOD: Duration = Duration::from_millis(20);

/// Every 20 ms (absolute schedule, so no drift): one frame out and all frames in, per port.
fn audio_loop(socks: AudioSockets, shared: Arc<Mutex<Shared>>, stop: Arc<AtomicBool>) {
    let mut next = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        next += FRAME_PERIOD;
        let now = Instant::now();
        if next > now {
            std::thread::sleep(next - now);
        } else if now - next > FRAME_PERIOD * 5 {
            next = now; // far behind (machine stalled): do not burst
        }
        let mut s = shared.lock().unwrap_or_else(|p| p.into_inner());
        let Shared { ports, audio, .. } = &mut *s;
        for (p, (a, port)) in audio.iter_mut().zip(ports.iter_mut()).enumerate() {
            let mut f = [0i16; crate::audio::FRAME_SAMPLES];
            if let Some(src) = &mut a.source
                && !src.fill(&mut f)
            {
                a.source = None;
            }
            socks.send(p, &f);
            a.frames_sent += 1;
            socks.receive(p, |got| match got {
                Some(frame) => {
                    a.frames_received += 1;
                    if a.recorded.len() + frame.len() > MAX_RECORDED {
                        a.recorded.drain(..frame.len());
                    }
                    a.recorded.extend_from_slice(&frame);
                    if let SimPort::Fxs(phone) = port
                        && phone.capturing_caller_id()
                    {
                        phone
                            .caller_id
                            .extend(frame.iter().flat_map(|s| s.to_le_bytes()));
                    }
                    for sink in &mut a.sinks {
                        sink.frame(&frame);
                    }
                }
                None => a.bad_datagrams += 1,
            });
        }
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
