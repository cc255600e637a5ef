//! The seed's §5.2 and §5.3 call flows with two `tipring run` gateways (simulated line
//! cards) and real Kamailio servers: gateway 1's phone calls gateway 2's phone through a
//! proxy (record-route on and off), and through a proxy, a redirect server and a second
//! proxy that finds gateway 2 at the registrar it registered with. Asserted: what the
//! simulated phones observed (ringing, tones measured), what each Kamailio logged, and
//! what tshark's SIP dissector decoded on the loopback interface.

mod common;

use common::gateway::{Conf, dump, fxs, run, start, tone_passes, wait_exit_ok};
use common::kamailio::{Kamailio, Role};
use common::tshark::{self, ladder, without_trying};
use std::net::SocketAddr;
use std::time::Duration;
use testkit::testbed::{Node, TempDir};

/// Phone 100 on gateway 1 calls phone 200 on gateway 2, which rings and answers; a tone
/// passes each way; the caller hangs up and the far phone hears reorder.
fn call_phone_200(g1: &Node, g2: &Node) {
    run(g1, "offhook 0\nexpect-tone 0 350+440 4s\ndial 0 200");
    run(g2, "expect-ringing 0 8s");
    run(g1, "expect-tone 0 440+480 5s");
    run(g2, "expect-callerid 0 100 8s\noffhook 0\nwait 300ms");
    tone_passes(g1, 0, g2, 0, 1000.0);
    tone_passes(g2, 0, g1, 0, 1400.0);
    run(g1, "onhook 0");
    run(g2, "expect-tone 0 480+620 5s\nonhook 0\nwait 300ms");
}

/// Seed §5.2: gateway 1's account sends its INVITE to a Kamailio proxy, which relays it to
/// gateway 2. With `record_route` the proxy stays in the path and the BYE crosses it;
/// without, the BYE goes straight from gateway 1 to gateway 2.
fn through_proxy(tag: &str, net: u8, port: u16, record_route: bool) {
    let tmp = TempDir::new(tag).expect("temp dir");
    let a1 = SocketAddr::from(([127, 0, net, 1], port));
    let a2 = SocketAddr::from(([127, 0, net, 2], port));
    let ap = SocketAddr::from(([127, 0, net, 10], port));
    let proxy = Kamailio::start(
        tag,
        ap,
        Role::Proxy {
            record_route,
            next_hop: Some(a2),
            follow_redirects: false,
        },
    );
    let cap = tshark::Capture::start(tag, &[port]);
    let c1 = Conf::new(a1)
        .account("office", &format!("proxy = \"sip:{ap}\""))
        .ports(&fxs("100", "Alice"));
    // gw2 has no account: the proxy that calls its phone is trusted to ring it.
    let c2 = Conf::new(a2)
        .ports(&fxs("200", "Bob"))
        .trust(&ap.ip().to_string());
    let mut g1 = start("gw1", &tmp.0.join("gw1"), a1, &c1, 21);
    let mut g2 = start("gw2", &tmp.0.join("gw2"), a2, &c2, 22);
    call_phone_200(&g1, &g2);
    let wire = cap.stop();
    let p = proxy.lines();
    let (to_proxy, from_proxy, direct) = (
        without_trying(ladder(&wire, a1, ap)),
        without_trying(ladder(&wire, ap, a2)),
        ladder(&wire, a1, a2),
    );
    let shown = format!(
        "gw1-proxy {to_proxy:?}\nproxy-gw2 {from_proxy:?}\ngw1-gw2 {direct:?}\nproxy log {p:#?}"
    );
    // The INVITE crossed the proxy both ways in any case.
    for leg in [&to_proxy, &from_proxy] {
        assert_eq!(
            leg.get(..3),
            Some(&["> INVITE", "< 180/INVITE", "< 200/INVITE"].map(String::from)[..]),
            "{shown}"
        );
    }
    assert!(
        p.iter()
            .any(|l| l.starts_with(&format!("reply 200 OK to INVITE from {a2}"))),
        "{shown}"
    );
    let dialog = ["> ACK", "> BYE", "< 200/BYE"].map(String::from);
    if record_route {
        // Record-Route kept the proxy in the dialog: ACK and BYE went through it.
        assert_eq!(to_proxy.get(3..), Some(&dialog[..]), "{shown}");
        assert_eq!(from_proxy.get(3..), Some(&dialog[..]), "{shown}");
        assert!(direct.is_empty(), "{shown}");
        assert!(p.iter().any(|l| l == "in-dialog BYE routed"), "{shown}");
    } else {
        // The proxy left the path after the 200: ACK and BYE went gateway to gateway.
        assert_eq!(to_proxy.len(), 3, "{shown}");
        assert_eq!(from_proxy.len(), 3, "{shown}");
        assert_eq!(direct, dialog, "{shown}");
        assert!(!p.iter().any(|l| l.starts_with("BYE ")), "{shown}");
    }
    wait_exit_ok(&mut g1);
    wait_exit_ok(&mut g2);
}

