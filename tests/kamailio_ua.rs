//! The UA core against Kamailio (Debian `kamailio`), configured by each test on its own
//! loopback port: as a registrar with digest auth (`pv_auth_check` against a password in a
//! script variable), and as a stateful proxy with record_route switched on and off. What
//! happened is read from Kamailio's own log (xlog lines), not from tipring's words.

use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// A Kamailio in the foreground, killed on drop.
struct Kamailio {
    child: Option<Child>,
    log: PathBuf,
}

impl Kamailio {
    fn start(test: &str, port: u16, record_route: bool) -> Kamailio {
        let dir = std::env::temp_dir().join(format!("tipring-kam-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        let rr = if record_route { "record_route();" } else { "" };
        let cfg = format!(
            r#"#!KAMAILIO
debug=2
log_stderror=yes
children=1
auto_aliases=no
listen=udp:127.0.0.1:{port}
mpath="/usr/lib/x86_64-linux-gnu/kamailio/modules/"
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "textops.so"
loadmodule "siputils.so"
loadmodule "xlog.so"
loadmodule "usrloc.so"
loadmodule "registrar.so"
loadmodule "auth.so"
modparam("usrloc", "db_mode", 0)
modparam("registrar", "min_expires", 1)
request_route {{
    xlog("L_NOTICE", "tipring-test: $rm $ru from $si:$sp\n");
    if (!mf_process_maxfwd_header("10")) {{ sl_send_reply("483", "Too Many Hops"); exit; }}
    if (has_totag()) {{
        if (loose_route()) {{
            xlog("L_NOTICE", "tipring-test: in-dialog $rm routed\n");
            t_relay();
            exit;
        }}
        if (is_method("ACK")) {{ if (t_check_trans()) {{ t_relay(); }} exit; }}
        sl_send_reply("404", "Not here");
        exit;
    }}
    if (is_method("CANCEL")) {{ if (t_check_trans()) {{ t_relay(); }} exit; }}
    if (is_method("REGISTER")) {{
        $var(pw) = "secret";
        if (!pv_auth_check("$fd", "$var(pw)", "0", "0")) {{
            xlog("L_NOTICE", "tipring-test: challenge $fu\n");
            auth_challenge("$fd", "0");
            exit;
        }}
        xlog("L_NOTICE", "tipring-test: authenticated $fu expires $hdr(Expires)\n");
        if (!save("location")) {{ sl_reply_error(); }}
        exit;
    }}
    {rr}
    if (!t_relay()) {{ sl_reply_error(); }}
}}
"#
        );
        let path = dir.join("kamailio.cfg");
        std::fs::write(&path, cfg).expect("write cfg");
        let log = dir.join("log");
        let child = Command::new("kamailio")
            .args(["-DD", "-E", "-f"])
            .arg(&path)
            .arg("-w")
            .arg(&dir)
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(dir.join("stdout")).expect("stdout"))
            .stderr(std::fs::File::create(&log).expect("log"))
            .spawn()
            .expect("kamailio (Debian kamailio) must be installed");
        let k = Kamailio {
            child: Some(child),
            log,
        };
        // Ready when the worker logs that it listens.
        let end = Instant::now() + Duration::from_secs(10);
        while !k.log().contains("INFO: <core>") && Instant::now() < end {
            std::thread::sleep(Duration::from_millis(100));
        }
        std::thread::sleep(Duration::from_millis(500));
        k
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The xlog lines of our script.
    fn lines(&self) -> Vec<String> {
        self.log()
            .lines()
            .filter_map(|l| l.split_once("tipring-test: ").map(|(_, r)| r.to_owned()))
            .collect()
    }
}

impl Drop for Kamailio {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// A `tipring` subcommand, killed on drop.
struct Tipring {
    child: Option<Child>,
    out: PathBuf,
}

impl Tipring {
    fn spawn(test: &str, args: &[&str]) -> Tipring {
        let dir = std::env::temp_dir().join(format!("tipring-kamua-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        let out = dir.join("stdout");
        let child = Command::new(env!("CARGO_BIN_EXE_tipring"))
            .args(args)
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&out).expect("stdout"))
            .stderr(std::fs::File::create(dir.join("stderr")).expect("stderr"))
            .spawn()
            .expect("tipring");
        Tipring {
            child: Some(child),
            out,
        }
    }

    fn interrupt(&self) {
        if let Some(c) = &self.child {
            let _ = Command::new("kill")
                .args(["-INT", &c.id().to_string()])
                .status();
        }
    }

    fn wait(&mut self, limit: Duration) -> (ExitStatus, String) {
        let end = Instant::now() + limit;
        loop {
            let c = self.child.as_mut().expect("running");
            if let Some(s) = c.try_wait().expect("try_wait") {
                self.child = None;
                return (s, std::fs::read_to_string(&self.out).unwrap_or_default());
            }
            assert!(
                Instant::now() < end,
                "tipring did not finish: {}",
                std::fs::read_to_string(&self.out).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
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

#[test]
fn kamailio_registrar_challenge_refresh_unregister() {
    let k = Kamailio::start("reg", 17501, false);
    let mut t = Tipring::spawn(
        "reg",
        &[
            "register",
            "sip:127.0.0.1:17501",
            "--user",
            "alice",
            "--auth",
            "alice:secret",
            "--expires",
            "4",
        ],
    );
    // Granted 4 s: refreshed at 2 s and 4 s.
    std::thread::sleep(Duration::from_millis(5000));
    t.interrupt();
    let (st, out) = t.wait(Duration::from_secs(10));
    assert!(st.success(), "{out}");
    let lines = k.lines();
    let auth4 = lines
        .iter()
        .filter(|l| l.starts_with("authenticated sip:alice@127.0.0.1:17501 expires 4"))
        .count();
    assert!(auth4 >= 2, "registered and refreshed: {lines:#?}");
    assert!(
        lines.iter().any(|l| l.starts_with("challenge sip:alice@")),
        "{lines:#?}"
    );
    assert_eq!(
        lines.last().map(String::as_str),
        Some("authenticated sip:alice@127.0.0.1:17501 expires 0"),
        "unregistered last: {lines:#?}"
    );
}

#[test]
fn kamailio_registrar_wrong_password_no_loop() {
    let k = Kamailio::start("badpw", 17502, false);
    let mut t = Tipring::spawn(
        "badpw",
        &[
            "register",
            "sip:127.0.0.1:17502",
            "--user",
            "alice",
            "--auth",
            "alice:wrong",
            "--once",
        ],
    );
    let (st, out) = t.wait(Duration::from_secs(10));
    assert_eq!(st.code(), Some(1), "{out}");
    std::thread::sleep(Duration::from_millis(300));
    let lines = k.lines();
    assert_eq!(
        lines.iter().filter(|l| l.starts_with("REGISTER ")).count(),
        2,
        "{lines:#?}"
    );
    assert!(
        !lines.iter().any(|l| l.starts_with("authenticated")),
        "{lines:#?}"
    );
}

/// A call from `tipring call` through the proxy to `tipring answer`; the proxy's log lines.
fn call_through_proxy(test: &str, kport: u16, aport: u16, rr: bool) -> (Vec<String>, String) {
    let k = Kamailio::start(test, kport, rr);
    let listen = format!("127.0.0.1:{aport}");
    let mut ans = Tipring::spawn(
        &format!("{test}-answer"),
        &[
            "answer",
            "--listen",
            &listen,
            "--answer-after-ms",
            "100",
            "--calls",
            "1",
        ],
    );
    std::thread::sleep(Duration::from_millis(300));
    let uri = format!("sip:x@{listen}");
    let proxy = format!("sip:127.0.0.1:{kport}");
    let mut c = Tipring::spawn(
        &format!("{test}-call"),
        &["call", &uri, "--proxy", &proxy, "--hold-secs", "1"],
    );
    let (st, out) = c.wait(Duration::from_secs(20));
    assert!(st.success(), "{out}");
    let (st, aout) = ans.wait(Duration::from_secs(10));
    assert!(st.success(), "{aout}");
    std::thread::sleep(Duration::from_millis(300));
    (k.lines(), out)
}

#[test]
fn kamailio_proxy_with_record_route_carries_the_bye() {
    let (lines, out) = call_through_proxy("rr-on", 17503, 17504, true);
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("INVITE sip:x@127.0.0.1:17504")),
        "{lines:#?}"
    );
    assert!(
        lines.iter().any(|l| l == "in-dialog BYE routed"),
        "{lines:#?}"
    );
    assert!(
        lines.iter().any(|l| l == "in-dialog ACK routed"),
        "{lines:#?}"
    );
    assert!(
        out.contains("-> 127.0.0.1:17503 BYE sip:answer@127.0.0.1:17504"),
        "{out}"
    );
}

#[test]
fn kamailio_proxy_without_record_route_bye_goes_direct() {
    let (lines, out) = call_through_proxy("rr-off", 17505, 17506, false);
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("INVITE sip:x@127.0.0.1:17506")),
        "{lines:#?}"
    );
    assert!(
        !lines
            .iter()
            .any(|l| l.starts_with("BYE ") || l.contains(" BYE ")),
        "{lines:#?}"
    );
    assert!(!lines.iter().any(|l| l.starts_with("ACK ")), "{lines:#?}");
    assert!(
        out.contains("-> 127.0.0.1:17506 BYE sip:answer@127.0.0.1:17506"),
        "{out}"
    );
}
