//! CRC-16/CCITT-FALSE (a.k.a. CRC-16/IBM-3740 in the Williams/RevEng catalogue):
//! width 16, polynomial 0x1021, init 0xFFFF, no input/output reflection, xorout 0x0000,
//! check value 0x29B1 over the ASCII bytes `123456789`.

/// The generator polynomial x^16 + x^12 + x^5 + 1 (ITU-T V.41).
pub const POLY: u16 = 0x1021;
/// The register's initial value.
pub const INIT: u16 = 0xFFFF;

/// CRC-16/CCITT-FALSE of `data`.
pub fn crc16(data: &[u8]) -> u16 {
    let mut crc = INIT;
    for &b in data {
        crc ^= u16::from(b) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ POLY
            } else {
                crc << 1
            };
        }
    }
    crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_check_value() {
        assert_eq!(crc16(b"123456789"), 0x29B1);
    }

    #[test]
    fn empty_is_init() {
        assert_eq!(crc16(&[]), 0xFFFF);
    }

    #[test]
    fn detects_single_bit_flip() {
        let a = crc16(b"tipring");
        assert_ne!(a, crc16(b"tipsing"));
    }
}
