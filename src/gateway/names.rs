//! The host names in the configuration, looked up at start and again as their records
//! expire for the sans-IO SIP side (RFC 3263 through [`super::dns`]). Registrars, proxies
//! and hotline targets are usually written as names; the user agent core never resolves
//! anything itself.

use crate::config::Config;
use std::collections::HashSet;
use std::net::{IpAddr, SocketAddr};
use tipring_sip::Uri;
use tipring_sip::transaction::Transport;
use tipring_sip::ua::HostTable;
use tipring_sip::uri::Host;

/// Every host name (not an IP literal) the configuration sends requests to: the accounts'
/// registrar, proxies and domain, the ports' hotline and warm-line targets.
pub fn names(cfg: &Config) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let uris = cfg.accounts.iter().flat_map(|a| {
        a.servers()
            .cloned()
            .chain(a.domain.as_ref().map(|d| format!("sip:{d}")))
    });
    let targets = cfg
        .ports
        .iter()
        .flat_map(|p| [&p.hotline, &p.warm_line].into_iter().flatten().cloned());
    for uri in uris.chain(targets) {
        let Ok(u) = Uri::parse(&uri) else { continue };
        let Some(s) = u.as_sip() else { continue };
        if let Host::Domain(d) = s.host
            && d.parse::<IpAddr>().is_err()
            && !out.iter().any(|n| n.eq_ignore_ascii_case(d))
        {
            out.push(d.to_owned());
        }
    }
    out
}

/// The addresses of every account's servers ([`crate::config::Account::servers`]): IP
/// literals as written, names as `hosts` resolved them, their services' addresses
/// included (a name not resolved is left out).
pub fn server_ips(cfg: &Config, hosts: &HostTable) -> HashSet<IpAddr> {
    cfg.accounts
        .iter()
        .flat_map(|a| a.servers())
        .filter_map(|u| {
            let uri = Uri::parse(u).ok()?;
            match uri.as_sip()?.host {
                Host::Ipv4(a) => Some(vec![IpAddr::V4(a)]),
                Host::Ipv6(a) => Some(vec![IpAddr::V6(a)]),
                Host::Domain(d) => match d.parse() {
                    Ok(ip) => Some(vec![ip]),
                    Err(_) => hosts.resolved(d).map(|r| r.addresses().collect()),
                },
            }
        })
        .flatten()
        .collect()
}

/// At most this many names are taken from one message ([`learnt`]).
pub const MAX_LEARNT_PER_MESSAGE: usize = 4;

/// The host names in `bytes`' Record-Route and Contact headers (where the requests of a
/// dialog, or a redirected call, will go) that `hosts` does not know yet, at most
/// [`MAX_LEARNT_PER_MESSAGE`]; none when `bytes` is not a SIP message.
pub fn learnt(bytes: &[u8], hosts: &HostTable) -> Vec<String> {
    let Ok(msg) = tipring_sip::Message::parse(bytes) else {
        return Vec::new();
    };
    let contacts = msg.contacts().filter_map(|c| match c {
        tipring_sip::header::Contact::Addr(a) => Some(a.uri.to_string()),
        tipring_sip::header::Contact::Star => None,
    });
    let routes = msg.record_routes().map(|r| r.uri.to_string());
    let mut out: Vec<String> = Vec::new();
    for uri in routes.chain(contacts) {
        let Ok(u) = Uri::parse(&uri) else { continue };
        let Some(s) = u.as_sip() else { continue };
        if let Host::Domain(d) = s.host
            && d.parse::<IpAddr>().is_err()
            && hosts.resolved(d).is_none()
            && !out.iter().any(|n| n.eq_ignore_ascii_case(d))
        {
            out.push(d.to_owned());
            if out.len() == MAX_LEARNT_PER_MESSAGE {
                break;
            }
        }
    }
    out
}

/// Where the box's requests go: its accounts' servers ([`server_ips`]) and its ports'
/// hotline and warm-line targets, IP literals as written, names as `hosts` resolved them.
pub fn peer_ips(cfg: &Config, hosts: &HostTable) -> Vec<IpAddr> {
    let mut out: Vec<IpAddr> = server_ips(cfg, hosts).into_iter().collect();
    out.sort();
    let targets = cfg
        .ports
        .iter()
        .flat_map(|p| [&p.hotline, &p.warm_line].into_iter().flatten());
    for t in targets {
        let Ok(u) = Uri::parse(t) else { continue };
        let Some(s) = u.as_sip() else { continue };
        let ips: Vec<IpAddr> = match s.host {
            Host::Ipv4(a) => vec![a.into()],
            Host::Ipv6(a) => vec![a.into()],
            Host::Domain(d) => match d.parse() {
                Ok(ip) => vec![ip],
                Err(_) => hosts
                    .resolved(d)
                    .map(|r| r.addresses().collect())
                    .unwrap_or_default(),
            },
        };
        for ip in ips {
            if !out.contains(&ip) {
                out.push(ip);
            }
        }
    }
    out
}

