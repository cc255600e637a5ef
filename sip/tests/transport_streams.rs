//! A slow or dead stream peer never makes a sender wait (each connection has its own
//! bounded send queue and writer): a peer that never reads gets its connection closed when
//! the queue overflows; a connect, a TLS handshake or a write that does not finish in its
//! time fails, and the failure is reported on `TransportHandle::failures`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use tipring_sip::transaction::{Peer, Transport};
use tipring_sip::transport::{SendError, TransportConfig, TransportHandle, tls};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpSocket, TcpStream};

const OPTIONS: &str = "OPTIONS sip:x@127.0.16.1 SIP/2.0\r\n\
    Via: SIP/2.0/TCP 127.0.16.9:5060;branch=z9hG4bK1\r\n\
    From: <sip:a@127.0.16.9>;tag=1\r\nTo: <sip:x@127.0.16.1>\r\n\
    Call-ID: streams-1\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n\
    Content-Length: 0\r\n\r\n";

fn tcp_config(ip: &str) -> TransportConfig {
    TransportConfig {
        tcp: Some(format!("{ip}:0").parse().unwrap()),
        ..TransportConfig::default()
    }
}

/// A listener whose accepted connections never read, with a tiny receive buffer.
fn deaf_listener(ip: &str, backlog: u32) -> TcpListener {
    let s = TcpSocket::new_v4().unwrap();
    s.set_recv_buffer_size(4096).unwrap();
    s.bind(format!("{ip}:0").parse().unwrap()).unwrap();
    s.listen(backlog).unwrap()
}

/// A message of `n` bytes (the transport does not look at what it sends).
fn blob(n: usize) -> Arc<[u8]> {
    Arc::from(vec![b'x'; n])
}

#[tokio::test]
async fn a_peer_that_never_reads_is_closed_when_its_queue_overflows() {
    let cfg = TransportConfig {
        send_queue_bytes: 64 * 1024,
        // Long enough that only the queue can end this connection.
        write_timeout: Duration::from_secs(60),
        ..tcp_config("127.0.16.1")
    };
    let (tp, mut rx) = TransportHandle::bind(cfg).await.unwrap();
    let addr = tp.local_addr(Transport::Tcp).unwrap();
    // The peer connects, sends one request and never reads again.
    let s = TcpSocket::new_v4().unwrap();
    s.set_recv_buffer_size(4096).unwrap();
    s.bind("127.0.16.2:0".parse().unwrap()).unwrap();
    let mut deaf = s.connect(addr).await.unwrap();
    deaf.write_all(OPTIONS.as_bytes()).await.unwrap();
    let got = tokio::time::timeout(Duration::from_secs(2), rx.recv())
        .await
        .unwrap()
        .unwrap();
    let peer = got.source;
    assert_eq!(peer.transport, Transport::Tcp);
    let started = Instant::now();
    let mut sent = 0;
    let err = loop {
        // Each hand-over returns at once, whatever the peer does.
        let t = Instant::now();
        let r = tp.try_send(peer, blob(16 * 1024));
        assert!(t.elapsed() < Duration::from_millis(100));
        match r {
            Ok(()) => sent += 1,
            Err(e) => break e,
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "queue never filled"
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    };
    assert!(matches!(err, SendError::QueueFull), "{err}");
    assert!(sent >= 4, "at least the queue's worth went: {sent}");
    assert_eq!(tp.stats().queue_full.load(Ordering::Relaxed), 1);
    // The connection is gone: its slot is free again.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(tp.open_connections(), 0);
}

#[tokio::test]
async fn send_never_waits_on_a_peer_that_never_reads() {
    // The awaiting `send` also returns at once (it only waits for a connection it opens).
    let (tp, _rx) = TransportHandle::bind(tcp_config("127.0.16.3"))
        .await
        .unwrap();
    let deaf = deaf_listener("127.0.16.4", 8);
    let peer = Peer {
        transport: Transport::Tcp,
        addr: deaf.local_addr().unwrap(),
    };
    let _held = tokio::spawn(async move {
        let (c, _) = deaf.accept().await.unwrap();
        tokio::time::sleep(Duration::from_secs(30)).await;
        drop(c);
    });
    let mut failed = false;
    for _ in 0..2000 {
        match tokio::time::timeout(Duration::from_secs(1), tp.send(peer, blob(32 * 1024))).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                assert_eq!(e.kind(), std::io::ErrorKind::WouldBlock, "{e}");
                failed = true;
                break;
            }
            Err(_) => panic!("send waited on a peer that does not read"),
        }
    }
    assert!(failed, "the queue never overflowed");
}

