//! The configured accounts toward their servers: digest credentials for 401/407 (RFC 3261
//! §22.2), registration of each account with a registrar (§10.2), OPTIONS pings to each
//! proxy (§11) so a dead proxy shows in the log.

use crate::config::Account;
use tipring_sip::ua::{Authenticator, Challenge, DigestCredentials};

/// How often a proxy is pinged with OPTIONS.
pub const PING_INTERVAL: std::time::Duration = std::time::Duration::from_secs(30);

/// Digest answers with the credentials of the account a challenge belongs to, and to no
/// one else (RFC 3261 §26.2: a redirect or a rogue server must not collect them): an
/// account with a configured `realm` answers challenges of exactly that realm; an account
/// without one answers only for requests whose Request-URI host is its domain, registrar
/// or proxy host. RFC 2069 challenges (no `qop`) are refused unless allowed.
pub struct AccountAuth {
    creds: Vec<AccountCreds>,
    allow_rfc2069: bool,
}

struct AccountCreds {
    realm: Option<String>,
    hosts: Vec<String>,
    digest: DigestCredentials,
}

impl std::fmt::Debug for AccountAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountAuth")
            .field("accounts", &self.creds.len())
            .finish()
    }
}

impl AccountAuth {
    /// Credentials of every account that has a password; `None` when none has. `seed`
    /// should be random: the cnonces derive from it.
    pub fn new(accounts: &[Account], seed: u64, allow_rfc2069: bool) -> Option<AccountAuth> {
        let creds: Vec<_> = accounts
            .iter()
            .enumerate()
            .filter_map(|(i, a)| {
                let user = a.auth_username.as_deref().or(a.username.as_deref())?;
                let pass = a.password.as_deref()?;
                Some(AccountCreds {
                    realm: a.realm.clone(),
                    hosts: account_hosts(a),
                    digest: {
                        let d = DigestCredentials::new(user, pass, seed.wrapping_add(i as u64));
                        if allow_rfc2069 { d.with_rfc2069() } else { d }
                    },
                })
            })
            .collect();
        (!creds.is_empty()).then_some(AccountAuth {
            creds,
            allow_rfc2069,
        })
    }
}

/// The hosts an account's requests go to: its domain and its servers' hosts.
pub fn account_hosts(a: &Account) -> Vec<String> {
    let mut v: Vec<String> = [
        a.domain.as_deref().and_then(|d| host(&format!("sip:{d}"))),
        a.registrar.as_deref().and_then(host),
        a.proxy.as_deref().and_then(host),
        a.secondary_proxy.as_deref().and_then(host),
        a.outbound_proxy.as_deref().and_then(host),
    ]
    .into_iter()
    .flatten()
    .map(|h| h.to_ascii_lowercase())
    .collect();
    v.dedup();
    v
}

/// The gateway's redirect policy (RFC 3261 §26.3.1): 3xx targets only toward the accounts'
/// own hosts and `[security] redirect_allow`; `own` are the gateway's addresses.
pub fn redirect_policy(
    accounts: &[Account],
    allow: &[String],
    own: Vec<std::net::IpAddr>,
) -> tipring_sip::ua::RedirectPolicy {
    let mut p = tipring_sip::ua::RedirectPolicy {
        open: false,
        allowed_hosts: accounts.iter().flat_map(account_hosts).collect(),
        allowed_nets: Vec::new(),
        own,
    };
    for a in allow {
        match crate::config::TrustedPeer::parse(a) {
            Ok(n) => p.allowed_nets.push(n.block()),
            Err(_) => p.allowed_hosts.push(a.to_ascii_lowercase()),
        }
    }
    p
}

fn host(uri: &str) -> Option<String> {
    tipring_sip::Uri::parse(uri)
        .ok()
        .and_then(|u| u.as_sip().map(|s| s.host.to_string()))
}

impl Authenticator for AccountAuth {
    fn answer(
        &mut self,
        challenge: &Challenge,
        method: &str,
        request_uri: &str,
        body: &[u8],
    ) -> Option<String> {
        // Not answered: the request fails as unauthenticated, which the call's log shows.
        if !self.allow_rfc2069 && challenge.is_rfc2069() {
            return None;
        }
        let target = host(request_uri).map(|h| h.to_ascii_lowercase());
        let c = self.creds.iter_mut().find(|c| match &c.realm {
            Some(r) => *r == challenge.realm,
            None => target.as_ref().is_some_and(|t| c.hosts.contains(t)),
        })?;
        c.digest.answer(challenge, method, request_uri, body)
    }

