//! A DNS server for tests: Debian's dnsmasq on a loopback address and port, serving only
//! the records a test gives it (no upstream, no `/etc/hosts`), killed on drop.

use crate::process::Proc;
use std::net::{SocketAddr, UdpSocket};
use std::path::Path;
use std::time::{Duration, Instant};

/// A running dnsmasq.
pub struct Dnsmasq {
    _proc: Proc,
    /// Where it answers (UDP and TCP).
    pub addr: SocketAddr,
}

/// One record, in dnsmasq's own option syntax.
#[derive(Debug, Clone)]
pub enum Record {
    /// `name` has the address `ip` (A or AAAA).
    Host { name: String, ip: String },
    /// SRV `service` (`_sip._udp.example.test`) → `target:port`, priority, weight.
    Srv {
        service: String,
        target: String,
        port: u16,
        priority: u16,
        weight: u16,
    },
    /// NAPTR for `name`: order, preference, flag `S`, `service` (`SIP+D2U`), pointing at
    /// the SRV name `replacement`.
    Naptr {
        name: String,
        order: u16,
        preference: u16,
        service: String,
        replacement: String,
    },
}

impl Record {
    fn arg(&self) -> String {
        match self {
            Record::Host { name, ip } => format!("--host-record={name},{ip}"),
            Record::Srv {
                service,
                target,
                port,
                priority,
                weight,
            } => format!("--srv-host={service},{target},{port},{priority},{weight}"),
            Record::Naptr {
                name,
                order,
                preference,
                service,
                replacement,
            } => format!("--naptr-record={name},{order},{preference},S,{service},,{replacement}"),
        }
    }
}

impl Dnsmasq {
    /// Starts dnsmasq at `addr` (a loopback address) with `records`, answering with a
    /// `ttl`-second TTL; returns once it answers a query. Its log is `dir/dnsmasq.out`.
    pub fn start(dir: &Path, addr: SocketAddr, ttl: u32, records: &[Record]) -> Dnsmasq {
        let mut args: Vec<String> = [
            "--keep-in-foreground",
            "--conf-file=/dev/null",
            "--no-resolv",
            "--no-hosts",
            "--bind-interfaces",
            "--log-queries",
            "--log-facility=-",
            "--pid-file=",
            "--user=root",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        args.push(format!("--listen-address={}", addr.ip()));
        args.push(format!("--port={}", addr.port()));
        args.push(format!("--local-ttl={ttl}"));
        args.extend(records.iter().map(Record::arg));
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let proc = Proc::spawn(dir, "dnsmasq", "dnsmasq", &refs);
        let d = Dnsmasq { _proc: proc, addr };
        assert!(
            d.answers(Duration::from_secs(10)),
            "dnsmasq at {addr} does not answer: {}",
            d._proc.output()
        );
        d
    }

    /// Its log so far (one line per query with `--log-queries`).
    pub fn log(&self) -> String {
        self._proc.output()
    }

    /// Whether it answers a query for `.` (any answer will do) within `limit`.
    fn answers(&self, limit: Duration) -> bool {
        let Ok(s) = UdpSocket::bind(SocketAddr::new(self.addr.ip(), 0)) else {
            return false;
        };
        let _ = s.set_read_timeout(Some(Duration::from_millis(100)));
        // A standard query, id 0x7470, for the root's NS records.
        let q = [
            0x74, 0x70, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 1,
        ];
        let end = Instant::now() + limit;
        let mut buf = [0u8; 512];
        while Instant::now() < end {
            let _ = s.send_to(&q, self.addr);
            if let Ok((n, _)) = s.recv_from(&mut buf)
                && n >= 2
                && buf[..2] == q[..2]
            {
                return true;
            }
        }
        false
    }
}
