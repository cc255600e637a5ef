//! tipring's echo canceller against spandsp's `echo_can` on G.168's echo path models
//! (Annex D), speech as the far and near signals, 64 ms tail, both before any NLP: the
//! table is printed (`-- --nocapture`) and the goals are asserted on every path:
//! steady-state ERLE ≥ 30 dB, convergence to 20 dB faster than spandsp's, no divergence
//! under double talk, and a changed path learnt again (20 dB) within 4 s of far speech.
//! tipring's canceller is also run with its NLP: the near talker must come through double
//! talk unclipped (within 30 dB in nine 100 ms windows of ten).
//! Needs libspandsp-dev, espeak-ng and sox (CI installs them).

mod common;
mod g168;

use g168::{HEADER, Run};
use std::path::Path;
use tipring_media::echo::{EchoCanceller, EchoConfig};

const TAIL_MS: u16 = 64;

fn tipring(run: &Run, nlp: bool) -> Vec<i16> {
    let mut ec = EchoCanceller::new(EchoConfig {
        tail_ms: TAIL_MS,
        nlp,
    })
    .unwrap();
    let mut out = run.near.clone();
    for (far, near) in run.far.chunks(160).zip(out.chunks_mut(160)) {
        ec.process(far, near);
    }
    out
}

#[test]
fn g168_paths_against_spandsp() {
    let models = g168::models().unwrap_or_else(|e| panic!("{e}"));
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("g168-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let far = g168::speech(&dir, "en+m3", g168::FAR_TEXT);
    let near = g168::speech(&dir, "en-us+f3", g168::NEAR_TEXT);
    let harness = common::spandsp_harness(&dir);
    println!(
        "\nERL {} dB, bulk delay {} ms, tail {TAIL_MS} ms\n{HEADER}",
        g168::ERL_DB,
        g168::DELAY / 8
    );
    let mut failures = Vec::new();
    for (i, m) in models.iter().enumerate() {
        let next = &models[(i + 1) % models.len()];
        let run = Run::new(m, next, &far, &near);
        let plain = tipring(&run, false);
        let ours = run.measure(&plain);
        let with_nlp = tipring(&run, true);
        let kept = run.near_kept(&with_nlp);
        let suppressed = run.measure(&with_nlp).steady;
        println!(
            "| {} | with NLP: far-only ERLE {suppressed:.1} dB, near talker kept ≥ {kept:.1} dB in 9 of 10 double-talk windows |",
            run.model
        );
        if kept < 30.0 {
            failures.push(format!(
                "{}: the NLP clipped the near talker ({kept:.1} dB)",
                run.model
            ));
        }
        let taps = usize::from(TAIL_MS) * 8;
        let (out, _) = g168::spandsp(&harness, &dir, taps, g168::SPANDSP_ADAPT, &run);
        let theirs = run.measure(&out);
        let (out, _) = g168::spandsp(&harness, &dir, taps, g168::SPANDSP_ADAPT_HPF, &run);
        let hpf = run.measure(&out);
        println!("{}", ours.row("tipring", &run));
        println!("{}", theirs.row("spandsp", &run));
        println!("{}", hpf.row("spandsp + HPF", &run));
        let name = &run.model;
        if ours.steady < 30.0 {
            failures.push(format!("{name}: steady ERLE {:.1} dB < 30", ours.steady));
        }
        match (ours.to_20db, theirs.to_20db) {
            (None, _) => failures.push(format!("{name}: never reached 20 dB")),
            (Some(a), Some(b)) if a > b => {
                failures.push(format!("{name}: 20 dB after {a:.1} s, spandsp {b:.1} s"))
            }
            _ => {}
        }
        if ours.worst_after_dt < 20.0 {
            failures.push(format!(
                "{name}: ERLE fell to {:.1} dB after double talk",
                ours.worst_after_dt
            ));
        }
        if !ours.change_to_20db.is_some_and(|s| s <= 4.0) {
            failures.push(format!(
                "{name}: path change learnt after {:?} s",
                ours.change_to_20db
            ));
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(failures.is_empty(), "{failures:#?}");
}
