//! `tipring tone`: writes a call-progress tone of a country to a raw s16le 8 kHz file.

use clap::Args as ClapArgs;
use std::path::PathBuf;
use std::process::ExitCode;
use tipring_media::tone::{Country, CountryProfile, ToneGenerator, ToneKind};

#[derive(Debug, ClapArgs)]
pub struct Args {
    /// Output file (raw signed 16-bit little-endian, 8 kHz mono).
    pub file: PathBuf,
    /// Country tone plan: US, UK, DE, FR, IT, AU, JP.
    #[arg(long, default_value = "US")]
    pub country: String,
    /// dial, ringback, busy, congestion (reorder) or callwaiting.
    #[arg(long, default_value = "dial")]
    pub tone: String,
    /// Length in seconds.
    #[arg(long, default_value_t = 5.0)]
    pub secs: f64,
}

impl Args {
    pub fn run(self) -> ExitCode {
        let (country, kind) = match (Country::parse(&self.country), ToneKind::parse(&self.tone)) {
            (Ok(c), Ok(k)) => (c, k),
            (Err(e), _) | (_, Err(e)) => {
                eprintln!("tone: {e}");
                return ExitCode::FAILURE;
            }
        };
        if !(self.secs.is_finite() && self.secs > 0.0 && self.secs <= 3600.0) {
            eprintln!("tone: --secs must be in (0, 3600], got {}", self.secs);
            return ExitCode::FAILURE;
        }
        let profile = CountryProfile::builtin(country);
        let mut pcm = vec![0i16; (self.secs * 8000.0).round() as usize];
        ToneGenerator::new(profile.tone(kind)).fill(&mut pcm);
        let bytes: Vec<u8> = pcm.iter().flat_map(|s| s.to_le_bytes()).collect();
        if let Err(e) = std::fs::write(&self.file, bytes) {
            eprintln!("tone: cannot write {}: {e}", self.file.display());
            return ExitCode::FAILURE;
        }
        ExitCode::SUCCESS
    }
}
