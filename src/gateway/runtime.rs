//! The main loop's state and its handlers: what each card event, SIP side event, bridge
//! report and deadline does to the ports, and how the ports' actions are carried out.
//! [`super::run`] owns the loop (the `select!`) and the shutdown sequence.

use super::Log;
use super::hal::{Card, CardMessage, HalEvent};
use super::lines::Lines;
use super::ports::{BridgeReport, PortIo};
use super::sip_side::{FromLine, PortEvent};
use crate::bridge::StatsSnapshot;
use crate::ops::record::{CallRecord, Recorder};
use crate::ops::status::{LineStatus, PortStatus};
use crate::port::{MediaCommand, Output};
use std::collections::BTreeMap;
use std::time::{Duration, Instant, SystemTime};
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

/// The line side, its ports' media and the queues to the card and the SIP side.
pub struct Runtime {
    pub log: Log,
    pub lines: Lines,
    media: BTreeMap<u8, PortIo>,
    card: Card,
    sip: mpsc::Sender<FromLine>,
    recorder: Recorder,
    records: RecordSinks,
    numbers: BTreeMap<u8, String>,
    /// The media of calls the box forwards itself.
    relays: Option<super::relays::Relays>,
    /// Their call records, by relay.
    relay_records: Recorder,
}

/// Where ended calls' records go.
#[derive(Debug, Default)]
pub struct RecordSinks {
    pub file: Option<crate::ops::records_file::RecordsFile>,
    pub journal: Option<crate::ops::journal::Journal>,
}

impl Runtime {
    pub fn new(
        log: Log,
        lines: Lines,
        media: BTreeMap<u8, PortIo>,
        card: Card,
        sip: mpsc::Sender<FromLine>,
    ) -> Runtime {
        Runtime {
            log,
            lines,
            media,
            card,
            sip,
            recorder: Recorder::new(0.0),
            records: RecordSinks::default(),
            numbers: BTreeMap::new(),
            relays: None,
            relay_records: Recorder::new(0.0),
        }
    }

    /// Forwarded calls' media run on `relays`, their records joined with `recorder`.
    pub fn with_relays(mut self, relays: super::relays::Relays, recorder: Recorder) -> Runtime {
        self.relays = Some(relays);
        self.relay_records = recorder;
        self
    }

    /// The status shows each port's configured number.
    pub fn with_numbers(mut self, numbers: BTreeMap<u8, String>) -> Runtime {
        self.numbers = numbers;
        self
    }

    /// Call records joined with `recorder` go to `sinks`.
    pub fn with_records(mut self, recorder: Recorder, sinks: RecordSinks) -> Runtime {
        self.recorder = recorder;
        self.records = sinks;
        self
    }

    /// The line side's part of the status now.
    pub fn status(&self, now: Instant) -> LineStatus {
        let ports = self
            .lines
            .ports()
            .map(|(i, p)| {
                let live = self.media.get(&i).and_then(PortIo::stats);
                PortStatus {
                    index: i,
                    kind: self
                        .media
                        .get(&i)
                        .map_or("", PortIo::kind_name)
                        .to_ascii_lowercase(),
                    number: self.numbers.get(&i).cloned(),
                    state: p.state(),
                    call: self.recorder.call(now, i, live.as_ref()),
                    last_call: self.recorder.last(i).cloned(),
                }
            })
            .collect();
        LineStatus {
            ports,
            calls: self
                .recorder
                .counters()
                .clone()
                .merged(self.relay_records.counters()),
        }
    }

    /// When the loop must wake next: a port deadline, a card command's timeout or another
    /// deadline the caller has (the watchdog); events wake it sooner.
    pub fn wake(&self, now: Instant, other: Option<Instant>) -> Instant {
        self.lines
            .poll_timeout()
            .into_iter()
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
                self.lines.on_card(Instant::now(), e.port, e.event);
                self.carry_out();
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
        let now = Instant::now();
        match &ev {
            PortEvent::Leg { port, note } => {
                let live = self.media.get(port).and_then(PortIo::stats);
                if let Some(r) = self.recorder.on_note(
                    now,
                    SystemTime::now(),
                    *port,
                    note.clone(),
                    live.as_ref(),
                ) {
                    self.write_record(&r);
                }
            }
            PortEvent::Media { port, media } => self.recorder.on_codec(*port, codec_name(media)),
            PortEvent::Fax { port, .. } => self.recorder.on_codec(*port, "t38"),
            PortEvent::Relay { relay, leg, media } => self.relay_media(*relay, *leg, *media),
            PortEvent::Relayed { relay, port, note } => {
                self.relay_note(now, *relay, *port, note.clone())
            }
            _ => {}
        }
        self.lines.on_sip(now, ev);
        self.carry_out();
    }

    fn relay_media(
        &mut self,
        k: usize,
        leg: crate::bridge::RelayLeg,
        m: crate::bridge::MediaParams,
    ) {
        let log = self.log;
        log.line(format_args!(
            "relay {k}: {leg:?} leg {:?} pt {} to {}{}",
            m.law,
            m.payload_type,
            m.remote,
            if m.send { "" } else { " (held)" }
        ));
        if leg == crate::bridge::RelayLeg::Caller {
            self.relay_records.on_codec(relay_key(k), codec_name(&m));
        }
        if let Some(r) = self.relays.as_mut()
            && let Err(e) = r.media(k, leg, m)
        {
            log.line(format_args!("relay {k}: media not started: {e}"));
        }
    }

