//! `tipring echo-cancel`: runs the line echo canceller over two recordings from a line
//! (what was played to it and what was captured from it, raw s16le 8 kHz mono) and writes
//! the cancelled capture, so an installer can see what the canceller makes of a line's
//! echo before putting the box into service. Prints the ERLE it reached.

use clap::Args as ClapArgs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use tipring_media::echo::{BLOCK, EchoCanceller, EchoConfig, TAIL_MS_DEFAULT};

#[derive(Debug, ClapArgs)]
pub struct Args {
    /// What was played to the line (the far talker), raw s16le 8 kHz mono.
    #[arg(long)]
    pub far: PathBuf,
    /// What was captured from the line over the same time (its echo, and any near talk).
    #[arg(long)]
    pub near: PathBuf,
    /// Where the cancelled capture is written (raw s16le 8 kHz mono).
    #[arg(long)]
    pub out: PathBuf,
    /// The canceller's tail, ms (16..=128).
    #[arg(long, default_value_t = TAIL_MS_DEFAULT)]
    pub tail_ms: u16,
    /// Leave the non-linear processor and comfort noise off (the ERLE of the filter
    /// alone).
    #[arg(long)]
    pub no_nlp: bool,
}

fn read(path: &Path) -> Result<Vec<i16>, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if bytes.len() % 2 != 0 {
        return Err(format!(
            "{} has an odd length ({} bytes) for s16 samples",
            path.display(),
            bytes.len()
        ));
    }
    Ok(bytes
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect())
}

impl Args {
    pub fn run(self) -> ExitCode {
        match self.cancel() {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("echo-cancel: {e}");
                ExitCode::FAILURE
            }
        }
    }

    fn cancel(&self) -> Result<(), String> {
        let config = EchoConfig {
            tail_ms: self.tail_ms,
            nlp: !self.no_nlp,
        };
        let mut ec = EchoCanceller::new(config).map_err(|e| e.to_string())?;
        let far = read(&self.far)?;
        let mut near = read(&self.near)?;
        if far.len() != near.len() {
            eprintln!(
                "echo-cancel: {} has {} samples and {} has {}: the shorter length is used",
                self.far.display(),
                far.len(),
                self.near.display(),
                near.len()
            );
        }
        let n = far.len().min(near.len()) / BLOCK * BLOCK;
        near.truncate(n);
        let input_power = power(&near);
        ec.process(&far[..n], &mut near);
        let bytes: Vec<u8> = near.iter().flat_map(|s| s.to_le_bytes()).collect();
        std::fs::write(&self.out, bytes)
            .map_err(|e| format!("cannot write {}: {e}", self.out.display()))?;
        let s = ec.stats();
        println!(
            "{:.1} s, tail {} ms, NLP {}",
            n as f64 / 8000.0,
            config.tail_ms,
            if config.nlp { "on" } else { "off" }
        );
        println!("ERLE reached (filter, far talk only): {:.1} dB", s.erle_db);
        println!(
            "capture to output over the whole file: {:.1} dB",
            10.0 * (input_power / power(&near).max(1e-9)).log10()
        );
        println!(
            "blocks of 10 ms: {} in all, {} double talk, {} suppressed by the NLP, {} passed \
             through for a modem or fax answer tone",
            s.blocks, s.double_talk, s.suppressed, s.bypassed
        );
        Ok(())
    }
}

fn power(x: &[i16]) -> f64 {
    x.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>() / x.len().max(1) as f64
}
