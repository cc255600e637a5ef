//! The event list of a telephone-event `a=fmtp` (RFC 4733 §2.4.1): `0-15,66,70`.

use std::fmt;
use std::str::FromStr;

/// A set of RFC 4733 event codes (0..=255).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EventSet([u64; 4]);

impl EventSet {
    /// The events `lo..=hi`.
    pub fn range(lo: u8, hi: u8) -> EventSet {
        let mut s = EventSet::default();
        for e in lo..=hi {
            s.insert(e);
        }
        s
    }

    /// Add an event.
    pub fn insert(&mut self, e: u8) {
        self.0[usize::from(e / 64)] |= 1 << (e % 64);
    }

    /// Whether an event is in the set.
    pub fn contains(&self, e: u8) -> bool {
        self.0[usize::from(e / 64)] & (1 << (e % 64)) != 0
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.0 == [0; 4]
    }

    /// The events in both sets.
    pub fn intersection(&self, o: &EventSet) -> EventSet {
        EventSet(std::array::from_fn(|k| self.0[k] & o.0[k]))
    }
}

/// Why an event list does not parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("malformed telephone-event list")]
pub struct EventListError;

impl FromStr for EventSet {
    type Err = EventListError;

    fn from_str(s: &str) -> Result<EventSet, EventListError> {
        let mut set = EventSet::default();
        for item in s.split(',') {
            let item = item.trim();
            let (lo, hi) = match item.split_once('-') {
                Some((a, b)) => (a.trim().parse(), b.trim().parse()),
                None => (item.parse(), item.parse()),
            };
            let (Ok(lo), Ok(hi)) = (lo, hi) else {
                return Err(EventListError);
            };
            if lo > hi {
                return Err(EventListError);
            }
            for e in lo..=hi {
                set.insert(e);
            }
        }
        Ok(set)
    }
}

impl fmt::Display for EventSet {
    /// Written as ranges, `0-16` or `0-15,66`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        let mut e = 0u16;
        while e < 256 {
            if !self.contains(e as u8) {
                e += 1;
                continue;
            }
            let lo = e;
            while e + 1 < 256 && self.contains((e + 1) as u8) {
                e += 1;
            }
            if !first {
                f.write_str(",")?;
            }
            first = false;
            if lo == e {
                write!(f, "{lo}")?;
            } else {
                write!(f, "{lo}-{e}")?;
            }
            e += 1;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_parse_and_print() {
        let s: EventSet = "0-15,66, 70".parse().unwrap();
        assert!(s.contains(0) && s.contains(15) && s.contains(66) && s.contains(70));
        assert!(!s.contains(16) && !s.contains(67));
        assert_eq!(s.to_string(), "0-15,66,70");
        assert_eq!(EventSet::range(0, 16).to_string(), "0-16");
        assert_eq!(EventSet::range(250, 255).to_string(), "250-255");
        assert!("16-0".parse::<EventSet>().is_err());
        assert!("0-256".parse::<EventSet>().is_err());
        assert!("".parse::<EventSet>().is_err());
        let both = EventSet::range(0, 16).intersection(&"10-20".parse().unwrap());
        assert_eq!(both.to_string(), "10-16");
    }
}
