//! Looking up SIP servers in the DNS (RFC 3263 §4.1, §4.2) for the sans-IO SIP side:
//! for each name, its NAPTR records (`SIP+D2U`, `SIP+D2T`, `SIPS+D2T` of the transports we
//! run), the SRV records they point to (or, without NAPTR, the `_sip._udp`, `_sip._tcp`
//! and `_sips._tcp` SRV records of those transports), the targets' addresses, and the
//! name's own A/AAAA addresses. The answers go into a [`HostTable`]; which service a
//! request takes, and the failover between them, is the UA core's
//! ([`tipring_sip::ua::locate`]). Lookups go to the configured servers (`[dns] servers`,
//! `--dns`), else to the system's (`/etc/resolv.conf`, `/etc/hosts`).

use hickory_resolver::TokioResolver;
use hickory_resolver::config::{ConnectionConfig, NameServerConfig, ResolverConfig};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::proto::rr::{RData, RecordType};
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};
use tipring_sip::transaction::Transport;
use tipring_sip::ua::{HostTable, Resolved, Service};

/// At most this many NAPTR rules, and SRV targets per rule, are taken from an answer: a
/// DNS server (or whoever forges its answers) cannot make the gateway look up, hold and
/// try thousands of targets.
pub const MAX_RECORDS: usize = 8;

/// The shortest time between two lookups of the same names, however short the TTLs.
pub const MIN_REFRESH: Duration = Duration::from_secs(5);

/// The longest: servers that move are found within this even with long TTLs.
pub const MAX_REFRESH: Duration = Duration::from_secs(300);

/// Why no resolver could be made.
#[derive(Debug, thiserror::Error)]
#[error("DNS: {0}")]
pub struct DnsError(String);

/// A resolver asking `servers` (UDP, then TCP for truncated answers), else the system's.
pub fn resolver(servers: &[SocketAddr]) -> Result<TokioResolver, DnsError> {
    let provider = TokioRuntimeProvider::default();
    let builder = if servers.is_empty() {
        TokioResolver::builder(provider).map_err(|e| DnsError(format!("system resolver: {e}")))?
    } else {
        let ns = servers
            .iter()
            .map(|s| {
                let mut udp = ConnectionConfig::udp();
                udp.port = s.port();
                let mut tcp = ConnectionConfig::tcp();
                tcp.port = s.port();
                NameServerConfig::new(s.ip(), true, vec![udp, tcp])
            })
            .collect();
        TokioResolver::builder_with_config(ResolverConfig::from_name_servers(ns), provider)
    };
    let mut builder = builder;
    // A server that does not answer holds up the start and each refresh: a short wait and
    // one retry per query, not the resolver's 5 s per try.
    builder.options_mut().timeout = QUERY_TIMEOUT;
    builder.options_mut().attempts = 2;
    builder.build().map_err(|e| DnsError(e.to_string()))
}

/// How long one query waits for its server.
pub const QUERY_TIMEOUT: Duration = Duration::from_secs(2);

/// What one round of lookups found.
#[derive(Debug, Default)]
pub struct Lookup {
    pub table: HostTable,
    /// `name: why` for each name that resolved to nothing.
    pub failed: Vec<String>,
    /// When the shortest-lived answer expires (clamped to [`MIN_REFRESH`],
    /// [`MAX_REFRESH`] from now).
    pub refresh_at: Option<Instant>,
}

/// Looks up `names` through `resolver` for the `transports` we run (preferred first),
/// addresses of `local`'s family first; the names at once, so a DNS server that does not
/// answer costs the wait of one name, not of each.
pub async fn locate(
    resolver: &TokioResolver,
    names: &[String],
    transports: &[Transport],
    local: SocketAddr,
) -> Lookup {
    let mut set = tokio::task::JoinSet::new();
    for (i, name) in names.iter().enumerate() {
        let (resolver, name, transports) = (resolver.clone(), name.clone(), transports.to_vec());
        set.spawn(async move { (i, locate_one(&resolver, &name, &transports, local).await) });
    }
    let mut found: Vec<(usize, Located)> = set.join_all().await;
    found.sort_by_key(|(i, _)| *i);
    let mut out = Lookup::default();
    let now = Instant::now();
    let mut expires: Option<Instant> = None;
    for (i, l) in found {
        expires = match (expires, l.expires) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let name = &names[i];
        if l.resolved.is_empty() {
            out.failed.push(format!("{name}: {}", l.why));
        } else {
            out.table.set(name, l.resolved);
        }
    }
    let at = expires.unwrap_or(now + MAX_REFRESH);
    out.refresh_at = Some(at.clamp(now + MIN_REFRESH, now + MAX_REFRESH));
    out
}

