//! Attack: an INVITE whose SDP or Contact aims the gateway at something that is not a
//! peer. Against `tipring run` on a simulated card at
//! 127.0.15.1 (so loopback peers are allowed: the box listens on loopback), a scripted UAC
//! at 127.0.15.9 (trusted, so only the address policy can refuse it) sends INVITEs toward
//! the FXS phone whose offer says `c=0.0.0.0`, `c=224.0.0.1`, `c=255.255.255.255`, or
//! names the gateway's own SIP or RTP socket, and INVITEs whose Contact or Record-Route is
//! the gateway itself or multicast. Each gets 488 (offers) or 403 (Contact, Record-Route)
//! and the phone never rings (no Ring command reaches the card). A last, well-formed
//! INVITE from the same UAC rings the phone: the refusals are the policy's, not a broken
//! bench. Once the phone answers, a re-INVITE moving the media to multicast gets 488 and
//! one holding the call with `c=0.0.0.0` (RFC 3264 §8.4) is still taken.

mod common;

use common::gateway::{Conf, commands, fxs, ringing, run, start, wait_exit_ok};
use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};
use testkit::testbed::TempDir;
use tipring_hal::model::Command;

const GW: &str = "127.0.15.1:25150";
const UAC: &str = "127.0.15.9:25150";

fn invite(n: u32, contact: &str, record_route: Option<&str>, c: &str, port: u16) -> String {
    let me: SocketAddr = UAC.parse().unwrap();
    let sdp = format!(
        "v=0\r\no=- {n} 1 IN IP4 127.0.15.9\r\ns=-\r\nc=IN IP4 {c}\r\nt=0 0\r\n\
         m=audio {port} RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n\
         a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=sendrecv\r\n"
    );
    let rr = record_route.map_or(String::new(), |r| format!("Record-Route: <{r}>\r\n"));
    format!(
        "INVITE sip:100@{GW} SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch=z9hG4bKattack{n}\r\n\
         Max-Forwards: 70\r\nFrom: <sip:mallory@{me}>;tag=m{n}\r\nTo: <sip:100@{GW}>\r\n\
         Call-ID: attack-{n}@127.0.15.9\r\nCSeq: 1 INVITE\r\nContact: <{contact}>\r\n{rr}\
         Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{sdp}",
        sdp.len()
    )
}

/// Sends `req` and returns the status codes of the responses to it until a final one
/// (or none after 5 s), ACKing a final failure as RFC 3261 §17.1.1.3 asks.
fn exchange(s: &UdpSocket, req: &str) -> Vec<u16> {
    let gw: SocketAddr = GW.parse().unwrap();
    s.send_to(req.as_bytes(), gw).unwrap();
    let mut codes = Vec::new();
    let mut buf = [0u8; 4096];
    let end = Instant::now() + Duration::from_secs(5);
    while Instant::now() < end {
        let Ok((n, _)) = s.recv_from(&mut buf) else {
            continue;
        };
        let text = String::from_utf8_lossy(&buf[..n]).into_owned();
        let Some(code) = text
            .strip_prefix("SIP/2.0 ")
            .and_then(|r| r.get(..3))
            .and_then(|c| c.parse::<u16>().ok())
        else {
            continue;
        };
        codes.push(code);
        if code >= 200 {
            if code >= 300 {
                let to = text
                    .lines()
                    .find(|l| l.starts_with("To:"))
                    .unwrap_or("To: <sip:100@x>");
                let via = req.lines().find(|l| l.starts_with("Via:")).unwrap();
                let head: Vec<&str> = req
                    .lines()
                    .filter(|l| l.starts_with("From:") || l.starts_with("Call-ID:"))
                    .collect();
                let ack = format!(
                    "ACK sip:100@{GW} SIP/2.0\r\n{via}\r\nMax-Forwards: 70\r\n{}\r\n{to}\r\n\
                     CSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n",
                    head.join("\r\n")
                );
                let _ = s.send_to(ack.as_bytes(), gw);
            }
            break;
        }
    }
    codes
}

/// One hostile INVITE and the final answer it must get.
struct Case {
    what: &'static str,
    contact: String,
    rr: Option<&'static str>,
    c: &'static str,
    port: u16,
    want: u16,
}

fn rings(g: &testkit::testbed::Node) -> usize {
    commands(g, 0)
        .iter()
        .filter(|c| matches!(c, Command::Ring(_)))
        .count()
}