#[test]
fn seed_5_2_proxy_with_record_route_keeps_the_bye() {
    let _serial = common::gateway::serial();
    through_proxy("hil-52-rr", 52, 25052, true);
}

#[test]
fn seed_5_2_proxy_without_record_route_lets_the_bye_go_direct() {
    let _serial = common::gateway::serial();
    through_proxy("hil-52-norr", 53, 25053, false);
}

/// Seed §5.3: gateway 2 registers its line (200) with a Kamailio registrar (digest);
/// gateway 1 sends the INVITE to its proxy C, which asks a redirect server, gets 302 to
/// proxy S (the registrar's instance, which looks the number up) and recurses there; S
/// finds gateway 2; the phone rings, answers, audio passes, the caller hangs up.
#[test]
fn seed_5_3_proxy_redirect_and_registrar_reach_the_registered_gateway() {
    let _serial = common::gateway::serial();
    let tmp = TempDir::new("hil-53").expect("temp dir");
    let port = 25054;
    let at = |host: u8| SocketAddr::from(([127, 0, 54, host], port));
    let (a1, a2, ac, ar, as_) = (at(1), at(2), at(11), at(12), at(13));
    let registrar = Kamailio::start(
        "hil-53-s",
        as_,
        Role::Registrar {
            password: "secret123".into(),
            record_route: true,
        },
    );
    let redirect = Kamailio::start(
        "hil-53-r",
        ar,
        Role::Redirect {
            target: format!("sip:200@{as_}"),
        },
    );
    let proxy = Kamailio::start(
        "hil-53-c",
        ac,
        Role::Proxy {
            record_route: true,
            next_hop: Some(ar),
            follow_redirects: true,
        },
    );
    let cap = tshark::Capture::start("hil-53", &[port]);
    let c2 = Conf::new(a2)
        .account(
            "pbx",
            &format!(
                "registrar = \"sip:{as_}\"\nusername = \"200\"\npassword = \"secret123\"\nregister_expiry_s = 300"
            ),
        )
        .ports(&fxs("200", "Bob"));
    let mut g2 = start("gw2", &tmp.0.join("gw2"), a2, &c2, 32);
    let c1 = Conf::new(a1)
        .account("office", &format!("proxy = \"sip:{ac}\""))
        .ports(&fxs("100", "Alice"));
    let mut g1 = start("gw1", &tmp.0.join("gw1"), a1, &c1, 31);
    if !registrar.wait_line("authenticated sip:200@", Duration::from_secs(10)) {
        dump(&g2);
        panic!("gateway 2 never authenticated: {:#?}", registrar.lines());
    }
    call_phone_200(&g1, &g2);
    let wire = cap.stop();
    let (c, r, s) = (proxy.lines(), redirect.lines(), registrar.lines());
    let shown = format!("proxy C {c:#?}\nredirect {r:#?}\nregistrar/proxy S {s:#?}");
    // The registrar challenged the REGISTER, then took the authenticated one.
    let challenge = s.iter().position(|l| l.starts_with("challenge sip:200@"));
    let authed = s
        .iter()
        .position(|l| l.starts_with("authenticated sip:200@"));
    assert!(
        challenge.is_some() && challenge < authed,
        "401 then authenticated: {shown}"
    );
    let registers: Vec<String> = wire
        .iter()
        .filter(|p| p.cseq_method == "REGISTER")
        .filter(|p| [a2.to_string(), as_.to_string()].contains(&p.src))
        .map(|p| p.label())
        .collect();
    assert_eq!(
        registers.get(..4),
        Some(&["REGISTER", "401/REGISTER", "REGISTER", "200/REGISTER"].map(String::from)[..]),
        "{registers:?} {shown}"
    );
    // C sent the INVITE to the redirect server, which answered 302 to S; C recursed; S
    // located gateway 2 through its registration and relayed the 200 back through C.
    let logged = |lines: &[String], start: &str| lines.iter().any(|l| l.starts_with(start));
    for (server, lines, line) in [
        (
            "redirect",
            &r,
            format!("redirect sip:200@{ac} to sip:200@{as_}"),
        ),
        ("C", &c, "following a redirect".to_owned()),
        ("S", &s, format!("located 200 at sip:200@{a2}")),
        ("S", &s, format!("reply 200 OK to INVITE from {a2}")),
        ("C", &c, format!("reply 200 OK to INVITE from {as_}")),
    ] {
        assert!(
            logged(lines, &line),
            "{server} did not log `{line}`: {shown}"
        );
    }
    // On the wire: gateway 1 talked only to C; gateway 2 only to S; the BYE crossed both.
    let to_c = without_trying(ladder(&wire, a1, ac));
    assert_eq!(to_c, testkit::tshark::SEED_5_1, "{shown}");
    assert!(ladder(&wire, a1, a2).is_empty(), "{shown}");
    assert_eq!(
        ladder(&wire, ac, ar).get(..2),
        Some(&["> INVITE", "< 302/INVITE"].map(String::from)[..]),
        "{shown}"
    );
    assert!(s.iter().any(|l| l == "in-dialog BYE routed"), "{shown}");
    wait_exit_ok(&mut g1);
    wait_exit_ok(&mut g2);
}

