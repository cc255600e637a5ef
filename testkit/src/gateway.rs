//! `tipring run` gateways with simulated line cards, as the whole-process tests drive them:
//! configurations, start-up with readiness waits, the simulated phones and lines driven by
//! scenario steps, tones measured between ports, and the card's command log. What the
//! tests assert on is what the simulated card observed (rings, tones, caller ID, seizure,
//! digits), never the gateway's own log, which is only shown when a test fails.

use crate::config::Conf;
use crate::measure::{Capture, ToneSource, analyse};
use crate::process::Proc;
use crate::testbed::Node;
use std::net::{SocketAddr, UdpSocket};
use std::path::Path;
use std::time::{Duration, Instant};
use tipring_hal::model::Command;
use tipring_hal::sim::SimPort;
use tipring_hal::sim::scenario::{Dsp, Runner, parse_script};
use tipring_media::dtmf::{DtmfDetector, DtmfDetectorConfig, DtmfEvent};

/// One gateway test at a time within a test binary: each runs two gateways whose audio is
/// paced in real time, and the machines that run the suite are small. Hold the guard for
/// the whole test.
pub fn serial() -> std::sync::MutexGuard<'static, ()> {
    static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    SERIAL.lock().unwrap_or_else(|p| p.into_inner())
}

/// An FXS port 0 with `number`, dialling by the `ext` dial plan.
pub fn fxs(number: &str, name: &str) -> String {
    format!(
        "[[ports]]\nindex = 0\nkind = \"fxs\"\nnumber = \"{number}\"\ndisplay_name = \"{name}\"\ndial_plan = \"ext\"\n"
    )
}

/// Starts the gateway binary `exe` as `name` on `sip` in `dir` with `conf`; returns once
/// its card is linked and its SIP side answers an OPTIONS.
pub fn start(exe: &Path, name: &str, dir: &Path, sip: SocketAddr, conf: &Conf, seed: u64) -> Node {
    let mut g = Node::prepare(name, dir, sip).expect("testbed node");
    g.start(exe, &conf.render(), seed).expect("tipring run");
    assert!(g.wait_link(Duration::from_secs(10)), "{name} card link");
    if !sip_answers(sip, Duration::from_secs(10)) {
        dump(&g);
        panic!("{name}: no answer to OPTIONS at {sip}");
    }
    g
}

/// sipp (Debian `sip-tester`) with the scenario file `scenario`, one call, bound to `me`;
/// `args` add the remote address for a UAC; its output is `dir/sipp.out`. Fails its run
/// after 20 s.
pub fn sipp(dir: &Path, scenario: &Path, me: SocketAddr, args: &[&str]) -> Proc {
    let scenario = scenario.to_string_lossy().into_owned();
    let (ip, port) = (me.ip().to_string(), me.port().to_string());
    let mut all = vec!["-sf", &scenario, "-i", &ip, "-p", &port, "-m", "1"];
    all.extend_from_slice(&["-nostdin", "-timeout", "20s", "-timeout_error"]);
    all.extend_from_slice(args);
    Proc::spawn(dir, "sipp", "sipp", &all)
}

/// Whether a SIP UA at `to` answers an OPTIONS (RFC 3261 §11) within `limit` (one on the
/// wildcard address is asked on loopback).
pub fn sip_answers(to: SocketAddr, limit: Duration) -> bool {
    let to = match to.ip() {
        std::net::IpAddr::V4(ip) if ip.is_unspecified() => {
            SocketAddr::from(([127, 0, 0, 1], to.port()))
        }
        std::net::IpAddr::V6(ip) if ip.is_unspecified() => {
            SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, to.port()))
        }
        _ => to,
    };
    let Ok(s) = UdpSocket::bind(SocketAddr::new(to.ip(), 0)) else {
        return false;
    };
    let Ok(me) = s.local_addr() else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_millis(100)));
    let end = Instant::now() + limit;
    let mut n = 0;
    let mut buf = [0u8; 2048];
    while Instant::now() < end {
        n += 1;
        let req = format!(
            "OPTIONS sip:{to} SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch=z9hG4bKready{n}\r\n\
             Max-Forwards: 70\r\nFrom: <sip:probe@{me}>;tag=probe{n}\r\nTo: <sip:{to}>\r\n\
             Call-ID: ready{n}@{me}\r\nCSeq: {n} OPTIONS\r\nContent-Length: 0\r\n\r\n"
        );
        let _ = s.send_to(req.as_bytes(), to);
        let wait = Instant::now() + Duration::from_millis(300);
        while Instant::now() < wait {
            if let Ok((len, from)) = s.recv_from(&mut buf)
                && from == to
                && buf[..len].starts_with(b"SIP/2.0 ")
            {
                return true;
            }
        }
    }
    false
}

