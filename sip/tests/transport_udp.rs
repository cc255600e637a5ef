//! The transports on loopback without sipp: calls between two tipring endpoints over UDP
//! and TCP on IPv6, and bad traffic answered with 400 / 505 / 513 or dropped and counted.

use std::sync::atomic::Ordering;
use std::time::Duration;
use testkit::endpoint::uas::UasOptions;
use testkit::endpoint::{Counters, Endpoint};
use tipring_sip::Message;
use tipring_sip::transaction::{Peer, TimerConfig, Transport};
use tipring_sip::transport::{MTU_LIMIT, TransportConfig, TransportHandle, transport_for};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};

async fn endpoint(ip: &str, max: usize) -> Endpoint {
    let any = format!("{ip}:0").parse().unwrap();
    let cfg = TransportConfig {
        udp: Some(any),
        tcp: Some(any),
        max_message_size: max,
        ..TransportConfig::default()
    };
    Endpoint::bind(cfg, TimerConfig::default()).await.unwrap()
}

#[tokio::test]
async fn calls_over_ipv6_udp_and_tcp() {
    let uas = endpoint("[::1]", 65_536).await;
    let udp = uas.transport().local_addr(Transport::Udp).unwrap();
    let tcp = uas.transport().local_addr(Transport::Tcp).unwrap();
    let c = uas.counters();
    let task = tokio::spawn(async move {
        let _ = uas.serve(UasOptions::default()).await;
    });
    let mut uac = endpoint("[::1]", 65_536).await;
    for (t, a) in [(Transport::Udp, udp), (Transport::Tcp, tcp)] {
        let r = uac
            .call(
                Peer {
                    transport: t,
                    addr: a,
                },
                &format!("sip:x@{a}"),
                Duration::ZERO,
            )
            .await
            .unwrap();
        assert_eq!((r.final_code, r.bye_code), (200, Some(200)), "{t:?}");
        let code = uac
            .options(
                Peer {
                    transport: t,
                    addr: a,
                },
                &format!("sip:x@{a}"),
            )
            .await
            .unwrap();
        assert_eq!(code, 200);
    }
    task.abort();
    assert_eq!(Counters::get(&c.acks), 2);
    // INVITE, ACK, BYE and OPTIONS over TCP shared one connection (§18.1.1, §18.3).
    assert_eq!(
        uac.transport().stats().connections.load(Ordering::Relaxed),
        1
    );
}

#[tokio::test]
async fn idle_tcp_connection_is_closed() {
    let cfg = TransportConfig {
        tcp: Some("127.0.0.1:0".parse().unwrap()),
        idle_timeout: Duration::from_millis(200),
        ..TransportConfig::default()
    };
    let (tp, _rx) = TransportHandle::bind(cfg).await.unwrap();
    let mut s = TcpStream::connect(tp.local_addr(Transport::Tcp).unwrap())
        .await
        .unwrap();
    let start = std::time::Instant::now();
    let mut buf = [0u8; 16];
    let n = tokio::time::timeout(Duration::from_secs(2), s.read(&mut buf))
        .await
        .expect("closed within 2 s")
        .unwrap();
    assert_eq!(n, 0, "EOF");
    assert!(start.elapsed() >= Duration::from_millis(150));
}

const GOOD: &str = "OPTIONS sip:gw@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKbad1;rport\r\n\
Max-Forwards: 70\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:gw@y>\r\nCall-ID: bad@x\r\nCSeq: 1 OPTIONS\r\n\
Content-Length: 0\r\n\r\n";

async fn answer(sock: &UdpSocket) -> Vec<u8> {
    let mut buf = vec![0u8; 65_536];
    let n = tokio::time::timeout(Duration::from_secs(2), sock.recv(&mut buf))
        .await
        .expect("an answer")
        .unwrap();
    buf.truncate(n);
    buf
}

fn status(b: &[u8]) -> (u16, String) {
    let m = Message::parse(b).unwrap();
    let tipring_sip::StartLine::Response(s) = m.start_line() else {
        panic!("not a response")
    };
    (s.code, s.reason.to_string())
}

