//! Consistent Overhead Byte Stuffing (Cheshire & Baker, IEEE/ACM ToN 7(2), 1999):
//! removes every 0x00 from a block so 0x00 can delimit frames on the serial line.
//! Each code byte `n` (1..=255) is followed by `n-1` data bytes; a code below 0xFF
//! stands for those bytes followed by a zero, except at the very end of the block.

/// Why COBS decoding failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CobsError {
    /// A 0x00 byte appeared inside the encoded block, at this offset.
    #[error("zero byte inside COBS block at offset {0}")]
    ZeroInBlock(usize),
    /// A code byte at this offset announces more bytes than remain.
    #[error("COBS code at offset {0} runs past the end of the block")]
    Truncated(usize),
    /// The output buffer is too small.
    #[error("COBS output buffer too small")]
    Overflow,
}

/// Worst-case encoded length of `n` bytes (without the 0x00 delimiter).
pub const fn max_encoded_len(n: usize) -> usize {
    n + n / 254 + 1
}

/// Encodes `src` into `dst`; returns the encoded length (no delimiter is written).
pub fn encode(src: &[u8], dst: &mut [u8]) -> Result<usize, CobsError> {
    let mut code_at = 0;
    let mut out = 1;
    let mut code: u8 = 1;
    if dst.is_empty() {
        return Err(CobsError::Overflow);
    }
    for &b in src {
        if b == 0 {
            dst[code_at] = code;
            code_at = out;
            out += 1;
            code = 1;
        } else {
            *dst.get_mut(out).ok_or(CobsError::Overflow)? = b;
            out += 1;
            code += 1;
            if code == 0xFF {
                dst[code_at] = code;
                code_at = out;
                out += 1;
                code = 1;
            }
        }
        if code_at >= dst.len() {
            return Err(CobsError::Overflow);
        }
    }
    dst[code_at] = code;
    Ok(out)
}

/// Decodes the block `src` (without its delimiter) into `dst`; returns the decoded length.
pub fn decode(src: &[u8], dst: &mut [u8]) -> Result<usize, CobsError> {
    let mut i = 0;
    let mut out = 0;
    while i < src.len() {
        let code = src[i];
        if code == 0 {
            return Err(CobsError::ZeroInBlock(i));
        }
        let end = i + usize::from(code);
        if end > src.len() {
            return Err(CobsError::Truncated(i));
        }
        for (k, &b) in src[i + 1..end].iter().enumerate() {
            if b == 0 {
                return Err(CobsError::ZeroInBlock(i + 1 + k));
            }
            *dst.get_mut(out).ok_or(CobsError::Overflow)? = b;
            out += 1;
        }
        i = end;
        if code != 0xFF && i < src.len() {
            *dst.get_mut(out).ok_or(CobsError::Overflow)? = 0;
            out += 1;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(src: &[u8]) -> heapless::Vec<u8, 600> {
        let mut buf = [0u8; 600];
        let n = encode(src, &mut buf).unwrap();
        heapless::Vec::from_slice(&buf[..n]).unwrap()
    }

    #[test]
    fn paper_examples() {
        assert_eq!(&enc(&[0x00])[..], &[0x01, 0x01]);
        assert_eq!(&enc(&[0x00, 0x00])[..], &[0x01, 0x01, 0x01]);
        assert_eq!(
            &enc(&[0x11, 0x22, 0x00, 0x33])[..],
            &[0x03, 0x11, 0x22, 0x02, 0x33]
        );
        assert_eq!(
            &enc(&[0x11, 0x00, 0x00, 0x00])[..],
            &[0x02, 0x11, 0x01, 0x01, 0x01]
        );
        assert_eq!(&enc(&[])[..], &[0x01]);
    }

    #[test]
    fn long_run_without_zero_gets_ff_code() {
        let src: heapless::Vec<u8, 300> = (1..=254u8).collect();
        let e = enc(&src);
        assert_eq!(e[0], 0xFF);
        assert_eq!(e.len(), 256);
        let mut back = [0u8; 300];
        let n = decode(&e, &mut back).unwrap();
        assert_eq!(&back[..n], &src[..]);
    }

    #[test]
    fn round_trip_with_zeros() {
        let src = [0u8, 1, 0, 0, 2, 3, 0];
        let e = enc(&src);
        assert!(!e.contains(&0));
        let mut back = [0u8; 16];
        let n = decode(&e, &mut back).unwrap();
        assert_eq!(&back[..n], &src);
    }

    #[test]
    fn truncated_block_is_an_error() {
        let mut out = [0u8; 16];
        assert_eq!(
            decode(&[0x05, 1, 2], &mut out),
            Err(CobsError::Truncated(0))
        );
        assert_eq!(decode(&[0x02, 0], &mut out), Err(CobsError::ZeroInBlock(1)));
    }

    #[test]
    fn small_output_is_overflow_not_panic() {
        let mut out = [0u8; 2];
        assert_eq!(encode(&[1, 2, 3], &mut out), Err(CobsError::Overflow));
        assert_eq!(decode(&[0x04, 1, 2, 3], &mut out), Err(CobsError::Overflow));
    }
}
