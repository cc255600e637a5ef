//! The main loop's state and its handlers: what each card event, SIP side event, bridge
//! report and deadline does to the ports, and how the ports' actions are carried out.
//! [`super::run`] owns the loop (the `select!`) and the shutdown sequence.

use super::Log;
use super::hal::{Card, CardMessage, HalEvent};
use super::ports::{BridgeReport, PortIo};
use super::sip_side::{FromLine, PortEvent};
use crate::bridge::{Report, StatsSnapshot};
use crate::port::{Input, MediaCommand, Output};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use tipring_hal::driver::DriverEvent;
use tokio::sync::mpsc;

/// The loop's longest sleep with nothing to do.
const IDLE: Duration = Duration::from_secs(3600);

/// What the loop should do after an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Continue,
    /// The card's driver thread has gone: nothing more can happen on the lines.
    Stop,
    /// The card's link came up (the first time: the service is ready).
    LinkUp,
}

/// The ports and the queues to the card and the SIP side.
pub struct Runtime {
    pub log: Log,
    pub ports: BTreeMap<u8, PortIo>,
    card: Card,
    sip: mpsc::Sender<FromLine>,
}

impl Runtime {
    pub fn new(
        log: Log,
        ports: BTreeMap<u8, PortIo>,
        card: Card,
        sip: mpsc::Sender<FromLine>,
    ) -> Runtime {
        Runtime {
            log,
            ports,
            card,
            sip,
        }
    }

    /// When the loop must wake next: a port deadline, a card command's timeout or another
    /// deadline the caller has (the watchdog); events wake it sooner.
    pub fn wake(&self, now: Instant, other: Option<Instant>) -> Instant {
        self.ports
            .values()
            .filter_map(|p| p.port.poll_timeout())
            .chain(self.card.poll_timeout())
            .chain(other)
            .min()
            .unwrap_or(now + IDLE)
    }

    /// A message from the card's driver thread (`None`: the thread has ended).
    pub fn on_card_message(&mut self, m: Option<CardMessage>) -> Flow {
        match m {
            Some(m) => match self.card.on_message(m) {
                Some(ev) => self.on_card(Some(ev)),
                None => Flow::Continue,
            },
            None => self.on_card(None),
        }
    }

    /// An event from the card (`None`: the driver's thread has ended).
    pub fn on_card(&mut self, ev: Option<HalEvent>) -> Flow {
        let log = self.log;
        match ev {
            Some(HalEvent::Driver(DriverEvent::Event(e))) => {
                if self.ports.contains_key(&e.port) {
                    log.line(format_args!("port {}: card {:?}", e.port, e.event));
                    self.input(e.port, Instant::now(), Input::Line(e.event));
                }
            }
            Some(HalEvent::Driver(DriverEvent::LinkUp(h))) => {
                log.line(format_args!("line card link up: {h:?}"));
                return Flow::LinkUp;
            }
            Some(HalEvent::Driver(other)) => log.line(format_args!("line card: {other:?}")),
            Some(HalEvent::CommandFailed { port, command, why }) => {
                log.line(format_args!("port {port}: card refused {command:?}: {why}"));
            }
            None => {
                log.line(format_args!("line card driver stopped"));
                return Flow::Stop;
            }
        }
        Flow::Continue
    }

    /// An event from the SIP side.
    pub fn on_sip(&mut self, ev: PortEvent) {
        let log = self.log;
        match ev {
            PortEvent::Call { port, event } => {
                if self.ports.contains_key(&port) {
                    log.line(format_args!("port {port}: SIP {event:?}"));
                    self.input(port, Instant::now(), Input::Sip(event));
                }
            }
            PortEvent::Media { port, media } => {
                if self.ports.contains_key(&port) {
                    log.line(format_args!(
                        "port {port}: media {:?} pt {} events {:?} to {}{}",
                        media.law,
                        media.payload_type,
                        media.event_payload_type,
                        media.remote,
                        if media.send {
                            ""
                        } else {
                            " (held: not sending)"
                        }
                    ));
                    self.input(port, Instant::now(), Input::FarMedia(media));
                }
            }
            PortEvent::Wire {
                outbound,
                peer,
                summary,
                call_id,
            } => {
                let arrow = if outbound { "->" } else { "<-" };
                let _span = call_id.map(|c| tracing::info_span!("sip", call_id = %c).entered());
                log.line(format_args!("SIP {arrow} {peer} {summary}"));
            }
            PortEvent::Notice(n) => log.line(format_args!("SIP: {n}")),
        }
    }

    /// A report of a port's bridge (one from a bridge since stopped is dropped).
    pub fn on_report(&mut self, r: BridgeReport) {
        let log = self.log;
        if !self.ports.get(&r.port).is_some_and(|p| p.is_current(&r)) {
            return;
        }
        if r.report != Report::LineActivity {
            log.line(format_args!("port {}: audio {:?}", r.port, r.report));
        }
        self.input(r.port, Instant::now(), Input::Media(r.report));
    }

    /// The ports' deadlines and card commands' timeouts due by `now`.
    pub fn on_timeout(&mut self, now: Instant) {
        for ev in self.card.on_timeout(now) {
            self.on_card(Some(ev));
        }
        let due: Vec<u8> = self
            .ports
            .iter()
            .filter(|(_, p)| p.port.poll_timeout().is_some_and(|d| d <= now))
            .map(|(i, _)| *i)
            .collect();
        for i in due {
            self.input(i, now, Input::Timeout);
        }
    }

