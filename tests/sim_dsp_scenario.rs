//! A scenario on the simulated card with the media DSP plugged in: the "gateway" here is a
//! thread on the port's `SimAudioPort` that plays dial tone until it hears a DTMF digit,
//! then collects digits and echoes the line's audio back. The script dials in-band, plays a
//! 1 kHz tone and expects it (and dial tone) back.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tipring::sim_dsp::MediaDsp;
use tipring_hal::audio::sim::SimAudioPort;
use tipring_hal::audio::{AudioPort, FRAME_SAMPLES};
use tipring_hal::model::PortKind;
use tipring_hal::sim::scenario::{Runner, parse_script};
use tipring_hal::sim::{SimCard, SimConfig};
use tipring_media::dtmf::{DtmfDetector, DtmfDetectorConfig, DtmfEvent};
use tipring_media::tone::{Country, CountryProfile, ToneGenerator};

fn gateway(
    mut port: SimAudioPort,
    stop: Arc<AtomicBool>,
    digits: Arc<Mutex<String>>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let profile = CountryProfile::builtin(Country::Us);
        let mut dial = ToneGenerator::new(&profile.dial);
        let mut det = DtmfDetector::new(DtmfDetectorConfig::default());
        let mut f = [0i16; FRAME_SAMPLES];
        port.start().unwrap();
        while !stop.load(Ordering::Relaxed) {
            if port.read_frame(&mut f).is_err() {
                continue;
            }
            det.process(&f, |e| {
                if let DtmfEvent::Start { digit, .. } = e {
                    digits.lock().unwrap().push(digit.as_char());
                }
            });
            if digits.lock().unwrap().is_empty() {
                dial.fill(&mut f);
            }
            let _ = port.write_frame(&f);
        }
    })
}

#[test]
fn inband_dialling_play_and_expect_tone_run_through_the_media_dsp() {
    let dir = std::env::temp_dir().join(format!("tipring-simdsp-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let sim = SimCard::start(SimConfig::new(vec![PortKind::Fxs], &dir)).unwrap();
    let port = SimAudioPort::open(sim.audio_dir().unwrap(), 0).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let digits = Arc::new(Mutex::new(String::new()));
    let gw = gateway(port, stop.clone(), digits.clone());

    let dsp = MediaDsp::new(CountryProfile::builtin(Country::Us));
    let mut runner = Runner {
        sim: &sim,
        dsp: Some(&dsp),
    };
    let script = "offhook 0\n\
                  expect-tone 0 dial 5s\n\
                  dial 0 2025 inband\n\
                  play 0 tone:1000 2s\n\
                  expect-tone 0 1000 3s\n";
    for step in parse_script(script).unwrap() {
        if let Err(e) = runner.run(&step) {
            stop.store(true, Ordering::Relaxed);
            panic!("{step:?}: {e}");
        }
    }
    // The echo carries the 1 kHz tone, not busy tone: that expectation times out.
    let busy = parse_script("expect-tone 0 busy 1500ms\n").unwrap();
    let err = runner.run(&busy[0]).unwrap_err();
    assert!(err.to_string().contains("timed out"), "{err}");

    stop.store(true, Ordering::Relaxed);
    gw.join().unwrap();
    assert_eq!(digits.lock().unwrap().as_str(), "2025");
}
