//! Scenario scripts for the simulated card: one step a line, the same language at the
//! interactive prompt. `#` starts a comment. Ports are numbered from 0 as on the wire.
//!
//! Steps that need signal processing (in-band DTMF, generating or detecting tones, decoding
//! caller-ID FSK) are parsed here but carried out by a [`Dsp`] the caller plugs in (the
//! gateway binary adapts the media crate); without one they fail with
//! [`RunError::NeedsDsp`].

use super::SimCard;
use super::audio::{FrameSink, FrameSource, RawFile};
use super::port::{DTMF_GAP_MS, DTMF_ON_MS, SimPort};
use crate::model::{Digit, Event, FaultCode, PortId, RingCadence, RingStep};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How a phone dials.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DialMode {
    /// The card's hardware DTMF decoder reports the digits (`digit` events).
    Dtmf,
    /// Decadic pulses on the hook switch.
    Pulse,
    /// DTMF tones in the audio; the gateway must detect them (needs [`Dsp`]).
    InBand,
}

/// A tone to play or expect: a call-progress name (`dial`, `ringback`, `busy`,
/// `congestion`, ...) or frequencies in Hz (`1000`, `350+440`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToneSpec {
    Named(String),
    Freqs(Vec<u32>),
}

/// One scenario step.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    OffHook(PortId),
    OnHook(PortId),
    Flash(PortId),
    Dial(PortId, String, DialMode),
    AnswerAfter(PortId, u32),
    /// FXO: the exchange rings the line with this cadence.
    Ring(PortId, RingCadence),
    StopRing(PortId),
    FarAnswer(PortId),
    FarHangup(PortId),
    BatteryLost(PortId),
    BatteryRestore(PortId),
    Voltage(PortId, i16),
    Fault(PortId, FaultCode),
    Wait(Duration),
    Status,
    PlayFile(PortId, PathBuf),
    PlayTone(PortId, ToneSpec, Duration),
    Record(PortId, PathBuf),
    /// FXS: the phone is ringing (within the timeout).
    ExpectRinging(PortId, Duration),
    /// FXS: the phone has heard this many rings.
    ExpectRings(PortId, u32, Duration),
    /// FXO: the gateway seized (or, with `false`, released) the line.
    ExpectSeized(PortId, bool, Duration),
    /// FXO: the gateway pulse-dialled these digits.
    ExpectDialled(PortId, String, Duration),
    /// FXS: the gateway sent at least this many bytes of caller-ID audio.
    ExpectCallerIdAudio(PortId, usize, Duration),
    ExpectTone(PortId, ToneSpec, Duration),
    ExpectCallerId(PortId, String, Duration),
    /// FXO: the exchange sends caller ID with this number as FSK (V.23 when `true`,
    /// else Bell 202) into the line.
    SendCallerId(PortId, String, bool),
    /// FXS, off-hook: the phone hears the CPE alerting signal, acknowledges it with DTMF
    /// `D` and then receives this number as caller ID on call waiting.
    ExpectCallWaitingId(PortId, String, Duration),
    /// FXS: the phone's message-waiting lamp is on (or off).
    ExpectLamp(PortId, bool, Duration),
    /// FXS: the last visual message-waiting indication (FSK) said on (or off).
    ExpectVmwi(PortId, bool, Duration),
    Garbage(usize),
    DropFrames(u32),
    DuplicateFrames(u32),
    Pause(Duration),
    CablePull(Duration),
    Quit,
}

impl Step {
    /// Whether the step needs a [`Dsp`].
    pub fn needs_dsp(&self) -> bool {
        matches!(
            self,
            Step::Dial(_, _, DialMode::InBand)
                | Step::PlayTone(..)
                | Step::SendCallerId(..)
                | Step::ExpectTone(..)
                | Step::ExpectCallerId(..)
                | Step::ExpectCallWaitingId(..)
                | Step::ExpectVmwi(..)
        )
    }
}

/// A script line that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {what}")]
pub struct ParseError {
    pub line: usize,
    pub what: String,
}