    /// A relayed call's note: its record, and its media stopped once it ended. The
    /// record's media figures are the caller leg's (the call that came in).
    fn relay_note(&mut self, now: Instant, k: usize, port: u8, note: crate::ops::record::LegNote) {
        let log = self.log;
        let stats = match note {
            crate::ops::record::LegNote::Ended { .. } => {
                self.relays.as_mut().and_then(|r| r.end(k))
            }
            _ => None,
        };
        if let Some([c, t]) = &stats {
            log.line(format_args!(
                "relay {k}: ended; caller leg RTP sent {} received {} lost {}, \
                 target leg RTP sent {} received {} lost {}",
                c.rtp_sent, c.rtp_received, c.lost, t.rtp_sent, t.rtp_received, t.lost
            ));
        }
        let caller_leg = stats.as_ref().map(|[c, _]| c);
        if let Some(mut r) =
            self.relay_records
                .on_note(now, SystemTime::now(), relay_key(k), note, caller_leg)
        {
            r.port = port;
            self.write_record(&r);
        }
    }

    fn write_record(&mut self, r: &CallRecord) {
        let log = self.log;
        log.line(format_args!(
            "port {}: call record: {} ({}), {:.1} s{}",
            r.port,
            r.cause.as_str(),
            r.sip_code,
            r.duration_s,
            r.mos.map(|m| format!(", MOS {m:.2}")).unwrap_or_default()
        ));
        if let Some(f) = self.records.file.as_mut()
            && let Err(e) = f.append(r)
        {
            log.line(format_args!("call record not written: {e}"));
        }
        if let Some(j) = &self.records.journal {
            let _ = j.send(r);
        }
    }

    /// A report of a port's bridge (one from a bridge since stopped is dropped).
    pub fn on_report(&mut self, r: BridgeReport) {
        if self.media.get(&r.port).is_some_and(|m| m.is_current(&r)) {
            self.lines.on_report(Instant::now(), r.port, r.report);
            self.carry_out();
        }
    }

    /// The ports' deadlines and card commands' timeouts due by `now`.
    pub fn on_timeout(&mut self, now: Instant) {
        for ev in self.card.on_timeout(now) {
            self.on_card(Some(ev));
        }
        self.lines.on_timeout(now);
        self.carry_out();
    }

    /// Ends every call (BYE, CANCEL or a refusal), puts the lines down, stops the bridges.
    pub fn shutdown(&mut self) {
        self.lines.shutdown(Instant::now());
        self.carry_out();
    }

    /// Whether the card has answered every command sent.
    pub fn card_settled(&self) -> bool {
        self.card.is_settled()
    }

    /// Stops what still runs and hands back the card, to be dropped last (after its
    /// queue).
    pub fn finish(mut self) -> Card {
        for p in self.media.values_mut() {
            p.stop_bridge();
        }
        self.card
    }

    /// Carries out the ports' outputs: card commands to the driver, intents and line
    /// idleness to the SIP side, media commands to the ports' bridges.
    fn carry_out(&mut self) {
        let log = self.log;
        while let Some((port, o)) = self.lines.poll_output() {
            let to_sip = match o {
                Output::Card(command) => {
                    if let Some(HalEvent::CommandFailed { command, why, .. }) =
                        self.card.send(Instant::now(), port, command)
                    {
                        log.line(format_args!("port {port}: card refused {command:?}: {why}"));
                    }
                    continue;
                }
                Output::Media(command) => {
                    self.media_command(port, command);
                    continue;
                }
                Output::Sip(intent) => FromLine::Intent(port, intent),
                Output::Idle(idle) => FromLine::LineIdle(port, idle),
            };
            if self.sip.try_send(to_sip).is_err() {
                log.line(format_args!("port {port}: SIP side queue full or gone"));
            }
        }
    }

    fn media_command(&mut self, i: u8, command: MediaCommand) {
        let log = self.log;
        let far_digits = self.lines.port(i).is_some_and(|p| p.far_digits());
        let Some(p) = self.media.get_mut(&i) else {
            return;
        };
        match command {
            MediaCommand::Start(media) => match p.start_bridge(media, far_digits) {
                Ok(before) => {
                    if let Some(s) = before {
                        log_stats(&log, i, &s);
                        self.recorder.on_bridge_stopped(i, &s);
                    }
                    match media {
                        Some(m) => log.line(format_args!("port {i}: bridge to {}", m.remote)),
                        None => log.line(format_args!("port {i}: bridge on the line")),
                    }
                }
                Err(e) => log.line(format_args!("port {i}: bridge failed to start: {e}")),
            },
            MediaCommand::Stop => {
                if let Some(s) = p.stop_bridge() {
                    log_stats(&log, i, &s);
                    self.recorder.on_bridge_stopped(i, &s);
                }
            }
            MediaCommand::Control(c) => p.control(c),
        }
    }
}

/// The record's name of a call's codec.
/// A relay's key in its recorder (relays are at most 64).
fn relay_key(k: usize) -> u8 {
    u8::try_from(k).unwrap_or(u8::MAX)
}

fn codec_name(m: &crate::bridge::MediaParams) -> &'static str {
    match m.law {
        tipring_media::g711::Law::Ulaw => "PCMU",
        tipring_media::g711::Law::Alaw => "PCMA",
    }
}

fn log_stats(log: &Log, port: u8, s: &StatsSnapshot) {
    log.line(format_args!(
        "port {port}: bridge stopped: RTP {} sent, {} received, {} lost, {} late, {} concealed, jitter {} ts, {} events sent, {} refused by SRTP",
        s.rtp_sent, s.rtp_received, s.lost, s.late, s.concealed, s.jitter, s.events_sent, s.srtp_refused
    ));
}
