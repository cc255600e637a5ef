//! Issue 14 benchmark 3, the flood: `tipring run` on a simulated card with two calls up
//! carrying tones both ways (from a trusted peer, a second `tipring run`), while a
//! generator sends INVITEs with fresh Call-IDs to an unknown user at 1 000, 3 000 and as
//! many per second as it reaches, from one source and from 100 (loopback addresses).
//! Halfway through each step the peer places a third call. Each step runs on a fresh pair
//! of gateways. Printed as a table (nothing is asserted): RSS high-water and CPU of the
//! flooded gateway, responses per flood request, audio gaps and lowest level of the two
//! calls (four directions), whether the third call was answered and how fast.
//!
//! `cargo bench --bench flood`. Environment: `TIPRING_FLOOD_SECS` (seconds per step,
//! default 60), `TIPRING_FLOOD_LIMITS` (`shipped`: no `[limits]` table, the defaults;
//! `lifted`: the per-source limit lifted, so every flood INVITE reaches the UA),
//! `TIPRING_EXE` (another `tipring` binary, e.g. main's, for the figures before).

#[path = "gateway/rig.rs"]
#[allow(dead_code)]
mod rig;
#[path = "gateway/sip.rs"]
#[allow(dead_code)]
mod sip;
#[path = "gateway/stats.rs"]
#[allow(dead_code)]
mod stats;

use rig::{Rig, exe, fxs_ports, scratch};
use stats::{CpuMeter, Table, loadavg, status_field};
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};
use testkit::config::Conf;
use testkit::flood::{self as generator, FloodSpec};
use testkit::measure::{Capture, ToneSource, analyse};
use testkit::switchboard::Switchboard;
use tipring_hal::model::{Digit, Event, PortKind};
use tipring_hal::sim::SimPort;

const GW: [u8; 4] = [127, 0, 14, 1];
const PEER: [u8; 4] = [127, 0, 14, 2];

/// A configuration: SIP on `sip`, calls to `proxy`, `ports`, trusting only `trusted`, with
/// these `[limits]` tables.
fn config(
    sip: SocketAddr,
    proxy: SocketAddr,
    ports: &str,
    trusted: IpAddr,
    limits: &str,
) -> String {
    Conf::new(sip)
        .user_agent("tipring-bench")
        .account("far", &format!("proxy = \"sip:{proxy}\""))
        .ports(ports)
        .trust(&trusted.to_string())
        .table(limits)
        .render()
}

fn hook(rig: &Rig, port: u8, off: bool) {
    rig.card.with_port(port, |p, now, _| {
        if let SimPort::Fxs(ph) = p {
            if off {
                ph.off_hook(now)
            } else {
                ph.on_hook(now)
            }
        }
    });
}

fn dial(rig: &Rig, port: u8, number: &str) {
    for c in number.chars() {
        if let Some(digit) = Digit::from_char(c) {
            rig.card.inject_event(
                port,
                Event::Digit {
                    digit,
                    duration_ms: 80,
                },
            );
        }
        std::thread::sleep(Duration::from_millis(160));
    }
}

fn answered(b: &Switchboard) -> u64 {
    b.answered.lock().map(|a| *a).unwrap_or(0)
}

