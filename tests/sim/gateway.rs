//! One whole gateway on virtual time: its SIP side, one [`Port`] machine per line with the
//! media session of its bridge, and the simulated card's model of what hangs on each line
//! (phone or exchange line) with the party there. It does what `tipring run`'s runtime
//! does with the same parts: port outputs go to the card model, the SIP side and the
//! engine; what those produce comes back as port inputs. No socket, thread or clock: the
//! world hands every input its instant and carries datagrams over the virtual network.

use super::party::{Ear, Exchange, Person};
use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, sync_channel};
use std::time::{Duration, Instant};
use tipring::bridge::{Control, Engine, Identity, QUEUE, Report, Stats};
use tipring::config::Loaded;
use tipring::gateway::MediaProfile;
use tipring::gateway::sip_side::{PortEvent, SipSide};
use tipring::port::{Input, MediaCommand, Output, Port};
use tipring_hal::audio::Frame;
use tipring_hal::model::{CmdResult, Event};
use tipring_hal::sim::SimPort;
use tipring_media::instant::Instant as MediaInstant;
use tipring_rng::SplitMix64;
use tipring_sip::transaction::{Peer, Transport};

/// A 20 ms period of the card's audio.
pub const FRAME: Duration = Duration::from_millis(20);

/// The virtual clock's readings in each layer's unit, from one origin.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    pub t0: Instant,
    pub now: Instant,
}

impl Clock {
    /// The card's millisecond clock.
    pub fn ms(&self) -> u32 {
        (self.now - self.t0).as_millis() as u32
    }
    /// The media sessions' clock.
    pub fn media(&self) -> MediaInstant {
        MediaInstant::from_micros((self.now - self.t0).as_micros() as u64)
    }
    /// A card-clock millisecond as an instant.
    pub fn at_ms(&self, ms: u32) -> Instant {
        self.t0 + Duration::from_millis(u64::from(ms))
    }
}

/// Whoever is on a line.
pub enum Party {
    Phone(Person),
    Exchange(Box<Exchange>),
}

/// A running bridge: the engine and where its reports arrive.
struct Media {
    engine: Engine,
    reports: Receiver<Report>,
    next_frame: Instant,
}

/// One line: the port machine, the card's model of the line, the party, the media.
pub struct Line {
    pub port: Port,
    pub card: SimPort,
    pub party: Party,
    pub ear: Ear,
    pub rtp: SocketAddr,
    media: Option<Media>,
    /// Frames in which the port talked (a call up).
    pub talking_frames: u32,
}

impl Line {
    /// Whether the port's bridge runs.
    pub fn bridge_running(&self) -> bool {
        self.media.is_some()
    }
}

