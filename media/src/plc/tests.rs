use super::*;

const FRAME: usize = 160;

/// A voiced-like signal: five harmonics of 8000/`period` Hz.
fn voiced(period: f64, len: usize) -> Vec<i16> {
    (0..len)
        .map(|n| {
            let mut v = 0.0;
            for h in 1..=5 {
                let ph = 2.0 * std::f64::consts::PI * h as f64 * n as f64 / period;
                v += 6000.0 / h as f64 * (ph + 0.3 * h as f64).sin();
            }
            v as i16
        })
        .collect()
}

/// Runs `signal` through the concealer frame by frame, losing the frames in `lost`.
fn run(signal: &[i16], lost: &[usize]) -> (Vec<i16>, Plc) {
    let mut plc = Plc::new();
    let mut out = vec![0i16; signal.len()];
    for (f, chunk) in signal.chunks(FRAME).enumerate() {
        let o = &mut out[f * FRAME..f * FRAME + chunk.len()];
        if lost.contains(&f) {
            plc.lost_frame(o);
        } else {
            plc.good_frame(chunk, o);
        }
    }
    (out, plc)
}

fn rms(x: &[i16]) -> f64 {
    (x.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>() / x.len() as f64).sqrt()
}

fn max_step(x: &[i16]) -> i32 {
    x.windows(2)
        .map(|w| (i32::from(w[1]) - i32::from(w[0])).abs())
        .max()
        .unwrap_or(0)
}

#[test]
fn good_frames_pass_through_delayed_by_the_overlap() {
    let s = voiced(80.0, 20 * FRAME);
    let (out, _) = run(&s, &[]);
    assert_eq!(&out[DELAY..], &s[..s.len() - DELAY]);
    assert!(out[..DELAY].iter().all(|&v| v == 0));
}

#[test]
fn the_pitch_search_finds_the_period() {
    for period in [57usize, 80, 101] {
        let s = voiced(period as f64, 12 * FRAME);
        let (_, plc) = run(&s, &[10]);
        assert_eq!(plc.pitch(), period);
    }
}

#[test]
fn the_first_10_ms_continue_the_waveform() {
    let s = voiced(80.0, 14 * FRAME);
    let (out, _) = run(&s, &[10]);
    let start = 10 * FRAME + DELAY; // first synthetic sample in output time
    let (mut err, mut sig) = (0.0, 0.0);
    for j in start..start + 80 {
        let want = f64::from(s[j - DELAY]);
        err += (f64::from(out[j]) - want).powi(2);
        sig += want * want;
    }
    let snr = 10.0 * (sig / err.max(1.0)).log10();
    assert!(snr > 20.0, "SNR {snr:.1} dB");
}

#[test]
fn the_energy_fades_over_a_burst_and_is_silent_after_60_ms() {
    let s = voiced(80.0, 20 * FRAME);
    let lost: Vec<usize> = (10..15).collect(); // 100 ms of loss
    let (out, _) = run(&s, &lost);
    let r = rms(&s[..10 * FRAME]);
    let start = 10 * FRAME + DELAY;
    let env: Vec<f64> = (0..10)
        .map(|k| rms(&out[start + 80 * k..start + 80 * (k + 1)]) / r)
        .collect();
    eprintln!("energy envelope per 10 ms (relative): {env:.2?}");
    assert!((0.9..=1.1).contains(&env[0]), "{env:?}");
    for k in 1..6 {
        assert!(env[k] < env[k - 1], "not fading at {k}: {env:?}");
    }
    assert!(env[2] < 0.8 && env[4] < 0.4, "{env:?}");
    // From 60 ms after the loss began until the end of the loss, exact silence.
    let loss_end = 15 * FRAME + DELAY;
    assert!(out[start + 480..loss_end].iter().all(|&v| v == 0));
}

#[test]
fn the_merge_after_a_short_loss_has_no_step() {
    let s = voiced(80.0, 16 * FRAME);
    let (out, _) = run(&s, &[10]);
    let bound = max_step(&s);
    let merge = 11 * FRAME + DELAY;
    let step = max_step(&out[merge - 40..merge + 120]);
    assert!(
        step <= bound * 11 / 10,
        "step {step} vs signal's own {bound}"
    );
    // Afterwards the output is the signal again.
    assert_eq!(&out[merge + 80..], &s[merge + 80 - DELAY..s.len() - DELAY]);
}

#[test]
fn the_merge_after_silence_fades_in() {
    let s = voiced(80.0, 20 * FRAME);
    let lost: Vec<usize> = (10..15).collect();
    let (out, _) = run(&s, &lost);
    let merge = 15 * FRAME + DELAY;
    assert_eq!(out[merge - 1], 0);
    let step = max_step(&out[merge - 10..merge + 100]);
    assert!(step <= max_step(&s), "step {step}");
    // The fade lasts 10 ms: the first samples are well below the signal.
    assert!(rms(&out[merge..merge + 20]) < 0.5 * rms(&s[merge - DELAY..merge + 20 - DELAY]));
}