#[tokio::test]
async fn bad_udp_traffic_gets_400_505_513_or_is_dropped() {
    let cfg = TransportConfig {
        udp: Some("127.0.0.1:0".parse().unwrap()),
        max_message_size: 2000,
        ..TransportConfig::default()
    };
    let (tp, mut rx) = TransportHandle::bind(cfg).await.unwrap();
    let to = tp.local_addr(Transport::Udp).unwrap();
    let sock = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    sock.connect(to).await.unwrap();

    sock.send(
        GOOD.replace("Max-Forwards: 70", "Max-Forwards: lots")
            .as_bytes(),
    )
    .await
    .unwrap();
    let (code, reason) = status(&answer(&sock).await);
    assert_eq!(code, 400);
    assert!(reason.contains("Max-Forwards"), "{reason}");

    sock.send(GOOD.replace("SIP/2.0\r\nVia", "SIP/3.0\r\nVia").as_bytes())
        .await
        .unwrap();
    assert_eq!(status(&answer(&sock).await).0, 505);

    let big = GOOD.replace(
        "Content-Length: 0\r\n",
        &format!("X-Pad: {}\r\nContent-Length: 0\r\n", "a".repeat(3000)),
    );
    sock.send(big.as_bytes()).await.unwrap();
    assert_eq!(status(&answer(&sock).await).0, 513);

    // Unanswerable: garbage and a response without Via.
    sock.send(b"\x00\x01garbage").await.unwrap();
    sock.send(b"SIP/2.0 200 OK\r\nCSeq: 1 OPTIONS\r\n\r\n")
        .await
        .unwrap();
    // A good request still gets through, with received/rport stamped.
    sock.send(GOOD.as_bytes()).await.unwrap();
    let r = tokio::time::timeout(Duration::from_secs(2), rx.recv())
        .await
        .unwrap()
        .unwrap();
    let m = Message::parse(&r.bytes).unwrap();
    let local = sock.local_addr().unwrap();
    assert_eq!(m.top_via().unwrap().received(), Some(local.ip()));
    assert_eq!(r.respond_to.addr, local);
    assert_eq!(tp.stats().dropped.load(Ordering::Relaxed), 2);
    assert_eq!(tp.stats().rejected.load(Ordering::Relaxed), 3);
}

#[tokio::test]
async fn tcp_framing_and_oversized_stream_message() {
    let cfg = TransportConfig {
        tcp: Some("127.0.0.1:0".parse().unwrap()),
        max_message_size: 2000,
        ..TransportConfig::default()
    };
    let (tp, mut rx) = TransportHandle::bind(cfg).await.unwrap();
    let to = tp.local_addr(Transport::Tcp).unwrap();
    let mut s = TcpStream::connect(to).await.unwrap();
    // Two messages in one write, split oddly, with a keepalive between.
    let two = format!("{GOOD}\r\n\r\n{}", GOOD.replace("bad1", "bad2"));
    let (a, b) = two.as_bytes().split_at(100);
    s.write_all(a).await.unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    s.write_all(b).await.unwrap();
    for branch in ["z9hG4bKbad1", "z9hG4bKbad2"] {
        let r = tokio::time::timeout(Duration::from_secs(2), rx.recv())
            .await
            .unwrap()
            .unwrap();
        let m = Message::parse(&r.bytes).unwrap();
        assert_eq!(m.top_via().unwrap().branch(), Some(branch));
        assert_eq!(r.respond_to.transport, Transport::Tcp);
    }
    // The CRLFCRLF ping got its CRLF pong (RFC 5626 §4.4.1).
    let mut pong = [0u8; 2];
    s.read_exact(&mut pong).await.unwrap();
    assert_eq!(&pong, b"\r\n");
    // Over the limit: 513, then the connection closes.
    let big = GOOD.replace("Content-Length: 0", "Content-Length: 5000");
    s.write_all(big.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(2), s.read_to_end(&mut out))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(status(&out).0, 513);
}

#[test]
fn large_udp_requests_switch_to_tcp() {
    let p = Peer {
        transport: Transport::Udp,
        addr: "127.0.0.1:5060".parse().unwrap(),
    };
    assert_eq!(transport_for(p, MTU_LIMIT).transport, Transport::Udp);
    assert_eq!(transport_for(p, MTU_LIMIT + 1).transport, Transport::Tcp);
    let t = Peer {
        transport: Transport::Tls,
        ..p
    };
    assert_eq!(transport_for(t, 10_000), t);
}

/// A closed transport frees its addresses at once: the same UDP and TCP ports bind again
/// in the same process (a gateway applying a new configuration), even with a connection
/// still open to the old listener.
#[tokio::test]
async fn a_closed_transport_frees_its_addresses() {
    let any = "127.0.0.1:0".parse().unwrap();
    let cfg = TransportConfig {
        udp: Some(any),
        tcp: Some(any),
        ..TransportConfig::default()
    };
    let (tp, _rx) = TransportHandle::bind(cfg).await.unwrap();
    let udp = tp.local_addr(Transport::Udp).unwrap();
    let tcp = tp.local_addr(Transport::Tcp).unwrap();
    let _client = TcpStream::connect(tcp).await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    tp.close();
    drop(tp);
    // Let the aborted tasks be dropped.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let again = TransportConfig {
        udp: Some(udp),
        tcp: Some(tcp),
        ..TransportConfig::default()
    };
    let (tp, _rx) = TransportHandle::bind(again)
        .await
        .expect("the same addresses bind again");
    assert_eq!(tp.local_addr(Transport::Udp), Some(udp));
}
