//! The media of a call the box forwards by placing the forwarded call itself
//! (`forward_mode = "gateway"`): the caller's leg and the target's leg each end in a
//! [`MediaSession`] of their own on a socket of their own, and each frame (20 ms) what one
//! far party said is what the other is sent. The box terminates both media sessions
//! (RFC 7092 §3.1.3, a media-terminating B2BUA): each leg has its own codec, payload
//! types, SRTP keys and symmetric-RTP latch (RFC 4961), so no packet from anyone but the
//! leg's own far party crosses over, and DTMF crosses as digits (RFC 4733 events are
//! played into the other leg, where they are detected and sent again as events).
//!
//! [`RelayCore`] is the sans-IO part (no socket, thread or clock); [`Relay`] runs it on
//! one thread that reads both sockets once per frame, each within its receive budget, so
//! a flood at either socket costs bounded work per frame.

use super::clock::Clock;
use super::conference::second_identity;
use super::stats::{Stats, StatsSnapshot};
use super::{MediaParams, random};
use std::io::ErrorKind;
use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;
use std::time::Duration;
use tipring_hal::audio::{FRAME_SAMPLES, Frame};
use tipring_media::instant::Instant;
use tipring_media::jitter::JitterConfig;
use tipring_media::session::{
    DISCARD_BUDGET, Identity, MTU, MediaSession, RX_BUDGET, SessionConfig,
};

/// One of a relayed call's two legs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum RelayLeg {
    /// Towards the caller whose call came in for the forwarding port.
    Caller,
    /// Towards the forwarding target the box called.
    Target,
}

impl RelayLeg {
    fn index(self) -> usize {
        match self {
            RelayLeg::Caller => 0,
            RelayLeg::Target => 1,
        }
    }

    /// The leg at `i` (0 the caller's, else the target's).
    fn at(i: usize) -> RelayLeg {
        if i == 0 {
            RelayLeg::Caller
        } else {
            RelayLeg::Target
        }
    }
}

/// One leg: its session once its SDP is known, what its far party said last frame.
struct Leg {
    session: Option<MediaSession>,
    id: Identity,
    heard: Frame,
    /// Datagrams taken since the last frame while the leg has no session.
    discarded: u64,
}

impl Leg {
    fn new(id: Identity) -> Leg {
        Leg {
            session: None,
            id,
            heard: [0; FRAME_SAMPLES],
            discarded: 0,
        }
    }

    fn set_media(&mut self, p: &MediaParams, jitter: JitterConfig) {
        let session = self.session.get_or_insert_with(|| {
            MediaSession::new(
                SessionConfig {
                    remote: p.session_remote(),
                    jitter,
                    // The other leg's events are played as tones into this one's audio
                    // (and detected there again); nothing listens to a line here.
                    far_digits: true,
                    echo: None,
                    mute_far_dtmf: false,
                },
                self.id,
            )
        });
        session.set_remote(p.session_remote());
        // Keys from our own SDES parsing (30 octets): never refused.
        let _ = session.set_srtp(p.srtp.as_ref());
    }
}

/// Where the relay's datagrams go: the leg whose socket sends, the address, the bytes.
pub type RelaySink<'a> = &'a mut dyn FnMut(RelayLeg, SocketAddr, &[u8]);

/// The two legs of a relayed call, sans-IO.
pub struct RelayCore {
    legs: [Leg; 2],
    jitter: JitterConfig,
}

impl RelayCore {
    /// A relay with neither leg's media known yet; `caller` identifies the caller leg's
    /// RTP (the target leg's is derived from it: its own SSRC and sequence).
    pub fn new(caller: Identity, jitter: JitterConfig) -> RelayCore {
        RelayCore {
            legs: [Leg::new(caller), Leg::new(second_identity(&caller))],
            jitter,
        }
    }

    /// A leg's SDP was negotiated or changed (a re-INVITE, a hold).
    pub fn set_media(&mut self, leg: RelayLeg, p: &MediaParams) {
        self.legs[leg.index()].set_media(p, self.jitter);
    }

    /// Whether another datagram should be read from `leg`'s socket before the next frame.
    pub fn wants_datagram(&self, leg: RelayLeg) -> bool {
        let l = &self.legs[leg.index()];
        match &l.session {
            Some(s) => s.wants_datagram(),
            None => l.discarded < RX_BUDGET + DISCARD_BUDGET,
        }
    }

    /// A datagram from `from` reached `leg`'s socket at `now`.
    pub fn datagram(
        &mut self,
        leg: RelayLeg,
        now: Instant,
        from: SocketAddr,
        d: &[u8],
        send: RelaySink<'_>,
    ) {
        let l = &mut self.legs[leg.index()];
        match l.session.as_mut() {
            Some(s) => {
                s.handle_datagram(now, from, d);
                while let Some((to, d)) = s.poll_transmit() {
                    send(leg, to, d);
                }
            }
            // Nothing is known of this leg's far end yet: nothing it sends is used.
            None => l.discarded += 1,
        }
    }

