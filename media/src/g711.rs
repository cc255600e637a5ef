//! G.711 companding: µ-law and A-law, bit-exact with the ITU-T reference
//! (ITU-T G.711 §2-§3 and Tables 1a/2a; the algorithm of the ITU-T G.191 software tools).
//!
//! Linear samples are 16-bit two's complement. The encoders take the one's complement of a
//! negative input before quantising (as the ITU reference does), so `-1` encodes like `0`
//! with the sign bit clear. Decoding uses 256-entry tables built at compile time; encoding
//! finds the segment with a leading-zero count, with no branches per segment.

/// Bias added to the 14-bit µ-law magnitude before segment search (ITU-T G.711 §3).
const ULAW_BIAS: i32 = 33;
/// Largest biased 14-bit µ-law magnitude.
const ULAW_MAX: i32 = 0x1FFF;

/// Encodes one linear sample to µ-law (ITU-T G.711 §3, Table 2a).
#[inline]
pub fn ulaw_encode(x: i16) -> u8 {
    let x = i32::from(x);
    // One's complement for negatives, then 14 bits of magnitude plus the bias.
    let (mag, sign) = if x < 0 {
        ((!x) >> 2, 0x00)
    } else {
        (x >> 2, 0x80)
    };
    let biased = (mag + ULAW_BIAS).min(ULAW_MAX);
    // Segment 1..=8: position of the highest set bit above bit 5.
    let segment = 32 - ((biased as u32) >> 6).leading_zeros() as i32 + 1;
    let mantissa = (biased >> segment) & 0x0F;
    let code = ((8 - segment) << 4) | (0x0F - mantissa);
    (code as u8) | sign
}

/// Decodes one µ-law code to a linear sample (ITU-T G.711 §3, Table 2a).
#[inline]
pub fn ulaw_decode(code: u8) -> i16 {
    ULAW_DECODE[usize::from(code)]
}

/// Encodes one linear sample to A-law (ITU-T G.711 §2, Table 1a), even bits inverted.
#[inline]
pub fn alaw_encode(x: i16) -> u8 {
    let x = i32::from(x);
    let (mut ix, sign) = if x < 0 {
        ((!x) >> 4, 0x00)
    } else {
        (x >> 4, 0x80)
    };
    if ix > 15 {
        // Segment 1..=7: how many halvings bring the 12-bit magnitude under 32.
        let exponent = (31 - (ix as u32).leading_zeros() as i32) - 3;
        ix = ((ix >> (exponent - 1)) - 16) + (exponent << 4);
    }
    ((ix | sign) ^ 0x55) as u8
}

/// Decodes one A-law code to a linear sample (ITU-T G.711 §2, Table 1a).
#[inline]
pub fn alaw_decode(code: u8) -> i16 {
    ALAW_DECODE[usize::from(code)]
}

/// The companding law of a G.711 stream: PCMU (RTP payload type 0) or PCMA (8).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Law {
    /// µ-law, used in North America and Japan; RTP/AVP payload type 0 (PCMU).
    Ulaw,
    /// A-law, used in Europe and most of the world; RTP/AVP payload type 8 (PCMA).
    Alaw,
}

impl Law {
    /// Encodes `pcm` into `out` (the shorter of the two lengths is used).
    pub fn encode(self, pcm: &[i16], out: &mut [u8]) {
        let f = match self {
            Law::Ulaw => ulaw_encode,
            Law::Alaw => alaw_encode,
        };
        for (o, &s) in out.iter_mut().zip(pcm) {
            *o = f(s);
        }
    }

    /// Decodes `codes` into `out` (the shorter of the two lengths is used).
    pub fn decode(self, codes: &[u8], out: &mut [i16]) {
        let table = match self {
            Law::Ulaw => &ULAW_DECODE,
            Law::Alaw => &ALAW_DECODE,
        };
        for (o, &c) in out.iter_mut().zip(codes) {
            *o = table[usize::from(c)];
        }
    }

    /// The code for silence (a linear zero).
    pub const fn silence(self) -> u8 {
        match self {
            Law::Ulaw => 0xFF,
            Law::Alaw => 0xD5,
        }
    }
}

const fn ulaw_expand(code: u8) -> i16 {
    let sign: i32 = if code < 0x80 { -1 } else { 1 };
    let inverted = !code as i32;
    let exponent = (inverted >> 4) & 0x07;
    let mantissa = inverted & 0x0F;
    let step = 4 << (exponent + 1);
    (sign * ((0x80 << exponent) + step * mantissa + step / 2 - 4 * ULAW_BIAS)) as i16
}

const fn alaw_expand(code: u8) -> i16 {
    let ix = ((code ^ 0x55) & 0x7F) as i32;
    let exponent = ix >> 4;
    let mut mantissa = ix & 0x0F;
    if exponent > 0 {
        mantissa += 16;
    }
    mantissa = (mantissa << 4) + 0x08;
    if exponent > 1 {
        mantissa <<= exponent - 1;
    }
    (if code > 127 { mantissa } else { -mantissa }) as i16
}

