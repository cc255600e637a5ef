//! The FXS port machine driving a simulated line card for real: the card on a
//! pseudo-terminal through hal's serial driver, the port's audio through a media bridge on
//! the card's audio socket, the phone scripted with the scenario runner and the media DSP.
//! The SIP side is played by the test (events in, intents recorded).

mod common;

use std::net::UdpSocket;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tipring::bridge::{Bridge, BridgeConfig, Control, Report};
use tipring::call::fxs::{FxsConfig, FxsPort};
use tipring::call::{CallerInfo, Input, Output, SipEvent, SipIntent};
use tipring::sim_dsp::MediaDsp;
use tipring_hal::audio::sim::SimAudioPort;
use tipring_hal::driver::{Driver, DriverEvent, SerialSettings};
use tipring_hal::model::{Digit, PortKind, RingCadence, RingStep};
use tipring_hal::sim::scenario::{Runner, parse_script};
use tipring_hal::sim::{SimCard, SimConfig};
use tipring_media::callerid::FskStandard;
use tipring_media::g711::Law;
use tipring_media::tone::{Country, CountryProfile};

/// The country's ring cadence as a line-card command.
fn cadence(p: &CountryProfile) -> RingCadence {
    let mut steps = heapless::Vec::new();
    for pair in p.ring.segments().chunks(2) {
        let off = pair.get(1).copied().unwrap_or(0);
        let _ = steps.push(RingStep {
            on_ms: pair[0] as u16,
            off_ms: off as u16,
        });
    }
    RingCadence {
        frequency_hz: 20,
        steps,
    }
}

/// Runs the port machine: card events, bridge reports and SIP events in; line commands
/// to the driver, tones and caller ID to the bridge, SIP intents recorded.
fn runtime(
    driver: Driver,
    bridge: Bridge,
    sip: Receiver<SipEvent>,
    intents: Arc<Mutex<Vec<SipIntent>>>,
    stop: Arc<AtomicBool>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let profile = CountryProfile::builtin(Country::Us);
        let mut port = FxsPort::new(
            FxsConfig::with_cadence(cadence(&profile)),
            common::plan::three_digits(),
        );
        while !stop.load(Ordering::Relaxed) {
            let mut inputs = Vec::new();
            if let Ok(DriverEvent::Event(e)) =
                driver.events().recv_timeout(Duration::from_millis(10))
                && e.port == 0
            {
                inputs.push(Input::Line(e.event));
            }
            while let Some(r) = bridge.try_report() {
                if let Report::InbandDigit(c) = r
                    && let Some(d) = Digit::from_char(c)
                {
                    inputs.push(Input::InbandDigit(d));
                }
            }
            inputs.extend(sip.try_iter().map(Input::Sip));
            let now = Instant::now();
            let mut outputs = Vec::new();
            for i in inputs {
                outputs.extend(port.handle(now, i));
            }
            if port.next_deadline().is_some_and(|d| d <= now) {
                outputs.extend(port.poll(now));
            }
            for o in outputs {
                match o {
                    Output::Line(c) => {
                        let _ = driver.submit(0, c);
                    }
                    Output::Tone(t) => {
                        bridge.send(Control::Tone(t));
                    }
                    Output::SendCallerId(info) => {
                        bridge.send(Control::CallerId(info));
                    }
                    Output::SendMessageWaiting(on) => {
                        bridge.send(Control::MessageWaiting(on));
                    }
                    Output::SendCallWaitingId(info) => {
                        bridge.send(Control::CallWaitingId(info));
                    }
                    Output::DialDtmf(d) => {
                        bridge.send(Control::DialDtmf(d));
                    }
                    Output::Sip(i) => intents.lock().unwrap().push(i),
                    Output::SendEvent(code) => {
                        bridge.send(Control::SendEvent {
                            code,
                            duration_ms: 200,
                        });
                    }
                    Output::Media(_) => {}
                }
            }
        }
    })
}

fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    let end = Instant::now() + Duration::from_secs(10);
    while !f() {
        assert!(Instant::now() < end, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn phone_dials_out_in_band_then_takes_an_incoming_call_with_caller_id() {
    let dir = std::env::temp_dir().join(format!("tipring-callfxs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let sim = SimCard::start(SimConfig::new(vec![PortKind::Fxs], &dir)).unwrap();
    let driver = Driver::start(SerialSettings::new(sim.link_path())).unwrap();
    let profile = CountryProfile::builtin(Country::Us);
    let audio = SimAudioPort::open(sim.audio_dir().unwrap(), 0).unwrap();
    // No RTP peer in this test: the bridge only plays to and listens on the line.
    let bridge = Bridge::start(
        Box::new(audio),
        UdpSocket::bind("127.0.0.1:0").unwrap(),
        BridgeConfig {
            law: Law::Ulaw,
            payload_type: 0,
            event_payload_type: Some(101),
            remote: None,
            send: true,
            receive: true,
            srtp: None,
            profile,
            jitter: tipring_media::jitter::JitterConfig::default(),
            caller_id: FskStandard::Bell202,
            far_digits: true,
            echo: None,
            mute_far_dtmf: false,
            answer: None,
        },
    )
    .unwrap();
    let (sip_tx, sip_rx): (Sender<SipEvent>, _) = channel();
    let intents = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let rt = runtime(driver, bridge, sip_rx, intents.clone(), stop.clone());

    let dsp = MediaDsp::new(profile);
    let mut runner = Runner {
        sim: &sim,
        dsp: Some(&dsp),
    };
    let mut run = |script: &str| {
        for step in parse_script(script).unwrap() {
            if let Err(e) = runner.run(&step) {
                stop.store(true, Ordering::Relaxed);
                panic!("{step:?}: {e}");
            }
        }
    };
    let has = |i: SipIntent| {
        let intents = intents.clone();
        move || intents.lock().unwrap().contains(&i)
    };

    // Outgoing: dial tone, in-band digits, the call placed; the far end is busy.
    run("offhook 0\nexpect-tone 0 dial 6s\ndial 0 201 inband\n");
    wait_for(
        "PlaceCall 201",
        has(SipIntent::PlaceCall {
            target: "201".into(),
            caller: CallerInfo::default(),
            hide_caller_id: None,
        }),
    );
    sip_tx.send(SipEvent::Rejected(486)).unwrap();
    // On-hook is told from a hook flash only after the longest flash (900 ms).
    run("expect-tone 0 busy 6s\nonhook 0\nwait 1500ms\n");
    assert!(
        !intents.lock().unwrap().contains(&SipIntent::Hangup),
        "a failed call needs no BYE"
    );

    // Incoming: ringing with the US cadence, caller ID after the first ring, answered.
    sip_tx
        .send(SipEvent::IncomingCall {
            caller: CallerInfo {
                name: Some("ALICE".into()),
                number: Some("5551234".into()),
            },
            number: "100".into(),
            ring: None,
        })
        .unwrap();
    wait_for("180", has(SipIntent::Alerting));
    run("expect-ringing 0 3s\nexpect-callerid 0 5551234 8s\noffhook 0\n");
    wait_for("200", has(SipIntent::Answer));
    run("onhook 0\n");
    wait_for("BYE", has(SipIntent::Hangup));

    stop.store(true, Ordering::Relaxed);
    rt.join().unwrap();
}
