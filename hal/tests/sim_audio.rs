//! Audio both ways between the gateway's `SimAudioPort` and the simulated card over the
//! per-port Unix datagram sockets. (No timing is asserted: pacing is the simulator's clock.)

use std::time::{Duration, Instant};
use tipring_hal::audio::sim::SimAudioPort;
use tipring_hal::audio::{AudioPort, FRAME_SAMPLES, Frame};
use tipring_hal::model::PortKind;
use tipring_hal::sim::{RawFile, SimCard, SimConfig, SimPort};

fn frame(k: i16) -> Frame {
    std::array::from_fn(|i| k * 1000 + i as i16)
}

fn rig(name: &str) -> (SimCard, SimAudioPort, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("tipring-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let sim = SimCard::start(SimConfig::new(vec![PortKind::Fxs, PortKind::Fxo], &dir)).unwrap();
    let mut port = SimAudioPort::open(sim.audio_dir().unwrap(), 0).unwrap();
    port.start().unwrap();
    (sim, port, dir)
}

#[test]
fn line_audio_reaches_the_gateway_in_order() {
    let (sim, mut port, _dir) = rig("audio-in");
    let bytes: Vec<u8> = (1..=10)
        .flat_map(frame)
        .flat_map(|s| s.to_le_bytes())
        .collect();
    sim.play(0, Box::new(RawFile::from_bytes(&bytes)));
    let mut got = Vec::new();
    let mut f = [0i16; FRAME_SAMPLES];
    let t0 = Instant::now();
    while got.len() < 10 {
        port.read_frame(&mut f).unwrap();
        if f != [0; FRAME_SAMPLES] || !got.is_empty() {
            got.push(f);
        }
        assert!(t0.elapsed() < Duration::from_secs(5));
    }
    let want: Vec<Frame> = (1..=10).map(frame).collect();
    assert_eq!(got, want);
    // The file is finished: silence follows, and the source is released.
    port.read_frame(&mut f).unwrap();
    assert_eq!(f, [0; FRAME_SAMPLES]);
    assert!(!sim.is_playing(0));
}

#[test]
fn gateway_audio_is_recorded_and_caller_id_captured_on_hook() {
    let (sim, mut port, _dir) = rig("audio-out");
    sim.with_port(0, |p, _, _| {
        if let SimPort::Fxs(ph) = p {
            ph.on_hook_transmission = true;
        }
    });
    for k in 1..=5 {
        port.write_frame(&frame(k)).unwrap();
    }
    let t0 = Instant::now();
    while sim.lock().audio[0].frames_received < 5 {
        std::thread::sleep(Duration::from_millis(5));
        assert!(t0.elapsed() < Duration::from_secs(3));
    }
    let s = sim.lock();
    let want: Vec<i16> = (1..=5).flat_map(frame).collect();
    assert_eq!(s.audio[0].recorded, want);
    match &s.ports[0] {
        SimPort::Fxs(ph) => {
            let bytes: Vec<u8> = want.iter().flat_map(|x| x.to_le_bytes()).collect();
            assert_eq!(ph.caller_id, bytes, "on-hook transmission captured raw");
        }
        SimPort::Fxo(_) => unreachable!(),
    }
    assert_eq!(s.audio[1].frames_received, 0, "other port untouched");
    assert_eq!(port.counters().frames_out, 5);
}

#[test]
fn stopped_port_refuses_io() {
    let (_sim, mut port, _dir) = rig("audio-stop");
    port.stop().unwrap();
    let mut f = [0i16; FRAME_SAMPLES];
    assert!(port.read_frame(&mut f).is_err());
    assert!(port.write_frame(&f).is_err());
}
