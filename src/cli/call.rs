//! `tipring call`: places one call with the UA core, follows redirects and challenges,
//! holds it sending RTP, hangs up and prints the ladder. Exit status 0 for a completed call;
//! otherwise the class of the final status (3-6), 7 for a failed challenge, 8 for a timeout.

use super::answer::{LINGER, ladder, reoffer, run_ua};
use super::rtp::send_rtp;
use clap::Args as ClapArgs;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::{Duration, Instant};
use tipring_sip::sdp::{MediaConfig, OfferAnswer, SessionDescription};
use tipring_sip::ua::DigestCredentials;
use tipring_sip::ua::{EndReason, UaConfig, UaEvent, uri_peer_in};

#[derive(Debug, ClapArgs)]
pub struct Args {
    /// Whom to call, e.g. sip:100@127.0.0.1:5060.
    pub uri: String,
    /// Our address-of-record.
    #[arg(long, default_value = "sip:tipring@127.0.0.1")]
    pub from: String,
    /// Send the INVITE through this proxy (a SIP URI; a host name is located as --dns says).
    #[arg(long)]
    pub proxy: Option<String>,
    /// Credentials for challenges (USER:PASS).
    #[arg(long)]
    pub auth: Option<String>,
    /// Also answer RFC 2069 digest challenges (no qop), which a rogue server can replay.
    #[arg(long)]
    pub allow_rfc2069: bool,
    /// Hold the call this long after the answer.
    #[arg(long, default_value_t = 2)]
    pub hold_secs: u64,
    /// udp, tcp or tls (see --cert, --key, --ca).
    #[arg(long, default_value = "udp")]
    pub transport: String,
    /// Local address for signalling and RTP.
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,
    #[command(flatten)]
    pub tls: super::tls::TlsArgs,
    #[command(flatten)]
    pub dns: super::dns::DnsArgs,
}

fn exit_for(reason: &EndReason) -> ExitCode {
    ExitCode::from(match reason {
        EndReason::LocalBye | EndReason::RemoteBye => 0,
        EndReason::Failed { code, .. } | EndReason::LocalReject(code) => (code / 100) as u8,
        EndReason::DialogGone(_) | EndReason::SessionExpired => 4,
        EndReason::AuthFailed(_) => 7,
        EndReason::Timeout | EndReason::NoAck => 8,
        EndReason::TooManyRedirects => 3,
        EndReason::Cancelled => 9,
    })
}

impl Args {
    pub fn run(self) -> ExitCode {
        let transport = self.transport.clone();
        run_ua("call", &transport, |t| self.place(t))
    }

