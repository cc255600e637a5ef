//! Models of what hangs on each simulated port: a phone on an FXS port, a line from an
//! exchange on an FXO port. Each is fed the card clock and the gateway's commands and
//! produces the events a real card would report.

use crate::model::hookflash::{HookClassifier, HookTiming, Loop};
use crate::model::{CmdResult, Command, Event, Gain, Polarity, PortKind, RingCadence};
use std::collections::VecDeque;
use std::fmt;

/// Dial pulse timing of the simulated phone: 10 pulses/s, 60 ms break, 40 ms make
/// (ITU-T Q.112), 700 ms between digits.
pub const PULSE_BREAK_MS: u32 = 60;
pub const PULSE_MAKE_MS: u32 = 40;
pub const INTERDIGIT_MS: u32 = 700;
/// Break length of a simulated hook flash.
pub const FLASH_MS: u32 = 300;
/// Spacing of card-decoded DTMF digits: 80 ms tone, 80 ms pause.
pub const DTMF_ON_MS: u16 = 80;
pub const DTMF_GAP_MS: u32 = 160;
/// Loop current a seized FXO line reports.
pub const LOOP_MILLIAMPS: u8 = 25;

/// A ring cadence being played, on either kind of port.
#[derive(Debug, Clone)]
struct Ringing {
    cadence: RingCadence,
    step: usize,
    on: bool,
    since: u32,
    /// Length of the last silent period, for FXO ring-stop reports.
    last_off_ms: u16,
}

impl Ringing {
    fn new(cadence: RingCadence, now: u32) -> Self {
        Ringing {
            cadence,
            step: 0,
            on: true,
            since: now,
            last_off_ms: 0,
        }
    }

    /// When the current burst or silence ends.
    fn next_change(&self) -> u32 {
        let s = self.cadence.steps[self.step];
        self.since
            .wrapping_add(u32::from(if self.on { s.on_ms } else { s.off_ms }))
    }

    /// Advances; returns `Some(true)` when a burst starts, `Some(false)` when one ends.
    fn tick(&mut self, now: u32) -> Option<bool> {
        let s = self.cadence.steps[self.step];
        let len = u32::from(if self.on { s.on_ms } else { s.off_ms });
        if now.wrapping_sub(self.since) < len {
            return None;
        }
        self.since = self.since.wrapping_add(len);
        if self.on {
            self.on = false;
            Some(false)
        } else {
            self.last_off_ms = s.off_ms;
            self.on = true;
            self.step = (self.step + 1) % self.cadence.steps.len();
            Some(true)
        }
    }
}

/// The simulated phone on an FXS port.
#[derive(Debug, Clone)]
pub struct Phone {
    classifier: HookClassifier,
    loop_closed: bool,
    /// Scheduled loop transitions (hook switch, dial pulses, flash).
    hook_plan: VecDeque<(u32, Loop)>,
    ringing: Option<Ringing>,
    /// Ring bursts heard since the ringing started.
    pub rings: u32,
    /// Go off-hook after this many rings.
    pub answer_after: Option<u32>,
    pub polarity: Polarity,
    pub on_hook_transmission: bool,
    pub gain: Gain,
    /// Audio bytes (S16_LE) received while on-hook with on-hook transmission on: the
    /// caller-ID signal, kept raw for a decoder to analyse.
    pub caller_id: Vec<u8>,
    /// The message-waiting lamp.
    pub lamp: bool,
}

/// The simulated exchange line on an FXO port.
#[derive(Debug, Clone)]
pub struct Line {
    ringing: Option<Ringing>,
    pub seized: bool,
    pub battery: bool,
    pub polarity_reversed: bool,
    /// Digits the gateway pulse-dialled.
    pub dialled: String,
    pub flashes: u32,
    pub gain: Gain,
}

/// One simulated port.
#[derive(Debug, Clone)]
pub enum SimPort {
    Fxs(Phone),
    Fxo(Line),
}

const NO_GAIN: Gain = Gain {
    tx_tenth_db: 0,
    rx_tenth_db: 0,
};