/// The transports requests may leave on (RFC 3263 §4.1: the NAPTR and SRV records of
/// others are of no use): the listeners at `local`, TLS only with a certificate.
pub fn transports(cfg: &Config, local: SocketAddr) -> Vec<Transport> {
    use crate::config::Transport as T;
    let mut out = Vec::new();
    for l in cfg.identity.listen.iter().filter(|l| l.address == local) {
        let t = match l.transport {
            T::Udp => Transport::Udp,
            T::Tcp => Transport::Tcp,
            T::Tls if cfg.identity.tls.is_some() => Transport::Tls,
            T::Tls => continue,
        };
        if !out.contains(&t) {
            out.push(t);
        }
    }
    if out.is_empty() {
        out.push(Transport::Udp);
    }
    out
}

/// Looks up the configuration's names (RFC 3263, [`super::dns`]) through its `[dns]
/// servers`, else the system's; without a usable system configuration, only their
/// addresses, as the C library finds them. A name that does not resolve is left out and
/// reported: requests to it fail as unreachable until a later lookup finds it.
pub async fn resolve(cfg: &Config, local: SocketAddr) -> super::dns::Lookup {
    resolve_names(cfg, &names(cfg), local).await
}

/// As [`resolve`], for `names`.
pub async fn resolve_names(
    cfg: &Config,
    names: &[String],
    local: SocketAddr,
) -> super::dns::Lookup {
    if names.is_empty() {
        return super::dns::Lookup::default();
    }
    match super::dns::resolver(&cfg.dns.servers) {
        Ok(r) => super::dns::locate(&r, names, &transports(cfg, local), local).await,
        Err(e) => {
            let mut l = addresses(names, local).await;
            l.failed.push(e.to_string());
            l
        }
    }
}

/// Looks `names` up with the C library, keeping for each the first address of `local`'s
/// family (else the first at all).
async fn addresses(names: &[String], local: SocketAddr) -> super::dns::Lookup {
    let mut out = super::dns::Lookup::default();
    for name in names {
        match tokio::net::lookup_host((name.as_str(), 0)).await {
            Ok(addrs) => {
                let addrs: Vec<IpAddr> = addrs.map(|a| a.ip()).collect();
                let pick = addrs
                    .iter()
                    .find(|ip| ip.is_ipv4() == local.is_ipv4())
                    .or(addrs.first());
                match pick {
                    Some(ip) => out.table.insert(name, *ip),
                    None => out.failed.push(format!("{name}: no address")),
                }
            }
            Err(e) => out.failed.push(format!("{name}: {e}")),
        }
    }
    out.refresh_at = Some(std::time::Instant::now() + super::dns::MAX_REFRESH);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(text: &str) -> Config {
        let board = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("board");
        crate::config::load_str("t.toml", text, &board)
            .expect("valid")
            .config
    }

    #[test]
    fn names_of_servers_and_targets_once_ip_literals_skipped() {
        let c = cfg(
            "board = \"sim\"\n[[accounts]]\nname = \"pbx\"\nregistrar = \"sip:PBX.example.net\"\n\
             username = \"gw\"\nproxy = \"sip:pbx.example.net:5070;lr\"\n\
             secondary_proxy = \"sip:192.0.2.7;lr\"\ndomain = \"voip.example.net\"\n\
             [[ports]]\nindex = 0\nkind = \"fxs\"\nhotline = \"sip:desk@office.example.net\"\n",
        );
        assert_eq!(
            names(&c),
            ["PBX.example.net", "voip.example.net", "office.example.net"]
        );
    }

    #[test]
    fn names_in_record_route_and_contact_not_yet_known() {
        let mut hosts = HostTable::new();
        hosts.insert("known.example", "192.0.2.1".parse().unwrap());
        let msg = "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.9;branch=z9hG4bK1\r\n\
                   Record-Route: <sip:edge.example;lr>, <sip:known.example;lr>\r\n\
                   Record-Route: <sip:192.0.2.7;lr>\r\n\
                   From: <sip:a@x>;tag=1\r\nTo: <sip:b@y>;tag=2\r\nCall-ID: c\r\n\
                   CSeq: 1 INVITE\r\nContact: <sip:bob@PBX.example:5070>, <sip:edge.EXAMPLE>\r\n\
                   Content-Length: 0\r\n\r\n";
        assert_eq!(
            learnt(msg.as_bytes(), &hosts),
            ["edge.example", "PBX.example"]
        );
        assert!(learnt(b"garbage", &hosts).is_empty());
        // Many names: only the first few are taken.
        let many: String = (0..20)
            .map(|i| format!("Contact: <sip:h{i}.example>\r\n"))
            .collect();
        let msg = format!(
            "SIP/2.0 302 Moved\r\nVia: SIP/2.0/UDP 192.0.2.9;branch=z9hG4bK1\r\n\
             From: <sip:a@x>;tag=1\r\nTo: <sip:b@y>;tag=2\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\n\
             {many}Content-Length: 0\r\n\r\n"
        );
        assert_eq!(learnt(msg.as_bytes(), &hosts).len(), MAX_LEARNT_PER_MESSAGE);
    }

    #[tokio::test]
    async fn localhost_resolves_in_the_family_of_the_sip_address() {
        let local: SocketAddr = "127.0.0.1:5060".parse().unwrap();
        let l = addresses(&["localhost".into(), "no-such-host.invalid".into()], local).await;
        assert_eq!(l.table.get("localhost"), Some("127.0.0.1".parse().unwrap()));
        assert_eq!(l.failed.len(), 1, "{:?}", l.failed);
        assert!(
            l.failed[0].starts_with("no-such-host.invalid: "),
            "{:?}",
            l.failed
        );
    }
}
