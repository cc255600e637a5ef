//! Random call scenarios from a seed, and the invariants every run must keep.
//!
//! A scenario is one to three calls between the two gateways, each from a template (a
//! phone calling the other gateway's phone; a phone calling out through the other
//! gateway's PSTN line; the exchange ringing a line that goes to the other gateway's
//! phone), with the people acting at random instants: off-hook, dialling (card-decoded
//! DTMF, rotary pulses or tones into the mouthpiece), answering or not, flashing, hanging
//! up from either side, sometimes within milliseconds of each other (CANCEL against 200,
//! BYE against BYE), two phones calling each other at once (glare), over a network with
//! 0–30 % loss, 0–100 ms jitter and reordering.

use super::gateway::FRAME;
use super::{Action, FxoStyle, Step, VOICES, World};
use std::time::Duration;
use testkit::net::Link;
use tipring_hal::sim::SimPort;
use tipring_rng::SplitMix64;

/// After the last action everyone hangs up; then the gateways must come to rest (every
/// call ended on both sides, every timer run out) within this long. The longest chain:
/// a phone left ringing until the no-answer timeout (60 s) because every provisional
/// response was lost, so its caller could not CANCEL (RFC 3261 §9.1), then the final
/// response's server transaction waiting 64*T1 (32 s) for an ACK that cannot come.
pub const SETTLE: Duration = Duration::from_secs(120);

/// Overlap of talking (both ports up, both people speaking) after which each must have
/// heard the other.
const HEARD_AFTER: Duration = Duration::from_secs(3);

/// Frames of the other's voice each must then have heard, at least.
const HEARD_FRAMES: u32 = 10;

/// A line: (gateway, port).
pub type LineId = (usize, u8);

/// Two lines expected to talk to each other if their call connects.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pair {
    pub caller: LineId,
    pub callee: LineId,
}

/// One random scenario.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub seed: u64,
    pub link: Link,
    pub style: FxoStyle,
    pub answer_after_ms: [Option<u32>; 2],
    pub talk_ms: [Option<u32>; 2],
    pub steps: Vec<Step>,
    pub pairs: Vec<Pair>,
    /// When everyone hangs up.
    pub end_ms: u32,
}

struct Gen(SplitMix64);

impl Gen {
    fn below(&mut self, n: u32) -> u32 {
        (self.0.next_u64() % u64::from(n.max(1))) as u32
    }
    fn range(&mut self, lo: u32, hi: u32) -> u32 {
        lo + self.below(hi - lo + 1)
    }
    fn chance(&mut self, p: f64) -> bool {
        self.0.next_f64() < p
    }
    fn digit(&mut self) -> char {
        char::from(b'0' + self.below(10) as u8)
    }
}

/// The call templates and the lines each uses.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Template {
    /// Phone 0 of `g` calls phone 0 of the other gateway.
    Phones(usize),
    /// Phone 1 of `g` calls out through the other gateway's PSTN line (its port 2).
    Pstn(usize),
    /// The exchange rings port 3 of `g`, whose hotline is the other gateway's phone 0.
    RingIn(usize),
}

impl Template {
    fn lines(self) -> [LineId; 2] {
        match self {
            Template::Phones(g) => [(g, 0), (1 - g, 0)],
            Template::Pstn(g) => [(g, 1), (1 - g, 2)],
            Template::RingIn(g) => [(g, 3), (1 - g, 0)],
        }
    }
}

impl Scenario {
    pub fn generate(seed: u64) -> Scenario {
        let mut r = Gen(SplitMix64::new(seed));
        let link = Link::IDEAL
            .latency(Duration::from_millis(u64::from(r.range(0, 60))))
            .jitter(Duration::from_millis(u64::from(r.range(0, 100))))
            .loss(f64::from(r.range(0, 30)) / 100.0)
            .reorder(if r.chance(0.3) { 0.05 } else { 0.0 });
        let style = FxoStyle {
            pulse: r.chance(0.5),
            polarity_answer: r.chance(0.5),
            fax: [None; 2],
        };
        let pick = |r: &mut Gen| {
            if r.chance(0.8) {
                Some(r.range(500, 12_000))
            } else {
                None
            }
        };
        let answer_after_ms = [pick(&mut r), pick(&mut r)];
        let talk_ms = [pick(&mut r), pick(&mut r)];
        let mut s = Scenario {
            seed,
            link,
            style,
            answer_after_ms,
            talk_ms,
            steps: Vec::new(),
            pairs: Vec::new(),
            end_ms: 0,
        };
        let mut used: Vec<LineId> = Vec::new();
        let glare = r.chance(0.08);
        let mut all = [
            Template::Phones(0),
            Template::Phones(1),
            Template::Pstn(0),
            Template::Pstn(1),
            Template::RingIn(0),
            Template::RingIn(1),
        ];
        // Shuffle (Fisher-Yates).
        for i in (1..all.len()).rev() {
            let j = r.below(i as u32 + 1) as usize;
            all.swap(i, j);
        }
        let start = r.range(0, 3_000);
        for t in all {
            let lines = t.lines();
            let glaring = glare && matches!(t, Template::Phones(_)) && used.contains(&lines[0]);
            let clash = lines.iter().any(|l| used.contains(l));
            if (clash && !glaring) || (!s.pairs.is_empty() && !r.chance(0.45)) {
                continue;
            }
            // Glare: the second phone call starts within a few milliseconds of the first.
            let at = if glaring {
                start + r.range(0, 40)
            } else {
                r.range(0, 6_000)
            };
            used.extend(lines);
            s.pairs.push(Pair {
                caller: lines[0],
                callee: lines[1],
            });
            s.call(&mut r, t, at);
        }
        let last = s.steps.iter().map(|s| s.at_ms).max().unwrap_or(0);
        s.end_ms = last + 2_000;
        for g in 0..2 {
            for port in 0..4u8 {
                let action = if port < 2 {
                    Action::HangUp
                } else {
                    Action::ExchangeHangUp
                };
                s.steps.push(Step {
                    at_ms: s.end_ms,
                    gw: g,
                    port,
                    action,
                });
            }
        }
        s.steps.sort_by_key(|s| s.at_ms);
        s
    }

