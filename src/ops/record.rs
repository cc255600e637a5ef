//! Call records: what the gateway keeps of each call a port took part in.
//!
//! The SIP side says when a port's call starts, is answered and ends, with the SIP detail
//! only it knows ([`LegNote`]: Call-ID, the parties' URIs, the final status and why it
//! ended); the runtime adds what the line and media side know (the codec in use, the
//! bridge's RTP counters). [`Recorder`] joins them, sans-IO: fed with `(now, wall clock)`,
//! it hands out one [`CallRecord`] per ended call and keeps what status shows (the open
//! calls, each line's last disconnect, the counters).

use super::mos::Quality;
use super::timestamp::rfc3339;
use crate::bridge::StatsSnapshot;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::{Duration, Instant, SystemTime};

/// RTP timestamp units per millisecond (8 kHz G.711 and telephone-event).
const TS_PER_MS: f64 = 8.0;

/// Which way a call went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// It came in over SIP for the port.
    Incoming,
    /// The port placed it.
    Outgoing,
    /// It came in for the port, which forwards it: the box called the forwarding target
    /// and relayed the two calls (`forward_mode = "gateway"`).
    Forwarded,
}

/// Why a call ended (the disconnect reason of a record and of a line's status).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EndCause {
    /// The line hung up (we sent BYE).
    LocalHangup,
    /// The far end sent BYE.
    RemoteHangup,
    /// The caller cancelled before the answer (CANCEL received).
    CallerCancelled,
    /// The line gave up before the far end answered (we sent CANCEL).
    Abandoned,
    /// We refused the incoming call (busy, no answer, do-not-disturb...).
    Rejected,
    /// The far end refused our call with a final status.
    FarEndRejected,
    /// We redirected the incoming call (302, call forwarding).
    Forwarded,
    /// No response to our INVITE (Timer B, 408).
    NoResponse,
    /// Our 2xx was never acknowledged (RFC 3261 §13.3.1.4).
    NoAck,
    /// A request inside the dialog got 481 or 408 (RFC 3261 §12.2.1.2).
    DialogLost,
    /// The far end stopped refreshing the session (RFC 4028 §10): we sent BYE.
    SessionExpired,
    /// Our credentials were refused.
    AuthFailed,
    /// Redirections beyond the limit or in a loop.
    RedirectLoop,
    /// No media both ends can run (488).
    NoUsableMedia,
    /// The gateway stopped.
    Shutdown,
}

impl EndCause {
    /// The cause's name in records, status and metrics labels.
    pub fn as_str(self) -> &'static str {
        match self {
            EndCause::LocalHangup => "local_hangup",
            EndCause::RemoteHangup => "remote_hangup",
            EndCause::CallerCancelled => "caller_cancelled",
            EndCause::Abandoned => "abandoned",
            EndCause::Rejected => "rejected",
            EndCause::FarEndRejected => "far_end_rejected",
            EndCause::Forwarded => "forwarded",
            EndCause::NoResponse => "no_response",
            EndCause::SessionExpired => "session_expired",
            EndCause::NoAck => "no_ack",
            EndCause::DialogLost => "dialog_lost",
            EndCause::AuthFailed => "auth_failed",
            EndCause::RedirectLoop => "redirect_loop",
            EndCause::NoUsableMedia => "no_usable_media",
            EndCause::Shutdown => "shutdown",
        }
    }
}

/// What the SIP side tells about a port's call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LegNote {
    /// The port's call exists (INVITE sent or taken). A second `Started` while a call is
    /// open is the same call placed again elsewhere (failover): its Call-ID is updated.
    Started {
        call_id: String,
        direction: Direction,
        /// From of the INVITE.
        caller: String,
        /// Request-URI of the INVITE.
        called: String,
    },
    /// 200 OK sent or received.
    Answered,
    /// Over: the INVITE's final status (200 once answered) and why.
    Ended { code: u16, cause: EndCause },
}

/// The media figures of a call's receive and send sides.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct RtpSummary {
    pub sent: u64,
    pub received: u64,
    pub lost: u64,
    pub late: u64,
    pub concealed: u64,
    /// Highest interarrival jitter seen (RFC 3550 A.8), milliseconds.
    pub jitter_ms: f64,
    /// Audio port capture and playback xruns.
    pub xruns: u64,
    /// SRTP/SRTCP datagrams refused (not authenticated, replayed, malformed): an encrypted
    /// call's injection attempts or a far end keyed otherwise.
    #[serde(default)]
    pub srtp_refused: u64,
}

