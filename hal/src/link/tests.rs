//! Virtual-time tests: a gateway link and a card link joined by a simulated wire that can
//! drop, duplicate, corrupt and pause frames. Seconds of session run in microseconds.

use super::*;
use crate::model::{Event, PortKind};

const MS: Duration = Duration::from_millis(1);

/// Small deterministic PRNG (xorshift64*) so runs are reproducible from a seed.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

#[derive(Default, Clone, Copy)]
struct Faults {
    drop_pct: u64,
    dup_pct: u64,
    garbage_pct: u64,
    truncate_pct: u64,
}

struct Wire {
    rng: Rng,
    faults: Faults,
    paused: bool,
}

impl Wire {
    /// Splits `bytes` at delimiters and applies faults per frame.
    fn carry(&mut self, bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        if self.paused {
            return out;
        }
        for frame in bytes.split_inclusive(|&b| b == 0) {
            if self.rng.chance(self.faults.garbage_pct) {
                out.extend_from_slice(&[0x13, 0x37, 0x42, 0xFF, 0x00, 0x99]);
            }
            if self.rng.chance(self.faults.drop_pct) {
                continue;
            }
            if self.rng.chance(self.faults.truncate_pct) && frame.len() > 2 {
                out.extend_from_slice(&frame[..frame.len() / 2]);
                continue;
            }
            out.extend_from_slice(frame);
            if self.rng.chance(self.faults.dup_pct) {
                out.extend_from_slice(frame);
            }
        }
        out
    }
}

struct Pair {
    now: Duration,
    gw: Link,
    card: Link,
    g2c: Wire,
    c2g: Wire,
    gw_out: Vec<LinkOutput>,
    card_out: Vec<LinkOutput>,
}

fn card_info() -> CardInfo {
    CardInfo {
        firmware: heapless::String::try_from("sim-1.0").unwrap(),
        ports: [PortKind::Fxs, PortKind::Fxo].into_iter().collect(),
    }
}

impl Pair {
    fn new(seed: u64, faults: Faults) -> Self {
        let now = Duration::ZERO;
        Pair {
            now,
            gw: Link::new(Role::Gateway, LinkConfig::default(), 1, None, now),
            card: Link::new(Role::Card, LinkConfig::default(), 2, Some(card_info()), now),
            g2c: Wire {
                rng: Rng(seed | 1),
                faults,
                paused: false,
            },
            c2g: Wire {
                rng: Rng((seed << 1) | 1),
                faults,
                paused: false,
            },
            gw_out: Vec::new(),
            card_out: Vec::new(),
        }
    }

    /// Runs the pair for `d` in 1 ms steps; the card answers every command with `Ok`.
    fn run(&mut self, d: Duration) {
        let end = self.now + d;
        while self.now < end {
            self.now += MS;
            let now = self.now;
            self.gw.handle_timeout(now);
            self.card.handle_timeout(now);
            for _ in 0..4 {
                let mut b = Vec::new();
                self.gw.poll_transmit(&mut b);
                let b = self.g2c.carry(&b);
                self.card.handle_bytes(now, &b);
                while let Some(o) = self.card.poll_output() {
                    if let LinkOutput::Command { seq, .. } = o {
                        self.card.answer(now, seq, CmdResult::Ok);
                    }
                    self.card_out.push(o);
                }
                let mut b = Vec::new();
                self.card.poll_transmit(&mut b);
                let b = self.c2g.carry(&b);
                self.gw.handle_bytes(now, &b);
                while let Some(o) = self.gw.poll_output() {
                    self.gw_out.push(o);
                }
            }
        }
    }

    fn events(&self) -> Vec<u32> {
        self.gw_out
            .iter()
            .filter_map(|o| match o {
                LinkOutput::Event(e) => Some(e.at_ms),
                _ => None,
            })
            .collect()
    }

    fn commands(&self) -> Vec<u16> {
        self.card_out
            .iter()
            .filter_map(|o| match o {
                LinkOutput::Command {
                    command: Command::HookFlash { duration_ms },
                    ..
                } => Some(*duration_ms),
                _ => None,
            })
            .collect()
    }
}

fn ev(i: u32) -> TimedEvent {
    TimedEvent {
        at_ms: i,
        port: 0,
        event: Event::OffHook,
    }
}

#[test]
fn comes_up_and_learns_card_info() {
    let mut p = Pair::new(1, Faults::default());
    p.run(10 * MS);
    assert!(p.gw.is_up() && p.card.is_up());
    match &p.gw_out[0] {
        LinkOutput::Up(h) => assert_eq!(h.card, Some(card_info())),
        o => panic!("first output {o:?}"),
    }
}

#[test]
fn command_gets_result_and_event_arrives_once() {
    let mut p = Pair::new(1, Faults::default());
    p.run(10 * MS);
    let seq = p.gw.submit_command(p.now, 1, Command::Seize);
    p.card.submit_event(p.now, ev(42));
    p.run(10 * MS);
    assert!(p.gw_out.contains(&LinkOutput::CommandDone {
        seq,
        result: CmdResult::Ok
    }));
    assert_eq!(p.events(), [42]);
}

#[test]
fn heartbeats_keep_an_idle_link_up() {
    let mut p = Pair::new(1, Faults::default());
    p.run(10_000 * MS);
    assert!(p.gw.is_up() && p.card.is_up());
    assert_eq!(p.gw.stats().link_downs, 0);
    assert!(p.gw.stats().frames_out >= 90, "{:?}", p.gw.stats());
}

