//! Checks of `[control]`, `[records]` and `[metrics]`.

use super::Report;
use crate::config::schema::Config;
use std::path::Path;

/// The longest path a Unix socket address holds (`sun_path`, unix(7)), less its NUL.
const SUN_PATH_MAX: usize = 107;

pub(super) fn validate(r: &mut Report<'_>, c: &Config) {
    if let Some(p) = &c.control.socket {
        path(r, "control.socket", p);
        if p.as_os_str().len() > SUN_PATH_MAX {
            r.err(
                "control.socket",
                format!("longer than a Unix socket path may be ({SUN_PATH_MAX} bytes)"),
            );
        }
    }
    if let Some(p) = &c.records.file {
        path(r, "records.file", p);
    }
    const MAX_BYTES: std::ops::RangeInclusive<u64> = 4096..=1 << 30;
    if !MAX_BYTES.contains(&c.records.max_bytes) {
        r.err(
            "records.max_bytes",
            format!(
                "{} is not in {}..={}",
                c.records.max_bytes,
                MAX_BYTES.start(),
                MAX_BYTES.end()
            ),
        );
    }
    if c.records.keep > 100 {
        r.err(
            "records.keep",
            format!("{} is not in 0..=100", c.records.keep),
        );
    }
    const CAPTURE_BYTES_MAX: u32 = 16 << 20;
    for (field, v) in [
        ("capture.sip_bytes", c.capture.sip_bytes),
        ("capture.rtp_bytes", c.capture.rtp_bytes),
    ] {
        if v > CAPTURE_BYTES_MAX {
            r.err(field, format!("{v} is not in 0..={CAPTURE_BYTES_MAX}"));
        }
    }
    provisioning(r, &c.provisioning);
    web(r, &c.web);
    if let Some(a) = c.metrics.listen
        && !a.ip().is_loopback()
    {
        r.err(
            "metrics.listen",
            format!(
                "{a} is not a loopback address: the metrics name the box's calls and \
                 peers; scrape them on the box or through a tunnel"
            ),
        );
    }
}

/// `[provisioning]`: HTTPS only, a CA to verify the server with, a client certificate with
/// its key or neither, an interval of a minute to a week.
fn provisioning(r: &mut Report<'_>, p: &crate::config::Provisioning) {
    let Some(url) = &p.url else {
        return;
    };
    let host = url.strip_prefix("https://").map(|rest| {
        rest.split(['/', '?', '#'])
            .next()
            .unwrap_or_default()
            .to_owned()
    });
    match host {
        None => r.err(
            "provisioning.url",
            format!("\"{url}\" is not an https:// URL (the configuration holds passwords)"),
        ),
        Some(h) if h.is_empty() || h.contains('@') => r.err(
            "provisioning.url",
            format!("\"{url}\" names no host (or carries credentials in it)"),
        ),
        Some(_) => {}
    }
    match &p.ca {
        None => r.err(
            "provisioning.ca",
            "required with a url: the CA the server's certificate must chain to",
        ),
        Some(ca) => path(r, "provisioning.ca", ca),
    }
    match (&p.client_cert, &p.client_key) {
        (Some(c), Some(k)) => {
            path(r, "provisioning.client_cert", c);
            path(r, "provisioning.client_key", k);
        }
        (None, None) => {}
        (Some(_), None) => r.err("provisioning.client_key", "client_cert needs its key"),
        (None, Some(_)) => r.err(
            "provisioning.client_cert",
            "client_key needs its certificate",
        ),
    }
    if !(60..=604_800).contains(&p.interval_s) {
        r.err(
            "provisioning.interval_s",
            format!("{} is not in 60..=604800", p.interval_s),
        );
    }
    if let Some(f) = &p.file {
        path(r, "provisioning.file", f);
    }
}

fn path(r: &mut Report<'_>, field: &str, p: &Path) {
    if !p.is_absolute() {
        r.err(
            field,
            format!("\"{}\" is not an absolute path", p.display()),
        );
    }
}

/// `[web]`: loopback only, a password hash that is Argon2id, a login's idle time of a
/// minute to a day.
fn web(r: &mut Report<'_>, w: &crate::config::Web) {
    if let Some(p) = &w.file {
        path(r, "web.file", p);
    }
    if !(1..=1440).contains(&w.idle_minutes) {
        r.err(
            "web.idle_minutes",
            format!("{} is not in 1..=1440", w.idle_minutes),
        );
    }
    if let Some(h) = &w.password_hash
        && let Err(why) = crate::ops::web::auth::check_hash(h)
    {
        r.err("web.password_hash", why);
    }
    let Some(a) = w.listen else {
        return;
    };
    if !a.ip().is_loopback() {
        r.err(
            "web.listen",
            format!(
                "{a} is not a loopback address: the page configures the box; open it on \
                 the box or through a tunnel (ssh -L)"
            ),
        );
    }
    if w.password_hash.is_none() {
        r.err(
            "web.listen",
            "the page needs `password_hash` (print one with `tipring web-password`)",
        );
    }
}
