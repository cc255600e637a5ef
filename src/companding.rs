//! G.711 companding for ALSA buses that carry A-law or µ-law codes (hal's
//! [`Companding`]), from the media crate's tables (ITU-T G.711 §2, §3).

use tipring_hal::audio::alsa::Companding;
use tipring_media::g711::{Law, alaw_decode, alaw_encode, ulaw_decode, ulaw_encode};

/// G.711 with one law.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct G711(pub Law);

impl Companding for G711 {
    fn expand(&self, code: u8) -> i16 {
        match self.0 {
            Law::Ulaw => ulaw_decode(code),
            Law::Alaw => alaw_decode(code),
        }
    }

    fn compress(&self, sample: i16) -> u8 {
        match self.0 {
            Law::Ulaw => ulaw_encode(sample),
            Law::Alaw => alaw_encode(sample),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_survives_expand_then_compress() {
        for law in [Law::Ulaw, Law::Alaw] {
            let g = G711(law);
            for code in 0..=255u8 {
                let back = g.compress(g.expand(code));
                // µ-law has two codes for zero (0x7F and 0xFF); both expand to 0.
                if law == Law::Ulaw && code == 0x7F {
                    assert_eq!(back, 0xFF);
                } else {
                    assert_eq!(back, code, "{law:?} code {code:#04x}");
                }
            }
        }
    }

    #[test]
    fn the_two_laws_differ_and_keep_sign_and_order() {
        let (u, a) = (G711(Law::Ulaw), G711(Law::Alaw));
        assert_ne!(u.compress(1000), a.compress(1000));
        for g in [u, a] {
            let (lo, hi) = (g.expand(g.compress(-8000)), g.expand(g.compress(8000)));
            assert!(lo < -7000 && hi > 7000, "{lo} {hi}");
        }
    }
}
