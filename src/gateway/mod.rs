//! The running gateway (`tipring run`): the line card's driver, one [`line::PortRunner`]
//! per configured port with its RTP socket and media bridge, and the SIP side, joined by
//! one main loop.
//!
//! The main loop is a current-thread tokio task selecting over the card's events (from the
//! hal driver's thread), the SIP side's port events, the bridges' reports, the port
//! machines' deadlines, the systemd watchdog and SIGTERM/SIGINT. Bridges run on their own
//! threads (paced by the port's audio) and are only ever sent bounded-queue commands, so
//! signalling never blocks audio. One line per event of interest goes to stderr.

mod collect;
mod hal;
pub mod line;
pub mod measure;
mod ports;
pub mod sip_side;
pub mod testbed;

pub use collect::PlanCollector;
pub use line::{Action, PortRunner};

use crate::call::SipIntent;
use crate::config::{Loaded, Transport};
use crate::service::{Notifier, WatchdogPacer, notify::watchdog_interval_from_env};
use hal::HalEvent;
use ports::Port;
use sip_side::{PortEvent, SipSide};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tipring_hal::driver::DriverEvent;
use tokio::sync::{mpsc, watch};

/// How often bridge reports are collected while a bridge runs (one audio frame).
const REPORT_TICK: Duration = Duration::from_millis(10);
/// Longest wait for the SIP side to finish its goodbyes (BYE, un-REGISTER) at shutdown.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(4);
/// Depth of the queues between the main loop and the SIP side.
const SIP_QUEUE: usize = 256;

/// Why the gateway could not run.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    #[error("no UDP SIP listener in [identity].listen")]
    NoUdpListener,
    #[error("RTP socket for port {port}: no free even port in {min}..={max} on {ip}")]
    NoRtpPort {
        port: u8,
        ip: std::net::IpAddr,
        min: u16,
        max: u16,
    },
    #[error("port {port}: {what}")]
    Port { port: u8, what: String },
    #[error("line card driver: {0}")]
    Driver(std::io::Error),
    #[error("SIP side: {0}")]
    Sip(String),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// The log: one line per event of interest, on stderr, with the time since start.
#[derive(Debug, Clone, Copy)]
pub struct Log {
    start: Instant,
}

impl Log {
    pub fn new() -> Log {
        Log {
            start: Instant::now(),
        }
    }

    pub fn line(&self, what: std::fmt::Arguments<'_>) {
        let t = self.start.elapsed();
        eprintln!("[{:>4}.{:03}] {what}", t.as_secs(), t.subsec_millis());
    }
}

impl Default for Log {
    fn default() -> Self {
        Log::new()
    }
}

/// The gateway's SIP address: its first UDP listener.
pub fn sip_address(loaded: &Loaded) -> Result<SocketAddr, GatewayError> {
    loaded
        .config
        .identity
        .listen
        .iter()
        .find(|l| l.transport == Transport::Udp)
        .map(|l| l.address)
        .ok_or(GatewayError::NoUdpListener)
}

