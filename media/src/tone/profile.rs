//! Call-progress tone plans per country (frequencies, levels, cadences) and FXS ring
//! cadences. Values follow ITU-T E.180 Supplement 2 and ETSI TR 101 041 as commonly
//! deployed; levels are typical send levels. A custom plan is built from plain values and
//! validated up front ([`ToneSpec::new`], [`CountryProfile::custom`]).

/// Most on/off segments a cadence may have.
pub const MAX_SEGMENTS: usize = 8;
/// Most frequencies summed in one tone.
pub const MAX_FREQS: usize = 2;

/// What is wrong with a tone or profile description.
#[derive(Clone, Copy, Debug, PartialEq, thiserror::Error)]
pub enum ToneError {
    #[error("a tone needs at least one frequency")]
    NoFrequency,
    #[error("{0} frequencies given, at most {MAX_FREQS} are supported")]
    TooManyFrequencies(usize),
    #[error("frequency {0} Hz is outside 50..3400 Hz")]
    FrequencyOutOfRange(f32),
    #[error("level {0} dBm0 is outside -60..0 dBm0")]
    LevelOutOfRange(f32),
    #[error(
        "cadence has {0} segments; it needs an even number (on, off, ...) of at most {MAX_SEGMENTS}"
    )]
    BadSegmentCount(usize),
    #[error("cadence segment {index} is {ms} ms; segments must be 10..=60000 ms")]
    BadSegment { index: usize, ms: u32 },
    #[error("unknown country {0:?} (expected US, UK, DE, FR, IT, AU or JP)")]
    UnknownCountry(CountryCode),
    #[error(
        "unknown tone {0:?} (expected dial, ringback, busy, congestion, callwaiting or confirmation)"
    )]
    UnknownTone(CountryCode),
}

/// Up to 15 ASCII bytes of a name that failed to parse (kept without allocating).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct CountryCode([u8; 15], u8);

impl CountryCode {
    fn new(s: &str) -> Self {
        let mut b = [0u8; 15];
        let n = s.len().min(15);
        b[..n].copy_from_slice(&s.as_bytes()[..n]);
        CountryCode(b, n as u8)
    }
}

impl core::fmt::Debug for CountryCode {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "{:?}",
            String::from_utf8_lossy(&self.0[..usize::from(self.1)])
        )
    }
}

/// An on/off pattern in milliseconds, starting with "on"; empty means continuous.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cadence {
    segments: [u32; MAX_SEGMENTS],
    len: u8,
}

impl Cadence {
    /// A continuous (uninterrupted) signal.
    pub const CONTINUOUS: Cadence = Cadence {
        segments: [0; MAX_SEGMENTS],
        len: 0,
    };

    /// Validates `on, off, on, off, ...` in ms.
    pub fn new(ms: &[u32]) -> Result<Cadence, ToneError> {
        if ms.len() % 2 != 0 || ms.len() > MAX_SEGMENTS {
            return Err(ToneError::BadSegmentCount(ms.len()));
        }
        let mut segments = [0; MAX_SEGMENTS];
        for (index, &v) in ms.iter().enumerate() {
            if !(10..=60_000).contains(&v) {
                return Err(ToneError::BadSegment { index, ms: v });
            }
            segments[index] = v;
        }
        Ok(Cadence {
            segments,
            len: ms.len() as u8,
        })
    }

    /// The segments, alternating on and off, starting with on.
    pub fn segments(&self) -> &[u32] {
        &self.segments[..usize::from(self.len)]
    }

    pub fn is_continuous(&self) -> bool {
        self.len == 0
    }

    /// One period in ms (0 when continuous).
    pub fn period_ms(&self) -> u32 {
        self.segments().iter().sum()
    }
}

/// One call-progress tone: frequencies summed at one level, played with a cadence.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ToneSpec {
    freqs: [f32; MAX_FREQS],
    nfreqs: u8,
    /// Level of each frequency component, dBm0.
    pub level_dbm0: f32,
    pub cadence: Cadence,
}

