//! Caller ID (calling line identity presentation): SDMF/MDMF messages, the Bell 202 and
//! V.23 FSK modems that carry them, and ETSI DTMF caller ID.

pub mod dtmf_clip;
pub mod fsk;
pub mod message;

pub use fsk::{FskEvent, FskParams, FskReceiver, FskStandard, FskTransmitter};
pub use message::{Absence, CallerIdError, CallerIdRepr, DateTime, Field, Format, Message, Text};