/// Runs the gateway until SIGTERM or SIGINT (or `stop` turning true); returns after a
/// clean shutdown: calls hung up, the SIP side's goodbyes sent, lines released.
pub async fn run(
    loaded: Loaded,
    seed: u64,
    mut stop: watch::Receiver<bool>,
) -> Result<(), GatewayError> {
    let log = Log::new();
    let local = sip_address(&loaded)?;
    let mut ports = ports::open(&loaded, local.ip(), seed)?;
    let rtp: BTreeMap<u8, SocketAddr> = ports.iter().map(|(i, p)| (*i, p.rtp_addr)).collect();
    for (i, p) in &ports {
        log.line(format_args!(
            "port {i}: {} ({}), RTP {}",
            p.kind_name(),
            p.runner.state(),
            p.rtp_addr
        ));
    }
    let mut side =
        SipSide::new(&loaded, local, &rtp, seed).map_err(|e| GatewayError::Sip(e.to_string()))?;
    side.start(Instant::now());
    let card = hal::Hal::start(loaded.board.serial_settings()).map_err(GatewayError::Driver)?;
    log.line(format_args!(
        "line card {} on {}; SIP on udp {local}",
        loaded.board.name,
        loaded.board.serial.device.display()
    ));

    let (intent_tx, intent_rx) = mpsc::channel::<(u8, SipIntent)>(SIP_QUEUE);
    let (event_tx, mut event_rx) = mpsc::channel::<PortEvent>(SIP_QUEUE);
    let (sip_stop_tx, sip_stop_rx) = watch::channel(false);
    let sip = sip_side::io::run(side, intent_rx, event_tx, sip_stop_rx);

    let main = async move {
        let notifier = Notifier::from_env().unwrap_or_else(|_| Notifier::disabled());
        let mut watchdog =
            watchdog_interval_from_env().map(|i| WatchdogPacer::new(i, Instant::now()));
        let mut ready = false;
        let mut term = signal(tokio::signal::unix::SignalKind::terminate());
        let mut int = signal(tokio::signal::unix::SignalKind::interrupt());
        let mut hal_rx = card.events;
        let mut sip_open = true;
        loop {
            let now = Instant::now();
            let deadline = ports
                .values()
                .filter_map(|p| p.runner.next_deadline())
                .chain(watchdog.as_ref().map(WatchdogPacer::deadline))
                .min();
            let bridges = ports.values().any(Port::bridge_running);
            let wake = match (deadline, bridges) {
                (Some(d), true) => d.min(now + REPORT_TICK),
                (Some(d), false) => d,
                (None, true) => now + REPORT_TICK,
                (None, false) => now + Duration::from_secs(3600),
            };
            let mut actions: Vec<(u8, Action)> = Vec::new();
            tokio::select! {
                ev = hal_rx.recv() => match ev {
                    Some(HalEvent::Driver(DriverEvent::Event(e))) => {
                        if let Some(p) = ports.get_mut(&e.port) {
                            log.line(format_args!("port {}: card {:?}", e.port, e.event));
                            let a = p.runner.line_event(Instant::now(), e.event);
                            actions.extend(a.into_iter().map(|a| (e.port, a)));
                        }
                    }
                    Some(HalEvent::Driver(DriverEvent::LinkUp(h))) => {
                        log.line(format_args!("line card link up: {h:?}"));
                        if !ready {
                            ready = true;
                            let _ = notifier.ready(&format!("{} ports, SIP on {local}", ports.len()));
                        }
                    }
                    Some(HalEvent::Driver(other)) => log.line(format_args!("line card: {other:?}")),
                    Some(HalEvent::CommandFailed { port, command, why }) => {
                        log.line(format_args!("port {port}: card refused {command:?}: {why}"));
                    }
                    None => {
                        log.line(format_args!("line card driver stopped"));
                        break;
                    }
                },
                ev = event_rx.recv(), if sip_open => match ev {
                    Some(PortEvent::Call { port, event }) => {
                        if let Some(p) = ports.get_mut(&port) {
                            log.line(format_args!("port {port}: SIP {event:?}"));
                            let a = p.runner.sip_event(Instant::now(), event);
                            actions.extend(a.into_iter().map(|a| (port, a)));
                        }
                    }
                    Some(PortEvent::Media { port, media }) => {
                        if let Some(p) = ports.get_mut(&port) {
                            log.line(format_args!(
                                "port {port}: media {:?} pt {} events {:?} to {}",
                                media.law, media.payload_type, media.event_payload_type, media.remote
                            ));
                            let a = p.runner.media(Instant::now(), media);
                            actions.extend(a.into_iter().map(|a| (port, a)));
                        }
                    }
                    Some(PortEvent::Wire { outbound, peer, summary }) => {
                        let arrow = if outbound { "->" } else { "<-" };
                        log.line(format_args!("SIP {arrow} {peer} {summary}"));
                    }
                    Some(PortEvent::Notice(n)) => log.line(format_args!("SIP: {n}")),
                    None => {
                        log.line(format_args!("SIP side stopped"));
                        sip_open = false;
                    }
                },
                _ = tokio::time::sleep_until(wake.into()) => {}
                _ = recv_signal(&mut term) => {
                    log.line(format_args!("SIGTERM: shutting down"));
                    break;
                }
                _ = recv_signal(&mut int) => {
                    log.line(format_args!("SIGINT: shutting down"));
                    break;
                }
                _ = stop.changed() => {
                    log.line(format_args!("stop requested: shutting down"));
                    break;
                }
            }
            let now = Instant::now();
            for (i, p) in ports.iter_mut() {
                for r in p.reports() {
                    if r != crate::bridge::Report::LineActivity {
                        log.line(format_args!("port {i}: audio {r:?}"));
                    }
                    let a = p.runner.bridge_report(now, r);
                    actions.extend(a.into_iter().map(|a| (*i, a)));
                }
                if p.runner.next_deadline().is_some_and(|d| d <= now) {
                    let a = p.runner.poll(now);
                    actions.extend(a.into_iter().map(|a| (*i, a)));
                }
            }
            carry_out(&log, &mut ports, &card.commands, &intent_tx, actions);
            if let Some(w) = watchdog.as_mut()
                && w.poll(now)
            {
                let _ = notifier.watchdog();
            }
        }
        // Clean shutdown: end every call, then let the SIP side say goodbye.
        let _ = notifier.stopping();
        let mut actions = Vec::new();
        for (i, p) in ports.iter_mut() {
            actions.extend(p.runner.shutdown().into_iter().map(|a| (*i, a)));
        }
        carry_out(&log, &mut ports, &card.commands, &intent_tx, actions);
        let _ = sip_stop_tx.send(true);
        // Keep draining the SIP side's events (its ladder) until it has finished.
        let end = Instant::now() + SHUTDOWN_GRACE;
        while sip_open {
            match tokio::time::timeout_at(end.into(), event_rx.recv()).await {
                Ok(Some(PortEvent::Wire {
                    outbound,
                    peer,
                    summary,
                })) => {
                    let arrow = if outbound { "->" } else { "<-" };
                    log.line(format_args!("SIP {arrow} {peer} {summary}"));
                }
                Ok(Some(_)) => {}
                Ok(None) | Err(_) => sip_open = false,
            }
        }
        drop(intent_tx);
        for p in ports.values_mut() {
            p.stop_bridge();
        }
        // The last commands (releases) reach the card before the process ends.
        drop(card.commands);
        let _ = card.thread.join();
        log.line(format_args!("stopped"));
    };
    let (sip_result, ()) = tokio::join!(
        async {
            let r = sip.await;
            if let Err(e) = &r {
                log.line(format_args!("SIP side failed: {e}"));
            }
            r
        },
        main
    );
    sip_result.map_err(|e| GatewayError::Sip(e.to_string()))
}

