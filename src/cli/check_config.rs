//! `tipring check-config`: validates a configuration file and its board profile and prints
//! what would run (ports, accounts, dial plans, listeners), or every error with exit 1.

use clap::Args as ClapArgs;
use std::path::PathBuf;
use std::process::ExitCode;
use tipring::config::{self, AudioKind, FxoInboundRole, Loaded, PortRole};
use tipring_sip::digest::Algorithm;

#[derive(Debug, ClapArgs)]
pub struct Args {
    /// The configuration file (e.g. /etc/tipring/tipring.toml).
    pub file: PathBuf,
    /// Directory of board profiles (`<name>.toml`).
    #[arg(long, default_value = config::DEFAULT_BOARD_DIR)]
    pub board_dir: PathBuf,
}

impl Args {
    pub fn run(self) -> ExitCode {
        match config::load(&self.file, &self.board_dir) {
            Ok(loaded) => {
                print!("{}", summary(&self.file.display().to_string(), &loaded));
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("{e}");
                eprintln!(
                    "{}: {} error(s); nothing would run",
                    self.file.display(),
                    e.diagnostics.len()
                );
                ExitCode::FAILURE
            }
        }
    }
}

fn opt(s: &Option<String>) -> &str {
    s.as_deref().unwrap_or("-")
}

/// The human-readable account of what would run.
fn summary(file: &str, l: &Loaded) -> String {
    use std::fmt::Write;
    let (c, b) = (&l.config, &l.board);
    let mut o = String::new();
    let _ = writeln!(o, "{file}: OK");
    let _ = writeln!(o, "board {} ({})", b.name, b.description);
    let _ = writeln!(
        o,
        "  serial {} at {} {}",
        b.serial.device.display(),
        b.serial.baud,
        b.serial.framing
    );
    match b.audio.kind {
        AudioKind::Sim => {
            let dir = b.sim_socket_dir().map(|d| d.display().to_string());
            let _ = writeln!(
                o,
                "  audio: simulator sockets in {}",
                dir.unwrap_or_default()
            );
        }
        AudioKind::Alsa => {
            let _ = writeln!(
                o,
                "  audio: ALSA, {} bus, {} periods of 20 ms",
                b.audio.format.map(|f| f.to_string()).unwrap_or_default(),
                b.audio.periods
            );
            for p in &b.ports {
                let _ = writeln!(
                    o,
                    "    port {} ({:?}): capture {}, playback {}",
                    p.index,
                    p.kind,
                    opt(&p.capture),
                    opt(&p.playback)
                );
            }
        }
    }
    if let Some(w) = &b.watchdog {
        let _ = writeln!(o, "  watchdog {} ({} s)", w.device.display(), w.timeout_s);
    }
    let _ = writeln!(o, "identity: user agent \"{}\"", c.identity.user_agent);
    for li in &c.identity.listen {
        let _ = writeln!(o, "  listen {:?} {}", li.transport, li.address);
    }
    let _ = writeln!(o, "accounts: {}", c.accounts.len());
    for a in &c.accounts {
        let _ = writeln!(
            o,
            "  {}: registrar {} (expiry {} s), proxy {} (secondary {}), outbound proxy {}, user {}, {:?}",
            a.name,
            opt(&a.registrar),
            a.register_expiry_s,
            opt(&a.proxy),
            opt(&a.secondary_proxy),
            opt(&a.outbound_proxy),
            opt(&a.username),
            a.transport
        );
        if a.wants_mwi() {
            let _ = writeln!(
                o,
                "    message waiting: subscribed at {}",
                a.mwi_server.as_deref().unwrap_or("the address-of-record")
            );
        }
    }
    let _ = writeln!(o, "ports: {}", c.ports.len());
    for p in &c.ports {
        let role = match p.role() {
            PortRole::FxsDialPlan { dial_plan } => format!("FXS, dial plan {dial_plan}"),
            PortRole::FxsHotline { uri } => format!("FXS, hotline to {uri}"),
            PortRole::FxsWarmLine {
                uri,
                delay_ms,
                dial_plan,
            } => format!(
                "FXS, warm line to {uri} after {delay_ms} ms, dial plan {}",
                dial_plan.unwrap_or("-")
            ),
            PortRole::Fxo(f) => format!(
                "FXO, inbound {}, seize after {} ring(s), dial {:?}, answer {:?}, far hangup {:?}, flash {} ms; \
                 allows {}, DISA PIN {}, calls up to {} s, {} per hour, far digits after answer {}, far flash {}",
                match f.inbound {
                    FxoInboundRole::Hotline { uri } => format!("hotline to {uri}"),
                    FxoInboundRole::TwoStage { dial_plan } =>
                        format!("two-stage with dial plan {dial_plan}"),
                },
                f.rings_before_seize,
                f.dialing,
                f.answer_supervision,
                f.far_hangup,
                f.flash_ms,
                f.dial_allow,
                if f.disa_pin.is_some() { "set" } else { "none" },
                f.max_call_s,
                f.max_calls_per_hour,
                if f.allow_digits_after_answer {
                    "dialled"
                } else {
                    "dropped"
                },
                if f.allow_flash {
                    "flashes the line"
                } else {
                    "dropped"
                },
            ),
        };
        let _ = writeln!(
            o,
            "  port {}: {role}; number {}, account {}",
            p.index,
            opt(&p.number),
            p.account
                .as_deref()
                .or(c.accounts.first().map(|a| a.name.as_str()))
                .unwrap_or("-")
        );
    }
    let _ = writeln!(o, "dial plans: {}", c.dial_plans.len());
    for (name, map) in &c.dial_plans {
        let _ = writeln!(o, "  {name}: {map}");
    }
    let _ = writeln!(
        o,
        "tones: {:?}; timers: first digit {} ms, interdigit {}/{} ms, ring timeout {} ms, T1 {} ms, T2 {} ms",
        c.tones.country,
        c.timers.first_digit_ms,
        c.timers.interdigit_short_ms,
        c.timers.interdigit_long_ms,
        c.timers.ring_timeout_ms,
        c.timers.sip_t1_ms,
        c.timers.sip_t2_ms
    );
    let algorithms: Vec<&str> = c
        .security
        .auth_algorithms
        .iter()
        .map(|&a| Algorithm::from(a).as_str())
        .collect();
    let _ = writeln!(
        o,
        "security: trusted peers [{}], {} inbound credential(s), challenged with {}",
        c.security
            .trusted_peers
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", "),
        c.security.inbound_auth.len(),
        algorithms.join(", ")
    );
    let _ = writeln!(o, "  FXS ports ring for: {:?}", c.security.fxs_inbound);
    for w in config::udp_trust_warnings(&c.security.trusted_peers) {
        let _ = writeln!(o, "{w}");
    }
    let _ = writeln!(
        o,
        "media: codecs {:?}, jitter {}..{} ms, telephone-event PT {}, ptime {} ms, RTP ports {}-{}",
        c.media.codecs,
        c.media.jitter_min_ms,
        c.media.jitter_max_ms,
        c.media.telephone_event_pt,
        c.media.ptime_ms,
        c.media.rtp_port_min,
        c.media.rtp_port_max
    );
    o
}
