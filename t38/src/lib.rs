//! T.38 fax relay (ITU-T T.38) for tipring's lines: when a call turns out to carry a fax,
//! the line's fax modem signals are demodulated on the box and sent as T.38 IFP packets
//! over UDPTL, and the far end's packets remodulated onto the line, so the fax no longer
//! depends on G.711 audio surviving the network (loss and jitter that would break a
//! pass-through fax are covered by UDPTL redundancy).
//!
//! The analog side — the V.21/V.27ter/V.29/V.17 modems and the T.30 analysis of a gateway —
//! is spandsp's T.38 gateway (LGPL, linked dynamically: Debian's libspandsp2), reached
//! through [`gateway::FaxGateway`]; the UDPTL framing is tipring's own
//! ([`tipring_media::udptl`]) and [`relay::T38Relay`] joins the two, sans-IO: 20 ms frames
//! and datagrams in, frames and datagrams out, no clock, socket or thread.

mod ffi;
pub mod gateway;
pub mod relay;

pub use gateway::{FaxGateway, GatewayConfig, GatewayError, TransferStats};
pub use relay::{RelayConfig, RelayStats, T38Relay};
