//! The streams-under-attack benchmark as a whole-process test: `tipring run` (simulated card, UDP and
//! TCP on 127.0.16.1) holds 250 idle TCP connections, one that sends requests and never
//! reads their responses, and one that trickles a request a byte at a time (slowloris);
//! a UDP call from sipp to a phone still completes, about as fast as before the attack.
//! Beyond the bounds, new connections are closed at once. The figures are printed as a
//! table (`cargo test --test attack_streams -- --nocapture`; BENCHMARKS.md).

mod common;

use common::gateway::{Conf, EXE, fxs, run, sip_answers, sipp, wait_exit_ok};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use testkit::testbed::{Node, TempDir};

const GW: [u8; 4] = [127, 0, 16, 1];
const IDLE: usize = 250;
/// `[limits]` of the gateway under test: the defaults but a shorter message timeout and
/// write timeout, so the test ends in seconds, and the per-source message rate lifted: the
/// peer that never reads must get its requests through for its send queue to fill (the
/// rate limit alone would ban it first; `attack_flood` tests that limit).
const LIMITS: &str = "\n[limits]\nstream_message_timeout_ms = 2000\nstream_write_timeout_ms = 2000\n\
                      rate_per_s = 100000\nburst = 100000\n";

/// A TCP connection to `to` from `from`, optionally with a tiny receive buffer.
fn connect_from(from: [u8; 4], to: SocketAddr, small_rcvbuf: bool) -> std::io::Result<TcpStream> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let s = tokio::net::TcpSocket::new_v4()?;
        if small_rcvbuf {
            s.set_recv_buffer_size(4096)?;
        }
        s.bind(SocketAddr::from((from, 0)))?;
        let c = tokio::time::timeout(Duration::from_secs(2), s.connect(to))
            .await
            .map_err(|_| std::io::Error::from(std::io::ErrorKind::TimedOut))??;
        c.into_std()
    })
    .and_then(|c| {
        c.set_nonblocking(false)?;
        Ok(c)
    })
}

/// Whether the gateway closed `s` (EOF or reset) within `limit`.
fn closed_within(s: &mut TcpStream, limit: Duration) -> bool {
    let _ = s.set_read_timeout(Some(limit));
    let mut b = [0u8; 512];
    loop {
        match s.read(&mut b) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return false;
            }
            Err(_) => return true,
        }
    }
}

/// VmRSS and VmHWM of `pid`, kB.
fn memory(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// An OPTIONS over TCP; `pad` bytes of display name, which the response echoes (in From).
fn options(n: usize, me: SocketAddr, gw: SocketAddr, pad: usize) -> String {
    let name = "d".repeat(pad);
    format!(
        "OPTIONS sip:{gw} SIP/2.0\r\nVia: SIP/2.0/TCP {me};branch=z9hG4bKdeaf{n}\r\n\
         Max-Forwards: 70\r\nFrom: \"{name}\" <sip:deaf@{me}>;tag=d{n}\r\nTo: <sip:{gw}>\r\n\
         Call-ID: deaf{n}@{me}\r\nCSeq: {n} OPTIONS\r\nContent-Length: 0\r\n\r\n"
    )
}

/// One sipp call to the phone (number 201), answered off-hook; its duration.
fn call(g: &Node, tmp: &TempDir, far: SocketAddr, gw: SocketAddr) -> Duration {
    let started = Instant::now();
    let mut uac = sipp(&tmp.0, "gw_uac_call.xml", far, &[&gw.to_string()]);
    run(g, "expect-ringing 0 5s\noffhook 0");
    let (st, out) = uac.wait(Duration::from_secs(20));
    let took = started.elapsed();
    assert!(st.success(), "the UDP call: {out}");
    let on_hooks = |g: &Node| {
        g.lines()
            .iter()
            .filter(|l| l.text.contains("card OnHook"))
            .count()
    };
    let before = on_hooks(g);
    run(g, "onhook 0");
    // The gateway must have seen the phone hang up before the next call rings it (the
    // card's event crosses the serial link while the attack keeps the gateway busy).
    let deadline = Instant::now() + Duration::from_secs(10);
    while on_hooks(g) == before && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        on_hooks(g) > before,
        "the gateway never saw the phone hang up"
    );
    took
}

