//! The simulated line card: N FXS/FXO ports behind a pseudo-terminal that speaks the same
//! protocol as a real card ([`crate::link`] in the card role), so the gateway runs its real
//! serial driver against it. Controlled through a [`SimCard`] handle (tests, scenario
//! scripts, the interactive prompt), with fault injection on the serial line.

pub mod audio;
mod card;
pub mod cwid;
pub mod port;
pub mod pty;
pub mod scenario;

pub use audio::{FrameSink, FrameSource, RawFile};
pub use card::{Faults, Shared, SimCard, SimConfig};
pub use port::{Line, Phone, SimPort};
