//! The UA core against Kamailio (Debian `kamailio`), configured by each test on its own
//! loopback port: as a registrar with digest auth (`pv_auth_check` against a password in a
//! script variable), and as a stateful proxy with record_route switched on and off. What
//! happened is read from Kamailio's own log (xlog lines), not from tipring's words.

mod common;

use common::kamailio::{Kamailio, Role};
use common::process::Tipring;
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
fn call_through_proxy(test: &str, kport: u16, aport: u16, rr: bool) -> (Vec<String>, String) {
    let k = kamailio(test, kport, Some(rr));
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
    (k.lines(), out)
}

#[test]
fn kamailio_proxy_with_record_route_carries_the_bye() {
    let (lines, out) = call_through_proxy("rr-on", 17503, 17504, true);
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
    let (lines, out) = call_through_proxy("rr-off", 17505, 17506, false);
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
