//! One sipp run of the built-in `uac` scenario (INVITE, ACK, a pause, BYE) against a UAS,
//! and what it counted (`-trace_stat`: calls created, successful, failed; elapsed time).

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What one sipp run did.
#[derive(Debug, Clone, Copy)]
pub struct Step {
    pub ok: u64,
    pub failed: u64,
    /// Achieved call rate (calls created / elapsed), from sipp's statistics.
    pub rate: f64,
    /// sipp's exit status (0: every call succeeded), `None` when it had to be killed.
    pub exit: Option<i32>,
}

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
    let _ = std::fs::remove_file(&stat);
    let limit = Duration::from_secs(uac.calls / u64::from(uac.rate.max(1)) + 60);
    let mut child = Command::new("sipp")
        .arg(target.to_string())
        .args(["-sn", "uac", "-i", uac.ip])
        .args(["-p", &uac.port.to_string()])
        .args(["-mp", &uac.media_port.to_string()])
        .args(["-r", &uac.rate.to_string(), "-rp", "1000"])
        .args(["-m", &uac.calls.to_string()])
        .args(["-d", &uac.hold_ms.to_string()])
        .args(uac.extra)
        .args(["-nostdin", "-timeout", &format!("{}s", limit.as_secs())])
        .args(["-timeout_error"])
        .args(["-trace_stat", "-fd", "1", "-stf", &stat.to_string_lossy()])
        .current_dir(uac.dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("sipp: {e}"))?;
    let end = Instant::now() + limit + Duration::from_secs(10);
    let exit = loop {
        if let Ok(Some(s)) = child.try_wait() {
            break s.code();
        }
        if Instant::now() > end {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let text = std::fs::read_to_string(&stat).unwrap_or_default();
    let _ = std::fs::remove_file(&stat);
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let header: Vec<&str> = lines.first().copied().unwrap_or("").split(';').collect();
    let last: Vec<&str> = match lines.len() {
        0 | 1 => Vec::new(),
        n => lines[n - 1].split(';').collect(),
    };
    let col = |name: &str| {
        header
            .iter()
            .position(|h| *h == name)
            .and_then(|i| last.get(i).copied())
    };
    let num = |name: &str| col(name).and_then(|v| v.trim().parse::<u64>().ok());
    let created = num("OutgoingCall(C)").unwrap_or(0);
    let elapsed = col("ElapsedTime(C)").and_then(elapsed_secs).unwrap_or(0.0);
    Ok(Step {
        ok: num("SuccessfulCall(C)").unwrap_or(0),
        failed: num("FailedCall(C)").unwrap_or(0),
        rate: if elapsed > 0.0 {
            created as f64 / elapsed
        } else {
            0.0
        },
        exit,
    })
}

/// sipp's `HH:MM:SS:mmm...` elapsed time, seconds.
fn elapsed_secs(v: &str) -> Option<f64> {
    let p: Vec<f64> = v
        .trim()
        .split(':')
        .filter_map(|x| x.parse::<f64>().ok())
        .collect();
    match p.as_slice() {
        [h, m, s, ms, ..] => Some(h * 3600.0 + m * 60.0 + s + ms / 1000.0),
        [h, m, s] => Some(h * 3600.0 + m * 60.0 + s),
        _ => None,
    }
}