/// Carries out the runners' actions: card commands to the hal thread, intents to the SIP
/// side, bridge starts, stops and commands.
fn carry_out(
    log: &Log,
    ports: &mut BTreeMap<u8, Port>,
    card: &std::sync::mpsc::Sender<(u8, tipring_hal::model::Command)>,
    sip: &mpsc::Sender<(u8, SipIntent)>,
    actions: Vec<(u8, Action)>,
) {
    for (i, a) in actions {
        let Some(p) = ports.get_mut(&i) else { continue };
        match a {
            Action::Line(c) => {
                log.line(format_args!("port {i}: card <- {c:?}"));
                let _ = card.send((i, c));
            }
            Action::Sip(intent) => {
                log.line(format_args!("port {i}: SIP <- {intent:?}"));
                if sip.try_send((i, intent)).is_err() {
                    log.line(format_args!("port {i}: SIP side queue full or gone"));
                }
            }
            Action::StartBridge(media) => match p.start_bridge(media) {
                Ok(before) => {
                    if let Some(s) = before {
                        log_stats(log, i, &s);
                    }
                    match media {
                        Some(m) => log.line(format_args!("port {i}: bridge to {}", m.remote)),
                        None => log.line(format_args!("port {i}: bridge on the line")),
                    }
                }
                Err(e) => log.line(format_args!("port {i}: bridge failed to start: {e}")),
            },
            Action::StopBridge => {
                if let Some(s) = p.stop_bridge() {
                    log_stats(log, i, &s);
                }
            }
            Action::Bridge(c) => p.control(c),
        }
    }
}

fn log_stats(log: &Log, port: u8, s: &crate::bridge::StatsSnapshot) {
    log.line(format_args!(
        "port {port}: bridge stopped: RTP {} sent, {} received, {} lost, {} late, {} concealed, jitter {} ts, {} events sent",
        s.rtp_sent, s.rtp_received, s.lost, s.late, s.concealed, s.jitter, s.events_sent
    ));
}

fn signal(kind: tokio::signal::unix::SignalKind) -> Option<tokio::signal::unix::Signal> {
    tokio::signal::unix::signal(kind).ok()
}

async fn recv_signal(s: &mut Option<tokio::signal::unix::Signal>) {
    match s {
        Some(s) => {
            s.recv().await;
        }
        None => std::future::pending().await,
    }
}
