//! The running gateway (`tipring run`): the line card's driver, one [`crate::port::Port`]
//! per configured port with its RTP socket and media bridge, and the SIP side, joined by
//! one main loop.
//!
//! The main loop is a current-thread tokio task selecting over the card's events (from the
//! hal driver's thread), the SIP side's port events, the bridges' reports, the port
//! machines' deadlines, the systemd watchdog and SIGTERM/SIGINT. Bridges run on their own
//! threads (paced by the port's audio) and are only ever sent bounded-queue commands, so
//! signalling never blocks audio. One line per event of interest goes to stderr.

pub mod dns;
mod flood;
mod hal;
mod lines;
pub(crate) mod local_ips;
mod names;
mod operator;
mod ports;
mod relays;
pub use lines::Lines;
pub use ports::MediaProfile;
mod runtime;
pub mod sip_side;
mod stun;

use crate::config::{Loaded, Transport};
use crate::ops::control::StatusSource;
use crate::service::{Notifier, WatchdogPacer, notify::watchdog_interval_from_env};
use runtime::{Flow, Runtime};
use sip_side::{FromLine, PortEvent, SipSide};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::signal::unix::SignalKind;
use tokio::sync::{mpsc, watch};

/// At shutdown, how long the line card may take to answer the last commands.
const CLOSING_GRACE: Duration = Duration::from_secs(1);
/// Depth of the queues between the main loop and the SIP side.
const SIP_QUEUE: usize = 256;
/// Status questions waiting for each side (more clients are told to come back).
const STATUS_QUEUE: usize = 4;

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
    #[error(
        "relay RTP socket (forward_mode = \"gateway\"): no free even port in {min}..={max} on {ip}"
    )]
    NoRelayPort {
        ip: std::net::IpAddr,
        min: u16,
        max: u16,
    },
    #[error("port {port}: {source}")]
    Port { port: u8, source: PortError },
    #[error("line card driver: {0}")]
    Driver(std::io::Error),
    #[error("SIP side: {0}")]
    Sip(#[from] sip_side::SipSideError),
    #[error("SIP side: {0}")]
    SipDriver(#[from] sip_side::io::DriverError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Why a port could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum PortError {
    #[error("sim board without socket_dir")]
    NoSocketDir,
    #[error("no ALSA devices in the board profile")]
    NoAlsaDevices,
    #[error("audio: {0}")]
    Audio(#[from] tipring_hal::audio::AudioError),
}

/// The gateway's log: one line per event of interest, through `tracing` at INFO (the
/// subscriber `tipring run` installs, [`crate::service::log`], writes it to stderr).
#[derive(Debug, Clone, Copy, Default)]
pub struct Log;

impl Log {
    pub fn new() -> Log {
        Log
    }

    pub fn line(&self, what: std::fmt::Arguments<'_>) {
        tracing::info!("{what}");
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

/// How a run of the gateway ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// SIGTERM, SIGINT or the stop flag.
    Stopped,
    /// A new configuration is to be applied (every line was idle).
    Reload,
}

/// What a run is given besides its configuration.
pub struct RunOptions {
    /// Test knob: predictable identifiers.
    pub seed: Option<u64>,
    /// Turning true stops the gateway.
    pub stop: watch::Receiver<bool>,
    /// Turning true stops it as soon as every line is idle, to run again with a new
    /// configuration ([`Ended::Reload`]).
    pub reload: Option<watch::Receiver<bool>>,
    /// Auto-provisioning's state, for the status.
    pub provisioning: Option<crate::ops::provision::Shared>,
    /// What the admin page needs to change the configuration (`tipring run` gives it).
    pub web: Option<crate::ops::web::Editing>,
}

/// Runs the gateway until SIGTERM or SIGINT (or `stop` turning true); returns after a
/// clean shutdown: calls hung up, the SIP side's goodbyes sent, lines released.
pub async fn run(
    loaded: Loaded,
    seed: Option<u64>,
    stop: watch::Receiver<bool>,
) -> Result<(), GatewayError> {
    let opts = RunOptions {
        seed,
        stop,
        reload: None,
        provisioning: None,
        web: None,
    };
    run_with(loaded, opts).await.map(drop)
}

/// [`run`], also stopping between calls when `opts.reload` turns true.
pub async fn run_with(loaded: Loaded, opts: RunOptions) -> Result<Ended, GatewayError> {
    let RunOptions {
        seed,
        mut stop,
        mut reload,
        provisioning,
        web,
    } = opts;
    let log = Log::new();
    if let Some(s) = seed {
        tracing::warn!(
            "--seed {s}: SIP tags, branches, Call-IDs and nonces are PREDICTABLE; \
             for tests only, never on a network"
        );
    }
    let local = sip_address(&loaded)?;
    let (report_tx, mut report_rx) = mpsc::channel(ports::REPORT_QUEUE);
    let capture = &loaded.config.capture;
    let tap = (capture.rtp_bytes > 0)
        .then(|| crate::ops::capture::RtpTap::new(capture.rtp_bytes as usize));
    let media = ports::open(&loaded, local.ip(), &report_tx, tap.as_ref())?;
    drop(report_tx);
    let lines = Lines::new(&loaded);
    let rtp: BTreeMap<u8, SocketAddr> = media.iter().map(|(i, p)| (*i, p.rtp_addr)).collect();
    for (i, p) in &media {
        log.line(format_args!(
            "port {i}: {} ({}), RTP {}",
            p.kind_name(),
            lines.port(*i).map(|p| p.state()).unwrap_or_default(),
            p.rtp_addr
        ));
    }
    let found = names::resolve(&loaded.config, local).await;
    for n in &found.failed {
        log.line(format_args!("SIP: cannot resolve {n}; requests to it fail"));
    }
    for (name, r) in found.table.iter() {
        log.line(format_args!("SIP: {name} is {r}"));
    }
    let hosts = found.table;
    // `io::run` starts it (registrations, pings).
    let mut side = SipSide::new(&loaded, local, &rtp, seed, hosts)?;
    let relays = relays::Relays::open(&loaded, local.ip())?;
    for (k, [caller, target]) in relays.addrs().iter().enumerate() {
        log.line(format_args!(
            "relay {k}: RTP {caller} (caller leg), {target} (target leg)"
        ));
    }
    side.set_relays(relays.addrs());
    if local.ip().is_unspecified() {
        side.add_local_ips(&local_ips::read());
    }
    let (card, mut card_rx) =
        hal::Card::start(loaded.board.serial_settings()).map_err(GatewayError::Driver)?;
    log.line(format_args!(
        "line card {} on {}; SIP on udp {local}",
        loaded.board.name,
        loaded.board.serial.device.display()
    ));

    let (intent_tx, intent_rx) = mpsc::channel::<FromLine>(SIP_QUEUE);
    let (event_tx, mut event_rx) = mpsc::channel::<PortEvent>(SIP_QUEUE);
    let (sip_stop_tx, sip_stop_rx) = watch::channel(false);
    let (line_q_tx, mut line_q) = mpsc::channel(STATUS_QUEUE);
    let (sip_q_tx, sip_q) = mpsc::channel(STATUS_QUEUE);
    let moved = std::sync::Arc::new(tokio::sync::Notify::new());
    side.notify_moves(moved.clone());
    let sip = sip_side::io::run(side, intent_rx, event_tx, sip_stop_rx, sip_q);
    let status = StatusSource::new(Instant::now(), line_q_tx, sip_q_tx)
        .with_provisioning(provisioning)
        .with_rtp(tap);
    let operator = operator::start(&loaded, &log, &status, local, web);
    let numbers = loaded
        .config
        .ports
        .iter()
        .filter_map(|p| Some((p.index, p.number.clone()?)))
        .collect();
    let _stun = match stun::server_address(&loaded.config, local).await {
        Some(Ok(server)) => {
            let ports = media
                .values()
                .filter_map(|p| p.stun_handle().ok())
                .chain(relays.stun_handles().unwrap_or_default())
                .collect();
            let task = stun::keep(ports, server, intent_tx.clone(), log, moved.clone());
            sip_side::io::AbortOnDrop(Some(tokio::spawn(task)))
        }
        Some(Err(e)) => {
            log.line(format_args!("STUN server: cannot resolve {e}"));
            sip_side::io::AbortOnDrop(None)
        }
        None => sip_side::io::AbortOnDrop(None),
    };
    let mut rt = Runtime::new(log, lines, media, card, intent_tx)
        .with_records(
            operator::recorder(&loaded),
            operator::record_sinks(&loaded, &log),
        )
        .with_numbers(numbers)
        .with_relays(relays, operator::recorder(&loaded));

    let main = async move {
        let notifier = Notifier::from_env().unwrap_or_else(|_| Notifier::disabled());
        let mut watchdog =
            watchdog_interval_from_env().map(|i| WatchdogPacer::new(i, Instant::now()));
        let mut ready = false;
        let mut term = signal(SignalKind::terminate());
        let mut int = signal(SignalKind::interrupt());
        let mut sip_open = true;
        let mut reload_wanted = false;
        let mut ended = Ended::Stopped;
        loop {
            let wake = rt.wake(
                Instant::now(),
                watchdog.as_ref().map(WatchdogPacer::deadline),
            );
            tokio::select! {
                m = card_rx.recv() => match rt.on_card_message(m) {
                    Flow::Continue => {}
                    Flow::Stop => break,
                    Flow::LinkUp => {
                        if !std::mem::replace(&mut ready, true) {
                            let status = format!("{} ports, SIP on {local}", rt.lines.len());
                            let _ = notifier.ready(&status);
                        }
                    }
                },
                ev = event_rx.recv(), if sip_open => match ev {
                    Some(ev) => rt.on_sip(ev),
                    None => {
                        // It failed (its error is returned below): nothing to serve.
                        log.line(format_args!("SIP side stopped: shutting down"));
                        sip_open = false;
                        break;
                    }
                },
                Some(r) = report_rx.recv() => rt.on_report(r),
                Some(q) = line_q.recv() => {
                    let _ = q.send(rt.status(Instant::now()));
                }
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
                () = reload_requested(&mut reload), if !reload_wanted => {
                    log.line(format_args!(
                        "new configuration: applied once every line is idle"
                    ));
                    reload_wanted = true;
                }
            }
            if reload_wanted && rt.lines.ports().all(|(_, p)| p.is_idle()) {
                log.line(format_args!(
                    "every line idle: restarting with the new configuration"
                ));
                ended = Ended::Reload;
                break;
            }
            let now = Instant::now();
            rt.on_timeout(now);
            if let Some(w) = watchdog.as_mut()
                && w.poll(now)
            {
                let _ = notifier.watchdog();
            }
        }
        // Clean shutdown: end every call, then let the SIP side say goodbye (its ladder
        // still logged) until it has finished.
        let _ = notifier.stopping();
        rt.shutdown();
        let _ = sip_stop_tx.send(true);
        // The SIP side ends itself within its grace; twice that is the backstop.
        let end = Instant::now() + 2 * sip_side::io::SHUTDOWN_GRACE;
        while sip_open {
            match tokio::time::timeout_at(end.into(), event_rx.recv()).await {
                Ok(Some(ev @ PortEvent::Wire { .. })) => rt.on_sip(ev),
                Ok(Some(_)) => {}
                Ok(None) | Err(_) => sip_open = false,
            }
        }
        // The last commands (releases) reach the card before the process ends.
        let end = Instant::now() + CLOSING_GRACE;
        while !rt.card_settled() {
            match tokio::time::timeout_at(end.into(), card_rx.recv()).await {
                Ok(m @ Some(_)) => {
                    rt.on_card_message(m);
                }
                Ok(None) | Err(_) => break,
            }
        }
        drop(card_rx);
        drop(rt.finish());
        log.line(format_args!("stopped"));
        ended
    };
    let (sip_result, ended) = tokio::join!(
        async {
            let r = sip.await;
            if let Err(e) = &r {
                tracing::error!("SIP side failed: {e}");
            }
            r
        },
        main
    );
    operator.stop().await;
    sip_result?;
    Ok(ended)
}

/// Resolves when `reload` turns true; never when there is none or its sender is gone.
async fn reload_requested(reload: &mut Option<watch::Receiver<bool>>) {
    if let Some(r) = reload
        && r.wait_for(|v| *v).await.is_ok()
    {
        return;
    }
    std::future::pending().await
}

fn signal(kind: SignalKind) -> Option<tokio::signal::unix::Signal> {
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
