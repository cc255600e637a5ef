//! The ALSA audio port driven through ALSA's userspace plugins: an asoundrc written by the
//! test (`file` plugin with `infile` for capture, writing `file` for playback, over a `null`
//! slave). No sound card is needed. The null slave does not pace in real time, so nothing
//! here measures time.

use std::path::PathBuf;
use std::sync::OnceLock;
use tipring_hal::audio::alsa::{AlsaConfig, AlsaPcm, AlsaPort, SampleFormat};
use tipring_hal::audio::{AudioError, AudioPort, FRAME_SAMPLES, Frame};

fn ramp(k: usize) -> Frame {
    std::array::from_fn(|i| ((k * FRAME_SAMPLES + i) as i16).wrapping_mul(97))
}

/// Writes the asoundrc and the input files once per process and points ALSA at it.
fn setup() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("tipring-alsa-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut s16 = Vec::new();
        for k in 0..4 {
            for s in ramp(k) {
                s16.extend_from_slice(&s.to_le_bytes());
            }
        }
        std::fs::write(dir.join("in_s16.raw"), &s16).unwrap();
        let alaw: Vec<u8> = (0..FRAME_SAMPLES * 3).map(|i| (i * 7 % 256) as u8).collect();
        std::fs::write(dir.join("in_alaw.raw"), &alaw).unwrap();
        let d = dir.display();
        let mut rc = String::new();
        for (name, fmt) in [("s16", "S16_LE"), ("alaw", "A_LAW"), ("ulaw", "MU_LAW")] {
            rc.push_str(&format!(
                "pcm.cap_{name} {{\n type file\n slave.pcm {{ type null }}\n file \"{d}/cap_{name}.echo\"\n infile \"{d}/in_{name}.raw\"\n format \"raw\"\n}}\n\
                 pcm.play_{name} {{\n type file\n slave.pcm {{ type null }}\n file \"{d}/out_{name}.raw\"\n format \"raw\"\n}}\n"
            ));
            let _ = fmt;
        }
        std::fs::write(dir.join("in_ulaw.raw"), [0xFFu8; FRAME_SAMPLES]).unwrap();
        let rc_path = dir.join("asoundrc");
        std::fs::write(&rc_path, rc).unwrap();
        // SAFETY: set once, before any ALSA call in this process; the other test threads
        // only reach ALSA after this initialiser has returned.
        unsafe { std::env::set_var("ALSA_CONFIG_PATH", &rc_path) };
        dir
    })
}

#[test]
fn s16_capture_reads_the_line_and_playback_writes_it() {
    let dir = setup();
    let cfg = AlsaConfig {
        capture_device: "cap_s16".into(),
        playback_device: "play_s16".into(),
        format: SampleFormat::S16Le,
        periods: 2,
    };
    let mut port = AlsaPort::open(&cfg, None).expect("opens through the file plugin");
    assert_eq!(port.capture.period, FRAME_SAMPLES);
    assert_eq!(port.playback.period, FRAME_SAMPLES);
    assert_eq!(port.playback.buffer, 2 * FRAME_SAMPLES);
    port.start().unwrap();
    let mut f = [0i16; FRAME_SAMPLES];
    for k in 0..3 {
        port.read_frame(&mut f).unwrap();
        assert_eq!(f, ramp(k), "frame {k}");
    }
    for k in 0..3 {
        port.write_frame(&ramp(10 + k)).unwrap();
    }
    let c = port.counters();
    assert_eq!((c.frames_in, c.frames_out), (3, 3));
    drop(port);
    let out = std::fs::read(dir.join("out_s16.raw")).unwrap();
    let want: Vec<u8> = (0..3)
        .flat_map(|k| ramp(10 + k))
        .flat_map(|s| s.to_le_bytes())
        .collect();
    assert!(out.len() >= want.len(), "{} bytes written", out.len());
    assert_eq!(&out[..want.len()], &want[..]);
}

#[test]
fn companded_bus_moves_raw_codes() {
    let dir = setup();
    let mut cap =
        AlsaPcm::open("cap_alaw", alsa::Direction::Capture, SampleFormat::ALaw, 4).unwrap();
    assert_eq!(cap.buffer, 4 * FRAME_SAMPLES);
    let mut play = AlsaPcm::open(
        "play_alaw",
        alsa::Direction::Playback,
        SampleFormat::ALaw,
        3,
    )
    .unwrap();
    cap.start().unwrap();
    play.start().unwrap();
    let mut xruns = 0;
    let input = std::fs::read(dir.join("in_alaw.raw")).unwrap();
    let mut codes = [0u8; FRAME_SAMPLES];
    for k in 0..2 {
        cap.read_codes(&mut codes, &mut xruns).unwrap();
        assert_eq!(
            &codes[..],
            &input[k * FRAME_SAMPLES..(k + 1) * FRAME_SAMPLES]
        );
    }
    let sent: Vec<u8> = (0..FRAME_SAMPLES).map(|i| (255 - i) as u8).collect();
    play.write_codes(&sent, &mut xruns).unwrap();
    // Linear access on a companded stream is refused, not misread.
    let mut f = [0i16; FRAME_SAMPLES];
    assert!(matches!(
        cap.read_linear(&mut f, &mut xruns),
        Err(AudioError::Config { .. })
    ));
    drop(play);
    let out = std::fs::read(dir.join("out_alaw.raw")).unwrap();
    assert_eq!(&out[..FRAME_SAMPLES], &sent[..]);
    let mut ulaw =
        AlsaPcm::open("cap_ulaw", alsa::Direction::Capture, SampleFormat::MuLaw, 2).unwrap();
    ulaw.start().unwrap();
    ulaw.read_codes(&mut codes, &mut xruns).unwrap();
    assert_eq!(codes, [0xFF; FRAME_SAMPLES]);
}

#[test]
fn configuration_errors_are_reported() {
    setup();
    let r = AlsaPcm::open("cap_s16", alsa::Direction::Capture, SampleFormat::S16Le, 5);
    assert!(matches!(r, Err(AudioError::Config { .. })));
    let r = AlsaPcm::open(
        "no_such_pcm",
        alsa::Direction::Capture,
        SampleFormat::S16Le,
        2,
    );
    assert!(matches!(r, Err(AudioError::Alsa { op: "open", .. })));
    let cfg = AlsaConfig {
        capture_device: "cap_alaw".into(),
        playback_device: "play_alaw".into(),
        format: SampleFormat::ALaw,
        periods: 2,
    };
    assert!(matches!(
        AlsaPort::open(&cfg, None),
        Err(AudioError::Config { .. })
    ));
}

#[test]
fn stopped_port_refuses_io_and_restarts() {
    setup();
    let cfg = AlsaConfig {
        capture_device: "cap_ulaw".into(),
        playback_device: "play_ulaw".into(),
        format: SampleFormat::MuLaw,
        periods: 2,
    };
    let mut cap =
        AlsaPcm::open(&cfg.capture_device, alsa::Direction::Capture, cfg.format, 2).unwrap();
    let mut codes = [0u8; FRAME_SAMPLES];
    let mut x = 0;
    assert!(matches!(
        cap.read_codes(&mut codes, &mut x),
        Err(AudioError::Stopped)
    ));
    cap.start().unwrap();
    cap.read_codes(&mut codes, &mut x).unwrap();
    cap.stop().unwrap();
    assert!(matches!(
        cap.read_codes(&mut codes, &mut x),
        Err(AudioError::Stopped)
    ));
    cap.start().unwrap();
    cap.read_codes(&mut codes, &mut x).unwrap();
}
