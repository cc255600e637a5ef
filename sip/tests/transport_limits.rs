//! What a hostile network cannot do to the stream transports: open connections without
//! bound (beyond `max_connections` a new one is closed at once and counted), or hold a TLS
//! listener's task with a handshake that never comes (dropped after `handshake_timeout`).

use std::sync::atomic::Ordering;
use std::time::Duration;
use tipring_sip::transaction::Transport;
use tipring_sip::transport::{TransportConfig, TransportHandle, tls};
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

/// Whether the server closed `s` within `limit` (EOF or reset), as opposed to keeping it.
async fn closed_within(s: &mut TcpStream, limit: Duration) -> bool {
    let mut b = [0u8; 16];
    matches!(
        tokio::time::timeout(limit, s.read(&mut b)).await,
        Ok(Ok(0) | Err(_))
    )
}

#[tokio::test]
async fn connections_beyond_the_limit_are_closed_at_once() {
    let cfg = TransportConfig {
        tcp: Some("127.0.0.1:0".parse().unwrap()),
        max_connections: 2,
        ..TransportConfig::default()
    };
    let (tp, _rx) = TransportHandle::bind(cfg).await.unwrap();
    let addr = tp.local_addr(Transport::Tcp).unwrap();
    let mut first = TcpStream::connect(addr).await.unwrap();
    let mut second = TcpStream::connect(addr).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut third = TcpStream::connect(addr).await.unwrap();
    assert!(closed_within(&mut third, Duration::from_secs(2)).await);
    assert_eq!(tp.stats().refused.load(Ordering::Relaxed), 1);
    assert!(!closed_within(&mut first, Duration::from_millis(200)).await);
    assert!(!closed_within(&mut second, Duration::from_millis(200)).await);
    // One closes: there is room again.
    drop(first);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut fourth = TcpStream::connect(addr).await.unwrap();
    assert!(!closed_within(&mut fourth, Duration::from_millis(300)).await);
    assert_eq!(tp.stats().refused.load(Ordering::Relaxed), 1);
}

#[tokio::test]
async fn a_tls_handshake_that_never_comes_is_dropped() {
    let dir = std::env::temp_dir().join(format!("tipring-limits-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    std::fs::write(dir.join("cert.pem"), cert.pem()).unwrap();
    std::fs::write(dir.join("key.pem"), key.serialize_pem()).unwrap();
    let cfg = TransportConfig {
        tls: Some((
            "127.0.0.1:0".parse().unwrap(),
            tls::server_config(&dir.join("cert.pem"), &dir.join("key.pem")).unwrap(),
        )),
        handshake_timeout: Duration::from_millis(300),
        ..TransportConfig::default()
    };
    let (tp, _rx) = TransportHandle::bind(cfg).await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let addr = tp.local_addr(Transport::Tls).unwrap();
    // Connects and says nothing.
    let mut silent = TcpStream::connect(addr).await.unwrap();
    assert!(closed_within(&mut silent, Duration::from_secs(3)).await);
    assert_eq!(tp.stats().tls_failures.load(Ordering::Relaxed), 1);
}
