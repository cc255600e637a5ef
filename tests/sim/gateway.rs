//! One whole gateway on virtual time: its SIP side and its line side (the gateway's own
//! `Lines`: one `Port` machine per line), a bridge `Engine` per running bridge, and the
//! simulated card's model of what hangs on each line (phone or exchange line) with the
//! party there. The ports' outputs are carried out as `tipring run`'s runtime does,
//! on these parts instead of the driver thread, the SIP task and the bridge threads. No
//! socket, thread or clock: the world hands every input its instant and carries datagrams
//! over the virtual network.

use super::hybrid::Hybrid;
use super::party::{Ear, Exchange, Person};
use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, sync_channel};
use std::time::{Duration, Instant};
use tipring::bridge::{Control, Engine, Identity, QUEUE, Report, Stats};
use tipring::config::{Loaded, PortAudio};
use tipring::gateway::sip_side::{PortEvent, SipSide};
use tipring::gateway::{Lines, MediaProfile};
use tipring::port::{MediaCommand, Output};
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

/// What hangs on one line: the card's model of it, the party, the port's media.
pub struct Line {
    pub card: SimPort,
    pub party: Party,
    pub ear: Ear,
    pub rtp: SocketAddr,
    /// What the port's calls do with their audio.
    pub audio: PortAudio,
    /// The line's echo of what it is played.
    hybrid: Hybrid,
    media: Option<Media>,
    /// Frames in which the port talked (a call up).
    pub talking_frames: u32,
    /// A fax machine on the line instead of the party's voice: on a phone line it sends
    /// and hears while the phone is off-hook, on an exchange line while the exchange has
    /// connected the party beyond it.
    pub fax: Option<testkit::fax::Terminal>,
}

impl Line {
    /// Whether the port's bridge runs.
    pub fn bridge_running(&self) -> bool {
        self.media.is_some()
    }

    /// Whether the port's bridge relays a fax as T.38.
    pub fn relaying_fax(&self) -> bool {
        self.media.as_ref().is_some_and(|m| m.engine.relaying_fax())
    }
}