    /// Ends every call (BYE, CANCEL or a refusal), puts the lines down, stops the bridges.
    pub fn shutdown(&mut self) {
        let indices: Vec<u8> = self.ports.keys().copied().collect();
        for i in indices {
            self.input(i, Instant::now(), Input::Shutdown);
        }
    }

    /// Whether the card has answered every command sent.
    pub fn card_settled(&self) -> bool {
        self.card.is_settled()
    }

    /// Stops what still runs and hands back the card, to be dropped last (after its
    /// queue).
    pub fn finish(mut self) -> Card {
        for p in self.ports.values_mut() {
            p.stop_bridge();
        }
        self.card
    }

    /// Feeds one port and carries its outputs out.
    fn input(&mut self, i: u8, now: Instant, input: Input) {
        if let Some(p) = self.ports.get_mut(&i) {
            p.port.handle(now, input);
            self.carry_out(i);
        }
    }

    /// Carries out one port's outputs: card commands to the driver, intents and line
    /// idleness to the SIP side, media commands to the port's bridge.
    fn carry_out(&mut self, i: u8) {
        let log = self.log;
        let Some(p) = self.ports.get_mut(&i) else {
            return;
        };
        while let Some(o) = p.port.poll_output() {
            match o {
                Output::Card(c) => {
                    log.line(format_args!("port {i}: card <- {c:?}"));
                    if let Some(HalEvent::CommandFailed { command, why, .. }) =
                        self.card.send(Instant::now(), i, c)
                    {
                        log.line(format_args!("port {i}: card refused {command:?}: {why}"));
                    }
                }
                Output::Sip(intent) => {
                    log.line(format_args!("port {i}: SIP <- {intent:?}"));
                    if self.sip.try_send(FromLine::Intent(i, intent)).is_err() {
                        log.line(format_args!("port {i}: SIP side queue full or gone"));
                    }
                }
                Output::Idle(idle) => {
                    if self.sip.try_send(FromLine::LineIdle(i, idle)).is_err() {
                        log.line(format_args!("port {i}: SIP side queue full or gone"));
                    }
                }
                Output::Media(MediaCommand::Start(media)) => match p.start_bridge(media) {
                    Ok(before) => {
                        if let Some(s) = before {
                            log_stats(&log, i, &s);
                        }
                        match media {
                            Some(m) => log.line(format_args!("port {i}: bridge to {}", m.remote)),
                            None => log.line(format_args!("port {i}: bridge on the line")),
                        }
                    }
                    Err(e) => log.line(format_args!("port {i}: bridge failed to start: {e}")),
                },
                Output::Media(MediaCommand::Stop) => {
                    if let Some(s) = p.stop_bridge() {
                        log_stats(&log, i, &s);
                    }
                }
                Output::Media(MediaCommand::Control(c)) => p.control(c),
            }
        }
    }
}

fn log_stats(log: &Log, port: u8, s: &StatsSnapshot) {
    log.line(format_args!(
        "port {port}: bridge stopped: RTP {} sent, {} received, {} lost, {} late, {} concealed, jitter {} ts, {} events sent",
        s.rtp_sent, s.rtp_received, s.lost, s.late, s.concealed, s.jitter, s.events_sent
    ));
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{IpAddr, Ipv4Addr};
    use std::path::PathBuf;
    use tipring_hal::model::{Event, TimedEvent};

    fn card_event(port: u8, event: Event) -> Option<HalEvent> {
        Some(HalEvent::Driver(DriverEvent::Event(TimedEvent {
            at_ms: 0,
            port,
            event,
        })))
    }

    fn drain(rx: &mut mpsc::Receiver<FromLine>) -> Vec<FromLine> {
        let mut out = Vec::new();
        while let Ok(m) = rx.try_recv() {
            out.push(m);
        }
        out
    }

    #[test]
    fn the_sip_side_hears_when_a_line_leaves_idle_and_returns() {
        let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let loaded = crate::config::load(
            &repo.join("tests/data/config/good.toml"),
            &repo.join("board"),
        )
        .unwrap();
        let (reports, _reports_rx) = mpsc::channel(1);
        let ports =
            super::super::ports::open(&loaded, IpAddr::V4(Ipv4Addr::LOCALHOST), &reports).unwrap();
        let settings = tipring_hal::driver::SerialSettings::new("/nonexistent/tipring-card");
        let (card, _card_rx) = Card::start(settings).unwrap();
        let (sip, mut sip_rx) = mpsc::channel(64);
        let mut rt = Runtime::new(Log::new(), ports, card, sip);
        // Port 0 (FXS, dial plan): off-hook leaves idle, once.
        rt.on_card(card_event(0, Event::OffHook));
        assert_eq!(drain(&mut sip_rx), vec![FromLine::LineIdle(0, false)]);
        rt.on_timeout(Instant::now());
        assert_eq!(drain(&mut sip_rx), vec![]);
        // On-hook: idle again.
        rt.on_card(card_event(0, Event::OnHook));
        assert_eq!(drain(&mut sip_rx), vec![FromLine::LineIdle(0, true)]);
        rt.finish();
    }
}