/// Why a step failed.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("`{0}` needs tone/DTMF signal processing, which is not plugged in")]
    NeedsDsp(String),
    #[error("port {0} does not exist or is of the wrong kind for this step")]
    WrongPort(PortId),
    #[error("timed out after {0:?} waiting for: {1}")]
    Timeout(Duration, String),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Tone generation and detection, supplied by the media crate through the gateway binary.
pub trait Dsp {
    /// A source playing `tone` for `duration`.
    fn tone(&self, tone: &ToneSpec, duration: Duration) -> Option<Box<dyn FrameSource>>;
    /// A source playing these DTMF digits.
    fn dtmf(&self, digits: &str) -> Option<Box<dyn FrameSource>>;
    /// A detector for `tone`; it is fed every frame the gateway sends.
    fn tone_detector(&self, tone: &ToneSpec) -> Option<Arc<Mutex<dyn ToneDetector>>>;
    /// A source playing caller ID with `number` as an exchange sends it on-hook: FSK,
    /// V.23 (ETSI EN 300 659-1) or Bell 202 (GR-30), channel seizure and marks first.
    fn caller_id(&self, number: &str, v23: bool) -> Option<Box<dyn FrameSource>>;
    /// A caller-ID (FSK/DTMF) decoder of raw S16_LE audio; the number, if found.
    fn decode_caller_id(&self, audio: &[u8]) -> Option<String>;
    /// The last visual message-waiting indication (FSK) in raw S16_LE audio, if any.
    fn decode_message_waiting(&self, audio: &[u8]) -> Option<bool>;
}

/// A tone detector fed frames.
pub trait ToneDetector: Send {
    fn frame(&mut self, f: &crate::audio::Frame);
    fn detected(&self) -> bool;
}

/// Parses a duration: `250ms`, `2s`, `1.5s`.
pub fn parse_duration(s: &str) -> Option<Duration> {
    if let Some(ms) = s.strip_suffix("ms") {
        return ms.parse::<u64>().ok().map(Duration::from_millis);
    }
    let secs: f64 = s.strip_suffix('s')?.parse().ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs))
}

fn parse_tone(s: &str) -> Option<ToneSpec> {
    let s = s.strip_prefix("tone:").unwrap_or(s);
    if s.chars().next()?.is_ascii_digit() {
        s.split('+')
            .map(|f| f.parse().ok())
            .collect::<Option<Vec<u32>>>()
            .map(ToneSpec::Freqs)
    } else {
        Some(ToneSpec::Named(s.to_string()))
    }
}

fn parse_cadence(s: &str) -> Option<RingCadence> {
    let mut c = RingCadence {
        frequency_hz: 25,
        steps: heapless::Vec::new(),
    };
    for part in s.split(',') {
        let (on, off) = part.split_once('/')?;
        let step = RingStep {
            on_ms: parse_duration(on)
                .or_else(|| parse_duration(&format!("{on}ms")))?
                .as_millis() as u16,
            off_ms: parse_duration(off)
                .or_else(|| parse_duration(&format!("{off}ms")))?
                .as_millis() as u16,
        };
        c.steps.push(step).ok()?;
    }
    Some(c)
}