/// Something the gateway said, for the world's trace.
pub type Trace<'a> = &'a mut dyn FnMut(std::fmt::Arguments<'_>);

/// Where datagrams go: the virtual network.
pub type Send<'a> = &'a mut dyn FnMut(SocketAddr, SocketAddr, Arc<[u8]>);

/// Something for the line side, in the order it happened.
enum Pending {
    Card(u8, Event),
    Sip(PortEvent),
    Report(u8, Report),
}

/// One gateway.
pub struct Gateway {
    pub name: &'static str,
    pub sip: SipSide,
    /// The gateway's line side.
    pub ports: Lines,
    /// What hangs on each line.
    pub lines: BTreeMap<u8, Line>,
    profile: MediaProfile,
    /// Identities of the media sessions, from the world's seed.
    rng: SplitMix64,
    /// Inputs for the line side not yet given to it.
    pending: VecDeque<Pending>,
    /// SIP side events to lose instead of passing them on (a fault, to show that the
    /// checks catch it).
    pub lose: Option<fn(&PortEvent) -> bool>,
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
                    card,
                    party,
                    ear,
                    rtp: addr,
                    audio: p.audio(),
                    hybrid: Hybrid::new(),
                    media: None,
                    talking_frames: 0,
                    fax: None,
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
            ports: Lines::new(loaded),
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
        if let Some(t) = self.ports.poll_timeout() {
            next = Some(next.map_or(t, |n: Instant| n.min(t)));
        }
        for l in self.lines.values() {
            let card = l.card.next_deadline().map(|ms| clock.at_ms(ms));
            let party = match &l.party {
                Party::Exchange(x) => x.next_deadline().map(|ms| clock.at_ms(ms)),
                Party::Phone(_) => None,
            };
            let frame = l.media.as_ref().map(|m| m.next_frame);
            for t in [card, party, frame].into_iter().flatten() {
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
                .extend(events.drain(..).map(|e| Pending::Card(i, e)));
        }
        for (&i, l) in &mut self.lines {
            let Some(m) = &mut l.media else { continue };
            let talking = self.ports.port(i).is_some_and(|p| p.is_talking());
            while m.next_frame <= now {
                m.next_frame += FRAME;
                let fax_on_line = match (&l.party, &l.card) {
                    (Party::Exchange(x), _) => x.speaking(),
                    (Party::Phone(_), SimPort::Fxs(phone)) => phone.is_off_hook(),
                    (Party::Phone(_), SimPort::Fxo(_)) => false,
                };
                let mut fax = l.fax.as_mut().filter(|_| fax_on_line);
                let mut capture = match (&mut l.party, &mut fax) {
                    (_, Some(t)) => t.transmit(),
                    (Party::Phone(p), None) => p.speak(&l.card),
                    (Party::Exchange(x), None) => x.speak(),
                };
                l.hybrid.echo_into(&mut capture);
                let rtp = l.rtp;
                let play: Frame = m.engine.frame(clock.media(), &capture, &mut |dst, b| {
                    send(rtp, dst, b.into())
                });
                l.hybrid.played(&play);
                if let Some(t) = fax {
                    t.receive(&play);
                }
                if talking {
                    l.talking_frames += 1;
                    l.ear.listen(&play);
                }
                if let Party::Exchange(x) = &mut l.party {
                    x.hear(&play);
                }
            }
            while let Ok(r) = m.reports.try_recv() {
                self.pending.push_back(Pending::Report(i, r));
            }
        }
        if self.sip.poll_timeout().is_some_and(|t| t <= now) {
            self.sip.handle_timeout(now);
        }
        self.ports.on_timeout(now);
        loop {
            self.carry_out(clock, trace);
            self.drain_sip(send, trace);
            let Some(p) = self.pending.pop_front() else {
                break;
            };
            match p {
                Pending::Card(i, e) => {
                    trace(format_args!("{} port {i} card {e:?}", self.name));
                    self.ports.on_card(now, i, e);
                }
                Pending::Sip(e) => self.ports.on_sip(now, e),
                Pending::Report(i, r) => {
                    trace(format_args!("{} port {i} audio {r:?}", self.name));
                    self.ports.on_report(now, i, r);
                }
            }
        }
    }

    /// Hands the SIP side's datagrams to the network and its events to the line side.
    fn drain_sip(&mut self, send: Send<'_>, trace: Trace<'_>) {
        let local = self.sip.local();
        while let Some(t) = self.sip.poll_transmit() {
            send(local, t.to.addr, t.bytes);
        }
        while let Some(e) = self.sip.poll_event() {
            match &e {
                PortEvent::Wire {
                    outbound, summary, ..
                } => trace(format_args!(
                    "{} {} {summary}",
                    self.name,
                    if *outbound { "->" } else { "<-" }
                )),
                other => trace(format_args!("{} {other:?}", self.name)),
            }
            if self.lose.is_some_and(|lose| lose(&e)) {
                trace(format_args!("{} lost {e:?}", self.name));
                continue;
            }
            self.pending.push_back(Pending::Sip(e));
        }
    }

    /// Carries out the ports' outputs, as the runtime does.
    fn carry_out(&mut self, clock: &Clock, trace: Trace<'_>) {
        while let Some((port, o)) = self.ports.poll_output() {
            trace(format_args!("{} port {port} {o:?}", self.name));
            match o {
                Output::Card(command) => {
                    let Some(l) = self.lines.get_mut(&port) else {
                        continue;
                    };
                    let mut events = Vec::new();
                    let r = l.card.apply(clock.ms(), &command, &mut events);
                    if r != CmdResult::Ok {
                        trace(format_args!(
                            "{} port {port}: card refused: {r:?}",
                            self.name
                        ));
                    }
                    self.pending
                        .extend(events.into_iter().map(|e| Pending::Card(port, e)));
                }
                Output::Sip(intent) => self.sip.intent(clock.now, port, intent),
                Output::Idle(idle) => self.sip.set_line_idle(port, idle),
                Output::Media(command) => self.media(clock, port, command),
            }
        }
    }

    /// Port `i`'s bridge: started, stopped or told something.
    fn media(&mut self, clock: &Clock, i: u8, command: MediaCommand) {
        let far_digits = self.ports.port(i).is_some_and(|p| p.far_digits());
        let Some(l) = self.lines.get_mut(&i) else {
            return;
        };
        match command {
            MediaCommand::Start(media) => {
                let cfg = self.profile.bridge_config(media, far_digits, l.audio);
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
            MediaCommand::Stop | MediaCommand::Control(Control::Stop) => l.media = None,
            MediaCommand::Control(c) => {
                if let Some(m) = &mut l.media {
                    m.engine.control(c);
                }
            }
        }
    }

    /// A card event from outside the card model (a digit the card's DTMF decoder heard).
    pub fn inject(&mut self, port: u8, event: Event) {
        self.pending.push_back(Pending::Card(port, event));
    }
}
