//! The tipring UAC endpoint (testkit::endpoint) against sipp as UAS, over UDP and TCP,
//! with and without packet loss.

#[path = "sipp/harness.rs"]
mod harness;

use harness::{Sipp, endpoint, scenario, sipp_peer, sipp_transport};
use std::time::Duration;
use testkit::endpoint::uac::CallReport;
use tipring_sip::transaction::Transport;

/// Gives sipp time to bind its socket before we send.
async fn started() {
    tokio::time::sleep(Duration::from_millis(400)).await;
}

async fn calls(test: &str, t: Transport, port: u16, extra: &[&str], n: u32) {
    let p = port.to_string();
    let m = n.to_string();
    let mut args = vec![
        "-sn",
        "uas",
        "-i",
        "127.0.0.1",
        "-p",
        &p,
        "-t",
        sipp_transport(t),
        "-m",
        &m,
    ];
    args.extend_from_slice(extra);
    let mut sipp = Sipp::spawn(test, &args);
    started().await;
    let mut ep = endpoint().await;
    let uri = format!("sip:service@127.0.0.1:{port}");
    for _ in 0..n {
        let r = ep
            .call(sipp_peer(t, port), &uri, Duration::from_millis(100))
            .await
            .expect("call");
        assert_eq!(
            r,
            CallReport {
                provisional: vec![180],
                final_code: 200,
                bye_code: Some(200)
            },
            "call report"
        );
    }
    sipp.expect_success(Duration::from_secs(60)).await;
}

#[tokio::test]
async fn tipring_calls_sipp_over_udp() {
    calls("uac-udp", Transport::Udp, 17201, &[], 3).await;
}

#[tokio::test]
async fn tipring_calls_sipp_over_tcp() {
    calls("uac-tcp", Transport::Tcp, 17202, &[], 3).await;
}

// Ignored in the suite: it fails in roughly one run of several. sipp's built-in `uas` ends
// the call as soon as it has answered our BYE, so when that 200 is the lost packet our BYE
// retransmissions reach a dead call and Timer F (32 s) fires. Run it by hand with
// `cargo test --test sipp_uac -- --ignored`; the UAS-side lossy test covers recovery.
#[tokio::test]
#[ignore = "flaky against sipp's built-in uas under loss; see the comment above"]
async fn tipring_calls_sipp_over_udp_with_10_percent_loss() {
    let p = 17203u16;
    let mut sipp = Sipp::spawn(
        "uac-lossy",
        &[
            "-sn",
            "uas",
            "-i",
            "127.0.0.1",
            "-p",
            "17203",
            "-t",
            "u1",
            "-m",
            "10",
            "-lost",
            "10",
        ],
    );
    started().await;
    let mut ep = endpoint().await;
    let uri = format!("sip:service@127.0.0.1:{p}");
    for _ in 0..10 {
        let r = ep
            .call(
                sipp_peer(Transport::Udp, p),
                &uri,
                Duration::from_millis(100),
            )
            .await
            .expect("call");
        // A lost 180 is not retransmitted (§17.2.1 only re-sends it on an INVITE
        // retransmission), so only the final outcomes are certain.
        assert_eq!((r.final_code, r.bye_code), (200, Some(200)));
    }
    sipp.expect_success(Duration::from_secs(120)).await;
}

#[tokio::test]
async fn tipring_options_to_sipp() {
    for (t, port) in [(Transport::Udp, 17204u16), (Transport::Tcp, 17205)] {
        let sf = scenario("uas_options.xml");
        let p = port.to_string();
        let mut sipp = Sipp::spawn(
            &format!("uac-options-{port}"),
            &[
                "-sf",
                &sf,
                "-i",
                "127.0.0.1",
                "-p",
                &p,
                "-t",
                sipp_transport(t),
                "-m",
                "2",
            ],
        );
        started().await;
        let mut ep = endpoint().await;
        let uri = format!("sip:service@127.0.0.1:{port}");
        for _ in 0..2 {
            assert_eq!(
                ep.options(sipp_peer(t, port), &uri).await.expect("options"),
                200
            );
        }
        sipp.expect_success(Duration::from_secs(30)).await;
    }
}
