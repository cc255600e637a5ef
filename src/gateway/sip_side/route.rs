//! Where calls go: the Request-URI and first hop of an outgoing call from a port's account
//! (RFC 3261 §8.1.1.1, §8.1.2), and which port an incoming INVITE's Request-URI names.

use crate::config::{Account, Config, Port};
use tipring_hal::model::PortKind;
use tipring_sip::Uri;
use tipring_sip::transaction::Transport;
use tipring_sip::ua::{HostTable, uri_peer_in};

/// Why an outgoing call cannot be routed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouteError {
    /// The target is neither a SIP URI nor a number.
    #[error("target \"{0}\" is neither a SIP URI nor a dialable number")]
    BadTarget(String),
    /// A number was dialled but the port's account names no domain, proxy or registrar.
    #[error("number \"{0}\" dialled but the port has no account with a domain or proxy")]
    NoDomain(String),
    /// The proxy URI names no address we can send to: not an IP address, nor a name
    /// resolved at start.
    #[error("proxy \"{0}\" names no known address (an IP address, or a name resolved at start)")]
    BadProxy(String),
}

/// An outgoing call's addressing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    /// The Request-URI (and To).
    pub request_uri: String,
    /// Where the INVITE goes when not to the Request-URI's host: the account's proxy's
    /// URI with the account's transport, located by the UA (RFC 3263).
    pub next_hop: Option<String>,
    /// The account's secondary proxy, as configured and as `next_hop` would be: tried when
    /// every place the first hop resolved to timed out or answered 503.
    pub fallback: Option<(String, String)>,
    /// The proxy URI of `next_hop`, when it is the account's proxy.
    pub proxy: Option<String>,
    /// Our From URI.
    pub from: String,
    /// Our From display name.
    pub display_name: Option<String>,
}

/// Whether `s` is something a line can dial: digits, `*`, `#`, an optional leading `+`.
pub fn dialable(s: &str) -> bool {
    let digits = s.strip_prefix('+').unwrap_or(s);
    !digits.is_empty()
        && digits
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b'*' || b == b'#')
}

/// The account a port uses: the one it names, else the first (docs/CONFIG.md `account`).
pub fn account_of<'c>(cfg: &'c Config, port: &Port) -> Option<&'c Account> {
    match &port.account {
        Some(name) => cfg.accounts.iter().find(|a| &a.name == name),
        None => cfg.accounts.first(),
    }
}

/// `host[:port]` of a SIP URI, as written.
fn host_port(uri: &str) -> Option<String> {
    let u = Uri::parse(uri).ok()?;
    let s = u.as_sip()?;
    Some(match s.port {
        Some(p) => format!("{}:{p}", s.host),
        None => s.host.to_string(),
    })
}

/// The account's domain: `domain`, else the registrar's host (docs/CONFIG.md), else the
/// proxy's host and port.
pub fn domain_of(a: &Account) -> Option<String> {
    if let Some(d) = &a.domain {
        return Some(d.clone());
    }
    if let Some(r) = &a.registrar {
        return Uri::parse(r)
            .ok()
            .and_then(|u| u.as_sip().map(|s| s.host.to_string()));
    }
    a.proxy.as_deref().and_then(host_port)
}

/// One of the account's server URIs (registrar, proxies) as the user agent is given it:
/// with the account's `transport` as a `;transport=` parameter (RFC 3261 §19.1.1) when it
/// is not UDP and the URI names none, so every request to that server goes over it
/// (a `sips:` URI already means TLS).
pub fn server_uri(a: &Account, uri: &str) -> String {
    let token = match a.transport {
        crate::config::Transport::Udp => return uri.to_owned(),
        crate::config::Transport::Tcp => "tcp",
        crate::config::Transport::Tls => "tls",
    };
    let explicit = Uri::parse(uri).ok().and_then(|u| {
        u.as_sip()
            .map(|s| s.secure || s.params.value("transport").is_some())
    });
    if explicit != Some(false) {
        return uri.to_owned();
    }
    match uri.split_once('?') {
        Some((base, headers)) => format!("{base};transport={token}?{headers}"),
        None => format!("{uri};transport={token}"),
    }
}