/// Something the gateway said, for the world's trace.
pub type Trace<'a> = &'a mut dyn FnMut(std::fmt::Arguments<'_>);

/// Where datagrams go: the virtual network.
pub type Send<'a> = &'a mut dyn FnMut(SocketAddr, SocketAddr, Arc<[u8]>);

/// One gateway.
pub struct Gateway {
    pub name: &'static str,
    pub sip: SipSide,
    pub lines: BTreeMap<u8, Line>,
    profile: MediaProfile,
    /// Identities of the media sessions, from the world's seed.
    rng: SplitMix64,
    /// Card events waiting to be fed to their port (in order).
    pending: VecDeque<(u8, Input)>,
    /// Inputs to lose instead of feeding them (a fault, to show the checks catch it).
    pub lose: Option<fn(u8, &Input) -> bool>,
}

impl Gateway {
    /// The gateway of `loaded` at `sip`; line `i`'s RTP at `sip`'s address, port
    /// 20000 + 2i; `party(i, kind)` says who is on each line.
    pub fn new(
        name: &'static str,
        loaded: &Loaded,
        sip: SocketAddr,
        seed: u64,
        mut party: impl FnMut(u8, &SimPort) -> (Party, Ear),
    ) -> Gateway {
        let mut lines = BTreeMap::new();
        let mut rtp = BTreeMap::new();
        for p in &loaded.config.ports {
            let addr = SocketAddr::new(sip.ip(), 20000 + 2 * u16::from(p.index));
            rtp.insert(p.index, addr);
            let card = SimPort::new(p.kind);
            let (party, ear) = party(p.index, &card);
            lines.insert(
                p.index,
                Line {
                    port: Port::from_config(loaded, p),
                    card,
                    party,
                    ear,
                    rtp: addr,
                    media: None,
                    talking_frames: 0,
                },
            );
        }
        let sip = SipSide::new(
            loaded,
            sip,
            &rtp,
            Some(seed),
            tipring_sip::ua::HostTable::new(),
        )
        .expect("the SIP side builds");
        Gateway {
            name,
            sip,
            lines,
            profile: MediaProfile::new(loaded),
            rng: SplitMix64::new(seed ^ 0x006d_6564_6961),
            pending: VecDeque::new(),
            lose: None,
        }
    }

    /// Whether `addr` is one of this gateway's.
    pub fn owns(&self, addr: SocketAddr) -> bool {
        addr.ip() == self.sip.local().ip()
    }

    /// The earliest instant something here must happen.
    pub fn poll_timeout(&mut self, clock: &Clock) -> Option<Instant> {
        let mut next = self.sip.poll_timeout();
        for l in self.lines.values() {
            let card = l.card.next_deadline().map(|ms| clock.at_ms(ms));
            let party = match &l.party {
                Party::Exchange(x) => x.next_deadline().map(|ms| clock.at_ms(ms)),
                Party::Phone(_) => None,
            };
            let frame = l.media.as_ref().map(|m| m.next_frame);
            for t in [l.port.poll_timeout(), card, party, frame]
                .into_iter()
                .flatten()
            {
                next = Some(next.map_or(t, |n: Instant| n.min(t)));
            }
        }
        if !self.pending.is_empty() {
            next = Some(clock.now);
        }
        next
    }

    /// A datagram for this gateway.
    pub fn deliver(
        &mut self,
        clock: &Clock,
        from: SocketAddr,
        to: SocketAddr,
        d: &[u8],
        send: Send<'_>,
    ) {
        if to == self.sip.local() {
            let from = Peer {
                transport: Transport::Udp,
                addr: from,
            };
            self.sip.handle_message(clock.now, d, from);
            return;
        }
        if let Some(l) = self.lines.values_mut().find(|l| l.rtp == to)
            && let Some(m) = &mut l.media
        {
            let rtp = l.rtp;
            m.engine.datagram(clock.media(), from, d, &mut |dst, b| {
                send(rtp, dst, b.into())
            });
        }
    }

    /// Does everything due by `clock.now` until nothing more is: card models and
    /// parties, media frames, SIP timers, port deadlines, and the inputs each of these
    /// makes for the others.
    pub fn run(&mut self, clock: &Clock, send: Send<'_>, trace: Trace<'_>) {
        let now = clock.now;
        let ms = clock.ms();
        let mut events = Vec::new();
        for (&i, l) in &mut self.lines {
            if let Party::Exchange(x) = &mut l.party {
                x.tick(ms, &mut l.card, &mut events);
            }
            if l.card.next_deadline().is_some_and(|d| d <= ms) {
                l.card.tick(ms, &mut events);
            }
            self.pending
                .extend(events.drain(..).map(|e| (i, Input::Line(e))));
        }
        for (&i, l) in &mut self.lines {
            let Some(m) = &mut l.media else { continue };
            while m.next_frame <= now {
                m.next_frame += FRAME;
                let capture = match &mut l.party {
                    Party::Phone(p) => p.speak(&l.card),
                    Party::Exchange(x) => x.speak(),
                };
                let rtp = l.rtp;
                let play: Frame = m.engine.frame(clock.media(), &capture, &mut |dst, b| {
                    send(rtp, dst, b.into())
                });
                if l.port.is_talking() {
                    l.talking_frames += 1;
                    l.ear.listen(&play);
                }
                if let Party::Exchange(x) = &mut l.party {
                    x.hear(&play);
                }
            }
            while let Ok(r) = m.reports.try_recv() {
                self.pending.push_back((i, Input::Media(r)));
            }
        }
        if self.sip.poll_timeout().is_some_and(|t| t <= now) {
            self.sip.handle_timeout(now);
        }
        let due: Vec<u8> = self
            .lines
            .iter()
            .filter(|(_, l)| l.port.poll_timeout().is_some_and(|t| t <= now))
            .map(|(i, _)| *i)
            .collect();
        for i in due {
            self.pending.push_back((i, Input::Timeout));
        }
        loop {
            while let Some((i, input)) = self.pending.pop_front() {
                self.input(clock, i, input, trace);
            }
            self.drain_sip(send, trace);
            if self.pending.is_empty() {
                break;
            }
        }
    }

    /// Hands the SIP side's datagrams to the network and its events to the ports.
    fn drain_sip(&mut self, send: Send<'_>, trace: Trace<'_>) {
        let local = self.sip.local();
        while let Some(t) = self.sip.poll_transmit() {
            send(local, t.to.addr, t.bytes);
        }
        while let Some(e) = self.sip.poll_event() {
            match e {
                PortEvent::Call { port, event } => {
                    self.pending.push_back((port, Input::Sip(event)));
                }
                PortEvent::Media { port, media } => {
                    self.pending.push_back((port, Input::FarMedia(media)));
                }
                PortEvent::Wire {
                    outbound, summary, ..
                } => trace(format_args!(
                    "{} {} {summary}",
                    self.name,
                    if outbound { "->" } else { "<-" }
                )),
                PortEvent::Notice(n) => trace(format_args!("{} notice {n}", self.name)),
            }
        }
    }

    /// Feeds port `i` and carries its outputs out, as the runtime does.
    fn input(&mut self, clock: &Clock, i: u8, input: Input, trace: Trace<'_>) {
        let Some(l) = self.lines.get_mut(&i) else {
            return;
        };
        if self.lose.is_some_and(|lose| lose(i, &input)) {
            trace(format_args!("{} port {i} lost {input:?}", self.name));
            return;
        }
        trace(format_args!("{} port {i} <- {input:?}", self.name));
        l.port.handle(clock.now, input);
        while let Some(o) = l.port.poll_output() {
            trace(format_args!("{} port {i} -> {o:?}", self.name));
            match o {
                Output::Card(c) => {
                    let mut events = Vec::new();
                    let r = l.card.apply(clock.ms(), &c, &mut events);
                    if r != CmdResult::Ok {
                        trace(format_args!(
                            "{} port {i}: card refused {c:?}: {r:?}",
                            self.name
                        ));
                    }
                    self.pending
                        .extend(events.into_iter().map(|e: Event| (i, Input::Line(e))));
                }
                Output::Sip(intent) => self.sip.intent(clock.now, i, intent),
                Output::Idle(idle) => self.sip.set_line_idle(i, idle),
                Output::Media(MediaCommand::Start(media)) => {
                    let cfg = self.profile.bridge_config(media, l.port.far_digits());
                    let id = Identity {
                        rtp_seed: self.rng.next_u64(),
                        rtcp_seed: self.rng.next_u64(),
                        cname: (u128::from(self.rng.next_u64()) << 64
                            | u128::from(self.rng.next_u64()))
                        .to_be_bytes(),
                        ntp_at_zero: 0xe000_0000_0000_0000,
                    };
                    let (tx, reports) = sync_channel(QUEUE);
                    let engine = Engine::with_identity(cfg, id, Arc::new(Stats::default()), tx);
                    l.media = Some(Media {
                        engine,
                        reports,
                        next_frame: clock.now + FRAME,
                    });
                }
                Output::Media(MediaCommand::Stop | MediaCommand::Control(Control::Stop)) => {
                    l.media = None;
                }
                Output::Media(MediaCommand::Control(c)) => {
                    if let Some(m) = &mut l.media {
                        m.engine.control(c);
                    }
                }
            }
        }
    }

    /// A card event from outside the card model (a digit the card's DTMF decoder heard).
    pub fn inject(&mut self, port: u8, event: Event) {
        self.pending.push_back((port, Input::Line(event)));
    }
}