impl ToneSpec {
    /// Validates a tone: 1..=2 frequencies in 50..3400 Hz, level in -60..0 dBm0, cadence
    /// in ms as for [`Cadence::new`] (empty = continuous).
    pub fn new(freqs: &[f32], level_dbm0: f32, cadence_ms: &[u32]) -> Result<ToneSpec, ToneError> {
        if freqs.is_empty() {
            return Err(ToneError::NoFrequency);
        }
        if freqs.len() > MAX_FREQS {
            return Err(ToneError::TooManyFrequencies(freqs.len()));
        }
        let mut f = [0.0; MAX_FREQS];
        for (i, &hz) in freqs.iter().enumerate() {
            if !(50.0..=3400.0).contains(&hz) {
                return Err(ToneError::FrequencyOutOfRange(hz));
            }
            f[i] = hz;
        }
        if !(-60.0..=0.0).contains(&level_dbm0) {
            return Err(ToneError::LevelOutOfRange(level_dbm0));
        }
        Ok(ToneSpec {
            freqs: f,
            nfreqs: freqs.len() as u8,
            level_dbm0,
            cadence: Cadence::new(cadence_ms)?,
        })
    }

    /// The frequencies in Hz.
    pub fn freqs(&self) -> &[f32] {
        &self.freqs[..usize::from(self.nfreqs)]
    }
}

/// The call-progress tones.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ToneKind {
    Dial,
    Ringback,
    Busy,
    /// Congestion, also called reorder (all trunks busy).
    Congestion,
    CallWaiting,
    /// Confirmation (Telcordia GR-506 §17: a feature code was accepted): the dial tone's
    /// frequencies interrupted 100 ms on, 100 ms off. Played for a while and followed by
    /// steady dial tone it is also the stutter ("recall") dial tone.
    Confirmation,
}

impl ToneKind {
    pub const ALL: [ToneKind; 6] = [
        ToneKind::Dial,
        ToneKind::Ringback,
        ToneKind::Busy,
        ToneKind::Congestion,
        ToneKind::CallWaiting,
        ToneKind::Confirmation,
    ];

    /// Parses `dial`, `ringback`, `busy`, `congestion`/`reorder`, `callwaiting`,
    /// `confirmation`/`stutter`.
    pub fn parse(s: &str) -> Result<ToneKind, ToneError> {
        Ok(
            match s.to_ascii_lowercase().replace(['-', '_'], "").as_str() {
                "dial" => ToneKind::Dial,
                "ringback" | "ring" => ToneKind::Ringback,
                "busy" => ToneKind::Busy,
                "congestion" | "reorder" => ToneKind::Congestion,
                "callwaiting" => ToneKind::CallWaiting,
                "confirmation" | "confirm" | "stutter" => ToneKind::Confirmation,
                _ => return Err(ToneError::UnknownTone(CountryCode::new(s))),
            },
        )
    }
}

/// Countries with a built-in tone plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Country {
    Us,
    Uk,
    De,
    Fr,
    It,
    Au,
    Jp,
}

impl Country {
    pub const ALL: [Country; 7] = [
        Country::Us,
        Country::Uk,
        Country::De,
        Country::Fr,
        Country::It,
        Country::Au,
        Country::Jp,
    ];

    /// Parses an ISO 3166 alpha-2 code (`GB` is accepted for the UK).
    pub fn parse(s: &str) -> Result<Country, ToneError> {
        Ok(match s.to_ascii_uppercase().as_str() {
            "US" => Country::Us,
            "UK" | "GB" => Country::Uk,
            "DE" => Country::De,
            "FR" => Country::Fr,
            "IT" => Country::It,
            "AU" => Country::Au,
            "JP" => Country::Jp,
            _ => return Err(ToneError::UnknownCountry(CountryCode::new(s))),
        })
    }
}