#[tokio::test]
async fn a_connect_that_does_not_complete_fails_in_time() {
    let cfg = TransportConfig {
        connect_timeout: Duration::from_millis(300),
        ..tcp_config("127.0.16.5")
    };
    let (tp, _rx) = TransportHandle::bind(cfg).await.unwrap();
    let mut failures = tp.failures().unwrap();
    assert!(tp.failures().is_none());
    // A listener that never accepts, its backlog filled: further SYNs go unanswered.
    let full = deaf_listener("127.0.16.6", 1);
    let target = full.local_addr().unwrap();
    let mut fillers = Vec::new();
    for _ in 0..4 {
        if let Ok(Ok(c)) =
            tokio::time::timeout(Duration::from_millis(200), TcpStream::connect(target)).await
        {
            fillers.push(c);
        }
    }
    let peer = Peer {
        transport: Transport::Tcp,
        addr: target,
    };
    let started = Instant::now();
    tp.try_send(peer, Arc::from(OPTIONS.as_bytes())).unwrap();
    let failed = tokio::time::timeout(Duration::from_secs(3), failures.recv())
        .await
        .expect("connect failure not reported in time")
        .unwrap();
    assert_eq!(failed, peer);
    assert!(started.elapsed() >= Duration::from_millis(250));
    assert_eq!(tp.stats().connect_failures.load(Ordering::Relaxed), 1);
    assert_eq!(tp.open_connections(), 0);
}

#[tokio::test]
async fn an_outgoing_tls_handshake_that_never_completes_fails_in_time() {
    let dir = std::env::temp_dir().join(format!("tipring-streams-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["127.0.16.8".to_string()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    std::fs::write(dir.join("ca.pem"), cert.pem()).unwrap();
    let client = tls::client_config(&dir.join("ca.pem")).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let cfg = TransportConfig {
        tls_client: Some(client),
        handshake_timeout: Duration::from_millis(300),
        ..tcp_config("127.0.16.7")
    };
    let (tp, _rx) = TransportHandle::bind(cfg).await.unwrap();
    let mut failures = tp.failures().unwrap();
    // Accepts and never says a word.
    let mute = TcpListener::bind("127.0.16.8:0").await.unwrap();
    let target = mute.local_addr().unwrap();
    let _held = tokio::spawn(async move {
        let (c, _) = mute.accept().await.unwrap();
        tokio::time::sleep(Duration::from_secs(30)).await;
        drop(c);
    });
    let peer = Peer {
        transport: Transport::Tls,
        addr: target,
    };
    tp.try_send(peer, Arc::from(OPTIONS.as_bytes())).unwrap();
    let failed = tokio::time::timeout(Duration::from_secs(3), failures.recv())
        .await
        .expect("handshake failure not reported in time")
        .unwrap();
    assert_eq!(failed, peer);
    assert_eq!(tp.stats().tls_failures.load(Ordering::Relaxed), 1);
    // The awaiting send reports the same failure as its error.
    let r = tokio::time::timeout(
        Duration::from_secs(3),
        tp.send(peer, Arc::from(OPTIONS.as_bytes())),
    )
    .await
    .expect("send waited beyond the handshake timeout");
    assert!(r.is_err());
}

#[tokio::test]
async fn a_stalled_write_closes_the_connection_and_is_reported() {
    let cfg = TransportConfig {
        // Room for far more than the socket buffers: the write stalls before it fills.
        send_queue_bytes: 64 * 1024 * 1024,
        write_timeout: Duration::from_millis(300),
        ..tcp_config("127.0.16.10")
    };
    let (tp, _rx) = TransportHandle::bind(cfg).await.unwrap();
    let mut failures = tp.failures().unwrap();
    let deaf = deaf_listener("127.0.16.11", 8);
    let target: SocketAddr = deaf.local_addr().unwrap();
    let _held = tokio::spawn(async move {
        let (c, _) = deaf.accept().await.unwrap();
        tokio::time::sleep(Duration::from_secs(30)).await;
        drop(c);
    });
    let peer = Peer {
        transport: Transport::Tcp,
        addr: target,
    };
    let started = Instant::now();
    let failed = loop {
        let _ = tp.try_send(peer, blob(64 * 1024));
        if let Ok(p) = failures.try_recv() {
            break p;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "stall never detected"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    assert_eq!(failed, peer);
    assert_eq!(tp.stats().write_failures.load(Ordering::Relaxed), 1);
    assert_eq!(tp.stats().queue_full.load(Ordering::Relaxed), 0);
}
