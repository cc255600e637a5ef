//! A raw 8 kHz mono recording given on the command line, in one of the encodings a line's
//! audio comes in: 16-bit linear, or G.711 as captured from RTP.

use clap::ValueEnum;
use std::path::Path;
use tipring_media::g711::Law;

/// Sample encoding of an input file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Signed 16-bit little-endian linear.
    S16,
    /// G.711 µ-law, one byte per sample.
    Ulaw,
    /// G.711 A-law, one byte per sample.
    Alaw,
}

/// The samples of `path` in `format`, or what is wrong with it.
pub fn load(path: &Path, format: Format) -> Result<Vec<i16>, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let law = match format {
        Format::S16 => {
            if bytes.len() % 2 != 0 {
                return Err(format!(
                    "{} has an odd length ({} bytes) for s16 samples",
                    path.display(),
                    bytes.len()
                ));
            }
            return Ok(bytes
                .chunks_exact(2)
                .map(|b| i16::from_le_bytes([b[0], b[1]]))
                .collect());
        }
        Format::Ulaw => Law::Ulaw,
        Format::Alaw => Law::Alaw,
    };
    let mut out = vec![0i16; bytes.len()];
    law.decode(&bytes, &mut out);
    Ok(out)
}
