//! The metrics endpoint: the status's counters and gauges in the OpenMetrics text format
//! (what Prometheus scrapes), on `GET /metrics` of a loopback HTTP/1.1 listener
//! (`[metrics] listen`; off by default).
//!
//! The server reads one request head (at most [`MAX_HEAD`] bytes within
//! [`HEAD_TIMEOUT`]), answers it and closes the connection; at most [`MAX_CLIENTS`] are
//! served at once. It never reads a body and only ever answers with the metrics, 404 or 405.

use super::control::StatusSource;
use super::status::Status;
use std::fmt::Write as _;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The largest request head read.
pub const MAX_HEAD: usize = 8 * 1024;
/// How long a client may take to send it.
pub const HEAD_TIMEOUT: Duration = Duration::from_secs(5);
/// Clients served at once.
pub const MAX_CLIENTS: usize = 4;

/// The OpenMetrics text format's media type (OpenMetrics 1.0 §"Protocol Negotiation").
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Serves `listener` until the task is dropped.
pub async fn serve(listener: TcpListener, source: StatusSource) {
    super::serve_bounded(MAX_CLIENTS, &listener, |stream| {
        let source = source.clone();
        async move {
            let _ = serve_one(stream, &source).await;
        }
    })
    .await;
}

async fn serve_one(mut stream: TcpStream, source: &StatusSource) -> std::io::Result<()> {
    let mut head = Vec::with_capacity(512);
    let read = tokio::time::timeout(HEAD_TIMEOUT, async {
        let mut buf = [0u8; 1024];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < MAX_HEAD {
            let n = stream.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            head.extend_from_slice(&buf[..n]);
        }
        std::io::Result::Ok(())
    })
    .await;
    if !matches!(read, Ok(Ok(()))) {
        return Ok(());
    }
    let line = head
        .split(|&b| b == b'\r' || b == b'\n')
        .next()
        .unwrap_or_default();
    let mut parts = line.split(|&b| b == b' ');
    let (method, target) = (
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
    );
    let (status, content_type, body) = if method != b"GET" && method != b"HEAD" {
        (
            "405 Method Not Allowed",
            "text/plain",
            "GET only\n".to_owned(),
        )
    } else if target != b"/metrics" {
        ("404 Not Found", "text/plain", "see /metrics\n".to_owned())
    } else {
        match source.status().await {
            Some(s) => ("200 OK", CONTENT_TYPE, render(&s)),
            None => (
                "503 Service Unavailable",
                "text/plain",
                "the gateway did not answer in time\n".to_owned(),
            ),
        }
    };
    let mut reply = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\nCache-Control: no-store\r\n\r\n",
        body.len()
    );
    if method != b"HEAD" {
        reply.push_str(&body);
    }
    stream.write_all(reply.as_bytes()).await?;
    stream.shutdown().await
}

/// The status as OpenMetrics text.
pub fn render(s: &Status) -> String {
    let mut m = Text::default();
    m.family(
        "tipring_uptime_seconds",
        "gauge",
        "Seconds since the gateway started.",
    );
    m.sample("tipring_uptime_seconds", &[], s.uptime_s as f64);
    m.family("tipring_port_busy", "gauge", "1 while the port has a call.");
    for p in &s.lines.ports {
        let port = p.index.to_string();
        m.sample(
            "tipring_port_busy",
            &[("port", &port), ("kind", &p.kind)],
            f64::from(u8::from(p.call.is_some())),
        );
    }
    m.family(
        "tipring_call_mos",
        "gauge",
        "Estimated MOS (ITU-T G.107) of the port's call.",
    );
    for p in &s.lines.ports {
        if let Some(mos) = p.call.as_ref().and_then(|c| c.mos) {
            m.sample("tipring_call_mos", &[("port", &p.index.to_string())], mos);
        }
    }
    m.family(
        "tipring_call_jitter_seconds",
        "gauge",
        "Highest RTP jitter of the port's call.",
    );
    m.family(
        "tipring_call_lost_packets",
        "gauge",
        "RTP packets lost in the port's call.",
    );
    for p in &s.lines.ports {
        if let Some(r) = p.call.as_ref().and_then(|c| c.rtp.as_ref()) {
            let port = p.index.to_string();
            m.sample(
                "tipring_call_jitter_seconds",
                &[("port", &port)],
                r.jitter_ms / 1000.0,
            );
            m.sample(
                "tipring_call_lost_packets",
                &[("port", &port)],
                r.lost as f64,
            );
        }
    }
    let c = &s.lines.calls;
    m.family("tipring_calls", "counter", "Calls started, by direction.");
    m.sample(
        "tipring_calls_total",
        &[("direction", "incoming")],
        c.incoming as f64,
    );
    m.sample(
        "tipring_calls_total",
        &[("direction", "outgoing")],
        c.outgoing as f64,
    );
    m.sample(
        "tipring_calls_total",
        &[("direction", "forwarded")],
        c.forwarded as f64,
    );
    m.family("tipring_calls_answered", "counter", "Calls answered.");
    m.sample("tipring_calls_answered_total", &[], c.answered as f64);
    m.family(
        "tipring_calls_failed",
        "counter",
        "Calls ended unanswered, by cause.",
    );
    for (cause, n) in &c.failed {
        m.sample(
            "tipring_calls_failed_total",
            &[("cause", cause.as_str())],
            *n as f64,
        );
    }
    m.family("tipring_audio_xruns", "counter", "Audio xruns in calls.");
    m.sample("tipring_audio_xruns_total", &[], c.xruns as f64);
    m.family(
        "tipring_srtp_refused",
        "counter",
        "SRTP/SRTCP datagrams refused in calls (not authenticated, replayed, malformed).",
    );
    m.sample("tipring_srtp_refused_total", &[], c.srtp_refused as f64);
    m.family(
        "tipring_registration_up",
        "gauge",
        "1 while the account is registered.",
    );
    m.family(
        "tipring_registration_expires_seconds",
        "gauge",
        "Until the binding expires.",
    );
    for r in &s.sip.registrations {
        let up = f64::from(u8::from(r.state == "registered"));
        m.sample("tipring_registration_up", &[("account", &r.account)], up);
        if let Some(e) = r.expires_in_s {
            m.sample(
                "tipring_registration_expires_seconds",
                &[("account", &r.account)],
                e as f64,
            );
        }
    }
    let t = &s.sip.sip;
    for (name, help, v) in [
        ("tipring_sip_received", "SIP messages received.", t.received),
        ("tipring_sip_sent", "SIP messages sent.", t.sent),
        ("tipring_sip_bans", "Sources banned for their rate.", t.bans),
        (
            "tipring_sip_over_rate",
            "Messages over a source's rate.",
            t.over_rate,
        ),
        (
            "tipring_sip_scanners",
            "Messages from known scanners.",
            t.scanners,
        ),
        (
            "tipring_sip_queue_full",
            "Messages dropped, receive queue full.",
            t.queue_full,
        ),
        (
            "tipring_sip_table_full",
            "Requests refused at a table bound.",
            t.table_full,
        ),
    ] {
        m.family(name, "counter", help);
        m.sample(&format!("{name}_total"), &[], v as f64);
    }
    m.family(
        "tipring_sip_refused",
        "counter",
        "Requests refused, by reason.",
    );
    for (why, n) in &t.refused {
        m.sample("tipring_sip_refused_total", &[("reason", why)], *n as f64);
    }
    m.0.push_str("# EOF\n");
    m.0
}

