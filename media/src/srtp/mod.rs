//! SRTP and SRTCP (RFC 3711) for one call: what we send protected with our master key,
//! what the far end sends authenticated and decrypted with its key (keys exchanged by
//! SDES, RFC 4568). The transforms are webrtc-srtp's; this module bounds what a stranger
//! sending packets can make the gateway keep or compute: one cryptographic context per
//! far SSRC, created only for a packet that authenticates, and at most [`RX_STREAMS`].

use core::fmt;
use webrtc_srtp::context::Context;
use webrtc_srtp::option::{srtcp_replay_protection, srtp_replay_protection};
use webrtc_srtp::protection_profile::ProtectionProfile;

/// Master key and master salt of the AES-CM-128 suites, concatenated as SDES carries
/// them (RFC 4568 §6.1: 16 + 14 octets).
pub const MASTER_LEN: usize = 30;
const KEY_LEN: usize = 16;

/// Far SSRCs whose contexts are held at once (a far end changing its SSRC, a forked early
/// media, a re-INVITE to another device); the least recently used one goes first.
pub const RX_STREAMS: usize = 4;

/// Replay window in packets (RFC 3711 §3.3.2: at least 64).
const REPLAY_WINDOW: usize = 128;

/// Fixed SRTP header of RTP (RFC 3550 §5.1) and SRTCP (RFC 3711 §3.4: header, sender
/// SSRC, then E flag and index after the encrypted part).
const RTP_HEADER: usize = 12;
const SRTCP_HEADER: usize = 8;
const SRTCP_INDEX: usize = 4;
const SRTCP_TAG: usize = 10;

/// The crypto suites of RFC 4568 §6.2 the gateway speaks: AES in counter mode with a
/// 128-bit key, HMAC-SHA1 authentication with an 80- or 32-bit RTP tag (SRTCP's is 80
/// bits with both).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Suite {
    /// `AES_CM_128_HMAC_SHA1_80`, the default of RFC 3711 §5.
    AesCm128HmacSha1_80,
    /// `AES_CM_128_HMAC_SHA1_32`.
    AesCm128HmacSha1_32,
}

impl Suite {
    /// Its name in `a=crypto` (RFC 4568 §6.2).
    pub const fn name(self) -> &'static str {
        match self {
            Suite::AesCm128HmacSha1_80 => "AES_CM_128_HMAC_SHA1_80",
            Suite::AesCm128HmacSha1_32 => "AES_CM_128_HMAC_SHA1_32",
        }
    }

    /// The suite called `name` (case-sensitive, as RFC 4568 §9.2's grammar is).
    pub fn from_name(name: &str) -> Option<Suite> {
        [Suite::AesCm128HmacSha1_80, Suite::AesCm128HmacSha1_32]
            .into_iter()
            .find(|s| s.name() == name)
    }

    /// Octets of the authentication tag appended to an RTP packet.
    pub const fn rtp_tag_len(self) -> usize {
        match self {
            Suite::AesCm128HmacSha1_80 => 10,
            Suite::AesCm128HmacSha1_32 => 4,
        }
    }

    fn profile(self) -> ProtectionProfile {
        match self {
            Suite::AesCm128HmacSha1_80 => ProtectionProfile::Aes128CmHmacSha1_80,
            Suite::AesCm128HmacSha1_32 => ProtectionProfile::Aes128CmHmacSha1_32,
        }
    }
}

impl fmt::Display for Suite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A master key and salt. Never shown: `Debug` prints no octet. `Copy`, as the rest of a
/// call's media parameters are that travel with it from the SIP side to the bridge.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct MasterKey([u8; MASTER_LEN]);

impl MasterKey {
    /// The key and salt in SDES order (key first).
    pub fn new(bytes: [u8; MASTER_LEN]) -> MasterKey {
        MasterKey(bytes)
    }

    /// The key and salt.
    pub fn as_bytes(&self) -> &[u8; MASTER_LEN] {
        &self.0
    }

    fn context(&self, suite: Suite) -> Result<Context, SrtpError> {
        Context::new(
            &self.0[..KEY_LEN],
            &self.0[KEY_LEN..],
            suite.profile(),
            Some(srtp_replay_protection(REPLAY_WINDOW)),
            Some(srtcp_replay_protection(REPLAY_WINDOW)),
        )
        .map_err(|_| SrtpError::Key)
    }
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey(..)")
    }
}

