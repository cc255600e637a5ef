//! One call's [`MediaSession`] joined to the gateway: [`Control`]s become session
//! commands, session events and line observations become [`Report`]s, and the session's
//! datagrams go to the call's socket. When signalling moves the call to T.38
//! ([`Control::Fax`]), a [`T38Relay`](tipring_t38::T38Relay) takes the line's audio and the
//! socket's datagrams instead, until a [`Control::Remote`] brings the audio back. No socket,
//! thread or clock here: the bridge's threads give every input its own instant.

use super::conference::{SecondLeg, mix, second_identity};
use super::line::{LineMonitor, LineObservation};
use super::random;
use super::stats::Stats;
use super::{BridgeConfig, Control, FaxParams, Report};
use crate::call::ProgressTone;
use crate::call::caller_id::{fsk_burst, mwi_burst, off_hook_burst};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::mpsc::SyncSender;
use tipring_hal::audio::{FRAME_SAMPLES, Frame};
use tipring_media::callerid::FskStandard;
use tipring_media::callerid::OffHookCallerId;
use tipring_media::instant::Instant;
use tipring_media::session::{MediaSession, Remote, SessionConfig, SessionEvent};
use tipring_media::tone::CountryProfile;

pub use tipring_media::session::{DISCARD_BUDGET, Identity, RX_BUDGET};

/// Where the session's datagrams go (the call's socket; a test's list).
pub type Sink<'a> = &'a mut dyn FnMut(SocketAddr, &[u8]);

/// The media of one call and what joins it to signalling.
pub struct Engine {
    session: MediaSession,
    line: LineMonitor,
    /// The frame last played to the line (the line monitor's echo guard).
    played: Frame,
    profile: CountryProfile,
    fsk: FskStandard,
    stats: Arc<Stats>,
    reports: SyncSender<Report>,
    /// The call's fax relay while the media is T.38.
    #[cfg(feature = "t38")]
    fax: Option<tipring_t38::T38Relay>,
    /// The first UDPTL sequence number of a relay (from the call's identity).
    #[cfg_attr(not(feature = "t38"), allow(dead_code))]
    fax_seq: u16,
    /// A three-way call's second far party, and what it takes to start one.
    second: Option<SecondLeg>,
    second_id: Identity,
    /// What the first far party said in the last frame (for the second's mix).
    first_heard: Frame,
}

impl Engine {
    /// The engine of one call; SSRC, first sequence number and timestamp, CNAME and the
    /// RTCP interval's randomisation come from the OS CSPRNG ([`super::random`]), whose
    /// failure is the only error. `ntp_at_zero`: the wall clock's NTP time at instant 0.
    pub fn new(
        cfg: BridgeConfig,
        ntp_at_zero: u64,
        stats: Arc<Stats>,
        reports: SyncSender<Report>,
    ) -> std::io::Result<Engine> {
        let id = Identity {
            rtp_seed: random::u64()?,
            rtcp_seed: random::u64()?,
            cname: random::bytes::<16>()?,
            ntp_at_zero,
        };
        Ok(Engine::with_identity(cfg, id, stats, reports))
    }

    /// The engine of one call with the identifiers given: a simulation that must replay
    /// exactly draws them from its seed.
    pub fn with_identity(
        cfg: BridgeConfig,
        id: Identity,
        stats: Arc<Stats>,
        reports: SyncSender<Report>,
    ) -> Engine {
        let session = MediaSession::new(
            SessionConfig {
                remote: Remote {
                    addr: cfg.remote,
                    law: cfg.law,
                    payload_type: cfg.payload_type,
                    event_payload_type: cfg.event_payload_type,
                    send: cfg.send,
                    receive: cfg.receive,
                },
                jitter: cfg.jitter,
                far_digits: cfg.far_digits,
                echo: cfg.echo,
                mute_far_dtmf: cfg.mute_far_dtmf,
            },
            id,
        );
        let mut session = session;
        // The keys came from our own SDES parsing (30 octets): never refused.
        let _ = session.set_srtp(cfg.srtp.as_ref());
        stats.publish(session.stats());
        Engine {
            session,
            line: {
                let mut l =
                    LineMonitor::new(&cfg.profile, cfg.caller_id, !cfg.far_digits, cfg.answer);
                l.set_in_call(cfg.remote.is_some());
                l
            },
            played: [0; FRAME_SAMPLES],
            profile: cfg.profile,
            fsk: cfg.caller_id,
            stats,
            reports,
            #[cfg(feature = "t38")]
            fax: None,
            fax_seq: (id.rtcp_seed >> 48) as u16,
            second: None,
            second_id: second_identity(&id),
            first_heard: [0; FRAME_SAMPLES],
        }
    }

