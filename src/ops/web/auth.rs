//! Who may use the admin page: one password, kept only as its Argon2id hash (RFC 9106), and
//! sessions that a login opens.
//!
//! - A password is checked on a blocking thread ([`verify`] costs tens of milliseconds on
//!   a PC, more on the box), one check at a time: a second login while one is checked is
//!   refused, so logins cannot starve the gateway of CPU or memory (Argon2's 19 MiB).
//! - [`LoginGate`]: after [`FREE_FAILURES`] wrong passwords in a row, each further attempt
//!   waits a doubling delay (up to [`MAX_LOCKOUT`]); one right password clears it.
//! - [`Sessions`]: a session is a 256-bit random token in a cookie (HttpOnly,
//!   SameSite=Strict) with its own 256-bit CSRF token, which every form that changes
//!   something carries back. At most [`MAX_SESSIONS`]; an unused one expires after the
//!   configured idle time, any one after [`MAX_SESSION_AGE`].

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Wrong passwords in a row before attempts are delayed.
pub const FREE_FAILURES: u32 = 3;
/// The longest delay between attempts.
pub const MAX_LOCKOUT: Duration = Duration::from_secs(300);
/// Sessions open at once; a new login closes the least recently used beyond this.
pub const MAX_SESSIONS: usize = 8;
/// How long any session lasts, used or not.
pub const MAX_SESSION_AGE: Duration = Duration::from_secs(12 * 3600);
/// The most memory a password check may take, KiB (a hash asking more is refused at load).
pub const MAX_HASH_KIB: u32 = 64 * 1024;
/// The most passes a password check may take.
pub const MAX_HASH_PASSES: u32 = 8;
/// The session cookie's name.
pub const COOKIE: &str = "tipring_session";

/// Why `password_hash` cannot be used: it is not a PHC string, or not of Argon2id.
pub fn check_hash(phc: &str) -> Result<(), String> {
    let h = PasswordHash::new(phc).map_err(|e| {
        format!("not a PHC hash string ({e}); print one with `tipring web-password`")
    })?;
    if h.algorithm != Algorithm::Argon2id.ident() {
        return Err(format!(
            "algorithm {} is not argon2id; print a hash with `tipring web-password`",
            h.algorithm
        ));
    }
    let p = argon2::Params::try_from(&h).map_err(|e| format!("parameters: {e}"))?;
    if p.m_cost() > MAX_HASH_KIB || p.t_cost() > MAX_HASH_PASSES || p.p_cost() > 4 {
        return Err(format!(
            "costs m={} t={} p={} exceed what the box spends on a login \
             (m <= {MAX_HASH_KIB}, t <= {MAX_HASH_PASSES}, p <= 4)",
            p.m_cost(),
            p.t_cost(),
            p.p_cost()
        ));
    }
    Ok(())
}

/// The PHC string of `password`'s Argon2id hash with a fresh random salt (the crate's
/// default cost: 19 MiB, 2 passes, 1 lane — OWASP's minimum for Argon2id).
pub fn hash_password(password: &str) -> Result<String, String> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| format!("random salt: {e}"))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| e.to_string())?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

/// Whether `password` is the one `phc` was made from.
pub fn verify(phc: &str, password: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// Equality that takes as long whatever the first difference (for tokens).
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// A fresh 256-bit random token, as hex.
fn token() -> Option<String> {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b).ok()?;
    Some(b.iter().map(|x| format!("{x:02x}")).collect())
}

/// The delay after wrong passwords.
#[derive(Debug, Default)]
pub struct LoginGate {
    state: Mutex<GateState>,
}

#[derive(Debug, Default)]
struct GateState {
    failures: u32,
    locked_until: Option<Instant>,
    checking: bool,
}

/// Why a login attempt is not checked now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// Too many wrong passwords: try again after this long.
    Locked(Duration),
    /// Another attempt is being checked.
    Busy,
}

impl LoginGate {
    /// Takes the one checking slot, unless locked or taken; give it back with
    /// [`LoginGate::finish`].
    pub fn begin(&self, now: Instant) -> Result<(), Refused> {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(until) = s.locked_until
            && until > now
        {
            return Err(Refused::Locked(until - now));
        }
        if s.checking {
            return Err(Refused::Busy);
        }
        s.checking = true;
        Ok(())
    }

    /// Records the outcome of the check [`LoginGate::begin`] allowed.
    pub fn finish(&self, now: Instant, right: bool) {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        s.checking = false;
        if right {
            s.failures = 0;
            s.locked_until = None;
            return;
        }
        s.failures = s.failures.saturating_add(1);
        if s.failures >= FREE_FAILURES {
            let doubling = 1u64 << (s.failures - FREE_FAILURES).min(16);
            let wait = Duration::from_secs(doubling).min(MAX_LOCKOUT);
            s.locked_until = Some(now + wait);
        }
    }
}

/// One login.
#[derive(Debug, Clone)]
struct Session {
    csrf: String,
    opened: Instant,
    used: Instant,
}

/// The open sessions, by token.
#[derive(Debug, Default)]
pub struct Sessions {
    table: Mutex<HashMap<String, Session>>,
}

