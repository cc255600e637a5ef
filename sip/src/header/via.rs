//! Via (RFC 3261 §20.42, §18.2.1, RFC 3581 rport).

use super::FromValue;
use crate::error::Fault;
use crate::params::{ParamGrammar, Params};
use crate::parse::{is_lws, number, sws, token};
use crate::uri::{Host, host, host_port};
use std::fmt;
use std::net::IpAddr;

/// One Via value: `SIP/2.0/UDP host:port;branch=...;received=...;rport`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Via<'a> {
    /// protocol-name, `SIP`.
    pub protocol: &'a str,
    /// protocol-version, `2.0`.
    pub version: &'a str,
    /// transport, e.g. `UDP`, `TCP`, `TLS`, `SCTP` or an extension.
    pub transport: &'a str,
    /// sent-by host.
    pub host: Host<'a>,
    /// sent-by port.
    pub port: Option<u16>,
    /// via-params, validated (branch, received, rport, maddr, ttl, others).
    pub params: Params<'a>,
}

/// The `rport` parameter (RFC 3581 §3-§4): asked for (no value) or filled in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rport {
    /// `;rport` in a request: the client asks for it.
    Requested,
    /// `;rport=5060` set by the server.
    Port(u16),
}

fn slash(i: &str) -> Result<&str, Fault> {
    sws(i)
        .strip_prefix('/')
        .map(sws)
        .ok_or(Fault::at("expected '/' in sent-protocol", i))
}

impl<'a> FromValue<'a> for Via<'a> {
    fn from_value(s: &'a str) -> Result<Self, Fault> {
        let (rest, via) = Via::parse_prefix(s)?;
        if !rest.is_empty() {
            return Err(Fault::at("unexpected text after Via parameters", rest));
        }
        Ok(via)
    }
}

impl<'a> Via<'a> {
    /// Parses the first via-parm of `s` and returns the rest, LWS skipped: empty, or the
    /// `,` before the next via-parm when the parameters end there (RFC 3261 §20.42).
    /// Lets the message parser read the topmost Via without splitting the whole list.
    pub(crate) fn parse_prefix(s: &'a str) -> Result<(&'a str, Via<'a>), Fault> {
        // sent-protocol = protocol-name SLASH protocol-version SLASH transport, with the
        // usual spelling taken without the LWS-tolerant path.
        let (i, protocol, version) = match s.strip_prefix("SIP/2.0/") {
            Some(rest) => (sws(rest), &s[..3], &s[4..7]),
            None => {
                let (i, protocol) = token(s).map_err(|_| Fault::at("bad protocol-name", s))?;
                let i = slash(i)?;
                let (i, version) = token(i).map_err(|_| Fault::at("bad protocol-version", i))?;
                (slash(i)?, protocol, version)
            }
        };
        let (i, transport) = token(i).map_err(|_| Fault::at("bad transport", i))?;
        if !i.starts_with(is_lws) {
            return Err(Fault::at("expected white space before sent-by", i));
        }
        let i = sws(i);
        let (mut i, host, mut port) = host_port(i)?;
        // COLON = SWS ":" SWS around the port.
        if port.is_none() && i.starts_with(is_lws) {
            let t = sws(i);
            if let Some(p) = t.strip_prefix(':') {
                let (rest, n) = number(sws(p), u64::from(u16::MAX), "bad sent-by port")?;
                port = Some(n as u16);
                i = rest;
            }
        }
        let (rest, params) = Params::parse_checked(i, ParamGrammar::Header, check_param)?;
        let rest = sws(rest);
        if !rest.is_empty() && !rest.starts_with(',') {
            return Err(Fault::at("unexpected text after Via parameters", rest));
        }
        let via = Via {
            protocol,
            version,
            transport,
            host,
            port,
            params,
        };
        Ok((rest, via))
    }