    /// The session, read-only.
    pub fn session(&self) -> &MediaSession {
        &self.session
    }

    /// Reports to signalling; a full queue drops the report rather than wait.
    pub fn report(&self, r: Report) {
        let _ = self.reports.try_send(r);
    }

    /// Carries out one command.
    pub fn control(&mut self, c: Control) {
        let s = &mut self.session;
        match c {
            Control::Tone(t) => {
                let p = &self.profile;
                if t == ProgressTone::CallWaiting {
                    // Heard over the call, which carries on between the beeps.
                    s.set_tone_over(&p.call_waiting);
                    return;
                }
                s.set_tone(match t {
                    ProgressTone::Silence => None,
                    ProgressTone::Dial => Some(&p.dial),
                    ProgressTone::Ringback => Some(&p.ringback),
                    ProgressTone::Busy => Some(&p.busy),
                    ProgressTone::Reorder => Some(&p.congestion),
                    ProgressTone::CallWaiting => Some(&p.call_waiting),
                    ProgressTone::Confirm => Some(&p.confirmation),
                });
            }
            Control::SendEvent { code, duration_ms } => s.send_event(code, duration_ms),
            Control::DialDtmf(digits) => s.dial(&digits),
            Control::CallerId(info) => {
                if let Ok(burst) = fsk_burst(&info, self.fsk) {
                    s.play_fsk(burst);
                }
            }
            Control::CallWaitingId(info) => {
                let sas = self
                    .profile
                    .call_waiting
                    .cadence
                    .segments()
                    .first()
                    .copied()
                    .unwrap_or(300);
                if let Ok(burst) = off_hook_burst(&info, self.fsk) {
                    s.play_cwid(OffHookCallerId::new(sas, burst));
                }
            }
            Control::MessageWaiting(on) => {
                if let Ok(burst) = mwi_burst(on, self.fsk) {
                    s.play_fsk(burst);
                }
            }
            Control::Codec { law, payload_type } => s.set_codec(law, payload_type),
            Control::Remote {
                remote,
                law,
                payload_type,
                event_payload_type,
                send,
                receive,
                srtp,
            } => {
                self.end_fax();
                self.line.set_in_call(remote.is_some());
                self.session.set_remote(Remote {
                    addr: remote,
                    law,
                    payload_type,
                    event_payload_type,
                    send,
                    receive,
                });
                // Keys from our own SDES parsing (30 octets): never refused.
                let _ = self.session.set_srtp(srtp.as_ref());
            }
            Control::Fax(p) => self.start_fax(p),
            Control::Join(Some(p)) => {
                let jitter = *self.session.jitter_config();
                self.second = Some(SecondLeg::new(&p, jitter, self.second_id));
            }
            Control::Join(None) => self.second = None,
            Control::Stop => {}
        }
    }

    /// Whether the call's fax is being relayed as T.38.
    pub fn relaying_fax(&self) -> bool {
        #[cfg(feature = "t38")]
        return self.fax.is_some();
        #[cfg(not(feature = "t38"))]
        false
    }

    /// Moves the call to T.38: a relay towards `p.remote` takes over the line and the
    /// socket (a second [`Control::Fax`] moves it to the new far end).
    #[cfg(feature = "t38")]
    fn start_fax(&mut self, p: FaxParams) {
        use tipring_t38::{GatewayConfig, RelayConfig, T38Relay};
        let cfg = RelayConfig {
            gateway: GatewayConfig {
                version: p.version,
                max_bit_rate: p.max_bit_rate,
                transferred_tcf: p.transferred_tcf,
                max_datagram: p.max_datagram,
                ecm: true,
            },
            remote: p.remote,
            redundancy: usize::from(p.redundancy),
        };
        match T38Relay::new(&cfg, self.fax_seq) {
            Ok(r) => self.fax = Some(r),
            Err(_) => self.report(Report::FaxUnavailable),
        }
    }

    #[cfg(not(feature = "t38"))]
    fn start_fax(&mut self, _p: FaxParams) {
        self.report(Report::FaxUnavailable);
    }

    /// Back to audio.
    fn end_fax(&mut self) {
        #[cfg(feature = "t38")]
        {
            self.fax = None;
        }
    }

