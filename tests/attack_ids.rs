//! Attacks on the identifiers and transactions of `tipring run` on
//! 127.0.11.x: predicting tags from the ones a gateway hands out, and forging responses,
//! redirects and in-dialog requests from hosts that are not the ones a transaction or
//! dialog belongs to.

mod common;

use common::gateway::{Conf, EXE, dump, fxs, serial, sip_answers};
use std::net::{SocketAddr, UdpSocket};
use std::path::Path;
use std::time::Duration;
use testkit::testbed::{Node, TempDir};

const GOLDEN: u64 = 0x9e37_79b9_7f4a_7c15;

/// A UDP port free on 127.0.11.`host`.
fn free_port(host: u8) -> u16 {
    UdpSocket::bind(("127.0.11.".to_owned() + &host.to_string(), 0))
        .and_then(|s| s.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// `tipring run` on `sip` with one FXS port, seeded or not; returns once it answers.
fn gateway(dir: &Path, sip: SocketAddr, seed: Option<u64>) -> Node {
    let conf = Conf::new(sip).ports(&fxs("100", "Alice")).render();
    let mut g = Node::prepare("gw", dir, sip).expect("testbed node");
    match seed {
        Some(s) => g.start(Path::new(EXE), &conf, s),
        None => g.start_unseeded(Path::new(EXE), &conf),
    }
    .expect("tipring run");
    assert!(g.wait_link(Duration::from_secs(10)), "card link");
    if !sip_answers(sip, Duration::from_secs(10)) {
        dump(&g);
        panic!("no answer to OPTIONS at {sip}");
    }
    g
}

/// The To tags of the 200s to `n` OPTIONS sent one after another from `s`.
fn options_tags(s: &UdpSocket, to: SocketAddr, n: usize) -> Vec<String> {
    let me = s.local_addr().unwrap();
    s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let mut buf = [0u8; 4096];
    (0..n)
        .map(|i| {
            let req = format!(
                "OPTIONS sip:{to} SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch=z9hG4bKids{i}\r\n\
                 Max-Forwards: 70\r\nFrom: <sip:scan@{me}>;tag=scan{i}\r\nTo: <sip:{to}>\r\n\
                 Call-ID: ids{i}@{me}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
            );
            s.send_to(req.as_bytes(), to).unwrap();
            loop {
                let (len, _) = s.recv_from(&mut buf).expect("a response to OPTIONS");
                let text = String::from_utf8_lossy(&buf[..len]).into_owned();
                if !text.starts_with("SIP/2.0 200") {
                    continue;
                }
                let to_line = text
                    .lines()
                    .find(|l| l.to_ascii_lowercase().starts_with("to:"))
                    .expect("a To header")
                    .to_owned();
                let tag = to_line.split(";tag=").nth(1).expect("a To tag");
                return tag.split(';').next().unwrap().trim().to_owned();
            }
        })
        .collect()
}

/// The inverse of splitmix64's output function: the generator state behind one output.
fn unmix(mut z: u64) -> u64 {
    fn unshift(z: u64, s: u32) -> u64 {
        let mut x = z;
        for _ in 0..(64 / s) {
            x = z ^ (x >> s);
        }
        x
    }
    fn inverse(a: u64) -> u64 {
        // Newton's iteration for the inverse of an odd number modulo 2^64.
        let mut x = a;
        for _ in 0..6 {
            x = x.wrapping_mul(2u64.wrapping_sub(a.wrapping_mul(x)));
        }
        x
    }
    z = unshift(z, 31);
    z = z.wrapping_mul(inverse(0x94d0_49bb_1331_11eb));
    z = unshift(z, 27);
    z = z.wrapping_mul(inverse(0xbf58_476d_1ce4_e5b9));
    unshift(z, 30)
}

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// How many tags the attack predicts: each tag inverted to the generator state,
/// the next draw computed, and looked for among the tags that follow.
fn predicted(tags: &[String]) -> usize {
    let vals: Vec<u64> = tags
        .iter()
        .filter_map(|t| u64::from_str_radix(t, 16).ok())
        .collect();
    (0..vals.len().saturating_sub(1))
        .filter(|&i| {
            let next = mix(unmix(vals[i]).wrapping_add(GOLDEN));
            vals[i + 1..].contains(&next)
        })
        .count()
}

#[test]
fn to_tags_are_random_and_the_splitmix_inversion_fails() {
    let _serial = serial();
    let tmp = TempDir::new("attack-ids-tags").unwrap();
    let attacker = UdpSocket::bind("127.0.11.2:0").unwrap();

    // The test knob: with --seed the attack works (this is what the test would see
    // without the defence).
    let sip = SocketAddr::from(([127, 0, 11, 1], free_port(1)));
    let seeded = gateway(&tmp.0.join("seeded"), sip, Some(99));
    let tags = options_tags(&attacker, sip, 20);
    let hits = predicted(&tags);
    drop(seeded);
    assert!(hits >= 15, "seeded: only {hits} of 19 predicted: {tags:?}");

    let sip = SocketAddr::from(([127, 0, 11, 1], free_port(1)));
    let g = gateway(&tmp.0.join("random"), sip, None);
    let tags = options_tags(&attacker, sip, 20);
    drop(g);
    let distinct: std::collections::HashSet<&String> = tags.iter().collect();
    assert_eq!(distinct.len(), 20, "{tags:?}");
    for t in &tags {
        assert!(
            t.len() >= 16 && t.chars().all(|c| c.is_ascii_hexdigit()),
            "tag {t}"
        );
    }
    assert_eq!(predicted(&tags), 0, "{tags:?}");
}

/// A UDP socket on 127.0.`net`.`host` with a short read timeout.
fn sock(ip: [u8; 4]) -> UdpSocket {
    let s = UdpSocket::bind(SocketAddr::from((ip, 0))).unwrap();
    s.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    s
}

/// The next SIP request with `method` received on `s` within `limit` (others skipped).
fn recv_request(s: &UdpSocket, method: &str, limit: Duration) -> Option<(String, SocketAddr)> {
    let end = std::time::Instant::now() + limit;
    let mut buf = [0u8; 8192];
    while std::time::Instant::now() < end {
        if let Ok((n, from)) = s.recv_from(&mut buf) {
            let text = String::from_utf8_lossy(&buf[..n]).into_owned();
            if text.starts_with(&format!("{method} ")) {
                return Some((text, from));
            }
        }
    }
    None
}

/// Everything received on `s` within `limit`.
fn drain(s: &UdpSocket, limit: Duration) -> Vec<String> {
    let end = std::time::Instant::now() + limit;
    let mut buf = [0u8; 8192];
    let mut v = Vec::new();
    while std::time::Instant::now() < end {
        if let Ok((n, _)) = s.recv_from(&mut buf) {
            v.push(String::from_utf8_lossy(&buf[..n]).into_owned());
        }
    }
    v
}

/// A response to `req` (its Via, From, To with `tag`, Call-ID and CSeq) with `extra` headers.
fn response(req: &str, status: &str, tag: &str, extra: &str) -> String {
    let mut out = format!("SIP/2.0 {status}\r\n");
    for l in req.lines() {
        let lower = l.to_ascii_lowercase();
        if lower.starts_with("via:")
            || lower.starts_with("from:")
            || lower.starts_with("call-id:")
            || lower.starts_with("cseq:")
        {
            out += l;
            out += "\r\n";
        } else if lower.starts_with("to:") {
            out += &format!("{l};tag={tag}\r\n");
        }
    }
    out + extra + "Content-Length: 0\r\n\r\n"
}

/// `tipring run` on 127.0.11.1 whose FXS phone (port 0) calls `sip:200@proxy` on
/// off-hook, `proxy` being its account's proxy with credentials; `security` extra fields.
fn caller_gateway(dir: &Path, proxy: SocketAddr, security: &str) -> (Node, SocketAddr) {
    caller_gateway_with(dir, proxy, security, |c| c)
}

/// As [`caller_gateway`], `tweak` changing the configuration.
fn caller_gateway_with(
    dir: &Path,
    proxy: SocketAddr,
    security: &str,
    tweak: impl FnOnce(Conf) -> Conf,
) -> (Node, SocketAddr) {
    let sip = SocketAddr::from(([127, 0, 11, 1], free_port(1)));
    let conf = tweak(Conf::new(sip))
        .account(
            "pbx",
            &format!("proxy = \"sip:{proxy}\"\nusername = \"100\"\npassword = \"secret-pw\""),
        )
        .ports(&format!(
            "[[ports]]\nindex = 0\nkind = \"fxs\"\nnumber = \"100\"\nhotline = \"sip:200@{proxy}\"\n"
        ))
        .security(security)
        .render();
    let mut g = Node::prepare("gw", dir, sip).expect("testbed node");
    g.start_unseeded(Path::new(EXE), &conf)
        .expect("tipring run");
    assert!(g.wait_link(Duration::from_secs(10)), "card link");
    if !sip_answers(sip, Duration::from_secs(10)) {
        dump(&g);
        panic!("no answer to OPTIONS at {sip}");
    }
    (g, sip)
}

#[test]
fn forged_responses_and_redirects_to_our_invite_are_not_followed() {
    let _serial = serial();
    let tmp = TempDir::new("attack-ids-forged").unwrap();
    let proxy = sock([127, 0, 11, 3]);
    let attacker = sock([127, 0, 11, 4]);
    let victim = sock([127, 0, 0, 1]);
    let (p, x, v) = (
        proxy.local_addr().unwrap(),
        attacker.local_addr().unwrap(),
        victim.local_addr().unwrap(),
    );
    let (g, gw) = caller_gateway(&tmp.0.join("gw"), p, "");
    common::gateway::run(&g, "offhook 0");
    let Some((inv, _)) = recv_request(&proxy, "INVITE", Duration::from_secs(5)) else {
        dump(&g);
        panic!("no INVITE at the proxy");
    };
    // A third host that read or guessed the INVITE answers it: a 302 to itself, a 200,
    // a 503 with an endless Retry-After.
    let to_me = format!("Contact: <sip:200@{x}>\r\n");
    for (status, extra) in [
        ("302 Moved", to_me.as_str()),
        ("200 OK", to_me.as_str()),
        ("503 Down", "Retry-After: 4294967295\r\n"),
    ] {
        attacker
            .send_to(response(&inv, status, "evil", extra).as_bytes(), gw)
            .unwrap();
    }
    let got = drain(&attacker, Duration::from_millis(1500));
    assert!(got.is_empty(), "the gateway answered the forger: {got:?}");
    // The INVITE is still waiting for the proxy: retransmitted (Timer A), never ACKed.
    let at_proxy = drain(&proxy, Duration::from_millis(1000));
    let via = header(&inv, "Via");
    assert!(
        at_proxy
            .iter()
            .any(|m| m.starts_with("INVITE ") && header(m, "Via") == via),
        "no retransmission: a forged response ended the transaction: {at_proxy:?}"
    );
    assert!(
        at_proxy.iter().all(|m| !m.starts_with("ACK ")),
        "{at_proxy:?}"
    );
    // The real proxy redirects to 127.0.0.1, which is not one of the account's servers.
    let to_loopback = format!("Contact: <sip:200@{v}>\r\n");
    proxy
        .send_to(
            response(&inv, "302 Moved", "p", &to_loopback).as_bytes(),
            gw,
        )
        .unwrap();
    assert!(
        recv_request(&proxy, "ACK", Duration::from_secs(3)).is_some(),
        "the proxy's 302 is the transaction's response (ACKed)"
    );
    let got = drain(&victim, Duration::from_millis(1500));
    assert!(got.is_empty(), "followed a redirect to loopback: {got:?}");
    drop(g);
}

#[test]
fn a_redirect_to_an_allowed_host_gets_no_credentials_for_an_rfc2069_challenge() {
    let _serial = serial();
    let tmp = TempDir::new("attack-ids-md5").unwrap();
    let proxy = sock([127, 0, 11, 3]);
    let attacker = sock([127, 0, 11, 4]);
    let (p, x) = (proxy.local_addr().unwrap(), attacker.local_addr().unwrap());
    // The attacker's host is allowed as a redirect target: only the credentials stop him.
    let (g, gw) = caller_gateway(&tmp.0.join("gw"), p, "redirect_allow = [\"127.0.11.4\"]\n");
    common::gateway::run(&g, "offhook 0");
    let Some((inv, _)) = recv_request(&proxy, "INVITE", Duration::from_secs(5)) else {
        dump(&g);
        panic!("no INVITE at the proxy");
    };
    proxy
        .send_to(
            response(
                &inv,
                "302 Moved",
                "p",
                &format!("Contact: <sip:200@{x}>\r\n"),
            )
            .as_bytes(),
            gw,
        )
        .unwrap();
    let Some((inv2, _)) = recv_request(&attacker, "INVITE", Duration::from_secs(3)) else {
        dump(&g);
        panic!("the allowed redirect was not followed");
    };
    let md5 = "WWW-Authenticate: Digest realm=\"pbx\", nonce=\"abc\", algorithm=MD5\r\n";
    attacker
        .send_to(response(&inv2, "401 Unauthorized", "e", md5).as_bytes(), gw)
        .unwrap();
    let got = drain(&attacker, Duration::from_millis(2000));
    assert!(
        got.iter()
            .all(|m| !m.to_ascii_lowercase().contains("authorization:")),
        "credentials sent: {got:?}"
    );
    assert!(
        got.iter().any(|m| m.starts_with("ACK ")),
        "the 401 is ACKed: {got:?}"
    );
    drop(g);
}

/// A header line of `msg` by name (case-insensitive), without the name.
fn header<'m>(msg: &'m str, name: &str) -> &'m str {
    msg.lines()
        .find(|l| {
            l.to_ascii_lowercase()
                .starts_with(&format!("{}:", name.to_ascii_lowercase()))
        })
        .map_or("", |l| l[name.len() + 1..].trim())
}

