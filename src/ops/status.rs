//! What `tipring status` shows: the running gateway's lines, calls, registrations and
//! counters, as one JSON document (the control socket's answer, [`super::control`]) and
//! as text for a terminal.
//!
//! The line side fills [`LineStatus`] (ports, calls, call counters), the SIP side
//! [`SipStatus`] (registrations, refused requests, flood counters); nothing in either is a
//! secret (no password, no nonce key, no digest).

use super::record::{CallCounters, CallStatus, LastCall};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// The whole answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Status {
    /// `tipring` version.
    pub version: String,
    /// Seconds since the gateway started.
    pub uptime_s: u64,
    #[serde(flatten)]
    pub lines: LineStatus,
    #[serde(flatten)]
    pub sip: SipStatus,
    /// Auto-provisioning, when configured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provisioning: Option<super::provision::ProvisionStatus>,
}

/// The line side's part.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LineStatus {
    pub ports: Vec<PortStatus>,
    pub calls: CallCounters,
}

/// One port.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PortStatus {
    pub index: u8,
    /// `fxs` or `fxo`.
    pub kind: String,
    /// The number the port is reached at (`ports.number`).
    #[serde(default)]
    pub number: Option<String>,
    /// The port machine's state (`Idle`, `Dialling`, `Connected`...).
    pub state: String,
    pub call: Option<CallStatus>,
    /// How the line's last call ended.
    pub last_call: Option<LastCall>,
}

/// The SIP side's part.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SipStatus {
    pub registrations: Vec<RegistrationStatus>,
    pub sip: SipCounters,
}

/// One account's registration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistrationStatus {
    pub account: String,
    /// `registering`, `registered`, `failed`, `unregistering`, `unregistered`, or
    /// `waiting` (the registrar's name does not resolve yet).
    pub state: String,
    /// Seconds until the binding expires (registered only).
    pub expires_in_s: Option<u64>,
    /// The last final status a REGISTER got.
    pub last_code: Option<u16>,
}

/// What the SIP side turned away or absorbed since start.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SipCounters {
    /// SIP messages received and sent by the transport.
    pub received: u64,
    pub sent: u64,
    /// Requests refused, by reason (`invite_untrusted`, `invite_unknown_number`...).
    pub refused: BTreeMap<String, u64>,
    /// Sources banned for exceeding their rate.
    pub bans: u64,
    /// Messages over a source's rate.
    pub over_rate: u64,
    /// Messages from known scanners' User-Agents.
    pub scanners: u64,
    /// Messages dropped with the receive queue full.
    pub queue_full: u64,
    /// Requests refused at a table bound (503).
    pub table_full: u64,
}

impl Status {
    /// The status as a terminal shows it.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "tipring {}, up {}", self.version, hms(self.uptime_s));
        let _ = writeln!(s, "\nPorts:");
        for p in &self.lines.ports {
            let _ = write!(s, "  {} {:<3} {:<14}", p.index, p.kind, p.state);
            match &p.call {
                Some(c) => {
                    let _ = write!(
                        s,
                        " {} {} -> {}, {} {:.0} s",
                        match c.direction {
                            super::record::Direction::Incoming => "in ",
                            super::record::Direction::Outgoing => "out",
                            super::record::Direction::Forwarded => "fwd",
                        },
                        c.caller,
                        c.called,
                        if c.answered { "up" } else { "setting up" },
                        c.duration_s
                    );
                    if let Some(codec) = &c.codec {
                        let _ = write!(s, ", {codec}");
                    }
                    if let Some(r) = &c.rtp {
                        let _ = write!(
                            s,
                            ", RTP {} sent {} received {} lost, jitter {:.1} ms",
                            r.sent, r.received, r.lost, r.jitter_ms
                        );
                    }
                    if let Some(m) = c.mos {
                        let _ = write!(s, ", MOS {m:.2}");
                    }
                }
                None => {
                    if let Some(l) = &p.last_call {
                        let _ = write!(
                            s,
                            " last call: {} ({}) at {}",
                            l.cause.as_str(),
                            l.sip_code,
                            l.end
                        );
                    }
                }
            }
            s.push('\n');
        }
        let _ = writeln!(s, "\nRegistrations:");
        if self.sip.registrations.is_empty() {
            let _ = writeln!(s, "  none configured");
        }
        for r in &self.sip.registrations {
            let _ = write!(s, "  {:<16} {}", r.account, r.state);
            if let Some(e) = r.expires_in_s {
                let _ = write!(s, ", expires in {e} s");
            }
            if let Some(c) = r.last_code {
                let _ = write!(s, ", last answer {c}");
            }
            s.push('\n');
        }
        let c = &self.lines.calls;
        let _ = writeln!(
            s,
            "\nCalls: {} in, {} out, {} forwarded by the box, {} answered, {} audio xruns",
            c.incoming, c.outgoing, c.forwarded, c.answered, c.xruns
        );
        for (cause, n) in &c.failed {
            let _ = writeln!(s, "  not answered, {}: {n}", cause.as_str());
        }
        if let Some(p) = &self.provisioning {
            let _ = writeln!(
                s,
                "Provisioning: {} from {}; last fetch {}: {}",
                p.running,
                p.url,
                p.last_fetch.as_deref().unwrap_or("none yet"),
                p.last_result.as_deref().unwrap_or("-")
            );
        }
        let t = &self.sip.sip;
        let _ = writeln!(
            s,
            "SIP: {} received, {} sent; {} over a source's rate, {} bans, {} from scanners, {} dropped (queue full), {} refused at a table bound",
            t.received, t.sent, t.over_rate, t.bans, t.scanners, t.queue_full, t.table_full
        );
        for (why, n) in &t.refused {
            let _ = writeln!(s, "  refused, {why}: {n}");
        }
        s
    }
}