impl SimPort {
    pub fn new(kind: PortKind) -> Self {
        match kind {
            PortKind::Fxs => SimPort::Fxs(Phone {
                classifier: HookClassifier::new(HookTiming::default()),
                loop_closed: false,
                hook_plan: VecDeque::new(),
                ringing: None,
                rings: 0,
                answer_after: None,
                polarity: Polarity::Normal,
                on_hook_transmission: false,
                gain: NO_GAIN,
                caller_id: Vec::new(),
                lamp: false,
            }),
            PortKind::Fxo => SimPort::Fxo(Line {
                ringing: None,
                seized: false,
                battery: true,
                polarity_reversed: false,
                dialled: String::new(),
                flashes: 0,
                gain: NO_GAIN,
            }),
        }
    }

    pub fn kind(&self) -> PortKind {
        match self {
            SimPort::Fxs(_) => PortKind::Fxs,
            SimPort::Fxo(_) => PortKind::Fxo,
        }
    }

    /// Carries out a gateway command; events it causes go to `out`.
    pub fn apply(&mut self, now: u32, cmd: &Command, out: &mut Vec<Event>) -> CmdResult {
        if !cmd.applies_to(self.kind()) {
            return CmdResult::WrongPortKind;
        }
        match (self, cmd) {
            (SimPort::Fxs(p), Command::Ring(c)) => {
                if c.steps.is_empty() || c.steps.iter().all(|s| s.on_ms == 0 && s.off_ms == 0) {
                    return CmdResult::InvalidArgument;
                }
                if p.classifier.is_off_hook() || p.loop_closed {
                    return CmdResult::Busy;
                }
                p.ringing = Some(Ringing::new(c.clone(), now));
                p.rings = 0;
                CmdResult::Ok
            }
            (SimPort::Fxs(p), Command::StopRing) => {
                p.ringing = None;
                CmdResult::Ok
            }
            (SimPort::Fxs(p), Command::SetPolarity(pol)) => {
                p.polarity = *pol;
                CmdResult::Ok
            }
            (SimPort::Fxs(p), Command::OnHookTransmission { enable }) => {
                p.on_hook_transmission = *enable;
                CmdResult::Ok
            }
            (SimPort::Fxs(p), Command::MessageWaiting { on }) => {
                p.lamp = *on;
                CmdResult::Ok
            }
            (SimPort::Fxs(p), Command::SetGain(g)) => {
                p.gain = *g;
                CmdResult::Ok
            }
            (SimPort::Fxs(p), Command::Reset) => {
                p.ringing = None;
                p.polarity = Polarity::Normal;
                p.on_hook_transmission = false;
                p.lamp = false;
                p.gain = NO_GAIN;
                CmdResult::Ok
            }
            (SimPort::Fxo(l), Command::Seize) => {
                if !l.battery {
                    return CmdResult::Failed;
                }
                l.ringing = None;
                if !l.seized {
                    l.seized = true;
                    out.push(Event::LoopCurrentOn {
                        milliamps: LOOP_MILLIAMPS,
                    });
                }
                CmdResult::Ok
            }
            (SimPort::Fxo(l), Command::Release) => {
                l.seized = false;
                l.polarity_reversed = false;
                CmdResult::Ok
            }
            (SimPort::Fxo(l), Command::HookFlash { .. }) => {
                if !l.seized {
                    return CmdResult::Busy;
                }
                l.flashes += 1;
                CmdResult::Ok
            }
            (SimPort::Fxo(l), Command::PulseDial { digits }) => {
                if digits.iter().any(|&d| d > 9) {
                    return CmdResult::InvalidArgument;
                }
                if !l.seized {
                    return CmdResult::Busy;
                }
                l.dialled
                    .extend(digits.iter().map(|&d| char::from(b'0' + d)));
                CmdResult::Ok
            }
            (SimPort::Fxo(l), Command::SetGain(g)) => {
                l.gain = *g;
                CmdResult::Ok
            }
            (SimPort::Fxo(l), Command::Reset) => {
                l.ringing = None;
                l.seized = false;
                l.polarity_reversed = false;
                l.gain = NO_GAIN;
                CmdResult::Ok
            }
            // applies_to() above rejected every other pairing.
            _ => CmdResult::WrongPortKind,
        }
    }

