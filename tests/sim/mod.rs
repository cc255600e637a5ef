//! Two whole gateways in one process on one virtual clock, over testkit's virtual network:
//! no socket, no thread, no sleep. [`World::run_until`] moves the clock from one due
//! instant to the next (a datagram's arrival, a SIP or port timer, a card model's or a
//! party's deadline, a 20 ms audio frame of a running bridge, a scripted action), so an
//! hour of calls takes seconds, and a seed fixes everything that happens.

pub mod gateway;
pub mod hybrid;
pub mod party;
pub mod scenario;

use gateway::{Clock, Gateway, Party};
use party::{Ear, Exchange, Person};
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use testkit::config::Conf;
use testkit::net::{Link, Net};
use tipring::config::Loaded;
use tipring::port::ring_cadence;
use tipring_hal::model::{Digit, Event, PortKind};
use tipring_hal::sim::SimPort;

/// Gateway A's and B's SIP addresses.
pub const SIP: [&str; 2] = ["127.0.0.1:5060", "127.0.0.2:5060"];

/// The voice of each line: `VOICES[gateway][port]`.
pub const VOICES: [[f32; 4]; 2] = [
    [510.0, 570.0, 1850.0, 1950.0],
    [2050.0, 2350.0, 2450.0, 2550.0],
];

/// How a line's FXO port dials and learns of the answer, per scenario; and how each
/// gateway's ports carry faxes (`fax = …` in every port's configuration of gateway `g`,
/// the default when `None`).
#[derive(Debug, Clone, Copy)]
pub struct FxoStyle {
    pub pulse: bool,
    pub polarity_answer: bool,
    pub fax: [Option<&'static str>; 2],
}

/// The configuration of gateway `g` (0 = A, 1 = B): ports 0 and 1 are phones numbered
/// `g01`, `g02` (1xx on A, 2xx on B), the first a PBX trunk whose flash goes to the far end,
/// the second a phone whose flash is its own (a consultation: the call held, digits
/// dialled after it call elsewhere, hanging up transfers or rings back for 5 s); port 2 is a PSTN line for calls out (and sends a
/// ringing line to the other gateway's second phone); port 3 a line whose ringing goes
/// to the other gateway's first phone. Each gateway's account points at the other.
pub fn config(g: usize, style: FxoStyle) -> Loaded {
    let (me, peer) = (SIP[g], SIP[1 - g]);
    let (mine, theirs) = (g + 1, 2 - g);
    let dialing = if style.pulse { "pulse" } else { "dtmf" };
    let answer = if style.polarity_answer {
        "polarity-reversal"
    } else {
        "immediate"
    };
    let fax = style.fax[g].map_or(String::new(), |f| format!("fax = \"{f}\"\n"));
    let ports = format!(
        "[[ports]]\nindex = 0\nkind = \"fxs\"\nnumber = \"{mine}01\"\ndial_plan = \"ext\"\nflash = \"relay\"\n{fax}\n\
         [[ports]]\nindex = 1\nkind = \"fxs\"\nnumber = \"{mine}02\"\ndial_plan = \"ext\"\nno_answer_s = 5\n{fax}\n\
         [[ports]]\nindex = 2\nkind = \"fxo\"\ninbound = \"hotline\"\nhotline = \"sip:{theirs}02@{peer}\"\n\
         dialing = \"{dialing}\"\nanswer_supervision = \"{answer}\"\n{fax}\n\
         [[ports]]\nindex = 3\nkind = \"fxo\"\ninbound = \"hotline\"\nhotline = \"sip:{theirs}01@{peer}\"\n{fax}\n"
    );
    let text = Conf::new(me.parse().unwrap())
        .account("peer", &format!("proxy = \"sip:{peer}\""))
        .ports(&ports)
        .trust("127.0.0.0/8")
        .render();
    let board = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("board");
    tipring::config::load_str("sim.toml", &text, &board).expect("the simulation's config is valid")
}

/// Keeps a datagram sent, when a capture is asked for.
type Capture = Option<Vec<(Duration, SocketAddr, SocketAddr, Arc<[u8]>)>>;

fn record(capture: &mut Capture, clock: &Clock, from: SocketAddr, to: SocketAddr, b: &Arc<[u8]>) {
    if let Some(c) = capture {
        c.push((clock.now - clock.t0, from, to, b.clone()));
    }
}

/// Something a person or the exchange does at an instant.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    OffHook,
    /// Off-hook if the phone rings (a person answers a ringing phone, nothing else).
    Answer,
    /// On-hook if off-hook.
    HangUp,
    Flash,
    /// Digits the card's DTMF decoder reports, 160 ms apart.
    CardDigits(String),
    /// Digits dialled with the phone's rotary dial.
    Pulse(String),
    /// Digits as tones into the mouthpiece.
    Tones(String),
    /// The exchange rings the line (a caller beyond it); the caller talks for `talk_ms`
    /// once connected (`None`: until the gateway ends).
    RingIn {
        talk_ms: Option<u32>,
    },
    /// The person beyond the exchange hangs up.
    ExchangeHangUp,
}