/// The keys of one call's SRTP, as SDES negotiated them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SrtpParams {
    /// The suite both sides use.
    pub suite: Suite,
    /// Ours: what we send is protected with it.
    pub ours: MasterKey,
    /// The far end's: what it sends is checked and decrypted with it.
    pub theirs: MasterKey,
}

/// Why a packet was not protected or not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SrtpError {
    /// A key the transforms refuse (never for [`MasterKey`]'s length).
    #[error("SRTP key refused")]
    Key,
    /// Shorter than an SRTP or SRTCP header with its tag.
    #[error("too short for SRTP")]
    TooShort,
    /// An RTP header whose CSRC list or header extension (RFC 3550 §5.3.1, RFC 8285) does
    /// not fit the packet.
    #[error("malformed RTP header")]
    Malformed,
    /// The authentication tag does not verify (RFC 3711 §3.3 step 5): forged, damaged,
    /// or under another key.
    #[error("SRTP authentication failed")]
    Unauthenticated,
    /// Seen before, or older than the replay window (RFC 3711 §3.3.2).
    #[error("SRTP replay")]
    Replayed,
    /// The protected packet would not fit the buffer.
    #[error("protected packet too long")]
    TooLong,
    /// The transform refused the packet (a malformed header, the packet index exhausted).
    #[error("SRTP transform refused the packet")]
    Refused,
}

impl From<webrtc_srtp::Error> for SrtpError {
    fn from(e: webrtc_srtp::Error) -> SrtpError {
        use webrtc_srtp::Error as E;
        match e {
            E::RtpFailedToVerifyAuthTag
            | E::RtcpFailedToVerifyAuthTag
            | E::ErrFailedToVerifyAuthTag => SrtpError::Unauthenticated,
            E::SrtpSsrcDuplicated(..) | E::SrtcpSsrcDuplicated(..) | E::ErrDuplicated => {
                SrtpError::Replayed
            }
            E::ErrTooShortRtp | E::ErrTooShortRtcp | E::SrtpTooSmall(..) => SrtpError::TooShort,
            _ => SrtpError::Refused,
        }
    }
}

/// RFC 5761 §4: packet types 192-223 in the second octet are RTCP.
pub fn is_rtcp(d: &[u8]) -> bool {
    d.len() >= 2 && (192..=223).contains(&d[1])
}

/// Whether the RTP header of `d` (CSRCs, the header extension and, for the RFC 8285
/// profiles, each extension element) lies within the packet before its `tag` octets.
/// webrtc-srtp's header parser (the `rtp` crate) reads extension elements past the
/// extension and past the packet, and panics there: such a packet must never reach it.
fn rtp_header_fits(d: &[u8], tag: usize) -> bool {
    let Some(end) = d.len().checked_sub(tag) else {
        return false;
    };
    let mut at = RTP_HEADER + 4 * usize::from(d[0] & 0x0f);
    if d[0] & 0x10 == 0 {
        return at <= end;
    }
    let Some(h) = d.get(at..at + 4).filter(|_| at + 4 <= end) else {
        return false;
    };
    let profile = u16::from_be_bytes([h[0], h[1]]);
    let ext_end = at + 4 + 4 * usize::from(u16::from_be_bytes([h[2], h[3]]));
    at += 4;
    if ext_end > end {
        return false;
    }
    match profile {
        // One-byte elements: ID and length - 1 in one octet, 0 is padding, ID 15 stops.
        0xBEDE => {
            while at < ext_end {
                let b = d[at];
                at += 1;
                if b == 0 {
                    continue;
                }
                if b >> 4 == 0x0f {
                    break;
                }
                at += usize::from(b & 0x0f) + 1;
                if at > ext_end {
                    return false;
                }
            }
            true
        }
        // Two-byte elements: ID octet (0 is padding), length octet.
        0x1000 => {
            while at < ext_end {
                let b = d[at];
                at += 1;
                if b == 0 {
                    continue;
                }
                let Some(&len) = d.get(at).filter(|_| at < ext_end) else {
                    return false;
                };
                at += 1 + usize::from(len);
                if at > ext_end {
                    return false;
                }
            }
            true
        }
        _ => true,
    }
}

/// One call's SRTP state: our sending context, the far end's streams.
pub struct Srtp {
    suite: Suite,
    tx: Context,
    ours: MasterKey,
    theirs: MasterKey,
    /// Far SSRCs with a packet authenticated, least recently used first.
    rx: Vec<(u32, Context)>,
}

impl fmt::Debug for Srtp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Srtp")
            .field("suite", &self.suite)
            .field("far_streams", &self.rx.len())
            .finish()
    }
}