impl CallCounters {
    /// These counters and `other`'s together (the ports' calls and the relayed ones).
    pub fn merged(mut self, other: &CallCounters) -> CallCounters {
        self.incoming += other.incoming;
        self.outgoing += other.outgoing;
        self.forwarded += other.forwarded;
        self.answered += other.answered;
        for (cause, n) in &other.failed {
            *self.failed.entry(*cause).or_default() += n;
        }
        self.xruns += other.xruns;
        self.srtp_refused += other.srtp_refused;
        self
    }
}

impl RtpSummary {
    fn add(&mut self, s: &StatsSnapshot) {
        self.sent += s.rtp_sent;
        self.received += s.rtp_received;
        self.lost += s.lost;
        self.late += s.late;
        self.concealed += s.concealed;
        self.jitter_ms = self.jitter_ms.max(s.jitter as f64 / TS_PER_MS);
        self.xruns += s.xruns;
        self.srtp_refused += s.srtp_refused;
    }

    fn plus(mut self, s: Option<&StatsSnapshot>) -> RtpSummary {
        if let Some(s) = s {
            self.add(s);
        }
        self
    }
}

/// One ended call: a JSON line of the records file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallRecord {
    pub call_id: String,
    pub port: u8,
    pub direction: Direction,
    pub caller: String,
    pub called: String,
    /// RFC 3339 UTC.
    pub start: String,
    pub answer: Option<String>,
    pub end: String,
    /// From the answer to the end (0 for a call never answered), seconds.
    pub duration_s: f64,
    /// The INVITE's final status: 200 once answered.
    pub sip_code: u16,
    pub cause: EndCause,
    /// `PCMU`, `PCMA`, `t38`; none when no media was negotiated.
    pub codec: Option<String>,
    /// None when no RTP flowed (a call refused or cancelled before media).
    pub rtp: Option<RtpSummary>,
    /// The E-model's estimate (ITU-T G.107) from the receive side's loss and delay.
    pub mos: Option<f64>,
}

/// A port's call now, for status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallStatus {
    pub call_id: String,
    pub direction: Direction,
    pub caller: String,
    pub called: String,
    pub answered: bool,
    /// Since the answer (since the start while not answered), seconds.
    pub duration_s: f64,
    pub codec: Option<String>,
    pub rtp: Option<RtpSummary>,
    pub mos: Option<f64>,
}

/// How a line's last call ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastCall {
    pub end: String,
    pub sip_code: u16,
    pub cause: EndCause,
}

/// What the records add up to since start.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallCounters {
    pub incoming: u64,
    pub outgoing: u64,
    /// Calls the box forwarded itself (`forward_mode = "gateway"`; not in `incoming`).
    #[serde(default)]
    pub forwarded: u64,
    pub answered: u64,
    /// Calls that ended without being answered, by cause.
    pub failed: BTreeMap<EndCause, u64>,
    /// Audio xruns of the calls' bridges.
    pub xruns: u64,
    /// SRTP/SRTCP datagrams the calls' bridges refused.
    #[serde(default)]
    pub srtp_refused: u64,
}

#[derive(Debug)]
struct OpenCall {
    call_id: String,
    direction: Direction,
    caller: String,
    called: String,
    start: (Instant, SystemTime),
    answer: Option<(Instant, SystemTime)>,
    codec: Option<&'static str>,
    /// The bridges stopped during the call.
    rtp: RtpSummary,
    had_rtp: bool,
}

/// Joins the SIP side's notes with the media figures (see the module docs).
#[derive(Debug)]
pub struct Recorder {
    /// Packetisation and jitter buffer, ms: the fixed part of the delay the MOS assumes.
    base_delay_ms: f64,
    open: BTreeMap<u8, OpenCall>,
    last: BTreeMap<u8, LastCall>,
    counters: CallCounters,
}

