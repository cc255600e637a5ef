//! Audio and RTP for tipring, without I/O: G.711, RTP/RTCP, jitter buffer, loss
//! concealment, RFC 4733 events, DTMF, call-progress tones and caller ID.

pub mod g711;

// The RTP path: packets, reports, jitter buffer, concealment, RFC 4733 events.
pub mod instant;
pub mod jitter;
pub mod plc;
pub mod rfc4733;
pub mod rtcp;
pub mod rtp;
pub mod session;
pub mod srtp;
pub mod stun;
// Telephony signals: DTMF, call-progress tones, caller ID.
pub mod callerid;
pub mod dtmf;
pub mod echo;
pub mod goertzel;
pub mod modem;
pub mod tone;
// Fax over IP: T.38's UDPTL framing with redundancy.
pub mod udptl;