/// Runs scenario steps (`offhook 0`, `expect-tone 0 350+440 4s`, ...) against `g`'s card,
/// tones played and heard through `dsp`.
pub fn run(g: &Node, script: &str, dsp: &dyn Dsp) {
    let mut r = Runner {
        sim: &g.card,
        dsp: Some(dsp),
    };
    for s in parse_script(script).expect("scenario steps") {
        if let Err(e) = r.run(&s) {
            dump(g);
            panic!("{} `{s:?}`: {e}", g.name);
        }
    }
}

/// On failure, show the gateway's log to the person reading the test output.
pub fn dump(g: &Node) {
    for l in g.lines() {
        eprintln!("{}: {}", l.node, l.text);
    }
}

/// Plays `freq` into `from`'s port `pf` and checks it arrives at `to`'s port `pt` at the
/// same frequency (±2 %) and level (±3 dB of what was sent).
pub fn tone_passes(from: &Node, pf: u8, to: &Node, pt: u8, freq: f32) {
    tone_arrives(from, pf, to, pt, freq, 0.02);
}

/// As [`tone_passes`], with the frequency within `tolerance` (a fraction): a path that
/// drops or repeats samples (an echo through another audio stack) shifts the estimate.
pub fn tone_arrives(from: &Node, pf: u8, to: &Node, pt: u8, freq: f32, tolerance: f32) {
    let cap = Capture::default();
    to.card.add_sink(pt, Box::new(cap.clone()));
    let t0 = Instant::now();
    let (src, started) = ToneSource::new(freq, -10.0, 40);
    from.card.play(pf, Box::new(src));
    std::thread::sleep(Duration::from_millis(40 * 20 + 600));
    let start = started.lock().expect("tone source").expect("tone played");
    let Some(f) = analyse(&cap.since(t0), freq, -10.0, start) else {
        dump(from);
        dump(to);
        panic!("{freq} Hz from {} never reached {}", from.name, to.name);
    };
    assert!((f.frequency_hz - freq).abs() < freq * tolerance, "{f:?}");
    assert!((f.level_dbm0 + 10.0).abs() < 3.0, "{f:?}");
    assert!(f.frames >= 30, "{f:?}");
}

/// Commands the card on `g` received for `port`.
pub fn commands(g: &Node, port: u8) -> Vec<Command> {
    g.card
        .lock()
        .commands
        .iter()
        .filter(|(p, _, _)| *p == port)
        .map(|(_, c, _)| c.clone())
        .collect()
}

/// Whether the phone on `g`'s FXS `port` rings now.
pub fn ringing(g: &Node, port: u8) -> bool {
    g.card
        .with_port(port, |p, _, _| match p {
            SimPort::Fxs(ph) => ph.is_ringing(),
            SimPort::Fxo(_) => false,
        })
        .expect("port exists")
}

/// Whether `g`'s FXO line `port` is seized now.
pub fn seized(g: &Node, port: u8) -> bool {
    g.card
        .with_port(port, |p, _, _| match p {
            SimPort::Fxs(_) => false,
            SimPort::Fxo(l) => l.seized,
        })
        .expect("port exists")
}

/// SIGTERM, and the gateway exits 0.
pub fn wait_exit_ok(g: &mut Node) {
    let s = g.terminate(Duration::from_secs(8));
    assert!(
        s.is_some_and(|s| s.success()),
        "{} exit after SIGTERM: {s:?}",
        g.name
    );
}

/// Digits dialled into a line as DTMF, decoded from what the gateway played to it.
pub fn dtmf_heard(cap: &Capture, since: Instant) -> String {
    let mut det = DtmfDetector::new(DtmfDetectorConfig::default());
    let mut digits = String::new();
    for (_, f) in cap.since(since) {
        det.process(&f, |e| {
            if let DtmfEvent::Start { digit, .. } = e {
                digits.push(digit.as_char());
            }
        });
    }
    digits
}
