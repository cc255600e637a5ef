//! TLS calls between two tipring endpoints on loopback, with a test CA made here (rcgen):
//! a call completes when the server certificate verifies, and the handshake is rejected
//! when it does not (RFC 3261 §26.3.1).

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::Duration;
use testkit::endpoint::uac::CallReport;
use testkit::endpoint::uas::UasOptions;
use testkit::endpoint::{Counters, Endpoint, EndpointError};
use tipring_sip::transaction::{Peer, TimerConfig, Transport};
use tipring_sip::transport::{TransportConfig, tls};

struct Pki {
    dir: PathBuf,
}

impl Pki {
    /// A CA and a server certificate for 127.0.0.1 and ::1 signed by it, as PEM files.
    fn new(name: &str) -> Pki {
        Pki::for_names(name, &["127.0.0.1", "::1"])
    }

    /// A CA and a server certificate for `names` (host names or addresses).
    fn for_names(name: &str, names: &[&str]) -> Pki {
        let dir = std::env::temp_dir().join(format!("tipring-tls-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca.distinguished_name
            .push(rcgen::DnType::CommonName, format!("tipring test CA {name}"));
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let ca_cert = ca.self_signed(&ca_key).unwrap();
        let leaf =
            rcgen::CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
                .unwrap();
        let leaf_key = rcgen::KeyPair::generate().unwrap();
        let leaf_cert = leaf.signed_by(&leaf_key, &ca_cert, &ca_key).unwrap();
        std::fs::write(dir.join("ca.pem"), ca_cert.pem()).unwrap();
        std::fs::write(dir.join("cert.pem"), leaf_cert.pem()).unwrap();
        std::fs::write(dir.join("key.pem"), leaf_key.serialize_pem()).unwrap();
        Pki { dir }
    }

    fn path(&self, f: &str) -> PathBuf {
        self.dir.join(f)
    }
}

impl Drop for Pki {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn tls_endpoint(ip: &str, server: &Pki, trust: &Path) -> Endpoint {
    let cfg = TransportConfig {
        tls: Some((
            format!("{ip}:0").parse().unwrap(),
            tls::server_config(&server.path("cert.pem"), &server.path("key.pem")).unwrap(),
        )),
        tls_client: Some(tls::client_config(trust).unwrap()),
        ..TransportConfig::default()
    };
    Endpoint::bind(cfg, TimerConfig::default()).await.unwrap()
}

async fn call_over_tls(ip: &str, name: &str) {
    let pki = Pki::new(name);
    let uas = tls_endpoint(ip, &pki, &pki.path("ca.pem")).await;
    let addr = uas.transport().local_addr(Transport::Tls).unwrap();
    let counters = uas.counters();
    let task = tokio::spawn(async move {
        let _ = uas.serve(UasOptions::default()).await;
    });
    let mut uac = tls_endpoint(ip, &pki, &pki.path("ca.pem")).await;
    let peer = Peer {
        transport: Transport::Tls,
        addr,
    };
    let uri = format!("sips:service@{addr}");
    let r = uac
        .call(peer, &uri, Duration::from_millis(50))
        .await
        .unwrap();
    task.abort();
    assert_eq!(
        r,
        CallReport {
            provisional: vec![180],
            final_code: 200,
            bye_code: Some(200)
        }
    );
    assert_eq!(Counters::get(&counters.acks), 1);
    assert_eq!(Counters::get(&counters.byes), 1);
}

#[tokio::test]
async fn tls_call_ipv4() {
    call_over_tls("127.0.0.1", "v4").await;
}

#[tokio::test]
async fn tls_call_ipv6() {
    call_over_tls("[::1]", "v6").await;
}

#[tokio::test]
async fn tls_handshake_rejected_when_certificate_does_not_verify() {
    let server = Pki::new("server");
    let other = Pki::new("other");
    let uas = tls_endpoint("127.0.0.1", &server, &server.path("ca.pem")).await;
    let addr = uas.transport().local_addr(Transport::Tls).unwrap();
    let counters = uas.counters();
    let task = tokio::spawn(async move {
        let _ = uas.serve(UasOptions::default()).await;
    });
    // The client trusts another CA: the server's certificate does not verify.
    let mut uac = tls_endpoint("127.0.0.1", &other, &other.path("ca.pem")).await;
    let peer = Peer {
        transport: Transport::Tls,
        addr,
    };
    let r = uac
        .call(peer, &format!("sips:service@{addr}"), Duration::ZERO)
        .await;
    task.abort();
    assert!(
        matches!(r, Err(EndpointError::TransportFailure)),
        "expected a transport failure, got {r:?}"
    );
    assert_eq!(
        uac.transport().stats().tls_failures.load(Ordering::Relaxed),
        1
    );
    assert_eq!(Counters::get(&counters.invites), 0);
}

/// A server known by name: its certificate names only `pbx.test`. Verified against the
/// bare address the certificate is refused; once the transport is told the address is
/// `pbx.test`'s (`set_tls_name`, as `tls_names` at bind), it is verified by the name.
#[tokio::test]
async fn tls_certificate_verified_against_the_server_name() {
    let pki = Pki::for_names("named", &["pbx.test"]);
    let uas = tls_endpoint("127.0.0.1", &pki, &pki.path("ca.pem")).await;
    let addr = uas.transport().local_addr(Transport::Tls).unwrap();
    let task = tokio::spawn(async move {
        let _ = uas.serve(UasOptions::default()).await;
    });
    let peer = Peer {
        transport: Transport::Tls,
        addr,
    };
    let client = |names: &[(&str, &str)]| TransportConfig {
        tls: Some((
            "127.0.0.1:0".parse().unwrap(),
            tls::server_config(&pki.path("cert.pem"), &pki.path("key.pem")).unwrap(),
        )),
        tls_client: Some(tls::client_config(&pki.path("ca.pem")).unwrap()),
        tls_names: names
            .iter()
            .map(|(ip, n)| (ip.parse().unwrap(), n.to_string()))
            .collect(),
        ..TransportConfig::default()
    };
    let mut by_ip = Endpoint::bind(client(&[]), TimerConfig::default())
        .await
        .unwrap();
    let r = by_ip
        .call(peer, "sips:service@pbx.test", Duration::ZERO)
        .await;
    assert!(
        matches!(r, Err(EndpointError::TransportFailure)),
        "verified against the address: {r:?}"
    );
    // The name becomes known later (resolved after the transport was bound).
    by_ip
        .transport()
        .set_tls_name("127.0.0.1".parse().unwrap(), "pbx.test");
    let r = by_ip
        .call(peer, "sips:service@pbx.test", Duration::from_millis(50))
        .await
        .unwrap();
    task.abort();
    assert_eq!(r.final_code, 200);
}
