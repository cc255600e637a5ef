//! RFC 3263 against a real DNS server (dnsmasq on loopback, `[dns] servers`, `--dns`):
//! NAPTR → SRV → A for the registrar and for call targets, priorities followed, the next
//! target used when the first times out (one transaction timeout) or answers 503, and
//! weights spreading calls.

mod common;

use common::gateway::{Conf, EXE, run, serial, sipp, start, wait_exit_ok};
use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};
use testkit::dns::{Dnsmasq, Record};
use testkit::process::Proc;
use testkit::testbed::TempDir;

fn host(name: &str, ip: &str) -> Record {
    Record::Host {
        name: name.into(),
        ip: ip.into(),
    }
}

fn srv(service: &str, target: &str, priority: u16, weight: u16) -> Record {
    Record::Srv {
        service: service.into(),
        target: target.into(),
        port: 5060,
        priority,
        weight,
    }
}

fn naptr_udp(name: &str) -> Record {
    Record::Naptr {
        name: name.into(),
        order: 10,
        preference: 10,
        service: "SIP+D2U".into(),
        replacement: format!("_sip._udp.{name}"),
    }
}

/// Waits up to `limit` for a log line of `g` containing `text`; when it came.
fn log_line(g: &testkit::testbed::Node, text: &str, limit: Duration) -> Option<Instant> {
    let end = Instant::now() + limit;
    while Instant::now() < end {
        if g.lines().iter().any(|l| l.text.contains(text)) {
            return Some(Instant::now());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

#[test]
fn the_gateway_registers_and_calls_through_the_next_target_when_the_first_fails() {
    let _serial = serial();
    let tmp = TempDir::new("hil-dns").expect("temp dir");
    // voip.test: NAPTR → _sip._udp.voip.test → dead (priority 10), live (priority 20).
    // calls.test: SRV only → busy (answers 503, priority 10), answer (priority 20).
    let dns = Dnsmasq::start(
        &tmp.0,
        "127.0.78.53:25353".parse().unwrap(),
        60,
        &[
            naptr_udp("voip.test"),
            srv("_sip._udp.voip.test", "dead.voip.test", 10, 0),
            srv("_sip._udp.voip.test", "live.voip.test", 20, 0),
            host("dead.voip.test", "127.0.78.10"),
            host("live.voip.test", "127.0.78.11"),
            srv("_sip._udp.calls.test", "busy.calls.test", 10, 0),
            srv("_sip._udp.calls.test", "answer.calls.test", 20, 0),
            host("busy.calls.test", "127.0.78.20"),
            host("answer.calls.test", "127.0.78.21"),
        ],
    );
    // The first registrar is down: something takes its datagrams and never answers.
    let dead = UdpSocket::bind("127.0.78.10:5060").expect("dead registrar's socket");
    dead.set_nonblocking(true).expect("nonblocking");
    let mut registrar = sipp(
        &tmp.0,
        "gw_registrar.xml",
        "127.0.78.11:5060".parse().unwrap(),
        &[],
    );
    let mut busy = sipp(
        &tmp.0,
        "gw_uas_503.xml",
        "127.0.78.20:5060".parse().unwrap(),
        &[],
    );
    let mut answer = sipp(
        &tmp.0,
        "uas_call.xml",
        "127.0.78.21:5060".parse().unwrap(),
        &[],
    );
    let gw: SocketAddr = "127.0.78.1:25078".parse().unwrap();
    let conf = Conf::new(gw)
        .account(
            "pbx",
            "registrar = \"sip:voip.test\"\nusername = \"gw1\"\npassword = \"secret-pass\"\n",
        )
        .ports(
            "[[ports]]\nindex = 0\nkind = \"fxs\"\nnumber = \"100\"\n\
             hotline = \"sip:200@calls.test\"\n",
        )
        .timers("sip_t1_ms = 100\n")
        .table(&format!("[dns]\nservers = [\"{}\"]\n", dns.addr));
    let started = Instant::now();
    let mut g = start("gw", &tmp.0.join("gw"), gw, &conf, 78);
    let registered = log_line(&g, "account pbx: registered", Duration::from_secs(20))
        .unwrap_or_else(|| panic!("registered through live.voip.test: {:#?}", g.lines()));
    // The dead registrar had the REGISTER and its retransmissions (Timer E) first.
    let mut buf = [0u8; 4096];
    let mut to_dead = 0;
    while let Ok(n) = dead.recv(&mut buf) {
        assert!(buf[..n].starts_with(b"REGISTER sip:voip.test SIP/2.0"));
        to_dead += 1;
    }
    assert!(
        to_dead >= 5,
        "REGISTER sent to the dead target {to_dead} times"
    );
    println!(
        "failover: registered at the priority-20 target {:.1} s after start \
         (Timer F with T1 = 100 ms: 6.4 s; {to_dead} REGISTERs to the dead target)",
        (registered - started).as_secs_f64()
    );
    let log: Vec<String> = g.lines().into_iter().map(|l| l.text).collect();
    assert!(
        log.iter().any(|l| l.contains("voip.test is")
            && l.contains("udp 127.0.78.10:5060 (priority 10")
            && l.contains("udp 127.0.78.11:5060 (priority 20")),
        "the services found are logged: {log:#?}"
    );
    // A call to calls.test: 503 from the first target, answered by the second at once.
    run(&g, "offhook 0\nwait 2000ms\nonhook 0\nwait 500ms");
    let (st, out) = busy.wait(Duration::from_secs(15));
    assert!(st.success(), "the first target answered 503: {out}");
    let (st, out) = answer.wait(Duration::from_secs(15));
    assert!(
        st.success(),
        "the second target had INVITE, ACK and BYE: {out}"
    );
    wait_exit_ok(&mut g);
    let (st, out) = registrar.wait(Duration::from_secs(15));
    assert!(st.success(), "registered and unregistered: {out}");
    let queries = dns.log();
    for q in [
        "query[NAPTR] voip.test",
        "query[SRV] _sip._udp.voip.test",
        "query[A] live.voip.test",
        "query[SRV] _sip._udp.calls.test",
    ] {
        assert!(queries.contains(q), "{q}: {queries}");
    }
}

/// `tipring call --dns` once to `uri`; the address its first INVITE went to and whether
/// the call completed.
fn call(dns: SocketAddr, uri: &str) -> (String, bool) {
    let out = std::process::Command::new(EXE)
        .args(["call", "--dns", &dns.to_string(), "--hold-secs", "0", uri])
        .output()
        .expect("tipring call");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    let first = text
        .lines()
        .find_map(|l| {
            let rest = l.strip_prefix("-> ")?;
            let (to, req) = rest.split_once(' ')?;
            req.starts_with("INVITE ").then(|| to.to_owned())
        })
        .unwrap_or_else(|| panic!("no INVITE sent: {text}"));
    (first, out.status.success())
}

#[test]
fn weights_spread_calls_over_the_targets_of_one_priority() {
    let tmp = TempDir::new("cli-dns").expect("temp dir");
    let dns = Dnsmasq::start(
        &tmp.0,
        "127.0.78.54:25354".parse().unwrap(),
        60,
        &[
            srv("_sip._udp.w.test", "a.w.test", 10, 50),
            srv("_sip._udp.w.test", "b.w.test", 10, 50),
            host("a.w.test", "127.0.78.31"),
            host("b.w.test", "127.0.78.32"),
        ],
    );
    let uas = |ip: &str, name: &str| {
        Proc::spawn(
            &tmp.0,
            name,
            "sipp",
            &["-sn", "uas", "-i", ip, "-p", "5060", "-nostdin"],
        )
    };
    let _a = uas("127.0.78.31", "uas-a");
    let _b = uas("127.0.78.32", "uas-b");
    std::thread::sleep(Duration::from_millis(300));
    const CALLS: usize = 20;
    let results: Vec<(String, bool)> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..4)
            .map(|_| {
                s.spawn(|| {
                    (0..CALLS / 4)
                        .map(|_| call(dns.addr, "sip:100@w.test"))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("worker"))
            .collect()
    });
    assert!(results.iter().all(|(_, ok)| *ok), "{results:?}");
    let to_a = results
        .iter()
        .filter(|(to, _)| to == "127.0.78.31:5060")
        .count();
    let to_b = results
        .iter()
        .filter(|(to, _)| to == "127.0.78.32:5060")
        .count();
    println!("weights 50/50: {to_a} calls to a, {to_b} to b of {CALLS}");
    assert_eq!(to_a + to_b, CALLS);
    // Binomial(20, 1/2): fewer than 3 on one side has a chance of 0.04 %.
    assert!(to_a >= 3 && to_b >= 3, "{to_a} / {to_b}");
}

#[tokio::test]
async fn naptr_order_transports_and_ttls_are_followed() {
    use tipring::gateway::dns::{locate, resolver};
    use tipring_sip::transaction::Transport;
    let tmp = TempDir::new("dns-locate").expect("temp dir");
    let naptr = |order, service: &str, srv_name: &str| Record::Naptr {
        name: "multi.test".into(),
        order,
        preference: 10,
        service: service.into(),
        replacement: srv_name.into(),
    };
    let dns = Dnsmasq::start(
        &tmp.0,
        "127.0.78.55:25355".parse().unwrap(),
        30,
        &[
            // TCP preferred by NAPTR order; a TLS rule we do not run is skipped.
            naptr(5, "SIPS+D2T", "_sips._tcp.multi.test"),
            naptr(10, "SIP+D2T", "_sip._tcp.multi.test"),
            naptr(20, "SIP+D2U", "_sip._udp.multi.test"),
            srv("_sips._tcp.multi.test", "t.multi.test", 10, 0),
            srv("_sip._tcp.multi.test", "t.multi.test", 10, 0),
            srv("_sip._udp.multi.test", "u.multi.test", 10, 0),
            host("t.multi.test", "127.0.78.41"),
            host("u.multi.test", "127.0.78.42"),
            host("multi.test", "127.0.78.40"),
        ],
    );
    let r = resolver(&[dns.addr]).expect("resolver");
    let local: SocketAddr = "127.0.0.1:5060".parse().unwrap();
    let names = ["multi.test".to_owned(), "nothing.test".to_owned()];
    let before = Instant::now();
    let found = locate(&r, &names, &[Transport::Udp, Transport::Tcp], local).await;
    let m = found.table.resolved("multi.test").expect("multi.test");
    assert_eq!(m.ips, ["127.0.78.40".parse::<std::net::IpAddr>().unwrap()]);
    let got: Vec<(Transport, String)> = m
        .services
        .iter()
        .map(|s| (s.transport, s.addr.to_string()))
        .collect();
    assert_eq!(
        got,
        [
            (Transport::Tcp, "127.0.78.41:5060".to_owned()),
            (Transport::Udp, "127.0.78.42:5060".to_owned())
        ]
    );
    assert!(m.services[0].priority < m.services[1].priority);
    assert_eq!(found.failed.len(), 1, "{:?}", found.failed);
    assert!(found.failed[0].starts_with("nothing.test: "));
    // Looked up again when the 30 s TTL runs out, not before, not later.
    let refresh = found.refresh_at.expect("a refresh time") - before;
    assert!(
        refresh > Duration::from_secs(25) && refresh <= Duration::from_secs(31),
        "{refresh:?}"
    );
}

#[test]
fn a_record_route_by_name_from_a_trusted_peer_is_looked_up_and_followed() {
    let _serial = serial();
    let tmp = TempDir::new("hil-dns-rr").expect("temp dir");
    let dns = Dnsmasq::start(
        &tmp.0,
        "127.0.78.56:25356".parse().unwrap(),
        60,
        &[host("edge.voip.test", "127.0.78.60")],
    );
    // The edge proxy: the ACK and BYE of the dialog must come here.
    let edge = UdpSocket::bind("127.0.78.60:5060").expect("edge socket");
    edge.set_read_timeout(Some(Duration::from_millis(200)))
        .expect("timeout");
    let far: SocketAddr = "127.0.78.61:5060".parse().unwrap();
    let mut uas = sipp(&tmp.0, "uas_record_route_name.xml", far, &[]);
    let gw: SocketAddr = "127.0.78.2:25079".parse().unwrap();
    let conf = Conf::new(gw)
        .ports(&format!(
            "[[ports]]\nindex = 0\nkind = \"fxs\"\nnumber = \"100\"\nhotline = \"sip:200@{far}\"\n"
        ))
        .trust(&format!("{}/32", far.ip()))
        .table(&format!("[dns]\nservers = [\"{}\"]\n", dns.addr));
    let mut g = start("gw", &tmp.0.join("gw"), gw, &conf, 79);
    run(&g, "offhook 0\nwait 1500ms\nonhook 0\nwait 500ms");
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let end = Instant::now() + Duration::from_secs(5);
    while Instant::now() < end && !got.iter().any(|m: &String| m.starts_with("BYE ")) {
        if let Ok(n) = edge.recv(&mut buf) {
            got.push(String::from_utf8_lossy(&buf[..n]).into_owned());
        }
    }
    let firsts: Vec<&str> = got.iter().filter_map(|m| m.lines().next()).collect();
    assert!(
        firsts
            .iter()
            .any(|l| l.starts_with("ACK sip:far@127.0.78.61:5060"))
            && firsts
                .iter()
                .any(|l| l.starts_with("BYE sip:far@127.0.78.61:5060")),
        "ACK and BYE through the edge named in Record-Route: {firsts:?}\n{:#?}",
        g.lines()
    );
    assert!(
        got.iter()
            .all(|m| m.contains("Route: <sip:edge.voip.test:5060;lr>")),
        "{got:#?}"
    );
    assert!(dns.log().contains("query[A] edge.voip.test"));
    let _ = uas.wait(Duration::from_secs(10));
    wait_exit_ok(&mut g);
}
