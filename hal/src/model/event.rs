//! Events a line card reports to the gateway.

use super::PortId;
use serde::{Deserialize, Serialize};

/// A DTMF key, as decoded by a card with a hardware DTMF receiver (ITU-T Q.23 keypad).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Digit {
    D0,
    D1,
    D2,
    D3,
    D4,
    D5,
    D6,
    D7,
    D8,
    D9,
    Star,
    Hash,
    A,
    B,
    C,
    D,
}

impl Digit {
    /// All keys in wire order (the order is the postcard variant index).
    pub const ALL: [Digit; 16] = [
        Digit::D0,
        Digit::D1,
        Digit::D2,
        Digit::D3,
        Digit::D4,
        Digit::D5,
        Digit::D6,
        Digit::D7,
        Digit::D8,
        Digit::D9,
        Digit::Star,
        Digit::Hash,
        Digit::A,
        Digit::B,
        Digit::C,
        Digit::D,
    ];

    /// The key for a character `0-9 * # A-D` (letters in any case).
    pub fn from_char(c: char) -> Option<Self> {
        let c = c.to_ascii_uppercase();
        Digit::ALL.into_iter().find(|d| d.as_char() == c)
    }

    /// The character printed on the key.
    pub fn as_char(self) -> char {
        match self {
            Digit::D0 => '0',
            Digit::D1 => '1',
            Digit::D2 => '2',
            Digit::D3 => '3',
            Digit::D4 => '4',
            Digit::D5 => '5',
            Digit::D6 => '6',
            Digit::D7 => '7',
            Digit::D8 => '8',
            Digit::D9 => '9',
            Digit::Star => '*',
            Digit::Hash => '#',
            Digit::A => 'A',
            Digit::B => 'B',
            Digit::C => 'C',
            Digit::D => 'D',
        }
    }
}

/// Why a card reports a fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FaultCode {
    /// SLIC thermal shutdown on an FXS port.
    Thermal,
    /// Foreign voltage on tip/ring.
    ForeignVoltage,
    /// Ground fault or short.
    GroundFault,
    /// Card-internal error, with a vendor code.
    Internal(u16),
}

/// Something that happened on a port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Event {
    /// FXS: the phone went off-hook.
    OffHook,
    /// FXS: the phone went on-hook (a break longer than the hook-flash maximum).
    OnHook,
    /// FXS: a hook flash (a break between the configured minimum and maximum).
    HookFlash { duration_ms: u16 },
    /// FXS: a pulse-dialled digit (number of breaks; 10 breaks = digit 0).
    PulseDigit { digit: u8 },
    /// FXO: ringing voltage appeared.
    RingStart,
    /// FXO: a ring burst ended; the measured on and off times of the last cycle.
    RingStop { on_ms: u16, off_ms: u16 },
    /// FXO: loop current flows (after seizure), in milliamps.
    LoopCurrentOn { milliamps: u8 },
    /// FXO: loop current stopped (far end cleared, or release).
    LoopCurrentOff,
    /// FXO: measured tip/ring voltage, signed, in volts.
    LineVoltage { volts: i16 },
    /// FXO: the line polarity reversed (answer or clear signal).
    PolarityReversal,
    /// FXO: the exchange battery disappeared (line cut).
    BatteryLost,
    /// Both: a DTMF digit from the card's hardware decoder, with its duration.
    Digit { digit: Digit, duration_ms: u16 },
    /// Both: a fault on the port.
    Fault { code: FaultCode },
}

/// An event with the port it happened on and the card's millisecond clock at that moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimedEvent {
    /// Card clock in milliseconds since the card started (wraps after ~49 days).
    pub at_ms: u32,
    pub port: PortId,
    pub event: Event,
}
