//! Processes run by a test: testkit's, with `tipring` meaning the binary under test.

use std::ops::{Deref, DerefMut};
use std::path::Path;
pub use testkit::process::{Proc, wait_child};

/// A child process of the `tipring` binary under test.
pub struct Tipring(testkit::process::Tipring);

impl Tipring {
    /// Starts `tipring ARGS`; `test` names its scratch directory.
    pub fn spawn(test: &str, args: &[&str]) -> Tipring {
        Tipring(testkit::process::Tipring::spawn(
            Path::new(super::gateway::EXE),
            test,
            args,
        ))
    }
}

impl Deref for Tipring {
    type Target = testkit::process::Tipring;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl DerefMut for Tipring {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}
