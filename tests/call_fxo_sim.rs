//! The FXO port machine driving a simulated line card through hal's serial driver: a call
//! ringing in from the line is seized and sent to a hotline; a SIP call for the line is
//! seized, pulse-dialled, answered on the exchange's polarity reversal and ended by the
//! far end's loop-current drop. The SIP side is played by the test.

mod common;

use std::net::UdpSocket;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tipring::bridge::{Bridge, BridgeConfig, Control};
use tipring::call::fxo::{AnswerSupervision, DialMethod, DialWait, FxoConfig, FxoInbound, FxoPort};
use tipring::call::{CallerInfo, Input, Output, SipEvent, SipIntent};
use tipring::sim_dsp::MediaDsp;
use tipring_hal::audio::sim::SimAudioPort;
use tipring_hal::driver::{Driver, DriverEvent, SerialSettings};
use tipring_hal::model::PortKind;
use tipring_hal::sim::scenario::{Runner, parse_script};
use tipring_hal::sim::{SimCard, SimConfig};
use tipring_media::callerid::FskStandard;
use tipring_media::g711::Law;
use tipring_media::tone::{Country, CountryProfile};

fn runtime(
    driver: Driver,
    bridge: Bridge,
    sip: Receiver<SipEvent>,
    intents: Arc<Mutex<Vec<SipIntent>>>,
    stop: Arc<AtomicBool>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut port = FxoPort::new(
            FxoConfig {
                rings: 1,
                inbound: FxoInbound::Hotline("sip:desk@127.0.0.1".into()),
                dial_wait: DialWait::Fixed(Duration::from_millis(300)),
                dial_method: DialMethod::Pulse,
                answer: AnswerSupervision::PolarityReversal,
                ..FxoConfig::default()
            },
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
            while bridge.try_report().is_some() {}
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
                    Output::DialDtmf(d) => {
                        bridge.send(Control::DialDtmf(d));
                    }
                    Output::SendCallerId(_)
                    | Output::SendMessageWaiting(_)
                    | Output::SendCallWaitingId(_)
                    | Output::Media(_)
                    | Output::SendEvent(_) => {}
                    Output::Sip(i) => intents.lock().unwrap().push(i),
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
fn line_call_goes_to_the_hotline_and_sip_call_is_dialled_answered_and_ended() {
    let dir = std::env::temp_dir().join(format!("tipring-callfxo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let sim = SimCard::start(SimConfig::new(vec![PortKind::Fxo], &dir)).unwrap();
    let driver = Driver::start(SerialSettings::new(sim.link_path())).unwrap();
    let profile = CountryProfile::builtin(Country::Us);
    let audio = SimAudioPort::open(sim.audio_dir().unwrap(), 0).unwrap();
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
    let (sip_tx, sip_rx) = channel();
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

    // From the line: one ring, seizure, the hotline call; the SIP side ends it.
    run("ring 0 1s/4s\nexpect-seized 0 5s\nstop-ring 0\n");
    wait_for(
        "hotline INVITE",
        has(SipIntent::PlaceCall {
            target: "sip:desk@127.0.0.1".into(),
            caller: CallerInfo::default(),
            hide_caller_id: None,
        }),
    );
    sip_tx.send(SipEvent::RemoteHangup).unwrap();
    run("expect-released 0 3s\n");

    // From SIP: seizure, pulse dialling, early media, answer on reversal, far hangup.
    sip_tx
        .send(SipEvent::IncomingCall {
            caller: CallerInfo::default(),
            number: "5556".into(),
            ring: None,
        })
        .unwrap();
    run("expect-seized 0 3s\nexpect-dialled 0 5556 10s\n");
    assert!(has(SipIntent::EarlyMedia)());
    assert!(!has(SipIntent::Answer)(), "no answer before the reversal");
    run("far-answer 0\n");
    wait_for("200", has(SipIntent::Answer));
    run("far-hangup 0\nexpect-released 0 3s\n");
    wait_for("BYE", has(SipIntent::Hangup));

    stop.store(true, Ordering::Relaxed);
    rt.join().unwrap();
}
