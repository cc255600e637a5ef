//! G.168's way of measuring a line echo canceller, shared by `tests/echo_g168.rs` (the
//! goals, asserted) and `benches/echo.rs` (the table and the CPU figures).
//!
//! - Echo paths: the dispersive impulse responses of ITU-T G.168 Annex D (models D.2 to
//!   D.9), read at run time from Debian's `libspandsp-dev`
//!   (`/usr/include/spandsp/g168models.h`, which carries the ITU's coefficients), each
//!   after a bulk delay and scaled to a chosen echo return loss over the test signal.
//! - Signals: speech by `espeak-ng`, resampled to 8 kHz by `sox` (one voice for the far
//!   talker, another for the near talker of the double-talk phase).
//! - One run per path: far speech alone (convergence), then both talking (double talk),
//!   far alone again (no divergence?), then the path switched to the next model (path
//!   change). ERLE is measured per 100 ms window of far speech as the echo's power over
//!   the power of what is left of it (the output minus the near talker's speech).

#![allow(dead_code)]

use crate::common;
use std::path::Path;
use std::process::Command;

/// Sample rate.
pub const RATE: usize = 8000;
/// The echo return loss the paths are scaled to (G.168's hardest: 6 dB).
pub const ERL_DB: f64 = 6.0;
/// Bulk delay before each model's response: 10 ms.
pub const DELAY: usize = 80;
/// Phases of a run, in seconds: convergence until `DT.0`, double talk until `DT.1`,
/// far alone until `CHANGE`, then the other path until `END`.
pub const DT: (f64, f64) = (12.0, 17.0);
pub const CHANGE: f64 = 22.0;
pub const END: f64 = 30.0;
/// ERLE window: 100 ms.
pub const WINDOW: usize = RATE / 10;
/// ERLE figures are capped here (beyond it the measurement is the signal's rounding).
pub const CAP_DB: f64 = 60.0;

/// One of G.168's echo path models.
#[derive(Debug, Clone)]
pub struct Model {
    pub name: String,
    pub taps: Vec<f64>,
}

/// The G.168 Annex D models from spandsp's header, or why they are not there.
pub fn models() -> Result<Vec<Model>, String> {
    let path = "/usr/include/spandsp/g168models.h";
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("{path}: {e} (install libspandsp-dev)"))?;
    let mut out = Vec::new();
    let mut rest = text.as_str();
    while let Some(at) = rest.find("const int32_t line_model_") {
        rest = &rest[at + "const int32_t line_model_".len()..];
        let name = rest.split('_').next().unwrap_or_default().to_uppercase();
        let open = rest.find('{').ok_or("no {")?;
        let close = rest.find('}').ok_or("no }")?;
        let taps: Vec<f64> = rest[open + 1..close]
            .split(',')
            .filter_map(|v| v.trim().parse::<i32>().ok())
            .map(f64::from)
            .collect();
        rest = &rest[close..];
        out.push(Model { name, taps });
    }
    if out.len() < 8 {
        return Err(format!("{path}: only {} models found", out.len()));
    }
    Ok(out)
}

/// `text` spoken by espeak-ng's `voice` at 8 kHz, peaks at -6 dBFS.
pub fn speech(dir: &Path, voice: &str, text: &str) -> Vec<i16> {
    common::espeak(dir, voice, &["-v", voice, "-s", "150"], text, -6)
}

/// `pcm` repeated to `seconds`.
pub fn looped(pcm: &[i16], seconds: f64) -> Vec<i16> {
    let n = (seconds * RATE as f64) as usize;
    pcm.iter().copied().cycle().take(n).collect()
}

/// The test signals of one run.
pub struct Run {
    pub model: String,
    pub next: String,
    pub far: Vec<i16>,
    /// The echo alone (of `model`, then of `next` after the change).
    pub echo: Vec<f64>,
    /// The near talker alone (double-talk phase only).
    pub talker: Vec<f64>,
    /// What the line gives the canceller: echo plus near talker.
    pub near: Vec<i16>,
}

fn convolve(x: &[i16], h: &[f64], out: &mut [f64], from: usize, to: usize) {
    for n in from..to {
        let mut acc = 0.0;
        for (k, c) in h.iter().enumerate() {
            if n >= k {
                acc += c * f64::from(x[n - k]);
            }
        }
        out[n] = acc;
    }
}

