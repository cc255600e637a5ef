//! RFC 4733 telephone-events: DTMF digits and hook flash carried as named events in RTP.

mod payload;
mod receiver;
mod sender;

pub use payload::{EventCode, PAYLOAD_LEN, TelephoneEventPacket, TelephoneEventRepr};
pub use receiver::{EventBegan, EventEnded, EventOutput, TelephoneEventReceiver};
pub use sender::{EventRtp, TelephoneEventSender};

/// What is wrong with a telephone-event payload, or why one cannot be built.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    /// The payload is shorter than one 4-octet event (RFC 4733 §2.3).
    #[error("telephone-event payload of {0} octets, 4 needed")]
    Truncated(usize),
    /// The volume does not fit 6 bits (RFC 4733 §2.3.4: 0 to 63 dBm0 below zero).
    #[error("volume {0} does not fit 6 bits")]
    Volume(u8),
    /// The output buffer is shorter than 4 octets.
    #[error("buffer of {0} octets, 4 needed")]
    BufferTooSmall(usize),
}