/// An action at an instant (milliseconds of virtual time) on one line.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub at_ms: u32,
    pub gw: usize,
    pub port: u8,
    pub action: Action,
}

/// The two gateways, the network and the clock.
pub struct World {
    pub clock: Clock,
    pub net: Net<SocketAddr, Arc<[u8]>>,
    pub gws: [Gateway; 2],
    steps: Vec<Step>,
    next_step: usize,
    trace: DefaultHasher,
    /// Every line of the trace, kept when asked for (a failing seed's replay prints it).
    pub log: Option<Vec<String>>,
    /// How many instants the clock stopped at.
    pub wakes: u64,
    /// Every datagram sent (when, from, to, bytes), kept when asked for (a capture to
    /// write as pcap).
    pub capture: Capture,
}

impl World {
    /// Both gateways with `style`'s FXO lines, over links behaving as `link`, seeded.
    pub fn new(
        seed: u64,
        link: Link,
        style: FxoStyle,
        answer_after_ms: [Option<u32>; 2],
        talk_ms: [Option<u32>; 2],
    ) -> World {
        let t0 = Instant::now();
        let gw = |g: usize| {
            let loaded = config(g, style);
            let profile = loaded.tone_profile();
            let voices: Vec<f32> = VOICES.iter().flatten().copied().collect();
            Gateway::new(
                ["A", "B"][g],
                &loaded,
                SIP[g].parse().unwrap(),
                seed.wrapping_add(g as u64 + 1),
                |i, card: &SimPort| {
                    let hz = VOICES[g][usize::from(i)];
                    let party = match card.kind() {
                        PortKind::Fxs => Party::Phone(Person::new(hz)),
                        PortKind::Fxo => {
                            let mut x = Exchange::new(hz, &profile);
                            x.answer_after_ms = answer_after_ms[g];
                            x.talk_ms = talk_ms[g];
                            Party::Exchange(Box::new(x))
                        }
                    };
                    (party, Ear::new(&voices))
                },
            )
        };
        World {
            clock: Clock { t0, now: t0 },
            net: Net::new(t0, seed).with_link(link),
            gws: [gw(0), gw(1)],
            steps: Vec::new(),
            next_step: 0,
            trace: DefaultHasher::new(),
            log: None,
            wakes: 0,
            capture: None,
        }
    }

    /// Adds the scripted actions (kept in time order).
    pub fn script(&mut self, steps: impl IntoIterator<Item = Step>) {
        self.steps.extend(steps);
        self.steps.sort_by_key(|s| s.at_ms);
    }

    /// The virtual time since the start.
    pub fn elapsed(&self) -> Duration {
        self.clock.now - self.clock.t0
    }

    /// A digest of everything that happened: equal for two runs of one seed.
    pub fn fingerprint(&self) -> u64 {
        self.trace.finish()
    }