#[test]
fn forged_503_to_register_from_a_third_host_is_ignored() {
    let _serial = serial();
    let tmp = TempDir::new("attack-ids-register").unwrap();
    let registrar = sock([127, 0, 11, 3]);
    let attacker = sock([127, 0, 11, 4]);
    let r = registrar.local_addr().unwrap();
    let sip = SocketAddr::from(([127, 0, 11, 1], free_port(1)));
    let conf = Conf::new(sip)
        .account(
            "pbx",
            &format!("registrar = \"sip:{r}\"\nusername = \"100\"\npassword = \"secret-pw\""),
        )
        .ports(&fxs("100", "Alice"))
        .render();
    let mut g = Node::prepare("gw", &tmp.0.join("gw"), sip).expect("testbed node");
    g.start_unseeded(Path::new(EXE), &conf)
        .expect("tipring run");
    let Some((reg, _)) = recv_request(&registrar, "REGISTER", Duration::from_secs(10)) else {
        dump(&g);
        panic!("no REGISTER");
    };
    attacker
        .send_to(
            response(&reg, "503 Down", "x", "Retry-After: 4294967295\r\n").as_bytes(),
            sip,
        )
        .unwrap();
    // The transaction is still waiting for the registrar: it retransmits the same request
    // (Timer E), which it would not after taking the 503.
    let branch = header(&reg, "Via").to_owned();
    let again = recv_request(&registrar, "REGISTER", Duration::from_secs(3));
    assert!(
        again
            .as_ref()
            .is_some_and(|(m, _)| header(m, "Via") == branch),
        "no retransmission: the forged 503 ended the transaction ({again:?})"
    );
    assert!(drain(&attacker, Duration::from_millis(300)).is_empty());
    drop(g);
}

