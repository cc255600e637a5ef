//! The one deterministic generator of the tipring crates: SplitMix64 (Steele, Lea and
//! Flood, "Fast splittable pseudorandom number generators", OOPSLA 2014). Small, fast
//! and reproducible from a seed; **not** unpredictable: anyone who sees one output can
//! compute the rest. The caller seeds it from the OS CSPRNG where values must be random
//! (RTP SSRC, sequence number and timestamp, RFC 3550 §5.1 and §8.1) and from a constant
//! in tests; identifiers an attacker must not guess come from the CSPRNG itself
//! (`tipring_sip::random`).

#![no_std]

/// The increment of each step: 2^64 / φ, odd.
const GOLDEN: u64 = 0x9e37_79b9_7f4a_7c15;

/// A SplitMix64 sequence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator from `seed`.
    pub const fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(GOLDEN);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A uniform value in `[0, 1)`.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reference_sequence() {
        // The first outputs of the reference implementation seeded with 0.
        let mut g = SplitMix64::new(0);
        assert_eq!(g.next_u64(), 0xe220_a839_7b1d_cdaf);
        assert_eq!(g.next_u64(), 0x6e78_9e6a_a1b9_65f4);
        assert_eq!(g.next_u64(), 0x06c4_5d18_8009_454f);
    }

    #[test]
    fn unit_values_stay_below_one() {
        let mut g = SplitMix64::new(7);
        assert!(
            (0..10_000)
                .map(|_| g.next_f64())
                .all(|x| (0.0..1.0).contains(&x))
        );
    }
}
