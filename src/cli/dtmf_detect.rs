//! `tipring dtmf-detect`: DTMF digits in a raw 8 kHz mono recording, one line per digit
//! with its start time and duration.

use super::audio_file::{Format, load};
use clap::Args as ClapArgs;
use std::path::PathBuf;
use std::process::ExitCode;
use tipring_media::dtmf::{DtmfDetector, DtmfEvent};

#[derive(Debug, ClapArgs)]
pub struct Args {
    /// Sample encoding of FILE.
    #[arg(long, value_enum, default_value = "s16")]
    pub format: Format,
    /// Raw 8 kHz mono audio.
    pub file: PathBuf,
}

impl Args {
    pub fn run(self) -> ExitCode {
        let pcm = match load(&self.file, self.format) {
            Ok(p) => p,
            Err(e) => {
                eprintln!("dtmf-detect: {e}");
                return ExitCode::FAILURE;
            }
        };
        let mut det = DtmfDetector::default();
        let print = |e: DtmfEvent| {
            if let DtmfEvent::End {
                digit,
                start,
                duration,
            } = e
            {
                println!(
                    "{digit} start={:.3}s duration={:.3}s",
                    start as f64 / 8000.0,
                    duration as f64 / 8000.0
                );
            }
        };
        for frame in pcm.chunks(160) {
            det.process(frame, print);
        }
        det.flush(print);
        ExitCode::SUCCESS
    }
}