/// Waits until `b` answered `n` calls; how long it took, or `None` after `limit`.
fn wait_answered(b: &Switchboard, n: u64, limit: Duration) -> Option<Duration> {
    let t0 = Instant::now();
    while answered(b) < n {
        if t0.elapsed() > limit {
            return None;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Some(t0.elapsed())
}

struct Step {
    label: String,
    rate: u32,
    sources: Vec<IpAddr>,
}

fn one_step(step: &Step, secs: u64, limits: &str, table: &mut Table) -> Result<(), String> {
    let tmp = scratch("tipring-bench-flood")?;
    let port = rig::free_port()?;
    let gw = SocketAddr::from((GW, port));
    let peer = SocketAddr::from((PEER, port));
    let kinds = [PortKind::Fxs; 3];
    let mut g = Rig::start(
        "gw",
        &tmp.0.join("gw"),
        gw,
        &kinds,
        &config(gw, peer, &fxs_ports(3, 201), peer.ip(), limits),
    )?;
    let mut p = Rig::start(
        "peer",
        &tmp.0.join("peer"),
        peer,
        &kinds,
        &config(peer, gw, &fxs_ports(3, 101), gw.ip(), ""),
    )?;
    let r = flood_step(step, secs, &g, &p, table);
    if r.is_err() {
        eprint!("{}{}", g.tail(20), p.tail(20));
    }
    g.stop();
    p.stop();
    r
}

fn flood_step(step: &Step, secs: u64, g: &Rig, p: &Rig, table: &mut Table) -> Result<(), String> {
    let board = Switchboard::start(g.card.clone(), 3, false);
    // The two calls, set up before the flood.
    for port in 0..2u8 {
        hook(p, port, true);
        std::thread::sleep(Duration::from_millis(300));
        dial(p, port, &format!("{}", 201 + u32::from(port)));
    }
    wait_answered(&board, 2, Duration::from_secs(15)).ok_or("the two calls were not answered")?;
    std::thread::sleep(Duration::from_millis(500));
    let caps: Vec<(Capture, f32)> = (0..4)
        .map(|i| (Capture::default(), if i < 2 { 1000.0 } else { 1400.0 }))
        .collect();
    for port in 0..2u8 {
        p.card
            .play(port, Box::new(ToneSource::new(1000.0, -10.0, u32::MAX).0));
        g.card
            .play(port, Box::new(ToneSource::new(1400.0, -10.0, u32::MAX).0));
        g.card
            .add_sink(port, Box::new(caps[usize::from(port)].0.clone()));
        p.card
            .add_sink(port, Box::new(caps[2 + usize::from(port)].0.clone()));
    }
    std::thread::sleep(Duration::from_millis(500));
    let pid = g.pid().ok_or("gw pid")?.to_string();
    let cpu = CpuMeter::start(&pid).ok_or("gw /proc")?;
    let t0 = Instant::now();
    let spec = FloodSpec {
        target: g.sip,
        sources: step.sources.clone(),
        rate: step.rate,
        duration: Duration::from_secs(secs),
        linger: Duration::from_secs(2),
        user: "nobody".into(),
    };
    let flood = std::thread::spawn(move || generator::run(&spec));
    // The third call, halfway through the flood.
    std::thread::sleep(Duration::from_secs(secs / 2));
    hook(p, 2, true);
    std::thread::sleep(Duration::from_millis(300));
    let dialled = Instant::now();
    dial(p, 2, "203");
    let third = wait_answered(&board, 3, Duration::from_secs(10)).map(|_| dialled.elapsed());
    std::thread::sleep(Duration::from_millis(500));
    hook(p, 2, false);
    let report = flood
        .join()
        .map_err(|_| "generator panicked")?
        .map_err(|e| e.to_string())?;
    let cpu_pct = cpu.percent().unwrap_or(0.0);
    let (rss, hwm) = (
        status_field(&pid, "VmRSS").unwrap_or(0),
        status_field(&pid, "VmHWM").unwrap_or(0),
    );
    let mut gaps = 0;
    let mut lowest = f32::INFINITY;
    let mut missing = 0;
    for (cap, freq) in &caps {
        match analyse(&cap.since(t0), *freq, -10.0, t0) {
            Some(f) => {
                gaps += f.gaps;
                lowest = lowest.min(f.level_dbm0);
            }
            None => missing += 1,
        }
    }
    for port in 0..2u8 {
        hook(p, port, false);
    }
    std::thread::sleep(Duration::from_millis(800));
    drop(board);
    let statuses: Vec<String> = report
        .by_status
        .iter()
        .map(|(c, n)| format!("{c}×{n}"))
        .collect();
    table.row(
        &step.label,
        &format!(
            "{:.0}/s sent ({}), {:.3} responses/request [{}]; VmHWM {} kB, VmRSS {} kB, CPU {:.0} %; audio: {} gaps, lowest {:.1} dBm0{}; third call {}",
            report.achieved_rate,
            report.sent,
            report.per_request(),
            statuses.join(" "),
            hwm,
            rss,
            cpu_pct,
            gaps,
            lowest,
            if missing > 0 { format!(", {missing} of 4 directions silent") } else { String::new() },
            third.map_or("NOT answered".into(), |d| format!("answered {:.2} s after dialling began", d.as_secs_f64())),
        ),
        &format!("{} source(s), {secs} s", step.sources.len()),
    );
    Ok(())
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else is taken.
    let secs: u64 = std::env::var("TIPRING_FLOOD_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let mode = std::env::var("TIPRING_FLOOD_LIMITS").unwrap_or_else(|_| "shipped".into());
    let limits = match mode.as_str() {
        "lifted" => "\n[limits]\nrate_per_s = 1000000\nburst = 1000000\n",
        _ => "",
    };
    let one = vec![IpAddr::from([127, 0, 14, 9])];
    let hundred: Vec<IpAddr> = (1..=100).map(|i| IpAddr::from([127, 0, 114, i])).collect();
    let mut steps = Vec::new();
    for (rate, name) in [(1_000, "1 000/s"), (3_000, "3 000/s"), (u32::MAX, "max")] {
        steps.push(Step {
            label: format!("flood {name}, 1 source"),
            rate,
            sources: one.clone(),
        });
        steps.push(Step {
            label: format!("flood {name}, 100 sources"),
            rate,
            sources: hundred.clone(),
        });
    }
    let mut table = Table::default();
    for s in &steps {
        eprintln!("{} ...", s.label);
        if let Err(e) = one_step(s, secs, limits, &mut table) {
            table.row(&s.label, "not measured", &e);
        }
    }
    println!(
        "\nFlood benchmark ({} limits, {secs} s per step, binary {}, load average {}):\n",
        mode,
        exe(),
        loadavg()
    );
    println!("{}", table.markdown());
}
