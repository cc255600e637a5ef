//! The serving loop of `tipring answer`: the UA core takes every INVITE as its own call
//! (not one line), this loop admits up to `--max-calls` of them, runs each call's steps
//! from the [`Schedule`] and its RTP stream as a task of its own.

use super::schedule::{Schedule, Step};
use super::{Args, LINGER, ladder, reoffer, sdp_warning};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::{Duration, Instant};
use tipring_sip::digest::{DigestServer, Secret, ServerConfig};
use tipring_sip::sdp::{
    Direction, MediaConfig, NegotiatedMedia, OfferAnswer, OfferAnswerError, SessionDescription,
};
use tipring_sip::transaction::Transport;
use tipring_sip::ua::runner::UaRunner;
use tipring_sip::ua::{CallHandle, UaConfig, UaEvent};
use tokio::net::UdpSocket;
use tokio::sync::watch;

/// One admitted call.
struct Incoming {
    oa: OfferAnswer,
    /// The call's own RTP socket until the answer starts its stream (`None` with
    /// `--no-rtp`: the answer names the shared port).
    rtp: Option<UdpSocket>,
    answer: Vec<u8>,
    /// The media in force, watched by the RTP task (retargeted by re-offers).
    media: watch::Sender<NegotiatedMedia>,
    answered: bool,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Drop for Incoming {
    fn drop(&mut self) {
        if let Some(t) = self.task.take() {
            t.abort();
        }
    }
}

/// What answering an offer needs: the offer/answer state, the call's RTP socket (if it
/// has its own), the answer and the media it settles.
type Prepared = (OfferAnswer, Option<UdpSocket>, Vec<u8>, NegotiatedMedia);

/// Counts printed on exit.
#[derive(Debug, Default)]
struct Tally {
    /// Calls that ended (answered or not).
    ended: u64,
    answered: u64,
    /// INVITEs refused because --max-calls were up.
    over_cap: u64,
    /// The most calls up at once.
    peak: usize,
}

/// The state of the serving loop.
struct Uas {
    args: Args,
    r: UaRunner,
    calls: HashMap<CallHandle, Incoming>,
    schedule: Schedule,
    /// With `--no-rtp`: the one media port every answer names.
    shared_port: Option<u16>,
    /// Seed of the RTP streams' SSRCs, sequence numbers and timestamps.
    rtp_seed: u64,
    tally: Tally,
    stopping: bool,
}

/// Serves calls until `--calls` have ended or a signal stops it.
pub(super) async fn serve(args: Args, t: Transport) -> ExitCode {
    let mut r = match args
        .tls
        .bind(args.listen, t, |local| {
            let mut c = UaConfig::new(local, t, "answer");
            // Every INVITE is a call of its own; --max-calls bounds them here.
            c.single_line = false;
            c
        })
        .await
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("answer: {e}");
            return ExitCode::FAILURE;
        }
    };
    if !args.quiet {
        r.set_tap(ladder());
    }
    if let Some(a) = &args.auth {
        let Some((user, pass)) = a.split_once(':') else {
            eprintln!("answer: --auth takes USER:PASS");
            return ExitCode::FAILURE;
        };
        let mut key = [0u8; 32];
        if let Err(e) = getrandom::fill(&mut key) {
            eprintln!("answer: no random key for the nonces: {e}");
            return ExitCode::FAILURE;
        }
        let server = DigestServer::new(ServerConfig::new("tipring"), key, Instant::now());
        let users = HashMap::from([(user.to_owned(), Secret::Password(pass.to_owned()))]);
        r.ua().set_challenger(server, users);
    }
    let shared_port = if args.no_rtp {
        match UdpSocket::bind(SocketAddr::new(args.listen.ip(), 0)).await {
            Ok(sock) => {
                let port = sock.local_addr().map(|a| a.port()).unwrap_or(0);
                tokio::spawn(drain(sock));
                Some(port)
            }
            Err(e) => {
                eprintln!("answer: media port: {e}");
                return ExitCode::FAILURE;
            }
        }
    } else {
        None
    };
    eprintln!("answer: listening on {} ({:?})", r.local(), t);
    let mut stop = match crate::cli::shutdown::Shutdown::new() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("answer: no signal handlers: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut uas = Uas {
        args,
        r,
        calls: HashMap::new(),
        schedule: Schedule::default(),
        shared_port,
        rtp_seed: getrandom::u64().unwrap_or_else(|_| u64::from(std::process::id())),
        tally: Tally::default(),
        stopping: false,
    };
    let code = uas.run(&mut stop).await;
    let t = &uas.tally;
    eprintln!(
        "answer: {} calls ended, {} answered, {} refused over --max-calls {}, at most {} at once",
        t.ended, t.answered, t.over_cap, uas.args.max_calls, t.peak
    );
    code
}