#[test]
fn silence_takes_the_link_down_after_dead_time() {
    let mut p = Pair::new(1, Faults::default());
    p.run(10 * MS);
    p.c2g.paused = true;
    let t0 = p.now;
    while p.gw.is_up() {
        p.run(MS);
    }
    let took = p.now - t0;
    assert!(took <= 400 * MS + 100 * MS && took >= 300 * MS, "{took:?}");
    assert_eq!(p.gw_out.last(), Some(&LinkOutput::Down));
}

#[test]
fn queued_before_link_up_is_delivered_after() {
    let mut p = Pair::new(1, Faults::default());
    for i in 0..5 {
        p.card.submit_event(Duration::ZERO, ev(i));
    }
    p.run(100 * MS);
    assert_eq!(p.events(), [0, 1, 2, 3, 4]);
}

/// The strong one: many events and commands through a wire that drops, duplicates,
/// truncates and injects garbage. Each arrives exactly once, in order.
#[test]
fn lossy_wire_delivers_exactly_once_in_order() {
    for seed in [3u64, 77, 1234, 99_999] {
        let mut p = Pair::new(
            seed,
            Faults {
                drop_pct: 20,
                dup_pct: 10,
                garbage_pct: 10,
                truncate_pct: 5,
            },
        );
        for i in 0..150u32 {
            p.card.submit_event(p.now, ev(i));
            p.gw.submit_command(
                p.now,
                0,
                Command::HookFlash {
                    duration_ms: i as u16,
                },
            );
            p.run(3 * MS);
        }
        // Stop-and-wait with ~45 % loss per round trip needs ~100 ms per message.
        p.run(60_000 * MS);
        assert_eq!(p.events(), (0..150).collect::<Vec<_>>(), "seed {seed}");
        assert_eq!(p.commands(), (0..150).collect::<Vec<_>>(), "seed {seed}");
        let done = p
            .gw_out
            .iter()
            .filter(|o| matches!(o, LinkOutput::CommandDone { .. }))
            .count();
        assert_eq!(done, 150, "seed {seed}");
        assert!(p.gw.stats().retransmissions > 0 && p.gw.stats().duplicates > 0);
    }
}

#[test]
fn outage_loses_and_repeats_nothing_and_recovers_within_a_second() {
    let mut p = Pair::new(5, Faults::default());
    p.run(10 * MS);
    p.card.submit_event(p.now, ev(1));
    p.run(10 * MS);
    // Cut both ways (cable pull), events keep happening on the card.
    p.g2c.paused = true;
    p.c2g.paused = true;
    for i in 2..6 {
        p.card.submit_event(p.now, ev(i));
        p.run(300 * MS);
    }
    assert!(!p.gw.is_up() && !p.card.is_up());
    p.g2c.paused = false;
    p.c2g.paused = false;
    let t0 = p.now;
    while !p.gw.is_up() {
        p.run(MS);
    }
    assert!(p.now - t0 <= 1000 * MS);
    p.run(200 * MS);
    assert_eq!(p.events(), [1, 2, 3, 4, 5]);
}

#[test]
fn card_restart_resets_receive_sequence() {
    let mut p = Pair::new(9, Faults::default());
    p.run(10 * MS);
    p.card.submit_event(p.now, ev(7));
    p.run(10 * MS);
    // New card instance: its sequence starts again at 0, which the gateway already saw.
    p.card = Link::new(
        Role::Card,
        LinkConfig::default(),
        3,
        Some(card_info()),
        p.now,
    );
    p.card.submit_event(p.now, ev(8));
    p.run(50 * MS);
    assert_eq!(p.events(), [7, 8]);
}

#[test]
fn incompatible_peer_is_reported_and_link_stays_down() {
    let mut gw = Link::new(
        Role::Gateway,
        LinkConfig::default(),
        1,
        None,
        Duration::ZERO,
    );
    let hello = Packet::Hello(Hello {
        role: Role::Card,
        min_version: 7,
        max_version: 9,
        boot_id: 5,
        answer: false,
        card: None,
    });
    let mut buf = [0u8; MAX_WIRE_FRAME];
    let n = encode_frame(&FrameRepr::new(hello), &mut buf).unwrap();
    gw.handle_bytes(Duration::ZERO, &buf[..n]);
    assert!(!gw.is_up());
    assert!(matches!(
        gw.poll_output(),
        Some(LinkOutput::Incompatible(_))
    ));
}

#[test]
fn poll_timeout_is_never_in_the_past_after_handling() {
    let mut p = Pair::new(11, Faults::default());
    for _ in 0..500 {
        p.run(MS);
        assert!(p.gw.poll_timeout() > p.now);
        assert!(p.card.poll_timeout() > p.now);
    }
}

#[test]
fn queued_command_can_be_cancelled_but_not_one_on_the_wire() {
    let mut p = Pair::new(13, Faults::default());
    // Link still down: both commands wait in the queue; the first goes out once up.
    let a =
        p.gw.submit_command(p.now, 0, Command::HookFlash { duration_ms: 1 });
    let b =
        p.gw.submit_command(p.now, 0, Command::HookFlash { duration_ms: 2 });
    assert!(p.gw.cancel(b));
    assert!(!p.gw.cancel(b));
    p.run(50 * MS);
    assert!(!p.gw.cancel(a), "already sent and acknowledged");
    assert_eq!(p.commands(), [1]);
}
