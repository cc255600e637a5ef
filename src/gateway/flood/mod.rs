//! Flood defences in front of the SIP side, in the manner of Kamailio's `pike` module: a
//! token bucket per source address that bans a source over its rate for a growing
//! back-off ([`pike`]), known scanners dropped by User-Agent ([`scanner`]), both applied
//! by [`gate::Gate`] on the transport's receive path before a datagram is parsed or
//! queued. The message log is held to a rate the box can afford by
//! [`crate::service::wire_log`].

pub mod gate;
pub mod pike;
pub mod scanner;
