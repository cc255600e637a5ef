//! The transport's admission hook (`TransportConfig::admit`): a source the hook drops is
//! neither parsed, queued nor answered, and its connections are closed; a flood of
//! ordinary messages can fill the receive queue only up to `PRIORITY_RESERVE` slots from
//! the end, so a priority source (a server, a trusted peer) still gets in.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tipring_sip::transaction::Transport;
use tipring_sip::transport::{
    Admission, Admit, PRIORITY_RESERVE, QUEUE_DEPTH, TransportConfig, TransportHandle,
};
use tokio::io::AsyncReadExt;
use tokio::net::{TcpSocket, UdpSocket};

const LISTEN: &str = "127.0.14.1";
const ORDINARY: &str = "127.0.14.2";
const SERVER: &str = "127.0.14.3";
const BANNED: &str = "127.0.14.4";

/// Drops [`BANNED`], gives [`SERVER`] priority.
struct ByAddress;

impl Admit for ByAddress {
    fn admit(&self, from: SocketAddr, _bytes: &[u8]) -> Admission {
        match from.ip().to_string().as_str() {
            BANNED => Admission::Drop,
            SERVER => Admission::Priority,
            _ => Admission::Normal,
        }
    }
}

fn options(n: usize, from: SocketAddr) -> Vec<u8> {
    format!(
        "OPTIONS sip:gw@{LISTEN} SIP/2.0\r\nVia: SIP/2.0/UDP {from};branch=z9hG4bK{n}\r\n\
         Max-Forwards: 70\r\nFrom: <sip:a@{from}>;tag={n}\r\nTo: <sip:gw@{LISTEN}>\r\n\
         Call-ID: {n}@x\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
    )
    .into_bytes()
}

async fn bind(
    udp: bool,
    tcp: bool,
) -> (
    TransportHandle,
    tokio::sync::mpsc::Receiver<tipring_sip::transport::Received>,
) {
    let any: SocketAddr = format!("{LISTEN}:0").parse().unwrap();
    let cfg = TransportConfig {
        udp: udp.then_some(any),
        tcp: tcp.then_some(any),
        admit: Some(Arc::new(ByAddress)),
        ..TransportConfig::default()
    };
    TransportHandle::bind(cfg).await.unwrap()
}

#[tokio::test]
async fn a_dropped_source_is_not_queued_and_its_connections_are_closed() {
    let (tp, mut rx) = bind(true, true).await;
    let to = tp.local_addr(Transport::Udp).unwrap();
    let banned = UdpSocket::bind(format!("{BANNED}:0")).await.unwrap();
    let ordinary = UdpSocket::bind(format!("{ORDINARY}:0")).await.unwrap();
    for n in 0..5 {
        banned
            .send_to(&options(n, banned.local_addr().unwrap()), to)
            .await
            .unwrap();
    }
    ordinary
        .send_to(&options(9, ordinary.local_addr().unwrap()), to)
        .await
        .unwrap();
    let r = tokio::time::timeout(Duration::from_secs(2), rx.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(r.source.addr, ordinary.local_addr().unwrap());
    assert!(
        tokio::time::timeout(Duration::from_millis(200), rx.recv())
            .await
            .is_err()
    );
    assert_eq!(tp.stats().denied.load(Ordering::Relaxed), 5);
    // Nothing was answered to the dropped source either.
    let mut b = [0u8; 512];
    assert!(
        tokio::time::timeout(Duration::from_millis(100), banned.recv_from(&mut b))
            .await
            .is_err()
    );

    let sock = TcpSocket::new_v4().unwrap();
    sock.bind(format!("{BANNED}:0").parse().unwrap()).unwrap();
    let mut s = sock
        .connect(tp.local_addr(Transport::Tcp).unwrap())
        .await
        .unwrap();
    let closed = tokio::time::timeout(Duration::from_secs(2), s.read(&mut b)).await;
    assert!(
        matches!(closed, Ok(Ok(0) | Err(_))),
        "connection kept: {closed:?}"
    );
    assert_eq!(tp.stats().denied.load(Ordering::Relaxed), 6);
}

#[tokio::test]
async fn a_flood_leaves_the_priority_reserve_to_servers() {
    // Nobody reads the queue: the transaction layer is "behind".
    let (tp, mut rx) = bind(true, false).await;
    let to = tp.local_addr(Transport::Udp).unwrap();
    let flood = UdpSocket::bind(format!("{ORDINARY}:0")).await.unwrap();
    let from = flood.local_addr().unwrap();
    let normal_room = QUEUE_DEPTH - PRIORITY_RESERVE;
    let sent = normal_room + 200;
    let settled = |tp: &TransportHandle| {
        tp.stats().received.load(Ordering::Relaxed) + tp.stats().overload.load(Ordering::Relaxed)
    };
    for n in 0..sent {
        flood.send_to(&options(n, from), to).await.unwrap();
        // Paced so the socket buffer does not overflow before the transport reads it.
        if n % 50 == 49 {
            while settled(&tp) < n as u64 + 1 {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        }
    }
    while settled(&tp) < sent as u64 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(
        tp.stats().received.load(Ordering::Relaxed),
        normal_room as u64
    );
    assert_eq!(tp.stats().overload.load(Ordering::Relaxed), 200);
    let server = UdpSocket::bind(format!("{SERVER}:0")).await.unwrap();
    server
        .send_to(&options(99_999, server.local_addr().unwrap()), to)
        .await
        .unwrap();
    while settled(&tp) < sent as u64 + 1 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(
        tp.stats().received.load(Ordering::Relaxed),
        normal_room as u64 + 1
    );
    let mut last = None;
    while let Ok(r) = rx.try_recv() {
        last = Some(r.source.addr);
    }
    assert_eq!(last, Some(server.local_addr().unwrap()));
}
