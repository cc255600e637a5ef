//! One sipp run of the built-in `uac` scenario (INVITE, ACK, a pause, BYE) against a UAS,
//! and what it counted ([`testkit::sipp_run`]).

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

pub use testkit::sipp_run::Step;

/// How to run the UAC.
pub struct Uac<'a> {
    /// Working directory (statistics files).
    pub dir: &'a Path,
    /// Our address (sipp's `-i`) and signalling and media ports.
    pub ip: &'a str,
    pub port: u16,
    pub media_port: u16,
    /// Calls per second, number of calls, hold (`-d`) in ms.
    pub rate: u32,
    pub calls: u64,
    pub hold_ms: u32,
    /// More sipp options (`-lost 20`).
    pub extra: &'a [&'a str],
}

/// Runs the UAC against `target` until its calls are done (or a time limit passes).
pub fn run(uac: &Uac<'_>, target: SocketAddr) -> Result<Step, String> {
    let stat = uac
        .dir
        .join(format!("stat-{}-{}.csv", target.port(), uac.port));
    let limit = Duration::from_secs(uac.calls / u64::from(uac.rate.max(1)) + 60);
    let mut sipp = Command::new("sipp");
    sipp.arg(target.to_string())
        .args(["-sn", "uac", "-i", uac.ip])
        .args(["-p", &uac.port.to_string()])
        .args(["-mp", &uac.media_port.to_string()])
        .args(["-r", &uac.rate.to_string(), "-rp", "1000"])
        .args(["-m", &uac.calls.to_string()])
        .args(["-d", &uac.hold_ms.to_string()])
        .args(uac.extra)
        .args(["-nostdin", "-timeout", &format!("{}s", limit.as_secs())])
        .args(["-timeout_error"]);
    testkit::sipp_run::run(sipp, uac.dir, &stat, limit)
}
