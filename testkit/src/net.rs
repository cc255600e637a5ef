//! A virtual network on virtual time for sans-IO cores (after quinn-proto's test `Pair` and
//! str0m's netem): datagrams sent between addresses arrive after a link's latency plus
//! jitter, may be reordered, and are lost with a seeded probability, so a failing run
//! replays exactly from its seed.
//!
//! The network owns the clock. A test loop feeds it what its cores transmit
//! ([`Net::send`]), takes what is due ([`Net::poll_deliver`]) into the cores, and moves time
//! to the earliest of [`Net::poll_timeout`] and the cores' own deadlines ([`Net::advance`]).
//! Addresses and payloads are generic (a `SocketAddr` and bytes, or the bytes with their
//! transport), so the network knows nothing of SIP or RTP.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap};
use std::hash::Hash;
use std::time::{Duration, Instant};

/// How one direction between two addresses behaves.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Link {
    /// The one-way delay of every datagram.
    pub latency: Duration,
    /// Up to this much more delay, uniformly drawn per datagram: datagrams sent closer
    /// together than their jitter can overtake each other, as on a real path.
    pub jitter: Duration,
    /// The probability (0.0–1.0) that a datagram is lost.
    pub loss: f64,
    /// The probability (0.0–1.0) that a datagram is held back by a further
    /// [`Link::hold`], arriving behind the ones sent after it.
    pub reorder: f64,
}

impl Link {
    /// Instant delivery, nothing lost or reordered: datagrams arrive in the order sent.
    pub const IDEAL: Link = Link {
        latency: Duration::ZERO,
        jitter: Duration::ZERO,
        loss: 0.0,
        reorder: 0.0,
    };

    /// This link with `latency`.
    pub fn latency(self, latency: Duration) -> Link {
        Link { latency, ..self }
    }

    /// This link with `jitter`.
    pub fn jitter(self, jitter: Duration) -> Link {
        Link { jitter, ..self }
    }

    /// This link losing datagrams with probability `loss`.
    pub fn loss(self, loss: f64) -> Link {
        Link { loss, ..self }
    }

    /// This link holding datagrams back with probability `reorder`.
    pub fn reorder(self, reorder: f64) -> Link {
        Link { reorder, ..self }
    }

    /// The extra delay of a reordered datagram: one latency and jitter more, and at least
    /// a millisecond, so it falls behind what is sent in that time.
    pub fn hold(&self) -> Duration {
        (self.latency + self.jitter).max(Duration::from_millis(1))
    }
}

impl Default for Link {
    fn default() -> Link {
        Link::IDEAL
    }
}

/// A datagram that arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Datagram<A, P> {
    pub from: A,
    pub to: A,
    pub payload: P,
    /// When it was sent.
    pub sent: Instant,
    /// When it arrived (the network's time when it was taken).
    pub arrived: Instant,
}

/// What the network did with the datagrams sent so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    pub sent: u64,
    pub lost: u64,
    /// Held back by [`Link::reorder`].
    pub reordered: u64,
    pub delivered: u64,
}

/// One datagram on its way, ordered by arrival time and then by when it was sent.
struct Flight<A, P> {
    at: Instant,
    seq: u64,
    from: A,
    to: A,
    payload: P,
    sent: Instant,
}

impl<A, P> PartialEq for Flight<A, P> {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}

impl<A, P> Eq for Flight<A, P> {}

impl<A, P> PartialOrd for Flight<A, P> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<A, P> Ord for Flight<A, P> {
    /// Reversed, so that the max-heap yields the earliest arrival first.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.at, other.seq).cmp(&(self.at, self.seq))
    }
}

/// Datagrams between addresses `A` carrying payloads `P`, on a virtual clock.
pub struct Net<A, P = Vec<u8>> {
    now: Instant,
    default: Link,
    links: HashMap<(A, A), Link>,
    rng: fastrand::Rng,
    seq: u64,
    in_flight: BinaryHeap<Flight<A, P>>,
    stats: Stats,
}

impl<A: Copy + Eq + Hash, P> Net<A, P> {
    /// A network at time `start` whose links are all [`Link::IDEAL`]; `seed` fixes every
    /// loss, jitter and reordering draw.
    pub fn new(start: Instant, seed: u64) -> Self {
        Net {
            now: start,
            default: Link::IDEAL,
            links: HashMap::new(),
            rng: fastrand::Rng::with_seed(seed),
            seq: 0,
            in_flight: BinaryHeap::new(),
            stats: Stats::default(),
        }
    }

    /// Every link without one of its own (see [`Net::set_link`]) behaves as `link`.
    pub fn with_link(mut self, link: Link) -> Self {
        self.default = link;
        self
    }

    /// The direction `from` → `to` behaves as `link` from now on.
    pub fn set_link(&mut self, from: A, to: A, link: Link) {
        self.links.insert((from, to), link);
    }

    /// How the direction `from` → `to` behaves.
    pub fn link(&self, from: A, to: A) -> Link {
        self.links.get(&(from, to)).copied().unwrap_or(self.default)
    }

    /// The network's time.
    pub fn now(&self) -> Instant {
        self.now
    }

    /// Sends `payload` from `from` to `to` now. Returns when it will arrive, or `None` if
    /// the link lost it.
    pub fn send(&mut self, from: A, to: A, payload: P) -> Option<Instant> {
        let link = self.link(from, to);
        self.stats.sent += 1;
        if link.loss > 0.0 && self.rng.f64() < link.loss {
            self.stats.lost += 1;
            return None;
        }
        let mut at = self.now + link.latency;
        if !link.jitter.is_zero() {
            at += link.jitter.mul_f64(self.rng.f64());
        }
        if link.reorder > 0.0 && self.rng.f64() < link.reorder {
            self.stats.reordered += 1;
            at += link.hold();
        }
        self.seq += 1;
        self.in_flight.push(Flight {
            at,
            seq: self.seq,
            from,
            to,
            payload,
            sent: self.now,
        });
        Some(at)
    }

