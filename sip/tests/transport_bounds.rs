//! The bounds of the stream transports: one pool of connection slots for TCP and TLS,
//! accepted and opened; a cap per source address; a message begun must be complete within
//! the message timeout (slowloris); a message over the size limit is answered 513 and its
//! connection closed (nothing more is buffered).

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tipring_sip::transaction::{Peer, Transport};
use tipring_sip::transport::{Refusal, SendError, TransportConfig, TransportHandle, tls};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

const OPTIONS: &str = "OPTIONS sip:x@127.0.16.30 SIP/2.0\r\n\
    Via: SIP/2.0/TCP 127.0.16.9:5060;branch=z9hG4bK2\r\n\
    From: <sip:a@127.0.16.9>;tag=1\r\nTo: <sip:x@127.0.16.30>\r\n\
    Call-ID: bounds-1\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n\
    Content-Length: 0\r\n\r\n";

/// Whether the server closed `s` within `limit` (EOF or reset), as opposed to keeping it.
async fn closed_within(s: &mut TcpStream, limit: Duration) -> bool {
    let mut b = [0u8; 1024];
    let until = tokio::time::Instant::now() + limit;
    loop {
        match tokio::time::timeout_at(until, s.read(&mut b)).await {
            Ok(Ok(0) | Err(_)) => return true,
            Ok(Ok(_)) => continue,
            Err(_) => return false,
        }
    }
}

/// A connection to `to` from `ip`.
async fn connect_from(ip: &str, to: std::net::SocketAddr) -> TcpStream {
    let s = TcpSocket::new_v4().unwrap();
    s.bind(format!("{ip}:0").parse().unwrap()).unwrap();
    s.connect(to).await.unwrap()
}

#[tokio::test]
async fn each_source_address_has_its_own_cap() {
    let cfg = TransportConfig {
        tcp: Some("127.0.16.20:0".parse().unwrap()),
        max_connections_per_source: 2,
        ..TransportConfig::default()
    };
    let (tp, _rx) = TransportHandle::bind(cfg).await.unwrap();
    let addr = tp.local_addr(Transport::Tcp).unwrap();
    let mut a1 = connect_from("127.0.16.21", addr).await;
    let mut a2 = connect_from("127.0.16.21", addr).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut a3 = connect_from("127.0.16.21", addr).await;
    assert!(closed_within(&mut a3, Duration::from_secs(2)).await);
    assert_eq!(tp.stats().refused_per_source.load(Ordering::Relaxed), 1);
    // Another address still gets in; the first two stay.
    let mut b1 = connect_from("127.0.16.22", addr).await;
    assert!(!closed_within(&mut b1, Duration::from_millis(200)).await);
    assert!(!closed_within(&mut a1, Duration::from_millis(100)).await);
    assert!(!closed_within(&mut a2, Duration::from_millis(100)).await);
    assert_eq!(tp.open_connections(), 3);
    assert_eq!(tp.stats().refused.load(Ordering::Relaxed), 0);
}