/// OpenMetrics text being written.
#[derive(Default)]
struct Text(String);

impl Text {
    fn family(&mut self, name: &str, kind: &str, help: &str) {
        let _ = writeln!(self.0, "# TYPE {name} {kind}");
        let _ = writeln!(self.0, "# HELP {name} {help}");
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], v: f64) {
        self.0.push_str(name);
        if !labels.is_empty() {
            self.0.push('{');
            for (i, (k, val)) in labels.iter().enumerate() {
                if i > 0 {
                    self.0.push(',');
                }
                let _ = write!(self.0, "{k}=\"{}\"", escape(val));
            }
            self.0.push('}');
        }
        let _ = writeln!(self.0, " {v}");
    }
}

/// A label value with `\`, `"` and newlines escaped (OpenMetrics ABNF `escaped-string`).
fn escape(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for ch in v.chars() {
        match ch {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::record::{CallCounters, EndCause};
    use crate::ops::status::{LineStatus, PortStatus, RegistrationStatus, SipStatus};

    fn status() -> Status {
        let mut calls = CallCounters {
            incoming: 3,
            outgoing: 4,
            answered: 5,
            ..CallCounters::default()
        };
        calls.failed.insert(EndCause::NoResponse, 2);
        let mut sip = SipStatus::default();
        sip.registrations.push(RegistrationStatus {
            account: "we\"ird\\".into(),
            state: "registered".into(),
            expires_in_s: Some(30),
            last_code: Some(200),
        });
        sip.sip.refused.insert("invite_untrusted".into(), 7);
        Status {
            version: "0".into(),
            uptime_s: 12,
            lines: LineStatus {
                ports: vec![PortStatus {
                    index: 0,
                    kind: "fxs".into(),
                    number: None,
                    state: "Idle".into(),
                    call: None,
                    last_call: None,
                }],
                calls,
            },
            sip,
            provisioning: None,
        }
    }

    #[test]
    fn the_text_has_every_family_once_and_ends_with_eof() {
        let t = render(&status());
        assert!(t.ends_with("# EOF\n"));
        assert!(
            t.contains("tipring_calls_total{direction=\"outgoing\"} 4\n"),
            "{t}"
        );
        assert!(t.contains("tipring_calls_failed_total{cause=\"no_response\"} 2\n"));
        assert!(t.contains("tipring_sip_refused_total{reason=\"invite_untrusted\"} 7\n"));
        assert!(
            t.contains("tipring_registration_up{account=\"we\\\"ird\\\\\"} 1\n"),
            "{t}"
        );
        assert!(t.contains("tipring_port_busy{port=\"0\",kind=\"fxs\"} 0\n"));
        let mut types: Vec<&str> = t.lines().filter(|l| l.starts_with("# TYPE")).collect();
        let n = types.len();
        types.sort();
        types.dedup();
        assert_eq!(types.len(), n, "a family declared twice");
        // Every sample belongs to a family declared before it.
        let mut declared = Vec::new();
        for l in t.lines() {
            if let Some(rest) = l.strip_prefix("# TYPE ") {
                declared.push(rest.split(' ').next().unwrap().to_owned());
            } else if !l.starts_with('#') {
                let name = l.split(['{', ' ']).next().unwrap();
                let family = name.strip_suffix("_total").unwrap_or(name);
                assert!(declared.iter().any(|d| d == family), "{l}");
            }
        }
    }
}