/// The first hop of the account's outgoing calls: its proxy, if it has one, as the URI
/// the UA locates (with the account's transport); an error when it cannot be reached.
pub fn proxy_of(
    a: &Account,
    default: Transport,
    hosts: &HostTable,
) -> Result<Option<String>, RouteError> {
    match &a.proxy {
        Some(p) => located(a, p, default, hosts).map(Some),
        None => Ok(None),
    }
}

/// `uri` of `a`'s servers with the account's transport, if it names a place we know.
fn located(
    a: &Account,
    uri: &str,
    default: Transport,
    hosts: &HostTable,
) -> Result<String, RouteError> {
    let u = server_uri(a, uri);
    match uri_peer_in(&u, default, hosts) {
        Some(_) => Ok(u),
        None => Err(RouteError::BadProxy(uri.to_owned())),
    }
}

/// Addresses a call from `port` to `target` (a SIP URI from a hotline or a digit-map
/// rewrite, or dialled digits): URIs are used as they are, numbers become
/// `sip:NUMBER@domain` of the port's account (RFC 3261 §19.1.6: a telephone number as the
/// user part); either goes through the account's proxy when it has one. From carries the
/// caller (an FXO line's caller ID) or the port's number and display name.
pub fn outgoing(
    cfg: &Config,
    port: &Port,
    target: &str,
    caller: &crate::call::CallerInfo,
    local: std::net::SocketAddr,
    transport: Transport,
    hosts: &HostTable,
) -> Result<Outgoing, RouteError> {
    let account = account_of(cfg, port);
    let is_uri = target.starts_with("sip:") || target.starts_with("sips:");
    let request_uri = if is_uri {
        Uri::parse(target).map_err(|_| RouteError::BadTarget(target.into()))?;
        target.to_owned()
    } else if dialable(target) {
        let domain = account
            .and_then(domain_of)
            .ok_or_else(|| RouteError::NoDomain(target.into()))?;
        format!("sip:{target}@{domain}")
    } else {
        return Err(RouteError::BadTarget(target.into()));
    };
    let next_hop = match account {
        Some(a) => proxy_of(a, transport, hosts)?,
        None => None,
    };
    let proxy = account.and_then(|a| a.proxy.clone());
    let fallback = match account.and_then(|a| a.secondary_proxy.as_ref().map(|u| (a, u))) {
        Some((a, uri)) => Some((uri.clone(), located(a, uri, transport, hosts)?)),
        None => None,
    };
    let user = caller
        .number
        .as_deref()
        .filter(|n| dialable(n))
        .or(port.number.as_deref())
        .or(account.and_then(|a| a.username.as_deref()))
        .unwrap_or("tipring");
    let host = account
        .and_then(|a| {
            a.domain
                .clone()
                .or_else(|| a.registrar.as_deref().and_then(host_of))
        })
        .unwrap_or_else(|| local.to_string());
    let display_name = caller
        .name
        .clone()
        .or_else(|| port.display_name.clone())
        .filter(|n| !n.trim().is_empty());
    Ok(Outgoing {
        request_uri,
        next_hop,
        fallback,
        proxy,
        from: format!("sip:{user}@{host}"),
        display_name,
    })
}

/// The host of a SIP URI.
pub fn host_of(uri: &str) -> Option<String> {
    Uri::parse(uri)
        .ok()
        .and_then(|u| u.as_sip().map(|s| s.host.to_string()))
}

/// Where an incoming INVITE goes, by its Request-URI user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inbound {
    /// One of these ports (first idle wins), with the number the machine sees.
    Ports {
        /// Candidate port indices, in hunting order.
        ports: Vec<u8>,
        /// Whether they are FXO lines (the PSTN: the secure default applies).
        fxo: bool,
        /// The number for [`crate::call::SipEvent::IncomingCall`]: for an FXO line, what to
        /// dial on it.
        number: String,
    },
    /// Nothing here answers to it: 404 (RFC 3261 §21.4.5).
    Unknown,
}

/// The user part of a Request-URI (`sip:`/`sips:` user, unescaped; `tel:` number).
pub fn request_user(uri: &Uri<'_>) -> Option<String> {
    match uri {
        Uri::Sip(s) => s
            .user_unescaped()
            .map(|u| String::from_utf8_lossy(&u.collect::<Vec<u8>>()).into_owned()),
        Uri::Tel(t) => Some(t.number.to_owned()),
        Uri::Absolute(_) => None,
    }
}