    /// The next card-clock millisecond at which [`SimPort::tick`] has something to do (a
    /// scheduled hook transition, a hook classification, a ring cadence step), if any: a
    /// simulation on virtual time moves its clock there instead of ticking.
    pub fn next_deadline(&self) -> Option<u32> {
        match self {
            SimPort::Fxs(p) => [
                p.hook_plan.front().map(|&(at, _)| at),
                p.classifier.next_deadline(),
                p.ringing.as_ref().map(Ringing::next_change),
            ]
            .into_iter()
            .flatten()
            .min(),
            SimPort::Fxo(l) => l.ringing.as_ref().map(Ringing::next_change),
        }
    }

    /// Lets time pass to `now`; events go to `out`.
    pub fn tick(&mut self, now: u32, out: &mut Vec<Event>) {
        match self {
            SimPort::Fxs(p) => p.tick(now, out),
            SimPort::Fxo(l) => l.tick(now, out),
        }
    }
}

impl Phone {
    fn tick(&mut self, now: u32, out: &mut Vec<Event>) {
        while let Some(&(at, to)) = self.hook_plan.front() {
            if now.wrapping_sub(at) > u32::MAX / 2 {
                break; // `at` is still in the future
            }
            self.hook_plan.pop_front();
            self.loop_closed = to == Loop::Closed;
            if self.loop_closed {
                // Ring trip: the phone answered.
                self.ringing = None;
            }
            out.extend(self.classifier.transition(at, to));
        }
        out.extend(self.classifier.poll(now));
        if let Some(r) = &mut self.ringing {
            while let Some(started) = r.tick(now) {
                if !started {
                    self.rings += 1;
                    if self.answer_after.is_some_and(|n| self.rings >= n) && !self.loop_closed {
                        self.hook_plan.push_back((now, Loop::Closed));
                    }
                }
            }
        }
    }

    /// When the last scheduled hook transition happens (now if none).
    fn plan_end(&self, now: u32) -> u32 {
        self.hook_plan.back().map_or(now, |&(t, _)| t.max(now))
    }

    pub fn off_hook(&mut self, now: u32) {
        let t = self.plan_end(now);
        self.hook_plan.push_back((t, Loop::Closed));
    }

    pub fn on_hook(&mut self, now: u32) {
        let t = self.plan_end(now);
        self.hook_plan.push_back((t, Loop::Open));
    }

    pub fn flash(&mut self, now: u32) {
        let t = self.plan_end(now);
        self.hook_plan.push_back((t, Loop::Open));
        self.hook_plan.push_back((t + FLASH_MS, Loop::Closed));
    }

    /// Schedules decadic dialling of `digits` (0-9) and returns when it ends.
    pub fn pulse_dial(&mut self, now: u32, digits: &[u8]) -> u32 {
        let mut t = self.plan_end(now);
        for &d in digits {
            let pulses = if d == 0 { 10 } else { u32::from(d) };
            for _ in 0..pulses {
                self.hook_plan.push_back((t, Loop::Open));
                t += PULSE_BREAK_MS;
                self.hook_plan.push_back((t, Loop::Closed));
                t += PULSE_MAKE_MS;
            }
            t += INTERDIGIT_MS;
        }
        t
    }

    pub fn is_off_hook(&self) -> bool {
        self.loop_closed
    }

    pub fn is_ringing(&self) -> bool {
        self.ringing.is_some()
    }

    /// Whether the phone is receiving an on-hook (caller-ID) transmission now.
    pub fn capturing_caller_id(&self) -> bool {
        self.on_hook_transmission && !self.loop_closed
    }
}

impl Line {
    fn tick(&mut self, now: u32, out: &mut Vec<Event>) {
        if let Some(r) = &mut self.ringing {
            while let Some(started) = r.tick(now) {
                if started {
                    out.push(Event::RingStart);
                } else {
                    let on_ms = r.cadence.steps[r.step].on_ms;
                    out.push(Event::RingStop {
                        on_ms,
                        off_ms: r.last_off_ms,
                    });
                }
            }
        }
    }