/// A country's tone plan and FXS ring cadence.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CountryProfile {
    pub dial: ToneSpec,
    pub ringback: ToneSpec,
    pub busy: ToneSpec,
    pub congestion: ToneSpec,
    pub call_waiting: ToneSpec,
    /// Derived from `dial` ([`ToneKind::Confirmation`]).
    pub confirmation: ToneSpec,
    /// Ringing voltage cadence on an FXS port.
    pub ring: Cadence,
}

/// A built-in plan's tables (the confirmation tone is derived).
struct Plan {
    dial: ToneSpec,
    ringback: ToneSpec,
    busy: ToneSpec,
    congestion: ToneSpec,
    call_waiting: ToneSpec,
    ring: Cadence,
}

/// On and off of the confirmation tone, ms.
const CONFIRMATION_MS: [u32; 2] = [100, 100];

/// The confirmation tone of a plan whose dial tone is `dial`.
fn confirmation(dial: &ToneSpec) -> ToneSpec {
    ToneSpec {
        cadence: c(&CONFIRMATION_MS),
        ..*dial
    }
}

/// Builds a built-in tone; the tables below are valid by construction (checked in tests).
fn t(freqs: &[f32], level: f32, cadence: &[u32]) -> ToneSpec {
    match ToneSpec::new(freqs, level, cadence) {
        Ok(t) => t,
        Err(e) => panic!("built-in tone table is invalid: {e}"),
    }
}

fn c(ms: &[u32]) -> Cadence {
    match Cadence::new(ms) {
        Ok(c) => c,
        Err(e) => panic!("built-in cadence table is invalid: {e}"),
    }
}

impl CountryProfile {
    /// The built-in plan of `country`.
    pub fn builtin(country: Country) -> CountryProfile {
        let p = match country {
            Country::Us => Plan {
                dial: t(&[350.0, 440.0], -13.0, &[]),
                ringback: t(&[440.0, 480.0], -19.0, &[2000, 4000]),
                busy: t(&[480.0, 620.0], -24.0, &[500, 500]),
                congestion: t(&[480.0, 620.0], -24.0, &[250, 250]),
                call_waiting: t(&[440.0], -13.0, &[300, 9700]),
                ring: c(&[2000, 4000]),
            },
            Country::Uk => Plan {
                dial: t(&[350.0, 440.0], -13.0, &[]),
                ringback: t(&[400.0, 450.0], -19.0, &[400, 200, 400, 2000]),
                busy: t(&[400.0], -19.0, &[375, 375]),
                congestion: t(&[400.0], -19.0, &[400, 350, 225, 525]),
                call_waiting: t(&[400.0], -19.0, &[100, 3000]),
                ring: c(&[400, 200, 400, 2000]),
            },
            Country::De => Plan {
                dial: t(&[425.0], -10.0, &[]),
                ringback: t(&[425.0], -10.0, &[1000, 4000]),
                busy: t(&[425.0], -10.0, &[480, 480]),
                congestion: t(&[425.0], -10.0, &[240, 240]),
                call_waiting: t(&[425.0], -10.0, &[200, 200, 200, 5000]),
                ring: c(&[1000, 4000]),
            },
            Country::Fr => Plan {
                dial: t(&[440.0], -10.0, &[]),
                ringback: t(&[440.0], -10.0, &[1500, 3500]),
                busy: t(&[440.0], -10.0, &[500, 500]),
                congestion: t(&[440.0], -10.0, &[250, 250]),
                call_waiting: t(&[440.0], -10.0, &[300, 10000]),
                ring: c(&[1500, 3500]),
            },
            Country::It => Plan {
                dial: t(&[425.0], -10.0, &[200, 200, 600, 1000]),
                ringback: t(&[425.0], -10.0, &[1000, 4000]),
                busy: t(&[425.0], -10.0, &[500, 500]),
                congestion: t(&[425.0], -10.0, &[200, 200]),
                call_waiting: t(&[425.0], -10.0, &[400, 100, 250, 100, 150, 14000]),
                ring: c(&[1000, 4000]),
            },
            Country::Au => Plan {
                dial: t(&[413.0, 438.0], -13.0, &[]),
                ringback: t(&[413.0, 438.0], -13.0, &[400, 200, 400, 2000]),
                busy: t(&[425.0], -13.0, &[375, 375]),
                congestion: t(&[425.0], -13.0, &[375, 375]),
                call_waiting: t(&[425.0], -13.0, &[200, 100, 200, 4400]),
                ring: c(&[400, 200, 400, 2000]),
            },
            Country::Jp => Plan {
                dial: t(&[400.0], -13.0, &[]),
                ringback: t(&[400.0], -13.0, &[1000, 2000]),
                busy: t(&[400.0], -13.0, &[500, 500]),
                congestion: t(&[400.0], -13.0, &[500, 500]),
                call_waiting: t(&[400.0], -13.0, &[100, 100, 100, 3000]),
                ring: c(&[1000, 2000]),
            },
        };
        CountryProfile {
            dial: p.dial,
            ringback: p.ringback,
            busy: p.busy,
            congestion: p.congestion,
            call_waiting: p.call_waiting,
            confirmation: confirmation(&p.dial),
            ring: p.ring,
        }
    }