/// Parses one line; `Ok(None)` for blank lines and comments.
pub fn parse_line(text: &str, line: usize) -> Result<Option<Step>, ParseError> {
    // A comment starts with `#` at the start of the line or after a blank (`#` is a digit).
    let text = strip_comment(text).trim();
    if text.is_empty() {
        return Ok(None);
    }
    let w: Vec<&str> = text.split_whitespace().collect();
    let err = |what: &str| ParseError {
        line,
        what: format!("{what} in `{text}`"),
    };
    let port = |i: usize| -> Result<PortId, ParseError> {
        w.get(i)
            .and_then(|p| p.parse().ok())
            .ok_or_else(|| err("expected a port number"))
    };
    let dur = |i: usize| -> Result<Duration, ParseError> {
        w.get(i)
            .and_then(|d| parse_duration(d))
            .ok_or_else(|| err("expected a duration like 500ms or 2s"))
    };
    let arg = |i: usize, what: &str| -> Result<&str, ParseError> {
        w.get(i).copied().ok_or_else(|| err(what))
    };
    let on_off = |i: usize| -> Result<bool, ParseError> {
        match w.get(i).copied() {
            Some("on") => Ok(true),
            Some("off") => Ok(false),
            _ => Err(err("expected on or off")),
        }
    };
    let timeout = |i: usize| -> Result<Duration, ParseError> {
        if w.len() > i {
            dur(i)
        } else {
            Ok(Duration::from_secs(5))
        }
    };
    let step = match w[0] {
        "offhook" => Step::OffHook(port(1)?),
        "onhook" => Step::OnHook(port(1)?),
        "flash" => Step::Flash(port(1)?),
        "dial" => {
            let digits = arg(2, "expected digits")?.to_string();
            let mode = match w.get(3).copied() {
                None | Some("dtmf") => DialMode::Dtmf,
                Some("pulse") => DialMode::Pulse,
                Some("inband") => DialMode::InBand,
                Some(_) => return Err(err("dial mode is dtmf, pulse or inband")),
            };
            let ok = match mode {
                DialMode::Pulse => digits.chars().all(|c| c.is_ascii_digit()),
                _ => digits.chars().all(|c| Digit::from_char(c).is_some()),
            };
            if !ok || digits.is_empty() {
                return Err(err("bad digits"));
            }
            Step::Dial(port(1)?, digits, mode)
        }
        "answer-after" => Step::AnswerAfter(
            port(1)?,
            arg(2, "expected a ring count")?
                .parse()
                .map_err(|_| err("bad ring count"))?,
        ),
        "ring" => {
            let c = match w.get(2) {
                Some(c) => parse_cadence(c).ok_or_else(|| err("cadence is ON/OFF[,ON/OFF...]"))?,
                None => parse_cadence("1s/4s").ok_or_else(|| err("default cadence"))?,
            };
            Step::Ring(port(1)?, c)
        }
        "stop-ring" => Step::StopRing(port(1)?),
        "far-answer" => Step::FarAnswer(port(1)?),
        "far-hangup" => Step::FarHangup(port(1)?),
        "battery-lost" => Step::BatteryLost(port(1)?),
        "battery-restore" => Step::BatteryRestore(port(1)?),
        "voltage" => Step::Voltage(
            port(1)?,
            arg(2, "expected volts")?
                .parse()
                .map_err(|_| err("bad volts"))?,
        ),
        "fault" => {
            let code = match arg(2, "expected a fault")? {
                "thermal" => FaultCode::Thermal,
                "foreign-voltage" => FaultCode::ForeignVoltage,
                "ground" => FaultCode::GroundFault,
                other => FaultCode::Internal(
                    other
                        .strip_prefix("internal:")
                        .and_then(|n| n.parse().ok())
                        .ok_or_else(|| {
                            err("fault is thermal, foreign-voltage, ground or internal:N")
                        })?,
                ),
            };
            Step::Fault(port(1)?, code)
        }
        "wait" => Step::Wait(dur(1)?),
        "status" => Step::Status,
        "play" => {
            let what = arg(2, "expected raw:FILE or tone:SPEC")?;
            if let Some(f) = what.strip_prefix("raw:") {
                Step::PlayFile(port(1)?, PathBuf::from(f))
            } else if what.starts_with("tone:") {
                Step::PlayTone(
                    port(1)?,
                    parse_tone(what).ok_or_else(|| err("bad tone"))?,
                    dur(3)?,
                )
            } else {
                return Err(err("play takes raw:FILE or tone:SPEC"));
            }
        }
        "callerid" => Step::SendCallerId(
            port(1)?,
            arg(2, "expected a number")?.to_string(),
            match w.get(3).copied() {
                None | Some("bell") => false,
                Some("v23") => true,
                Some(_) => return Err(err("caller ID modem is bell or v23")),
            },
        ),
        "record" => Step::Record(port(1)?, PathBuf::from(arg(2, "expected a file")?)),
        "expect-ringing" => Step::ExpectRinging(port(1)?, timeout(2)?),
        "expect-rings" => Step::ExpectRings(
            port(1)?,
            arg(2, "expected a ring count")?
                .parse()
                .map_err(|_| err("bad ring count"))?,
            timeout(3)?,
        ),
        "expect-seized" => Step::ExpectSeized(port(1)?, true, timeout(2)?),
        "expect-released" => Step::ExpectSeized(port(1)?, false, timeout(2)?),
        "expect-dialled" => Step::ExpectDialled(
            port(1)?,
            arg(2, "expected digits")?.to_string(),
            timeout(3)?,
        ),
        "expect-callerid-audio" => Step::ExpectCallerIdAudio(
            port(1)?,
            arg(2, "expected a byte count")?
                .parse()
                .map_err(|_| err("bad byte count"))?,
            timeout(3)?,
        ),
        "expect-tone" => Step::ExpectTone(
            port(1)?,
            parse_tone(arg(2, "expected a tone")?).ok_or_else(|| err("bad tone"))?,
            timeout(3)?,
        ),
        "expect-callerid" => Step::ExpectCallerId(
            port(1)?,
            arg(2, "expected a number")?.to_string(),
            timeout(3)?,
        ),
        "expect-cwid" => Step::ExpectCallWaitingId(
            port(1)?,
            arg(2, "expected a number")?.to_string(),
            timeout(3)?,
        ),
        "expect-lamp" => Step::ExpectLamp(port(1)?, on_off(2)?, timeout(3)?),
        "expect-vmwi" => Step::ExpectVmwi(port(1)?, on_off(2)?, timeout(3)?),
        "garbage" => Step::Garbage(
            arg(1, "expected a byte count")?
                .parse()
                .map_err(|_| err("bad byte count"))?,
        ),
        "drop" => Step::DropFrames(
            arg(1, "expected a frame count")?
                .parse()
                .map_err(|_| err("bad frame count"))?,
        ),
        "dup" => Step::DuplicateFrames(
            arg(1, "expected a frame count")?
                .parse()
                .map_err(|_| err("bad frame count"))?,
        ),
        "pause" => Step::Pause(dur(1)?),
        "cable-pull" => Step::CablePull(if w.len() > 1 {
            dur(1)?
        } else {
            Duration::from_millis(300)
        }),
        "quit" | "exit" => Step::Quit,
        other => return Err(err(&format!("unknown step `{other}`"))),
    };
    Ok(Some(step))
}