    /// One frame at `now`: each leg is sent what the other's far party said last frame.
    pub fn frame(&mut self, now: Instant, send: RelaySink<'_>) {
        let heard = [self.legs[0].heard, self.legs[1].heard];
        for (i, l) in self.legs.iter_mut().enumerate() {
            l.discarded = 0;
            let Some(s) = l.session.as_mut() else {
                l.heard = [0; FRAME_SAMPLES];
                continue;
            };
            s.handle_frame(now, &heard[1 - i]);
            l.heard = s.poll_playout().unwrap_or([0; FRAME_SAMPLES]);
            while let Some((to, d)) = s.poll_transmit() {
                send(RelayLeg::at(i), to, d);
            }
            // The owner hears nothing of a relay's digits or modem tones: they cross.
            while s.poll_event().is_some() {}
        }
    }

    /// A leg's counters, once it has a session.
    pub fn stats(&self, leg: RelayLeg) -> Option<&tipring_media::session::SessionStats> {
        self.legs[leg.index()].session.as_ref().map(|s| s.stats())
    }
}

/// How long one frame lasts.
const FRAME: Duration = Duration::from_millis(20);

/// A relay thread that fell this far behind starts its frames again from now.
const LATE: Duration = Duration::from_millis(200);

/// A running relay: its thread, its controls, each leg's counters.
pub struct Relay {
    control: SyncSender<(RelayLeg, MediaParams)>,
    running: Arc<AtomicBool>,
    stats: [Arc<Stats>; 2],
    thread: Option<JoinHandle<()>>,
}

impl Relay {
    /// Starts relaying between `sockets` (the caller leg's, the target leg's: bound), with
    /// the `[media]` jitter buffer on each leg.
    pub fn start(sockets: [UdpSocket; 2], jitter: JitterConfig) -> std::io::Result<Relay> {
        for s in &sockets {
            s.set_nonblocking(true)?;
        }
        let clock = Clock::start();
        let id = Identity {
            rtp_seed: random::u64()?,
            rtcp_seed: random::u64()?,
            cname: random::bytes::<16>()?,
            ntp_at_zero: clock.ntp_at_zero(),
        };
        let (control, control_rx) = sync_channel(super::QUEUE);
        let running = Arc::new(AtomicBool::new(true));
        let stats = [Arc::new(Stats::default()), Arc::new(Stats::default())];
        let (run, published) = (running.clone(), stats.clone());
        let thread = std::thread::Builder::new()
            .name("tipring-relay".into())
            .spawn(move || {
                let core = RelayCore::new(id, jitter);
                relay_thread(core, &sockets, &control_rx, &run, &published, clock);
            })?;
        Ok(Relay {
            control,
            running,
            stats,
            thread: Some(thread),
        })
    }

    /// A leg's media was negotiated or changed; `false` if the relay cannot take it now.
    pub fn set_media(&self, leg: RelayLeg, p: MediaParams) -> bool {
        self.control.try_send((leg, p)).is_ok()
    }

