//! Percentiles, /proc readings, and the table the bench prints.

use std::time::Instant;

/// p50 / p95 / max of a sample, ms.
#[derive(Debug, Clone, Copy)]
pub struct Dist {
    pub n: usize,
    pub p50: f64,
    pub p95: f64,
    pub max: f64,
}

/// Nearest-rank percentiles; `None` for an empty sample.
pub fn dist(v: &[f64]) -> Option<Dist> {
    if v.is_empty() {
        return None;
    }
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let rank = |p: f64| s[((p * s.len() as f64).ceil() as usize).clamp(1, s.len()) - 1];
    Some(Dist {
        n: s.len(),
        p50: rank(0.50),
        p95: rank(0.95),
        max: s[s.len() - 1],
    })
}

/// The bench's result table: one row per figure.
#[derive(Default)]
pub struct Table {
    rows: Vec<[String; 3]>,
}

impl Table {
    /// A latency row: `what`, its distribution (or why there is none), a note.
    pub fn latency(&mut self, what: &str, v: &[f64], note: &str) {
        let fig = match dist(v) {
            Some(d) => format!(
                "p50 {:.1} ms, p95 {:.1} ms (max {:.1}, n={})",
                d.p50, d.p95, d.max, d.n
            ),
            None => "no sample".into(),
        };
        self.row(what, &fig, note);
    }

    pub fn row(&mut self, what: &str, figure: &str, note: &str) {
        self.rows.push([what.into(), figure.into(), note.into()]);
        println!("  {what}: {figure}   [{note}]");
    }

    /// The table as Markdown.
    pub fn markdown(&self) -> String {
        let mut out = String::from("| figure | measured | what it includes |\n|---|---|---|\n");
        for [a, b, c] in &self.rows {
            out += &format!("| {a} | {b} | {c} |\n");
        }
        out
    }
}

/// CPU time of a process (`self` or a pid) in clock ticks: utime + stime of all threads
/// (proc(5), /proc/PID/stat fields 14 and 15).
pub fn cpu_ticks(pid: &str) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &s[s.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
}

/// A `kB` field of /proc/PID/status (VmRSS, VmHWM), or `Threads`.
pub fn status_field(pid: &str, field: &str) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Clock ticks per second (`getconf CLK_TCK`, 100 if that fails).
pub fn clk_tck() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100.0)
}

/// CPU use of a process over an interval.
pub struct CpuMeter {
    pid: String,
    ticks: u64,
    at: Instant,
}

impl CpuMeter {
    pub fn start(pid: &str) -> Option<CpuMeter> {
        Some(CpuMeter {
            pid: pid.into(),
            ticks: cpu_ticks(pid)?,
            at: Instant::now(),
        })
    }

    /// % of one core since [`CpuMeter::start`].
    pub fn percent(&self) -> Option<f64> {
        let t = cpu_ticks(&self.pid)?;
        let secs = self.at.elapsed().as_secs_f64();
        Some((t.saturating_sub(self.ticks)) as f64 / clk_tck() / secs * 100.0)
    }
}

/// The 1-minute load average.
pub fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(String::from))
        .unwrap_or_else(|| "?".into())
}