/// A path: the delay, then the model scaled to [`ERL_DB`] over `far`.
fn path(m: &Model, far: &[i16]) -> Vec<f64> {
    let mut h = vec![0.0; DELAY];
    h.extend(&m.taps);
    let mut e = vec![0.0; far.len()];
    convolve(far, &h, &mut e, 0, far.len());
    let pf: f64 = far.iter().map(|&v| f64::from(v).powi(2)).sum();
    let pe: f64 = e.iter().map(|v| v * v).sum();
    let g = (pf / pe / 10f64.powf(ERL_DB / 10.0)).sqrt();
    h.iter().map(|c| c * g).collect()
}

impl Run {
    /// The run of `model`, changing to `next`, with `far` and `near_talk` speech.
    pub fn new(model: &Model, next: &Model, far: &[i16], near_talk: &[i16]) -> Run {
        let far = looped(far, END);
        let n = far.len();
        let at = |s: f64| (s * RATE as f64) as usize;
        let mut echo = vec![0.0; n];
        convolve(&far, &path(model, &far), &mut echo, 0, at(CHANGE));
        convolve(&far, &path(next, &far), &mut echo, at(CHANGE), n);
        let mut talker = vec![0.0; n];
        for (i, t) in talker[at(DT.0)..at(DT.1)].iter_mut().enumerate() {
            *t = f64::from(near_talk[i % near_talk.len()]);
        }
        let near = echo
            .iter()
            .zip(&talker)
            .map(|(e, t)| (e + t).round().clamp(-32768.0, 32767.0) as i16)
            .collect();
        Run {
            model: model.name.clone(),
            next: next.name.clone(),
            far,
            echo,
            talker,
            near,
        }
    }

    /// The figures of a canceller's output `out` for this run.
    pub fn measure(&self, out: &[i16]) -> Figures {
        // Windows with far speech: the echo at least at -45 dBm0-ish.
        let mut erle = Vec::new();
        for (w, chunk) in self.echo.chunks(WINDOW).enumerate() {
            let from = w * WINDOW;
            let pe: f64 = chunk.iter().map(|v| v * v).sum::<f64>() / WINDOW as f64;
            if pe < 30.0 * 30.0 || from + WINDOW > out.len() {
                continue;
            }
            let pr: f64 = (from..from + WINDOW)
                .map(|i| (f64::from(out[i]) - self.talker[i]).powi(2))
                .sum::<f64>()
                / WINDOW as f64;
            let db = (10.0 * (pe / pr.max(1e-3)).log10()).min(CAP_DB);
            erle.push((from as f64 / RATE as f64, db));
        }
        // Timed from the first window of far speech at or after `after`.
        let reach = |db: f64, after: f64| {
            let w: Vec<_> = erle.iter().filter(|(t, _)| *t >= after).collect();
            let start = w.first()?.0;
            w.windows(3)
                .find(|s| s.iter().all(|(_, e)| *e >= db))
                .map(|s| s[0].0 - start)
        };
        let median = |from: f64, to: f64| {
            let mut v: Vec<f64> = erle
                .iter()
                .filter(|(t, _)| *t >= from && *t < to)
                .map(|(_, e)| *e)
                .collect();
            v.sort_by(f64::total_cmp);
            v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
        };
        Figures {
            to_20db: reach(20.0, 0.0),
            to_30db: reach(30.0, 0.0),
            steady: median(DT.0 - 4.0, DT.0),
            during_dt: median(DT.0, DT.1),
            after_dt: median(DT.1, DT.1 + 2.0),
            change_to_20db: reach(20.0, CHANGE),
            worst_after_dt: erle
                .iter()
                .filter(|(t, _)| *t >= DT.1 + 0.3 && *t < CHANGE)
                .map(|(_, e)| *e)
                .fold(f64::INFINITY, f64::min),
        }
    }
}

