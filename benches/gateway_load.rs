//! CPU and memory of `tipring run` with every port in a call: two gateways (real
//! processes, release build under `cargo bench`) with simulated cards of N FXS ports each
//! (default 8, `TIPRING_LOAD_PORTS` to change), every phone on gateway 1 calling its
//! partner on gateway 2; with all N calls up, each process's CPU use (from
//! /proc/PID/stat over 10 s) and resident memory (VmRSS) are printed. A figure, not a
//! test: nothing is asserted beyond the calls being set up.
//!
//! `cargo bench -p tipring --bench gateway_load`

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};
use tipring::gateway::testbed::{self, Node, TempDir};
use tipring_hal::model::PortKind;
use tipring_hal::sim::SimPort;

const MEASURE: Duration = Duration::from_secs(10);

/// utime + stime of `pid`, in clock ticks.
fn cpu_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold blanks) start after the last ')'.
    let rest = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    // rest[0] is field 3 (state): utime is field 14, stime field 15.
    Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
}

fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn clock_ticks() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

fn phones(first: u32, n: usize) -> String {
    (0..n)
        .map(|i| {
            format!(
                "[[ports]]\nindex = {i}\nkind = \"fxs\"\nnumber = \"{}\"\ndial_plan = \"ext\"\n",
                first + i as u32
            )
        })
        .collect()
}

fn wait(what: &str, mut f: impl FnMut() -> bool) {
    let end = Instant::now() + Duration::from_secs(20);
    while !f() {
        assert!(Instant::now() < end, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn main() {
    // Only under `cargo bench` (which passes --bench), never as part of a test run.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let n: usize = std::env::var("TIPRING_LOAD_PORTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(8)
        .clamp(1, 16);
    let exe = Path::new(env!("CARGO_BIN_EXE_tipring"));
    let tmp = TempDir::new("tipring-load").expect("temp dir");
    let port = testbed::free_sip_port().expect("SIP port");
    let a1 = SocketAddr::from(([127, 0, 0, 1], port));
    let a2 = SocketAddr::from(([127, 0, 0, 2], port));
    let kinds = vec![PortKind::Fxs; n];
    let mut g1 = Node::prepare_ports("gw1", &tmp.0.join("gw1"), a1, &kinds).expect("gw1");
    let mut g2 = Node::prepare_ports("gw2", &tmp.0.join("gw2"), a2, &kinds).expect("gw2");
    g1.start(exe, &testbed::config(a1, a2, &phones(100, n)), 1)
        .expect("start gw1");
    g2.start(exe, &testbed::config(a2, a1, &phones(200, n)), 2)
        .expect("start gw2");
    assert!(g1.wait_link(Duration::from_secs(10)) && g2.wait_link(Duration::from_secs(10)));
    std::thread::sleep(Duration::from_millis(500));
    let ringing = |g: &Node, p: u8| {
        g.card
            .with_port(
                p,
                |s, _, _| matches!(s, SimPort::Fxs(ph) if ph.is_ringing()),
            )
            .unwrap_or(false)
    };
    for i in 0..n as u8 {
        g1.card.with_port(i, |s, now, _| {
            if let SimPort::Fxs(ph) = s {
                ph.off_hook(now)
            }
        });
        std::thread::sleep(Duration::from_millis(100));
        for d in format!("2{i:02}").chars() {
            if let Some(digit) = tipring_hal::model::Digit::from_char(d) {
                g1.card.inject_event(
                    i,
                    tipring_hal::model::Event::Digit {
                        digit,
                        duration_ms: 80,
                    },
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        wait("the far phone to ring", || ringing(&g2, i));
        g2.card.with_port(i, |s, now, _| {
            if let SimPort::Fxs(ph) = s {
                ph.off_hook(now)
            }
        });
        wait("the answer", || !ringing(&g2, i));
    }
    // Every far phone has been rung once and answered.
    std::thread::sleep(Duration::from_secs(1));
    let hz = clock_ticks();
    let pids = [g1.pid().expect("gw1 pid"), g2.pid().expect("gw2 pid")];
    let before: Vec<Option<u64>> = pids.iter().map(|&p| cpu_ticks(p)).collect();
    let t0 = Instant::now();
    std::thread::sleep(MEASURE);
    let secs = t0.elapsed().as_secs_f64();
    println!(
        "tipring run with {n} simulated FXS ports, all {n} in calls (G.711 20 ms, both ways), {:.0} s:",
        secs
    );
    println!("  gateway   CPU (% of one core)   RSS");
    for (name, (pid, b)) in ["gw1", "gw2"].iter().zip(pids.iter().zip(before)) {
        let cpu = match (b, cpu_ticks(*pid)) {
            (Some(b), Some(a)) => format!("{:>6.1} %", (a - b) as f64 / hz / secs * 100.0),
            _ => "     -".into(),
        };
        let rss = rss_kib(*pid).map_or("-".into(), |k| format!("{:.1} MiB", k as f64 / 1024.0));
        println!("  {name}      {cpu:<20}  {rss}");
    }
    for g in [&mut g1, &mut g2] {
        let _ = g.terminate(Duration::from_secs(8));
    }
}