#[test]
fn bye_and_reinvite_with_the_right_tags_from_another_host_are_refused() {
    let _serial = serial();
    let tmp = TempDir::new("attack-ids-bye").unwrap();
    let proxy = sock([127, 0, 11, 3]);
    let attacker = sock([127, 0, 11, 4]);
    let p = proxy.local_addr().unwrap();
    let (g, gw) = caller_gateway(&tmp.0.join("gw"), p, "");
    common::gateway::run(&g, "offhook 0");
    let Some((inv, _)) = recv_request(&proxy, "INVITE", Duration::from_secs(5)) else {
        dump(&g);
        panic!("no INVITE at the proxy");
    };
    let sdp = format!(
        "v=0\r\no=- 1 1 IN IP4 127.0.11.3\r\ns=-\r\nc=IN IP4 127.0.11.3\r\nt=0 0\r\n\
         m=audio {} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n",
        p.port() + 1
    );
    let ok = response(
        &inv,
        "200 OK",
        "p",
        &format!("Contact: <sip:200@{p}>\r\nContent-Type: application/sdp\r\n"),
    )
    .replace(
        "Content-Length: 0\r\n\r\n",
        &format!("Content-Length: {}\r\n\r\n{sdp}", sdp.len()),
    );
    proxy.send_to(ok.as_bytes(), gw).unwrap();
    assert!(
        recv_request(&proxy, "ACK", Duration::from_secs(3)).is_some(),
        "call up"
    );
    // The dialog as the proxy's side has it: its tag "p", the gateway's From tag.
    let (from, to, call_id) = (
        header(&inv, "From"),
        header(&inv, "To"),
        header(&inv, "Call-ID"),
    );
    let me = attacker.local_addr().unwrap();
    let forged = |method: &str, seq: u32| {
        format!(
            "{method} sip:100@{gw} SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch=z9hG4bKforged{seq}\r\n\
             Max-Forwards: 70\r\nFrom: {to};tag=p\r\nTo: {from}\r\nCall-ID: {call_id}\r\n\
             CSeq: {seq} {method}\r\nContact: <sip:200@{me}>\r\nContent-Length: 0\r\n\r\n"
        )
    };
    for (i, method) in ["BYE", "INVITE", "UPDATE", "PRACK"].into_iter().enumerate() {
        attacker
            .send_to(forged(method, 1000 + i as u32).as_bytes(), gw)
            .unwrap();
        let got = drain(&attacker, Duration::from_millis(800));
        assert!(
            got.iter().any(|m| m.starts_with("SIP/2.0 403")),
            "{method} from a third host: {got:?}"
        );
        assert!(got.iter().all(|m| !m.starts_with("SIP/2.0 200")), "{got:?}");
    }
    // The call is still up: the proxy's own BYE is answered 200, not 481.
    let bye = forged("BYE", 2000).replace(&me.to_string(), &p.to_string());
    proxy.send_to(bye.as_bytes(), gw).unwrap();
    let got = drain(&proxy, Duration::from_millis(1500));
    assert!(
        got.iter().any(|m| m.starts_with("SIP/2.0 200")),
        "the real BYE: {got:?}"
    );
    drop(g);
}