    fn step(&mut self, at_ms: u32, (gw, port): LineId, action: Action) {
        self.steps.push(Step {
            at_ms,
            gw,
            port,
            action,
        });
    }

    /// The actions of one call from template `t`, starting at `at`.
    fn call(&mut self, r: &mut Gen, t: Template, at: u32) {
        let [caller, callee] = t.lines();
        let g = caller.0;
        // The callee's person, if a phone: answers at some point (or never), hangs up
        // some time after (or leaves it to the caller).
        let answer = at + r.range(300, 14_000);
        let ring_in = matches!(t, Template::RingIn(_));
        // When the number is surely dialled (three rotary digits take up to 5.1 s): the
        // in-call flash and digits come after, so they never change the number.
        let mut dialled = at;
        let mut dial = None;
        if !ring_in {
            self.step(at, caller, Action::OffHook);
            let number = match t {
                Template::Phones(_) => format!("{}01", 2 - g),
                // Not a port's number at the other gateway: out on its PSTN line.
                _ => format!("{}5{}", 2 - g, r.digit()),
            };
            let dial_at = at + r.range(150, 1_500);
            let action = match r.below(3) {
                0 => Action::CardDigits(number),
                1 => Action::Pulse(number),
                _ => Action::Tones(number),
            };
            dial = Some((dial_at, action));
            dialled = dial_at + 5_500;
        } else {
            let talk_ms = r.chance(0.7).then(|| r.range(1_000, 25_000));
            self.step(at, caller, Action::RingIn { talk_ms });
        }
        let caller_hangs_up = at + r.range(500, 30_000);
        // A caller who hangs up before the number is through dials nothing (a rotary
        // dial's pulses after the hangup would lift the phone again and dial a number
        // the scenario never meant: a call it does not expect takes a line it does).
        if let Some((dial_at, action)) = dial {
            let takes = if matches!(action, Action::Pulse(_)) {
                5_500
            } else {
                1_000
            };
            if dial_at + takes < caller_hangs_up {
                self.step(dial_at, caller, action);
            }
        }
        let callee_is_phone = callee.1 < 2;
        let mut answer_at = None;
        if callee_is_phone && r.chance(0.8) {
            // A CANCEL against the 200: the callee answers within a few ms of the hangup.
            let a = if r.chance(0.15) {
                (caller_hangs_up + r.range(0, 60)).saturating_sub(30)
            } else {
                answer
            };
            answer_at = Some(a);
            self.step(a, callee, Action::Answer);
        }
        let hang_up = if ring_in {
            Action::ExchangeHangUp
        } else {
            Action::HangUp
        };
        if !ring_in || r.chance(0.6) {
            self.step(caller_hangs_up, caller, hang_up);
        }
        if callee_is_phone && let Some(a) = answer_at {
            // A BYE against the BYE: both hang up within a few ms.
            let h = if r.chance(0.15) {
                (caller_hangs_up + r.range(0, 60)).saturating_sub(30)
            } else {
                a + r.range(200, 20_000)
            };
            if r.chance(0.7) {
                self.step(h, callee, Action::HangUp);
            }
        }
        // A flash during the call, from either phone; digits dialled in the call.
        for who in [caller, callee] {
            if who.1 < 2 && r.chance(0.2) {
                let t = dialled + r.range(0, 20_000);
                self.step(t, who, Action::Flash);
            }
            if who.1 < 2 && r.chance(0.1) {
                let t = dialled + r.range(0, 20_000);
                let d: String = (0..3).map(|_| r.digit()).collect();
                self.step(t, who, Action::CardDigits(d));
            }
        }
    }