impl Recorder {
    /// `base_delay_ms`: the one-way delay a call has before the network's (packetisation,
    /// the jitter buffer's minimum depth).
    pub fn new(base_delay_ms: f64) -> Recorder {
        Recorder {
            base_delay_ms,
            open: BTreeMap::new(),
            last: BTreeMap::new(),
            counters: CallCounters::default(),
        }
    }

    /// A note of the SIP side; `live` is the port's running bridge's counters (those of a
    /// call that ends while its bridge still runs). Returns the record of a call that ended.
    pub fn on_note(
        &mut self,
        now: Instant,
        wall: SystemTime,
        port: u8,
        note: LegNote,
        live: Option<&StatsSnapshot>,
    ) -> Option<CallRecord> {
        match note {
            LegNote::Started {
                call_id,
                direction,
                caller,
                called,
            } => {
                if let Some(open) = self.open.get_mut(&port) {
                    open.call_id = call_id;
                    return None;
                }
                match direction {
                    Direction::Incoming => self.counters.incoming += 1,
                    Direction::Outgoing => self.counters.outgoing += 1,
                    Direction::Forwarded => self.counters.forwarded += 1,
                }
                self.open.insert(
                    port,
                    OpenCall {
                        call_id,
                        direction,
                        caller,
                        called,
                        start: (now, wall),
                        answer: None,
                        codec: None,
                        rtp: RtpSummary::default(),
                        had_rtp: false,
                    },
                );
                None
            }
            LegNote::Answered => {
                if let Some(c) = self.open.get_mut(&port)
                    && c.answer.is_none()
                {
                    c.answer = Some((now, wall));
                    self.counters.answered += 1;
                }
                None
            }
            LegNote::Ended { code, cause } => {
                let c = self.open.remove(&port)?;
                let rtp = c.rtp.plus(live);
                let had_rtp = c.had_rtp || live.is_some_and(|s| s.rtp_received + s.rtp_sent > 0);
                if c.answer.is_none() {
                    *self.counters.failed.entry(cause).or_default() += 1;
                }
                self.counters.xruns += rtp.xruns;
                self.counters.srtp_refused += rtp.srtp_refused;
                self.last.insert(
                    port,
                    LastCall {
                        end: rfc3339(wall),
                        sip_code: code,
                        cause,
                    },
                );
                Some(CallRecord {
                    call_id: c.call_id,
                    port,
                    direction: c.direction,
                    caller: c.caller,
                    called: c.called,
                    start: rfc3339(c.start.1),
                    answer: c.answer.map(|a| rfc3339(a.1)),
                    end: rfc3339(wall),
                    duration_s: seconds(c.answer.map(|a| now.saturating_duration_since(a.0))),
                    sip_code: code,
                    cause,
                    codec: c.codec.map(str::to_owned),
                    mos: had_rtp.then(|| self.mos(&rtp)),
                    rtp: had_rtp.then_some(rtp),
                })
            }
        }
    }

    /// The port's call runs this codec now (the SIP side's media event).
    pub fn on_codec(&mut self, port: u8, codec: &'static str) {
        if let Some(c) = self.open.get_mut(&port) {
            c.codec = Some(codec);
        }
    }

    /// The port's bridge stopped with these final counters.
    pub fn on_bridge_stopped(&mut self, port: u8, s: &StatsSnapshot) {
        if let Some(c) = self.open.get_mut(&port) {
            c.rtp.add(s);
            c.had_rtp |= s.rtp_received + s.rtp_sent > 0;
        }
    }

    /// The port's call now, its running bridge's counters `live` included.
    pub fn call(&self, now: Instant, port: u8, live: Option<&StatsSnapshot>) -> Option<CallStatus> {
        let c = self.open.get(&port)?;
        let rtp = c.rtp.plus(live);
        let had_rtp = c.had_rtp || live.is_some_and(|s| s.rtp_received + s.rtp_sent > 0);
        let since = c.answer.map_or(c.start.0, |a| a.0);
        Some(CallStatus {
            call_id: c.call_id.clone(),
            direction: c.direction,
            caller: c.caller.clone(),
            called: c.called.clone(),
            answered: c.answer.is_some(),
            duration_s: seconds(Some(now.saturating_duration_since(since))),
            codec: c.codec.map(str::to_owned),
            mos: had_rtp.then(|| self.mos(&rtp)),
            rtp: had_rtp.then_some(rtp),
        })
    }