    /// The branch parameter (RFC 3261 §8.1.1.7).
    pub fn branch(&self) -> Option<&'a str> {
        self.params.value("branch").flatten()
    }

    /// Whether the branch carries the RFC 3261 magic cookie `z9hG4bK` (§8.1.1.7).
    pub fn is_rfc3261_branch(&self) -> bool {
        self.branch().is_some_and(|b| b.starts_with("z9hG4bK"))
    }

    /// The received parameter (RFC 3261 §18.2.1), with or without IPv6 brackets (RFC 5118 §4.5).
    pub fn received(&self) -> Option<IpAddr> {
        self.params.value("received").flatten().and_then(parse_ip)
    }

    /// The rport parameter (RFC 3581).
    pub fn rport(&self) -> Option<Rport> {
        self.params
            .value("rport")
            .map(|v| match v.and_then(|v| v.parse().ok()) {
                Some(p) => Rport::Port(p),
                None => Rport::Requested,
            })
    }

    /// The maddr parameter.
    pub fn maddr(&self) -> Option<Host<'a>> {
        self.params
            .value("maddr")
            .flatten()
            .and_then(|v| host(v).ok())
            .and_then(|(rest, h)| rest.is_empty().then_some(h))
    }

    /// The ttl parameter.
    pub fn ttl(&self) -> Option<u8> {
        self.params
            .value("ttl")
            .flatten()
            .and_then(|v| v.parse().ok())
    }
}

/// Checks the via-params RFC 3261 §20.42 / RFC 3581 give a grammar: branch and maddr need
/// values, received is an IP address, ttl is 0-255, rport is empty or a port.
fn check_param<'a>(n: &'a str, v: Option<&'a str>) -> Result<(), Fault> {
    let bad = |what| Err(Fault::at(what, v.unwrap_or(n)));
    // Names are told apart by length first; most parameters are none of these.
    let is = |name: &str| n.len() == name.len() && n.eq_ignore_ascii_case(name);
    if is("branch") || is("maddr") {
        if v.is_none() {
            return bad("parameter needs a value");
        }
    } else if is("received") {
        if v.and_then(parse_ip).is_none() {
            return bad("received is not an IP address");
        }
    } else if is("ttl") {
        if v.and_then(|v| v.parse::<u8>().ok()).is_none() {
            return bad("ttl is not 0-255");
        }
    } else if is("rport") && v.is_some_and(|v| v.parse::<u16>().is_err()) {
        return bad("rport is not a port");
    }
    Ok(())
}

fn parse_ip(v: &str) -> Option<IpAddr> {
    if let Some(a) = crate::uri::ipv4(v) {
        return Some(IpAddr::V4(a));
    }
    let v = v
        .strip_prefix('[')
        .and_then(|v| v.strip_suffix(']'))
        .unwrap_or(v);
    v.parse::<std::net::Ipv6Addr>().ok().map(IpAddr::V6)
}

impl fmt::Display for Via<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}/{} {}",
            self.protocol, self.version, self.transport, self.host
        )?;
        if let Some(p) = self.port {
            write!(f, ":{p}")?;
        }
        write!(f, "{}", self.params)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn via_with_lws_everywhere() {
        let v = Via::from_value("SIP  /   2.0\r\n /UDP\r\n    192.0.2.2;branch=390skdjuw").unwrap();
        assert_eq!((v.protocol, v.version, v.transport), ("SIP", "2.0", "UDP"));
        assert_eq!(v.host, Host::Ipv4("192.0.2.2".parse().unwrap()));
        assert_eq!(v.branch(), Some("390skdjuw"));
        assert!(!v.is_rfc3261_branch());
    }

    #[test]
    fn via_params() {
        let v = Via::from_value("SIP/2.0/UDP [2001:db8::9:1]:5060;received=[2001:db8::9:255];rport;ttl=16;maddr=224.2.0.1;branch=z9hG4bKx").unwrap();
        assert_eq!(v.port, Some(5060));
        assert_eq!(v.received(), Some("2001:db8::9:255".parse().unwrap()));
        assert_eq!(v.rport(), Some(Rport::Requested));
        assert_eq!(v.ttl(), Some(16));
        assert_eq!(v.maddr(), Some(Host::Ipv4("224.2.0.1".parse().unwrap())));
        assert!(v.is_rfc3261_branch());
        let v =
            Via::from_value("SIP/2.0/TCP h.example.com ; rport=5070 ; received=2001:db8::9:255")
                .unwrap();
        assert_eq!(v.rport(), Some(Rport::Port(5070)));
        assert_eq!(v.received(), Some("2001:db8::9:255".parse().unwrap()));
        assert_eq!(Via::from_value(&v.to_string()).unwrap(), v);
    }

    #[test]
    fn bad_vias() {
        for s in [
            "SIP/2.0/UDP 192.0.2.15;;,;,,",
            "SIP/2.0/UDP",
            "SIP/2.0 host",
            "SIP/2.0/UDP host;received=nothost",
            "SIP/2.0/UDP host;ttl=300",
            "SIP/2.0/UDP host;rport=x",
            "SIP/2.0/UDP host junk",
        ] {
            assert!(Via::from_value(s).is_err(), "{s}");
        }
    }
}