impl Run {
    /// How well the near talker came through during double talk: over 100 ms windows of
    /// near speech, the talker's power over the power of what differs from it in the
    /// output (clipping by an NLP shows as a low figure), dB; the figure nine windows in
    /// ten reach (the 10th percentile).
    pub fn near_kept(&self, out: &[i16]) -> f64 {
        let at = |s: f64| (s * RATE as f64) as usize;
        let mut v: Vec<f64> = (at(DT.0)..at(DT.1))
            .step_by(WINDOW)
            .filter_map(|from| {
                let w = from..(from + WINDOW).min(out.len());
                let pt: f64 = w.clone().map(|i| self.talker[i].powi(2)).sum::<f64>();
                let pd: f64 = w
                    .map(|i| (f64::from(out[i]) - self.talker[i]).powi(2))
                    .sum::<f64>();
                (pt / WINDOW as f64 > 300.0 * 300.0)
                    .then(|| (10.0 * (pt / pd.max(1e-3)).log10()).min(CAP_DB))
            })
            .collect();
        v.sort_by(f64::total_cmp);
        v.get(v.len() / 10).copied().unwrap_or(f64::NAN)
    }
}

/// What one canceller did on one run.
#[derive(Debug, Clone, Copy)]
pub struct Figures {
    /// Seconds until ERLE stayed ≥ 20 dB (three windows), from the first far speech.
    pub to_20db: Option<f64>,
    /// Seconds until ERLE stayed ≥ 30 dB.
    pub to_30db: Option<f64>,
    /// Median ERLE over the 4 s before double talk.
    pub steady: f64,
    /// Median ERLE of the echo during double talk (the near talker subtracted).
    pub during_dt: f64,
    /// Median ERLE in the 2 s after double talk.
    pub after_dt: f64,
    /// The lowest window after double talk (from 0.3 s after it) until the change.
    pub worst_after_dt: f64,
    /// Seconds from the path change (the first far speech after it) until ERLE stayed
    /// ≥ 20 dB again.
    pub change_to_20db: Option<f64>,
}

fn secs(s: Option<f64>) -> String {
    s.map_or("never".into(), |s| format!("{s:.1} s"))
}

impl Figures {
    /// One table row.
    pub fn row(&self, canceller: &str, run: &Run) -> String {
        format!(
            "| {} → {} | {canceller} | {} | {} | {:.1} | {:.1} | {:.1} | {} |",
            run.model,
            run.next,
            secs(self.to_20db),
            secs(self.to_30db),
            self.steady,
            self.during_dt,
            self.after_dt,
            secs(self.change_to_20db),
        )
    }
}

/// The table's header.
pub const HEADER: &str = "| path (then) | canceller | to 20 dB | to 30 dB | steady ERLE dB | ERLE in double talk dB | after double talk dB | path change to 20 dB |\n|---|---|---|---|---|---|---|---|";

/// spandsp's adaption modes: adaptation only, and with its high-pass filters.
pub const SPANDSP_ADAPT: &str = "0x01";
pub const SPANDSP_ADAPT_HPF: &str = "0x61";

/// spandsp's `echo_can` of `taps` in `mode` over `run`: its output and its ns per 160
/// samples.
pub fn spandsp(harness: &Path, dir: &Path, taps: usize, mode: &str, run: &Run) -> (Vec<i16>, f64) {
    let (far, near, out) = (
        dir.join("far.raw"),
        dir.join("near.raw"),
        dir.join("out.raw"),
    );
    common::write_raw(&far, &run.far);
    common::write_raw(&near, &run.near);
    let o = Command::new(harness)
        .arg("echo")
        .arg(taps.to_string())
        .arg(mode)
        .arg(&far)
        .arg(&near)
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let ns = String::from_utf8_lossy(&o.stderr)
        .lines()
        .find_map(|l| l.strip_prefix("ns_per_frame ")?.trim().parse().ok())
        .unwrap_or(f64::NAN);
    (common::read_raw(&out), ns)
}

/// The far talker's text (about 20 s) and the near talker's.
pub const FAR_TEXT: &str = "\
Good morning. This is the line test for the echo canceller of the gateway. \
The far talker speaks into the network, the hybrid of the analog line reflects the voice, \
and the canceller must learn that path and remove what comes back. \
Numbers, names and long vowels all make their way into the echo: one, two, three, four, five.";
pub const NEAR_TEXT: &str = "\
Hello, I am the person on the analog phone, and I am talking at the same time as you are, \
so the canceller must keep still and let my voice through unharmed.";
