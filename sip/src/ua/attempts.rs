//! What a request the UA keeps sending on its own (REGISTER, SUBSCRIBE) carries from one
//! attempt to the next: the back-off after failures and the digest answer it presents.

use super::Authenticator;
use super::register::{MAX_REGISTER_RETRY_AFTER, MIN_REGISTER_INTERVAL};
use super::response::challenge;
use crate::header::HeaderName;
use crate::message::Message;
use std::time::Duration;

/// Back-off and credentials of a refreshed request.
#[derive(Debug)]
pub(crate) struct Attempts {
    /// First wait after a failure; doubled per failure up to `max_backoff`.
    backoff: Duration,
    max_backoff: Duration,
    failures: u32,
    /// The Authorization (or Proxy-Authorization) the next attempt carries.
    pub auth: Option<(HeaderName, String)>,
    /// Realms answered since the last success: a second challenge of one is a refusal
    /// (wrong credentials), not a reason to answer again (RFC 3261 §22.2), unless stale.
    answered_realms: Vec<String>,
}

impl Attempts {
    pub fn new(backoff: Duration, max_backoff: Duration) -> Self {
        Attempts {
            backoff,
            max_backoff,
            failures: 0,
            auth: None,
            answered_realms: Vec::new(),
        }
    }

    /// A 2xx: the back-off starts over and the credentials that passed are confirmed.
    pub fn succeeded(&mut self, auth: Option<&mut (dyn Authenticator + Send + 'static)>) {
        self.failures = 0;
        if self.auth.is_some()
            && let Some(a) = auth
        {
            a.accepted();
        }
        self.forget_auth();
    }

    /// The wait before the next attempt after a failure: `retry_after` seconds when the
    /// server said (at most [`MAX_REGISTER_RETRY_AFTER`]), else the back-off doubled per
    /// failure; never under [`MIN_REGISTER_INTERVAL`].
    pub fn failed(&mut self, retry_after: Option<u32>) -> Duration {
        let wait = match retry_after {
            Some(s) => Duration::from_secs(u64::from(s)).min(MAX_REGISTER_RETRY_AFTER),
            None => self
                .backoff
                .saturating_mul(1 << self.failures.min(16))
                .min(self.max_backoff),
        }
        .max(MIN_REGISTER_INTERVAL);
        self.failures += 1;
        self.forget_auth();
        wait
    }

    /// Answers the 401/407 `msg` to `method` for `uri` with `auth`; `true` when the next
    /// attempt carries the answer, `false` when it must not be retried (no challenge, no
    /// credentials for it, or the realm already answered).
    pub fn answer(
        &mut self,
        msg: &Message<'_>,
        auth: Option<&mut (dyn Authenticator + Send + 'static)>,
        method: &str,
        uri: &str,
    ) -> bool {
        let Some(ch) = challenge(msg) else {
            return false;
        };
        if self.answered_realms.contains(&ch.realm) && !ch.stale {
            return false;
        }
        let Some(v) = auth.and_then(|a| a.answer(&ch, method, uri, &[])) else {
            return false;
        };
        self.answered_realms.push(ch.realm.clone());
        self.auth = Some((ch.answer_header(), v));
        true
    }

    /// Drops the credentials (a new server or dialog: its challenge comes afresh).
    pub fn forget_auth(&mut self) {
        self.auth = None;
        self.answered_realms.clear();
    }
}