    /// When the next datagram in flight arrives.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.in_flight.peek().map(|f| f.at)
    }

    /// Moves the clock to `to`; time never goes back, so an earlier `to` is a no-op.
    pub fn advance(&mut self, to: Instant) {
        self.now = self.now.max(to);
    }

    /// The next datagram that has arrived by now, earliest first (in the order sent when
    /// they arrive together).
    pub fn poll_deliver(&mut self) -> Option<Datagram<A, P>> {
        if self.in_flight.peek()?.at > self.now {
            return None;
        }
        let f = self.in_flight.pop()?;
        self.stats.delivered += 1;
        Some(Datagram {
            from: f.from,
            to: f.to,
            payload: f.payload,
            sent: f.sent,
            arrived: self.now,
        })
    }

    /// How many datagrams are on their way.
    pub fn in_flight(&self) -> usize {
        self.in_flight.len()
    }

    /// What the network did so far.
    pub fn stats(&self) -> Stats {
        self.stats
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// Sends `n` datagrams 1 ms apart from 1 to 2 and runs until all are in; returns the
    /// payloads in arrival order with their one-way delay.
    fn run(link: Link, seed: u64, n: u32) -> (Vec<(u32, Duration)>, Stats) {
        let t0 = Instant::now();
        let mut net: Net<u8, u32> = Net::new(t0, seed).with_link(link);
        let mut got = Vec::new();
        for i in 0..n {
            net.advance(t0 + ms(u64::from(i)));
            net.send(1, 2, i);
            while let Some(d) = net.poll_deliver() {
                got.push((d.payload, d.arrived - d.sent));
            }
        }
        while let Some(t) = net.poll_timeout() {
            net.advance(t);
            while let Some(d) = net.poll_deliver() {
                got.push((d.payload, d.arrived - d.sent));
            }
        }
        (got, net.stats())
    }

    #[test]
    fn ideal_link_delivers_at_once_in_order() {
        let (got, stats) = run(Link::IDEAL, 1, 100);
        assert_eq!(
            got,
            (0..100).map(|i| (i, Duration::ZERO)).collect::<Vec<_>>()
        );
        assert_eq!(stats.delivered, 100);
        assert_eq!(stats.lost + stats.reordered, 0);
    }

    #[test]
    fn latency_delays_and_is_not_delivered_early() {
        let t0 = Instant::now();
        let mut net: Net<u8, &str> = Net::new(t0, 1).with_link(Link::IDEAL.latency(ms(40)));
        assert_eq!(net.send(1, 2, "x"), Some(t0 + ms(40)));
        net.advance(t0 + ms(39));
        assert!(net.poll_deliver().is_none());
        assert_eq!(net.poll_timeout(), Some(t0 + ms(40)));
        net.advance(t0 + ms(40));
        let d = net.poll_deliver().unwrap();
        assert_eq!((d.from, d.to, d.payload), (1, 2, "x"));
        assert_eq!(net.in_flight(), 0);
    }

    #[test]
    fn time_never_goes_back() {
        let t0 = Instant::now();
        let mut net: Net<u8, ()> = Net::new(t0 + ms(10), 1);
        net.advance(t0);
        assert_eq!(net.now(), t0 + ms(10));
    }

    #[test]
    fn loss_is_near_its_probability_and_replays_from_the_seed() {
        let link = Link::IDEAL.loss(0.3);
        let (got, stats) = run(link, 7, 10_000);
        assert!((2_700..3_300).contains(&stats.lost), "{stats:?}");
        assert_eq!(got.len() as u64, stats.delivered);
        assert_eq!(run(link, 7, 10_000).0, got, "same seed, same run");
        assert_ne!(run(link, 8, 10_000).0, got, "another seed, another run");
    }

    #[test]
    fn jitter_stays_in_bounds_and_reorders() {
        let link = Link::IDEAL.latency(ms(20)).jitter(ms(50));
        let (got, stats) = run(link, 3, 1_000);
        assert_eq!(stats.delivered, 1_000);
        assert!(got.iter().all(|(_, d)| (ms(20)..=ms(70)).contains(d)));
        assert!(got.windows(2).any(|w| w[1].0 < w[0].0), "some overtaken");
    }

    #[test]
    fn reorder_holds_some_back_behind_later_ones() {
        let link = Link::IDEAL.latency(ms(5)).reorder(0.1);
        let (got, stats) = run(link, 5, 1_000);
        assert!((50..150).contains(&stats.reordered), "{stats:?}");
        let late = got.windows(2).filter(|w| w[1].0 < w[0].0).count();
        assert!(late > 0);
        assert!(got.iter().all(|(_, d)| *d == ms(5) || *d == ms(10)));
    }

    #[test]
    fn a_link_of_its_own_overrides_the_default() {
        let t0 = Instant::now();
        let mut net: Net<u8, u8> = Net::new(t0, 1).with_link(Link::IDEAL.latency(ms(10)));
        net.set_link(2, 1, Link::IDEAL.loss(1.0));
        assert_eq!(net.send(1, 2, 0), Some(t0 + ms(10)));
        assert_eq!(net.send(2, 1, 0), None);
        assert_eq!(net.link(2, 1).loss, 1.0);
        assert_eq!(net.stats().lost, 1);
    }
}