    /// A custom plan from validated parts (e.g. read from the configuration file).
    pub fn custom(
        dial: ToneSpec,
        ringback: ToneSpec,
        busy: ToneSpec,
        congestion: ToneSpec,
        call_waiting: ToneSpec,
        ring_ms: &[u32],
    ) -> Result<CountryProfile, ToneError> {
        Ok(CountryProfile {
            dial,
            ringback,
            busy,
            congestion,
            call_waiting,
            confirmation: confirmation(&dial),
            ring: Cadence::new(ring_ms)?,
        })
    }

    /// The tone of `kind`.
    pub fn tone(&self, kind: ToneKind) -> &ToneSpec {
        match kind {
            ToneKind::Dial => &self.dial,
            ToneKind::Ringback => &self.ringback,
            ToneKind::Busy => &self.busy,
            ToneKind::Congestion => &self.congestion,
            ToneKind::CallWaiting => &self.call_waiting,
            ToneKind::Confirmation => &self.confirmation,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_profile_is_valid() {
        for c in Country::ALL {
            let p = CountryProfile::builtin(c);
            for k in ToneKind::ALL {
                let t = p.tone(k);
                assert_eq!(
                    ToneSpec::new(t.freqs(), t.level_dbm0, t.cadence.segments()),
                    Ok(*t)
                );
            }
            assert!(!p.ring.is_continuous());
        }
    }

    #[test]
    fn validation_names_what_is_wrong() {
        assert_eq!(ToneSpec::new(&[], -10.0, &[]), Err(ToneError::NoFrequency));
        assert_eq!(
            ToneSpec::new(&[400.0, 450.0, 500.0], -10.0, &[]),
            Err(ToneError::TooManyFrequencies(3))
        );
        assert_eq!(
            ToneSpec::new(&[5000.0], -10.0, &[]),
            Err(ToneError::FrequencyOutOfRange(5000.0))
        );
        assert_eq!(
            ToneSpec::new(&[425.0], 3.0, &[]),
            Err(ToneError::LevelOutOfRange(3.0))
        );
        assert_eq!(
            ToneSpec::new(&[425.0], -10.0, &[500]),
            Err(ToneError::BadSegmentCount(1))
        );
        assert_eq!(
            ToneSpec::new(&[425.0], -10.0, &[500, 0]),
            Err(ToneError::BadSegment { index: 1, ms: 0 })
        );
        let busy = ToneSpec::new(&[425.0], -10.0, &[300, 300]).unwrap();
        assert_eq!(
            CountryProfile::custom(busy, busy, busy, busy, busy, &[1000]),
            Err(ToneError::BadSegmentCount(1))
        );
        assert!(matches!(
            Country::parse("xx"),
            Err(ToneError::UnknownCountry(_))
        ));
        assert_eq!(Country::parse("gb"), Ok(Country::Uk));
        assert_eq!(ToneKind::parse("reorder"), Ok(ToneKind::Congestion));
    }
}
