//! The real serial driver against the simulated line card over a real pseudo-terminal:
//! every event and every command round-trips.

use std::path::PathBuf;
use std::sync::mpsc::RecvTimeoutError;
use std::time::{Duration, Instant};
use tipring_hal::driver::{Driver, DriverEvent, SerialSettings};
use tipring_hal::link::LinkConfig;
use tipring_hal::model::*;
use tipring_hal::sim::{SimCard, SimConfig, SimPort};

pub fn link_path(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("tipring-{name}-{}.tty", std::process::id()))
}

pub fn start(name: &str, ports: &[PortKind]) -> (SimCard, Driver) {
    let sim = SimCard::start(SimConfig {
        ports: ports.to_vec(),
        link_path: link_path(name),
        link: LinkConfig::default(),
        audio_dir: None,
    })
    .expect("sim card starts");
    let drv = Driver::start(SerialSettings::new(sim.link_path())).expect("driver starts");
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        match drv
            .events()
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
        {
            Ok(DriverEvent::LinkUp(h)) => {
                let info = h.card.expect("card info in hello");
                assert_eq!(&info.ports[..], ports);
                assert_eq!(info.firmware.as_str(), "tipring-sim-1");
                break;
            }
            Ok(_) => {}
            Err(e) => panic!("link did not come up: {e:?}"),
        }
    }
    (sim, drv)
}

/// Next card event (skipping link notices), or panic after `within`.
pub fn next_event(drv: &Driver, within: Duration) -> TimedEvent {
    let deadline = Instant::now() + within;
    loop {
        match drv
            .events()
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
        {
            Ok(DriverEvent::Event(e)) => return e,
            Ok(_) => {}
            Err(RecvTimeoutError::Timeout) => panic!("no event within {within:?}"),
            Err(e) => panic!("{e}"),
        }
    }
}

fn expect(drv: &Driver, port: PortId, event: Event) {
    let e = next_event(drv, Duration::from_secs(5));
    assert_eq!((e.port, e.event), (port, event));
}

const T: Duration = Duration::from_secs(2);

#[test]
fn fxs_events_round_trip() {
    let (sim, drv) = start("fxs-events", &[PortKind::Fxs, PortKind::Fxo]);
    let phone = |f: &dyn Fn(&mut tipring_hal::sim::Phone, u32)| {
        sim.with_port(0, |p, now, _| match p {
            SimPort::Fxs(ph) => f(ph, now),
            SimPort::Fxo(_) => panic!("port 0 is fxs"),
        })
        .unwrap()
    };
    phone(&|p, now| p.off_hook(now));
    expect(&drv, 0, Event::OffHook);
    phone(&|p, now| {
        p.pulse_dial(now, &[3, 0]);
    });
    expect(&drv, 0, Event::PulseDigit { digit: 3 });
    expect(&drv, 0, Event::PulseDigit { digit: 0 });
    phone(&|p, now| p.flash(now));
    let e = next_event(&drv, T);
    assert!(
        matches!(e.event, Event::HookFlash { duration_ms } if (290..=320).contains(&duration_ms)),
        "{e:?}"
    );
    let d = Event::Digit {
        digit: Digit::Hash,
        duration_ms: 80,
    };
    sim.inject_event(0, d);
    expect(&drv, 0, d);
    phone(&|p, now| p.on_hook(now));
    expect(&drv, 0, Event::OnHook);
    // Timestamps come from the card clock and are monotonic.
    assert!(
        sim.lock()
            .events
            .windows(2)
            .all(|w| w[0].at_ms <= w[1].at_ms)
    );
}

#[test]
fn fxo_events_round_trip() {
    let (sim, drv) = start("fxo-events", &[PortKind::Fxo]);
    let cadence = RingCadence {
        frequency_hz: 25,
        steps: [RingStep {
            on_ms: 200,
            off_ms: 300,
        }]
        .into_iter()
        .collect(),
    };
    let line = |f: &dyn Fn(&mut tipring_hal::sim::Line, u32, &mut Vec<Event>)| {
        sim.with_port(0, |p, now, out| match p {
            SimPort::Fxo(l) => f(l, now, out),
            SimPort::Fxs(_) => panic!("port 0 is fxo"),
        })
        .unwrap()
    };
    line(&|l, now, out| l.ring(now, cadence.clone(), out));
    expect(&drv, 0, Event::RingStart);
    expect(
        &drv,
        0,
        Event::RingStop {
            on_ms: 200,
            off_ms: 0,
        },
    );
    expect(&drv, 0, Event::RingStart);
    expect(
        &drv,
        0,
        Event::RingStop {
            on_ms: 200,
            off_ms: 300,
        },
    );
    // Seizing answers the ringing line (the next burst is 300 ms away).
    assert_eq!(drv.command(0, Command::Seize, T), Ok(CmdResult::Ok));
    expect(&drv, 0, Event::LoopCurrentOn { milliamps: 25 });
    line(&|l, _, out| l.far_answer(out));
    expect(&drv, 0, Event::PolarityReversal);
    sim.inject_event(0, Event::LineVoltage { volts: -8 });
    expect(&drv, 0, Event::LineVoltage { volts: -8 });
    line(&|l, _, out| l.far_hangup(out));
    expect(&drv, 0, Event::LoopCurrentOff);
    line(&|l, _, out| l.lose_battery(out));
    expect(&drv, 0, Event::BatteryLost);
    let f = Event::Fault {
        code: FaultCode::Internal(77),
    };
    sim.inject_event(0, f);
    expect(&drv, 0, f);
    assert!(!sim.lock().ports[0].to_string().contains("RINGING"));
}

