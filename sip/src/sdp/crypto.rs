//! SDES: SRTP keys in `a=crypto` (RFC 4568), read and written. Only what a G.711 gateway
//! needs is accepted: the AES-CM-128 suites, one `inline` key without MKI, and no
//! session parameter that changes the transform (an attribute with one is not usable,
//! §6.3); the key itself is never shown by `Debug`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use core::fmt;

/// Octets of an AES-CM-128 master key and salt (RFC 4568 §6.2.1: 128 + 112 bits).
pub const SDES_KEY_LEN: usize = 30;

/// The crypto suites accepted (RFC 4568 §6.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CryptoSuite {
    /// `AES_CM_128_HMAC_SHA1_80`.
    AesCm128HmacSha1_80,
    /// `AES_CM_128_HMAC_SHA1_32`.
    AesCm128HmacSha1_32,
}

impl CryptoSuite {
    /// The name in `a=crypto`.
    pub const fn name(self) -> &'static str {
        match self {
            CryptoSuite::AesCm128HmacSha1_80 => "AES_CM_128_HMAC_SHA1_80",
            CryptoSuite::AesCm128HmacSha1_32 => "AES_CM_128_HMAC_SHA1_32",
        }
    }

    fn from_name(s: &str) -> Option<CryptoSuite> {
        [
            CryptoSuite::AesCm128HmacSha1_80,
            CryptoSuite::AesCm128HmacSha1_32,
        ]
        .into_iter()
        .find(|c| c.name() == s)
    }
}

/// A master key and salt as `inline:` carries them. `Debug` shows no octet.
#[derive(Clone, PartialEq, Eq)]
pub struct SdesKey(pub [u8; SDES_KEY_LEN]);

impl fmt::Debug for SdesKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SdesKey(..)")
    }
}

/// One usable `a=crypto` attribute (RFC 4568 §9.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Crypto {
    /// The tag an answer echoes (§6.1: up to 9 digits).
    pub tag: u32,
    /// The suite.
    pub suite: CryptoSuite,
    /// The sender's master key and salt.
    pub key: SdesKey,
}

/// Why an `a=crypto` value is not usable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    /// Not `<tag> <suite> <key-params> [<session-params>]`, or a tag of more than 9 digits.
    #[error("malformed a=crypto")]
    Malformed,
    /// A suite other than the AES-CM-128 ones.
    #[error("unsupported crypto suite")]
    Suite,
    /// Not one `inline:` key of 30 octets: another key method, several keys, an MKI,
    /// bad base64.
    #[error("unusable key parameter")]
    Key,
    /// A session parameter other than `WSH=` (RFC 4568 §6.3: they change the transform).
    #[error("unsupported session parameter")]
    SessionParam,
}

impl Crypto {
    /// Parses the value of an `a=crypto:` line.
    pub fn parse(value: &str) -> Result<Crypto, CryptoError> {
        let mut words = value.split_ascii_whitespace();
        let tag = words.next().ok_or(CryptoError::Malformed)?;
        if tag.is_empty() || tag.len() > 9 || !tag.bytes().all(|b| b.is_ascii_digit()) {
            return Err(CryptoError::Malformed);
        }
        let tag: u32 = tag.parse().map_err(|_| CryptoError::Malformed)?;
        let suite = words.next().ok_or(CryptoError::Malformed)?;
        let suite = CryptoSuite::from_name(suite).ok_or(CryptoError::Suite)?;
        let key = key_param(words.next().ok_or(CryptoError::Malformed)?)?;
        // §6.3.7: a window size hint changes nothing for the receiver; any other
        // parameter (KDR, UNENCRYPTED_*, UNAUTHENTICATED_SRTP, FEC_*) would.
        if words.any(|p| !p.starts_with("WSH=")) {
            return Err(CryptoError::SessionParam);
        }
        Ok(Crypto { tag, suite, key })
    }

    /// The first usable attribute of those named `crypto` in `values` (RFC 4568 §7.1.1:
    /// the offerer's preference order).
    pub fn first_usable<'v>(values: impl IntoIterator<Item = &'v str>) -> Option<Crypto> {
        values.into_iter().find_map(|v| Crypto::parse(v).ok())
    }
}

