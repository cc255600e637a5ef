//! More than one box: three gateways behind Kamailio's dispatcher (round robin, OPTIONS
//! probes every second, failover on no answer within 2 s or a busy box), 300 calls from
//! sipp. One
//! gateway is killed while calls run: the calls after the probe interval all go to the
//! other two; restarted, it takes calls again.

mod common;

use common::gateway::{Conf, EXE, serial, sip_answers};
use common::kamailio::{Kamailio, Role};
use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::time::Duration;
use testkit::sipp_run::Step;
use testkit::switchboard::Switchboard;
use testkit::testbed::{Node, TempDir};
use tipring_hal::model::PortKind;

/// FXS ports per gateway: calls up at once on one box.
const PORTS: usize = 8;
/// Calls per second from sipp, each held 500 ms (a phone is free again about 2 s after
/// the caller's BYE: reorder heard, on-hook, the hook debounced).
const RATE: u32 = 5;

fn gateway(tmp: &Path, n: u8, sip: SocketAddr, balancer: SocketAddr) -> Node {
    let mut ports = String::new();
    for i in 0..PORTS {
        ports += &format!(
            "[[ports]]\nindex = {i}\nkind = \"fxs\"\nnumber = \"2{n}{i}\"\ndial_plan = \"ext\"\n"
        );
    }
    // Every phone of the box answers for "100": the first idle one rings.
    let conf = Conf::new(sip)
        .account("lines", "username = \"100\"\n")
        .ports(&ports)
        .trust(&format!("{}/32", balancer.ip()));
    let mut g = Node::prepare_ports(
        &format!("gw{n}"),
        &tmp.join(format!("gw{n}")),
        sip,
        &[PortKind::Fxs; PORTS],
    )
    .expect("testbed node");
    g.start(Path::new(EXE), &conf.render(), u64::from(n))
        .expect("tipring run");
    assert!(
        g.wait_link(Duration::from_secs(10)),
        "gw{n} card link: {:#?}",
        g.lines()
    );
    assert!(sip_answers(sip, Duration::from_secs(10)), "gw{n} up");
    g
}

/// `calls` calls to 100 through the balancer.
fn calls(dir: &Path, balancer: SocketAddr, me: SocketAddr, calls: u64, tag: &str) -> Step {
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sipp/dispatch_uac.xml");
    let limit = Duration::from_secs(calls / u64::from(RATE) + 30);
    let mut sipp = Command::new("sipp");
    sipp.arg(balancer.to_string())
        .args(["-sf", &scenario.to_string_lossy(), "-s", "100"])
        .args(["-i", &me.ip().to_string(), "-p", &me.port().to_string()])
        .args([
            "-r",
            &RATE.to_string(),
            "-m",
            &calls.to_string(),
            "-d",
            "500",
        ])
        .args(["-recv_timeout", "10000", "-nostdin", "-timeout"])
        .arg(format!("{}s", limit.as_secs()))
        .arg("-timeout_error");
    testkit::sipp_run::run(sipp, dir, &dir.join(format!("stat-{tag}.csv")), limit)
        .expect("sipp ran")
}

fn answered(b: &Switchboard) -> u64 {
    b.answered.lock().map(|a| *a).unwrap_or(0)
}

#[test]
fn calls_spread_over_three_gateways_and_go_around_a_dead_one() {
    let _serial = serial();
    let tmp = TempDir::new("hil-dispatch").expect("temp dir");
    let at = |h: u8| SocketAddr::from(([127, 0, 80, h], 25080));
    let balancer = at(10);
    let gws = [at(1), at(2), at(3)];
    let mut nodes: Vec<Node> = (0..3u8)
        .map(|i| gateway(&tmp.0, i + 1, gws[usize::from(i)], balancer))
        .collect();
    let boards: Vec<Switchboard> = nodes
        .iter()
        .map(|g| Switchboard::start(g.card.clone(), PORTS, true))
        .collect();
    let kam = Kamailio::start(
        "dispatch",
        balancer,
        Role::Dispatcher {
            gateways: gws.to_vec(),
            probe_s: 1,
        },
    );
    std::thread::sleep(Duration::from_secs(2));
    let me = at(20);

    // 100 calls with all three up: each takes about a third.
    let a = calls(&tmp.0, balancer, me, 100, "all");
    let per_box: Vec<u64> = boards.iter().map(answered).collect();
    assert_eq!(
        (a.ok, a.failed),
        (100, 0),
        "{a:?} {per_box:?}\n{}",
        kam.log()
    );
    assert!(per_box.iter().all(|n| *n >= 25), "{per_box:?}");

    // 100 more; gateway 3 is killed 3 s in.
    let before: Vec<u64> = boards.iter().map(answered).collect();
    let killer = std::thread::spawn({
        let pid = nodes[2].pid().expect("gw3 pid");
        move || {
            std::thread::sleep(Duration::from_secs(3));
            let pid = nix::unistd::Pid::from_raw(i32::try_from(pid).expect("pid"));
            nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL).expect("kill gw3");
        }
    });
    let b = calls(&tmp.0, balancer, me, 100, "kill");
    killer.join().expect("killer");
    let during: Vec<u64> = boards
        .iter()
        .zip(&before)
        .map(|(bd, b0)| answered(bd) - b0)
        .collect();
    // Only calls up on gateway 3 when it died can fail (their BYE is not answered); the
    // INVITEs it no longer answers go to the next gateway after 2 s.
    let failovers = |k: &Kamailio| {
        k.lines()
            .into_iter()
            .filter(|l| l.starts_with("gateway ") || l.starts_with("retried "))
            .collect::<Vec<_>>()
    };
    assert!(
        b.failed <= PORTS as u64,
        "{b:?} {during:?}\n{:#?}",
        failovers(&kam)
    );
    assert!(
        during[2] < 40,
        "gateway 3 took calls after it died: {during:?}"
    );

    // Gateway 3 stays dead: after the probe, every call goes to the other two.
    let before: Vec<u64> = boards.iter().map(answered).collect();
    let c = calls(&tmp.0, balancer, me, 50, "dead");
    let dead: Vec<u64> = boards
        .iter()
        .zip(&before)
        .map(|(bd, b0)| answered(bd) - b0)
        .collect();
    assert_eq!((c.ok, c.failed), (50, 0), "{c:?} {dead:?}");
    assert_eq!(dead[2], 0, "{dead:?}");

    // Restarted, it answers the probes and takes calls again.
    drop(nodes.pop());
    let g3 = gateway(&tmp.0, 3, gws[2], balancer);
    let board3 = Switchboard::start(g3.card.clone(), PORTS, true);
    std::thread::sleep(Duration::from_secs(3));
    let before: Vec<u64> = boards[..2].iter().map(answered).collect();
    let d = calls(&tmp.0, balancer, me, 50, "back");
    let back: Vec<u64> = boards[..2]
        .iter()
        .zip(&before)
        .map(|(bd, b0)| answered(bd) - b0)
        .chain([answered(&board3)])
        .collect();
    assert_eq!((d.ok, d.failed), (50, 0), "{d:?} {back:?}");
    assert!(back[2] >= 10, "gateway 3 back in the rotation: {back:?}");
    let total = a.ok + b.ok + c.ok + d.ok;
    println!(
        "dispatcher: {total} of 300 calls completed; with all up {per_box:?}; gateway 3 killed \
         during the next 100: {during:?}, {} failed; while it was down {dead:?}; after its \
         restart {back:?}",
        b.failed
    );
}
