//! `tipring register`: registers a binding with the UA core's REGISTER client and keeps it
//! refreshed until interrupted (then removes it), or once with `--once`.

use super::answer::{ladder, run_ua};
use clap::Args as ClapArgs;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Instant;
use tipring_sip::ua::DigestCredentials;
use tipring_sip::ua::register::RegisterConfig;
use tipring_sip::ua::{UaConfig, UaEvent};

#[derive(Debug, ClapArgs)]
pub struct Args {
    /// The registrar, e.g. sip:127.0.0.1:5060.
    pub registrar: String,
    /// The user part of the address-of-record.
    #[arg(long)]
    pub user: String,
    /// Credentials (USER:PASS).
    #[arg(long)]
    pub auth: Option<String>,
    /// Also answer RFC 2069 digest challenges (no qop), which a rogue server can replay.
    #[arg(long)]
    pub allow_rfc2069: bool,
    /// Requested expiry in seconds.
    #[arg(long, default_value_t = 3600)]
    pub expires: u32,
    /// Register, print the bindings, unregister and exit.
    #[arg(long)]
    pub once: bool,
    /// udp, tcp or tls (see --cert, --key, --ca).
    #[arg(long, default_value = "udp")]
    pub transport: String,
    /// Local address.
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,
    #[command(flatten)]
    pub tls: super::tls::TlsArgs,
    #[command(flatten)]
    pub dns: super::dns::DnsArgs,
}

impl Args {
    pub fn run(self) -> ExitCode {
        let transport = self.transport.clone();
        run_ua("register", &transport, |t| self.go(t))
    }

    async fn go(self, t: tipring_sip::transaction::Transport) -> ExitCode {
        let user = self.user.clone();
        let hosts = match self.dns.hosts(&[&self.registrar], t, self.listen).await {
            Ok(h) => h,
            Err(e) => {
                eprintln!("register: {e}");
                return ExitCode::FAILURE;
            }
        };
        let mut r = match self
            .tls
            .bind(self.listen, t, |local| {
                let mut c = UaConfig::new(local, t, &user);
                c.hosts = hosts;
                c
            })
            .await
        {
            Ok(r) => r,
            Err(e) => {
                eprintln!("register: {e}");
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
        let host = self
            .registrar
            .trim_start_matches("sips:")
            .trim_start_matches("sip:");
        let mut cfg = RegisterConfig::new(&self.registrar, &format!("sip:{}@{host}", self.user));
        cfg.expires = self.expires;
        let reg = match r.ua().register(Instant::now(), cfg) {
            Ok(h) => h,
            Err(e) => {
                eprintln!("register: {e}");
                return ExitCode::FAILURE;
            }
        };
        let mut stop = match super::shutdown::Shutdown::new() {
            Ok(s) => s,
            Err(e) => {
                eprintln!("register: no signal handlers: {e}");
                return ExitCode::FAILURE;
            }
        };
        let mut removing = false;
        loop {
            let ev = tokio::select! {
                ev = r.next_event(None) => ev,
                _ = stop.requested(), if !removing => {
                    removing = true;
                    let _ = r.ua().unregister(Instant::now(), reg);
                    continue;
                }
            };
            match ev {
                Some(UaEvent::Registered {
                    expires, bindings, ..
                }) => {
                    println!("register: bound for {expires} s");
                    for b in bindings {
                        println!("register: binding {} expires {:?}", b.uri, b.expires);
                    }
                    if self.once && !removing {
                        removing = true;
                        let _ = r.ua().unregister(Instant::now(), reg);
                    }
                }
                Some(UaEvent::RegistrationFailed { code, retry_in, .. }) => {
                    println!("register: failed with {code}; retry in {retry_in:?}");
                    if self.once {
                        return ExitCode::from(1);
                    }
                }
                Some(UaEvent::Unregistered { .. }) => {
                    println!("register: unregistered");
                    r.linger(super::answer::LINGER).await;
                    return ExitCode::SUCCESS;
                }
                Some(other) => eprintln!("register: {other:?}"),
                None => return ExitCode::FAILURE,
            }
        }
    }
}
