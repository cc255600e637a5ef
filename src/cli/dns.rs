//! `--dns`: where `tipring call` and `tipring register` look up the names in their URIs
//! (RFC 3263 through [`tipring::gateway::dns`]: NAPTR, SRV, then A/AAAA).

use clap::Args as ClapArgs;
use std::net::{IpAddr, SocketAddr};
use tipring_sip::transaction::Transport;
use tipring_sip::ua::HostTable;
use tipring_sip::uri::Host;

#[derive(Debug, ClapArgs)]
pub struct DnsArgs {
    /// DNS server for host names in the URIs (ADDR or ADDR:PORT); default: the system's.
    #[arg(long, value_parser = server)]
    pub dns: Option<SocketAddr>,
}

fn server(s: &str) -> Result<SocketAddr, String> {
    tipring::config::parse_dns_server(s)
        .ok_or_else(|| format!("{s:?} is not an IP address with an optional port"))
}

impl DnsArgs {
    /// The host names of `uris` located for `transport` (the others' records are of no
    /// use to us); `Err` names the first that resolved to nothing.
    pub async fn hosts(
        &self,
        uris: &[&str],
        transport: Transport,
        local: SocketAddr,
    ) -> Result<HostTable, String> {
        let names: Vec<String> = uris.iter().filter_map(|u| name_of(u)).collect();
        if names.is_empty() {
            return Ok(HostTable::new());
        }
        let servers: Vec<SocketAddr> = self.dns.into_iter().collect();
        let r = tipring::gateway::dns::resolver(&servers).map_err(|e| e.to_string())?;
        let found = tipring::gateway::dns::locate(&r, &names, &[transport], local).await;
        match found.failed.first() {
            Some(f) => Err(format!("cannot resolve {f}")),
            None => Ok(found.table),
        }
    }
}

/// The host of a SIP URI when it is a name.
fn name_of(uri: &str) -> Option<String> {
    let u = tipring_sip::Uri::parse(uri).ok()?;
    match u.as_sip()?.host {
        Host::Domain(d) if d.parse::<IpAddr>().is_err() => Some(d.to_owned()),
        _ => None,
    }
}
