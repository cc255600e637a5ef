//! Checks of the `[limits]` section: rates and table caps, stream bounds.

use super::Report;
use crate::config::schema::Limits;

/// The largest SIP message the transports accept: a send queue must hold at least one.
const MAX_MESSAGE: u32 = 64 * 1024;

/// `[limits]`: every rate, burst and cap at least 1 (a zero would refuse everyone) and the
/// ban back-off ordered.
pub(super) fn rates(r: &mut Report<'_>, l: &Limits) {
    for (field, v, max) in [
        ("limits.rate_per_s", l.rate_per_s, 1_000_000),
        ("limits.burst", l.burst, 1_000_000),
        ("limits.server_rate_per_s", l.server_rate_per_s, 1_000_000),
        ("limits.server_burst", l.server_burst, 1_000_000),
        ("limits.ban_min_s", l.ban_min_s, 86_400),
        ("limits.max_sources", l.max_sources, 1_000_000),
        (
            "limits.max_server_transactions",
            l.max_server_transactions,
            1_000_000,
        ),
        (
            "limits.max_client_transactions",
            l.max_client_transactions,
            1_000_000,
        ),
        ("limits.max_calls", l.max_calls, 1_000_000),
        ("limits.max_early_dialogs", l.max_early_dialogs, 64),
        ("limits.max_digest_nonces", l.max_digest_nonces, 1_000_000),
        (
            "limits.max_auth_failure_records",
            l.max_auth_failure_records,
            1_000_000,
        ),
    ] {
        if !(1..=max).contains(&v) {
            r.err(field, format!("{v} is not in 1..={max}"));
        }
    }
    if l.max_relayed_calls > 64 {
        r.err(
            "limits.max_relayed_calls",
            format!("{} is not in 0..=64", l.max_relayed_calls),
        );
    }
    if l.ban_max_s < l.ban_min_s || l.ban_max_s > 86_400 {
        r.err(
            "limits.ban_max_s",
            format!("{} is not in ban_min_s..=86400", l.ban_max_s),
        );
    }
    for (i, ua) in l.scanner_user_agents.iter().enumerate() {
        if ua.trim().is_empty() || ua.contains(['\r', '\n']) {
            r.err(
                format!("limits.scanner_user_agents[{i}]"),
                "must be one non-empty line",
            );
        }
    }
}

pub(super) fn stream_limits(r: &mut Report<'_>, l: &Limits) {
    for (name, v, lo, hi) in [
        (
            "max_stream_connections",
            l.max_stream_connections,
            1,
            65_536,
        ),
        (
            "max_connections_per_source",
            l.max_connections_per_source,
            1,
            l.max_stream_connections.max(1),
        ),
        (
            "stream_message_timeout_ms",
            l.stream_message_timeout_ms,
            500,
            120_000,
        ),
        (
            "stream_connect_timeout_ms",
            l.stream_connect_timeout_ms,
            100,
            60_000,
        ),
        (
            "stream_handshake_timeout_ms",
            l.stream_handshake_timeout_ms,
            500,
            60_000,
        ),
        (
            "stream_send_queue_bytes",
            l.stream_send_queue_bytes,
            MAX_MESSAGE,
            16 << 20,
        ),
        (
            "stream_write_timeout_ms",
            l.stream_write_timeout_ms,
            500,
            120_000,
        ),
    ] {
        if !(lo..=hi).contains(&v) {
            r.err(
                format!("limits.{name}"),
                format!("{v} is not in {lo}..={hi}"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::config::load_str;
    use crate::config::schema::Limits;
    use std::path::PathBuf;

    const BASE: &str =
        "board = \"sim\"\n[[ports]]\nindex = 0\nkind = \"fxs\"\nhotline = \"sip:a@127.0.0.1\"\n";

    fn boards() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("board")
    }

    #[test]
    fn stream_limits_default_and_are_read() {
        let l = load_str("t.toml", BASE, &boards()).unwrap();
        assert_eq!(l.config.limits, Limits::default());
        let text = format!(
            "{BASE}[limits]\nmax_stream_connections = 64\nstream_message_timeout_ms = 3000\n"
        );
        let l = load_str("t.toml", &text, &boards()).unwrap();
        assert_eq!(l.config.limits.max_stream_connections, 64);
        assert_eq!(l.config.limits.stream_message_timeout_ms, 3000);
    }

    #[test]
    fn stream_limits_out_of_range_are_refused_with_their_line() {
        let text =
            format!("{BASE}[limits]\nmax_stream_connections = 8\nmax_connections_per_source = 9\n");
        let e = load_str("t.toml", &text, &boards()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "t.toml:8: limits.max_connections_per_source: 9 is not in 1..=8"
        );
        let text = format!("{BASE}[limits]\nstream_send_queue_bytes = 1000\n");
        let e = load_str("t.toml", &text, &boards()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "t.toml:7: limits.stream_send_queue_bytes: 1000 is not in 65536..=16777216"
        );
        let text = format!("{BASE}[limits]\nstream_connect_timeout_ms = 0\n");
        assert!(load_str("t.toml", &text, &boards()).is_err());
    }
}
