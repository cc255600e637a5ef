//! The UA core in the `tipring` binary (`answer`, `call`) against sipp scenarios written for
//! it: CANCEL before the answer (200 + 487), 486, a BYE with a wrong tag (481) and in-dialog
//! OPTIONS, a forked second 2xx (ACK + BYE), and a 302 redirect server. Each test uses its
//! own loopback ports; every child is killed on drop.

#[path = "sipp/harness.rs"]
mod harness;

use harness::{Sipp, scenario};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// A running `tipring` subcommand, killed when dropped; stdout goes to a file.
struct Tipring {
    child: Option<Child>,
    out: PathBuf,
}

impl Tipring {
    fn spawn(test: &str, args: &[&str]) -> Tipring {
        let dir = std::env::temp_dir().join(format!("tipring-ua-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        let out = dir.join("stdout");
        let child = Command::new(env!("CARGO_BIN_EXE_tipring"))
            .args(args)
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&out).expect("stdout file"))
            .stderr(std::fs::File::create(dir.join("stderr")).expect("stderr file"))
            .spawn()
            .expect("tipring binary");
        Tipring {
            child: Some(child),
            out,
        }
    }

    async fn wait(&mut self, limit: Duration) -> (ExitStatus, String) {
        let end = Instant::now() + limit;
        loop {
            let c = self.child.as_mut().expect("running");
            if let Some(s) = c.try_wait().expect("try_wait") {
                self.child = None;
                return (s, std::fs::read_to_string(&self.out).unwrap_or_default());
            }
            assert!(
                Instant::now() < end,
                "tipring did not finish in {limit:?}; output: {}",
                std::fs::read_to_string(&self.out).unwrap_or_default()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Tipring {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

async fn settle() {
    tokio::time::sleep(Duration::from_millis(300)).await;
}

#[tokio::test]
async fn ua_sipp_cancel_before_answer_gets_200_and_487() {
    let mut t = Tipring::spawn(
        "cancel",
        &[
            "answer",
            "--listen",
            "127.0.0.1:17401",
            "--answer-after-ms",
            "20000",
            "--calls",
            "1",
        ],
    );
    settle().await;
    let sf = scenario("ua_cancel.xml");
    let mut s = Sipp::spawn(
        "ua-cancel",
        &[
            "-sf",
            &sf,
            "127.0.0.1:17401",
            "-i",
            "127.0.0.1",
            "-p",
            "17402",
            "-m",
            "1",
        ],
    );
    s.expect_success(Duration::from_secs(30)).await;
    let (st, out) = t.wait(Duration::from_secs(10)).await;
    assert!(st.success(), "{out}");
    assert!(out.contains("-> 127.0.0.1:17402 SIP/2.0 487"), "{out}");
    assert!(
        !out.contains("SIP/2.0 200 OK\n-> 127.0.0.1:17402 SIP/2.0 200"),
        "{out}"
    );
}

#[tokio::test]
async fn ua_sipp_busy_486() {
    let mut t = Tipring::spawn(
        "busy",
        &[
            "answer",
            "--listen",
            "127.0.0.1:17403",
            "--busy",
            "--calls",
            "1",
        ],
    );
    settle().await;
    let sf = scenario("ua_busy.xml");
    let mut s = Sipp::spawn(
        "ua-busy",
        &[
            "-sf",
            &sf,
            "127.0.0.1:17403",
            "-i",
            "127.0.0.1",
            "-p",
            "17404",
            "-m",
            "1",
        ],
    );
    s.expect_success(Duration::from_secs(30)).await;
    let (st, out) = t.wait(Duration::from_secs(10)).await;
    assert!(st.success(), "{out}");
    assert!(out.contains("SIP/2.0 486 Busy Here"), "{out}");
}

#[tokio::test]
async fn ua_sipp_bye_with_wrong_tag_gets_481_and_in_dialog_options_200() {
    let mut t = Tipring::spawn(
        "tags",
        &[
            "answer",
            "--listen",
            "127.0.0.1:17405",
            "--answer-after-ms",
            "50",
            "--calls",
            "1",
        ],
    );
    settle().await;
    let sf = scenario("ua_dialog_checks.xml");
    let mut s = Sipp::spawn(
        "ua-tags",
        &[
            "-sf",
            &sf,
            "127.0.0.1:17405",
            "-i",
            "127.0.0.1",
            "-p",
            "17406",
            "-m",
            "1",
        ],
    );
    s.expect_success(Duration::from_secs(30)).await;
    let (st, out) = t.wait(Duration::from_secs(10)).await;
    assert!(st.success(), "{out}");
    assert!(out.contains("SIP/2.0 481"), "{out}");
}

#[tokio::test]
async fn ua_sipp_forked_second_2xx_gets_ack_and_bye() {
    let sf = scenario("ua_fork_uas.xml");
    let mut s = Sipp::spawn(
        "ua-fork",
        &["-sf", &sf, "-i", "127.0.0.1", "-p", "17411", "-m", "1"],
    );
    settle().await;
    let mut t = Tipring::spawn(
        "fork",
        &["call", "sip:x@127.0.0.1:17411", "--hold-secs", "1"],
    );
    let (st, out) = t.wait(Duration::from_secs(20)).await;
    assert!(st.success(), "{out}");
    s.expect_success(Duration::from_secs(20)).await;
    assert_eq!(out.matches("ACK ").count(), 2, "{out}");
    assert_eq!(out.matches("-> 127.0.0.1:17411 BYE ").count(), 2, "{out}");
}

#[tokio::test]
async fn ua_sipp_redirect_302_lands_at_the_new_target() {
    let mut ans = Tipring::spawn(
        "redir-target",
        &[
            "answer",
            "--listen",
            "127.0.0.1:17421",
            "--answer-after-ms",
            "50",
            "--calls",
            "1",
        ],
    );
    let sf = scenario("ua_redirect.xml");
    let mut s = Sipp::spawn(
        "ua-redirect",
        &[
            "-sf",
            &sf,
            "-i",
            "127.0.0.1",
            "-p",
            "17422",
            "-m",
            "1",
            "-set",
            "target",
            "sip:answer@127.0.0.1:17421",
        ],
    );
    settle().await;
    let mut t = Tipring::spawn(
        "redir-call",
        &["call", "sip:x@127.0.0.1:17422", "--hold-secs", "1"],
    );
    let (st, out) = t.wait(Duration::from_secs(20)).await;
    assert!(st.success(), "{out}");
    assert!(out.contains("<- 127.0.0.1:17422 SIP/2.0 302"), "{out}");
    assert!(
        out.contains("-> 127.0.0.1:17421 INVITE sip:answer@127.0.0.1:17421"),
        "{out}"
    );
    assert!(
        !out.contains("127.0.0.1:9 "),
        "the q=0.1 target is not tried: {out}"
    );
    s.expect_success(Duration::from_secs(20)).await;
    let (st, aout) = ans.wait(Duration::from_secs(10)).await;
    assert!(st.success(), "{aout}");
}

#[tokio::test]
async fn ua_cli_call_to_a_busy_answer_exits_with_the_class() {
    let _ans = Tipring::spawn(
        "busy-target",
        &["answer", "--listen", "127.0.0.1:17431", "--busy"],
    );
    settle().await;
    let mut t = Tipring::spawn("busy-call", &["call", "sip:x@127.0.0.1:17431"]);
    let (st, out) = t.wait(Duration::from_secs(20)).await;
    assert_eq!(st.code(), Some(4), "{out}");
    assert!(out.contains("SIP/2.0 486 Busy Here"), "{out}");
}

async fn challenged_call(
    test: &str,
    sipp_port: &str,
    sipp_pass: &str,
    our: &str,
) -> (Option<i32>, String) {
    let sf = scenario("ua_auth_uas.xml");
    let mut s = Sipp::spawn(
        test,
        &[
            "-sf",
            &sf,
            "-i",
            "127.0.0.1",
            "-p",
            sipp_port,
            "-m",
            "1",
            "-set",
            "pass",
            sipp_pass,
        ],
    );
    settle().await;
    let uri = format!("sip:x@127.0.0.1:{sipp_port}");
    let mut t = Tipring::spawn(test, &["call", &uri, "--hold-secs", "1", "--auth", our]);
    let (st, out) = t.wait(Duration::from_secs(20)).await;
    s.expect_success(Duration::from_secs(20)).await;
    (st.code(), out)
}

#[tokio::test]
async fn ua_sipp_401_challenge_answered() {
    let (code, out) = challenged_call("ua-auth-ok", "17441", "pw", "bob:pw").await;
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(
        out.matches("-> 127.0.0.1:17441 INVITE ").count(),
        2,
        "{out}"
    );
}

#[tokio::test]
async fn ua_sipp_wrong_password_does_not_loop() {
    let (code, out) = challenged_call("ua-auth-bad", "17442", "pw", "bob:nope").await;
    assert_eq!(code, Some(7), "AuthFailed: {out}");
    assert_eq!(
        out.matches("-> 127.0.0.1:17442 INVITE ").count(),
        2,
        "{out}"
    );
    assert_eq!(out.matches("SIP/2.0 401").count(), 2, "{out}");
}

#[tokio::test]
async fn ua_sipp_no_common_codec_gets_488() {
    let mut t = Tipring::spawn(
        "codec",
        &["answer", "--listen", "127.0.0.1:17407", "--calls", "1"],
    );
    settle().await;
    let sf = scenario("ua_488.xml");
    let mut s = Sipp::spawn(
        "ua-488",
        &[
            "-sf",
            &sf,
            "127.0.0.1:17407",
            "-i",
            "127.0.0.1",
            "-p",
            "17408",
            "-m",
            "1",
        ],
    );
    s.expect_success(Duration::from_secs(30)).await;
    let (st, out) = t.wait(Duration::from_secs(10)).await;
    assert!(st.success(), "{out}");
    assert!(out.contains("SIP/2.0 488"), "{out}");
}

#[tokio::test]
async fn ua_sipp_reinvite_glare_491_then_retry() {
    let mut t = Tipring::spawn(
        "glare",
        &[
            "answer",
            "--listen",
            "127.0.0.1:17409",
            "--answer-after-ms",
            "50",
            "--hold-after-ms",
            "200",
            "--calls",
            "1",
        ],
    );
    settle().await;
    let sf = scenario("ua_glare.xml");
    let mut s = Sipp::spawn(
        "ua-glare",
        &[
            "-sf",
            &sf,
            "127.0.0.1:17409",
            "-i",
            "127.0.0.1",
            "-p",
            "17410",
            "-m",
            "1",
        ],
    );
    s.expect_success(Duration::from_secs(30)).await;
    let (st, out) = t.wait(Duration::from_secs(10)).await;
    assert!(st.success(), "{out}");
    assert!(out.contains("-> 127.0.0.1:17410 SIP/2.0 491"), "{out}");
    assert!(out.contains("<- 127.0.0.1:17410 SIP/2.0 491"), "{out}");
    assert_eq!(
        out.matches("-> 127.0.0.1:17410 INVITE ").count(),
        2,
        "hold and its retry: {out}"
    );
}
