//! What the line's captured audio says, for the port machines: call-progress tones from
//! the exchange (FXO dial-tone wait and far hangup by busy/reorder tone) and whether
//! anything is heard at all (FXO far hangup by silence), and caller ID (FXO, FSK between
//! rings or before the first, or DTMF before the first; a bridge with no remote address
//! listens without sending).

use crate::call::{CallerInfo, ProgressTone};
use tipring_hal::audio::Frame;
use tipring_media::callerid::dtmf_clip::{DtmfClip, DtmfClipReceiver};
use tipring_media::callerid::{
    AlertDetector, CallerIdRepr, Field, FskEvent, FskReceiver, FskStandard,
};
use tipring_media::tone::oscillator::dbm0_amplitude;
use tipring_media::tone::{
    AnswerConfig, AnswerDetector, CountryProfile, ToneDetector, ToneDetectorConfig, ToneEvent,
    ToneKind,
};

/// Energy below this level per frame is silence, dBm0 (RMS of a sine at this level).
pub const ACTIVITY_DBM0: f32 = -45.0;
/// Activity is reported at most once per this many frames (1 s).
const ACTIVITY_EVERY: u32 = 50;

/// Watches the captured line audio.
pub struct LineMonitor {
    tones: ToneDetector,
    fsk: FskReceiver,
    /// DTMF caller ID (sent before the first ring in some networks): listened for on an
    /// FXO line outside a call only.
    clip: Option<DtmfClipReceiver>,
    in_call: bool,
    /// Mean square of a sine at [`ACTIVITY_DBM0`].
    threshold: f64,
    since_activity: u32,
    /// FXO answer detection by voice, where the port wants it.
    answer: Option<AnswerDetector>,
    /// The exchange's dual-tone alert before caller ID, outside a call.
    alert: AlertDetector,
}

/// One observation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineObservation {
    Tone(ProgressTone),
    Activity,
    /// A voice, not a tone: the far party answered.
    Speech,
    CallerId(CallerInfo),
    /// The dual-tone alert (DT-AS) an exchange sends before caller ID on an idle line.
    CallerIdAlert,
}

impl LineMonitor {
    pub fn new(
        profile: &CountryProfile,
        caller_id: FskStandard,
        dtmf_caller_id: bool,
        answer: Option<AnswerConfig>,
    ) -> Self {
        let a = f64::from(dbm0_amplitude(ACTIVITY_DBM0));
        LineMonitor {
            tones: ToneDetector::new(profile, ToneDetectorConfig::default()),
            fsk: FskReceiver::new(caller_id),
            clip: dtmf_caller_id.then(DtmfClipReceiver::default),
            alert: AlertDetector::new(tipring_hal::audio::FRAME_SAMPLES),
            in_call: false,
            threshold: a * a / 2.0,
            since_activity: ACTIVITY_EVERY,
            answer: answer.map(|c| AnswerDetector::new(profile, c)),
        }
    }

    /// Whether a call's media flows (DTMF is then the call's, not caller ID).
    pub fn set_in_call(&mut self, in_call: bool) {
        self.in_call = in_call;
    }

    /// Feeds one captured frame and the frame played to the line meanwhile (its echo is
    /// not a voice); calls `report` for what it shows.
    pub fn frame(&mut self, f: &Frame, played: &Frame, mut report: impl FnMut(LineObservation)) {
        if let Some(a) = &mut self.answer
            && a.frame(f, played)
        {
            report(LineObservation::Speech);
        }
        self.tones.process(f, |e| {
            if let ToneEvent::Detected { kind, .. } = e {
                report(LineObservation::Tone(match kind {
                    ToneKind::Dial => ProgressTone::Dial,
                    ToneKind::Ringback => ProgressTone::Ringback,
                    ToneKind::Busy => ProgressTone::Busy,
                    ToneKind::Congestion => ProgressTone::Reorder,
                    ToneKind::CallWaiting => ProgressTone::CallWaiting,
                    ToneKind::Confirmation => ProgressTone::Confirm,
                }));
            }
        });
        if self.alert.frame(f) && !self.in_call {
            report(LineObservation::CallerIdAlert);
        }
        self.fsk.process(f, |e| {
            if let FskEvent::Message(m) = e
                && let Ok((_, r)) = CallerIdRepr::parse(&m)
            {
                let text = |f: Option<Field>| match f {
                    Some(Field::Present(t)) => Some(String::from_utf8_lossy(t.as_bytes()).into()),
                    _ => None,
                };
                report(LineObservation::CallerId(CallerInfo {
                    name: text(r.name),
                    number: text(r.number),
                }));
            }
        });
        if let Some(clip) = self.clip.as_mut().filter(|_| !self.in_call) {
            clip.process(f, |c| {
                let Ok((_, clip)) = c else {
                    return;
                };
                report(LineObservation::CallerId(CallerInfo {
                    name: None,
                    number: match clip {
                        DtmfClip::Number(t) => Some(String::from_utf8_lossy(t.as_bytes()).into()),
                        DtmfClip::Absent(_) => None,
                    },
                }));
            });
        }
        let ms = f.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / f.len() as f64;
        self.since_activity = self.since_activity.saturating_add(1);
        if ms >= self.threshold && self.since_activity >= ACTIVITY_EVERY {
            self.since_activity = 0;
            report(LineObservation::Activity);
        }
    }
}