    fn accepted(&mut self) {
        for c in &mut self.creds {
            c.digest.accepted();
        }
    }

    fn reset(&mut self) {
        for c in &mut self.creds {
            c.digest.reset();
        }
    }
}

/// The keepalives of `a`'s registration: every `keepalive_s`, CRLF on a stream transport
/// and OPTIONS on UDP unless `keepalive` says which.
pub fn keepalive(a: &crate::config::Account) -> Option<tipring_sip::ua::nat::Keepalive> {
    use crate::config::{KeepaliveKind as K, Transport as T};
    use tipring_sip::ua::nat::KeepaliveKind;
    if a.keepalive_s == 0 {
        return None;
    }
    let kind = match (a.keepalive, a.transport) {
        (Some(K::Crlf), _) | (None, T::Tcp | T::Tls) => KeepaliveKind::Crlf,
        (Some(K::Options), _) | (None, T::Udp) => KeepaliveKind::Options,
    };
    Some(tipring_sip::ua::nat::Keepalive {
        interval: std::time::Duration::from_secs(u64::from(a.keepalive_s)),
        kind,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(fields: &str) -> Account {
        toml::from_str(&format!(
            "name = \"a\"\nusername = \"u\"\npassword = \"secret123\"\n{fields}"
        ))
        .unwrap()
    }

    fn challenge(realm: &str, qop: bool) -> Challenge {
        let value = format!(
            "Digest realm=\"{realm}\", nonce=\"n1\"{}",
            if qop { ", qop=\"auth\"" } else { "" }
        );
        Challenge {
            proxy: false,
            value,
            realm: realm.into(),
            stale: false,
        }
    }

    #[test]
    fn a_configured_realm_is_the_only_one_answered() {
        let a = account("registrar = \"sip:pbx.example\"\nrealm = \"pbx\"");
        let mut auth = AccountAuth::new(&[a], 1, false).unwrap();
        let uri = "sip:100@pbx.example";
        assert!(
            auth.answer(&challenge("pbx", true), "INVITE", uri, b"")
                .is_some()
        );
        assert!(
            auth.answer(&challenge("evil", true), "INVITE", uri, b"")
                .is_none()
        );
    }

    #[test]
    fn without_a_realm_only_requests_to_the_accounts_hosts() {
        let a = account("registrar = \"sip:pbx.example\"\nproxy = \"sip:10.0.0.5\"");
        let mut auth = AccountAuth::new(&[a], 1, false).unwrap();
        let c = challenge("anything", true);
        assert!(
            auth.answer(&c, "INVITE", "sip:100@pbx.example", b"")
                .is_some()
        );
        assert!(auth.answer(&c, "INVITE", "sip:100@10.0.0.5", b"").is_some());
        // A redirect to another host: its challenge gets nothing.
        assert!(
            auth.answer(&c, "INVITE", "sip:100@192.0.2.66", b"")
                .is_none()
        );
    }

    #[test]
    fn rfc2069_is_refused_unless_allowed() {
        let a = account("registrar = \"sip:pbx.example\"\nrealm = \"pbx\"");
        let uri = "sip:100@pbx.example";
        let mut strict = AccountAuth::new(std::slice::from_ref(&a), 1, false).unwrap();
        assert!(
            strict
                .answer(&challenge("pbx", false), "INVITE", uri, b"")
                .is_none()
        );
        let mut lax = AccountAuth::new(&[a], 1, true).unwrap();
        assert!(
            lax.answer(&challenge("pbx", false), "INVITE", uri, b"")
                .is_some()
        );
    }

    #[test]
    fn keepalives_are_crlf_on_streams_and_options_on_udp_unless_named() {
        use tipring_sip::ua::nat::KeepaliveKind;
        let mut a = account("");
        assert_eq!(keepalive(&a), None);
        a.keepalive_s = 20;
        let k = keepalive(&a).unwrap();
        assert_eq!((k.kind, k.interval.as_secs()), (KeepaliveKind::Options, 20));
        a.transport = crate::config::Transport::Tcp;
        assert_eq!(keepalive(&a).unwrap().kind, KeepaliveKind::Crlf);
        a.keepalive = Some(crate::config::KeepaliveKind::Options);
        assert_eq!(keepalive(&a).unwrap().kind, KeepaliveKind::Options);
    }
}
