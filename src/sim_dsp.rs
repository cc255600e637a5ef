//! The simulated card's signal processing, from the media crate: the scenario runner's
//! [`Dsp`] (in-band DTMF dialling, tones to play, tone detectors, caller-ID decoding), so
//! `tipring sim-card` scripts can dial in-band, play and expect tones, caller ID and the
//! message-waiting indication.

use std::sync::{Arc, Mutex};
use std::time::Duration;
use tipring_hal::audio::{FRAME_SAMPLES, Frame};
use tipring_hal::sim::FrameSource;
use tipring_hal::sim::scenario::{Dsp, ToneDetector as SimToneDetector, ToneSpec as SimTone};
use tipring_media::callerid::{
    AlertDetector, CallerIdRepr, Field, FskEvent, FskReceiver, FskStandard, Message,
    message_waiting,
};
use tipring_media::dtmf::{DtmfGenerator, DtmfParams};
use tipring_media::goertzel::energy;
use tipring_media::tone::{
    CountryProfile, ToneDetector, ToneDetectorConfig, ToneEvent, ToneGenerator, ToneKind, ToneSpec,
};

/// Level of a tone given by frequencies (`play 0 tone:1000 2s`), dBm0 per component.
pub const TEST_TONE_DBM0: f32 = -10.0;

/// The media crate's DSP for one country's tone plan.
#[derive(Debug, Clone, Copy)]
pub struct MediaDsp {
    pub profile: CountryProfile,
}

impl MediaDsp {
    pub fn new(profile: CountryProfile) -> Self {
        MediaDsp { profile }
    }

    fn kind(name: &str) -> Option<ToneKind> {
        ToneKind::parse(name).ok()
    }
}

/// Plays a tone generator for a number of frames.
struct TimedTone {
    tone: ToneGenerator,
    frames_left: u64,
}

impl FrameSource for TimedTone {
    fn fill(&mut self, out: &mut Frame) -> bool {
        if self.frames_left == 0 {
            return false;
        }
        self.frames_left -= 1;
        self.tone.fill(out);
        true
    }
}

/// Plays queued DTMF digits until the queue is empty.
struct DtmfSource(DtmfGenerator);

impl FrameSource for DtmfSource {
    fn fill(&mut self, out: &mut Frame) -> bool {
        if self.0.is_idle() {
            return false;
        }
        self.0.fill(out);
        true
    }
}

/// Plays an FSK caller-ID burst once.
struct FskSource(tipring_media::callerid::FskTransmitter);

impl FrameSource for FskSource {
    fn fill(&mut self, out: &mut Frame) -> bool {
        if self.0.is_done() {
            return false;
        }
        let n = self.0.fill(out);
        out[n..].fill(0);
        true
    }
}

/// A named call-progress tone, recognised with its cadence by the media detector.
struct NamedDetector {
    det: ToneDetector,
    kind: ToneKind,
    seen: bool,
}

impl SimToneDetector for NamedDetector {
    fn frame(&mut self, f: &Frame) {
        let (kind, seen) = (self.kind, &mut self.seen);
        self.det.process(f, |e| {
            if let ToneEvent::Detected { kind: k, .. } = e
                && k == kind
            {
                *seen = true;
            }
        });
    }
    fn detected(&self) -> bool {
        self.seen
    }
}

/// The CPE alerting signal of caller ID on call waiting, recognised as the media crate
/// recognises the exchange's dual-tone alert.
struct CasDetector {
    det: AlertDetector,
    seen: bool,
}

impl SimToneDetector for CasDetector {
    fn frame(&mut self, f: &Frame) {
        self.seen |= self.det.frame(f);
    }
    fn detected(&self) -> bool {
        self.seen
    }
}

/// Tones given by frequency: Goertzel energy at each frequency, held for
/// [`FreqDetector::HOLD_FRAMES`] frames with most of the frame's power in them.
struct FreqDetector {
    freqs: Vec<f32>,
    /// Minimum energy of each component in a frame (a -40 dBm0 sine).
    min_energy: f32,
    run: u32,
    seen: bool,
}

impl FreqDetector {
    const HOLD_FRAMES: u32 = 5;
    const MIN_SHARE: f32 = 0.6;

    fn new(freqs: &[u32]) -> Self {
        let freqs = freqs.iter().map(|&f| f as f32).collect();
        // A sine of amplitude A over N samples has Goertzel energy about (A N / 2)^2.
        let a = tipring_media::tone::oscillator::dbm0_amplitude(-40.0);
        let n = FRAME_SAMPLES as f32;
        FreqDetector {
            freqs,
            min_energy: (a * n / 2.0).powi(2),
            run: 0,
            seen: false,
        }
    }
}

