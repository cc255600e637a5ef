//! Helpers shared by the whole-process tests: real processes started by the test
//! (tipring subcommands, Kamailio), killed when the test ends.
// Each test binary uses only some of these helpers.
#![allow(dead_code)]

pub mod baresip;
pub mod gateway;
pub mod kamailio;
pub mod process;
pub mod tshark;