    /// Stops the thread; each leg's last counters (the caller's, the target's).
    pub fn stop(mut self) -> [StatsSnapshot; 2] {
        self.running.store(false, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        [self.stats[0].snapshot(), self.stats[1].snapshot()]
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.running.store(false, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn relay_thread(
    mut core: RelayCore,
    sockets: &[UdpSocket; 2],
    control: &Receiver<(RelayLeg, MediaParams)>,
    running: &AtomicBool,
    stats: &[Arc<Stats>; 2],
    clock: Clock,
) {
    let mut buf = [0u8; MTU];
    let mut send = |leg: RelayLeg, to: SocketAddr, d: &[u8]| {
        let _ = sockets[leg.index()].send_to(d, to);
    };
    let mut next = std::time::Instant::now();
    while running.load(Ordering::Relaxed) {
        while let Ok((leg, p)) = control.try_recv() {
            core.set_media(leg, &p);
        }
        for (i, socket) in sockets.iter().enumerate() {
            let leg = RelayLeg::at(i);
            while core.wants_datagram(leg) {
                match socket.recv_from(&mut buf) {
                    Ok((n, from)) => core.datagram(leg, clock.now(), from, &buf[..n], &mut send),
                    Err(e) if e.kind() == ErrorKind::Interrupted => {}
                    Err(_) => break,
                }
            }
        }
        core.frame(clock.now(), &mut send);
        for (i, s) in stats.iter().enumerate() {
            if let Some(st) = core.stats(RelayLeg::at(i)) {
                s.publish(st);
            }
        }
        next += FRAME;
        let now = std::time::Instant::now();
        if now > next + LATE {
            next = now;
        }
        std::thread::sleep(next.saturating_duration_since(now));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tipring_media::g711::Law;

    const CALLER: &str = "192.0.2.10:4000";
    const TARGET: &str = "192.0.2.20:5000";

    fn params(remote: &str, law: Law, pt: u8) -> MediaParams {
        MediaParams {
            law,
            payload_type: pt,
            event_payload_type: Some(101),
            remote: remote.parse().unwrap(),
            send: true,
            receive: true,
            srtp: None,
        }
    }

    fn core() -> RelayCore {
        let id = Identity {
            rtp_seed: 1,
            rtcp_seed: 2,
            cname: [3; 16],
            ntp_at_zero: 0,
        };
        RelayCore::new(id, JitterConfig::default())
    }

    /// An RTP packet of 20 ms of a constant level `v` in `law`, payload type `pt`.
    fn packet(seq: u16, pt: u8, law: Law, v: i16) -> Vec<u8> {
        let mut p = vec![0x80, pt, 0, 0, 0, 0, 0, 0, 0xde, 0xad, 0xbe, 0xef];
        p[2..4].copy_from_slice(&seq.to_be_bytes());
        p[4..8].copy_from_slice(&(u32::from(seq) * 160).to_be_bytes());
        let mut payload = [0u8; FRAME_SAMPLES];
        law.encode(&[v; FRAME_SAMPLES], &mut payload);
        p.extend_from_slice(&payload);
        p
    }

    /// Runs `frames` frames, feeding `caller_says` from `from` to the caller leg each
    /// frame; the target leg's outgoing audio packets' mean absolute level, decoded.
    fn run(c: &mut RelayCore, frames: u16, from: &str, caller_says: i16) -> Vec<f32> {
        let mut levels = Vec::new();
        let from: SocketAddr = from.parse().unwrap();
        for n in 0..frames {
            let now = Instant::from_micros(u64::from(n) * 20_000);
            let pkt = packet(n, 0, Law::Ulaw, caller_says);
            let mut sink = |_: RelayLeg, _: SocketAddr, _: &[u8]| {};
            c.datagram(RelayLeg::Caller, now, from, &pkt, &mut sink);
            let mut sink = |leg: RelayLeg, to: SocketAddr, d: &[u8]| {
                if leg == RelayLeg::Target && to == TARGET.parse().unwrap() && d[1] & 0x7f == 8 {
                    let mut pcm = [0i16; FRAME_SAMPLES];
                    Law::Alaw.decode(&d[12..], &mut pcm);
                    let mean = pcm.iter().map(|&v| f32::from(v).abs()).sum::<f32>() / 160.0;
                    levels.push(mean);
                }
            };
            c.frame(now, &mut sink);
        }
        levels
    }

    #[test]
    fn the_caller_is_heard_by_the_target_in_the_target_legs_own_codec() {
        let mut c = core();
        c.set_media(RelayLeg::Caller, &params(CALLER, Law::Ulaw, 0));
        c.set_media(RelayLeg::Target, &params(TARGET, Law::Alaw, 8));
        let levels = run(&mut c, 30, CALLER, 4000);
        assert_eq!(levels.len(), 30, "one packet a frame to the target");
        let late = &levels[20..];
        assert!(
            late.iter().all(|&l| (3500.0..4500.0).contains(&l)),
            "{levels:?}"
        );
    }

    #[test]
    fn a_stranger_sending_to_the_caller_leg_is_not_heard_by_the_target() {
        let mut c = core();
        c.set_media(RelayLeg::Caller, &params(CALLER, Law::Ulaw, 0));
        c.set_media(RelayLeg::Target, &params(TARGET, Law::Alaw, 8));
        // The caller's stream is latched (RFC 4961); then a stranger sends a louder one.
        run(&mut c, 10, CALLER, 100);
        let levels = run(&mut c, 30, "198.51.100.7:4000", 4000);
        assert!(levels.iter().all(|&l| l < 200.0), "{levels:?}");
    }

    #[test]
    fn before_the_target_answers_nothing_goes_to_it_and_its_socket_is_read_within_budget() {
        let mut c = core();
        c.set_media(RelayLeg::Caller, &params(CALLER, Law::Ulaw, 0));
        let mut sent = Vec::new();
        let mut sink = |leg: RelayLeg, _: SocketAddr, _: &[u8]| sent.push(leg);
        let mut taken = 0u64;
        while c.wants_datagram(RelayLeg::Target) {
            c.datagram(
                RelayLeg::Target,
                Instant::from_micros(0),
                TARGET.parse().unwrap(),
                &[0x80; 172],
                &mut sink,
            );
            taken += 1;
        }
        assert_eq!(taken, RX_BUDGET + DISCARD_BUDGET);
        c.frame(Instant::from_micros(0), &mut sink);
        assert!(
            c.wants_datagram(RelayLeg::Target),
            "a new frame, a new budget"
        );
        assert!(!sent.contains(&RelayLeg::Target), "{sent:?}");
        assert!(sent.contains(&RelayLeg::Caller), "the caller leg runs");
    }
}