#[tokio::test]
async fn tcp_tls_and_outgoing_connections_share_one_pool() {
    let dir = std::env::temp_dir().join(format!("tipring-bounds-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["127.0.16.23".to_string()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    std::fs::write(dir.join("cert.pem"), cert.pem()).unwrap();
    std::fs::write(dir.join("key.pem"), key.serialize_pem()).unwrap();
    let server = tls::server_config(&dir.join("cert.pem"), &dir.join("key.pem")).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let cfg = TransportConfig {
        tcp: Some("127.0.16.23:0".parse().unwrap()),
        tls: Some(("127.0.16.23:0".parse().unwrap(), server)),
        max_connections: 2,
        ..TransportConfig::default()
    };
    let (tp, _rx) = TransportHandle::bind(cfg).await.unwrap();
    let tcp = tp.local_addr(Transport::Tcp).unwrap();
    let tls = tp.local_addr(Transport::Tls).unwrap();
    let _over_tcp = connect_from("127.0.16.24", tcp).await;
    // A TLS client still in its handshake holds a slot too.
    let _over_tls = connect_from("127.0.16.25", tls).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut third = connect_from("127.0.16.26", tcp).await;
    assert!(closed_within(&mut third, Duration::from_secs(2)).await);
    assert_eq!(tp.stats().refused.load(Ordering::Relaxed), 1);
    // Nor can we open one of our own.
    let elsewhere = Peer {
        transport: Transport::Tcp,
        addr: "127.0.16.27:5060".parse().unwrap(),
    };
    let r = tp.try_send(elsewhere, Arc::from(OPTIONS.as_bytes()));
    assert!(matches!(r, Err(SendError::Refused(Refusal::Full))), "{r:?}");
    assert_eq!(tp.stats().refused.load(Ordering::Relaxed), 2);
}

#[tokio::test]
async fn a_message_trickled_byte_by_byte_is_cut_off() {
    let cfg = TransportConfig {
        tcp: Some("127.0.16.28:0".parse().unwrap()),
        message_timeout: Duration::from_millis(500),
        ..TransportConfig::default()
    };
    let (tp, mut rx) = TransportHandle::bind(cfg).await.unwrap();
    let addr = tp.local_addr(Transport::Tcp).unwrap();
    // A message in pieces within the time is fine, and so is a pause between messages.
    let mut fine = connect_from("127.0.16.29", addr).await;
    let (a, b) = OPTIONS.split_at(40);
    fine.write_all(a.as_bytes()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    fine.write_all(b.as_bytes()).await.unwrap();
    let got = tokio::time::timeout(Duration::from_secs(2), rx.recv()).await;
    assert!(got.is_ok_and(|r| r.is_some()));
    tokio::time::sleep(Duration::from_millis(700)).await;
    fine.write_all(OPTIONS.as_bytes()).await.unwrap();
    let got = tokio::time::timeout(Duration::from_secs(2), rx.recv()).await;
    assert!(got.is_ok_and(|r| r.is_some()));
    // One byte every 100 ms: each resets no timer, the message is never complete.
    let mut slow = connect_from("127.0.16.29", addr).await;
    let started = std::time::Instant::now();
    let mut cut = false;
    for &byte in OPTIONS.as_bytes() {
        if slow.write_all(&[byte]).await.is_err() {
            cut = true;
            break;
        }
        let mut b = [0u8; 16];
        if let Ok(Ok(0) | Err(_)) =
            tokio::time::timeout(Duration::from_millis(100), slow.read(&mut b)).await
        {
            cut = true;
            break;
        }
    }
    assert!(cut, "the trickle was never cut off");
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(tp.stats().message_timeouts.load(Ordering::Relaxed), 1);
    assert!(!closed_within(&mut fine, Duration::from_millis(100)).await);
}

#[tokio::test]
async fn an_oversized_message_is_answered_513_and_its_connection_closed() {
    let cfg = TransportConfig {
        tcp: Some("127.0.16.30:0".parse().unwrap()),
        max_message_size: 2000,
        ..TransportConfig::default()
    };
    let (tp, mut rx) = TransportHandle::bind(cfg).await.unwrap();
    let addr = tp.local_addr(Transport::Tcp).unwrap();
    // A head announcing a body over the limit.
    let mut s = connect_from("127.0.16.31", addr).await;
    let big = OPTIONS.replace("Content-Length: 0", "Content-Length: 100000");
    s.write_all(big.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(2), s.read_to_end(&mut answer)).await;
    assert!(
        answer.starts_with(b"SIP/2.0 513 "),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    // A head that never ends (and has no Via): closed once the limit is reached, nothing
    // handed up.
    let mut s = connect_from("127.0.16.31", addr).await;
    let mut endless = b"OPTIONS sip:x@127.0.16.30 SIP/2.0\r\n".to_vec();
    while endless.len() < 8000 {
        endless.extend_from_slice(b"X-Pad: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n");
    }
    let _ = s.write_all(&endless).await;
    assert!(closed_within(&mut s, Duration::from_secs(2)).await);
    assert!(rx.try_recv().is_err());
    assert_eq!(tp.stats().rejected.load(Ordering::Relaxed), 1);
    // No Via to answer to: dropped.
    assert_eq!(tp.stats().dropped.load(Ordering::Relaxed), 1);
}
