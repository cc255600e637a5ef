//! The media bridge of one call: the port's audio (ALSA or the simulator, any
//! [`AudioPort`]) to and from G.711 RTP, through a sans-IO
//! [`MediaSession`](tipring_media::session::MediaSession) ([`Engine`]).
//!
//! Two thin threads own the I/O and the clock and feed the one session under a lock:
//! the audio thread wakes on each 20 ms frame from the audio port (the device paces it),
//! the socket thread on each datagram, which it stamps with its own arrival instant (so
//! interarrival jitter and the jitter buffer see the network, not the frame grid). A
//! flood costs bounded work per frame: the session handles [`RX_BUDGET`] datagrams per
//! frame and parses only the call's own of the next [`DISCARD_BUDGET`]; then the socket
//! thread stops reading until the next frame, and the rest waits in (and overflows from)
//! the kernel's buffer. Signalling talks to the bridge only through bounded channels
//! ([`Control`] in, [`Report`] out) and reads its [`Stats`] atomically, so the audio never
//! waits for signalling. RTP and RTCP share the socket (RFC 5761); RTP is symmetric
//! (RFC 4961) through the session's source latch, so that no other host can take the
//! call over.

mod clock;
mod conference;
mod engine;
mod line;
pub(crate) mod random;
mod relay;
mod stats;

pub use clock::Clock;
pub use engine::{DISCARD_BUDGET, Engine, Identity, RX_BUDGET};
pub use line::{LineMonitor, LineObservation};
pub use relay::{Relay, RelayCore, RelayLeg};
pub use stats::{Stats, StatsSnapshot};

use crate::call::{CallerInfo, ProgressTone};
use crate::ops::capture::RtpTap;
use std::io::ErrorKind;
use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;
use tipring_hal::audio::{AudioError, AudioPort, FRAME_SAMPLES};
use tipring_media::callerid::FskStandard;
use tipring_media::echo::EchoConfig;
use tipring_media::g711::Law;
use tipring_media::jitter::JitterConfig;
use tipring_media::modem::ModemTone;
use tipring_media::session::MTU;
use tipring_media::srtp::SrtpParams;
use tipring_media::tone::CountryProfile;

/// Depth of the control and report queues.
pub const QUEUE: usize = 32;

/// The negotiated media of one call (from the SDP answer).
#[derive(Debug, Clone, Copy)]
pub struct BridgeConfig {
    /// Codec we send.
    pub law: Law,
    /// Its RTP payload type (0 PCMU, 8 PCMA, RFC 3551 table 4, unless remapped).
    pub payload_type: u8,
    /// Payload type of telephone-event (RFC 4733), if negotiated.
    pub event_payload_type: Option<u8>,
    /// Where to send before the far end's packets show its address.
    pub remote: Option<SocketAddr>,
    /// Whether our SDP direction lets us send (sendrecv, sendonly). `false` (recvonly,
    /// inactive, or c=0.0.0.0 from the far end: RFC 3264 §6.1, §8.4): no RTP or events go
    /// out, received audio still plays and RTCP still flows (§5.1).
    pub send: bool,
    /// Whether the far end sends (its SDP is sendrecv or sendonly): only then may the RTP
    /// latch learn a source other than `remote`
    /// ([`SourceLatch`](tipring_media::session::SourceLatch)).
    pub receive: bool,
    /// SRTP keys (RFC 3711, keyed by SDES), or `None` for RTP in clear.
    pub srtp: Option<SrtpParams>,
    /// The country's call-progress tones.
    pub profile: CountryProfile,
    /// The far audio's jitter buffer (`[media]` jitter bounds, one frame per packet).
    pub jitter: JitterConfig,
    /// Caller-ID modulation for [`Control::CallerId`] (Bell 202 or V.23).
    pub caller_id: FskStandard,
    /// Regenerate the far end's RFC 4733 digits as tones to the line (FXS). `false` (FXO):
    /// they are only reported ([`Report::EventReceived`]) and the port's machine dials
    /// those its policy allows.
    pub far_digits: bool,
    /// The line's echo canceller (the port's `echo_canceller`, `echo_tail_ms`,
    /// `echo_nlp`); `None` when the port turns it off.
    pub echo: Option<EchoConfig>,
    /// Keep DTMF in the far end's audio off the line (FXO ports unless
    /// `allow_inband_digits`).
    pub mute_far_dtmf: bool,
    /// Listen for the far party's voice ([`Report::LineSpeech`]): FXO answer detection.
    pub answer: Option<tipring_media::tone::AnswerConfig>,
}