    /// The world of this scenario, with its actions scripted.
    pub fn world(&self) -> World {
        let mut w = World::new(
            self.seed,
            self.link,
            self.style,
            self.answer_after_ms,
            self.talk_ms,
        );
        w.script(self.steps.iter().cloned());
        w
    }

    /// Runs the scenario to its end and checks every invariant; the error says which broke.
    /// Returns how many calls talked long enough for their audio to be checked (each was).
    pub fn run(&self, w: &mut World) -> Result<usize, String> {
        let hung_up = Duration::from_millis(u64::from(self.end_ms));
        let end = hung_up + SETTLE;
        let mut overlap = vec![Duration::ZERO; self.pairs.len()];
        let mut last = w.elapsed();
        // Step through time, checking what must hold at every instant and how long each
        // pair talked with both people speaking, until everything is at rest.
        loop {
            if w.elapsed() > hung_up {
                match finally(w) {
                    Ok(()) => break,
                    Err(e) if w.elapsed() >= end => {
                        return Err(format!("not at rest {SETTLE:?} after the hangups: {e}"));
                    }
                    Err(_) => {}
                }
            }
            let before = self.overlapping(w);
            w.run_until((w.elapsed() + FRAME).min(end));
            let dt = w.elapsed() - last;
            last = w.elapsed();
            for (o, b) in overlap.iter_mut().zip(before) {
                if b {
                    *o += dt;
                }
            }
            always(w)?;
        }
        let mut checked = 0;
        for (p, o) in self.pairs.iter().zip(&overlap) {
            if *o < HEARD_AFTER {
                continue;
            }
            checked += 1;
            for (ear, mouth) in [(p.caller, p.callee), (p.callee, p.caller)] {
                let hz = VOICES[mouth.0][usize::from(mouth.1)];
                let heard = w.gws[ear.0].lines[&ear.1].ear.frames_of(hz);
                if heard < HEARD_FRAMES {
                    return Err(format!(
                        "{ear:?} heard {mouth:?} in {heard} frames of a {:.1} s call",
                        o.as_secs_f64()
                    ));
                }
            }
        }
        Ok(checked)
    }

    /// For each pair: both ports talking and both people speaking.
    fn overlapping(&self, w: &World) -> Vec<bool> {
        let up = |(g, p): LineId| {
            let l = &w.gws[g].lines[&p];
            let talking = w.gws[g].ports.port(p).is_some_and(|p| p.is_talking());
            let speaking = match (&l.card, &l.party) {
                (SimPort::Fxs(phone), _) => phone.is_off_hook(),
                (_, super::gateway::Party::Exchange(x)) => x.speaking(),
                _ => false,
            };
            talking && speaking
        };
        self.pairs
            .iter()
            .map(|p| up(p.caller) && up(p.callee))
            .collect()
    }
}

/// What holds at every instant: a port talks or rings its phone only with a SIP call.
fn always(w: &World) -> Result<(), String> {
    for g in &w.gws {
        for (i, l) in &g.lines {
            let call = g.sip.port_has_calls(*i);
            if g.ports.port(*i).is_some_and(|p| p.is_talking()) && !call {
                return Err(format!("{} port {i} talks without a SIP call", g.name));
            }
            if let SimPort::Fxs(p) = &l.card
                && p.is_ringing()
                && !call
            {
                return Err(format!(
                    "{} port {i}: the phone rings without a call",
                    g.name
                ));
            }
        }
    }
    Ok(())
}

/// What holds once everyone has hung up and the timers have run out: every call ended on
/// both sides, no line seized or ringing, no bridge running, nothing left in the SIP
/// sides but their pings, no timer but theirs.
fn finally(w: &World) -> Result<(), String> {
    for g in &w.gws {
        for (i, l) in &g.lines {
            let name = g.name;
            let port = g.ports.port(*i).expect("every line has a port");
            if !port.is_idle() {
                return Err(format!("{name} port {i} left in {}", port.state()));
            }
            if let Some(t) = port.poll_timeout() {
                return Err(format!("{name} port {i} left a timer at {t:?}"));
            }
            if l.bridge_running() {
                return Err(format!("{name} port {i} left its bridge running"));
            }
            match &l.card {
                SimPort::Fxs(p) if p.is_ringing() => {
                    return Err(format!("{name} port {i}: the phone rings"));
                }
                SimPort::Fxo(line) if line.seized || line.is_ringing() => {
                    return Err(format!("{name} port {i}: the line is left {line:?}"));
                }
                _ => {}
            }
        }
        let f = g.sip.footprint();
        if f.calls
            + f.port_calls
            + f.ua.calls
            + f.ua.transactions
            + f.ua.purposes
            + f.ua.client_peers
            > 0
        {
            return Err(format!("{} SIP side still holds {f:?}", g.name));
        }
    }
    Ok(())
}