    async fn place(self, t: tipring_sip::transaction::Transport) -> ExitCode {
        // The RTP stream's SSRC, first sequence number and timestamp (RFC 3550 §5.1).
        let rtp_seed = getrandom::u64().unwrap_or_else(|_| u64::from(std::process::id()));
        let mut uris = vec![self.uri.as_str()];
        uris.extend(self.proxy.as_deref());
        let hosts = match self.dns.hosts(&uris, t, self.listen).await {
            Ok(h) => h,
            Err(e) => {
                eprintln!("call: {e}");
                return ExitCode::FAILURE;
            }
        };
        let proxy = match &self.proxy {
            Some(p) => match uri_peer_in(p, t, &hosts) {
                Some(peer) => Some(peer),
                None => {
                    eprintln!("call: proxy {p} must be a SIP URI");
                    return ExitCode::FAILURE;
                }
            },
            None => None,
        };
        let mut r = match self
            .tls
            .bind(self.listen, t, |local| {
                let mut c = UaConfig::new(local, t, "tipring");
                c.outbound_proxy = proxy;
                c.hosts = hosts;
                c
            })
            .await
        {
            Ok(r) => r,
            Err(e) => {
                eprintln!("call: {e}");
                return ExitCode::FAILURE;
            }
        };
        r.set_tap(ladder());
        if let Some(a) = &self.auth {
            let Some((user, pass)) = a.split_once(':') else {
                eprintln!("--auth takes USER:PASS");
                return ExitCode::FAILURE;
            };
            let seed = tipring_sip::random::os_u64();
            r.ua().set_authenticator(Box::new(if self.allow_rfc2069 {
                DigestCredentials::new(user, pass, seed).with_rfc2069()
            } else {
                DigestCredentials::new(user, pass, seed)
            }));
        }
        let ip = r.local().ip();
        let Ok(rtp) = tokio::net::UdpSocket::bind(SocketAddr::new(ip, 0)).await else {
            eprintln!("call: no RTP socket");
            return ExitCode::FAILURE;
        };
        let port = rtp.local_addr().map(|a| a.port()).unwrap_or(0);
        let mut oa = OfferAnswer::new(MediaConfig::new(ip, port), u64::from(port));
        let offer = oa.create_offer().to_string().into_bytes();
        let h = match r.ua().call(Instant::now(), &self.uri, &self.from, offer) {
            Ok(h) => h,
            Err(e) => {
                eprintln!("call: {e}");
                return ExitCode::FAILURE;
            }
        };
        let mut rtp = Some(rtp);
        let mut media: Option<tokio::sync::watch::Sender<_>> = None;
        let mut task = None;
        let mut hangup_at = None;
        let mut stop = match super::shutdown::Shutdown::new() {
            Ok(s) => s,
            Err(e) => {
                eprintln!("call: no signal handlers: {e}");
                return ExitCode::FAILURE;
            }
        };
        let mut stopping = false;
        loop {
            let ev = tokio::select! {
                ev = r.next_event(hangup_at) => ev,
                _ = stop.requested() => {
                    // SIGINT/SIGTERM: hang up (CANCEL or BYE) and exit once the call is
                    // over; a second signal exits at once.
                    if stopping {
                        return ExitCode::FAILURE;
                    }
                    stopping = true;
                    hangup_at = None;
                    if let Err(e) = r.ua().hangup(Instant::now(), h) {
                        eprintln!("call: hangup: {e}");
                    }
                    continue;
                }
            };
            let now = Instant::now();
            match ev {
                None if hangup_at.is_some() => {
                    hangup_at = None;
                    if let Err(e) = r.ua().hangup(now, h) {
                        eprintln!("call: hangup: {e}");
                    }
                }
                None => return ExitCode::FAILURE,
                Some(UaEvent::Answered { sdp, .. }) => {
                    let negotiated = SessionDescription::parse(&sdp)
                        .ok()
                        .and_then(|a| oa.process_answer(&a).ok());
                    match (negotiated, rtp.take()) {
                        (Some(m), Some(sock)) => {
                            let (tx, rx) = tokio::sync::watch::channel(m);
                            media = Some(tx);
                            task = Some(tokio::spawn(send_rtp(sock, rx, false, rtp_seed)));
                        }
                        _ => eprintln!("call: answer has no usable SDP; holding without RTP"),
                    }
                    if !stopping {
                        hangup_at = Some(now + Duration::from_secs(self.hold_secs));
                    }
                }
                Some(UaEvent::Reoffer { call, sdp }) => {
                    // A re-INVITE from the far end (hold, unhold, a new address): answer it
                    // and retarget RTP (or start it, if the answer had no usable SDP).
                    match (
                        reoffer(&mut r, now, call, &mut oa, &sdp),
                        &media,
                        rtp.take(),
                    ) {
                        (Some(m), Some(tx), _) => {
                            tx.send_replace(m);
                        }
                        (Some(m), None, Some(sock)) => {
                            let (tx, rx) = tokio::sync::watch::channel(m);
                            media = Some(tx);
                            task = Some(tokio::spawn(send_rtp(sock, rx, false, rtp_seed)));
                        }
                        (_, _, sock) => rtp = sock,
                    }
                }
                Some(UaEvent::Ended { reason, .. }) => {
                    if let Some(t) = task.take() {
                        t.abort();
                    }
                    r.linger(LINGER).await;
                    println!("call: ended: {reason:?}");
                    return exit_for(&reason);
                }
                Some(other) => eprintln!("call: {other:?}"),
            }
        }
    }
}