    /// The exchange starts ringing the line.
    pub fn ring(&mut self, now: u32, cadence: RingCadence, out: &mut Vec<Event>) {
        if self.seized || cadence.steps.is_empty() {
            return;
        }
        self.ringing = Some(Ringing::new(cadence, now));
        out.push(Event::RingStart);
    }

    pub fn stop_ring(&mut self) {
        self.ringing = None;
    }

    pub fn is_ringing(&self) -> bool {
        self.ringing.is_some()
    }

    /// The far end answered: polarity reversal (answer supervision).
    pub fn far_answer(&mut self, out: &mut Vec<Event>) {
        self.polarity_reversed = !self.polarity_reversed;
        out.push(Event::PolarityReversal);
    }

    /// The far end hung up: the exchange drops loop current.
    pub fn far_hangup(&mut self, out: &mut Vec<Event>) {
        if self.seized {
            out.push(Event::LoopCurrentOff);
        }
    }

    pub fn lose_battery(&mut self, out: &mut Vec<Event>) {
        self.battery = false;
        self.ringing = None;
        out.push(Event::BatteryLost);
    }

    pub fn restore_battery(&mut self, out: &mut Vec<Event>) {
        self.battery = true;
        out.push(Event::LineVoltage { volts: -48 });
    }
}

impl fmt::Display for SimPort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SimPort::Fxs(p) => write!(
                f,
                "fxs {} {}rings={} polarity={:?} oht={} gain={}/{} callerid={}B",
                if p.loop_closed { "off-hook" } else { "on-hook" },
                if p.is_ringing() { "RINGING " } else { "" },
                p.rings,
                p.polarity,
                p.on_hook_transmission,
                p.gain.tx_tenth_db,
                p.gain.rx_tenth_db,
                p.caller_id.len()
            ),
            SimPort::Fxo(l) => write!(
                f,
                "fxo {} {}battery={} reversed={} dialled={:?} flashes={} gain={}/{}",
                if l.seized { "seized" } else { "idle" },
                if l.is_ringing() { "RINGING " } else { "" },
                l.battery,
                l.polarity_reversed,
                l.dialled,
                l.flashes,
                l.gain.tx_tenth_db,
                l.gain.rx_tenth_db
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::RingStep;

    /// Ticking only at the deadlines the model gives yields the events of ticking every
    /// millisecond, at the same instants.
    #[test]
    fn ticking_at_the_deadlines_misses_nothing() {
        let mut cadence = RingCadence {
            frequency_hz: 20,
            steps: heapless::Vec::new(),
        };
        cadence
            .steps
            .push(RingStep {
                on_ms: 400,
                off_ms: 200,
            })
            .unwrap();
        let script = |p: &mut SimPort, now: u32, out: &mut Vec<Event>| match now {
            0 => {
                let SimPort::Fxs(ph) = p else { unreachable!() };
                ph.off_hook(0);
                ph.pulse_dial(50, &[3]);
                ph.flash(2_000);
                ph.on_hook(4_000);
            }
            6_000 => assert_eq!(
                p.apply(now, &Command::Ring(cadence.clone()), out),
                CmdResult::Ok
            ),
            _ => {}
        };
        let mut every = SimPort::new(PortKind::Fxs);
        let mut seen_every = Vec::new();
        for now in 0..8_000 {
            let mut out = Vec::new();
            script(&mut every, now, &mut out);
            every.tick(now, &mut out);
            seen_every.extend(out.into_iter().map(|e| (now, e)));
        }
        let mut sparse = SimPort::new(PortKind::Fxs);
        let mut seen_sparse = Vec::new();
        let mut now = 0;
        let mut out = Vec::new();
        script(&mut sparse, 0, &mut out);
        while now < 8_000 {
            sparse.tick(now, &mut out);
            seen_sparse.extend(out.drain(..).map(|e| (now, e)));
            let next = sparse.next_deadline().filter(|&d| d > now).unwrap_or(8_000);
            // The scripted ring command is an input of its own.
            now = if now < 6_000 { next.min(6_000) } else { next };
            script(&mut sparse, now, &mut out);
        }
        assert!(!seen_every.is_empty());
        assert_eq!(seen_sparse, seen_every);
    }
}
