//! `tipring capture --last 5m FILE`: the SIP messages the running gateway sent and received
//! lately, from its on-box ring (and its calls' RTP headers with `[capture] rtp_bytes`),
//! written as a pcap file for Wireshark or a provider's support desk (`-` writes it to
//! stdout).

use clap::Args as ClapArgs;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;
use tipring::ops::control;

#[derive(Debug, ClapArgs)]
pub struct Args {
    /// How far back: seconds, or with a unit (`90s`, `5m`, `2h`); at most 24 h.
    #[arg(long, default_value = "5m", value_parser = parse_span)]
    pub last: Duration,
    #[command(flatten)]
    pub socket: super::status::Socket,
    /// The pcap file to write (`-`: stdout).
    pub file: PathBuf,
}

impl Args {
    pub fn run(self) -> ExitCode {
        let pcap = match self
            .socket
            .path()
            .and_then(|s| control::capture(&s, self.last).map_err(|e| e.to_string()))
        {
            Ok(p) => p,
            Err(e) => {
                eprintln!("tipring capture: {e}");
                return ExitCode::FAILURE;
            }
        };
        let written = if self.file.as_os_str() == "-" {
            std::io::stdout().write_all(&pcap)
        } else {
            std::fs::write(&self.file, &pcap)
        };
        match written {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("tipring capture: {}: {e}", self.file.display());
                ExitCode::FAILURE
            }
        }
    }
}

/// `300`, `300s`, `5m`, `2h` → a duration of 1 s ..= 24 h.
fn parse_span(s: &str) -> Result<Duration, String> {
    let (digits, unit) = match s.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => s.split_at(i),
        None => (s, "s"),
    };
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("\"{s}\" is not a number of seconds, minutes or hours"))?;
    let secs = match unit {
        "s" => Some(n),
        "m" => n.checked_mul(60),
        "h" => n.checked_mul(3600),
        _ => None,
    }
    .ok_or_else(|| format!("\"{s}\": the unit is s, m or h"))?;
    let d = Duration::from_secs(secs);
    if d.is_zero() || d > control::MAX_CAPTURE {
        return Err(format!("\"{s}\" is not between 1 s and 24 h"));
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_with_and_without_units() {
        assert_eq!(parse_span("300"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_span("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_span("2h"), Ok(Duration::from_secs(7200)));
        assert!(parse_span("0").is_err());
        assert!(parse_span("25h").is_err());
        assert!(parse_span("5d").is_err());
        assert!(parse_span("m").is_err());
        assert!(parse_span("99999999999999999999h").is_err());
    }
}
