//! Admission of stream connections: one pool of slots shared by TCP and TLS, accepted and
//! opened alike, and at most so many accepted connections per source address, so that
//! neither a flood of connections nor one host can take every descriptor of a small box.
//! A sixty-fourth of the pool is kept for the connections we open (to our registrar and
//! proxies): a flood of accepted connections cannot stop the gateway placing calls.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

/// Why a connection was not admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Every slot is taken.
    #[error("too many stream connections open")]
    Full,
    /// This source address already holds its share of slots.
    #[error("too many stream connections from this address")]
    PerSource,
}

#[derive(Debug, Default)]
struct Count {
    open: usize,
    /// Accepted connections per remote address; an entry exists only while its count is
    /// above zero, so the map never holds more entries than there are slots.
    by_source: HashMap<IpAddr, usize>,
}

/// The slot pool.
#[derive(Debug)]
pub(crate) struct Slots {
    max: usize,
    /// Slots only connections we open may take.
    reserved: usize,
    per_source: usize,
    count: Mutex<Count>,
}

impl Slots {
    pub(crate) fn new(max: usize, per_source: usize) -> Arc<Slots> {
        Arc::new(Slots {
            max,
            reserved: max / 64,
            per_source,
            count: Mutex::new(Count::default()),
        })
    }

    /// Takes a slot for a connection accepted from `source`, or for one we open (`None`:
    /// counted in the pool but not against any source). The slot is given back when the
    /// returned [`Slot`] is dropped.
    pub(crate) fn admit(self: &Arc<Self>, source: Option<IpAddr>) -> Result<Slot, Refusal> {
        let mut c = self.count.lock().unwrap_or_else(|p| p.into_inner());
        let limit = match source {
            Some(_) => self.max - self.reserved,
            None => self.max,
        };
        if c.open >= limit {
            return Err(Refusal::Full);
        }
        if let Some(ip) = source {
            let n = c.by_source.entry(ip).or_insert(0);
            if *n >= self.per_source {
                return Err(Refusal::PerSource);
            }
            *n += 1;
        }
        c.open += 1;
        Ok(Slot {
            pool: self.clone(),
            source,
        })
    }

    /// Connections open now.
    pub(crate) fn open(&self) -> usize {
        self.count.lock().map_or(0, |c| c.open)
    }
}

/// One admitted connection's slot, given back on drop.
#[derive(Debug)]
pub(crate) struct Slot {
    pool: Arc<Slots>,
    source: Option<IpAddr>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut c = self.pool.count.lock().unwrap_or_else(|p| p.into_inner());
        c.open = c.open.saturating_sub(1);
        if let Some(ip) = self.source
            && let Some(n) = c.by_source.get_mut(&ip)
        {
            *n -= 1;
            if *n == 0 {
                c.by_source.remove(&ip);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn the_pool_and_each_source_are_bounded() {
        let slots = Slots::new(4, 2);
        let a1 = slots.admit(ip("10.0.0.1")).unwrap();
        let _a2 = slots.admit(ip("10.0.0.1")).unwrap();
        assert_eq!(slots.admit(ip("10.0.0.1")).unwrap_err(), Refusal::PerSource);
        let _b = slots.admit(ip("10.0.0.2")).unwrap();
        let _ours = slots.admit(None).unwrap();
        assert_eq!(slots.admit(ip("10.0.0.3")).unwrap_err(), Refusal::Full);
        assert_eq!(slots.admit(None).unwrap_err(), Refusal::Full);
        drop(a1);
        assert_eq!(slots.open(), 3);
        let _a3 = slots.admit(ip("10.0.0.1")).unwrap();
        assert_eq!(slots.admit(ip("10.0.0.1")).unwrap_err(), Refusal::Full);
    }

    #[test]
    fn accepted_connections_leave_our_share_of_the_pool() {
        let slots = Slots::new(128, 128);
        let accepted: Vec<Slot> = (0..126)
            .map(|_| slots.admit(ip("10.0.0.1")).unwrap())
            .collect();
        assert_eq!(slots.admit(ip("10.0.0.2")).unwrap_err(), Refusal::Full);
        let ours = [slots.admit(None).unwrap(), slots.admit(None).unwrap()];
        assert_eq!(slots.admit(None).unwrap_err(), Refusal::Full);
        drop((accepted, ours));
        assert_eq!(slots.open(), 0);
    }

    #[test]
    fn sources_are_forgotten_when_their_connections_close() {
        let slots = Slots::new(8, 1);
        for _ in 0..3 {
            let s = slots.admit(ip("10.0.0.1")).unwrap();
            drop(s);
        }
        assert!(slots.count.lock().unwrap().by_source.is_empty());
        assert_eq!(slots.open(), 0);
    }
}
