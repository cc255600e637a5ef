//! The media bridge of one call: the port's audio (ALSA or the simulator, any
//! [`AudioPort`]) to and from G.711 RTP.
//!
//! One thread per call, paced by the audio port: each 20 ms frame it reads the capture,
//! drains the UDP socket without blocking (at most [`RX_BUDGET`] datagrams handled and
//! [`DISCARD_BUDGET`] more read, so a flood to the port costs bounded work per frame and
//! is counted), plays one frame and sends one packet. Signalling
//! talks to it only through bounded channels ([`Control`] in, [`Report`] out) and reads its
//! [`Stats`] atomically, so the audio never waits for signalling. RTP and RTCP share the
//! socket (RFC 5761 multiplexing); RTP is symmetric (RFC 4961): once packets arrive,
//! replies go to the address they come from, latched once per SDP so that no other host
//! can take the call over ([`latch`]).

mod engine;
mod latch;
mod line;
pub(crate) mod random;
mod stats;

pub use engine::{DISCARD_BUDGET, Engine, RX_BUDGET};
pub use line::{LineMonitor, LineObservation};
pub use stats::{Stats, StatsSnapshot};

use crate::call::{CallerInfo, ProgressTone};
use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::thread::JoinHandle;
use tipring_hal::audio::AudioPort;
use tipring_media::callerid::FskStandard;
use tipring_media::g711::Law;
use tipring_media::jitter::JitterConfig;
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
    /// latch learn a source other than `remote` ([`latch`]).
    pub receive: bool,
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
    },
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
    /// Caller ID decoded from the line (FXO, between rings).
    CallerId(CallerInfo),
    /// The audio port failed; the bridge stopped.
    AudioFailed,
}

/// A running bridge.
pub struct Bridge {
    control: SyncSender<Control>,
    reports: Receiver<Report>,
    stats: Arc<Stats>,
    running: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Bridge {
    /// Starts the bridge thread over `port` and `socket` (bound; made non-blocking here).
    pub fn start(
        mut port: Box<dyn AudioPort>,
        socket: UdpSocket,
        cfg: BridgeConfig,
    ) -> std::io::Result<Bridge> {
        socket.set_nonblocking(true)?;
        let (control, control_rx) = sync_channel(QUEUE);
        let (report_tx, reports) = sync_channel(QUEUE);
        let stats = Arc::new(Stats::default());
        let running = Arc::new(AtomicBool::new(true));
        let mut engine = Engine::new(cfg, socket, stats.clone(), report_tx)?;
        let run = running.clone();
        let thread = std::thread::Builder::new()
            .name("tipring-bridge".into())
            .spawn(move || {
                let epoch = std::time::Instant::now();
                if port.start().is_err() {
                    engine.report(Report::AudioFailed);
                    run.store(false, Ordering::Relaxed);
                    return;
                }
                while run.load(Ordering::Relaxed) {
                    while let Ok(c) = control_rx.try_recv() {
                        if c == Control::Stop {
                            run.store(false, Ordering::Relaxed);
                        } else {
                            engine.control(c);
                        }
                    }
                    if !run.load(Ordering::Relaxed) {
                        break;
                    }
                    if !engine.step(port.as_mut(), epoch) {
                        engine.report(Report::AudioFailed);
                        break;
                    }
                }
                let _ = port.stop();
                run.store(false, Ordering::Relaxed);
            })?;
        Ok(Bridge {
            control,
            reports,
            stats,
            running,
            thread: Some(thread),
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

    /// Whether the thread still runs.
    pub fn is_running(&self) -> bool {
        self.running.load(Ordering::Relaxed)
    }

    /// Stops the thread and waits for it.
    pub fn stop(mut self) -> StatsSnapshot {
        self.shutdown();
        self.stats.snapshot()
    }

    fn shutdown(&mut self) {
        self.running.store(false, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Bridge {
    fn drop(&mut self) {
        self.shutdown();
    }
}
