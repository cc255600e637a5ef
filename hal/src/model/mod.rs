//! The line-card model: a card has ports, each FXS or FXO; the card reports timestamped
//! [`Event`]s and obeys [`Command`]s. These types are the payload of the serial protocol
//! (see `hal/PROTOCOL.md`), so they are `no_std` and fixed-capacity (heapless).

mod command;
mod event;
pub mod hookflash;

pub use command::{CmdResult, Command, Gain, MAX_RING_STEPS, Polarity, RingCadence, RingStep};
pub use event::{Digit, Event, FaultCode, TimedEvent};

use serde::{Deserialize, Serialize};

/// Index of a port on the card, from 0.
pub type PortId = u8;

/// Most ports a card may announce in its hello.
pub const MAX_PORTS: usize = 64;

/// The kind of analog interface behind a port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PortKind {
    /// Foreign Exchange Station: the card is the exchange, a phone is plugged in.
    Fxs,
    /// Foreign Exchange Office: the card is the phone, a line from an exchange is plugged in.
    Fxo,
}

impl PortKind {
    /// Parses `fxs` or `fxo` (any case).
    pub fn parse(s: &str) -> Option<Self> {
        if s.eq_ignore_ascii_case("fxs") {
            Some(PortKind::Fxs)
        } else if s.eq_ignore_ascii_case("fxo") {
            Some(PortKind::Fxo)
        } else {
            None
        }
    }
}

/// What a card says about itself when the link comes up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardInfo {
    /// Firmware version text, e.g. `1.4.2`.
    pub firmware: heapless::String<16>,
    /// Kinds of the ports, index = [`PortId`].
    pub ports: heapless::Vec<PortKind, MAX_PORTS>,
}
