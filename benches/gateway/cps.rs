//! Figure 5: calls per second. sipp (UAC: INVITE, ACK, a short hold, BYE) calls a gateway
//! whose 64 FXS phones answer when rung and hang up when they hear reorder (the far BYE);
//! the rate is ramped and the highest rate with no failed call is kept. The same sipp
//! scenario then calls sipp's built-in UAS (`-sn uas`) on the same machine, ramped too.
//! Each call goes to the next port's number in turn (sipp's injection file), so a port is
//! reused every 64 calls.

use crate::Plan;
use crate::rig::{Rig, config, free_port, fxs_ports, scratch};
use crate::stats::{CpuMeter, Table};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use testkit::sipp_run::Step;
use testkit::switchboard::{Switchboard, all_on_hook};
use tipring_hal::model::PortKind;

const PORTS: usize = 64;
/// First port's number.
const FIRST: u32 = 300;
/// How long each call is held after the ACK, ms.
const HOLD_MS: u32 = 500;

/// The UAC scenario: INVITE with a PCMU offer, ACK to the 2xx's Contact, hold, BYE.
fn scenario() -> String {
    let head = "Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]\n\
                From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]\n";
    format!(
        r#"<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="tipring bench UAC">
  <send retrans="500">
    <![CDATA[
INVITE sip:[field0]@[remote_ip]:[remote_port] SIP/2.0
{head}To: <sip:[field0]@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: sip:sipp@[local_ip]:[local_port]
Max-Forwards: 70
Content-Type: application/sdp
Content-Length: [len]

v=0
o=sipp 1 1 IN IP[local_ip_type] [local_ip]
s=-
c=IN IP[media_ip_type] [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 0
a=rtpmap:0 PCMU/8000

    ]]>
  </send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="183" optional="true"/>
  <recv response="200" rrs="true"/>
  <send>
    <![CDATA[
ACK [next_url] SIP/2.0
{head}To: <sip:[field0]@[remote_ip]:[remote_port]>[peer_tag_param]
Call-ID: [call_id]
CSeq: 1 ACK
Contact: sip:sipp@[local_ip]:[local_port]
Max-Forwards: 70
Content-Length: 0

    ]]>
  </send>
  <pause milliseconds="{HOLD_MS}"/>
  <send retrans="500">
    <![CDATA[
BYE [next_url] SIP/2.0
{head}To: <sip:[field0]@[remote_ip]:[remote_port]>[peer_tag_param]
Call-ID: [call_id]
CSeq: 2 BYE
Contact: sip:sipp@[local_ip]:[local_port]
Max-Forwards: 70
Content-Length: 0

    ]]>
  </send>
  <recv response="200" crlf="true"/>
</scenario>
"#
    )
}

/// Runs the UAC against `target` at `rate` cps for `calls` calls.
fn sipp_step(dir: &Path, target: SocketAddr, rate: u32, calls: u64) -> Result<Step, String> {
    let stat = dir.join(format!("stat-{}-{rate}.csv", target.port()));
    let limit = Duration::from_secs(calls / u64::from(rate.max(1)) + 40);
    let mut sipp = Command::new("sipp");
    sipp.arg(target.to_string())
        .args(["-sf", &dir.join("uac.xml").to_string_lossy()])
        .args(["-inf", &dir.join("numbers.csv").to_string_lossy()])
        .args(["-i", "127.0.0.1", "-p", &free_port()?.to_string()])
        .args(["-mp", &free_port()?.to_string()])
        .args(["-r", &rate.to_string(), "-rp", "1000"])
        .args(["-m", &calls.to_string()])
        .args(["-recv_timeout", "8000", "-nostdin"])
        .args([
            "-timeout",
            &format!("{}s", limit.as_secs()),
            "-timeout_error",
        ]);
    testkit::sipp_run::run(sipp, dir, &stat, limit)
}

/// Ramps `rates`; the highest passing rate and the figure line.
fn ramp(
    dir: &Path,
    target: SocketAddr,
    plan: &Plan,
    rates: &[u32],
    pid: Option<&str>,
    between: &dyn Fn(),
) -> Result<(Option<u32>, String), String> {
    let mut best = None;
    let mut steps = Vec::new();
    for &r in rates {
        let calls = u64::from(r * plan.step_secs).max(10);
        let cpu = pid.and_then(CpuMeter::start);
        let s = sipp_step(dir, target, r, calls)?;
        let cpu = cpu
            .and_then(|c| c.percent())
            .map_or(String::new(), |c| format!(", gateway CPU {c:.0} %"));
        let clean = s.exit == Some(0) && s.failed == 0 && s.ok == calls;
        println!(
            "    {r:>5} cps asked, {:.1} achieved: {}/{calls} calls ok, {} failed, sipp exit {:?}{cpu}",
            s.rate, s.ok, s.failed, s.exit
        );
        steps.push(format!(
            "{r}: {}/{calls} ok ({:.0} achieved{cpu})",
            s.ok, s.rate
        ));
        between();
        if !clean {
            break;
        }
        // A rate sipp could not reach is no pass.
        if s.rate < f64::from(r) * 0.9 {
            break;
        }
        best = Some(r);
    }
    Ok((best, steps.join("; ")))
}

pub fn run(plan: &Plan, table: &mut Table) -> Result<(), String> {
    if Command::new("sipp").arg("-v").output().is_err() {
        return Err("sipp is not installed (apt-get install sip-tester)".into());
    }
    let tmp = scratch("tipring-bench-cps")?;
    std::fs::write(tmp.0.join("uac.xml"), scenario()).map_err(|e| e.to_string())?;
    let mut numbers = String::from("SEQUENTIAL\n");
    for i in 0..PORTS as u32 {
        numbers += &format!("{};\n", FIRST + i);
    }
    std::fs::write(tmp.0.join("numbers.csv"), numbers).map_err(|e| e.to_string())?;

    let sip = SocketAddr::from(([127, 0, 0, 1], free_port()?));
    let kinds = [PortKind::Fxs; PORTS];
    let conf = config(sip, None, &fxs_ports(PORTS, FIRST));
    let mut gw = Rig::start("gw64", &tmp.0.join("gw"), sip, &kinds, &conf)?;
    let board = Switchboard::start(gw.card.clone(), PORTS, true);
    let pid = gw.pid().ok_or("gateway pid")?.to_string();
    let cpu = CpuMeter::start(&pid).ok_or("/proc")?;
    let settle = || {
        // Every phone back on-hook, and the gateway has seen it (900 ms break).
        let end = Instant::now() + Duration::from_secs(10);
        while !all_on_hook(&gw.card) && Instant::now() < end {
            std::thread::sleep(Duration::from_millis(50));
        }
        std::thread::sleep(Duration::from_millis(1500));
    };
    println!("  sipp → tipring run with {PORTS} auto-answering FXS ports (hold {HOLD_MS} ms):");
    let gw_result = ramp(&tmp.0, sip, plan, &plan.gw_rates, Some(&pid), &settle);
    let gw_cpu = cpu.percent();
    let answered = board.answered.lock().map(|a| *a).unwrap_or(0);
    drop(board);
    // Why calls failed, as the gateway answered them.
    let log = std::fs::read_to_string(gw.dir.join("gateway.log")).unwrap_or_default();
    let busy = log
        .lines()
        .filter(|l| l.contains("SIP -> ") && l.contains(" 486 "))
        .count();
    if gw_result.is_err() {
        eprint!("{}", gw.tail(30));
    }
    gw.stop();
    let (best, steps) = gw_result?;
    table.row(
        "5. calls/s, sipp → one gateway with 64 auto-answering FXS ports",
        &best.map_or("none passed".into(), |b| format!("{b} calls/s with 0 failed")),
        &format!(
            "sipp UAC INVITE/ACK/{HOLD_MS} ms hold/BYE, {}-s steps ramped until a call fails; each port rings, its phone answers at once (~10 ms hook debounce) and hangs up on reorder (the gateway needs a 900 ms break to see on-hook), so a port turns over in about 2 s and the 64 ports, not the gateway's CPU, bound the rate. Steps (asked: ok/calls, achieved, gateway CPU % of one core during the step): {steps}. {answered} answers; {busy} 486 (port still in its last call) sent by the gateway; its CPU over the whole ramp {}",
            plan.step_secs,
            gw_cpu.map_or("?".into(), |c| format!("{c:.0} % of one core")),
        ),
    );

    let uas_port = free_port()?;
    let mut uas = Command::new("sipp")
        .args(["-sn", "uas", "-i", "127.0.0.1", "-p", &uas_port.to_string()])
        .args(["-mp", &free_port()?.to_string(), "-nostdin"])
        .current_dir(&tmp.0)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("sipp uas: {e}"))?;
    std::thread::sleep(Duration::from_millis(500));
    println!("  sipp → sipp -sn uas (same scenario):");
    let r = ramp(
        &tmp.0,
        SocketAddr::from(([127, 0, 0, 1], uas_port)),
        plan,
        &plan.sipp_rates,
        None,
        &|| std::thread::sleep(Duration::from_millis(HOLD_MS as u64 + 500)),
    );
    let _ = uas.kill();
    let _ = uas.wait();
    let (best, steps) = r?;
    let top = plan.sipp_rates.last().copied().unwrap_or(0);
    table.row(
        "5. calls/s, sipp → sipp (`-sn uas`), same machine, same run",
        &match best {
            Some(b) if b == top => format!("≥ {b} calls/s with 0 failed (highest step tried)"),
            Some(b) => format!("{b} calls/s with 0 failed"),
            None => "none passed".into(),
        },
        &format!("the same UAC scenario against sipp's built-in UAS. Steps: {steps}"),
    );
    Ok(())
}
