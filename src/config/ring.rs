//! Distinctive ringing: which ring cadence an incoming call's `Alert-Info` (RFC 3261
//! §20.4; RFC 7462 `urn:alert:` URNs) selects on an FXS port. The Bellcore patterns (Telcordia
//! GR-506-CORE distinctive ringing, named `dr1`..`dr4` as `Alert-Info:
//! <http://…/Bellcore-dr2>` or `info=Bellcore-dr2` name them) are built in; a port's
//! `alert_info_rings` adds or overrides tokens. A token only ever picks one of these
//! cadences: an `Alert-Info` URL is never fetched, and no token answers a call.

use std::collections::BTreeMap;
use tipring_hal::model::{MAX_RING_STEPS, RingCadence, RingStep};

/// The Bellcore distinctive ringing patterns, on/off in ms (GR-506-CORE): `dr1` the
/// standard ring, `dr2` two long, `dr3` short-short-long, `dr4` short-long-short.
pub const BELLCORE: [(&str, &[u16]); 4] = [
    ("dr1", &[2000, 4000]),
    ("dr2", &[800, 400, 800, 4000]),
    ("dr3", &[400, 200, 400, 200, 800, 4000]),
    ("dr4", &[300, 200, 1000, 200, 300, 4000]),
];

/// The tokens every FXS port knows (lower case): the Bellcore names, and RFC 7462's
/// internal-caller URN on the second pattern.
pub const DEFAULT_TOKENS: [(&str, &str); 5] = [
    ("bellcore-dr1", "dr1"),
    ("bellcore-dr2", "dr2"),
    ("bellcore-dr3", "dr3"),
    ("bellcore-dr4", "dr4"),
    ("urn:alert:source:internal", "dr2"),
];

/// Shortest and longest ring burst or pause a cadence may have, ms.
pub const STEP_MS: std::ops::RangeInclusive<u16> = 100..=10_000;

/// A cadence as written in `alert_info_rings`: a Bellcore name, or `on,off[,on,off…]` in
/// ms; the error says what is wrong.
pub fn parse_cadence(text: &str) -> Result<Vec<u16>, String> {
    let t = text.trim();
    if let Some((_, ms)) = BELLCORE.iter().find(|(n, _)| n.eq_ignore_ascii_case(t)) {
        return Ok(ms.to_vec());
    }
    let ms: Vec<u16> = t
        .split(',')
        .map(|v| v.trim().parse::<u16>())
        .collect::<Result<_, _>>()
        .map_err(|_| format!("\"{text}\" is neither dr1..dr4 nor on,off,… in milliseconds"))?;
    if ms.len() % 2 != 0 || ms.is_empty() || ms.len() > 2 * MAX_RING_STEPS {
        return Err(format!(
            "\"{text}\": an even number of on/off times, at most {}",
            2 * MAX_RING_STEPS
        ));
    }
    if let Some(bad) = ms.iter().find(|v| !STEP_MS.contains(v)) {
        return Err(format!(
            "\"{text}\": {bad} ms is outside {}..={} ms",
            STEP_MS.start(),
            STEP_MS.end()
        ));
    }
    Ok(ms)
}

/// One port's distinctive rings: token (lower case) → cadence.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DistinctiveRings(BTreeMap<String, RingCadence>);

impl DistinctiveRings {
    /// The built-in tokens and then the port's own (a validated table: entries that do not
    /// parse are skipped), each rung at `frequency_hz`.
    pub fn new(own: Option<&BTreeMap<String, String>>, frequency_hz: u8) -> DistinctiveRings {
        let cadence = |ms: &[u16]| RingCadence {
            frequency_hz,
            steps: ms
                .chunks(2)
                .map(|p| RingStep {
                    on_ms: p[0],
                    off_ms: p[1],
                })
                .collect(),
        };
        let mut map = BTreeMap::new();
        let own = own.into_iter().flatten();
        for (token, text) in DEFAULT_TOKENS
            .iter()
            .map(|(t, c)| (t.to_string(), c.to_string()))
            .chain(own.map(|(t, c)| (t.to_ascii_lowercase(), c.clone())))
        {
            if let Ok(ms) = parse_cadence(&text) {
                map.insert(token, cadence(&ms));
            }
        }
        DistinctiveRings(map)
    }

    /// The cadence of the first of `tokens` (lower case, in the order the INVITE gave
    /// them) that this port knows.
    pub fn pick(&self, tokens: &[String]) -> Option<RingCadence> {
        tokens.iter().find_map(|t| self.0.get(t)).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cadences_parse_by_name_or_times_and_bad_ones_are_named() {
        assert_eq!(
            parse_cadence("dr3").unwrap(),
            [400, 200, 400, 200, 800, 4000]
        );
        assert_eq!(parse_cadence("DR2").unwrap(), [800, 400, 800, 4000]);
        assert_eq!(parse_cadence("1000, 3000").unwrap(), [1000, 3000]);
        for bad in ["", "dr9", "1000", "50,4000", "1000,20000", "a,b"] {
            assert!(parse_cadence(bad).is_err(), "{bad}");
        }
        let too_many = vec!["500"; 2 * MAX_RING_STEPS + 2].join(",");
        assert!(parse_cadence(&too_many).is_err());
    }

    #[test]
    fn built_in_tokens_and_a_ports_own_pick_cadences() {
        let own = BTreeMap::from([
            (
                "urn:alert:source:external".to_string(),
                "1200,4800".to_string(),
            ),
            ("Bellcore-dr2".to_string(), "dr4".to_string()),
        ]);
        let r = DistinctiveRings::new(Some(&own), 25);
        let pick = |t: &[&str]| {
            r.pick(&t.iter().map(|s| s.to_string()).collect::<Vec<_>>())
                .map(|c| {
                    c.steps
                        .iter()
                        .map(|s| (s.on_ms, s.off_ms))
                        .collect::<Vec<_>>()
                })
        };
        assert_eq!(
            pick(&["bellcore-dr3"]),
            Some(vec![(400, 200), (400, 200), (800, 4000)])
        );
        // The port's table overrides a built-in token.
        assert_eq!(
            pick(&["bellcore-dr2"]),
            Some(vec![(300, 200), (1000, 200), (300, 4000)])
        );
        assert_eq!(
            pick(&["urn:alert:source:external"]),
            Some(vec![(1200, 4800)])
        );
        assert_eq!(
            pick(&["urn:alert:source:internal"]),
            Some(vec![(800, 400), (800, 4000)])
        );
        // The first known token wins; unknown ones are passed over.
        assert_eq!(pick(&["x", "bellcore-dr1"]), Some(vec![(2000, 4000)]));
        assert_eq!(pick(&["alert-autoanswer"]), None);
        assert_eq!(r.pick(&["bellcore-dr1".into()]).unwrap().frequency_hz, 25);
    }
}