/// What the media bridge needs to run a call: the codec, payload types, the far address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MediaParams {
    /// G.711 law of the negotiated codec.
    pub law: Law,
    /// Its RTP payload type in this session.
    pub payload_type: u8,
    /// The RFC 4733 telephone-event payload type both sides agreed on, if any.
    pub event_payload_type: Option<u8>,
    /// Where to send RTP (symmetric RTP: also where it is expected from).
    pub remote: SocketAddr,
    /// Our negotiated direction lets us send: false when the far end holds the call
    /// (its sendonly or inactive, RFC 3264 §6.1; c=0.0.0.0, §8.4).
    pub send: bool,
    /// The far end sends (its sendrecv or sendonly): only then may the bridge learn its
    /// RTP from another address than `remote` (a NAT).
    pub receive: bool,
    /// SRTP keys when the SDP negotiated encrypted media (RFC 4568); `None`: RTP in clear.
    pub srtp: Option<SrtpParams>,
}

impl MediaParams {
    /// The far end as a media session takes it.
    pub fn session_remote(&self) -> tipring_media::session::Remote {
        tipring_media::session::Remote {
            addr: Some(self.remote),
            law: self.law,
            payload_type: self.payload_type,
            event_payload_type: self.event_payload_type,
            send: self.send,
            receive: self.receive,
        }
    }
}

/// The T.38 session a call's fax moves to (the SDP's `m=image … udptl t38` and its
/// attributes, T.38 Annex D): the bridge stops carrying audio and relays the fax.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FaxParams {
    /// Where the far end's UDPTL is.
    pub remote: SocketAddr,
    /// T.38 version both ends agreed on.
    pub version: u8,
    /// Highest image data rate, bit/s.
    pub max_bit_rate: u32,
    /// `transferredTCF` (else `localTCF`).
    pub transferred_tcf: bool,
    /// The largest datagram the far end takes.
    pub max_datagram: u16,
    /// Earlier IFP packets carried again in each datagram (0: no redundancy negotiated).
    pub redundancy: u8,
}

/// Commands from signalling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Control {
    /// Play this call-progress tone to the line instead of the far audio (`Silence` ends it).
    Tone(ProgressTone),
    /// Send an RFC 4733 event (0-15 DTMF, 16 flash) lasting `duration_ms`.
    SendEvent { code: u8, duration_ms: u16 },
    /// Dial these DTMF digits into the line (FXO), mixed over the far audio.
    DialDtmf(String),
    /// Send caller ID to the on-hook phone as FSK (FXS, between the first two rings).
    CallerId(CallerInfo),
    /// Caller ID on call waiting (FXS, off-hook): after the call-waiting tone's burst,
    /// the CAS, the phone's acknowledgement, then this caller as FSK.
    CallWaitingId(CallerInfo),
    /// Send the visual message-waiting indication to the on-hook phone as FSK (FXS).
    MessageWaiting(bool),
    /// A three-way call: mix in a second far party at these parameters (the call's
    /// far end stays the first), or leave the conference (`None`: the second leg ends).
    Join(Option<MediaParams>),
    /// Switch the codec we send (a re-INVITE changed the SDP answer).
    Codec { law: Law, payload_type: u8 },
    /// Send to this far end with this codec from now on (the SDP answer arrived or moved
    /// the far end), or stop sending (`remote: None`: the call's media ended but the line
    /// still hears tones). The line side (tones, DTMF dialling, detectors) carries on.
    Remote {
        remote: Option<SocketAddr>,
        law: Law,
        payload_type: u8,
        event_payload_type: Option<u8>,
        /// As [`BridgeConfig::send`]: a far hold (sendonly, inactive) stops our RTP.
        send: bool,
        /// As [`BridgeConfig::receive`].
        receive: bool,
        /// SRTP keys, or `None` for RTP in clear.
        srtp: Option<SrtpParams>,
    },
    /// Relay the call's fax as T.38 from now on (a re-INVITE moved the media to
    /// `image/t38`); a later [`Control::Remote`] goes back to audio.
    Fax(FaxParams),
    /// End the bridge.
    Stop,
}