    /// The T.38 relay's counters, while there is one.
    #[cfg(feature = "t38")]
    pub fn fax_stats(&self) -> Option<tipring_t38::RelayStats> {
        self.fax.as_ref().map(|f| f.stats())
    }

    /// Whether another datagram should be read before the next frame (the receive
    /// budget, [`MediaSession::wants_datagram`]): in a three-way call, each leg's budget
    /// bounds the frame's work, whichever leg a flood aims at.
    pub fn wants_datagram(&self) -> bool {
        self.session.wants_datagram()
            && self
                .second
                .as_ref()
                .is_none_or(|l| l.session().wants_datagram())
    }

    /// One datagram that arrived at `now`.
    pub fn datagram(&mut self, now: Instant, from: SocketAddr, d: &[u8], send: Sink<'_>) {
        #[cfg(feature = "t38")]
        if let Some(fax) = &mut self.fax {
            fax.handle_datagram(from, d);
            while let Some((to, d)) = fax.poll_transmit() {
                send(to, &d);
                fax.recycle(d);
            }
            return;
        }
        if let Some(leg) = self.second.as_mut().filter(|l| l.takes(from)) {
            let s = leg.session_mut();
            s.handle_datagram(now, from, d);
            while let Some((to, d)) = s.poll_transmit() {
                send(to, d);
            }
            return;
        }
        self.session.handle_datagram(now, from, d);
        self.drain(send);
    }

    /// One captured frame at `now` (after the line monitor has heard it): what goes to
    /// the network is sent, and the frame to play returned.
    pub fn frame(&mut self, now: Instant, capture: &Frame, send: Sink<'_>) -> Frame {
        #[cfg(feature = "t38")]
        if let Some(fax) = &mut self.fax {
            let play = fax.handle_frame(capture);
            while let Some((to, d)) = fax.poll_transmit() {
                send(to, &d);
                fax.recycle(d);
            }
            return play;
        }
        let reports = &self.reports;
        self.line.frame(capture, &self.played, |o| {
            let _ = reports.try_send(match o {
                LineObservation::Tone(t) => Report::LineTone(t),
                LineObservation::Activity => Report::LineActivity,
                LineObservation::Speech => Report::LineSpeech,
                LineObservation::CallerId(c) => Report::CallerId(c),
                LineObservation::CallerIdAlert => Report::CallerIdAlert,
            });
        });
        let Some(leg) = self.second.as_mut() else {
            self.session.handle_frame(now, capture);
            let out = self.session.poll_playout().unwrap_or([0; FRAME_SAMPLES]);
            self.played = out;
            self.drain(send);
            return out;
        };
        // Three-way: each far party is sent the line with the other mixed in; the line
        // hears both.
        let second_heard = leg.frame(now, capture, &self.first_heard);
        while let Some((to, d)) = leg.session_mut().poll_transmit() {
            send(to, d);
        }
        self.session.handle_frame(now, &mix(capture, &second_heard));
        let first = self.session.poll_playout().unwrap_or([0; FRAME_SAMPLES]);
        self.first_heard = first;
        let out = mix(&first, leg.heard());
        self.played = out;
        self.drain(send);
        out
    }

    /// Sends the session's datagrams, reports its events, publishes its counters.
    fn drain(&mut self, send: Sink<'_>) {
        while let Some((to, d)) = self.session.poll_transmit() {
            send(to, d);
        }
        while let Some(e) = self.session.poll_event() {
            self.report(match e {
                SessionEvent::InbandDigit(d) => Report::InbandDigit(d.as_char()),
                SessionEvent::EventReceived(code) => Report::EventReceived(code),
                SessionEvent::VoiceBandData(tone) => Report::VoiceBandData(tone),
                SessionEvent::LineModemTone(tone) => Report::LineModemTone(tone),
            });
        }
        self.stats.publish(self.session.stats());
    }
}

#[cfg(test)]
mod tests {
    use super::super::MediaParams;
    use super::*;
    use tipring_media::g711::Law;
    use tipring_media::jitter::JitterConfig;
    use tipring_media::tone::Country;

    fn config(jitter: JitterConfig) -> BridgeConfig {
        BridgeConfig {
            law: Law::Ulaw,
            payload_type: 0,
            event_payload_type: None,
            remote: None,
            send: true,
            receive: true,
            srtp: None,
            profile: CountryProfile::builtin(Country::Us),
            jitter,
            caller_id: FskStandard::Bell202,
            far_digits: true,
            echo: None,
            mute_far_dtmf: false,
            answer: None,
        }
    }