    /// How port `port`'s last call ended.
    pub fn last(&self, port: u8) -> Option<&LastCall> {
        self.last.get(&port)
    }

    /// The counters since start.
    pub fn counters(&self) -> &CallCounters {
        &self.counters
    }

    /// Whether a call is open on `port`.
    pub fn is_open(&self, port: u8) -> bool {
        self.open.contains_key(&port)
    }

    fn mos(&self, rtp: &RtpSummary) -> f64 {
        let delay = self.base_delay_ms + 2.0 * rtp.jitter_ms;
        let mos = Quality::from_counts(rtp.received, rtp.lost, delay).mos();
        (mos * 100.0).round() / 100.0
    }
}

/// Seconds with millisecond precision.
fn seconds(d: Option<Duration>) -> f64 {
    d.map_or(0.0, |d| d.as_millis() as f64 / 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    fn started(call_id: &str) -> LegNote {
        LegNote::Started {
            call_id: call_id.into(),
            direction: Direction::Outgoing,
            caller: "sip:100@gw".into(),
            called: "sip:2001@pbx".into(),
        }
    }

    fn stats(sent: u64, received: u64, lost: u64, jitter: u64) -> StatsSnapshot {
        StatsSnapshot {
            rtp_sent: sent,
            rtp_received: received,
            lost,
            jitter,
            ..StatsSnapshot::default()
        }
    }

    #[test]
    fn an_answered_call_gets_its_times_codec_rtp_and_mos() {
        let mut r = Recorder::new(60.0);
        let t0 = Instant::now();
        let w0 = UNIX_EPOCH + Duration::from_secs(1_796_315_430);
        let at = |s: u64| (t0 + Duration::from_secs(s), w0 + Duration::from_secs(s));
        assert!(r.on_note(t0, w0, 1, started("abc"), None).is_none());
        let (t, w) = at(2);
        r.on_note(t, w, 1, LegNote::Answered, None);
        r.on_codec(1, "PCMA");
        // Early media's bridge, then the call's (still running at the end).
        r.on_bridge_stopped(1, &stats(10, 10, 0, 8));
        let live = stats(490, 485, 5, 80);
        let status = r.call(at(5).0, 1, Some(&live)).unwrap();
        assert!(status.answered);
        assert_eq!(status.duration_s, 3.0);
        let (t, w) = at(12);
        let ended = LegNote::Ended {
            code: 200,
            cause: EndCause::RemoteHangup,
        };
        let rec = r.on_note(t, w, 1, ended, Some(&live)).unwrap();
        assert_eq!(rec.call_id, "abc");
        assert_eq!(rec.start, "2026-12-03T16:30:30.000Z");
        assert_eq!(rec.answer.as_deref(), Some("2026-12-03T16:30:32.000Z"));
        assert_eq!(rec.end, "2026-12-03T16:30:42.000Z");
        assert_eq!(rec.duration_s, 10.0);
        assert_eq!(rec.codec.as_deref(), Some("PCMA"));
        let rtp = rec.rtp.unwrap();
        assert_eq!((rtp.sent, rtp.received, rtp.lost), (500, 495, 5));
        assert_eq!(rtp.jitter_ms, 10.0);
        // 1 % loss, 60 + 2 * 10 ms (no delay impairment below 100 ms): R = 89.56,
        // MOS 4.328 (mos.rs has the arithmetic).
        assert_eq!(rec.mos, Some(4.33));
        assert!(r.call(t, 1, None).is_none());
        assert_eq!(r.last(1).unwrap().cause, EndCause::RemoteHangup);
        assert_eq!(r.counters().answered, 1);
        assert!(r.counters().failed.is_empty());
    }

    #[test]
    fn srtp_refusals_reach_the_record_and_the_counters() {
        let mut r = Recorder::new(60.0);
        let (t, w) = (Instant::now(), SystemTime::now());
        r.on_note(t, w, 2, started("enc"), None);
        r.on_note(t, w, 2, LegNote::Answered, None);
        let live = StatsSnapshot {
            srtp_refused: 100,
            ..stats(50, 50, 0, 0)
        };
        let ended = LegNote::Ended {
            code: 200,
            cause: EndCause::LocalHangup,
        };
        let rec = r.on_note(t, w, 2, ended, Some(&live)).unwrap();
        assert_eq!(rec.rtp.unwrap().srtp_refused, 100);
        assert_eq!(r.counters().srtp_refused, 100);
        // A record written before the field existed still reads.
        let old =
            r#"{"sent":1,"received":1,"lost":0,"late":0,"concealed":0,"jitter_ms":0.0,"xruns":0}"#;
        let rtp: RtpSummary = serde_json::from_str(old).unwrap();
        assert_eq!(rtp.srtp_refused, 0);
    }

    #[test]
    fn a_refused_call_counts_as_failed_and_has_no_media() {
        let mut r = Recorder::new(60.0);
        let (t, w) = (Instant::now(), SystemTime::now());
        r.on_note(t, w, 0, started("x"), None);
        let ended = LegNote::Ended {
            code: 486,
            cause: EndCause::FarEndRejected,
        };
        let rec = r.on_note(t, w, 0, ended, None).unwrap();
        assert_eq!((rec.sip_code, rec.duration_s), (486, 0.0));
        assert!(rec.answer.is_none() && rec.rtp.is_none() && rec.mos.is_none());
        assert_eq!(r.counters().failed[&EndCause::FarEndRejected], 1);
        assert_eq!(r.counters().outgoing, 1);
    }

    #[test]
    fn failover_keeps_one_record_with_the_new_call_id() {
        let mut r = Recorder::new(60.0);
        let (t, w) = (Instant::now(), SystemTime::now());
        r.on_note(t, w, 0, started("first"), None);
        r.on_note(t, w, 0, started("second"), None);
        assert_eq!(r.counters().outgoing, 1);
        let ended = LegNote::Ended {
            code: 487,
            cause: EndCause::Abandoned,
        };
        assert_eq!(r.on_note(t, w, 0, ended, None).unwrap().call_id, "second");
    }

    #[test]
    fn forwarded_calls_are_counted_apart_and_merged_into_the_totals() {
        let mut relays = Recorder::new(60.0);
        let (t, w) = (Instant::now(), SystemTime::now());
        let forwarded = LegNote::Started {
            call_id: "f".into(),
            direction: Direction::Forwarded,
            caller: "sip:5551@192.0.2.9".into(),
            called: "sip:300@192.0.2.7".into(),
        };
        relays.on_note(t, w, 0, forwarded, None);
        let ended = LegNote::Ended {
            code: 486,
            cause: EndCause::FarEndRejected,
        };
        let rec = relays.on_note(t, w, 0, ended, None).unwrap();
        assert_eq!(rec.direction, Direction::Forwarded);
        let mut ports = Recorder::new(60.0);
        ports.on_note(t, w, 0, started("o"), None);
        let all = ports.counters().clone().merged(relays.counters());
        assert_eq!((all.outgoing, all.forwarded, all.incoming), (1, 1, 0));
        assert_eq!(all.failed[&EndCause::FarEndRejected], 1);
    }

    #[test]
    fn notes_for_a_port_without_a_call_are_ignored() {
        let mut r = Recorder::new(60.0);
        let (t, w) = (Instant::now(), SystemTime::now());
        r.on_note(t, w, 3, LegNote::Answered, None);
        let ended = LegNote::Ended {
            code: 200,
            cause: EndCause::LocalHangup,
        };
        assert!(r.on_note(t, w, 3, ended, None).is_none());
        r.on_bridge_stopped(3, &stats(1, 1, 0, 0));
        assert_eq!(*r.counters(), CallCounters::default());
        assert!(r.last(3).is_none());
    }

    #[test]
    fn a_record_is_one_json_line_with_the_cause_by_name() {
        let mut r = Recorder::new(60.0);
        let (t, w) = (Instant::now(), SystemTime::now());
        r.on_note(t, w, 0, started("x\ny"), None);
        let ended = LegNote::Ended {
            code: 487,
            cause: EndCause::CallerCancelled,
        };
        let line = serde_json::to_string(&r.on_note(t, w, 0, ended, None).unwrap()).unwrap();
        assert!(!line.contains('\n'), "{line}");
        assert!(line.contains("\"cause\":\"caller_cancelled\""), "{line}");
        assert!(line.contains("\"direction\":\"outgoing\""), "{line}");
    }
}
