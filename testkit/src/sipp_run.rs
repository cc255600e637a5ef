//! One sipp UAC run with `-trace_stat` and what it counted: the calls created, successful
//! and failed, and the call rate reached (the load benchmarks' step).

use std::path::Path;
use std::process::{Child, Command, Stdio};
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

/// Runs `sipp` (its arguments already given) with its statistics written to `stat`, in
/// `dir`, until it exits or `limit` (plus 10 s) passes, and reads the statistics.
pub fn run(mut sipp: Command, dir: &Path, stat: &Path, limit: Duration) -> Result<Step, String> {
    let _ = std::fs::remove_file(stat);
    let child = sipp
        .args(["-trace_stat", "-fd", "1", "-stf", &stat.to_string_lossy()])
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("sipp: {e}"))?;
    let exit = wait(child, limit + Duration::from_secs(10));
    let text = std::fs::read_to_string(stat).unwrap_or_default();
    let _ = std::fs::remove_file(stat);
    let mut step = parse(&text);
    step.exit = exit;
    Ok(step)
}

/// The exit code, or `None` when it had to be killed at `limit`.
fn wait(mut child: Child, limit: Duration) -> Option<i32> {
    let end = Instant::now() + limit;
    loop {
        if let Ok(Some(s)) = child.try_wait() {
            return s.code();
        }
        if Instant::now() > end {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The last line of a `-trace_stat` file (`;`-separated, a header line first).
fn parse(text: &str) -> Step {
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
    Step {
        ok: num("SuccessfulCall(C)").unwrap_or(0),
        failed: num("FailedCall(C)").unwrap_or(0),
        rate: if elapsed > 0.0 {
            created as f64 / elapsed
        } else {
            0.0
        },
        exit: None,
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_line_gives_the_totals_and_the_rate() {
        let text = "StartTime;ElapsedTime(C);OutgoingCall(C);SuccessfulCall(C);FailedCall(C)\n\
                    x;00:00:01:000;10;9;0\n\
                    x;00:00:02:500;50;48;2\n";
        let s = parse(text);
        assert_eq!((s.ok, s.failed), (48, 2));
        assert!((s.rate - 20.0).abs() < 1e-9, "{}", s.rate);
        assert_eq!(parse("").ok, 0);
    }
}