    fn engine(jitter: JitterConfig) -> Engine {
        let (tx, _rx) = std::sync::mpsc::sync_channel(1);
        Engine::new(config(jitter), 0, Arc::new(Stats::default()), tx).unwrap()
    }

    #[test]
    fn the_jitter_buffer_runs_with_the_configured_bounds() {
        let jitter = JitterConfig {
            min_delay_us: 60_000,
            max_delay_us: 400_000,
            ..JitterConfig::default()
        };
        let e = engine(jitter);
        let used = e.session.jitter_config();
        assert_eq!((used.min_delay_us, used.max_delay_us), (60_000, 400_000));
        // Room for the deepest delay: 400 ms of 20 ms frames.
        assert!(used.capacity >= 20);
    }

    #[test]
    fn two_bridges_of_one_configuration_share_no_identifier() {
        // Same configuration, one after the other: nothing to tell them apart but the OS
        // random source.
        let (a, b) = (
            engine(JitterConfig::default()),
            engine(JitterConfig::default()),
        );
        let (a, b) = (&a.session, &b.session);
        assert_ne!(a.ssrc(), b.ssrc());
        assert_ne!(a.next_sequence(), b.next_sequence());
        assert_ne!(a.cname(), b.cname());
        // 128 random bits after the prefix.
        assert_eq!(a.cname().len(), "tipring-".len() + 32);
    }

    /// A three-way call's second leg: its far party's datagrams go to its own session,
    /// and a flood from it stops the reading at its budget as one at the first leg does.
    #[test]
    fn a_flood_at_the_second_leg_is_bounded_like_one_at_the_first() {
        let first: SocketAddr = "127.0.13.2:4000".parse().unwrap();
        let second: SocketAddr = "127.0.13.3:4000".parse().unwrap();
        let cfg = BridgeConfig {
            remote: Some(first),
            ..config(JitterConfig::default())
        };
        let (tx, _rx) = std::sync::mpsc::sync_channel(4);
        let mut e = Engine::new(cfg, 0, Arc::new(Stats::default()), tx).unwrap();
        e.control(Control::Join(Some(MediaParams {
            law: Law::Ulaw,
            payload_type: 0,
            event_payload_type: None,
            remote: second,
            send: true,
            receive: true,
            srtp: None,
        })));
        let mut pkt = vec![0x80, 0, 0, 1, 0, 0, 0, 160, 0, 0, 0, 9];
        pkt.extend_from_slice(&[0xff; 160]);
        let mut taken = 0;
        while e.wants_datagram() && taken < 10 * (RX_BUDGET + DISCARD_BUDGET) {
            e.datagram(Instant::from_micros(1_000), second, &pkt, &mut |_, _| {});
            taken += 1;
        }
        assert_eq!(taken, RX_BUDGET + DISCARD_BUDGET);
        assert_eq!(
            e.session.stats().rtp_received,
            0,
            "none reached the first leg"
        );
        // The next frame opens the budget again; leaving the conference drops the leg.
        e.frame(
            Instant::from_micros(20_000),
            &[0; FRAME_SAMPLES],
            &mut |_, _| {},
        );
        assert!(e.wants_datagram());
        e.control(Control::Join(None));
        assert!(e.second.is_none());
    }

    /// The far end's RFC 4733 digit reaches signalling as a report.
    #[test]
    fn a_far_event_is_reported() {
        let (tx, rx) = std::sync::mpsc::sync_channel(4);
        let far: SocketAddr = "127.0.13.2:4000".parse().unwrap();
        let cfg = BridgeConfig {
            event_payload_type: Some(101),
            remote: Some(far),
            ..config(JitterConfig::default())
        };
        let mut e = Engine::new(cfg, 0, Arc::new(Stats::default()), tx).unwrap();
        let mut pkt = vec![0x80, 0x80 | 101, 0, 1, 0, 0, 0, 160, 0, 0, 0, 7];
        pkt.extend_from_slice(&[5, 10, 0, 160]);
        e.datagram(Instant::from_micros(1_000), far, &pkt, &mut |_, _| {});
        assert_eq!(rx.try_recv(), Ok(Report::EventReceived(5)));
        assert_eq!(e.stats.snapshot().events_received, 1);
    }
}
