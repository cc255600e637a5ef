//! What tipring's tests share, kept out of the firmware: a virtual network on virtual time
//! for the sans-IO cores ([`net`]).
//!
//! Never a dependency of the firmware: the workspace's packages list it under
//! `[dev-dependencies]` only. It does not depend on the sip crate, so sip's own unit tests
//! can use it without two copies of sip's types meeting.

pub mod net;