impl SimToneDetector for FreqDetector {
    fn frame(&mut self, f: &Frame) {
        let n = f.len() as f32;
        let total: f32 = f.iter().map(|&v| f32::from(v).powi(2)).sum();
        let mut ok = total > 0.0;
        let mut tone_power = 0.0;
        for &hz in &self.freqs {
            let e = energy(hz, f);
            ok &= e >= self.min_energy;
            // The sine's sum of squares over the frame, A^2 N / 2, is 2 e / N.
            tone_power += 2.0 * e / n;
        }
        ok &= tone_power >= Self::MIN_SHARE * total;
        self.run = if ok { self.run + 1 } else { 0 };
        self.seen |= self.run >= Self::HOLD_FRAMES;
    }
    fn detected(&self) -> bool {
        self.seen
    }
}

impl Dsp for MediaDsp {
    fn tone(&self, tone: &SimTone, duration: Duration) -> Option<Box<dyn FrameSource>> {
        let spec = match tone {
            SimTone::Named(n) => *self.profile.tone(Self::kind(n)?),
            SimTone::Freqs(f) => {
                let f: Vec<f32> = f.iter().map(|&x| x as f32).collect();
                ToneSpec::new(&f, TEST_TONE_DBM0, &[]).ok()?
            }
        };
        Some(Box::new(TimedTone {
            tone: ToneGenerator::new(&spec),
            frames_left: (duration.as_millis() / 20) as u64,
        }))
    }

    fn dtmf(&self, digits: &str) -> Option<Box<dyn FrameSource>> {
        let mut g = DtmfGenerator::new(DtmfParams::default());
        g.push_str(digits).ok()?;
        Some(Box::new(DtmfSource(g)))
    }

    fn tone_detector(&self, tone: &SimTone) -> Option<Arc<Mutex<dyn SimToneDetector>>> {
        match tone {
            SimTone::Named(n) if n == "cas" => Some(Arc::new(Mutex::new(CasDetector {
                det: AlertDetector::new(FRAME_SAMPLES),
                seen: false,
            }))),
            SimTone::Named(n) => {
                let kind = Self::kind(n)?;
                let det = ToneDetector::new(&self.profile, ToneDetectorConfig::default());
                Some(Arc::new(Mutex::new(NamedDetector {
                    det,
                    kind,
                    seen: false,
                })))
            }
            SimTone::Freqs(f) if !f.is_empty() && f.iter().all(|&x| (50..=3400).contains(&x)) => {
                Some(Arc::new(Mutex::new(FreqDetector::new(f))))
            }
            SimTone::Freqs(_) => None,
        }
    }

    fn caller_id(&self, number: &str, v23: bool) -> Option<Box<dyn FrameSource>> {
        let info = crate::call::CallerInfo {
            name: None,
            number: Some(number.to_owned()),
        };
        let standard = if v23 {
            FskStandard::V23
        } else {
            FskStandard::Bell202
        };
        let burst = crate::call::caller_id::fsk_burst(&info, standard).ok()?;
        Some(Box::new(FskSource(burst)))
    }

    fn decode_caller_id(&self, audio: &[u8]) -> Option<String> {
        last_fsk(audio, |m| match CallerIdRepr::parse(m) {
            Ok((_, repr)) => match repr.number {
                Some(Field::Present(t)) => Some(String::from_utf8_lossy(t.as_bytes()).into_owned()),
                _ => None,
            },
            Err(_) => None,
        })
    }

    fn decode_message_waiting(&self, audio: &[u8]) -> Option<bool> {
        last_fsk(audio, message_waiting)
    }
}

/// What `read` makes of the last FSK message in S16_LE `audio` it reads anything from,
/// trying Bell 202 then V.23.
fn last_fsk<T>(audio: &[u8], read: impl Fn(&Message<'_>) -> Option<T>) -> Option<T> {
    let samples: Vec<i16> = audio
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect();
    [FskStandard::Bell202, FskStandard::V23]
        .into_iter()
        .find_map(|std| {
            let mut rx = FskReceiver::new(std);
            let mut last = None;
            rx.process(&samples, |e| {
                if let FskEvent::Message(m) = e
                    && let Some(v) = read(&m)
                {
                    last = Some(v);
                }
            });
            last
        })
}

#[cfg(test)]
mod tests;
