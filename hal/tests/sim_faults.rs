//! Fault injection between the simulated card and the real driver over a PTY: garbage,
//! dropped and duplicated frames, a link pause and a cable pull. After each fault the link
//! recovers within 1 s, and no event is lost or duplicated.

use std::sync::mpsc::RecvTimeoutError;
use std::time::{Duration, Instant};
use tipring_hal::driver::{Driver, DriverEvent, SerialSettings};
use tipring_hal::link::LinkConfig;
use tipring_hal::model::*;
use tipring_hal::sim::{SimCard, SimConfig};

fn marker(id: u16) -> Event {
    Event::Digit {
        digit: Digit::D5,
        duration_ms: id,
    }
}

struct Rig {
    sim: SimCard,
    drv: Driver,
    next_id: u16,
    received: Vec<u16>,
    link_ups: u32,
}

impl Rig {
    fn new() -> Self {
        let path = std::env::temp_dir().join(format!("tipring-faults-{}.tty", std::process::id()));
        let sim = SimCard::start(SimConfig {
            ports: vec![PortKind::Fxs],
            link_path: path,
            link: LinkConfig::default(),
            audio_dir: None,
        })
        .unwrap();
        let drv = Driver::start(SerialSettings::new(sim.link_path())).unwrap();
        let mut r = Rig {
            sim,
            drv,
            next_id: 0,
            received: Vec::new(),
            link_ups: 0,
        };
        let t0 = Instant::now();
        while r.link_ups == 0 {
            r.pump(Duration::from_millis(10));
            assert!(t0.elapsed() < Duration::from_secs(3), "link never came up");
        }
        r
    }

    fn inject(&mut self) -> u16 {
        let id = self.next_id;
        self.next_id += 1;
        self.sim.inject_event(0, marker(id));
        id
    }

    /// Collects driver output for `d`.
    fn pump(&mut self, d: Duration) {
        let end = Instant::now() + d;
        loop {
            let left = end.saturating_duration_since(Instant::now());
            match self.drv.events().recv_timeout(left) {
                Ok(DriverEvent::Event(e)) => match e.event {
                    Event::Digit { duration_ms, .. } => self.received.push(duration_ms),
                    other => panic!("unexpected {other:?}"),
                },
                Ok(DriverEvent::LinkUp(_)) => self.link_ups += 1,
                Ok(_) => {}
                Err(RecvTimeoutError::Timeout) => return,
                Err(e) => panic!("{e}"),
            }
        }
    }

    /// Waits until the injected fault is over (every planned drop/duplicate/garbage byte
    /// consumed, pause ended, new PTY published), then injects a marker and returns how
    /// long it took to arrive: the recovery time.
    fn recovery(&mut self) -> Duration {
        let t0 = Instant::now();
        loop {
            let over = {
                let f = &self.sim.lock().faults;
                f.drop_frames == 0
                    && f.duplicate_frames == 0
                    && f.garbage.is_empty()
                    && f.cable_pull.is_none()
                    && f.paused_until.is_none_or(|t| Instant::now() >= t)
            };
            if over {
                break;
            }
            self.pump(Duration::from_millis(1));
            assert!(t0.elapsed() < Duration::from_secs(10), "fault never ended");
        }
        let id = self.inject();
        let t0 = Instant::now();
        while !self.received.contains(&id) {
            self.pump(Duration::from_millis(1));
            assert!(
                t0.elapsed() < Duration::from_secs(5),
                "marker {id} never arrived"
            );
        }
        t0.elapsed()
    }

    /// Events keep happening during a fault that lasts `d`.
    fn during(&mut self, d: Duration) {
        let end = Instant::now() + d;
        while Instant::now() < end {
            self.inject();
            self.pump(Duration::from_millis(40));
        }
    }
}

fn check_recovers(rig: &mut Rig, what: &str) {
    let took = rig.recovery();
    eprintln!("{what}: recovered in {took:?}");
    assert!(took < Duration::from_secs(1), "{what}: took {took:?}");
}

#[test]
fn link_recovers_from_every_fault_without_loss_or_duplication() {
    let mut rig = Rig::new();
    rig.during(Duration::from_millis(200));

    rig.sim
        .faults(|f| f.garbage = (0..300u32).map(|i| (i * 37 % 251) as u8).collect());
    rig.during(Duration::from_millis(200));
    check_recovers(&mut rig, "garbage");

    // Garbage with no delimiter, then a half frame: the next frame must still pass.
    rig.sim.faults(|f| f.garbage = vec![0x05, 0x01, 0x03]);
    rig.during(Duration::from_millis(100));
    check_recovers(&mut rig, "truncated frame");

    rig.sim.faults(|f| f.drop_frames = 5);
    rig.during(Duration::from_millis(300));
    check_recovers(&mut rig, "dropped frames");

    rig.sim.faults(|f| f.duplicate_frames = 10);
    rig.during(Duration::from_millis(300));
    check_recovers(&mut rig, "duplicated frames");

    // A pause longer than the dead time takes the link down on both ends.
    let ups = rig.link_ups;
    rig.sim
        .faults(|f| f.paused_until = Some(Instant::now() + Duration::from_millis(700)));
    rig.during(Duration::from_millis(700));
    check_recovers(&mut rig, "link pause");
    rig.pump(Duration::from_millis(50));
    assert!(
        rig.link_ups > ups,
        "the pause took the link down and up again"
    );

    // Cable pull: the PTY is closed and a new one opened behind the same symlink.
    rig.sim
        .faults(|f| f.cable_pull = Some(Duration::from_millis(300)));
    rig.during(Duration::from_millis(300));
    // The pull is over once the simulator has published its new PTY.
    while rig.sim.lock().faults.cable_pulls == 0 {
        rig.pump(Duration::from_millis(1));
    }
    check_recovers(&mut rig, "cable pull");
    assert_eq!(rig.sim.lock().faults.cable_pulls, 1);

    rig.pump(Duration::from_millis(300));
    let want: Vec<u16> = (0..rig.next_id).collect();
    assert_eq!(rig.received, want, "every event exactly once, in order");
    let st = rig.drv.stats();
    eprintln!("driver link stats: {st:?}");
    assert!(st.bad_frames > 0, "the garbage was seen");
    assert!(st.duplicates > 0, "the duplicates were seen");
    let f = rig.sim.lock().faults.clone();
    assert_eq!(
        (f.drop_frames, f.duplicate_frames, f.garbage.len()),
        (0, 0, 0),
        "all faults happened"
    );
}
