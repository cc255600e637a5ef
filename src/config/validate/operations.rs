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
    const SIP_BYTES_MAX: u32 = 16 << 20;
    if c.capture.sip_bytes > SIP_BYTES_MAX {
        r.err(
            "capture.sip_bytes",
            format!("{} is not in 0..={SIP_BYTES_MAX}", c.capture.sip_bytes),
        );
    }
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

fn path(r: &mut Report<'_>, field: &str, p: &Path) {
    if !p.is_absolute() {
        r.err(
            field,
            format!("\"{}\" is not an absolute path", p.display()),
        );
    }
}