impl Srtp {
    /// The contexts of `p`.
    pub fn new(p: &SrtpParams) -> Result<Srtp, SrtpError> {
        Ok(Srtp {
            suite: p.suite,
            tx: p.ours.context(p.suite)?,
            ours: p.ours,
            theirs: p.theirs,
            rx: Vec::with_capacity(RX_STREAMS),
        })
    }

    /// Takes the keys of a new negotiation (a re-INVITE or UPDATE): `true` when done in
    /// place, `false` when our key or the suite changed and a new state is needed. Our
    /// sending context is kept, so its rollover counter goes on and no packet index is
    /// ever used twice under our key (RFC 3711 §9.1); a new far key drops the far
    /// streams (they authenticate again under it), the same one keeps their replay
    /// windows.
    pub fn rekey(&mut self, p: &SrtpParams) -> bool {
        if p.suite != self.suite || p.ours != self.ours {
            return false;
        }
        if p.theirs != self.theirs {
            self.theirs = p.theirs;
            self.rx.clear();
        }
        true
    }

    /// The suite in use.
    pub fn suite(&self) -> Suite {
        self.suite
    }

    /// Far streams held.
    pub fn far_streams(&self) -> usize {
        self.rx.len()
    }

    /// Protects the RTP or RTCP packet in `buf[..n]` in place (RFC 3711 §3.3, §3.4);
    /// its new length.
    pub fn protect(&mut self, buf: &mut [u8], n: usize) -> Result<usize, SrtpError> {
        let clear = buf.get(..n).ok_or(SrtpError::TooShort)?;
        let sealed = if is_rtcp(clear) {
            if n < SRTCP_HEADER {
                return Err(SrtpError::TooShort);
            }
            self.tx.encrypt_rtcp(clear)?
        } else {
            if n < RTP_HEADER {
                return Err(SrtpError::TooShort);
            }
            self.tx.encrypt_rtp(clear)?
        };
        let out = buf.get_mut(..sealed.len()).ok_or(SrtpError::TooLong)?;
        out.copy_from_slice(&sealed);
        Ok(sealed.len())
    }

    /// Checks and decrypts the SRTP or SRTCP datagram `d` into `out`; the clear
    /// packet's length. A packet of an SSRC not seen before gets a context only if it
    /// authenticates.
    pub fn unprotect(&mut self, d: &[u8], out: &mut [u8]) -> Result<usize, SrtpError> {
        let rtcp = is_rtcp(d);
        let (min, ssrc_at) = if rtcp {
            (SRTCP_HEADER + SRTCP_INDEX + SRTCP_TAG, 4)
        } else {
            (RTP_HEADER + self.suite.rtp_tag_len(), 8)
        };
        if d.len() < min {
            return Err(SrtpError::TooShort);
        }
        if !rtcp && !rtp_header_fits(d, self.suite.rtp_tag_len()) {
            return Err(SrtpError::Malformed);
        }
        // RFC 3711 §3.4: SRTCP is always authenticated; the E flag only says whether it is
        // encrypted too. No session here negotiates UNENCRYPTED_SRTCP (RFC 4568 §6.3.2),
        // and webrtc-srtp returns an E=0 packet without checking its tag, so such a
        // packet is a forgery.
        if rtcp && d[d.len() - SRTCP_TAG - SRTCP_INDEX] & 0x80 == 0 {
            return Err(SrtpError::Unauthenticated);
        }
        let ssrc = u32::from_be_bytes([d[ssrc_at], d[ssrc_at + 1], d[ssrc_at + 2], d[ssrc_at + 3]]);
        let open = |c: &mut Context| {
            if rtcp {
                c.decrypt_rtcp(d)
            } else {
                c.decrypt_rtp(d)
            }
        };
        let clear = match self.rx.iter().position(|(s, _)| *s == ssrc) {
            Some(i) => {
                let entry = self.rx.remove(i);
                self.rx.push(entry);
                let (_, c) = self.rx.last_mut().expect("just pushed");
                open(c)?
            }
            None => {
                let mut c = self.theirs.context(self.suite)?;
                let clear = open(&mut c)?;
                if self.rx.len() == RX_STREAMS {
                    self.rx.remove(0);
                }
                self.rx.push((ssrc, c));
                clear
            }
        };
        let dst = out.get_mut(..clear.len()).ok_or(SrtpError::TooLong)?;
        dst.copy_from_slice(&clear);
        Ok(clear.len())
    }
}

#[cfg(test)]
mod tests;
