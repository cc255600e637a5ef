//! What an FXO line may be made to do (toll fraud): which numbers reach it, the
//! PIN a PSTN caller enters before two-stage dialling (DISA), how long and how often it is
//! used, and which RFC 4733 events from the far end are played into it once a call is up.

use crate::dialplan::DigitMap;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Which dial strings may reach the line (dialled into it for a SIP caller, or sent toward
/// SIP for a PSTN caller dialling two-stage).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DialAllow {
    /// Every number.
    Any,
    /// Numbers that complete this digit map.
    Only(DigitMap),
    /// No number.
    Nothing,
}

impl DialAllow {
    /// Whether the whole `number` may be dialled.
    pub fn allows(&self, number: &str) -> bool {
        match self {
            DialAllow::Any => true,
            DialAllow::Only(m) => m.allows(number),
            DialAllow::Nothing => false,
        }
    }

    /// Whether `prefix` may still become an allowed number.
    pub fn admits_prefix(&self, prefix: &str) -> bool {
        match self {
            DialAllow::Any => true,
            DialAllow::Only(m) => m.admits_prefix(prefix),
            DialAllow::Nothing => false,
        }
    }
}

/// The line's policy.
#[derive(Debug, Clone)]
pub struct FxoPolicy {
    pub allow: DialAllow,
    /// PIN a PSTN caller dials (then `#`) before two-stage dialling; none: dial tone at once.
    pub pin: Option<String>,
    /// Wrong PINs before the line is released.
    pub pin_tries: u32,
    /// A call up this long is ended (BYE) and the line released.
    pub max_call: Option<Duration>,
    /// Seizures in any hour, both ways; beyond it the line is not seized.
    pub max_calls_per_hour: Option<u32>,
    /// RFC 4733 digits from the far end are dialled into the line once the call is up.
    pub digits_after_answer: bool,
    /// An RFC 4733 hook flash from the far end flashes the line.
    pub flash: bool,
    /// A SIP call without a number (the port's own) seizes the line: the caller gets the
    /// line's dial tone, and dials with RFC 4733 digits (each only while the allow-list can
    /// still match) or with DTMF in its audio, which nothing here can hold back.
    pub direct_seize: bool,
}

impl Default for FxoPolicy {
    fn default() -> Self {
        FxoPolicy {
            allow: DialAllow::Any,
            pin: None,
            pin_tries: DEFAULT_PIN_TRIES,
            max_call: None,
            max_calls_per_hour: None,
            digits_after_answer: true,
            flash: false,
            direct_seize: false,
        }
    }
}

/// Wrong PINs a caller gets before the line is released.
pub const DEFAULT_PIN_TRIES: u32 = 3;
/// Longest PIN entry kept; a longer one is wrong without comparing.
pub const MAX_PIN: usize = 32;

/// Compares `entered` with `pin` in time independent of where they differ.
pub fn pin_matches(entered: &str, pin: &str) -> bool {
    let (a, b) = (entered.as_bytes(), pin.as_bytes());
    let mut diff = u8::from(a.len() != b.len());
    for (i, x) in b.iter().enumerate() {
        diff |= x ^ a.get(i).copied().unwrap_or(0);
    }
    diff == 0
}

/// Why `pin` is no DISA PIN: not 6 to 16 digits, or one anyone tries first (one digit
/// repeated, a run up or down such as `123456` or `987654`, the same pair repeated).
/// Six digits at three tries a call and the default 60 calls an hour leave 10^6 PINs to
/// at most 180 guesses an hour: half the space takes over 115 days.
pub fn pin_weakness(pin: &str) -> Option<&'static str> {
    let d = pin.as_bytes();
    if !(6..=16).contains(&d.len()) || !d.iter().all(u8::is_ascii_digit) {
        return Some("must be 6 to 16 digits");
    }
    let steps: Vec<i16> = d
        .windows(2)
        .map(|w| (i16::from(w[1]) - i16::from(w[0])).rem_euclid(10))
        .collect();
    if steps.iter().all(|&s| s == steps[0]) && matches!(steps[0], 0 | 1 | 9) {
        return Some("is a guessable pattern (one digit repeated, or a run like 1234)");
    }
    if d.len() % 2 == 0 && d.chunks(2).all(|c| c == &d[..2]) {
        return Some("is a guessable pattern (one pair repeated)");
    }
    None
}

/// The dialled character of an RFC 4733 event code (RFC 4733 §3.2: 0-9, `*`, `#`, A-D).
pub fn event_digit(code: u8) -> Option<char> {
    match code {
        0..=9 => char::from_digit(u32::from(code), 10),
        10 => Some('*'),
        11 => Some('#'),
        12..=15 => Some(char::from(b'A' + code - 12)),
        _ => None,
    }
}

/// Seizures in the last hour, bounded by the limit.
#[derive(Debug, Clone, Default)]
pub struct CallRate {
    seizures: VecDeque<Instant>,
}

const HOUR: Duration = Duration::from_secs(3600);

impl CallRate {
    /// Counts a seizure at `now` if fewer than `limit` happened in the hour before it.
    pub fn admit(&mut self, now: Instant, limit: Option<u32>) -> bool {
        let Some(limit) = limit else {
            return true;
        };
        while self
            .seizures
            .front()
            .is_some_and(|&t| now.saturating_duration_since(t) >= HOUR)
        {
            self.seizures.pop_front();
        }
        if self.seizures.len() >= limit as usize {
            return false;
        }
        self.seizures.push_back(now);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pin_compare_needs_every_character_and_the_length() {
        assert!(pin_matches("482916", "482916"));
        for wrong in ["", "48291", "4829160", "482917", "582916"] {
            assert!(!pin_matches(wrong, "482916"), "{wrong}");
        }
    }

    #[test]
    fn weak_pins_are_named() {
        for weak in [
            "",
            "123",
            "4829",
            "12345678901234567",
            "12a456",
            "000000",
            "111111",
            "123456",
            "567890",
            "987654",
            "543210",
            "121212",
            "454545",
        ] {
            assert!(pin_weakness(weak).is_some(), "{weak}");
        }
        for fine in ["482916", "509371", "135791", "2468024680"] {
            assert_eq!(pin_weakness(fine), None, "{fine}");
        }
    }

    #[test]
    fn event_codes_to_digits() {
        assert_eq!(event_digit(0), Some('0'));
        assert_eq!(event_digit(9), Some('9'));
        assert_eq!(event_digit(10), Some('*'));
        assert_eq!(event_digit(11), Some('#'));
        assert_eq!(event_digit(15), Some('D'));
        assert_eq!(event_digit(16), None);
    }

    #[test]
    fn call_rate_is_a_sliding_hour() {
        let t = Instant::now();
        let mut r = CallRate::default();
        assert!(r.admit(t, Some(2)));
        assert!(r.admit(t + Duration::from_secs(10), Some(2)));
        assert!(!r.admit(t + Duration::from_secs(20), Some(2)));
        assert!(!r.admit(t + Duration::from_secs(3599), Some(2)));
        assert!(r.admit(t + Duration::from_secs(3600), Some(2)));
        assert!(r.seizures.len() <= 2);
        assert!(r.admit(t, None));
    }
}