/// Builds a 256-entry decode table from one of the expanders at compile time.
macro_rules! decode_table {
    ($expand:ident) => {{
        let mut t = [0i16; 256];
        let mut i = 0;
        while i < 256 {
            t[i] = $expand(i as u8);
            i += 1;
        }
        t
    }};
}

static ULAW_DECODE: [i16; 256] = decode_table!(ulaw_expand);
static ALAW_DECODE: [i16; 256] = decode_table!(alaw_expand);

#[cfg(test)]
mod tests {
    use super::*;

    /// Width of the quantisation interval of a code, in 16-bit linear units, read from the
    /// segment tables of G.711 (Table 1a: A-law segments 0 and 1 share the smallest step;
    /// Table 2a: each µ-law segment doubles the step).
    fn step(law: Law, code: u8) -> i32 {
        match law {
            Law::Ulaw => 8 << ((!code >> 4) & 0x07),
            Law::Alaw => match ((code ^ 0x55) & 0x7F) >> 4 {
                0 | 1 => 16,
                e => 16 << (e - 1),
            },
        }
    }

    /// Checks that `x` lies in the decision interval of `code`: the decoded value is the
    /// interval's midpoint, so the interval is `[v - step/2, v + step/2)` on the one's
    /// complement magnitude, and the top interval extends to full scale (clipping).
    fn assert_in_interval(law: Law, x: i16, code: u8, top: u8) {
        let mut v = [0i16; 1];
        law.decode(&[code], &mut v);
        let v = i32::from(v[0]).abs();
        let mag = if x < 0 { !i32::from(x) } else { i32::from(x) };
        let half = step(law, code) / 2;
        let clipped = code & 0x7F == top & 0x7F;
        assert!(
            mag >= v - half && (mag < v + half || clipped),
            "{law:?} input {x} -> {code:#04x} decodes to {v}, step {}",
            2 * half
        );
        assert_eq!(x >= 0, code & 0x80 != 0, "{law:?} sign of {x}");
    }

    #[test]
    fn table_endpoints_match_g711() {
        // Table 2a: µ-law codes 0x80/0x00 are the largest magnitudes, 0xFF/0x7F are zero.
        assert_eq!(ulaw_decode(0x80), 32124);
        assert_eq!(ulaw_decode(0x00), -32124);
        assert_eq!(ulaw_decode(0xFF), 0);
        assert_eq!(ulaw_decode(0x7F), 0);
        assert_eq!(ulaw_decode(0xFE), 8);
        // Table 1a: A-law 0xD5/0x55 are the smallest magnitudes, 0xAA/0x2A the largest.
        assert_eq!(alaw_decode(0xD5), 8);
        assert_eq!(alaw_decode(0x55), -8);
        assert_eq!(alaw_decode(0xAA), 32256);
        assert_eq!(alaw_decode(0x2A), -32256);
    }

    #[test]
    fn every_code_round_trips() {
        for c in 0..=255u8 {
            let a = alaw_encode(alaw_decode(c));
            assert_eq!(a, c, "A-law code {c:#04x}");
            let u = ulaw_encode(ulaw_decode(c));
            // µ-law has two zeros; negative zero (0x7F) decodes to 0 and re-encodes as 0xFF.
            let want = if c == 0x7F { 0xFF } else { c };
            assert_eq!(u, want, "µ-law code {c:#04x}");
        }
    }

    #[test]
    fn every_input_lands_in_its_decision_interval() {
        for x in i16::MIN..=i16::MAX {
            assert_in_interval(Law::Ulaw, x, ulaw_encode(x), 0x80);
            assert_in_interval(Law::Alaw, x, alaw_encode(x), 0xAA);
        }
    }

    #[test]
    fn encoders_are_monotonic() {
        let mut prev_u = i32::from(ulaw_decode(ulaw_encode(i16::MIN)));
        let mut prev_a = i32::from(alaw_decode(alaw_encode(i16::MIN)));
        for x in i16::MIN..=i16::MAX {
            let u = i32::from(ulaw_decode(ulaw_encode(x)));
            let a = i32::from(alaw_decode(alaw_encode(x)));
            assert!(u >= prev_u && a >= prev_a, "not monotonic at {x}");
            prev_u = u;
            prev_a = a;
        }
    }

    #[test]
    fn slice_codecs_agree_with_scalar() {
        let pcm: Vec<i16> = (0..160).map(|i| (i * 397 - 30000) as i16).collect();
        for law in [Law::Ulaw, Law::Alaw] {
            let mut enc = [0u8; 160];
            let mut dec = [0i16; 160];
            law.encode(&pcm, &mut enc);
            law.decode(&enc, &mut dec);
            for i in 0..160 {
                let (e, d) = match law {
                    Law::Ulaw => (ulaw_encode(pcm[i]), ulaw_decode(enc[i])),
                    Law::Alaw => (alaw_encode(pcm[i]), alaw_decode(enc[i])),
                };
                assert_eq!((enc[i], dec[i]), (e, d));
            }
            let mut s = [0i16; 1];
            law.decode(&[law.silence()], &mut s);
            assert_eq!(s[0].abs(), if law == Law::Ulaw { 0 } else { 8 });
        }
    }
}
