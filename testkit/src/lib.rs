//! What tipring's tests share, kept out of the firmware: a virtual network on virtual time
//! for the sans-IO cores ([`net`]); the whole-process harnesses (two `tipring run`
//! gateways on simulated line cards in [`testbed`] and [`gateway`], any child process in
//! [`process`], Kamailio, baresip and tshark beside them); the one builder of their
//! configuration files ([`config`]); and the measurement of tones carried through a gateway
//! ([`measure`]).
//!
//! Never a dependency of the firmware: the workspace's packages list it under
//! `[dev-dependencies]` only. It depends on neither the sip crate nor the gateway, so sip's
//! own unit tests can use it without two copies of sip's types meeting; what a harness
//! needs of the binary under test (its path, its simulator DSP) it is given.

pub mod baresip;
pub mod config;
#[cfg(feature = "sip")]
pub mod endpoint;
pub mod gateway;
pub mod kamailio;
pub mod measure;
pub mod net;
pub mod process;
pub mod testbed;
pub mod tshark;
