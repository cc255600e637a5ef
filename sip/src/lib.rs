//! SIP signalling for tipring, sans-IO: message parsing and building (RFC 3261 §7, §19,
//! §20, §25). Transactions, dialogs, digest auth, SDP and the user agent come on top.
//!
//! Parsing borrows from the received buffer and allocates nothing for ordinary messages:
//!
//! ```
//! let m = tipring_sip::Message::parse(b"OPTIONS sip:gw@192.0.2.1 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.9;branch=z9hG4bK1\r\nCall-ID: a@b\r\nCSeq: 1 OPTIONS\r\nFrom: <sip:x@y>;tag=1\r\nTo: <sip:gw@192.0.2.1>\r\nContent-Length: 0\r\n\r\n").unwrap();
//! assert_eq!(m.cseq().unwrap().seq, 1);
//! assert_eq!(m.top_via().unwrap().branch(), Some("z9hG4bK1"));
//! ```

pub mod block;
pub mod builder;
pub mod dialog;
pub mod digest;
pub mod error;
pub mod framing;
pub mod header;
pub mod message;
pub mod mwi;
pub mod params;
pub mod parse;
pub mod random;
pub mod sdp;
pub mod transaction;
#[cfg(feature = "transport")]
pub mod transport;
pub mod ua;
pub mod uri;

pub use builder::MessageBuilder;
pub use error::{ErrorKind, Fault, ParseError};
pub use header::{Header, HeaderName};
pub use message::{Message, RequestLine, StartLine, StatusLine};
pub use uri::{Host, SipUri, Uri};
