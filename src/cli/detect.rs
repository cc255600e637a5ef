//! `tipring detect`: every signal found in a raw 8 kHz mono recording of a line — DTMF
//! digits, the fax and modem signals (CNG, CED/ANS, ANSam, phase reversals, V.21 flags)
//! and the country's call-progress tones (dial, ringback, busy, reorder) — one line each,
//! in time order: start (s), duration (s, `-` for an instant), what.
//!
//! DTMF and fax/modem signals are timed from their own start; a call-progress tone from the
//! moment its cadence was recognised (one or two periods into it).

use super::audio_file::{Format, load};
use clap::Args as ClapArgs;
use std::path::PathBuf;
use std::process::ExitCode;
use tipring_media::dtmf::{DtmfDetector, DtmfEvent};
use tipring_media::modem::{ModemEvent, ModemToneDetector};
use tipring_media::tone::{
    Country, CountryProfile, ToneDetector, ToneDetectorConfig, ToneEvent, ToneKind,
};

#[derive(Debug, ClapArgs)]
pub struct Args {
    /// Sample encoding of FILE.
    #[arg(long, value_enum, default_value = "s16")]
    pub format: Format,
    /// Country whose call-progress tones are looked for: US, UK, DE, FR, IT, AU, JP.
    #[arg(long, default_value = "US")]
    pub country: String,
    /// Raw 8 kHz mono audio.
    pub file: PathBuf,
}

/// One line of the report: start and length in samples (`None`: an instant), and what.
type Found = (u64, Option<u64>, String);

fn tone_name(k: ToneKind) -> &'static str {
    match k {
        ToneKind::Dial => "dial tone",
        ToneKind::Ringback => "ringback",
        ToneKind::Busy => "busy",
        ToneKind::Congestion => "reorder",
        ToneKind::CallWaiting => "call waiting",
        ToneKind::Confirmation => "confirmation / stutter dial tone",
    }
}

impl Args {
    pub fn run(self) -> ExitCode {
        match self.detect() {
            Ok(found) => {
                for (start, len, what) in found {
                    let len = len.map_or("-".to_string(), |l| format!("{:.3}", l as f64 / 8000.0));
                    println!("{:.3} {len} {what}", start as f64 / 8000.0);
                }
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("detect: {e}");
                ExitCode::FAILURE
            }
        }
    }

    fn detect(&self) -> Result<Vec<Found>, String> {
        let country = Country::parse(&self.country).map_err(|e| e.to_string())?;
        let pcm = load(&self.file, self.format)?;
        let mut found: Vec<Found> = Vec::new();
        let mut dtmf = DtmfDetector::default();
        let mut modem = ModemToneDetector::new();
        let mut tones = ToneDetector::new(
            &CountryProfile::builtin(country),
            ToneDetectorConfig::default(),
        );
        let mut progress: Vec<(ToneKind, u64)> = Vec::new();
        let on_dtmf = |e: DtmfEvent, found: &mut Vec<Found>| {
            if let DtmfEvent::End {
                digit,
                start,
                duration,
            } = e
            {
                found.push((start, Some(duration), format!("DTMF {digit}")));
            }
        };
        for frame in pcm.chunks(160) {
            dtmf.process(frame, |e| on_dtmf(e, &mut found));
            modem.process(frame, |e| match e {
                ModemEvent::End {
                    tone,
                    start,
                    duration,
                } => found.push((start, Some(duration), tone.name().to_string())),
                ModemEvent::PhaseReversal { at } => {
                    found.push((at, None, "phase reversal".to_string()))
                }
                ModemEvent::Start { .. } => {}
            });
            tones.process(frame, |e| match e {
                ToneEvent::Detected { kind, at_ms } => progress.push((kind, at_ms * 8)),
                ToneEvent::Ended { kind, at_ms } => {
                    if let Some(i) = progress.iter().position(|(k, _)| *k == kind) {
                        let (_, from) = progress.remove(i);
                        let len = (at_ms * 8).saturating_sub(from);
                        found.push((from, Some(len), tone_name(kind).to_string()));
                    }
                }
            });
        }
        dtmf.flush(|e| on_dtmf(e, &mut found));
        modem.finish(|e| {
            if let ModemEvent::End {
                tone,
                start,
                duration,
            } = e
            {
                found.push((
                    start,
                    Some(duration),
                    format!("{} (to the end)", tone.name()),
                ));
            }
        });
        // What was still going on when the recording ended.
        let end = pcm.len() as u64;
        for (kind, from) in progress {
            found.push((
                from,
                Some(end - from),
                format!("{} (to the end)", tone_name(kind)),
            ));
        }
        found.sort_by_key(|f| f.0);
        Ok(found)
    }
}
