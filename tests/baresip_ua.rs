//! The UA core against baresip (Debian `baresip`): headless, auto-answer, no sound card
//! (its aubridge module stands in for the audio device). baresip calls `tipring answer`,
//! and `tipring call` calls baresip; RTP from tipring must reach baresip (its own log says
//! so). Each test has its own loopback ports; children are killed on drop.

use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// A child process with stdout and stderr in one file, killed on drop.
struct Proc {
    child: Option<Child>,
    out: PathBuf,
}

impl Proc {
    fn spawn(dir: &std::path::Path, name: &str, program: &str, args: &[&str]) -> Proc {
        let out = dir.join(format!("{name}.out"));
        let f = std::fs::File::create(&out).expect("output file");
        let child = Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(f.try_clone().expect("dup"))
            .stderr(f)
            .spawn()
            .unwrap_or_else(|e| panic!("{program}: {e}"));
        Proc {
            child: Some(child),
            out,
        }
    }

    fn output(&self) -> String {
        std::fs::read_to_string(&self.out).unwrap_or_default()
    }

    fn wait(&mut self, limit: Duration) -> (ExitStatus, String) {
        let end = Instant::now() + limit;
        loop {
            let c = self.child.as_mut().expect("running");
            if let Some(s) = c.try_wait().expect("try_wait") {
                self.child = None;
                return (s, self.output());
            }
            assert!(Instant::now() < end, "did not finish: {}", self.output());
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// A baresip configuration directory: SIP on `port`, G.711 only, auto-answer, aubridge
/// as audio device.
fn baresip_dir(test: &str, port: u16) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tipring-baresip-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let config = format!(
        "poll_method poll\nsip_listen 127.0.0.1:{port}\naudio_player aubridge,{test}\n\
         audio_source aubridge,{test}\naudio_alert aubridge,{test}\n\
         module_path /usr/lib/baresip/modules\nmodule g711.so\nmodule aubridge.so\n\
         module_app account.so\nmodule_app menu.so\n"
    );
    std::fs::write(dir.join("config"), config).expect("config");
    std::fs::write(
        dir.join("accounts"),
        format!("<sip:bob@127.0.0.1:{port}>;regint=0;answermode=auto;audio_codecs=PCMU,PCMA\n"),
    )
    .expect("accounts");
    dir
}

#[test]
fn baresip_calls_tipring_answer() {
    let dir = baresip_dir("calls-us", 17611);
    let cfg = dir.to_string_lossy().into_owned();
    let mut ans = Proc::spawn(
        &dir,
        "answer",
        env!("CARGO_BIN_EXE_tipring"),
        &[
            "answer",
            "--listen",
            "127.0.0.1:17612",
            "--answer-after-ms",
            "200",
            "--calls",
            "1",
            "--tone",
        ],
    );
    std::thread::sleep(Duration::from_millis(300));
    let mut bs = Proc::spawn(
        &dir,
        "baresip",
        "baresip",
        &["-f", &cfg, "-e", "/dial sip:x@127.0.0.1:17612", "-t", "3"],
    );
    let (st, out) = ans.wait(Duration::from_secs(20));
    assert!(st.success(), "{out}");
    let (_, bout) = bs.wait(Duration::from_secs(10));
    assert!(
        out.contains("<- 127.0.0.1:17611 INVITE sip:x@127.0.0.1:17612"),
        "{out}"
    );
    assert!(out.contains("-> 127.0.0.1:17611 SIP/2.0 200 OK"), "{out}");
    assert!(out.contains("<- 127.0.0.1:17611 ACK "), "{out}");
    assert!(out.contains("<- 127.0.0.1:17611 BYE "), "{out}");
    assert!(bout.contains("Call established"), "{bout}");
    assert!(
        bout.contains("incoming rtp for 'audio' established"),
        "our RTP reached baresip: {bout}"
    );
}

#[test]
fn tipring_call_reaches_baresip() {
    let dir = baresip_dir("called", 17613);
    let cfg = dir.to_string_lossy().into_owned();
    let bs = Proc::spawn(&dir, "baresip", "baresip", &["-f", &cfg, "-t", "8"]);
    std::thread::sleep(Duration::from_millis(1000));
    let mut call = Proc::spawn(
        &dir,
        "call",
        env!("CARGO_BIN_EXE_tipring"),
        &["call", "sip:bob@127.0.0.1:17613", "--hold-secs", "2"],
    );
    let (st, out) = call.wait(Duration::from_secs(20));
    assert!(st.success(), "{out}");
    assert!(out.contains("<- 127.0.0.1:17613 SIP/2.0 200"), "{out}");
    assert!(out.contains("-> 127.0.0.1:17613 BYE "), "{out}");
    std::thread::sleep(Duration::from_millis(300));
    let bout = bs.output();
    assert!(
        bout.contains("Call established: sip:tipring@127.0.0.1"),
        "{bout}"
    );
    assert!(
        bout.contains("incoming rtp for 'audio' established"),
        "our RTP reached baresip: {bout}"
    );
    drop(bs);
}
