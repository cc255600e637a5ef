//! SDP: the Session Description Protocol (RFC 8866, which obsoletes RFC 4566) and the
//! offer/answer model (RFC 3264), cut to what a G.711 gateway needs.
//!
//! [`SessionDescription::parse`] borrows from the body and returns an [`SdpError`] naming
//! the line and field at fault (never a panic); the same types, filled with owned values,
//! are the builder, and `Display` emits them with CRLF line ends. [`OfferAnswer`] keeps one
//! side's offer/answer state and yields the [`NegotiatedMedia`] the media bridge runs on;
//! [`T38Params`] reads, writes and negotiates a T.38 fax stream (RFC 3362, T.38 Annex D),
//! which [`OfferAnswer`] switches a call to and back.
//!
//! ```
//! use tipring_sip::sdp::{MediaConfig, OfferAnswer, SessionDescription};
//! let mut ours = OfferAnswer::new(MediaConfig::new("192.0.2.1".parse().unwrap(), 4000), 1);
//! let offer = ours.create_offer().to_string();
//! let mut theirs = OfferAnswer::new(MediaConfig::new("192.0.2.2".parse().unwrap(), 5000), 2);
//! let (answer, media) = theirs.answer_offer(&SessionDescription::parse(offer.as_bytes()).unwrap()).unwrap();
//! assert_eq!(media.payload_type, 0);
//! let media = ours.process_answer(&SessionDescription::parse(answer.to_string().as_bytes()).unwrap()).unwrap();
//! assert_eq!(media.remote_rtp.unwrap().port(), 5000);
//! ```

mod crypto;
mod emit;
mod events;
mod offer_answer;
mod parse;
mod sdes;
mod session;
mod t38;

pub use crypto::{Crypto, CryptoError, CryptoSuite, SDES_KEY_LEN, SdesKey};
pub use events::EventSet;
pub use offer_answer::{
    Codec, MediaConfig, NegotiatedMedia, OfferAnswer, OfferAnswerError, TelephoneEvent,
};
pub use sdes::{NegotiatedSrtp, Sdes};
pub use session::{
    AddrType, Attribute, Connection, Direction, Line, Media, Origin, Rtpmap, SessionDescription,
};
pub use t38::{T38Error, T38ErrorCorrection, T38Params, T38RateManagement};

/// A malformed session description: the 1-based line number, the field that is wrong and
/// why (RFC 8866 §9 grammar).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("SDP line {line}, {field}: {reason}")]
pub struct SdpError {
    /// 1-based line number in the body (one past the last line for a missing line).
    pub line: usize,
    /// The field at fault, e.g. `"o= sess-version"` or `"a=rtpmap clock-rate"`.
    pub field: &'static str,
    /// What is wrong.
    pub reason: &'static str,
}
