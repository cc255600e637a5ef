//! The whole gateway on virtual time (tests/sim): two complete gateways in one process,
//! their ports, SIP sides, media sessions and the simulated cards' phones and exchange
//! lines, on one virtual clock over a lossy virtual network.
//!
//! - Random call scenarios, [`SCENARIOS`] per run from a base seed drawn anew each run
//!   (`TIPRING_SIM_BASE` fixes it, `TIPRING_SIM_SCENARIOS` changes the count), each
//!   checked against the invariants of `sim::scenario`. A failing one prints its seed;
//!   `TIPRING_SIM_SEED=<seed> cargo test --test gateway_sim replay -- --nocapture` replays
//!   it exactly and prints what happened.
//! - One call of an hour at 5 % loss.

mod sim;

use sim::scenario::{Pair, Scenario};
use sim::{Action, FxoStyle, Step, World};
use std::time::{Duration, Instant};
use testkit::net::Link;
use tipring::call::SipEvent;
use tipring::gateway::sip_side::PortEvent;

/// Scenarios per test run, split over [`SHARDS`] tests that the harness runs in parallel.
const SCENARIOS: u64 = 1_000;
const SHARDS: u64 = 4;

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok())
}

/// The base seed of this run: from the environment, else new each run (printed).
fn base() -> u64 {
    env_u64("TIPRING_SIM_BASE").unwrap_or_else(|| {
        let mut b = [0u8; 8];
        getrandom::fill(&mut b).expect("OS random source");
        u64::from_le_bytes(b) >> 16
    })
}

fn shard(k: u64) {
    let base = base();
    let total = env_u64("TIPRING_SIM_SCENARIOS").unwrap_or(SCENARIOS);
    let per = total.div_ceil(SHARDS);
    let started = Instant::now();
    let mut simulated = Duration::ZERO;
    let mut heard = 0;
    for seed in base + k * per..base + (k + 1) * per {
        let s = Scenario::generate(seed);
        let mut w = s.world();
        match s.run(&mut w) {
            Ok(n) => heard += n,
            Err(e) => panic!(
                "scenario {seed} failed: {e}\n{s:#?}\nreplay: TIPRING_SIM_SEED={seed} cargo test \
                 --test gateway_sim replay -- --nocapture"
            ),
        }
        simulated += w.elapsed();
    }
    let cpu = started.elapsed();
    println!(
        "shard {k}: {per} scenarios from seed {}, {heard} calls heard both ways, {:.0} s simulated in {:.1} s ({:.0} simulated s per s)",
        base + k * per,
        simulated.as_secs_f64(),
        cpu.as_secs_f64(),
        simulated.as_secs_f64() / cpu.as_secs_f64()
    );
}

#[test]
fn random_scenarios_0() {
    shard(0);
}

#[test]
fn random_scenarios_1() {
    shard(1);
}

#[test]
fn random_scenarios_2() {
    shard(2);
}

#[test]
fn random_scenarios_3() {
    shard(3);
}

/// Replays `TIPRING_SIM_SEED` (a fixed seed without it) and prints its trace.
#[test]
fn replay() {
    let seed = env_u64("TIPRING_SIM_SEED").unwrap_or(7);
    let s = Scenario::generate(seed);
    let mut w = s.world();
    w.log = Some(Vec::new());
    let r = s.run(&mut w);
    if std::env::var_os("TIPRING_SIM_SEED").is_some() {
        println!("{s:#?}");
        for l in w.log.as_deref().unwrap_or_default() {
            println!("{l}");
        }
    }
    r.unwrap();
}

/// One seed, run twice: the same things happen at the same instants.
#[test]
fn a_seed_replays_exactly() {
    for seed in [3, 11, 12345] {
        let s = Scenario::generate(seed);
        let (mut a, mut b) = (s.world(), s.world());
        s.run(&mut a).unwrap();
        s.run(&mut b).unwrap();
        assert_eq!(a.fingerprint(), b.fingerprint(), "seed {seed}");
        assert_eq!(a.net.stats(), b.net.stats());
    }
}

