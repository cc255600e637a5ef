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

/// What baresip logs once a call is up and once it is closed.
pub const BARESIP_ESTABLISHED: &str = "Call established";
const BARESIP_CLOSED: &str = "terminated";

/// Once baresip (aubridge echoing what it receives) says the call is up: a tone from
/// `g`'s phone 0 comes back through baresip's echo, so it crossed the gateway and baresip
/// both ways; the phone hangs up and baresip sees the call end.
pub fn talk_through_baresip_and_hang_up(g: &Node, bs: &testkit::baresip::Baresip) {
    assert!(
        bs.wait_for(BARESIP_ESTABLISHED, std::time::Duration::from_secs(10)),
        "baresip established the call: {}",
        bs.output()
    );
    // aubridge hands frames between its threads and may repeat or drop one, which moves
    // the zero-crossing frequency estimate by a few per cent.
    tone_arrives(g, 0, g, 0, 1000.0, 0.05);
    run(g, "onhook 0");
    assert!(
        bs.wait_for(BARESIP_CLOSED, std::time::Duration::from_secs(5)),
        "the phone's hangup reached baresip: {}",
        bs.output()
    );
}