/// The ports an incoming INVITE for `user` may ring. In order: a port whose `number` is
/// `user`; the FXS ports whose account's user name (or our Contact user `contact_user`) is
/// `user` (calls delivered by a registrar to our binding); any other dialable number goes
/// out on an FXO line (the number is what the line dials). Everything else is unknown.
pub fn inbound(cfg: &Config, user: Option<&str>, contact_user: &str) -> Inbound {
    let Some(user) = user.filter(|u| !u.is_empty()) else {
        return Inbound::Unknown;
    };
    if let Some(p) = cfg.ports.iter().find(|p| p.number.as_deref() == Some(user)) {
        let fxo = p.kind == PortKind::Fxo;
        return Inbound::Ports {
            ports: vec![p.index],
            fxo,
            number: if fxo { String::new() } else { user.to_owned() },
        };
    }
    let fxs: Vec<u8> = cfg
        .ports
        .iter()
        .filter(|p| p.kind == PortKind::Fxs)
        .filter(|p| {
            user == contact_user
                || account_of(cfg, p).and_then(|a| a.username.as_deref()) == Some(user)
        })
        .map(|p| p.index)
        .collect();
    if !fxs.is_empty() {
        return Inbound::Ports {
            ports: fxs,
            fxo: false,
            number: user.to_owned(),
        };
    }
    let fxo: Vec<u8> = cfg
        .ports
        .iter()
        .filter(|p| p.kind == PortKind::Fxo)
        .map(|p| p.index)
        .collect();
    if dialable(user) && !fxo.is_empty() {
        return Inbound::Ports {
            ports: fxo,
            fxo: true,
            number: user.to_owned(),
        };
    }
    Inbound::Unknown
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::call::CallerInfo;

    fn cfg(accounts: &str) -> Config {
        let text = format!(
            "board = \"sim\"\n{accounts}\n\
             [[ports]]\nindex = 0\nkind = \"fxs\"\nnumber = \"201\"\ndisplay_name = \"Hall\"\nhotline = \"sip:x@127.0.0.1\"\n\
             [[ports]]\nindex = 1\nkind = \"fxs\"\nhotline = \"sip:x@127.0.0.1\"\n\
             [[ports]]\nindex = 2\nkind = \"fxo\"\nnumber = \"300\"\ninbound = \"hotline\"\nhotline = \"sip:op@127.0.0.1\"\n\
             [[ports]]\nindex = 3\nkind = \"fxo\"\ninbound = \"hotline\"\nhotline = \"sip:op@127.0.0.1\"\n\
             [security]\ntrusted_peers = [\"127.0.0.1\"]\n"
        );
        let board = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("board");
        crate::config::load_str("t.toml", &text, &board)
            .expect("valid")
            .config
    }

    const LOCAL: &str = "127.0.0.1:5060";

    #[test]
    fn server_uris_carry_the_account_transport_unless_they_name_one() {
        let mut a = cfg("[[accounts]]\nname = \"pbx\"\n").accounts[0].clone();
        assert_eq!(server_uri(&a, "sip:10.0.0.5;lr"), "sip:10.0.0.5;lr");
        a.transport = crate::config::Transport::Tcp;
        assert_eq!(
            server_uri(&a, "sip:10.0.0.5;lr"),
            "sip:10.0.0.5;lr;transport=tcp"
        );
        assert_eq!(
            server_uri(&a, "sip:10.0.0.5?X=1"),
            "sip:10.0.0.5;transport=tcp?X=1"
        );
        assert_eq!(
            server_uri(&a, "sip:10.0.0.5;transport=udp"),
            "sip:10.0.0.5;transport=udp"
        );
        a.transport = crate::config::Transport::Tls;
        assert_eq!(server_uri(&a, "sips:10.0.0.5"), "sips:10.0.0.5");
        assert_eq!(
            server_uri(&a, "sip:10.0.0.5:5061"),
            "sip:10.0.0.5:5061;transport=tls"
        );
        let p = uri_peer_in(
            &server_uri(&a, "sip:10.0.0.5:5061"),
            Transport::Udp,
            &HostTable::new(),
        )
        .unwrap();
        assert_eq!(p.transport, Transport::Tls);
    }

    #[test]
    fn dialable_numbers() {
        assert!(dialable("5551234") && dialable("+4930123") && dialable("*72#"));
        assert!(!dialable("") && !dialable("+") && !dialable("bob") && !dialable("12a"));
    }

    #[test]
    fn numbers_at_the_account_domain_through_its_proxy() {
        let c = cfg(
            "[[accounts]]\nname = \"pbx\"\nregistrar = \"sip:10.0.0.5:5070\"\nusername = \"gw1\"\n\
             password = \"secret-pass\"\nproxy = \"sip:10.0.0.6:5080;lr\"\n",
        );
        let caller = CallerInfo::default();
        let o = outgoing(
            &c,
            &c.ports[0],
            "+15550100",
            &caller,
            LOCAL.parse().unwrap(),
            Transport::Udp,
            &HostTable::new(),
        )
        .unwrap();
        assert_eq!(o.request_uri, "sip:+15550100@10.0.0.5");
        assert_eq!(o.next_hop.as_deref(), Some("sip:10.0.0.6:5080;lr"));
        assert_eq!(o.from, "sip:201@10.0.0.5");
        assert_eq!(o.display_name.as_deref(), Some("Hall"));
        // A URI is used as it is, still through the proxy; an FXO line's caller ID is
        // presented.
        let cid = CallerInfo {
            name: Some("Mum".into()),
            number: Some("5550111".into()),
        };
        let o = outgoing(
            &c,
            &c.ports[2],
            "sip:op@10.9.9.9",
            &cid,
            LOCAL.parse().unwrap(),
            Transport::Udp,
            &HostTable::new(),
        )
        .unwrap();
        assert_eq!(o.request_uri, "sip:op@10.9.9.9");
        assert!(o.next_hop.is_some());
        assert_eq!(o.from, "sip:5550111@10.0.0.5");
        assert_eq!(o.display_name.as_deref(), Some("Mum"));
        // A port without number presents the account user.
        let o = outgoing(
            &c,
            &c.ports[1],
            "7",
            &caller,
            LOCAL.parse().unwrap(),
            Transport::Udp,
            &HostTable::new(),
        )
        .unwrap();
        assert_eq!(o.from, "sip:gw1@10.0.0.5");
        assert_eq!(o.display_name, None);
    }

    #[test]
    fn without_account_only_uris_go_direct() {
        let c = cfg("");
        let caller = CallerInfo::default();
        let l = LOCAL.parse().unwrap();
        let o = outgoing(
            &c,
            &c.ports[0],
            "sip:2001@127.0.0.2",
            &caller,
            l,
            Transport::Udp,
            &HostTable::new(),
        )
        .unwrap();
        assert_eq!(o.next_hop, None);
        assert_eq!(o.from, "sip:201@127.0.0.1:5060");
        assert_eq!(
            outgoing(
                &c,
                &c.ports[0],
                "2001",
                &caller,
                l,
                Transport::Udp,
                &HostTable::new()
            ),
            Err(RouteError::NoDomain("2001".into()))
        );
        assert!(matches!(
            outgoing(
                &c,
                &c.ports[0],
                "bob",
                &caller,
                l,
                Transport::Udp,
                &HostTable::new()
            ),
            Err(RouteError::BadTarget(_))
        ));
    }

    #[test]
    fn inbound_by_request_user() {
        let c = cfg(
            "[[accounts]]\nname = \"pbx\"\nregistrar = \"sip:10.0.0.5\"\nusername = \"gw1\"\n\
             password = \"secret-pass\"\n",
        );
        let r = |u: &str| inbound(&c, Some(u), "gw1");
        assert_eq!(
            r("201"),
            Inbound::Ports {
                ports: vec![0],
                fxo: false,
                number: "201".into()
            }
        );
        // The registered user rings the FXS ports (hunt group).
        assert_eq!(
            r("gw1"),
            Inbound::Ports {
                ports: vec![0, 1],
                fxo: false,
                number: "gw1".into()
            }
        );
        // An FXO port's own number seizes that line without dialling.
        assert_eq!(
            r("300"),
            Inbound::Ports {
                ports: vec![2],
                fxo: true,
                number: String::new()
            }
        );
        // Any other number goes out on a free FXO line.
        assert_eq!(
            r("+15550100"),
            Inbound::Ports {
                ports: vec![2, 3],
                fxo: true,
                number: "+15550100".into()
            }
        );
        assert_eq!(r("alice"), Inbound::Unknown);
        assert_eq!(inbound(&c, None, "gw1"), Inbound::Unknown);
    }
}
