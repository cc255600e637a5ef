//! Online password guessing against `tipring run` with `[security] inbound_auth`
//! (loopback 127.0.12.0/24): a client answers every 401 with a wrong MD5 password as fast
//! as it can for a few seconds, from one source address, guessing the real user's
//! password. Printed: guesses answered and guesses the gateway evaluated (its log says
//! for each refusal whether the password was evaluated or the attempt was throttled),
//! per minute. Asserted: at most a handful of evaluated guesses (the per-source and
//! per-user throttle), and the FXO line never seized.

mod common;

use common::gateway::{Conf, commands, serial, start, wait_exit_ok};
use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};
use testkit::testbed::TempDir;
use tipring_hal::model::Command;
use tipring_sip::Message;
use tipring_sip::digest::{Challenge, respond};

/// How long the client guesses.
const RUN: Duration = Duration::from_secs(6);

fn invite(gw: SocketAddr, me: SocketAddr, n: u64, auth: Option<&str>) -> Vec<u8> {
    let auth = auth
        .map(|a| format!("Authorization: {a}\r\n"))
        .unwrap_or_default();
    format!(
        "INVITE sip:5551234@{gw} SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch=z9hG4bKg{n}\r\n\
         Max-Forwards: 70\r\nFrom: <sip:guess@{me}>;tag=g{n}\r\nTo: <sip:5551234@{gw}>\r\n\
         Call-ID: guess{n}@{me}\r\nCSeq: 1 INVITE\r\nContact: <sip:guess@{me}>\r\n\
         {auth}Content-Length: 0\r\n\r\n"
    )
    .into_bytes()
}

/// The next final response `s` receives within 1 s: its code and MD5 challenge.
fn final_response(s: &UdpSocket, buf: &mut [u8]) -> Option<(u16, Option<Challenge>)> {
    let end = Instant::now() + Duration::from_secs(1);
    while Instant::now() < end {
        let Ok(n) = s.recv(buf) else { continue };
        let Ok(m) = Message::parse(&buf[..n]) else {
            continue;
        };
        match m.status() {
            Some(code) if code >= 200 => {
                let c = m
                    .headers_named("WWW-Authenticate")
                    .filter_map(|h| Challenge::parse(h.value).ok())
                    .next();
                return Some((code, c));
            }
            _ => {}
        }
    }
    None
}

#[test]
fn online_guessing_is_throttled() {
    let _serial = serial();
    let tmp = TempDir::new("attack-guess").expect("temp dir");
    let gw = SocketAddr::from(([127, 0, 12, 1], 25130));
    let fxo = "[[ports]]\nindex = 2\nkind = \"fxo\"\ninbound = \"hotline\"\nhotline = \"sip:100@127.0.12.3:5060\"\n";
    let conf = Conf::new(gw).ports(fxo).security(
        "inbound_auth = [{ username = \"trunk\", password = \"correct-horse\" }]\n\
         realm = \"gw\"\nauth_algorithms = [\"md5\"]\n",
    );
    let mut g = start("gw", &tmp.0.join("gw"), gw, &conf, 131);
    let s = UdpSocket::bind("127.0.12.77:0").expect("bind");
    s.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
    s.connect(gw).unwrap();
    let me = s.local_addr().unwrap();
    let mut buf = vec![0u8; 8192];
    let (mut n, mut answered) = (0u64, 0u64);
    let t0 = Instant::now();
    while t0.elapsed() < RUN {
        n += 1;
        s.send(&invite(gw, me, n, None)).unwrap();
        let Some((401, Some(c))) = final_response(&s, &mut buf) else {
            continue;
        };
        let uri = format!("sip:5551234@{gw}");
        let guess = format!("guess-{n}");
        let r = respond(&c, "trunk", &guess, "INVITE", &uri, b"", "0a4f113b", 1);
        n += 1;
        s.send(&invite(gw, me, n, Some(&r.to_string()))).unwrap();
        if let Some((code, _)) = final_response(&s, &mut buf)
            && code == 403
        {
            answered += 1;
        }
    }
    let secs = t0.elapsed().as_secs_f64();
    // Let the gateway's log catch up, then count what it evaluated.
    std::thread::sleep(Duration::from_millis(300));
    let lines: Vec<String> = g.lines().into_iter().map(|l| l.text).collect();
    let evaluated = lines
        .iter()
        .filter(|l| l.contains("WrongResponse") || l.contains("UnknownUser"))
        .count() as f64;
    let per_min = |x: f64| x * 60.0 / secs;
    // The back-off allows 5 evaluated guesses, then none for 30 s, then 5 more and none
    // for 60 s, …: at most 10 in the first minute per source and per user name.
    println!(
        "online guessing, one source, {secs:.1} s: {answered} guesses answered ({:.0}/min), \
         {evaluated} evaluated by the gateway ({:.0}/min over this run)",
        per_min(answered as f64),
        per_min(evaluated)
    );
    assert!(answered > 0, "the client got no answer to its guesses");
    assert!(
        evaluated <= 5.0,
        "{evaluated} guesses evaluated in {secs:.1} s: not throttled"
    );
    assert!(
        !commands(&g, 2).contains(&Command::Seize),
        "the line was seized"
    );
    wait_exit_ok(&mut g);
}
