//! `tipring answer`: a diagnostic UAS on the UA core, a stand-in for `sipp -sn uas` when
//! testing a PBX or a proxy. It takes any number of calls at once (up to `--max-calls`),
//! rings and answers each after its own delays, sends RTP per call (silence or a 1 kHz
//! tone; optional), hangs up after `--hold-ms` or waits for the caller's BYE, and prints
//! one line per SIP message (`--quiet`: none). The serving loop is in [`serve`].

mod schedule;
mod serve;

use clap::Args as ClapArgs;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::{Duration, Instant};
use tipring_sip::sdp::{NegotiatedMedia, OfferAnswer, SessionDescription};
use tipring_sip::transaction::Transport;
use tipring_sip::ua::CallHandle;
use tipring_sip::ua::runner::{Direction as Way, Tap, UaRunner};

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
    /// Hang up (BYE) each call this long after its ACK; without it a call lasts until the
    /// caller's BYE.
    #[arg(long)]
    pub hold_ms: Option<u64>,
    /// At most this many calls at once (ringing or answered); an INVITE beyond them is
    /// refused with --over-cap. Each call with RTP holds one UDP socket.
    #[arg(long, default_value_t = 256)]
    pub max_calls: usize,
    /// The status refusing an INVITE beyond --max-calls: 486 (Busy Here, as a phone) or
    /// 503 (Service Unavailable, as an overloaded server).
    #[arg(long, default_value_t = 486, value_parser = over_cap)]
    pub over_cap: u16,
    /// Send no RTP: every call's answer names one shared media port that only drains what
    /// arrives (as `sipp -sn uas`).
    #[arg(long)]
    pub no_rtp: bool,
    /// Print neither the ladder nor a line per call (high call rates); the counts are
    /// printed on exit.
    #[arg(long)]
    pub quiet: bool,
    #[command(flatten)]
    pub tls: super::tls::TlsArgs,
}

/// Parses `--over-cap`: 486 or 503.
fn over_cap(s: &str) -> Result<u16, String> {
    match s {
        "486" => Ok(486),
        "503" => Ok(503),
        _ => Err("486 or 503".into()),
    }
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

impl Args {
    pub fn run(self) -> ExitCode {
        let transport = self.transport.clone();
        run_ua("answer", &transport, |t| serve::serve(self, t))
    }
}
