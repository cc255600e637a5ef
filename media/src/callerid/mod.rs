//! Caller ID (calling line identity presentation): SDMF/MDMF messages, the Bell 202 and
//! V.23 FSK modems that carry them, and ETSI DTMF caller ID.

pub mod alert;
pub mod dtmf_clip;
pub mod fsk;
pub mod message;
pub mod mwi;
pub mod offhook;

pub use alert::AlertDetector;
pub use fsk::{FskEvent, FskParams, FskReceiver, FskStandard, FskTransmitter};
pub use message::{Absence, CallerIdError, CallerIdRepr, DateTime, Field, Format, Message, Text};
pub use mwi::{PARAM_VISUAL_INDICATOR, TYPE_MDMF_MWI, TYPE_SDMF_MWI, emit_mwi, message_waiting};
pub use offhook::OffHookCallerId;