#[test]
fn every_command_round_trips_with_its_result() {
    let (sim, drv) = start("commands", &[PortKind::Fxs, PortKind::Fxo]);
    let cadence = RingCadence {
        frequency_hz: 20,
        steps: [
            RingStep {
                on_ms: 400,
                off_ms: 200,
            },
            RingStep {
                on_ms: 400,
                off_ms: 2000,
            },
        ]
        .into_iter()
        .collect(),
    };
    let gain = Gain {
        tx_tenth_db: -35,
        rx_tenth_db: 20,
    };
    let cases: Vec<(PortId, Command, CmdResult)> = vec![
        (0, Command::Ring(cadence.clone()), CmdResult::Ok),
        (0, Command::StopRing, CmdResult::Ok),
        (0, Command::SetPolarity(Polarity::Reversed), CmdResult::Ok),
        (
            0,
            Command::OnHookTransmission { enable: true },
            CmdResult::Ok,
        ),
        (0, Command::SetGain(gain), CmdResult::Ok),
        (0, Command::Seize, CmdResult::WrongPortKind),
        (1, Command::Ring(cadence.clone()), CmdResult::WrongPortKind),
        (1, Command::HookFlash { duration_ms: 500 }, CmdResult::Busy),
        (1, Command::Seize, CmdResult::Ok),
        (
            1,
            Command::PulseDial {
                digits: [2, 0, 0, 1].into_iter().collect(),
            },
            CmdResult::Ok,
        ),
        (
            1,
            Command::PulseDial {
                digits: [12].into_iter().collect(),
            },
            CmdResult::InvalidArgument,
        ),
        (1, Command::HookFlash { duration_ms: 500 }, CmdResult::Ok),
        (1, Command::SetGain(gain), CmdResult::Ok),
        (1, Command::Release, CmdResult::Ok),
        (1, Command::Reset, CmdResult::Ok),
        (7, Command::Reset, CmdResult::NoSuchPort),
    ];
    for (port, cmd, want) in &cases {
        assert_eq!(
            drv.command(*port, cmd.clone(), T),
            Ok(*want),
            "{cmd:?} on {port}"
        );
    }
    let s = sim.lock();
    let seen = s.commands.to_vec();
    assert_eq!(seen, cases, "the card saw each command once, in order");
    match &s.ports[0] {
        SimPort::Fxs(p) => {
            assert_eq!(p.polarity, Polarity::Reversed);
            assert!(p.on_hook_transmission);
            assert_eq!(p.gain, gain);
            assert!(!p.is_ringing());
        }
        SimPort::Fxo(_) => unreachable!(),
    }
    match &s.ports[1] {
        SimPort::Fxo(l) => {
            assert_eq!(l.dialled, "2001");
            assert_eq!(l.flashes, 1);
            assert!(!l.seized);
        }
        SimPort::Fxs(_) => unreachable!(),
    }
}

#[test]
fn ringing_phone_answers_after_n_rings() {
    let (sim, drv) = start("answer", &[PortKind::Fxs]);
    sim.with_port(0, |p, _, _| {
        if let SimPort::Fxs(ph) = p {
            ph.answer_after = Some(2);
        }
    });
    let cadence = RingCadence {
        frequency_hz: 25,
        steps: [RingStep {
            on_ms: 100,
            off_ms: 100,
        }]
        .into_iter()
        .collect(),
    };
    assert_eq!(drv.command(0, Command::Ring(cadence), T), Ok(CmdResult::Ok));
    expect(&drv, 0, Event::OffHook);
    let s = sim.lock();
    match &s.ports[0] {
        SimPort::Fxs(p) => {
            assert_eq!(p.rings, 2);
            assert!(!p.is_ringing(), "ring trip stops ringing");
        }
        SimPort::Fxo(_) => unreachable!(),
    }
}

#[test]
fn command_timed_out_while_link_down_never_runs_late() {
    let path = link_path("cancel");
    let _ = std::fs::remove_file(&path);
    let drv = Driver::start(SerialSettings::new(&path)).unwrap();
    // No card yet: the command waits in the queue and its caller gives up.
    let r = drv.command(0, Command::Reset, Duration::from_millis(200));
    assert!(matches!(
        r,
        Err(tipring_hal::driver::DriverError::Timeout(_))
    ));
    let sim = SimCard::start(SimConfig {
        ports: vec![PortKind::Fxs],
        link_path: path,
        link: LinkConfig::default(),
        audio_dir: None,
    })
    .unwrap();
    let end = Instant::now() + Duration::from_secs(3);
    while !matches!(
        drv.events()
            .recv_timeout(end.saturating_duration_since(Instant::now())),
        Ok(DriverEvent::LinkUp(_))
    ) {
        assert!(Instant::now() < end, "no link");
    }
    let g = Command::SetGain(Gain {
        tx_tenth_db: 1,
        rx_tenth_db: 2,
    });
    assert_eq!(drv.command(0, g.clone(), T), Ok(CmdResult::Ok));
    assert_eq!(sim.lock().commands, vec![(0, g, CmdResult::Ok)]);
}