/// What the bridge tells signalling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Report {
    /// A DTMF digit detected in the line's audio (also sent as an RFC 4733 event).
    InbandDigit(char),
    /// An RFC 4733 event began at the far end (regenerated as a tone to the line).
    EventReceived(u8),
    /// A call-progress tone heard on the line (FXO: dial tone, busy, reorder).
    LineTone(ProgressTone),
    /// Sound on the line (at most once a second; FXO silence supervision).
    LineActivity,
    /// A voice on the line, not a tone (FXO answer detection).
    LineSpeech,
    /// Caller ID decoded from the line (FXO, between rings).
    CallerId(CallerInfo),
    /// The exchange's dual-tone alert before caller ID heard on an idle line (DT-AS).
    CallerIdAlert,
    /// The audio port failed; the bridge stopped.
    AudioFailed,
    /// A fax or modem signal was heard: the call's media is in voice-band data mode
    /// ([`tipring_media::session::MediaSession::data`]).
    VoiceBandData(ModemTone),
    /// A fax or modem signal began on the line (all through the call).
    LineModemTone(ModemTone),
    /// The call's T.38 relay could not start (spandsp failed, or the firmware was built
    /// without T.38): the call stays on audio.
    FaxUnavailable,
}

/// How long the socket thread blocks in one read before it looks whether the bridge
/// still runs.
const READ_WAKE: Duration = Duration::from_millis(50);

