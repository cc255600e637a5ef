//! An estimate of a G.711 call's listening quality from its RTP figures: the ITU-T G.107
//! E-model's transmission rating R, reduced to what a gateway measures (packet loss and
//! delay; every other input at the Recommendation's default values), and the mean opinion
//! score that R maps to (G.107 Annex B, equation B-4).
//!
//! With the defaults (G.107 Table 2), `Ro - Is = 93.2`; G.711 has `Ie = 0`, and with
//! packet loss concealment `Bpl = 25.1` (G.113 Appendix I); random loss (`BurstR = 1`).
//! The delay impairment is `Idd` of G.107 §7.4 (one-way absolute delay `Ta` above
//! 100 ms); echo (`Idte`) is taken as cancelled.

/// G.107 Table 2 defaults: `Ro - Is`.
const R_DEFAULT: f64 = 93.2;
/// G.711's equipment impairment (G.113 Appendix I).
const IE_G711: f64 = 0.0;
/// G.711 with concealment: packet-loss robustness (G.113 Appendix I, Table I.3).
const BPL_G711_PLC: f64 = 25.1;

/// What the estimate is made of.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Quality {
    /// Packets lost, percent of those expected (0..=100).
    pub loss_percent: f64,
    /// One-way absolute delay `Ta`, milliseconds (packetisation, jitter buffer, network).
    pub delay_ms: f64,
}

impl Quality {
    /// The figures of one call's receive side: `lost` of `received + lost` packets;
    /// `delay_ms` as estimated by the caller.
    pub fn from_counts(received: u64, lost: u64, delay_ms: f64) -> Quality {
        let expected = received.saturating_add(lost);
        let loss_percent = if expected == 0 {
            0.0
        } else {
            100.0 * lost as f64 / expected as f64
        };
        Quality {
            loss_percent,
            delay_ms,
        }
    }

    /// The transmission rating R (G.107 equation 7-1 with the defaults above).
    pub fn r_factor(&self) -> f64 {
        let ppl = self.loss_percent.clamp(0.0, 100.0);
        // G.107 §7.6, equation 7-29, BurstR = 1.
        let ie_eff = IE_G711 + (95.0 - IE_G711) * ppl / (ppl + BPL_G711_PLC);
        (R_DEFAULT - idd(self.delay_ms) - ie_eff).clamp(0.0, 100.0)
    }

    /// The estimated mean opinion score, 1.0 ..= 4.5 (G.107 Annex B, equation B-4).
    pub fn mos(&self) -> f64 {
        mos_of(self.r_factor())
    }
}

/// G.107 §7.4 `Idd`: the impairment of a one-way delay of `ta_ms`.
fn idd(ta_ms: f64) -> f64 {
    // NaN too: no figure, no impairment.
    if ta_ms.is_nan() || ta_ms <= 100.0 {
        return 0.0;
    }
    let x = (ta_ms / 100.0).log2();
    let sixth = |v: f64| v.powi(6);
    25.0 * ((1.0 + sixth(x)).powf(1.0 / 6.0) - 3.0 * (1.0 + sixth(x / 3.0)).powf(1.0 / 6.0) + 2.0)
}

/// G.107 Annex B, equation B-4.
pub fn mos_of(r: f64) -> f64 {
    if r <= 0.0 {
        1.0
    } else if r >= 100.0 {
        4.5
    } else {
        1.0 + 0.035 * r + r * (r - 60.0) * (100.0 - r) * 7.0e-6
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 0.005
    }

    #[test]
    fn a_clean_short_call_scores_what_g107_gives_the_defaults() {
        let q = Quality::from_counts(1000, 0, 60.0);
        assert!(close(q.r_factor(), 93.2));
        // B-4 at R = 93.2: 1 + 3.262 + 93.2 * 33.2 * 6.8 * 7e-6 = 4.4093.
        assert!(close(q.mos(), 4.409), "{}", q.mos());
    }

    #[test]
    fn loss_lowers_the_score_as_ie_eff_says() {
        // 1 % random loss: Ie,eff = 95 * 1 / 26.1 = 3.640; R = 89.560.
        let q = Quality::from_counts(99, 1, 60.0);
        assert!(close(q.r_factor(), 89.560), "{}", q.r_factor());
        // 5 %: Ie,eff = 95 * 5 / 30.1 = 15.781; R = 77.419; MOS 1 + 2.7097 + 0.2132.
        let q = Quality::from_counts(95, 5, 60.0);
        assert!(close(q.r_factor(), 77.419), "{}", q.r_factor());
        assert!(close(q.mos(), 3.923), "{}", q.mos());
    }

    #[test]
    fn delay_only_counts_above_100_ms() {
        assert_eq!(idd(100.0), 0.0);
        assert_eq!(idd(f64::NAN), 0.0);
        // Ta = 200 ms: X = 1; 25 * (2^(1/6) - 3 * (1 + 1/729)^(1/6) + 2) = 3.0444.
        assert!(close(idd(200.0), 3.0444), "{}", idd(200.0));
        // Ta = 400 ms: X = 2; 25 * (65^(1/6) - 3 * (1 + 64/729)^(1/6) + 2) = 24.070.
        assert!(close(idd(400.0), 24.070), "{}", idd(400.0));
    }

    #[test]
    fn the_score_is_bounded() {
        assert_eq!(mos_of(-3.0), 1.0);
        assert_eq!(mos_of(120.0), 4.5);
        let q = Quality::from_counts(0, 500, 900.0);
        assert!(q.mos() >= 1.0 && q.mos() < 1.5, "{}", q.mos());
        assert_eq!(Quality::from_counts(0, 0, 0.0).loss_percent, 0.0);
    }
}
