//! `tipring answer`: a diagnostic UAS on the UA core. It rings, answers with an SDP answer,
//! sends RTP (silence or a 1 kHz tone) and prints one line per SIP message.

use clap::Args as ClapArgs;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::{Duration, Instant};
use tipring_media::g711::Law;
use tipring_media::rtp::RtpRepr;
use tipring_sip::digest::{DigestServer, Secret, ServerConfig};
use tipring_sip::sdp::{
    Codec, Direction, MediaConfig, NegotiatedMedia, OfferAnswer, SessionDescription,
};
use tipring_sip::transaction::Transport;
use tipring_sip::ua::runner::{Direction as Way, Tap, UaRunner};
use tipring_sip::ua::{CallHandle, UaConfig, UaEvent};

#[derive(Debug, ClapArgs)]
pub struct Args {
    /// Address to listen on, e.g. 127.0.0.1:5060.
    #[arg(long)]
    pub listen: SocketAddr,
    /// udp, tcp or tls (see --cert, --key, --ca).
    #[arg(long, default_value = "udp")]
    pub transport: String,
    /// Wait this long after the INVITE before sending 180 Ringing.
    #[arg(long, default_value_t = 0)]
    pub ring_ms: u64,
    /// Answer this long after the INVITE.
    #[arg(long, default_value_t = 500)]
    pub answer_after_ms: u64,
    /// Answer every call with 486 Busy Here.
    #[arg(long)]
    pub busy: bool,
    /// Challenge callers (USER:PASS).
    #[arg(long)]
    pub auth: Option<String>,
    /// Exit after this many calls ended.
    #[arg(long)]
    pub calls: Option<u64>,
    /// Send a 1 kHz tone instead of silence.
    #[arg(long)]
    pub tone: bool,
    /// Put each call on hold (re-INVITE with a=sendonly) this long after the ACK.
    #[arg(long)]
    pub hold_after_ms: Option<u64>,
    #[command(flatten)]
    pub tls: super::tls::TlsArgs,
}

/// How long a command keeps serving after its work is done, so its last messages reach
/// the peer (and a lost one is answered again) before the process exits.
pub(super) const LINGER: Duration = Duration::from_millis(500);

/// Parses `--transport`.
pub(super) fn transport(s: &str) -> Option<Transport> {
    match s.to_ascii_lowercase().as_str() {
        "udp" => Some(Transport::Udp),
        "tcp" => Some(Transport::Tcp),
        "tls" => Some(Transport::Tls),
        _ => None,
    }
}

