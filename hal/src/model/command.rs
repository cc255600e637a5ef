//! Commands the gateway sends to a line card, and the result a card answers with.

use serde::{Deserialize, Serialize};

/// Most on/off steps in a ring cadence.
pub const MAX_RING_STEPS: usize = 16;
/// Most digits in one pulse-dial command.
pub const MAX_PULSE_DIGITS: usize = 32;

/// One step of a ring cadence: ringing for `on_ms`, then silent for `off_ms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RingStep {
    pub on_ms: u16,
    pub off_ms: u16,
}

/// A ring cadence: the steps repeat until [`Command::StopRing`] or off-hook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RingCadence {
    /// Ringing frequency in Hz (typically 20, 25 or 50).
    pub frequency_hz: u8,
    pub steps: heapless::Vec<RingStep, MAX_RING_STEPS>,
}

/// Tip/ring polarity of an FXS port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Polarity {
    Normal,
    Reversed,
}

/// Gains in tenths of a dB; `tx` is towards the line, `rx` from the line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gain {
    pub tx_tenth_db: i16,
    pub rx_tenth_db: i16,
}

/// An order to one port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Command {
    /// FXS: ring the phone with this cadence.
    Ring(RingCadence),
    /// FXS: stop ringing.
    StopRing,
    /// FXS: set the loop polarity.
    SetPolarity(Polarity),
    /// FXS: on-hook transmission (audio path open while on-hook, for caller ID).
    OnHookTransmission { enable: bool },
    /// Both: set the audio gains.
    SetGain(Gain),
    /// FXO: go off-hook (draw loop current).
    Seize,
    /// FXO: go on-hook.
    Release,
    /// FXO: break the loop for `duration_ms`.
    HookFlash { duration_ms: u16 },
    /// FXO: pulse-dial these digits (each 0..=9), at 10 pulses per second.
    PulseDial {
        digits: heapless::Vec<u8, MAX_PULSE_DIGITS>,
    },
    /// Both: return the port to its idle state.
    Reset,
    /// FXS: the phone's message-waiting lamp on or off (a card that drives none ignores
    /// it). The visual indication by FSK goes as audio, not through this command.
    MessageWaiting { on: bool },
}

impl Command {
    /// Whether the command makes sense on a port of this kind.
    pub fn applies_to(&self, kind: super::PortKind) -> bool {
        use super::PortKind::{Fxo, Fxs};
        match self {
            Command::Ring(_)
            | Command::StopRing
            | Command::SetPolarity(_)
            | Command::OnHookTransmission { .. }
            | Command::MessageWaiting { .. } => kind == Fxs,
            Command::Seize
            | Command::Release
            | Command::HookFlash { .. }
            | Command::PulseDial { .. } => kind == Fxo,
            Command::SetGain(_) | Command::Reset => true,
        }
    }
}

/// How a card answered a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CmdResult {
    Ok,
    /// No port with that index.
    NoSuchPort,
    /// The command is for the other port kind.
    WrongPortKind,
    /// A field is out of range (empty cadence, digit > 9, ...).
    InvalidArgument,
    /// The port cannot do it now (e.g. ring while off-hook).
    Busy,
    /// The hardware failed to do it.
    Failed,
}