/// The engine both threads feed, and the frame tick the socket thread waits for once a
/// frame's receive budget is spent.
struct Shared {
    engine: Mutex<Engine>,
    frame: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Engine> {
        self.engine.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A running bridge.
pub struct Bridge {
    control: SyncSender<Control>,
    reports: Receiver<Report>,
    stats: Arc<Stats>,
    running: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl Bridge {
    /// Starts the bridge's threads over `port` and `socket` (bound; given a read timeout
    /// here).
    pub fn start(
        port: Box<dyn AudioPort>,
        socket: UdpSocket,
        cfg: BridgeConfig,
    ) -> std::io::Result<Bridge> {
        Bridge::start_tapped(port, socket, cfg, None)
    }

    /// [`Bridge::start`], `tap` keeping the headers of the packets sent and received.
    pub fn start_tapped(
        port: Box<dyn AudioPort>,
        socket: UdpSocket,
        cfg: BridgeConfig,
        tap: Option<RtpTap>,
    ) -> std::io::Result<Bridge> {
        socket.set_nonblocking(false)?;
        let tap = Tapped {
            local: socket.local_addr()?,
            tap,
        };
        socket.set_read_timeout(Some(READ_WAKE))?;
        let socket = Arc::new(socket);
        let (control, control_rx) = sync_channel(QUEUE);
        let (report_tx, reports) = sync_channel(QUEUE);
        let stats = Arc::new(Stats::default());
        let running = Arc::new(AtomicBool::new(true));
        let clock = Clock::start();
        let engine = Engine::new(cfg, clock.ntp_at_zero(), stats.clone(), report_tx)?;
        let shared = Arc::new(Shared {
            engine: Mutex::new(engine),
            frame: Condvar::new(),
        });
        let audio = {
            let (shared, socket, stats, run, tap) = (
                shared.clone(),
                socket.clone(),
                stats.clone(),
                running.clone(),
                tap.clone(),
            );
            std::thread::Builder::new()
                .name("tipring-audio".into())
                .spawn(move || {
                    let net = Net {
                        socket: &socket,
                        tap: &tap,
                    };
                    audio_thread(port, &shared, net, &stats, &run, control_rx, clock);
                    run.store(false, Ordering::Relaxed);
                    shared.frame.notify_all();
                })?
        };
        let run = running.clone();
        let net = std::thread::Builder::new()
            .name("tipring-rtp".into())
            .spawn(move || {
                let net = Net {
                    socket: &socket,
                    tap: &tap,
                };
                socket_thread(&shared, net, &run, clock)
            });
        let net = match net {
            Ok(t) => t,
            Err(e) => {
                running.store(false, Ordering::Relaxed);
                let _ = audio.join();
                return Err(e);
            }
        };
        Ok(Bridge {
            control,
            reports,
            stats,
            running,
            threads: vec![audio, net],
        })
    }

    /// Queues a command; `false` if the queue is full or the bridge has ended.
    pub fn send(&self, c: Control) -> bool {
        !matches!(
            self.control.try_send(c),
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_))
        )
    }

    /// The next report, if any (never blocks).
    pub fn try_report(&self) -> Option<Report> {
        self.reports.try_recv().ok()
    }

    /// Hands the report queue to a reader of its own, which blocks on it and so wakes as
    /// each report arrives (it ends when the bridge does); [`Bridge::try_report`] yields
    /// nothing after.
    pub fn take_reports(&mut self) -> Receiver<Report> {
        let (_, none) = sync_channel(0);
        std::mem::replace(&mut self.reports, none)
    }

    /// The counters.
    pub fn stats(&self) -> StatsSnapshot {
        self.stats.snapshot()
    }

    /// Whether the threads still run.
    pub fn is_running(&self) -> bool {
        self.running.load(Ordering::Relaxed)
    }

    /// Stops the threads and waits for them.
    pub fn stop(mut self) -> StatsSnapshot {
        self.shutdown();
        self.stats.snapshot()
    }

    fn shutdown(&mut self) {
        self.running.store(false, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

impl Drop for Bridge {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Where the bridge's packets go: its socket, and the capture tap when there is one.
#[derive(Debug, Clone)]
struct Tapped {
    local: SocketAddr,
    tap: Option<RtpTap>,
}

/// A thread's view of the network.
#[derive(Clone, Copy)]
struct Net<'a> {
    socket: &'a UdpSocket,
    tap: &'a Tapped,
}

impl Net<'_> {
    fn send(&self, to: SocketAddr, d: &[u8]) {
        if let Some(t) = &self.tap.tap {
            t.record(self.tap.local, to, d);
        }
        let _ = self.socket.send_to(d, to);
    }

    fn received(&self, from: SocketAddr, d: &[u8]) {
        if let Some(t) = &self.tap.tap {
            t.record(from, self.tap.local, d);
        }
    }
}

/// Paced by the audio port: commands, then each captured frame through the session and
/// the frame to play back out.
fn audio_thread(
    mut port: Box<dyn AudioPort>,
    shared: &Shared,
    net: Net<'_>,
    stats: &Stats,
    run: &AtomicBool,
    control: Receiver<Control>,
    clock: Clock,
) {
    if port.start().is_err() {
        shared.lock().report(Report::AudioFailed);
        return;
    }
    let mut capture = [0; FRAME_SAMPLES];
    while run.load(Ordering::Relaxed) {
        while let Ok(c) = control.try_recv() {
            if c == Control::Stop {
                run.store(false, Ordering::Relaxed);
            } else {
                shared.lock().control(c);
            }
        }
        if !run.load(Ordering::Relaxed) {
            break;
        }
        match port.read_frame(&mut capture) {
            Ok(()) => {}
            // No audio this period (the simulator idles): nothing to pace on, try again.
            Err(AudioError::Timeout(_)) => continue,
            Err(_) => {
                shared.lock().report(Report::AudioFailed);
                break;
            }
        }
        let now = clock.now();
        let playback = shared
            .lock()
            .frame(now, &capture, &mut |to, d| net.send(to, d));
        shared.frame.notify_all();
        if port.write_frame(&playback).is_err() {
            shared.lock().report(Report::AudioFailed);
            break;
        }
        let c = port.counters();
        stats.set_xruns(c.capture_xruns + c.playback_xruns);
    }
    let _ = port.stop();
}

/// Woken by each datagram, stamped with its arrival instant; once a frame's receive
/// budget is spent, waits for the next frame without reading.
fn socket_thread(shared: &Shared, net: Net<'_>, run: &AtomicBool, clock: Clock) {
    let mut buf = [0u8; MTU];
    while run.load(Ordering::Relaxed) {
        {
            let engine = shared.lock();
            if !engine.wants_datagram() {
                let _ = shared.frame.wait_timeout_while(engine, READ_WAKE, |e| {
                    !e.wants_datagram() && run.load(Ordering::Relaxed)
                });
                continue;
            }
        }
        match net.socket.recv_from(&mut buf) {
            Ok((n, from)) => {
                let now = clock.now();
                net.received(from, &buf[..n]);
                shared
                    .lock()
                    .datagram(now, from, &buf[..n], &mut |to, d| net.send(to, d));
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            // Any other error: not read again before the next frame.
            Err(_) => {
                let engine = shared.lock();
                let _ = shared.frame.wait_timeout(engine, READ_WAKE);
            }
        }
    }
}