#[test]
fn offers_and_contacts_aiming_at_non_peers_are_refused_and_the_phone_never_rings() {
    let _serial = common::gateway::serial();
    let tmp = TempDir::new("attack-media").expect("temp dir");
    let gw: SocketAddr = GW.parse().unwrap();
    let conf = Conf::new(gw)
        .ports(&fxs("100", "Alice"))
        .trust("127.0.15.9");
    let mut g = start("gw", &tmp.0.join("gw"), gw, &conf, 1);
    // The gateway's RTP socket for port 0, from its start-up line.
    let rtp: SocketAddr = g
        .lines()
        .iter()
        .find_map(|l| l.text.split("RTP ").nth(1).map(str::trim).map(String::from))
        .and_then(|a| a.parse().ok())
        .expect("RTP address in the log");
    let s = UdpSocket::bind(UAC).unwrap();
    s.set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let peer = format!("sip:mallory@{UAC}");
    let own_sip = format!("sip:mallory@{GW}");
    let case = |what, contact: &str, rr, c, port, want| Case {
        what,
        contact: contact.to_owned(),
        rr,
        c,
        port,
        want,
    };
    let cases = [
        case("c=0.0.0.0", &peer, None, "0.0.0.0", 40000, 488),
        case("c=224.0.0.1", &peer, None, "224.0.0.1", 40000, 488),
        case("c=broadcast", &peer, None, "255.255.255.255", 40000, 488),
        case("c=own SIP", &peer, None, "127.0.15.1", gw.port(), 488),
        case("c=own RTP", &peer, None, "127.0.15.1", rtp.port(), 488),
        case("Contact=own SIP", &own_sip, None, "127.0.15.9", 40000, 403),
        case(
            "Contact=multicast",
            "sip:mallory@224.0.0.1",
            None,
            "127.0.15.9",
            40000,
            403,
        ),
        case(
            "Record-Route=own SIP",
            &peer,
            Some("sip:127.0.15.1:25150;lr"),
            "127.0.15.9",
            40000,
            403,
        ),
    ];
    for (n, k) in cases.iter().enumerate() {
        let codes = exchange(&s, &invite(n as u32, &k.contact, k.rr, k.c, k.port));
        eprintln!("{}: {codes:?}", k.what);
        assert_eq!(codes.last(), Some(&k.want), "{}: {codes:?}", k.what);
        assert!(!codes.contains(&180), "{}: {codes:?}", k.what);
    }
    std::thread::sleep(Duration::from_millis(500));
    assert!(!ringing(&g, 0), "the phone rang");
    assert_eq!(rings(&g), 0, "a Ring command reached the card");
    // The same UAC with a sane offer rings the phone: the bench itself works.
    s.send_to(invite(99, &peer, None, "127.0.15.9", 40000).as_bytes(), gw)
        .unwrap();
    let end = Instant::now() + Duration::from_secs(5);
    while rings(&g) == 0 && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(rings(&g), 1, "the well-formed INVITE rang the phone");
    // Answered: a re-INVITE moving the media to multicast is refused, the call goes on;
    // one putting it on hold the RFC 2543 way (c=0.0.0.0, RFC 3264 §8.4) is taken.
    run(&g, "offhook 0");
    let ok = read_until(&s, |m| {
        m.starts_with("SIP/2.0 200") && m.contains("CSeq: 1 INVITE")
    })
    .expect("200 to the INVITE");
    let to = header(&ok, "To:");
    let target = header(&ok, "Contact:")
        .split(['<', '>'])
        .nth(1)
        .expect("Contact URI")
        .to_owned();
    let dialog = |method: &str, cseq: u32, branch: &str, body: &str| {
        let me: SocketAddr = UAC.parse().unwrap();
        let ct = if body.is_empty() {
            String::new()
        } else {
            "Content-Type: application/sdp\r\n".into()
        };
        format!(
            "{method} {target} SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch=z9hG4bK{branch}\r\n\
             Max-Forwards: 70\r\nFrom: <sip:mallory@{me}>;tag=m99\r\n{to}\r\n\
             Call-ID: attack-99@127.0.15.9\r\nCSeq: {cseq} {method}\r\n\
             Contact: <sip:mallory@{me}>\r\n{ct}Content-Length: {}\r\n\r\n{body}",
            body.len()
        )
    };
    s.send_to(dialog("ACK", 1, "ack1", "").as_bytes(), gw)
        .unwrap();
    let body = |n: u32, c: &str, dir: &str| {
        let m = invite(n, &peer, None, c, 40000);
        let sdp = m.split("\r\n\r\n").nth(1).unwrap().to_owned();
        sdp.replace("a=sendrecv", dir)
    };
    for (cseq, c, dir, want) in [
        (2, "224.0.0.1", "a=sendrecv", 488),
        (3, "0.0.0.0", "a=sendonly", 200),
    ] {
        let re = dialog("INVITE", cseq, &format!("re{cseq}"), &body(99, c, dir));
        s.send_to(re.as_bytes(), gw).unwrap();
        let cs = format!("CSeq: {cseq} INVITE");
        let r = read_until(&s, |m| {
            m.starts_with("SIP/2.0 ") && !m.starts_with("SIP/2.0 1") && m.contains(&cs)
        })
        .unwrap_or_else(|| panic!("no answer to the re-INVITE with c={c}"));
        eprintln!("re-INVITE c={c}: {}", r.lines().next().unwrap_or_default());
        assert!(r.starts_with(&format!("SIP/2.0 {want}")), "c={c}: {r}");
        // A non-2xx is ACKed in its transaction, a 2xx in a new one (RFC 3261 §17.1.1.3, §13.2.2.4).
        let branch = if want == 200 {
            format!("ack{cseq}")
        } else {
            format!("re{cseq}")
        };
        s.send_to(dialog("ACK", cseq, &branch, "").as_bytes(), gw)
            .unwrap();
    }
    wait_exit_ok(&mut g);
}

/// The first message read from `s` within 5 s that `pred` accepts.
fn read_until(s: &UdpSocket, pred: impl Fn(&str) -> bool) -> Option<String> {
    let mut buf = [0u8; 4096];
    let end = Instant::now() + Duration::from_secs(5);
    while Instant::now() < end {
        if let Ok((n, _)) = s.recv_from(&mut buf) {
            let text = String::from_utf8_lossy(&buf[..n]).into_owned();
            if pred(&text) {
                return Some(text);
            }
        }
    }
    None
}

/// The whole line of header `name` (with its name).
fn header(msg: &str, name: &str) -> String {
    msg.lines()
        .find(|l| l.starts_with(name))
        .unwrap_or_else(|| panic!("no {name} in {msg}"))
        .to_owned()
}
