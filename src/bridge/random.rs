//! The operating system's CSPRNG (`getrandom`) for what a call's media must not make
//! predictable: the RTP ports chosen at start, and per bridge the SSRC, first sequence
//! number and timestamp (RFC 3550 §5.1: random, so that an off-path host cannot inject
//! packets the far end takes for ours), the RTCP CNAME (RFC 7022 §4.2) and the RTCP
//! interval's randomisation (RFC 3550 §6.3.1).

use std::io;

/// 64 random bits from the OS.
pub fn u64() -> io::Result<u64> {
    getrandom::u64().map_err(|e| io::Error::other(format!("OS random source: {e}")))
}

/// `N` random bytes from the OS.
pub fn bytes<const N: usize>() -> io::Result<[u8; N]> {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).map_err(|e| io::Error::other(format!("OS random source: {e}")))?;
    Ok(b)
}
