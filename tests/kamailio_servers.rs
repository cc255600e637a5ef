//! The seed's §5.3 topology with real Kamailio servers and the diagnostic UA commands:
//! the callee registers with a registrar (digest), the caller sends to its proxy, the
//! proxy asks a redirect server (302 to a second proxy) and recurses, the second proxy
//! finds the callee at the registrar, and the call completes. Each server's own log says
//! what crossed it.

mod common;

use common::kamailio::{Kamailio, Role};
use common::process::Tipring;
use std::time::Duration;

#[test]
fn call_through_proxy_redirect_server_and_registrar_proxy() {
    let registrar = Kamailio::start(
        "53-reg",
        "127.0.0.13:17531".parse().expect("addr"),
        Role::Registrar {
            password: "secret".into(),
            record_route: true,
        },
    );
    let redirect = Kamailio::start(
        "53-redir",
        "127.0.0.12:17532".parse().expect("addr"),
        Role::Redirect {
            target: "sip:2001@127.0.0.13:17531".into(),
        },
    );
    let proxy = Kamailio::start(
        "53-proxy",
        "127.0.0.11:17533".parse().expect("addr"),
        Role::Proxy {
            record_route: true,
            next_hop: Some("127.0.0.12:17532".parse().expect("addr")),
            follow_redirects: true,
        },
    );
    // The callee registers 2001 -> 127.0.0.14:17534. The register command is then killed
    // (no unregister), so the binding stays while `answer` serves that address.
    let reg = Tipring::spawn(
        "53-register",
        &[
            "register",
            "sip:127.0.0.13:17531",
            "--user",
            "2001",
            "--auth",
            "2001:secret",
            "--listen",
            "127.0.0.14:17534",
        ],
    );
    let end = std::time::Instant::now() + Duration::from_secs(10);
    while !reg.stdout().contains("bound for") {
        assert!(
            std::time::Instant::now() < end,
            "register: {}\n{}",
            reg.stdout(),
            registrar.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(reg);
    let mut ans = Tipring::spawn(
        "53-answer",
        &[
            "answer",
            "--listen",
            "127.0.0.14:17534",
            "--answer-after-ms",
            "100",
            "--calls",
            "1",
        ],
    );
    std::thread::sleep(Duration::from_millis(300));
    let mut call = Tipring::spawn(
        "53-call",
        &[
            "call",
            "sip:2001@127.0.0.11:17533",
            "--proxy",
            "sip:127.0.0.11:17533",
            "--listen",
            "127.0.0.15:17535",
            "--hold-secs",
            "1",
        ],
    );
    let (st, out) = call.wait(Duration::from_secs(20));
    std::thread::sleep(Duration::from_millis(300));
    let (p, r, s) = (proxy.lines(), redirect.lines(), registrar.lines());
    assert!(
        st.success(),
        "call: {out}\nproxy {p:#?}\nredirect {r:#?}\nregistrar {s:#?}"
    );
    let (st, aout) = ans.wait(Duration::from_secs(10));
    assert!(st.success(), "answer: {aout}");
    std::thread::sleep(Duration::from_millis(300));
    let (p, r, s) = (proxy.lines(), redirect.lines(), registrar.lines());
    // The registrar challenged, then stored the binding.
    assert!(
        s.iter().any(|l| l.starts_with("challenge sip:2001@")),
        "{s:#?}"
    );
    assert!(
        s.iter().any(|l| l.starts_with("authenticated sip:2001@")),
        "{s:#?}"
    );
    // The first proxy sent the INVITE to the redirect server, which answered 302 ...
    assert!(
        r.iter()
            .any(|l| l.starts_with("redirect sip:2001@127.0.0.11:17533 to sip:2001@127.0.0.13")),
        "{r:#?}"
    );
    assert!(
        p.iter().any(|l| l == "following a redirect"),
        "proxy recursed on the 302: {p:#?}"
    );
    // ... the second proxy located the callee at the registrar and relayed the 200 back.
    assert!(
        s.iter()
            .any(|l| l.starts_with("located 2001 at sip:2001@127.0.0.14:17534")),
        "{s:#?}"
    );
    assert!(
        s.iter()
            .any(|l| l.starts_with("reply 200 OK to INVITE from 127.0.0.14:17534")),
        "{s:#?}"
    );
    assert!(
        p.iter()
            .any(|l| l.starts_with("reply 200 OK to INVITE from 127.0.0.13:17531")),
        "{p:#?}"
    );
    // Both proxies record-routed: the BYE crossed both.
    assert!(p.iter().any(|l| l == "in-dialog BYE routed"), "{p:#?}");
    assert!(s.iter().any(|l| l == "in-dialog BYE routed"), "{s:#?}");
}
