//! What several of these tests share: speech from espeak-ng (resampled by sox), the
//! spandsp harness (tests/spandsp/harness.c) compiled for the run (by testkit), and a G.711
//! round trip. The first two need Debian packages the CI installs: espeak-ng, sox,
//! libspandsp-dev, pkg-config, a C compiler.

#![allow(dead_code, unused_imports)]

use std::path::Path;
use std::process::Command;

/// Whether `tool --version` runs.
pub fn have(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// `text` spoken by espeak-ng with `args` (voice, speed, pitch…), as 8 kHz mono samples
/// normalised to peaks at `peak_db` dBFS. `name` keeps the files of several calls apart.
pub fn espeak(dir: &Path, name: &str, args: &[&str], text: &str, peak_db: i32) -> Vec<i16> {
    assert!(
        have("espeak-ng") && have("sox"),
        "this test needs espeak-ng and sox: \
         apt-get install -y --no-install-recommends espeak-ng sox"
    );
    let wav = dir.join(format!("{name}.wav"));
    let raw = dir.join(format!("{name}.raw"));
    let st = Command::new("espeak-ng")
        .args(args)
        .arg("-w")
        .arg(&wav)
        .arg(text)
        .status()
        .expect("run espeak-ng");
    assert!(st.success(), "espeak-ng {args:?} failed");
    let st = Command::new("sox")
        .arg(&wav)
        .args([
            "-r",
            "8000",
            "-c",
            "1",
            "-b",
            "16",
            "-e",
            "signed-integer",
            "-t",
            "raw",
        ])
        .arg(&raw)
        .args(["gain", "-n", &peak_db.to_string()])
        .status()
        .expect("run sox");
    assert!(st.success(), "sox failed");
    read_raw(&raw)
}

/// Raw s16le samples of `path`.
pub fn read_raw(path: &Path) -> Vec<i16> {
    std::fs::read(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect()
}

/// Writes `pcm` as raw s16le to `path`.
pub fn write_raw(path: &Path, pcm: &[i16]) {
    let bytes: Vec<u8> = pcm.iter().flat_map(|s| s.to_le_bytes()).collect();
    std::fs::write(path, bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

pub use testkit::fax::spandsp_harness;

/// `pcm` encoded with `law` and decoded again (what a G.711 call leaves of it).
pub fn through(pcm: &[i16], law: tipring_media::g711::Law) -> Vec<i16> {
    let mut codes = vec![0u8; pcm.len()];
    law.encode(pcm, &mut codes);
    let mut back = vec![0i16; pcm.len()];
    law.decode(&codes, &mut back);
    back
}