/// `3d 04:05:06`, `00:00:07`.
fn hms(secs: u64) -> String {
    let (d, h, m, s) = (secs / 86_400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    if d > 0 {
        format!("{d}d {h:02}:{m:02}:{s:02}")
    } else {
        format!("{h:02}:{m:02}:{s:02}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::record::{Direction, EndCause};

    fn status() -> Status {
        Status {
            version: "0.1.0".into(),
            uptime_s: 90_061,
            lines: LineStatus {
                ports: vec![
                    PortStatus {
                        index: 0,
                        kind: "fxs".into(),
                        number: Some("100".into()),
                        state: "Connected".into(),
                        call: Some(CallStatus {
                            call_id: "c1".into(),
                            direction: Direction::Outgoing,
                            caller: "sip:100@gw".into(),
                            called: "sip:2001@pbx".into(),
                            answered: true,
                            duration_s: 12.3,
                            codec: Some("PCMU".into()),
                            rtp: None,
                            mos: Some(4.41),
                        }),
                        last_call: None,
                    },
                    PortStatus {
                        index: 1,
                        kind: "fxo".into(),
                        number: None,
                        state: "Idle".into(),
                        call: None,
                        last_call: Some(LastCall {
                            end: "2026-12-03T16:30:42.000Z".into(),
                            sip_code: 486,
                            cause: EndCause::FarEndRejected,
                        }),
                    },
                ],
                calls: CallCounters::default(),
            },
            sip: SipStatus {
                registrations: vec![RegistrationStatus {
                    account: "pbx".into(),
                    state: "registered".into(),
                    expires_in_s: Some(540),
                    last_code: Some(200),
                }],
                sip: SipCounters::default(),
            },
            provisioning: None,
        }
    }

    #[test]
    fn json_round_trips_with_both_parts_at_the_top() {
        let s = status();
        let json = serde_json::to_value(&s).unwrap();
        assert!(json.get("ports").is_some() && json.get("registrations").is_some());
        assert_eq!(json["ports"][1]["last_call"]["cause"], "far_end_rejected");
        let back: Status = serde_json::from_value(json).unwrap();
        assert_eq!(back, s);
    }

    #[test]
    fn text_names_each_line_its_call_and_the_registration() {
        let t = status().to_text();
        assert!(t.contains("up 1d 01:01:01"), "{t}");
        assert!(
            t.contains(
                "0 fxs Connected      out sip:100@gw -> sip:2001@pbx, up 12 s, PCMU, MOS 4.41"
            ),
            "{t}"
        );
        assert!(t.contains("last call: far_end_rejected (486)"), "{t}");
        assert!(t.contains("pbx              registered, expires in 540 s, last answer 200"));
    }
}