/// Runs one SIP command (`cmd` names it in errors): parses `--transport`, then drives
/// `work` on a single-threaded runtime to its exit status.
pub(super) fn run_ua<F, Fut>(cmd: &str, transport_arg: &str, work: F) -> ExitCode
where
    F: FnOnce(Transport) -> Fut,
    Fut: std::future::Future<Output = ExitCode>,
{
    let Some(t) = transport(transport_arg) else {
        eprintln!("{cmd}: unknown transport {transport_arg}");
        return ExitCode::FAILURE;
    };
    match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt.block_on(work(t)),
        Err(e) => {
            eprintln!("{cmd}: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The ladder: `-> 127.0.0.1:5062 INVITE sip:...` / `<- 127.0.0.1:5062 SIP/2.0 180 Ringing`.
pub(super) fn ladder() -> Tap {
    Box::new(|dir, peer, bytes| {
        let line = bytes
            .split(|&b| b == b'\r' || b == b'\n')
            .next()
            .unwrap_or_default();
        let arrow = match dir {
            Way::Sent => "->",
            Way::Received => "<-",
        };
        println!("{arrow} {} {}", peer.addr, String::from_utf8_lossy(line));
    })
}

/// Sends G.711 packets (silence, or a 1 kHz tone) until aborted, to the media in force:
/// a re-offer sent through `media` retargets the stream (address, codec, ptime) and a
/// direction that does not send (hold) pauses it (RFC 3264 §8).
pub(super) async fn send_rtp(
    sock: tokio::net::UdpSocket,
    mut media: tokio::sync::watch::Receiver<NegotiatedMedia>,
    tone: bool,
) {
    let mut m = media.borrow_and_update().clone();
    let ssrc = std::process::id().wrapping_mul(2_654_435_761);
    let (mut seq, mut ts, mut n) = (0u16, 0u32, 0u64);
    loop {
        let law = match m.codec {
            Codec::Pcmu => Law::Ulaw,
            Codec::Pcma => Law::Alaw,
        };
        let ptime = m.ptime.clamp(10, 60);
        let samples = (ptime * 8) as usize;
        let mut pcm = vec![0i16; samples];
        let mut payload = vec![law.silence(); samples];
        let mut buf = vec![0u8; 12 + samples];
        let mut tick = tokio::time::interval(Duration::from_millis(u64::from(ptime)));
        while !media.has_changed().unwrap_or(false) {
            tick.tick().await;
            let Some(to) = m.remote_rtp.filter(|_| m.direction.sends()) else {
                continue;
            };
            if tone {
                for s in pcm.iter_mut() {
                    let phase = (n % 8) as f64 * std::f64::consts::TAU / 8.0;
                    *s = (phase.sin() * 8000.0) as i16;
                    n += 1;
                }
                law.encode(&pcm, &mut payload);
            }
            let repr = RtpRepr::simple(m.payload_type, seq, ts, ssrc, seq == 0, &payload);
            if let Ok(len) = repr.emit(&mut buf) {
                let _ = sock.send_to(&buf[..len], to).await;
            }
            seq = seq.wrapping_add(1);
            ts = ts.wrapping_add(samples as u32);
        }
        m = media.borrow_and_update().clone();
    }
}

/// The Warning (§20.43) saying why an offer was refused: the RFC 3261 code where one fits
/// (301-305), else 399 with the SDP error's own text.
pub(super) fn sdp_warning(e: &tipring_sip::sdp::OfferAnswerError) -> (u16, String) {
    match e.warning() {
        Some((code, text)) => (code, text.to_owned()),
        None => (399, e.to_string()),
    }
}

/// Answers a re-INVITE's offer (hold, unhold, a new address or codec; RFC 3264 §8) from
/// the session's offer/answer state; the media now in force, for the RTP stream. An offer
/// that cannot be taken gets 400/488 and the session stays as it was (§14.2).
pub(super) fn reoffer(
    r: &mut UaRunner,
    now: Instant,
    call: CallHandle,
    oa: &mut OfferAnswer,
    sdp: &[u8],
) -> Option<NegotiatedMedia> {
    let answered = SessionDescription::parse(sdp)
        .map_err(tipring_sip::sdp::OfferAnswerError::from)
        .and_then(|offer| oa.answer_offer(&offer));
    let (sent, media) = match answered {
        Ok((answer, m)) => (
            r.ua()
                .accept_reoffer(now, call, answer.to_string().as_bytes()),
            Some(m),
        ),
        Err(e) => {
            eprintln!("re-offer refused: {e}");
            let (w, text) = sdp_warning(&e);
            let sent = r
                .ua()
                .reject_reoffer_with_warning(now, call, e.status(), Some((w, &text)));
            (sent, None)
        }
    };
    if let Err(e) = sent {
        eprintln!("re-offer not answered: {e}");
        return None;
    }
    media
}

/// What answering an offer needs: the offer/answer state, the RTP socket, the answer and
/// the media it settles.
type Prepared = (OfferAnswer, tokio::net::UdpSocket, Vec<u8>, NegotiatedMedia);

struct Incoming {
    oa: OfferAnswer,
    rtp: Option<tokio::net::UdpSocket>,
    answer: Vec<u8>,
    /// The media in force, watched by the RTP task (retargeted by re-offers).
    media: tokio::sync::watch::Sender<NegotiatedMedia>,
    ring_at: Option<Instant>,
    answer_at: Instant,
    hold_at: Option<Instant>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Args {
    pub fn run(self) -> ExitCode {
        let transport = self.transport.clone();
        run_ua("answer", &transport, |t| self.serve(t))
    }

    async fn serve(self, t: Transport) -> ExitCode {
        let mut r = match self
            .tls
            .bind(self.listen, t, |local| UaConfig::new(local, t, "answer"))
            .await
        {
            Ok(r) => r,
            Err(e) => {
                eprintln!("answer: {e}");
                return ExitCode::FAILURE;
            }
        };
        r.set_tap(ladder());
        if let Some(a) = &self.auth {
            let Some((user, pass)) = a.split_once(':') else {
                eprintln!("answer: --auth takes USER:PASS");
                return ExitCode::FAILURE;
            };
            let mut key = [0u8; 32];
            tipring_sip::random::os_fill(&mut key);
            let server = DigestServer::new(ServerConfig::new("tipring"), key, Instant::now());
            let users = HashMap::from([(user.to_owned(), Secret::Password(pass.to_owned()))]);
            r.ua().set_challenger(server, users);
        }
        eprintln!("answer: listening on {} ({:?})", r.local(), t);
        let mut calls: HashMap<CallHandle, Incoming> = HashMap::new();
        let mut done = 0u64;
        let mut stop = match super::shutdown::Shutdown::new() {
            Ok(s) => s,
            Err(e) => {
                eprintln!("answer: no signal handlers: {e}");
                return ExitCode::FAILURE;
            }
        };
        let mut stopping = false;
        loop {
            let due = calls
                .values()
                .flat_map(|c| {
                    let pending = c.task.is_none();
                    c.ring_at
                        .filter(|_| pending)
                        .into_iter()
                        .chain(pending.then_some(c.answer_at))
                        .chain(c.hold_at)
                })
                .min()
                .filter(|_| !stopping);
            let ev = tokio::select! {
                ev = r.next_event(due) => ev,
                _ = stop.requested() => {
                    // SIGINT/SIGTERM: end every call (480 before the answer, BYE after),
                    // then exit once they are over; a second signal exits at once.
                    if stopping {
                        return ExitCode::FAILURE;
                    }
                    stopping = true;
                    let now = Instant::now();
                    for h in calls.keys() {
                        if let Err(e) = r.ua().hangup(now, *h) {
                            eprintln!("answer: hangup: {e}");
                        }
                    }
                    if !r.ua().busy() {
                        r.linger(LINGER).await;
                        return ExitCode::SUCCESS;
                    }
                    continue;
                }
            };
            let now = Instant::now();
            match ev {
                None if stopping => {}
                None => {
                    for (h, c) in calls.iter_mut() {
                        if c.hold_at.is_some_and(|t| t <= now) {
                            c.hold_at = None;
                            c.oa.set_direction(Direction::SendOnly);
                            let offer = c.oa.create_offer().to_string().into_bytes();
                            if let Err(e) = r.ua().reinvite(now, *h, offer) {
                                eprintln!("answer: hold: {e}");
                            }
                        }
                        if c.ring_at.is_some_and(|t| t <= now) {
                            c.ring_at = None;
                            let _ = r.ua().ring(now, *h, 180, None);
                        }
                        if c.task.is_none() && c.answer_at <= now {
                            c.ring_at = None;
                            match r.ua().answer(now, *h, &c.answer) {
                                Ok(()) => {
                                    let sock = c.rtp.take();
                                    let media = c.media.subscribe();
                                    let tone = self.tone;
                                    c.task = Some(tokio::spawn(async move {
                                        if let Some(s) = sock {
                                            send_rtp(s, media, tone).await;
                                        }
                                    }));
                                }
                                Err(e) => eprintln!("answer: {e}"),
                            }
                        }
                    }
                }
                Some(UaEvent::Incoming {
                    call, from, sdp, ..
                }) => {
                    eprintln!("answer: call {} from {from}", call.0);
                    if self.busy || stopping {
                        let _ = r.ua().reject(now, call, 486);
                        continue;
                    }
                    match self.prepare(&sdp).await {
                        Ok((oa, rtp, answer, media)) => {
                            let ring_at = (self.ring_ms < self.answer_after_ms)
                                .then(|| now + Duration::from_millis(self.ring_ms));
                            calls.insert(
                                call,
                                Incoming {
                                    oa,
                                    rtp: Some(rtp),
                                    answer,
                                    media: tokio::sync::watch::channel(media).0,
                                    ring_at,
                                    answer_at: now + Duration::from_millis(self.answer_after_ms),
                                    hold_at: None,
                                    task: None,
                                },
                            );
                        }
                        Err((code, warning)) => {
                            let w = warning.as_ref().map(|(c, t)| (*c, t.as_str()));
                            let _ = r.ua().reject_with_warning(now, call, code, w);
                        }
                    }
                }
                Some(UaEvent::Confirmed { call, .. }) => {
                    if let (Some(ms), Some(c)) = (self.hold_after_ms, calls.get_mut(&call)) {
                        c.hold_at = Some(now + Duration::from_millis(ms));
                    }
                }
                Some(UaEvent::ReinviteDone { call, sdp }) => {
                    let parsed = SessionDescription::parse(&sdp);
                    // The direction the far end answered with (RFC 3264 §6.1: recvonly to
                    // our sendonly).
                    let dir = parsed
                        .as_ref()
                        .ok()
                        .and_then(|a| a.media.first().map(|m| a.media_direction(m).as_str()));
                    eprintln!(
                        "answer: call {} re-INVITE answered: {}",
                        call.0,
                        dir.unwrap_or("no SDP")
                    );
                    if let (Some(c), Ok(a)) = (calls.get_mut(&call), parsed)
                        && let Ok(m) = c.oa.process_answer(&a)
                    {
                        c.media.send_replace(m);
                    }
                }
                Some(UaEvent::Reoffer { call, sdp }) => match calls.get_mut(&call) {
                    Some(c) => {
                        if let Some(m) = reoffer(&mut r, now, call, &mut c.oa, &sdp) {
                            c.media.send_replace(m);
                        }
                    }
                    None => {
                        let _ = r.ua().reject_reoffer(now, call, 488);
                    }
                },
                Some(UaEvent::Ended { call, reason }) => {
                    eprintln!("answer: call {} ended: {reason:?}", call.0);
                    if let Some(c) = calls.remove(&call)
                        && let Some(t) = c.task
                    {
                        t.abort();
                    }
                    r.ua().reap();
                    done += 1;
                    if self.calls.is_some_and(|n| done >= n) || (stopping && !r.ua().busy()) {
                        r.linger(LINGER).await;
                        return ExitCode::SUCCESS;
                    }
                }
                Some(other) => eprintln!("answer: {other:?}"),
            }
        }
    }

    /// The answer to an offer and the RTP socket it names; the status to reject with when
    /// the offer cannot be answered (400/488, with a Warning saying why).
    async fn prepare(&self, offer: &[u8]) -> Result<Prepared, (u16, Option<(u16, String)>)> {
        let ip = self.listen.ip();
        let sock = tokio::net::UdpSocket::bind(SocketAddr::new(ip, 0))
            .await
            .map_err(|_| (500u16, None))?;
        let port = sock.local_addr().map_err(|_| (500u16, None))?.port();
        let mut oa = OfferAnswer::new(MediaConfig::new(ip, port), u64::from(port));
        let refused = |e: tipring_sip::sdp::OfferAnswerError| (e.status(), Some(sdp_warning(&e)));
        let parsed = SessionDescription::parse(offer).map_err(|e| refused(e.into()))?;
        let (answer, media) = oa.answer_offer(&parsed).map_err(refused)?;
        Ok((oa, sock, answer.to_string().into_bytes(), media))
    }
}
