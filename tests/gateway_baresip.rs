//! A phone on a `tipring run` gateway (simulated card) and baresip (Debian `baresip`,
//! headless, auto-answer, its aubridge module joining its player to its source, so it
//! sends back what it receives): the phone calls baresip, and baresip calls the phone. In
//! both, a tone played into the phone must come back to it through baresip — audio both
//! ways through the gateway — and baresip's own log must show the call established.

use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tipring::gateway::measure::{Capture, ToneSource, analyse};
use tipring::gateway::testbed::{self, Node, TempDir};
use tipring::sim_dsp::MediaDsp;
use tipring_hal::sim::scenario::{Runner, parse_script};
use tipring_media::tone::{Country, CountryProfile};

const EXE: &str = env!("CARGO_BIN_EXE_tipring");

/// One test at a time: each runs two gateways whose audio is paced in real time, and the
/// machines that run the suite are small.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|p| p.into_inner())
}

/// baresip in the foreground with its output in a file, killed on drop.
struct Baresip {
    child: Option<Child>,
    out: PathBuf,
}

impl Baresip {
    /// Listening on 127.0.0.1:`port` as `bob`, auto-answering; `dial` placed at start.
    fn start(dir: &Path, port: u16, dial: Option<&str>) -> Baresip {
        let name = format!("gw{port}");
        let config = format!(
            "poll_method poll\nnet_interface 127.0.0.1\nsip_listen 127.0.0.1:{port}\naudio_player aubridge,{name}\n\
             audio_source aubridge,{name}\naudio_alert aubridge,{name}-alert\n\
             module_path /usr/lib/baresip/modules\nmodule g711.so\nmodule aubridge.so\n\
             module_app account.so\nmodule_app menu.so\n"
        );
        std::fs::write(dir.join("config"), config).unwrap();
        std::fs::write(
            dir.join("accounts"),
            format!("<sip:bob@127.0.0.1:{port}>;regint=0;answermode=auto;audio_codecs=PCMU,PCMA\n"),
        )
        .unwrap();
        let out = dir.join("baresip.out");
        let f = std::fs::File::create(&out).unwrap();
        let mut cmd = Command::new("baresip");
        cmd.arg("-f").arg(dir);
        if let Some(d) = dial {
            cmd.arg("-e").arg(format!("/dial {d}"));
        }
        let child = cmd
            .stdin(Stdio::null())
            .stdout(f.try_clone().unwrap())
            .stderr(f)
            .spawn()
            .expect("baresip (Debian baresip) must be installed");
        Baresip {
            child: Some(child),
            out,
        }
    }

    fn output(&self) -> String {
        std::fs::read_to_string(&self.out).unwrap_or_default()
    }
}

impl Drop for Baresip {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn run(g: &Node, script: &str) {
    let dsp = MediaDsp::new(CountryProfile::builtin(Country::Us));
    let mut r = Runner {
        sim: &g.card,
        dsp: Some(&dsp),
    };
    for s in parse_script(script).unwrap() {
        if let Err(e) = r.run(&s) {
            for l in g.lines() {
                eprintln!("{}: {}", l.node, l.text);
            }
            panic!("{} `{s:?}`: {e}", g.name);
        }
    }
}

/// A tone played into the phone comes back to it (through baresip's audio bridge).
fn tone_echoes(g: &Node, b: &Baresip, freq: f32) {
    let cap = Capture::default();
    g.card.add_sink(0, Box::new(cap.clone()));
    let t0 = Instant::now();
    let (src, started) = ToneSource::new(freq, -10.0, 50);
    g.card.play(0, Box::new(src));
    std::thread::sleep(Duration::from_millis(50 * 20 + 800));
    let start = started.lock().unwrap().expect("tone played");
    let f = analyse(&cap.since(t0), freq, -10.0, start).unwrap_or_else(|| {
        for l in g.lines() {
            eprintln!("{}: {}", l.node, l.text);
        }
        panic!("{freq} Hz never came back through baresip: {}", b.output())
    });
    assert!((f.frequency_hz - freq).abs() < freq * 0.02, "{f:?}");
}

fn free_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    let end = Instant::now() + Duration::from_secs(8);
    while !f() {
        assert!(Instant::now() < end, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn phone_on_a_hotline_calls_baresip() {
    let _serial = serial();
    let tmp = TempDir::new("tipring-gw-baresip-out").unwrap();
    let bport = free_port();
    let bob = SocketAddr::from(([127, 0, 0, 1], bport));
    let baresip = Baresip::start(&tmp.0, bport, None);
    std::thread::sleep(Duration::from_millis(800));
    let a1 = SocketAddr::from(([127, 0, 0, 1], testbed::free_sip_port().unwrap()));
    let hotline = format!(
        "[[ports]]\nindex = 0\nkind = \"fxs\"\nnumber = \"100\"\nhotline = \"sip:bob@{bob}\"\n"
    );
    let mut g = Node::prepare("gw1", &tmp.0.join("gw1"), a1).unwrap();
    g.start(Path::new(EXE), &testbed::config(a1, bob, &hotline), 41)
        .unwrap();
    assert!(g.wait_link(Duration::from_secs(10)));
    std::thread::sleep(Duration::from_millis(300));
    // Off-hook calls the hotline at once; baresip answers by itself.
    run(&g, "offhook 0");
    wait_for("baresip to answer", || {
        baresip.output().contains("Call established")
    });
    std::thread::sleep(Duration::from_millis(300));
    tone_echoes(&g, &baresip, 1000.0);
    run(&g, "onhook 0\nwait 1500ms");
    let out = baresip.output();
    assert!(
        out.contains("incoming rtp for 'audio' established"),
        "the gateway's RTP reached baresip: {out}"
    );
    let st = g.terminate(Duration::from_secs(8));
    assert!(st.is_some_and(|s| s.success()), "exit {st:?}");
}

/// baresip calls the phone: it rings, answers, and the gateway's RTP reaches baresip.
/// (baresip 1.0's aubridge sends nothing back when baresip placed the call — its own
/// statistics show 0 bit/s sent — so the return direction is checked by the other test.)
#[test]
fn baresip_calls_the_phone() {
    let _serial = serial();
    let tmp = TempDir::new("tipring-gw-baresip-in").unwrap();
    let bport = free_port();
    let bob = SocketAddr::from(([127, 0, 0, 1], bport));
    let a1 = SocketAddr::from(([127, 0, 0, 1], testbed::free_sip_port().unwrap()));
    let phone = "[[ports]]\nindex = 0\nkind = \"fxs\"\nnumber = \"100\"\ndial_plan = \"ext\"\n";
    let mut g = Node::prepare("gw1", &tmp.0.join("gw1"), a1).unwrap();
    g.start(Path::new(EXE), &testbed::config(a1, bob, phone), 42)
        .unwrap();
    assert!(g.wait_link(Duration::from_secs(10)));
    std::thread::sleep(Duration::from_millis(300));
    let baresip = Baresip::start(&tmp.0, bport, Some(&format!("sip:100@{a1}")));
    run(&g, "expect-ringing 0 8s\noffhook 0");
    wait_for("the call to be established at baresip", || {
        baresip.output().contains("Call established")
    });
    wait_for("the gateway's RTP at baresip", || {
        baresip
            .output()
            .contains("incoming rtp for 'audio' established, receiving from 127.0.0.1:")
    });
    run(&g, "onhook 0");
    wait_for("baresip to see the BYE", || {
        baresip.output().contains("terminated")
    });
    let st = g.terminate(Duration::from_secs(8));
    assert!(st.is_some_and(|s| s.success()), "exit {st:?}");
}