/// `inline:<key||salt>[|<lifetime>]`: lifetimes are accepted (a call never gets near
/// 2^31 packets), an MKI or a second key is not.
fn key_param(p: &str) -> Result<SdesKey, CryptoError> {
    let info = p.strip_prefix("inline:").ok_or(CryptoError::Key)?;
    if info.contains(';') {
        return Err(CryptoError::Key);
    }
    let mut parts = info.split('|');
    let b64 = parts.next().ok_or(CryptoError::Key)?;
    match (parts.next(), parts.next()) {
        (None, _) => {}
        (Some(l), None) if is_lifetime(l) => {}
        _ => return Err(CryptoError::Key),
    }
    let mut key = [0u8; SDES_KEY_LEN];
    // 30 octets are 40 base64 characters, no padding.
    if b64.len() != 40 {
        return Err(CryptoError::Key);
    }
    match STANDARD.decode_slice(b64, &mut key) {
        Ok(SDES_KEY_LEN) => Ok(SdesKey(key)),
        _ => Err(CryptoError::Key),
    }
}

/// `["2^"] 1*DIGIT` (RFC 4568 §9.2).
fn is_lifetime(l: &str) -> bool {
    let d = l.strip_prefix("2^").unwrap_or(l);
    !d.is_empty() && d.len() <= 20 && d.bytes().all(|b| b.is_ascii_digit())
}

impl fmt::Display for Crypto {
    /// The attribute value: `<tag> <suite> inline:<base64>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut b64 = [0u8; 40];
        let n = STANDARD
            .encode_slice(self.key.0, &mut b64)
            .map_err(|_| fmt::Error)?;
        let b64 = core::str::from_utf8(&b64[..n]).map_err(|_| fmt::Error)?;
        write!(f, "{} {} inline:{b64}", self.tag, self.suite.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 4568 §6.1's example key.
    const EXAMPLE: &str =
        "1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:4";

    #[test]
    fn a_key_goes_out_and_back() {
        let c = Crypto {
            tag: 7,
            suite: CryptoSuite::AesCm128HmacSha1_32,
            key: SdesKey(core::array::from_fn(|i| i as u8 * 7)),
        };
        let text = c.to_string();
        assert!(
            text.starts_with("7 AES_CM_128_HMAC_SHA1_32 inline:"),
            "{text}"
        );
        assert_eq!(Crypto::parse(&text), Ok(c));
    }

    #[test]
    fn lifetimes_and_window_hints_are_accepted_an_mki_is_not() {
        assert_eq!(Crypto::parse(EXAMPLE), Err(CryptoError::Key));
        let no_mki =
            "1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20";
        let c = Crypto::parse(no_mki).unwrap();
        assert_eq!((c.tag, c.suite), (1, CryptoSuite::AesCm128HmacSha1_80));
        assert_eq!(&c.key.0[..3], &[0x3d, 0x2d, 0x6e]);
        assert!(Crypto::parse(&format!("{no_mki} WSH=64")).is_ok());
        assert_eq!(
            Crypto::parse(&format!("{no_mki} UNENCRYPTED_SRTP")),
            Err(CryptoError::SessionParam)
        );
        assert_eq!(
            Crypto::parse(&format!("{no_mki} KDR=1")),
            Err(CryptoError::SessionParam)
        );
    }

    #[test]
    fn what_is_not_usable_is_named() {
        let k = "inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR";
        for (v, e) in [
            ("", CryptoError::Malformed),
            (
                "x AES_CM_128_HMAC_SHA1_80 inline:AA",
                CryptoError::Malformed,
            ),
            (
                "1234567890 AES_CM_128_HMAC_SHA1_80 inline:AA",
                CryptoError::Malformed,
            ),
            ("1 F8_128_HMAC_SHA1_80 inline:AA", CryptoError::Suite),
            ("1 AEAD_AES_256_GCM inline:AA", CryptoError::Suite),
            ("1 AES_CM_128_HMAC_SHA1_80", CryptoError::Malformed),
            ("1 AES_CM_128_HMAC_SHA1_80 inline:short", CryptoError::Key),
            ("1 AES_CM_128_HMAC_SHA1_80 uri:https://x", CryptoError::Key),
        ] {
            assert_eq!(Crypto::parse(v), Err(e), "{v}");
        }
        let two = format!("1 AES_CM_128_HMAC_SHA1_80 {k};{k}");
        assert_eq!(Crypto::parse(&two), Err(CryptoError::Key));
        let bad64 = "1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVB*";
        assert_eq!(Crypto::parse(bad64), Err(CryptoError::Key));
        assert_eq!(
            Crypto::first_usable([
                "1 F8_128_HMAC_SHA1_80 inline:AA",
                &format!("2 AES_CM_128_HMAC_SHA1_32 {k}")
            ])
            .map(|c| c.tag),
            Some(2)
        );
    }

    #[test]
    fn the_key_is_not_shown() {
        let c = Crypto::parse(
            "1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR",
        )
        .unwrap();
        let shown = format!("{c:?}");
        assert!(
            shown.contains("SdesKey(..)") && !shown.contains("61"),
            "{shown}"
        );
    }
}