#[test]
fn a_response_over_tcp_to_an_invite_sent_over_udp_is_ignored() {
    let _serial = serial();
    let tmp = TempDir::new("attack-ids-tcp").unwrap();
    let proxy = sock([127, 0, 11, 3]);
    let p = proxy.local_addr().unwrap();
    let (g, gw) = caller_gateway_with(&tmp.0.join("gw"), p, "", Conf::tcp);
    common::gateway::run(&g, "offhook 0");
    let Some((inv, _)) = recv_request(&proxy, "INVITE", Duration::from_secs(5)) else {
        dump(&g);
        panic!("no INVITE at the proxy");
    };
    // The proxy's own address, over TCP: the INVITE went over UDP.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let forged = response(&inv, "503 Down", "evil", "Retry-After: 3600\r\n");
    rt.block_on(async {
        use tokio::io::AsyncWriteExt;
        let s = tokio::net::TcpSocket::new_v4().unwrap();
        s.bind(SocketAddr::from(([127, 0, 11, 3], 0))).unwrap();
        let mut c = s.connect(gw).await.expect("TCP connect");
        c.write_all(forged.as_bytes()).await.unwrap();
        tokio::time::sleep(Duration::from_millis(1200)).await;
    });
    let at_proxy = drain(&proxy, Duration::from_millis(800));
    let via = header(&inv, "Via");
    assert!(
        at_proxy
            .iter()
            .any(|m| m.starts_with("INVITE ") && header(m, "Via") == via),
        "no retransmission: the TCP response ended the UDP transaction: {at_proxy:?}"
    );
    assert!(
        at_proxy.iter().all(|m| !m.starts_with("ACK ")),
        "{at_proxy:?}"
    );
    drop(g);
}