#[test]
fn a_udp_call_completes_while_streams_are_held_open_starved_and_trickled() {
    let _serial = common::gateway::serial();
    let tmp = TempDir::new("hil-streams").expect("temp dir");
    let gw = SocketAddr::from((GW, 25016));
    // The caller (sipp at 127.0.16.9) is a trusted peer: only such callers ring a phone.
    let conf = Conf::new(gw)
        .tcp()
        .ports(&fxs("201", "Alice"))
        .trust("127.0.16.9");
    let mut g = Node::prepare("gw", &tmp.0.join("gw"), gw).expect("testbed node");
    g.start(std::path::Path::new(EXE), &(conf.render() + LIMITS), 61)
        .expect("tipring run");
    assert!(g.wait_link(Duration::from_secs(10)), "card link");
    assert!(sip_answers(gw, Duration::from_secs(10)), "SIP side up");
    let pid = g.pid().expect("gateway pid");
    let far = SocketAddr::from(([127, 0, 16, 9], 25017));
    let before = call(&g, &tmp, far, gw);
    let mem_before = memory(pid);

    // The slowloris: one byte every 250 ms of a request that would take 70 s.
    let slow = connect_from([127, 0, 16, 2], gw, false).expect("slowloris connects");
    let slow_started = Instant::now();
    let slow_thread = {
        let mut w = slow.try_clone().expect("clone");
        let req = options(0, w.local_addr().unwrap(), gw, 0);
        std::thread::spawn(move || {
            for b in req.bytes() {
                if w.write_all(&[b]).is_err() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(250));
            }
        })
    };

    let slow_watch = {
        let mut r = slow.try_clone().expect("clone");
        std::thread::spawn(move || {
            let closed = closed_within(&mut r, Duration::from_secs(10));
            closed.then(|| slow_started.elapsed())
        })
    };

    // The deaf peer: 500 requests a second whose responses are about 1.3 kB each, never a
    // read (a request flood is another attack, of the flood benchmark).
    let deaf = connect_from([127, 0, 16, 3], gw, true).expect("deaf peer connects");
    let stop = Arc::new(AtomicBool::new(false));
    let deaf_thread = {
        let stop = stop.clone();
        let mut w = deaf;
        let me = w.local_addr().unwrap();
        std::thread::spawn(move || {
            let started = Instant::now();
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) && started.elapsed() < Duration::from_secs(15) {
                n += 1;
                if w.write_all(options(n, me, gw, 1000).as_bytes()).is_err() {
                    return (n, Some(started.elapsed()));
                }
                std::thread::sleep(Duration::from_millis(2));
            }
            (n, None)
        })
    };

    // 250 idle connections from 16 addresses (at most 16 each, the per-source cap).
    let mut idle = Vec::new();
    for i in 0..IDLE {
        let from = [127, 0, 16, 100 + (i % 16) as u8];
        idle.push(connect_from(from, gw, false).expect("idle connection"));
    }
    std::thread::sleep(Duration::from_millis(300));
    // Beyond the bounds: a 17th connection from one of those addresses, then ten from a
    // fresh one (the pool of 256 has 4 left, or fewer if the deaf peer is gone already).
    let mut refused = 0;
    let mut extra = Vec::new();
    let mut over_source = connect_from([127, 0, 16, 100], gw, false).expect("connects");
    let source_refused = closed_within(&mut over_source, Duration::from_millis(500));
    for _ in 0..10 {
        let mut c = connect_from([127, 0, 16, 200], gw, false).expect("connects");
        if closed_within(&mut c, Duration::from_millis(300)) {
            refused += 1;
        } else {
            extra.push(c);
        }
    }

    // The call, under all of it.
    let during = call(&g, &tmp, far, gw);
    let mem_during = memory(pid);

    let slow_closed = slow_watch.join().expect("slowloris watch");
    let (deaf_sent, deaf_closed) = deaf_thread.join().expect("deaf thread");
    stop.store(true, Ordering::Relaxed);
    let _ = slow_thread.join();
    let mut idle_open = 0;
    for c in &mut idle {
        if !closed_within(c, Duration::from_millis(5)) {
            idle_open += 1;
        }
    }

    println!("\n| figure (benchmark 4, `tipring run`, debug build) | measured |");
    println!("|---|---|");
    println!("| UDP call, sipp → phone, before the attack | {before:.2?} |");
    println!("| same call with 250 idle + deaf + slowloris connections | {during:.2?} |");
    println!("| idle connections still open at the end | {idle_open} of {IDLE} |");
    println!(
        "| 17th connection from one address | {} |",
        if source_refused {
            "closed at once"
        } else {
            "kept"
        }
    );
    println!(
        "| 10 more from a fresh address (pool of 256, deaf and slowloris gone) | {refused} closed at once |"
    );
    println!(
        "| deaf peer (never reads) | closed after {deaf_sent} requests, {} |",
        deaf_closed.map_or("not closed".into(), |d| format!("{d:.2?}"))
    );
    println!(
        "| slowloris (1 byte / 250 ms, limit 2 s) | {} |",
        slow_closed.map_or("not closed".into(), |d| format!("closed after {d:.2?}"))
    );
    println!(
        "| gateway VmRSS before / during, VmHWM | {} / {} kB, {} kB |",
        mem_before.0, mem_during.0, mem_during.1
    );

    assert!(
        source_refused,
        "the per-source cap let a 17th connection in"
    );
    // The pool has 256 - 250 slots once the deaf peer and the slowloris are gone.
    assert!(refused >= 4, "the pool let {} of 10 in", 10 - refused);
    assert!(
        slow_closed.is_some_and(|d| d < Duration::from_secs(4)),
        "slowloris kept: {slow_closed:?}"
    );
    assert!(deaf_closed.is_some(), "the deaf peer was never closed");
    assert!(
        idle_open >= IDLE - 1,
        "idle connections dropped: {idle_open}"
    );
    assert!(
        during < before + Duration::from_secs(2),
        "the call took {during:?} under attack, {before:?} before"
    );
    drop((idle, extra, over_source, slow));
    wait_exit_ok(&mut g);
}
