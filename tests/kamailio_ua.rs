//! The UA core against Kamailio (Debian `kamailio`), configured by each test on its own
//! loopback port: as a registrar with digest auth (`pv_auth_check` against a password in a
//! script variable), and as a stateful proxy with record_route switched on and off. What
//! happened is read from Kamailio's own log (xlog lines), not from tipring's words.

mod common;

use common::kamailio::{Kamailio, Role};
use common::process::Tipring;
use common::tshark::{Capture, SipPacket};
use std::net::SocketAddr;
use std::time::Duration;

/// Kamailio on 127.0.0.1:`port`: registrar (password `secret`) or, with `record_route`
/// given, a stateful proxy.
fn kamailio(test: &str, port: u16, proxy_rr: Option<bool>) -> Kamailio {
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().expect("addr");
    let role = match proxy_rr {
        None => Role::Registrar {
            password: "secret".into(),
            record_route: false,
        },
        Some(rr) => Role::Proxy {
            record_route: rr,
            next_hop: None,
            follow_redirects: false,
        },
    };
    Kamailio::start(test, addr, role)
}

#[test]
fn kamailio_registrar_challenge_refresh_unregister() {
    let k = kamailio("reg", 17501, None);
    let mut t = Tipring::spawn(
        "reg",
        &[
            "register",
            "sip:127.0.0.1:17501",
            "--user",
            "alice",
            "--auth",
            "alice:secret",
            "--expires",
            "4",
        ],
    );
    // Granted 4 s: refreshed at 2 s and 4 s.
    std::thread::sleep(Duration::from_millis(5000));
    t.interrupt();
    let (st, out) = t.wait(Duration::from_secs(10));
    assert!(st.success(), "{out}");
    let lines = k.lines();
    let auth4 = lines
        .iter()
        .filter(|l| l.starts_with("authenticated sip:alice@127.0.0.1:17501 expires 4"))
        .count();
    assert!(auth4 >= 2, "registered and refreshed: {lines:#?}");
    assert!(
        lines.iter().any(|l| l.starts_with("challenge sip:alice@")),
        "{lines:#?}"
    );
    assert_eq!(
        lines.last().map(String::as_str),
        Some("authenticated sip:alice@127.0.0.1:17501 expires 0"),
        "unregistered last: {lines:#?}"
    );
}

#[test]
fn kamailio_registrar_wrong_password_no_loop() {
    let k = kamailio("badpw", 17502, None);
    let mut t = Tipring::spawn(
        "badpw",
        &[
            "register",
            "sip:127.0.0.1:17502",
            "--user",
            "alice",
            "--auth",
            "alice:wrong",
            "--once",
        ],
    );
    let (st, out) = t.wait(Duration::from_secs(10));
    assert_eq!(st.code(), Some(1), "{out}");
    std::thread::sleep(Duration::from_millis(300));
    let lines = k.lines();
    assert_eq!(
        lines.iter().filter(|l| l.starts_with("REGISTER ")).count(),
        2,
        "{lines:#?}"
    );
    assert!(
        !lines.iter().any(|l| l.starts_with("authenticated")),
        "{lines:#?}"
    );
}

/// A call from `tipring call` through the proxy to `tipring answer`; the proxy's log lines.
/// Also the SIP messages tshark saw on the proxy's and the callee's ports.
fn call_through_proxy(
    test: &str,
    kport: u16,
    aport: u16,
    rr: bool,
) -> (Vec<String>, String, Vec<SipPacket>) {
    let k = kamailio(test, kport, Some(rr));
    let cap = Capture::start(test, &[kport, aport]);
    let listen = format!("127.0.0.1:{aport}");
    let mut ans = Tipring::spawn(
        &format!("{test}-answer"),
        &[
            "answer",
            "--listen",
            &listen,
            "--answer-after-ms",
            "100",
            "--calls",
            "1",
        ],
    );
    std::thread::sleep(Duration::from_millis(300));
    let uri = format!("sip:x@{listen}");
    let proxy = format!("sip:127.0.0.1:{kport}");
    let mut c = Tipring::spawn(
        &format!("{test}-call"),
        &["call", &uri, "--proxy", &proxy, "--hold-secs", "1"],
    );
    let (st, out) = c.wait(Duration::from_secs(20));
    assert!(st.success(), "{out}");
    let (st, aout) = ans.wait(Duration::from_secs(10));
    assert!(st.success(), "{aout}");
    std::thread::sleep(Duration::from_millis(300));
    (k.lines(), out, cap.stop())
}

/// The BYE requests on the wire, as (source, destination).
fn byes(wire: &[SipPacket]) -> Vec<(String, String)> {
    wire.iter()
        .filter(|p| p.method == "BYE")
        .map(|p| (p.src.clone(), p.dst.clone()))
        .collect()
}

#[test]
fn kamailio_proxy_with_record_route_carries_the_bye() {
    let (lines, out, wire) = call_through_proxy("rr-on", 17503, 17504, true);
    // On the wire: the caller's BYE goes to the proxy, which relays it to the callee.
    let byes = byes(&wire);
    assert_eq!(byes.len(), 2, "{wire:#?}");
    assert_eq!(byes[0].1, "127.0.0.1:17503", "{wire:#?}");
    assert_eq!(
        byes[1],
        ("127.0.0.1:17503".into(), "127.0.0.1:17504".into())
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("INVITE sip:x@127.0.0.1:17504")),
        "{lines:#?}"
    );
    assert!(
        lines.iter().any(|l| l == "in-dialog BYE routed"),
        "{lines:#?}"
    );
    assert!(
        lines.iter().any(|l| l == "in-dialog ACK routed"),
        "{lines:#?}"
    );
    assert!(
        out.contains("-> 127.0.0.1:17503 BYE sip:answer@127.0.0.1:17504"),
        "{out}"
    );
}

#[test]
fn kamailio_proxy_without_record_route_bye_goes_direct() {
    let (lines, out, wire) = call_through_proxy("rr-off", 17505, 17506, false);
    // On the wire: one BYE, straight from the caller to the callee.
    let byes = byes(&wire);
    assert_eq!(byes.len(), 1, "{wire:#?}");
    assert_ne!(byes[0].0, "127.0.0.1:17505", "{wire:#?}");
    assert_eq!(byes[0].1, "127.0.0.1:17506", "{wire:#?}");
    assert!(
        wire.iter()
            .any(|p| p.method == "INVITE" && p.dst == "127.0.0.1:17505"),
        "the INVITE went through the proxy: {wire:#?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("INVITE sip:x@127.0.0.1:17506")),
        "{lines:#?}"
    );
    assert!(
        !lines
            .iter()
            .any(|l| l.starts_with("BYE ") || l.contains(" BYE ")),
        "{lines:#?}"
    );
    assert!(!lines.iter().any(|l| l.starts_with("ACK ")), "{lines:#?}");
    assert!(
        out.contains("-> 127.0.0.1:17506 BYE sip:answer@127.0.0.1:17506"),
        "{out}"
    );
}