/// An account over TCP (`transport = "tcp"`): gateway 1 registers with the Kamailio
/// registrar and sends its INVITE to it over TCP (Via SIP/2.0/TCP, Contact
/// `;transport=tcp`); the registrar finds gateway 2 (registered over UDP) and relays over
/// UDP. Record-Route keeps the registrar in the dialog, so the BYE from gateway 1 goes back
/// over TCP too (the Record-Route URI it chose names the transport).
#[test]
fn an_account_over_tcp_registers_and_calls_through_kamailio() {
    let _serial = common::gateway::serial();
    let tmp = TempDir::new("hil-tcp").expect("temp dir");
    let port = 25055;
    let at = |host: u8| SocketAddr::from(([127, 0, 55, host], port));
    let (a1, a2, ar) = (at(1), at(2), at(5));
    let registrar = Kamailio::start(
        "hil-tcp",
        ar,
        Role::Registrar {
            password: "secret123".into(),
            record_route: true,
        },
    );
    let account = |user: &str, transport: &str| {
        format!(
            "registrar = \"sip:{ar}\"\nproxy = \"sip:{ar};lr\"\ndomain = \"{ar}\"\n\
             username = \"{user}\"\npassword = \"secret123\"\nregister_expiry_s = 300\n\
             transport = \"{transport}\""
        )
    };
    let c2 = Conf::new(a2)
        .account("pbx", &account("200", "udp"))
        .ports(&fxs("200", "Bob"));
    let mut g2 = start("gw2", &tmp.0.join("gw2"), a2, &c2, 42);
    let c1 = Conf::new(a1)
        .tcp()
        .account("pbx", &account("100", "tcp"))
        .ports(&fxs("100", "Alice"));
    let mut g1 = start("gw1", &tmp.0.join("gw1"), a1, &c1, 41);
    for user in ["100", "200"] {
        if !registrar.wait_line(
            &format!("authenticated sip:{user}@"),
            Duration::from_secs(10),
        ) {
            dump(&g1);
            panic!("{user} never authenticated: {:#?}", registrar.lines());
        }
    }
    call_phone_200(&g1, &g2);
    let s = registrar.lines();
    let from = |who: SocketAddr, what: &str, proto: &str| {
        s.iter().any(|l| {
            l.starts_with(what) && l.contains(&format!("from {}:", who.ip())) && l.ends_with(proto)
        })
    };
    assert!(from(a1, "REGISTER ", "over tcp"), "{s:#?}");
    assert!(from(a2, "REGISTER ", "over udp"), "{s:#?}");
    assert!(from(a1, "INVITE sip:200@", "over tcp"), "{s:#?}");
    assert!(from(a1, "BYE ", "over tcp"), "{s:#?}");
    assert!(s.iter().any(|l| l == "in-dialog BYE routed"), "{s:#?}");
    assert!(
        !s.iter()
            .any(|l| l.contains(&format!("from {}:", a1.ip())) && l.ends_with("over udp")),
        "gateway 1 sent something to its account over UDP: {s:#?}"
    );
    wait_exit_ok(&mut g1);
    wait_exit_ok(&mut g2);
}
