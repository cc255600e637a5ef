//! Where identifiers an attacker must not predict come from: tags (RFC 3261 §19.3),
//! branches (§8.1.1.7), Call-IDs (§8.1.1.4), cnonces and nonce keys. By default the
//! operating system's CSPRNG, 64 bits per draw; a fixed seed is a test knob only (the
//! sequence it gives is predictable from one output).

use tipring_rng::SplitMix64;

/// A source of random 64-bit values.
#[derive(Debug, Clone)]
pub enum IdSource {
    /// The operating system's CSPRNG (`getrandom`).
    Os,
    /// A splitmix64 sequence from a seed: reproducible, and predictable by anyone who
    /// sees one output. For tests only.
    Seeded(SplitMix64),
}

impl IdSource {
    /// The OS CSPRNG, or a seeded sequence when `seed` is given (tests).
    pub fn new(seed: Option<u64>) -> Self {
        match seed {
            Some(s) => IdSource::Seeded(SplitMix64::new(s ^ 0x9e37_79b9_7f4a_7c15)),
            None => IdSource::Os,
        }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        match self {
            IdSource::Os => os_u64(),
            IdSource::Seeded(g) => g.next_u64(),
        }
    }

    /// Fills `buf` with random bytes.
    pub fn fill(&mut self, buf: &mut [u8]) {
        match self {
            IdSource::Os => os_fill(buf),
            IdSource::Seeded(_) => {
                for chunk in buf.chunks_mut(8) {
                    let v = self.next_u64().to_le_bytes();
                    chunk.copy_from_slice(&v[..chunk.len()]);
                }
            }
        }
    }

    /// 64 random bits as 16 lowercase hex digits (a tag or a branch suffix).
    pub fn token(&mut self) -> String {
        format!("{:016x}", self.next_u64())
    }

    /// Whether identifiers are predictable (a seed was given).
    pub fn is_seeded(&self) -> bool {
        matches!(self, IdSource::Seeded(_))
    }
}

/// 64 bits from the OS CSPRNG. A system whose CSPRNG fails cannot make safe identifiers
/// at all: that is fatal, not something to paper over with a weaker source.
pub fn os_u64() -> u64 {
    getrandom::u64().expect("the OS random number generator failed")
}

/// Fills `buf` from the OS CSPRNG (fatal on failure, as [`os_u64`]).
pub fn os_fill(buf: &mut [u8]) {
    getrandom::fill(buf).expect("the OS random number generator failed");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_draws_differ() {
        let mut a = IdSource::new(None);
        let mut b = IdSource::new(None);
        let xs: std::collections::HashSet<u64> =
            (0..64).flat_map(|_| [a.next_u64(), b.next_u64()]).collect();
        assert_eq!(xs.len(), 128);
        assert!(!a.is_seeded());
    }

    #[test]
    fn seeded_is_reproducible() {
        let mut a = IdSource::new(Some(7));
        let mut b = IdSource::new(Some(7));
        assert_eq!(a.token(), b.token());
        assert!(a.is_seeded());
        let mut buf = [0u8; 13];
        a.fill(&mut buf);
        let mut buf2 = [0u8; 13];
        b.fill(&mut buf2);
        assert_eq!(buf, buf2);
    }

    #[test]
    fn os_fill_is_not_zero() {
        let mut k = [0u8; 32];
        IdSource::Os.fill(&mut k);
        assert_ne!(k, [0u8; 32]);
    }
}
