//! testkit's `tipring run` harness ([`testkit::gateway`]) with this package's binary, its
//! simulator DSP and its sipp scenarios.

use std::net::SocketAddr;
use std::path::Path;
pub use testkit::config::Conf;
pub use testkit::gateway::{
    commands, dtmf_heard, dump, fxs, ringing, seized, serial, sip_answers, tone_arrives,
    tone_passes, wait_exit_ok,
};
use testkit::process::Proc;
use testkit::testbed::Node;
use tipring::sim_dsp::MediaDsp;
use tipring_media::tone::{Country, CountryProfile};

/// The gateway binary under test.
pub const EXE: &str = env!("CARGO_BIN_EXE_tipring");

/// Starts a gateway `name` on `sip` in `dir` with `conf`; returns once its card is linked
/// and its SIP side answers an OPTIONS.
pub fn start(name: &str, dir: &Path, sip: SocketAddr, conf: &Conf, seed: u64) -> Node {
    testkit::gateway::start(Path::new(EXE), name, dir, sip, conf, seed)
}

/// sipp with scenario `tests/sipp/NAME`, one call, bound to `me`; `args` add the remote
/// address for a UAC.
pub fn sipp(dir: &Path, name: &str, me: SocketAddr, args: &[&str]) -> Proc {
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/sipp")
        .join(name);
    testkit::gateway::sipp(dir, &scenario, me, args)
}

/// Runs scenario steps (`offhook 0`, `expect-tone 0 350+440 4s`, ...) against `g`'s card
/// with the US tone plan.
pub fn run(g: &Node, script: &str) {
    testkit::gateway::run(
        g,
        script,
        &MediaDsp::new(CountryProfile::builtin(Country::Us)),
    )
}
