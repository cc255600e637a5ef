//! An account over TLS to a server known by name: the gateway's account proxy is
//! `sip:localhost:PORT;lr` with `transport = "tls"`; the far end (`tipring answer` over
//! TLS) holds a certificate for the name `localhost` only, signed by a test CA (rcgen) the
//! gateway trusts (`[identity.tls] ca`). The gateway looks the name up at start, connects
//! to the address and verifies the certificate against the name (RFC 5922 §4): the call
//! goes through over TLS. A certificate for another name is refused and the caller hears
//! reorder.

mod common;

use common::gateway::{Conf, run, start, wait_exit_ok};
use common::pki::Pki;
use common::process::Tipring;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;
use testkit::testbed::TempDir;

/// A test CA, a far-end certificate for `far_name` and one for the gateway's address.
fn pki(dir: PathBuf, far_name: &str, gateway: &str) -> Pki {
    Pki::new(
        &dir,
        "tipring gateway TLS test CA",
        &[("far", far_name), ("gw", gateway)],
    )
}

/// `tipring answer` over TLS on 127.0.0.1:`port` with the far certificate; one call.
fn far_end(name: &str, pki: &Pki, port: u16) -> Tipring {
    let listen = format!("127.0.0.1:{port}");
    let (cert, key) = (pki.path("far.pem"), pki.path("far.key"));
    let far = Tipring::spawn(
        name,
        &[
            "answer",
            "--listen",
            &listen,
            "--transport",
            "tls",
            "--cert",
            &cert.to_string_lossy(),
            "--key",
            &key.to_string_lossy(),
            "--answer-after-ms",
            "100",
            "--calls",
            "1",
        ],
    );
    std::thread::sleep(Duration::from_millis(300));
    far
}

fn gateway_conf(gw: SocketAddr, pki: &Pki, far_port: u16) -> Conf {
    Conf::new(gw)
        .tls(
            &pki.path("gw.pem"),
            &pki.path("gw.key"),
            &pki.path("ca.pem"),
        )
        .account(
            "itsp",
            &format!("proxy = \"sip:localhost:{far_port};lr\"\ntransport = \"tls\""),
        )
        .ports(&common::gateway::fxs("100", "Alice"))
}

#[test]
fn an_account_over_tls_verifies_the_server_by_its_name() {
    let _serial = common::gateway::serial();
    let tmp = TempDir::new("hil-tls").expect("temp dir");
    let gw = SocketAddr::from(([127, 0, 76, 1], 25077));
    let far_port = 25078;
    let pki = pki(tmp.0.join("pki"), "localhost", "127.0.76.1");
    let mut far = far_end("hil-tls-far", &pki, far_port);
    let mut g = start(
        "gw",
        &tmp.0.join("gw"),
        gw,
        &gateway_conf(gw, &pki, far_port),
        57,
    );
    run(
        &g,
        "offhook 0\nexpect-tone 0 350+440 4s\ndial 0 200\nwait 1500ms\nonhook 0\nwait 500ms",
    );
    let (st, out) = far.wait(Duration::from_secs(15));
    assert!(st.success(), "far end: {out}\n{}", far.stderr());
    let received: Vec<&str> = out
        .lines()
        .filter_map(|l| l.strip_prefix("<- "))
        .filter_map(|l| l.split_once(' ').map(|(_, m)| m))
        .filter(|m| !m.starts_with("SIP/2.0") && !m.starts_with("OPTIONS"))
        .map(|m| m.split(' ').next().unwrap_or(""))
        .collect();
    assert_eq!(received, ["INVITE", "ACK", "BYE"], "{out}");
    assert!(far.stderr().contains("(Tls)"), "{}", far.stderr());
    wait_exit_ok(&mut g);
}

#[test]
fn a_certificate_for_another_name_is_refused() {
    let _serial = common::gateway::serial();
    let tmp = TempDir::new("hil-tls-bad").expect("temp dir");
    let gw = SocketAddr::from(([127, 0, 76, 2], 25079));
    let far_port = 25080;
    let pki = pki(tmp.0.join("pki"), "pbx.elsewhere.test", "127.0.76.2");
    let _far = far_end("hil-tls-bad-far", &pki, far_port);
    let mut g = start(
        "gw",
        &tmp.0.join("gw"),
        gw,
        &gateway_conf(gw, &pki, far_port),
        58,
    );
    run(
        &g,
        "offhook 0\nexpect-tone 0 350+440 4s\ndial 0 200\nexpect-tone 0 congestion 10s\nonhook 0",
    );
    wait_exit_ok(&mut g);
}
