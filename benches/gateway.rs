//! Figures of the running gateway (issue 7), measured on real `tipring run` processes with
//! simulated line cards hosted here and printed as a table (nothing is asserted):
//!
//! 1. post-dial delay: last digit → INVITE on the wire;
//! 2. INVITE → 180 at the answering gateway;
//! 3. audio latency phone → RTP and RTP → phone at one gateway, mouth to ear through two;
//! 4. CPU and RSS of one gateway with 8 ports in calls;
//! 5. calls per second a 64-port gateway sustains from sipp with no failed call, next to
//!    sipp against sipp.
//!
//! `cargo bench --bench gateway`; `TIPRING_BENCH_QUICK=1` for a smoke run;
//! `TIPRING_BENCH_ONLY=1,5` for some sections.

#[path = "gateway/cps.rs"]
mod cps;
#[path = "gateway/one_gateway.rs"]
mod one_gateway;
#[path = "gateway/phones.rs"]
mod phones;
#[path = "gateway/rig.rs"]
mod rig;
#[path = "gateway/sip.rs"]
mod sip;
#[path = "gateway/stats.rs"]
mod stats;
#[path = "gateway/two_gateways.rs"]
mod two_gateways;

/// How much to measure.
pub struct Plan {
    pub quick: bool,
    /// Calls per post-dial-delay variant (exact match; `#` and timer).
    pub pdd: usize,
    pub pdd_slow: usize,
    pub invite_180: usize,
    /// Audio markers per direction (one every 200 ms).
    pub markers: usize,
    /// Seconds of 8 calls for CPU/RSS.
    pub load_secs: u64,
    /// Call-rate steps, calls per second, for the gateway and for sipp against sipp.
    pub gw_rates: Vec<u32>,
    pub sipp_rates: Vec<u32>,
    /// Seconds of calls per step.
    pub step_secs: u32,
}

impl Plan {
    fn new(quick: bool) -> Plan {
        if quick {
            Plan {
                quick,
                pdd: 4,
                pdd_slow: 2,
                invite_180: 5,
                markers: 10,
                load_secs: 4,
                gw_rates: vec![2, 5],
                sipp_rates: vec![50, 100],
                step_secs: 3,
            }
        } else {
            Plan {
                quick,
                pdd: 30,
                pdd_slow: 10,
                invite_180: 50,
                markers: 50,
                load_secs: 20,
                gw_rates: vec![2, 5, 10, 20, 25, 30, 35, 40, 50],
                sipp_rates: vec![100, 200, 400, 800, 1600, 3200],
                step_secs: 8,
            }
        }
    }
}

/// A section of the bench: fills the table, or says why it could not.
type Section = fn(&Plan, &mut stats::Table) -> Result<(), String>;

fn main() {
    // `cargo bench` passes `--bench`; run as a test (`cargo test --benches`), the bench
    // would take minutes of real calls: it only says how to run it.
    if !std::env::args().any(|a| a == "--bench") {
        println!("gateway figures: run with `cargo bench --bench gateway`");
        return;
    }
    let quick = std::env::var("TIPRING_BENCH_QUICK").is_ok_and(|v| v != "0");
    let only: Option<Vec<u32>> = std::env::var("TIPRING_BENCH_ONLY")
        .ok()
        .map(|v| v.split(',').filter_map(|s| s.trim().parse().ok()).collect());
    let want = |n: u32| only.as_ref().is_none_or(|o| o.contains(&n));
    let plan = Plan::new(quick);
    let mut table = stats::Table::default();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "tipring gateway figures ({}), {cores} cores, load average {} at start",
        if quick { "quick" } else { "full" },
        stats::loadavg()
    );
    let sections: [(u32, &str, Section); 3] = [
        (
            1,
            "one gateway, the bench as its SIP/RTP peer",
            one_gateway::run,
        ),
        (
            3,
            "two gateways, 8 phones calling 8 phones",
            two_gateways::run,
        ),
        (5, "calls per second from sipp", cps::run),
    ];
    for (n, title, f) in sections {
        if !want(n) {
            continue;
        }
        println!("\n== {title} (load average {})", stats::loadavg());
        if let Err(e) = f(&plan, &mut table) {
            table.row(title, "FAILED", &e.replace('\n', " "));
        }
    }
    println!("\nload average {} at end\n", stats::loadavg());
    println!("{}", table.markdown());
}