    /// Runs until `end` of virtual time has passed since the start.
    pub fn run_until(&mut self, end: Duration) {
        let end = self.clock.t0 + end;
        loop {
            self.net.advance(self.clock.now);
            self.act();
            while let Some(d) = self.net.poll_deliver() {
                let World {
                    gws,
                    net,
                    clock,
                    capture,
                    ..
                } = self;
                if let Some(g) = gws.iter_mut().find(|g| g.owns(d.to)) {
                    g.deliver(clock, d.from, d.to, &d.payload, &mut |from, to, b| {
                        record(capture, clock, from, to, &b);
                        net.send(from, to, b);
                    });
                }
            }
            for g in 0..2 {
                let World {
                    gws,
                    net,
                    clock,
                    trace,
                    log,
                    capture,
                    ..
                } = self;
                let at = (clock.now - clock.t0).as_micros();
                gws[g].run(
                    clock,
                    &mut |from, to, b| {
                        record(capture, clock, from, to, &b);
                        net.send(from, to, b);
                    },
                    &mut |line| {
                        let line = line.to_string();
                        (at, &line).hash(trace);
                        if let Some(log) = log {
                            log.push(format!("{:>10.3} {line}", at as f64 / 1e6));
                        }
                    },
                );
            }
            let step = self
                .steps
                .get(self.next_step)
                .map(|s| self.clock.at_ms(s.at_ms));
            let mut next = [self.net.poll_timeout(), step].into_iter().flatten().min();
            for g in &mut self.gws {
                if let Some(t) = g.poll_timeout(&self.clock) {
                    next = Some(next.map_or(t, |n| n.min(t)));
                }
            }
            match next {
                Some(t) if t <= end => {
                    self.clock.now = self.clock.now.max(t);
                    self.wakes += 1;
                }
                _ => {
                    self.clock.now = self.clock.now.max(end);
                    self.net.advance(self.clock.now);
                    return;
                }
            }
        }
    }

    /// Carries out the scripted actions due now.
    fn act(&mut self) {
        let ms = self.clock.ms();
        while let Some(s) = self
            .steps
            .get(self.next_step)
            .filter(|s| s.at_ms <= ms)
            .cloned()
        {
            self.next_step += 1;
            let line = format!("{} port {} {:?}", ["A", "B"][s.gw], s.port, s.action);
            (u128::from(s.at_ms) * 1000, &line).hash(&mut self.trace);
            if let Some(log) = &mut self.log {
                log.push(format!("{:>10.3} act {line}", f64::from(s.at_ms) / 1e3));
            }
            self.perform(ms, s.gw, s.port, s.action);
        }
    }

    fn perform(&mut self, ms: u32, g: usize, port: u8, action: Action) {
        let gw = &mut self.gws[g];
        let mut events = Vec::new();
        let Some(l) = gw.lines.get_mut(&port) else {
            return;
        };
        let cadence = ring_cadence(&tipring_media::tone::CountryProfile::builtin(
            tipring_media::tone::Country::Us,
        ));
        match (&mut l.card, &mut l.party, action) {
            (SimPort::Fxs(p), _, Action::OffHook) => p.off_hook(ms),
            (SimPort::Fxs(p), _, Action::Answer) if p.is_ringing() => p.off_hook(ms),
            (SimPort::Fxs(p), _, Action::HangUp) if p.is_off_hook() => p.on_hook(ms),
            (SimPort::Fxs(p), _, Action::Flash) if p.is_off_hook() => p.flash(ms),
            // A rotary dial's pulses are breaks of a closed loop: a phone on the hook
            // (its person hung up on another call meanwhile) dials nothing.
            (SimPort::Fxs(p), _, Action::Pulse(d)) if p.is_off_hook() => {
                let digits: Vec<u8> = d.bytes().map(|b| b - b'0').collect();
                p.pulse_dial(ms, &digits);
            }
            (SimPort::Fxs(_), Party::Phone(person), Action::Tones(d)) => person.dial_tones(&d),
            (SimPort::Fxs(_), _, Action::CardDigits(d)) => {
                // The card's decoder: one event per digit, 160 ms apart.
                let steps = d.chars().enumerate().map(|(k, c)| Step {
                    at_ms: ms + 160 * k as u32,
                    gw: g,
                    port,
                    action: Action::CardDigits(c.to_string()),
                });
                if d.len() == 1 {
                    let digit = Digit::from_char(d.chars().next().unwrap()).unwrap();
                    gw.inject(
                        port,
                        Event::Digit {
                            digit,
                            duration_ms: 80,
                        },
                    );
                } else {
                    let steps: Vec<Step> = steps.collect();
                    self.script(steps);
                }
            }
            (card @ SimPort::Fxo(_), Party::Exchange(x), Action::RingIn { talk_ms }) => {
                x.talk_ms = talk_ms;
                x.ring_in(ms, card, cadence, &mut events);
            }
            (card @ SimPort::Fxo(_), Party::Exchange(x), Action::ExchangeHangUp) => {
                x.hang_up(card, &mut events);
            }
            _ => {}
        }
        for e in events {
            self.gws[g].inject(port, e);
        }
    }
}