/// What one name resolved to, when the shortest-lived answer expires, and why nothing
/// was found if so.
struct Located {
    resolved: Resolved,
    expires: Option<Instant>,
    why: String,
}

async fn locate_one(
    resolver: &TokioResolver,
    name: &str,
    transports: &[Transport],
    local: SocketAddr,
) -> Located {
    let mut expires: Option<Instant> = None;
    let mut seen = |t: Instant| expires = Some(expires.map_or(t, |e| e.min(t)));
    let mut r = Resolved::default();
    let mut why = String::from("no address");
    match resolver.lookup_ip(fqdn(name)).await {
        Ok(ips) => {
            seen(ips.valid_until());
            r.ips = family_first(ips.iter().collect(), local);
        }
        Err(e) => why = e.to_string(),
    }
    r.services = services(resolver, name, transports, local, &mut seen).await;
    Located {
        resolved: r,
        expires,
        why,
    }
}

/// A name as absolute (no search domains appended: a SIP domain is a full name).
fn fqdn(name: &str) -> String {
    if name.ends_with('.') {
        name.to_owned()
    } else {
        format!("{name}.")
    }
}

/// `ips` with those of `local`'s family first.
fn family_first(mut ips: Vec<IpAddr>, local: SocketAddr) -> Vec<IpAddr> {
    ips.sort_by_key(|ip| ip.is_ipv4() != local.is_ipv4());
    ips
}

/// The NAPTR service field of `t` (RFC 3263 §4.1), and the SRV prefix.
fn naming(t: Transport) -> (&'static str, &'static str) {
    match t {
        Transport::Udp => ("SIP+D2U", "_sip._udp"),
        Transport::Tcp => ("SIP+D2T", "_sip._tcp"),
        Transport::Tls => ("SIPS+D2T", "_sips._tcp"),
    }
}

/// The services of `name`: through its NAPTR records when it has usable ones (in order,
/// then preference), else by SRV queries per transport in `transports`' order.
async fn services(
    resolver: &TokioResolver,
    name: &str,
    transports: &[Transport],
    local: SocketAddr,
    seen: &mut impl FnMut(Instant),
) -> Vec<Service> {
    let mut rules: Vec<(u16, u16, Transport, String)> = Vec::new();
    if let Ok(l) = resolver.lookup(fqdn(name), RecordType::NAPTR).await {
        seen(l.valid_until());
        for rec in l.answers() {
            let RData::NAPTR(n) = &rec.data else { continue };
            // §4.1: the "S" flag, a service we run; a regexp rule is not for SIP.
            let flag_s = n.flags.eq_ignore_ascii_case(b"s");
            let t = transports
                .iter()
                .copied()
                .find(|t| n.services.eq_ignore_ascii_case(naming(*t).0.as_bytes()));
            if let (true, Some(t)) = (flag_s, t) {
                rules.push((n.order, n.preference, t, n.replacement.to_ascii()));
            }
        }
        rules.sort_by_key(|r| (r.0, r.1));
        rules.truncate(MAX_RECORDS);
    }
    if rules.is_empty() {
        rules = transports
            .iter()
            .map(|t| (0, 0, *t, format!("{}.{}", naming(*t).1, fqdn(name))))
            .collect();
    }
    let mut out = Vec::new();
    for (rank, (_, _, t, srv_name)) in rules.into_iter().enumerate() {
        let Ok(l) = resolver.lookup(srv_name.as_str(), RecordType::SRV).await else {
            continue;
        };
        seen(l.valid_until());
        let mut srvs: Vec<_> = l
            .answers()
            .iter()
            .filter_map(|rec| match &rec.data {
                RData::SRV(s) => Some(s),
                _ => None,
            })
            .collect();
        // The best priorities are the ones kept.
        srvs.sort_by_key(|s| s.priority);
        srvs.truncate(MAX_RECORDS);
        for s in srvs {
            // RFC 2782: a target of "." means the service is decidedly not offered.
            if s.target.is_root() {
                continue;
            }
            let Ok(ips) = resolver.lookup_ip(s.target.to_ascii()).await else {
                continue;
            };
            seen(ips.valid_until());
            let Some(ip) = family_first(ips.iter().collect(), local).first().copied() else {
                continue;
            };
            out.push(Service {
                transport: t,
                priority: (rank as u32) << 16 | u32::from(s.priority),
                weight: s.weight,
                addr: SocketAddr::new(ip, s.port),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_local_family_comes_first() {
        let v6: IpAddr = "2001:db8::1".parse().unwrap();
        let v4: IpAddr = "192.0.2.1".parse().unwrap();
        let local: SocketAddr = "127.0.0.1:5060".parse().unwrap();
        assert_eq!(family_first(vec![v6, v4], local), [v4, v6]);
    }
}
