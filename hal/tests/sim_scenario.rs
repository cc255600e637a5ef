//! Scenario steps run against the simulated card while the real driver plays the gateway.

use std::time::{Duration, Instant};
use tipring_hal::driver::{Driver, DriverEvent, SerialSettings};
use tipring_hal::model::*;
use tipring_hal::sim::scenario::{RunError, Runner, parse_script};
use tipring_hal::sim::{SimCard, SimConfig};

fn rig(name: &str) -> (SimCard, Driver) {
    let dir = std::env::temp_dir().join(format!("tipring-scn-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let sim = SimCard::start(SimConfig::new(vec![PortKind::Fxs, PortKind::Fxo], &dir)).unwrap();
    let drv = Driver::start(SerialSettings::new(sim.link_path())).unwrap();
    let end = Instant::now() + Duration::from_secs(3);
    while !matches!(
        drv.events()
            .recv_timeout(end.saturating_duration_since(Instant::now())),
        Ok(DriverEvent::LinkUp(_))
    ) {
        assert!(Instant::now() < end, "no link");
    }
    (sim, drv)
}

fn events(drv: &Driver, within: Duration) -> Vec<Event> {
    let end = Instant::now() + within;
    let mut v = Vec::new();
    while let Ok(e) = drv
        .events()
        .recv_timeout(end.saturating_duration_since(Instant::now()))
    {
        if let DriverEvent::Event(e) = e {
            v.push(e.event);
        }
    }
    v
}

#[test]
fn phone_steps_reach_the_gateway() {
    let (sim, drv) = rig("phone");
    let steps = parse_script(
        "offhook 0\ndial 0 21 pulse\ndial 0 *9\nflash 0\nwait 400ms\nonhook 0\nwait 1s\n",
    )
    .unwrap();
    let mut r = Runner {
        sim: &sim,
        dsp: None,
    };
    for s in &steps {
        r.run(s).unwrap();
    }
    let got = events(&drv, Duration::from_millis(300));
    assert_eq!(
        got,
        vec![
            Event::OffHook,
            Event::PulseDigit { digit: 2 },
            Event::PulseDigit { digit: 1 },
            Event::Digit {
                digit: Digit::Star,
                duration_ms: 80
            },
            Event::Digit {
                digit: Digit::D9,
                duration_ms: 80
            },
            Event::HookFlash { duration_ms: 300 },
            Event::OnHook,
        ]
    );
}

#[test]
fn gateway_actions_are_checked_by_expect_steps() {
    let (sim, drv) = rig("expect");
    let mut r = Runner {
        sim: &sim,
        dsp: None,
    };
    // Ring the phone; it answers after two rings.
    let cad = RingCadence {
        frequency_hz: 25,
        steps: [RingStep {
            on_ms: 100,
            off_ms: 100,
        }]
        .into_iter()
        .collect(),
    };
    for s in &parse_script("answer-after 0 2").unwrap() {
        r.run(s).unwrap();
    }
    assert_eq!(
        drv.command(0, Command::Ring(cad), Duration::from_secs(2)),
        Ok(CmdResult::Ok)
    );
    for s in &parse_script("expect-ringing 0 1s\nexpect-rings 0 2 2s").unwrap() {
        r.run(s).unwrap();
    }
    // The FXO line: the gateway seizes and dials; the exchange answers and hangs up.
    assert_eq!(
        drv.command(1, Command::Seize, Duration::from_secs(2)),
        Ok(CmdResult::Ok)
    );
    let digits = Command::PulseDial {
        digits: [5, 5, 0].into_iter().collect(),
    };
    assert_eq!(
        drv.command(1, digits, Duration::from_secs(2)),
        Ok(CmdResult::Ok)
    );
    for s in
        &parse_script("expect-seized 1 1s\nexpect-dialled 1 550 1s\nfar-answer 1\nfar-hangup 1")
            .unwrap()
    {
        r.run(s).unwrap();
    }
    let got = events(&drv, Duration::from_millis(300));
    assert!(got.contains(&Event::OffHook), "{got:?}");
    let tail: Vec<_> = got
        .iter()
        .filter(|e| !matches!(e, Event::OffHook))
        .collect();
    assert_eq!(
        tail,
        [
            &Event::LoopCurrentOn { milliamps: 25 },
            &Event::PolarityReversal,
            &Event::LoopCurrentOff
        ]
    );
    // An expectation that is not met times out with a message naming it.
    let s = &parse_script("expect-dialled 1 999 200ms").unwrap()[0];
    match r.run(s) {
        Err(RunError::Timeout(_, what)) => assert!(what.contains("999")),
        other => panic!("{other:?}"),
    }
    // Wrong port kind is an error, not a panic.
    let s = &parse_script("far-answer 0").unwrap()[0];
    assert!(matches!(r.run(s), Err(RunError::WrongPort(0))));
}
