//! Helpers shared by the whole-process tests: real processes started by the test
//! (tipring subcommands, Kamailio), killed when the test ends.
// Each test binary uses only some of these helpers.
#![allow(dead_code)]

/// Removes a helper's scratch directory when it is done, unless the test is failing (its
/// logs and captures stay for the post-mortem).
pub fn remove_scratch(dir: Option<&std::path::Path>) {
    if let Some(d) = dir
        && !std::thread::panicking()
    {
        let _ = std::fs::remove_dir_all(d);
    }
}

pub mod baresip;
pub mod gateway;
pub mod kamailio;
pub mod process;
pub mod tshark;
