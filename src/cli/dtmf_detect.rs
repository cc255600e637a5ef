//! `tipring dtmf-detect`: DTMF digits in a raw 8 kHz mono recording, one line per digit
//! with its start time and duration.

use clap::{Args as ClapArgs, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;
use tipring_media::dtmf::{DtmfDetector, DtmfEvent};
use tipring_media::g711::Law;

/// Sample encoding of the input file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Signed 16-bit little-endian linear.
    S16,
    /// G.711 µ-law, one byte per sample.
    Ulaw,
    /// G.711 A-law, one byte per sample.
    Alaw,
}

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
        let bytes = match std::fs::read(&self.file) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("dtmf-detect: cannot read {}: {e}", self.file.display());
                return ExitCode::FAILURE;
            }
        };
        let pcm: Vec<i16> = match self.format {
            Format::S16 => {
                if bytes.len() % 2 != 0 {
                    eprintln!(
                        "dtmf-detect: {} has an odd length ({} bytes) for s16 samples",
                        self.file.display(),
                        bytes.len()
                    );
                    return ExitCode::FAILURE;
                }
                bytes
                    .chunks_exact(2)
                    .map(|b| i16::from_le_bytes([b[0], b[1]]))
                    .collect()
            }
            Format::Ulaw | Format::Alaw => {
                let law = if self.format == Format::Ulaw {
                    Law::Ulaw
                } else {
                    Law::Alaw
                };
                let mut out = vec![0i16; bytes.len()];
                law.decode(&bytes, &mut out);
                out
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
