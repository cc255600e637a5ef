//! Figures 3 (mouth to ear) and 4 (CPU, RSS): two gateways with 8 FXS ports each; the 8
//! phones on gw1 dial the 8 phones on gw2, which answer. Pair 0 carries audio markers
//! each way; pairs 1-7 carry a continuous tone each way. gw1's and gw2's CPU time and
//! memory are read from /proc over the interval.

use crate::Plan;
use crate::phones::{LoudSink, Marker, latencies};
use crate::rig::{Rig, config, free_port, fxs_ports, scratch};
use crate::stats::{CpuMeter, Table, status_field};
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use testkit::measure::ToneSource;
use testkit::switchboard::Switchboard;
use tipring_hal::model::{Digit, Event, PortKind};
use tipring_hal::sim::SimPort;

const PAIRS: usize = 8;

pub fn run(plan: &Plan, table: &mut Table) -> Result<(), String> {
    let tmp = scratch("tipring-bench-two")?;
    let s1 = SocketAddr::from(([127, 0, 0, 1], free_port()?));
    let s2 = SocketAddr::from(([127, 0, 0, 1], free_port()?));
    let kinds = [PortKind::Fxs; PAIRS];
    let mut gw2 = Rig::start(
        "gw2",
        &tmp.0.join("gw2"),
        s2,
        &kinds,
        &config(s2, None, &fxs_ports(PAIRS, 201)),
    )?;
    let mut gw1 = Rig::start(
        "gw1",
        &tmp.0.join("gw1"),
        s1,
        &kinds,
        &config(s1, Some(s2), &fxs_ports(PAIRS, 101)),
    )?;
    let r = calls(plan, &gw1, &gw2, table);
    if r.is_err() {
        eprint!("{}{}", gw1.tail(20), gw2.tail(20));
    }
    gw1.stop();
    gw2.stop();
    r
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

fn calls(plan: &Plan, gw1: &Rig, gw2: &Rig, table: &mut Table) -> Result<(), String> {
    let board = Switchboard::start(gw2.card.clone(), PAIRS, false);
    for p in 0..PAIRS as u8 {
        hook(gw1, p, true);
    }
    std::thread::sleep(Duration::from_millis(400));
    // Every phone dials its partner, digit by digit, as the card reports DTMF.
    for d in 0..3 {
        for p in 0..PAIRS {
            let number = format!("{}", 201 + p);
            let c = number.as_bytes()[d] as char;
            let digit = Digit::from_char(c).ok_or("digit")?;
            gw1.card.inject_event(
                p as u8,
                Event::Digit {
                    digit,
                    duration_ms: 80,
                },
            );
        }
        std::thread::sleep(Duration::from_millis(160));
    }
    let end = Instant::now() + Duration::from_secs(15);
    while board.answered.lock().map(|a| *a).unwrap_or(0) < PAIRS as u64 {
        if Instant::now() > end {
            return Err(format!(
                "only {:?} of {PAIRS} calls answered",
                board.answered.lock().map(|a| *a)
            ));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(800));

    let (m1, sent1) = Marker::new(10);
    let (m2, sent2) = Marker::new(10);
    let (k2, heard2) = LoudSink::new();
    let (k1, heard1) = LoudSink::new();
    gw1.card.play(0, Box::new(m1));
    gw2.card.play(0, Box::new(m2));
    gw2.card.add_sink(0, Box::new(k2));
    gw1.card.add_sink(0, Box::new(k1));
    let mut flowing = Vec::new();
    for p in 1..PAIRS as u8 {
        gw1.card
            .play(p, Box::new(ToneSource::new(1000.0, -10.0, u32::MAX).0));
        gw2.card
            .play(p, Box::new(ToneSource::new(1400.0, -10.0, u32::MAX).0));
        let (a, ha) = LoudSink::new();
        let (b, hb) = LoudSink::new();
        gw2.card.add_sink(p, Box::new(a));
        gw1.card.add_sink(p, Box::new(b));
        flowing.push((ha, hb));
    }
    let (p1, p2) = (
        gw1.pid().ok_or("gw1 pid")?.to_string(),
        gw2.pid().ok_or("gw2 pid")?.to_string(),
    );
    let c1 = CpuMeter::start(&p1).ok_or("gw1 /proc")?;
    let c2 = CpuMeter::start(&p2).ok_or("gw2 /proc")?;
    let me = CpuMeter::start("self").ok_or("/proc/self")?;
    let secs = plan.load_secs.max(plan.markers as u64 / 5);
    let t0 = Instant::now();
    std::thread::sleep(Duration::from_secs(secs));
    let (u1, u2, ume) = (c1.percent(), c2.percent(), me.percent());
    // Pairs with audio both ways during the last second.
    let recent = t0 + Duration::from_secs(secs.saturating_sub(1));
    let has = |s: &crate::phones::Stamps| {
        s.lock()
            .map(|v| v.iter().any(|&t| t >= recent))
            .unwrap_or(false)
    };
    let both_ways = flowing.iter().filter(|(a, b)| has(a) && has(b)).count()
        + usize::from(has(&heard1) && has(&heard2));
    let lock = |s: &crate::phones::Stamps| s.lock().map(|v| v.clone()).unwrap_or_default();
    let w = Duration::from_millis(190);
    let mut m2e = latencies(&lock(&sent1), &lock(&heard2), w);
    m2e.extend(latencies(&lock(&sent2), &lock(&heard1), w));
    table.latency(
        "3. audio mouth to ear through two gateways",
        &m2e,
        "loud frame handed to gw1's sim card → frame carrying it taken by gw2's card, both directions pooled, while 8 calls run: both bridges, RTP over loopback, gw2's jitter buffer and playout, the far card's 20 ms polling",
    );
    let mem = |pid: &str| {
        format!(
            "VmRSS {} kB, VmHWM {} kB, {} threads",
            status_field(pid, "VmRSS").unwrap_or(0),
            status_field(pid, "VmHWM").unwrap_or(0),
            status_field(pid, "Threads").unwrap_or(0)
        )
    };
    let pct = |v: Option<f64>| v.map_or("?".into(), |v| format!("{v:.1} %"));
    table.row(
        "4. CPU, gw1 (8 FXS ports, 8 outgoing calls)",
        &format!("{} of one core over {secs} s; {}", pct(u1), mem(&p1)),
        &format!(
            "utime+stime from /proc/PID/stat over the interval; {both_ways}/{PAIRS} calls carried audio both ways at the end; G.711 µ-law, 20 ms"
        ),
    );
    table.row(
        "4. CPU, gw2 (8 FXS ports, 8 incoming calls)",
        &format!("{} of one core over {secs} s; {}", pct(u2), mem(&p2)),
        "as above, the answering side",
    );
    table.row(
        "4. CPU, the bench process (both simulated cards, 16 phones)",
        &format!("{} of one core", pct(ume)),
        "for context: the simulator's audio threads and the bench's detectors, not the gateway",
    );
    for p in 0..PAIRS as u8 {
        hook(gw1, p, false);
    }
    std::thread::sleep(Duration::from_millis(1500));
    drop(board);
    Ok(())
}