fn strip_comment(text: &str) -> &str {
    let b = text.as_bytes();
    for (i, &c) in b.iter().enumerate() {
        if c == b'#' && (i == 0 || b[i - 1].is_ascii_whitespace()) {
            return &text[..i];
        }
    }
    text
}

/// Parses a whole script.
pub fn parse_script(text: &str) -> Result<Vec<Step>, ParseError> {
    let mut steps = Vec::new();
    for (i, l) in text.lines().enumerate() {
        if let Some(s) = parse_line(l, i + 1)? {
            steps.push(s);
        }
    }
    Ok(steps)
}

/// Runs steps against a simulated card.
pub struct Runner<'a> {
    pub sim: &'a SimCard,
    pub dsp: Option<&'a dyn Dsp>,
}

/// What a step produced for the user (`status` text, captured values).
pub type StepOutput = Option<String>;

impl Runner<'_> {
    fn phone<R>(
        &self,
        p: PortId,
        f: impl FnOnce(&mut super::Phone, u32) -> R,
    ) -> Result<R, RunError> {
        self.sim
            .with_port(p, |port, now, _| match port {
                SimPort::Fxs(ph) => Some(f(ph, now)),
                SimPort::Fxo(_) => None,
            })
            .flatten()
            .ok_or(RunError::WrongPort(p))
    }

    fn line<R>(
        &self,
        p: PortId,
        f: impl FnOnce(&mut super::Line, u32, &mut Vec<Event>) -> R,
    ) -> Result<R, RunError> {
        self.sim
            .with_port(p, |port, now, out| match port {
                SimPort::Fxo(l) => Some(f(l, now, out)),
                SimPort::Fxs(_) => None,
            })
            .flatten()
            .ok_or(RunError::WrongPort(p))
    }

    fn dsp(&self, step: &Step) -> Result<&dyn Dsp, RunError> {
        self.dsp
            .ok_or_else(|| RunError::NeedsDsp(format!("{step:?}")))
    }

    /// Polls `cond` every 10 ms until it holds or `timeout` passes.
    fn wait_for(
        &self,
        timeout: Duration,
        what: &str,
        mut cond: impl FnMut() -> bool,
    ) -> Result<(), RunError> {
        let end = Instant::now() + timeout;
        loop {
            if cond() {
                return Ok(());
            }
            if Instant::now() >= end {
                return Err(RunError::Timeout(timeout, what.to_string()));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Carries out one step.
    pub fn run(&mut self, step: &Step) -> Result<StepOutput, RunError> {
        let sim = self.sim;
        match step {
            Step::OffHook(p) => self.phone(*p, |ph, now| ph.off_hook(now))?,
            Step::OnHook(p) => self.phone(*p, |ph, now| ph.on_hook(now))?,
            Step::Flash(p) => self.phone(*p, |ph, now| ph.flash(now))?,
            Step::Dial(p, digits, DialMode::Pulse) => {
                let d: Vec<u8> = digits.bytes().map(|b| b - b'0').collect();
                let end = self.phone(*p, |ph, now| ph.pulse_dial(now, &d))?;
                // Return when the phone has finished dialling.
                let left = end.saturating_sub(sim.now_ms());
                std::thread::sleep(Duration::from_millis(u64::from(left)));
            }
            Step::Dial(p, digits, DialMode::Dtmf) => {
                self.phone(*p, |_, _| ())?;
                for c in digits.chars() {
                    if let Some(digit) = Digit::from_char(c) {
                        sim.inject_event(
                            *p,
                            Event::Digit {
                                digit,
                                duration_ms: DTMF_ON_MS,
                            },
                        );
                    }
                    std::thread::sleep(Duration::from_millis(u64::from(DTMF_GAP_MS)));
                }
            }
            Step::Dial(p, digits, DialMode::InBand) => {
                let src = self
                    .dsp(step)?
                    .dtmf(digits)
                    .ok_or_else(|| RunError::NeedsDsp(format!("{step:?}")))?;
                sim.play(*p, src);
                self.wait_for(Duration::from_secs(60), "in-band dialling", || {
                    !sim.is_playing(*p)
                })?;
            }
            Step::AnswerAfter(p, n) => self.phone(*p, |ph, _| ph.answer_after = Some(*n))?,
            Step::Ring(p, c) => self.line(*p, |l, now, out| l.ring(now, c.clone(), out))?,
            Step::StopRing(p) => self.line(*p, |l, _, _| l.stop_ring())?,
            Step::FarAnswer(p) => self.line(*p, |l, _, out| l.far_answer(out))?,
            Step::FarHangup(p) => self.line(*p, |l, _, out| l.far_hangup(out))?,
            Step::BatteryLost(p) => self.line(*p, |l, _, out| l.lose_battery(out))?,
            Step::BatteryRestore(p) => self.line(*p, |l, _, out| l.restore_battery(out))?,
            Step::Voltage(p, v) => {
                self.line(*p, |_, _, out| out.push(Event::LineVoltage { volts: *v }))?
            }
            Step::Fault(p, code) => {
                if sim
                    .with_port(*p, |_, _, out| out.push(Event::Fault { code: *code }))
                    .is_none()
                {
                    return Err(RunError::WrongPort(*p));
                }
            }
            Step::Wait(d) => std::thread::sleep(*d),
            Step::Status => return Ok(Some(sim.status())),
            Step::PlayFile(p, path) => sim.play(*p, Box::new(RawFile::open(path)?)),
            Step::SendCallerId(p, number, v23) => {
                let src = self
                    .dsp(step)?
                    .caller_id(number, *v23)
                    .ok_or_else(|| RunError::NeedsDsp(format!("{step:?}")))?;
                sim.play(*p, src);
                self.wait_for(Duration::from_secs(5), "caller ID sent", || {
                    !sim.is_playing(*p)
                })?;
            }
            Step::PlayTone(p, tone, d) => {
                let src = self
                    .dsp(step)?
                    .tone(tone, *d)
                    .ok_or_else(|| RunError::NeedsDsp(format!("{step:?}")))?;
                sim.play(*p, src);
            }
            Step::Record(p, path) => {
                let s = sim.lock();
                let a = s
                    .audio
                    .get(usize::from(*p))
                    .ok_or(RunError::WrongPort(*p))?;
                let bytes: Vec<u8> = a.recorded.iter().flat_map(|x| x.to_le_bytes()).collect();
                drop(s);
                std::fs::write(path, bytes)?;
            }
            Step::ExpectRinging(p, t) => {
                let p = *p;
                self.phone(p, |_, _| ())?;
                self.wait_for(*t, "ringing", || {
                    self.phone(p, |ph, _| ph.is_ringing()).unwrap_or(false)
                })?
            }
            Step::ExpectRings(p, n, t) => {
                let p = *p;
                self.phone(p, |_, _| ())?;
                self.wait_for(*t, &format!("{n} rings"), || {
                    self.phone(p, |ph, _| ph.rings >= *n).unwrap_or(false)
                })?
            }
            Step::ExpectSeized(p, want, t) => {
                let p = *p;
                self.line(p, |_, _, _| ())?;
                let what = if *want { "seizure" } else { "release" };
                self.wait_for(*t, what, || {
                    self.line(p, |l, _, _| l.seized == *want).unwrap_or(false)
                })?
            }
            Step::ExpectDialled(p, digits, t) => {
                let p = *p;
                self.line(p, |_, _, _| ())?;
                self.wait_for(*t, &format!("dialled {digits}"), || {
                    self.line(p, |l, _, _| l.dialled.ends_with(digits.as_str()))
                        .unwrap_or(false)
                })?
            }
            Step::ExpectCallerIdAudio(p, n, t) => {
                let p = *p;
                self.phone(p, |_, _| ())?;
                self.wait_for(*t, &format!("{n} bytes of caller-ID audio"), || {
                    self.phone(p, |ph, _| ph.caller_id.len() >= *n)
                        .unwrap_or(false)
                })?
            }
            Step::ExpectTone(p, tone, t) => {
                let det = self
                    .dsp(step)?
                    .tone_detector(tone)
                    .ok_or_else(|| RunError::NeedsDsp(format!("{step:?}")))?;
                sim.add_sink(*p, Box::new(DetectorSink(det.clone())));
                self.wait_for(*t, &format!("tone {tone:?}"), || {
                    det.lock().map(|d| d.detected()).unwrap_or(false)
                })?
            }
            Step::ExpectCallerId(p, number, t) => {
                let dsp = self.dsp(step)?;
                let p = *p;
                self.phone(p, |_, _| ())?;
                self.wait_for(*t, &format!("caller ID {number}"), || {
                    let audio = self
                        .phone(p, |ph, _| ph.caller_id.clone())
                        .unwrap_or_default();
                    dsp.decode_caller_id(&audio).as_deref() == Some(number.as_str())
                })?
            }
            Step::ExpectCallWaitingId(p, number, t) => {
                let dsp = self.dsp(step)?;
                let needs = || RunError::NeedsDsp(format!("{step:?}"));
                let cas = dsp
                    .tone_detector(&ToneSpec::Named("cas".into()))
                    .ok_or_else(needs)?;
                let phone = super::cwid::TypeTwoPhone::new(cas, dsp.dtmf("D").ok_or_else(needs)?);
                self.phone(*p, |_, _| ())?;
                sim.add_sink(*p, phone.sink());
                sim.play(*p, phone.source());
                self.wait_for(*t, &format!("caller ID {number} on call waiting"), || {
                    phone.alerted()
                        && dsp.decode_caller_id(&phone.heard()).as_deref() == Some(number.as_str())
                })?
            }
            Step::ExpectLamp(p, on, t) => {
                let p = *p;
                self.phone(p, |_, _| ())?;
                self.wait_for(
                    *t,
                    &format!("lamp {}", if *on { "on" } else { "off" }),
                    || self.phone(p, |ph, _| ph.lamp == *on).unwrap_or(false),
                )?
            }
            Step::ExpectVmwi(p, on, t) => {
                let dsp = self.dsp(step)?;
                let p = *p;
                self.phone(p, |_, _| ())?;
                self.wait_for(*t, &format!("message waiting {on} by FSK"), || {
                    let audio = self
                        .phone(p, |ph, _| ph.caller_id.clone())
                        .unwrap_or_default();
                    dsp.decode_message_waiting(&audio) == Some(*on)
                })?
            }
            Step::Garbage(n) => sim.faults(|f| {
                f.garbage = (0..*n)
                    .map(|i| (i as u32).wrapping_mul(2_654_435_761) as u8 | 1)
                    .collect()
            }),
            Step::DropFrames(n) => sim.faults(|f| f.drop_frames = *n),
            Step::DuplicateFrames(n) => sim.faults(|f| f.duplicate_frames = *n),
            Step::Pause(d) => sim.faults(|f| f.paused_until = Some(Instant::now() + *d)),
            Step::CablePull(d) => sim.faults(|f| f.cable_pull = Some(*d)),
            Step::Quit => {}
        }
        Ok(None)
    }
}

/// Feeds a shared detector from the sim's audio thread.
struct DetectorSink(Arc<Mutex<dyn ToneDetector>>);

impl FrameSink for DetectorSink {
    fn frame(&mut self, f: &crate::audio::Frame) {
        if let Ok(mut d) = self.0.lock() {
            d.frame(f);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_issue_examples() {
        let s = parse_script(
            "offhook 1\ndial 1 2001\nexpect-tone 1 ringback 5s\nplay 1 tone:1000 2s\n\
             expect-tone 1 1000 3s\nonhook 1 # done\n\nwait 500ms\n",
        )
        .unwrap();
        assert_eq!(
            s,
            vec![
                Step::OffHook(1),
                Step::Dial(1, "2001".into(), DialMode::Dtmf),
                Step::ExpectTone(
                    1,
                    ToneSpec::Named("ringback".into()),
                    Duration::from_secs(5)
                ),
                Step::PlayTone(1, ToneSpec::Freqs(vec![1000]), Duration::from_secs(2)),
                Step::ExpectTone(1, ToneSpec::Freqs(vec![1000]), Duration::from_secs(3)),
                Step::OnHook(1),
                Step::Wait(Duration::from_millis(500)),
            ]
        );
        assert!(s[2].needs_dsp() && s[3].needs_dsp() && !s[1].needs_dsp());
        assert_eq!(
            parse_line("dial 0 *7# # feature code", 1).unwrap(),
            Some(Step::Dial(0, "*7#".into(), DialMode::Dtmf))
        );
        assert_eq!(parse_line("  # only a comment", 1).unwrap(), None);
    }

    #[test]
    fn parses_cadences_modes_and_faults() {
        let r = parse_line("ring 2 400ms/200ms,400/2000", 1)
            .unwrap()
            .unwrap();
        match r {
            Step::Ring(2, c) => {
                assert_eq!(c.steps.len(), 2);
                assert_eq!((c.steps[1].on_ms, c.steps[1].off_ms), (400, 2000));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            parse_line("dial 0 350 pulse", 1).unwrap(),
            Some(Step::Dial(0, "350".into(), DialMode::Pulse))
        );
        assert_eq!(
            parse_line("fault 3 internal:9", 1).unwrap(),
            Some(Step::Fault(3, FaultCode::Internal(9)))
        );
        assert_eq!(
            parse_line("expect-tone 0 350+440 1.5s", 1).unwrap(),
            Some(Step::ExpectTone(
                0,
                ToneSpec::Freqs(vec![350, 440]),
                Duration::from_millis(1500)
            ))
        );
    }

    #[test]
    fn errors_name_the_line() {
        let e = parse_script("offhook 1\ndial 1 12x\n").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.what.contains("bad digits"));
        assert_eq!(parse_line("bogus 1", 7).unwrap_err().line, 7);
        assert!(parse_line("dial 1 12# pulse", 1).is_err());
        assert!(parse_line("wait soon", 1).is_err());
        assert!(parse_line("offhook", 1).is_err());
    }
}