/// Reads and drops whatever reaches the shared media port.
async fn drain(sock: UdpSocket) {
    let mut buf = [0u8; 2048];
    while sock.recv_from(&mut buf).await.is_ok() {}
}

impl Uas {
    async fn run(&mut self, stop: &mut crate::cli::shutdown::Shutdown) -> ExitCode {
        loop {
            let now = Instant::now();
            while let Some((h, step)) = self.schedule.pop_due(now) {
                self.step(now, h, step);
            }
            let due = self.schedule.next();
            let ev = tokio::select! {
                ev = self.r.next_event(due) => ev,
                _ = stop.requested() => {
                    // SIGINT/SIGTERM: end every call (480 before the answer, BYE after),
                    // then exit once they are over; a second signal exits at once.
                    if self.stopping {
                        return ExitCode::FAILURE;
                    }
                    self.stopping = true;
                    let now = Instant::now();
                    for h in self.calls.keys() {
                        if let Err(e) = self.r.ua().hangup(now, *h) {
                            eprintln!("answer: hangup: {e}");
                        }
                    }
                    if !self.r.ua().busy() {
                        self.r.linger(LINGER).await;
                        return ExitCode::SUCCESS;
                    }
                    continue;
                }
            };
            let Some(ev) = ev else {
                continue;
            };
            if let Some(code) = self.on_event(Instant::now(), ev).await {
                return code;
            }
        }
    }

    /// One of a call's steps fell due (nothing when the call is over).
    fn step(&mut self, now: Instant, h: CallHandle, step: Step) {
        let Some(c) = self.calls.get_mut(&h) else {
            return;
        };
        let ua = self.r.ua();
        match step {
            Step::Ring if !c.answered => {
                let _ = ua.ring(now, h, 180, None);
            }
            Step::Answer if !c.answered => match ua.answer(now, h, &c.answer) {
                Ok(()) => {
                    c.answered = true;
                    self.tally.answered += 1;
                    if let Some(sock) = c.rtp.take() {
                        let seed = self.rtp_seed ^ h.0.wrapping_mul(0x9e37_79b9_7f4a_7c15);
                        let media = c.media.subscribe();
                        c.task = Some(tokio::spawn(crate::cli::rtp::send_rtp(
                            sock,
                            media,
                            self.args.tone,
                            seed,
                        )));
                    }
                }
                Err(e) => eprintln!("answer: {e}"),
            },
            Step::Hold => {
                c.oa.set_direction(Direction::SendOnly);
                let offer = c.oa.create_offer().to_string().into_bytes();
                if let Err(e) = ua.reinvite(now, h, offer) {
                    eprintln!("answer: hold: {e}");
                }
            }
            Step::Hangup => {
                if let Err(e) = ua.hangup(now, h) {
                    eprintln!("answer: hangup: {e}");
                }
            }
            Step::Ring | Step::Answer => {}
        }
    }

