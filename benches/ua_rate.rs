//! The user agent's own call rate and its behaviour under loss, against sipp in the same
//! run (issue 14, benchmarks 1 and 2). Two UASes listen side by side on loopback:
//! `tipring answer` (no RTP, no ladder, answering at once) and `sipp -sn uas`. sipp's
//! built-in `uac` (INVITE, ACK, a 500 ms pause, BYE) calls each in turn:
//!
//! 1. **Call rate**: steps of rising calls/s (a few seconds each), the two UASes
//!    alternating at each rate; each side's highest rate with every call completed (and
//!    the rate really reached by sipp) is its ceiling. tipring's CPU share per step too.
//! 2. **Loss**: 100 calls at 5 calls/s with `-lost 20` (sipp drops 20 % of what it sends
//!    and receives), against each UAS: calls completed.
//!
//! `cargo bench --profile release --bench ua_rate` (release artifacts, no separate bench
//! build); `TIPRING_BENCH_QUICK=1` for a smoke run. Needs sipp (Debian `sip-tester`).
//! Prints the table; nothing is asserted.

#[path = "ua_rate/sipp.rs"]
mod sipp;
#[allow(dead_code)]
#[path = "gateway/stats.rs"]
mod stats;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const TIPRING: &str = env!("CARGO_BIN_EXE_tipring");
/// The UASes' and the UAC's addresses (this bench's loopback range).
const TIPRING_UAS: &str = "127.0.17.10";
const SIPP_UAS: &str = "127.0.17.11";
const UAC_IP: &str = "127.0.17.12";
const TIPRING_PORT: u16 = 17910;
const SIPP_PORT: u16 = 17911;
/// The UAC's ports: a fresh pair per run.
const UAC_FIRST_PORT: u16 = 17920;
const HOLD_MS: u32 = 500;

/// A child process killed on drop.
struct Kid(Child);

impl Drop for Kid {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A scratch directory removed on drop.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Which UAS.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Tipring,
    Sipp,
}

/// Starts one UAS that exits after `calls` calls (tipring: `--calls`, sipp: `-m`), so
/// each run is judged on the UAS's side too: a call counted as done by the UAC (sipp's
/// `uac` takes any 200 after its BYE, even a retransmitted 200 to the INVITE) must also
/// have ended at the UAS.
fn start(kind: Kind, dir: &std::path::Path, calls: u64) -> Result<Kid, String> {
    let n = calls.to_string();
    let (program, log) = match kind {
        Kind::Tipring => (TIPRING, "tipring.err"),
        Kind::Sipp => ("sipp", "sipp-uas.err"),
    };
    let mut cmd = Command::new(program);
    match kind {
        Kind::Tipring => {
            let listen = format!("{TIPRING_UAS}:{TIPRING_PORT}");
            cmd.args(["answer", "--listen", &listen, "--no-rtp", "--quiet"])
                .args(["--ring-ms", "0", "--answer-after-ms", "0"])
                .args(["--max-calls", "100000", "--calls", &n]);
        }
        Kind::Sipp => {
            cmd.args(["-sn", "uas", "-i", SIPP_UAS, "-p", &SIPP_PORT.to_string()])
                .args(["-mp", "17990", "-nostdin", "-m", &n]);
        }
    }
    let err = std::fs::File::create(dir.join(log)).map_err(|e| e.to_string())?;
    let child = cmd
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(err)
        .spawn()
        .map_err(|e| format!("{program}: {e}"))?;
    std::thread::sleep(Duration::from_millis(300));
    Ok(Kid(child))
}

