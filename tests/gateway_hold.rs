//! The far end holds a call to a phone on `tipring run` (sipp re-INVITEs with a=sendonly,
//! then a=sendrecv, RFC 3264 §8.4): the gateway answers recvonly and sends no RTP until the
//! call is taken back. The far end's RTP address in sipp's SDP is the test's own socket,
//! which times every packet the gateway sends.

mod common;

use common::gateway::{Conf, fxs, run, sipp, start, wait_exit_ok};
use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use testkit::testbed::TempDir;

/// Arrival times of the RTP audio packets (payload type 0) reaching `sock` until `done`.
fn listen(sock: UdpSocket, done: Arc<AtomicBool>) -> std::thread::JoinHandle<Vec<Instant>> {
    sock.set_read_timeout(Some(Duration::from_millis(50)))
        .expect("read timeout");
    std::thread::spawn(move || {
        let mut at = Vec::new();
        let mut buf = [0u8; 1500];
        while !done.load(Ordering::Relaxed) {
            if let Ok((n, _)) = sock.recv_from(&mut buf)
                && n >= 12
                && buf[1] & 0x7f == 0
            {
                at.push(Instant::now());
            }
        }
        at
    })
}

#[test]
fn a_far_hold_stops_the_gateways_rtp_until_the_call_is_taken_back() {
    let _serial = common::gateway::serial();
    let tmp = TempDir::new("hil-hold").expect("temp dir");
    let gw = SocketAddr::from(([127, 0, 74, 1], 25074));
    let far = SocketAddr::from(([127, 0, 74, 9], 25074));
    let rtp = UdpSocket::bind((far.ip(), 0)).expect("RTP socket");
    let rtp_port = rtp.local_addr().expect("address").port().to_string();
    let done = Arc::new(AtomicBool::new(false));
    let heard = listen(rtp, done.clone());
    // sipp calls the phone directly, without a proxy: trusted to ring it.
    let conf = Conf::new(gw)
        .ports(&fxs("100", "Alice"))
        .trust(&far.ip().to_string());
    let mut g = start("gw", &tmp.0.join("gw"), gw, &conf, 54);
    // sipp: INVITE, 1.5 s talking, re-INVITE sendonly, 2.5 s held, re-INVITE sendrecv,
    // 1.5 s talking, BYE.
    let gw_arg = gw.to_string();
    let mut uac = sipp(
        &tmp.0,
        "gw_hold.xml",
        far,
        &[&gw_arg, "-set", "rtp", &rtp_port],
    );
    run(&g, "expect-ringing 0 5s\noffhook 0");
    let (st, out) = uac.wait(Duration::from_secs(20));
    done.store(true, Ordering::Relaxed);
    let at = heard.join().expect("listener");
    assert!(st.success(), "sipp's call with hold and resume: {out}");
    run(&g, "expect-tone 0 480+620 5s\nonhook 0");
    wait_exit_ok(&mut g);
    // The longest silence between two packets is the hold; audio flowed before and after.
    let (gap_at, gap) = at
        .windows(2)
        .enumerate()
        .map(|(i, w)| (i + 1, w[1] - w[0]))
        .max_by_key(|&(_, d)| d)
        .expect("RTP from the gateway");
    let (before, after) = (gap_at, at.len() - gap_at);
    println!(
        "{} packets; {before} before the longest gap of {gap:?}, {after} after",
        at.len()
    );
    assert!(
        gap >= Duration::from_millis(2000),
        "RTP went on while held: longest gap {gap:?}"
    );
    assert!(before >= 40, "{before} packets before the hold");
    assert!(after >= 40, "{after} packets after the call was taken back");
}
