//! testkit's whole-process harnesses bound to what only this package has: the `tipring`
//! binary under test, its simulator DSP and the sipp scenarios in `tests/sipp`.
// Each test binary uses only some of these helpers.
#![allow(dead_code, unused_imports)]

pub use testkit::{baresip, kamailio, tshark};

pub mod gateway;
pub mod pki;
pub mod plan;
pub mod process;
pub mod rtp_party;