/// Waits (at most `limit`) for the UAS to exit: whether it saw every call through
/// (tipring: its tally says `calls` ended and answered; sipp: exit status 0).
fn uas_done(kind: Kind, uas: &mut Kid, dir: &std::path::Path, calls: u64, limit: Duration) -> bool {
    let end = std::time::Instant::now() + limit;
    let status = loop {
        if let Ok(Some(s)) = uas.0.try_wait() {
            break Some(s);
        }
        if std::time::Instant::now() > end {
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let Some(status) = status else {
        return false;
    };
    match kind {
        Kind::Sipp => status.success(),
        Kind::Tipring => {
            let err = std::fs::read_to_string(dir.join("tipring.err")).unwrap_or_default();
            let want = format!("answer: {calls} calls ended, {calls} answered,");
            status.success() && err.lines().any(|l| l.starts_with(&want))
        }
    }
}

/// One side of a comparison.
#[derive(Clone, Copy)]
struct Side {
    name: &'static str,
    kind: Kind,
    target: SocketAddr,
}

/// The sides' results along the ramp.
struct Ramp {
    /// Highest passing rate per side.
    best: [Option<u32>; 2],
    /// Step lines per side.
    steps: [Vec<String>; 2],
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("UA call rate and loss: run with `cargo bench --profile release --bench ua_rate`");
        return;
    }
    if let Err(e) = run() {
        eprintln!("ua_rate: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), String> {
    if Command::new("sipp").arg("-v").output().is_err() {
        return Err("sipp is not installed (apt-get install sip-tester)".into());
    }
    let quick = std::env::var("TIPRING_BENCH_QUICK").is_ok_and(|v| v != "0");
    let (rates, step_secs): (&[u32], u32) = if quick {
        (&[50, 200], 2)
    } else {
        (&[50, 100, 200, 500, 1000, 2000, 3000, 5000], 4)
    };
    let dir = std::env::temp_dir().join(format!("tipring-ua-rate-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let scratch = Scratch(dir);
    let sides = [
        Side {
            name: "tipring answer",
            kind: Kind::Tipring,
            target: format!("{TIPRING_UAS}:{TIPRING_PORT}")
                .parse()
                .map_err(|_| "address")?,
        },
        Side {
            name: "sipp -sn uas",
            kind: Kind::Sipp,
            target: format!("{SIPP_UAS}:{SIPP_PORT}")
                .parse()
                .map_err(|_| "address")?,
        },
    ];
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "UA call rate and loss, {cores} cores, load average {} at start",
        stats::loadavg()
    );
    let mut port = UAC_FIRST_PORT;
    let mut next_ports = || {
        port += 2;
        (port, port + 1)
    };

    // 1. Call rate.
    let mut ramp = Ramp {
        best: [None, None],
        steps: [Vec::new(), Vec::new()],
    };
    let mut going = [true, true];
    for &rate in rates {
        for (i, side) in sides.iter().enumerate() {
            if !going[i] {
                continue;
            }
            let calls = u64::from(rate * step_secs).max(20);
            let (p, mp) = next_ports();
            let mut uas = start(side.kind, &scratch.0, calls)?;
            let pid = uas.0.id().to_string();
            let cpu = stats::CpuMeter::start(&pid);
            let s = sipp::run(
                &sipp::Uac {
                    dir: &scratch.0,
                    ip: UAC_IP,
                    port: p,
                    media_port: mp,
                    rate,
                    calls,
                    hold_ms: HOLD_MS,
                    extra: &[],
                },
                side.target,
            )?;
            let cpu = cpu.and_then(|c| c.percent()).unwrap_or(f64::NAN);
            let rss = stats::status_field(&pid, "VmHWM").unwrap_or(0);
            let uas_ok = uas_done(
                side.kind,
                &mut uas,
                &scratch.0,
                calls,
                Duration::from_secs(5),
            );
            drop(uas);
            let clean = s.exit == Some(0) && s.failed == 0 && s.ok == calls && uas_ok;
            let reached = s.rate >= f64::from(rate) * 0.9;
            let line = format!(
                "{rate:>5}/s asked, {:>7.1}/s reached: {:>5}/{calls} ok, {:>4} failed, sipp exit {:?}, UAS saw all: {uas_ok}, UAS CPU {cpu:.0} % of one core, VmHWM {rss} kB",
                s.rate, s.ok, s.failed, s.exit
            );
            println!("  {:<15} {line}", side.name);
            ramp.steps[i].push(format!(
                "{rate}: {}/{calls} ok, {:.0}/s, CPU {cpu:.0} %",
                s.ok, s.rate
            ));
            if clean && reached {
                ramp.best[i] = Some(rate);
            } else {
                going[i] = false;
            }
            // The UAC's last retransmissions die out before the next run.
            std::thread::sleep(Duration::from_millis(1000));
        }
        if going == [false, false] {
            break;
        }
    }

    // 2. Loss.
    let mut loss = [None, None];
    let loss_calls = if quick { 20 } else { 100 };
    for (i, side) in sides.iter().enumerate() {
        let (p, mp) = next_ports();
        let mut uas = start(side.kind, &scratch.0, loss_calls)?;
        let s = sipp::run(
            &sipp::Uac {
                dir: &scratch.0,
                ip: UAC_IP,
                port: p,
                media_port: mp,
                rate: 5,
                calls: loss_calls,
                hold_ms: HOLD_MS,
                extra: &["-lost", "20", "-recv_timeout", "40000"],
            },
            side.target,
        )?;
        let _ = uas_done(
            side.kind,
            &mut uas,
            &scratch.0,
            loss_calls,
            Duration::from_secs(1),
        );
        drop(uas);
        println!(
            "  {:<15} loss 20 %: {}/{loss_calls} calls completed, {} failed",
            side.name, s.ok, s.failed
        );
        loss[i] = Some(s);
    }

    println!();
    println!("| benchmark | tipring answer | sipp -sn uas | ratio |");
    println!("|---|---|---|---|");
    let fmt = |b: Option<u32>| match b {
        Some(r) if Some(&r) == rates.last() => format!("≥ {r} calls/s (highest step)"),
        Some(r) => format!("{r} calls/s"),
        None => "none passed".into(),
    };
    let ratio = match ramp.best {
        [Some(t), Some(s)] => format!("{:.0} %", f64::from(t) / f64::from(s) * 100.0),
        _ => "-".into(),
    };
    println!(
        "| 1. highest rate with 0 failed (uac, {HOLD_MS} ms pause, {step_secs} s steps) | {} | {} | {ratio} |",
        fmt(ramp.best[0]),
        fmt(ramp.best[1])
    );
    let done = |s: &Option<sipp::Step>| s.map_or("-".into(), |s| format!("{}/{loss_calls}", s.ok));
    println!(
        "| 2. calls completed, 5 calls/s, sipp -lost 20 | {} | {} | |",
        done(&loss[0]),
        done(&loss[1])
    );
    println!();
    for (i, side) in sides.iter().enumerate() {
        println!("{}: {}", side.name, ramp.steps[i].join("; "));
    }
    Ok(())
}