impl Sessions {
    /// Opens a session: its token and its CSRF token. `None` only when the OS has no
    /// randomness to give.
    pub fn open(&self, now: Instant) -> Option<(String, String)> {
        let (id, csrf) = (token()?, token()?);
        let mut t = self.table.lock().unwrap_or_else(|p| p.into_inner());
        while t.len() >= MAX_SESSIONS {
            let Some(oldest) = t.iter().min_by_key(|(_, s)| s.used).map(|(k, _)| k.clone()) else {
                break;
            };
            t.remove(&oldest);
        }
        t.insert(
            id.clone(),
            Session {
                csrf: csrf.clone(),
                opened: now,
                used: now,
            },
        );
        Some((id, csrf))
    }

    /// The CSRF token of the session `id`, if it is open and not expired (its idle time
    /// starts again).
    pub fn check(&self, id: &str, now: Instant, idle: Duration) -> Option<String> {
        let mut t = self.table.lock().unwrap_or_else(|p| p.into_inner());
        t.retain(|_, s| {
            now.saturating_duration_since(s.used) < idle
                && now.saturating_duration_since(s.opened) < MAX_SESSION_AGE
        });
        let s = t.get_mut(id)?;
        s.used = now;
        Some(s.csrf.clone())
    }

    /// Closes the session `id`.
    pub fn close(&self, id: &str) {
        self.table
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(id);
    }

    /// Sessions open.
    pub fn len(&self) -> usize {
        self.table.lock().map(|t| t.len()).unwrap_or(0)
    }

    /// Whether none is open.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_only() {
        let h = hash_password("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$v=19$"), "{h}");
        assert_eq!(check_hash(&h), Ok(()));
        assert!(verify(&h, "correct horse"));
        assert!(!verify(&h, "correct hors"));
        assert!(!verify("not a hash", "correct horse"));
    }

    #[test]
    fn hashes_other_than_argon2id_are_refused() {
        assert!(check_hash("plain").unwrap_err().contains("PHC"));
        let argon2i = "$argon2i$v=19$m=16,t=2,p=1$c2FsdHNhbHQ$ZvW0YsTB3VmfX0Tq5fJkwA";
        assert!(check_hash(argon2i).unwrap_err().contains("argon2id"));
        let greedy = "$argon2id$v=19$m=4194304,t=2,p=1$c2FsdHNhbHQ$ZvW0YsTB3VmfX0Tq5fJkwA";
        assert!(check_hash(greedy).unwrap_err().contains("m=4194304"));
    }

    #[test]
    fn wrong_passwords_lock_the_gate_for_a_doubling_time() {
        let g = LoginGate::default();
        let t0 = Instant::now();
        for _ in 0..FREE_FAILURES - 1 {
            g.begin(t0).unwrap();
            g.finish(t0, false);
        }
        g.begin(t0).unwrap();
        assert_eq!(g.begin(t0), Err(Refused::Busy), "one check at a time");
        g.finish(t0, false);
        assert_eq!(g.begin(t0), Err(Refused::Locked(Duration::from_secs(1))));
        let t1 = t0 + Duration::from_secs(1);
        g.begin(t1).unwrap();
        g.finish(t1, false);
        assert_eq!(g.begin(t1), Err(Refused::Locked(Duration::from_secs(2))));
        let t2 = t1 + Duration::from_secs(2);
        g.begin(t2).unwrap();
        g.finish(t2, true);
        assert_eq!(g.begin(t2), Ok(()), "a right password clears the delay");
    }

    #[test]
    fn the_delay_stops_growing_at_its_maximum() {
        let g = LoginGate::default();
        let mut t = Instant::now();
        for _ in 0..40 {
            while let Err(Refused::Locked(d)) = g.begin(t) {
                assert!(d <= MAX_LOCKOUT);
                t += d;
            }
            g.finish(t, false);
        }
    }

    #[test]
    fn sessions_expire_when_idle_or_old_and_are_bounded() {
        let s = Sessions::default();
        let t0 = Instant::now();
        let idle = Duration::from_secs(60);
        let (id, csrf) = s.open(t0).unwrap();
        assert_eq!(id.len(), 64);
        assert_ne!(id, csrf);
        assert_eq!(s.check(&id, t0 + Duration::from_secs(59), idle), Some(csrf));
        assert!(s.check(&id, t0 + Duration::from_secs(118), idle).is_some());
        assert!(s.check(&id, t0 + Duration::from_secs(179), idle).is_none());
        assert!(s.check("00", t0, idle).is_none());
        let (old, _) = s.open(t0).unwrap();
        let mut t = t0;
        while t < t0 + MAX_SESSION_AGE {
            assert!(s.check(&old, t, idle).is_some());
            t += Duration::from_secs(50);
        }
        assert!(s.check(&old, t, idle).is_none(), "twelve hours at most");
        for _ in 0..MAX_SESSIONS + 3 {
            s.open(t).unwrap();
        }
        assert_eq!(s.len(), MAX_SESSIONS);
    }

    #[test]
    fn same_compares_whole_strings() {
        assert!(same("abc", "abc"));
        assert!(!same("abc", "abd"));
        assert!(!same("abc", "ab"));
    }
}