    /// Acts on one event of the core; the exit status once the work is done.
    async fn on_event(&mut self, now: Instant, ev: UaEvent) -> Option<ExitCode> {
        let quiet = self.args.quiet;
        match ev {
            UaEvent::Incoming {
                call, from, sdp, ..
            } => {
                if !quiet {
                    eprintln!("answer: call {} from {from}", call.0);
                }
                self.admit(now, call, &sdp).await;
            }
            UaEvent::Confirmed { call, .. } => {
                if self.calls.contains_key(&call) {
                    let ms = Duration::from_millis;
                    if let Some(t) = self.args.hold_after_ms {
                        self.schedule.at(now + ms(t), call, Step::Hold);
                    }
                    if let Some(t) = self.args.hold_ms {
                        self.schedule.at(now + ms(t), call, Step::Hangup);
                    }
                }
            }
            UaEvent::ReinviteDone { call, sdp } => {
                let parsed = SessionDescription::parse(&sdp);
                // The direction the far end answered with (RFC 3264 §6.1: recvonly to
                // our sendonly).
                let dir = parsed
                    .as_ref()
                    .ok()
                    .and_then(|a| a.media.first().map(|m| a.media_direction(m).as_str()));
                if !quiet {
                    eprintln!(
                        "answer: call {} re-INVITE answered: {}",
                        call.0,
                        dir.unwrap_or("no SDP")
                    );
                }
                if let (Some(c), Ok(a)) = (self.calls.get_mut(&call), parsed)
                    && let Ok(m) = c.oa.process_answer(&a)
                {
                    c.media.send_replace(m);
                }
            }
            UaEvent::Reoffer { call, sdp } => match self.calls.get_mut(&call) {
                Some(c) => {
                    if let Some(m) = reoffer(&mut self.r, now, call, &mut c.oa, &sdp) {
                        c.media.send_replace(m);
                    }
                }
                None => {
                    let _ = self.r.ua().reject_reoffer(now, call, 488);
                }
            },
            UaEvent::Ended { call, reason } => {
                if !quiet {
                    eprintln!("answer: call {} ended: {reason:?}", call.0);
                }
                self.calls.remove(&call);
                self.r.ua().reap();
                self.tally.ended += 1;
                let done = self.args.calls.is_some_and(|n| self.tally.ended >= n);
                if done || (self.stopping && !self.r.ua().busy()) {
                    self.r.linger(LINGER).await;
                    return Some(ExitCode::SUCCESS);
                }
            }
            other => {
                if !quiet {
                    eprintln!("answer: {other:?}");
                }
            }
        }
        None
    }

    /// A new INVITE: refused (--busy, stopping, over --max-calls, an offer we cannot
    /// answer) or admitted with its ring and answer steps scheduled.
    async fn admit(&mut self, now: Instant, call: CallHandle, sdp: &[u8]) {
        let refuse = if self.args.busy || self.stopping {
            Some(486)
        } else if self.calls.len() >= self.args.max_calls {
            self.tally.over_cap += 1;
            Some(self.args.over_cap)
        } else {
            None
        };
        if let Some(code) = refuse {
            let _ = self.r.ua().reject(now, call, code);
            return;
        }
        match self.prepare(sdp).await {
            Ok((oa, rtp, answer, media)) => {
                let a = &self.args;
                let ms = Duration::from_millis;
                if a.ring_ms <= a.answer_after_ms {
                    self.schedule.at(now + ms(a.ring_ms), call, Step::Ring);
                }
                self.schedule
                    .at(now + ms(a.answer_after_ms), call, Step::Answer);
                self.calls.insert(
                    call,
                    Incoming {
                        oa,
                        rtp,
                        answer,
                        media: watch::channel(media).0,
                        answered: false,
                        task: None,
                    },
                );
                self.tally.peak = self.tally.peak.max(self.calls.len());
            }
            Err((code, warning)) => {
                let w = warning.as_ref().map(|(c, t)| (*c, t.as_str()));
                let _ = self.r.ua().reject_with_warning(now, call, code, w);
            }
        }
    }

    /// The answer to an offer and the RTP port it names (the call's own socket, or the
    /// shared port with `--no-rtp`); the status to reject with when the offer cannot be
    /// answered (400/488, with a Warning saying why).
    async fn prepare(&self, offer: &[u8]) -> Result<Prepared, (u16, Option<(u16, String)>)> {
        let ip = self.args.listen.ip();
        let (sock, port) = match self.shared_port {
            Some(p) => (None, p),
            None => {
                let sock = UdpSocket::bind(SocketAddr::new(ip, 0))
                    .await
                    .map_err(|_| (500u16, None))?;
                let port = sock.local_addr().map_err(|_| (500u16, None))?.port();
                (Some(sock), port)
            }
        };
        let mut oa = OfferAnswer::new(MediaConfig::new(ip, port), u64::from(port));
        let refused = |e: OfferAnswerError| (e.status(), Some(sdp_warning(&e)));
        let parsed = SessionDescription::parse(offer).map_err(|e| refused(e.into()))?;
        let (answer, media) = oa.answer_offer(&parsed).map_err(refused)?;
        Ok((oa, sock, answer.to_string().into_bytes(), media))
    }
}