/// A phone on A calls B's first phone, which answers; A hangs up after 10 s.
fn simple_call() -> Scenario {
    let mut s = Scenario::generate(1);
    let step = |at_ms, gw, action| Step {
        at_ms,
        gw,
        port: 0,
        action,
    };
    s.link = Link::IDEAL.latency(Duration::from_millis(10));
    s.steps = vec![
        step(0, 0, Action::OffHook),
        step(500, 0, Action::CardDigits("201".into())),
        step(5_000, 1, Action::Answer),
        step(15_000, 0, Action::HangUp),
        step(17_000, 1, Action::HangUp),
    ];
    s.pairs = vec![Pair {
        caller: (0, 0),
        callee: (1, 0),
    }];
    s.end_ms = 17_000;
    s
}

#[test]
fn a_simple_call_is_heard_both_ways() {
    let s = simple_call();
    assert_eq!(s.run(&mut s.world()), Ok(1));
}

/// The checks are not vacuous: a port that never hears the far end hang up is caught
/// (it talks on without a SIP call).
#[test]
fn the_checks_catch_a_lost_hangup() {
    let s = simple_call();
    let mut w = s.world();
    w.gws[1].lose = Some(|e| {
        matches!(
            e,
            PortEvent::Call {
                event: SipEvent::RemoteHangup,
                ..
            }
        )
    });
    let e = s.run(&mut w).unwrap_err();
    assert!(e.contains("B port 0 talks without a SIP call"), "{e}");
}

/// ... and so is audio that does not reach the far end.
#[test]
fn the_checks_catch_audio_that_does_not_flow() {
    let s = simple_call();
    let mut w = s.world();
    let (a, b) = (w.gws[0].lines[&0].rtp, w.gws[1].lines[&0].rtp);
    w.net.set_link(a, b, Link::IDEAL.loss(1.0));
    let e = s.run(&mut w).unwrap_err();
    assert!(e.contains("(1, 0) heard (0, 0) in 0 frames"), "{e}");
}

/// A call of an hour at 5 % loss and 30 ms jitter: it stays up, both people hear each
/// other all along, and it ends cleanly; the figure is how fast it runs.
#[test]
fn an_hour_long_call_at_five_percent_loss() {
    let link = Link::IDEAL
        .latency(Duration::from_millis(20))
        .jitter(Duration::from_millis(30))
        .loss(0.05);
    let style = FxoStyle {
        pulse: false,
        polarity_answer: false,
    };
    let mut w = World::new(99, link, style, [None; 2], [None; 2]);
    let hour = 3_600_000;
    let step = |at_ms, gw, action| Step {
        at_ms,
        gw,
        port: 0,
        action,
    };
    w.script([
        step(1_000, 0, Action::OffHook),
        step(1_500, 0, Action::CardDigits("201".into())),
        step(6_000, 1, Action::Answer),
        step(6_000 + hour, 0, Action::HangUp),
        step(6_100 + hour, 1, Action::HangUp),
    ]);
    let started = Instant::now();
    w.run_until(Duration::from_millis(u64::from(6_000 + hour / 2)));
    for (g, gw) in w.gws.iter().enumerate() {
        assert!(
            gw.ports.port(0).unwrap().is_talking(),
            "gateway {g} dropped the call"
        );
    }
    w.run_until(Duration::from_millis(u64::from(6_200 + hour)) + sim::scenario::SETTLE);
    let cpu = started.elapsed();
    for (ear, mouth) in [(0, 1), (1, 0)] {
        let l = &w.gws[ear].lines[&0];
        // The call was up for the hour (the caller's side also for its first seconds).
        let frames = l.talking_frames;
        assert!(frames >= 3_600 * 50, "gateway {ear} talked {frames} frames");
        let heard = l.ear.frames_of(sim::VOICES[mouth][0]);
        // 5 % of the packets lost, each concealed; a handful of frames at the edges.
        assert!(
            heard > frames * 9 / 10,
            "gateway {ear} heard the far voice in {heard} of {frames} frames"
        );
        assert!(w.gws[ear].ports.port(0).unwrap().is_idle());
    }
    for g in &w.gws {
        let f = g.sip.footprint();
        assert_eq!((f.calls, f.ua.calls, f.ua.transactions), (0, 0, 0), "{f:?}");
    }
    println!(
        "one hour at 5 % loss: {:.0} s simulated in {:.2} s CPU ({:.0} simulated s per s), {} wakes, {:?}",
        w.elapsed().as_secs_f64(),
        cpu.as_secs_f64(),
        w.elapsed().as_secs_f64() / cpu.as_secs_f64(),
        w.wakes,
        w.net.stats()
    );
}
