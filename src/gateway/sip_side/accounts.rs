//! The configured accounts toward their servers: digest credentials for 401/407 (RFC 3261
//! §22.2), registration of each account with a registrar (§10.2), OPTIONS pings to each
//! proxy (§11) so a dead proxy shows in the log.

use crate::config::Account;
use tipring_sip::ua::{Authenticator, Challenge, DigestCredentials};

/// How often a proxy is pinged with OPTIONS.
pub const PING_INTERVAL: std::time::Duration = std::time::Duration::from_secs(30);

/// Digest answers with the credentials of whichever account the challenge's realm
/// belongs to: the account whose domain (or registrar/proxy host) is the realm, else the
/// first account that has a password.
pub struct AccountAuth {
    creds: Vec<(Vec<String>, DigestCredentials)>,
}

impl std::fmt::Debug for AccountAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountAuth")
            .field("accounts", &self.creds.len())
            .finish()
    }
}

impl AccountAuth {
    /// Credentials of every account that has a password; `None` when none has.
    pub fn new(accounts: &[Account], seed: u64) -> Option<AccountAuth> {
        let creds: Vec<_> = accounts
            .iter()
            .enumerate()
            .filter_map(|(i, a)| {
                let user = a.auth_username.as_deref().or(a.username.as_deref())?;
                let pass = a.password.as_deref()?;
                let realms = [
                    a.domain.clone(),
                    a.registrar.as_deref().and_then(host),
                    a.proxy.as_deref().and_then(host),
                ]
                .into_iter()
                .flatten()
                .collect();
                Some((
                    realms,
                    DigestCredentials::new(user, pass, seed.wrapping_add(i as u64)),
                ))
            })
            .collect();
        (!creds.is_empty()).then_some(AccountAuth { creds })
    }
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
        let i = self
            .creds
            .iter()
            .position(|(realms, _)| realms.iter().any(|r| r == &challenge.realm))
            .unwrap_or(0);
        self.creds
            .get_mut(i)?
            .1
            .answer(challenge, method, request_uri, body)
    }

    fn accepted(&mut self) {
        for (_, c) in &mut self.creds {
            c.accepted();
        }
    }

    fn reset(&mut self) {
        for (_, c) in &mut self.creds {
            c.reset();
        }
    }
}
