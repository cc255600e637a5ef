//! Seed §5.2, call flow through a proxy: two `tipring run` gateways with simulated cards,
//! gateway 1 sending its calls through Kamailio (Debian `kamailio`) as a stateful proxy,
//! with record_route on and off. With it, the BYE crosses the proxy; without it, the BYE
//! goes from gateway to gateway directly. What the proxy did is read from its own xlog
//! lines, what the gateways did from the simulated phones — never from tipring's log.

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

/// Kamailio in the foreground on 127.0.0.1:`port`, killed on drop.
struct Proxy {
    child: Option<Child>,
    log: PathBuf,
}

impl Proxy {
    fn start(dir: &Path, port: u16, record_route: bool) -> Proxy {
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
request_route {{
    if (is_method("OPTIONS") && uri == myself) {{ sl_send_reply("200", "OK"); exit; }}
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
    {rr}
    if (!t_relay()) {{ sl_reply_error(); }}
}}
"#
        );
        let path = dir.join("kamailio.cfg");
        std::fs::write(&path, cfg).unwrap();
        let log = dir.join("kamailio.log");
        let child = Command::new("kamailio")
            .args(["-DD", "-E", "-f"])
            .arg(&path)
            .arg("-w")
            .arg(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("kamailio (Debian kamailio) must be installed");
        let p = Proxy {
            child: Some(child),
            log,
        };
        let end = Instant::now() + Duration::from_secs(10);
        while !p.text().contains("INFO: <core>") && Instant::now() < end {
            std::thread::sleep(Duration::from_millis(100));
        }
        std::thread::sleep(Duration::from_millis(500));
        p
    }

    fn text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Our script's xlog lines.
    fn lines(&self) -> Vec<String> {
        self.text()
            .lines()
            .filter_map(|l| l.split_once("tipring-test: ").map(|(_, r)| r.to_owned()))
            .collect()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn phone(number: &str) -> String {
    format!("[[ports]]\nindex = 0\nkind = \"fxs\"\nnumber = \"{number}\"\ndial_plan = \"ext\"\n")
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

fn tone_passes(from: &Node, to: &Node, freq: f32) {
    let cap = Capture::default();
    to.card.add_sink(0, Box::new(cap.clone()));
    let t0 = Instant::now();
    let (src, started) = ToneSource::new(freq, -10.0, 30);
    from.card.play(0, Box::new(src));
    std::thread::sleep(Duration::from_millis(30 * 20 + 500));
    let start = started.lock().unwrap().expect("tone played");
    let f = analyse(&cap.since(t0), freq, -10.0, start).expect("tone arrived");
    assert!((f.frequency_hz - freq).abs() < freq * 0.02, "{f:?}");
}

fn call_through_proxy(record_route: bool) -> Vec<String> {
    let tag = if record_route { "rr" } else { "norr" };
    let tmp = TempDir::new(&format!("tipring-kam-gw-{tag}")).unwrap();
    let port = testbed::free_sip_port().unwrap();
    let kam_port = UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let proxy = Proxy::start(&tmp.0, kam_port, record_route);
    let a1 = SocketAddr::from(([127, 0, 0, 1], port));
    let a2 = SocketAddr::from(([127, 0, 0, 2], port));
    let kam = SocketAddr::from(([127, 0, 0, 1], kam_port));
    // Gateway 1's numbers live at gateway 2's domain, reached through the proxy.
    let cfg1 = testbed::config(a1, kam, &phone("100")).replace(
        &format!("proxy = \"sip:{kam}\""),
        &format!("proxy = \"sip:{kam};lr\"\ndomain = \"{a2}\""),
    );
    assert!(cfg1.contains("domain"), "the account template changed");
    let mut g1 = Node::prepare("gw1", &tmp.0.join("gw1"), a1).unwrap();
    let mut g2 = Node::prepare("gw2", &tmp.0.join("gw2"), a2).unwrap();
    g1.start(Path::new(EXE), &cfg1, 21).unwrap();
    g2.start(Path::new(EXE), &testbed::config(a2, a1, &phone("200")), 22)
        .unwrap();
    assert!(g1.wait_link(Duration::from_secs(10)) && g2.wait_link(Duration::from_secs(10)));
    std::thread::sleep(Duration::from_millis(300));

    run(&g1, "offhook 0\nexpect-tone 0 350+440 4s\ndial 0 200");
    run(&g2, "expect-ringing 0 5s\noffhook 0\nwait 300ms");
    tone_passes(&g1, &g2, 1000.0);
    tone_passes(&g2, &g1, 1400.0);
    run(&g1, "onhook 0");
    run(&g2, "expect-tone 0 480+620 5s\nonhook 0");
    for g in [&mut g1, &mut g2] {
        let s = g.terminate(Duration::from_secs(8));
        assert!(s.is_some_and(|s| s.success()), "{} exit {s:?}", g.name);
    }
    let lines = proxy.lines();
    assert!(
        lines.iter().any(|l| l.starts_with("INVITE sip:200@")),
        "the INVITE crossed the proxy: {lines:?}"
    );
    lines
}

#[test]
fn with_record_route_the_bye_crosses_the_proxy() {
    let _serial = serial();
    let lines = call_through_proxy(true);
    assert!(
        lines.iter().any(|l| l == "in-dialog BYE routed"),
        "{lines:?}"
    );
}

#[test]
fn without_record_route_the_bye_goes_direct() {
    let _serial = serial();
    let lines = call_through_proxy(false);
    assert!(!lines.iter().any(|l| l.starts_with("BYE")), "{lines:?}");
    assert!(!lines.iter().any(|l| l.contains("in-dialog")), "{lines:?}");
}

/// Kamailio playing the three servers of seed §5.3 on three ports of 127.0.0.1: proxy C
/// (`c`) asks the redirect server (`r`), which answers 302 towards proxy S (`s`); proxy S
/// is also the registrar and finds the callee's gateway in its location table.
fn start_servers(dir: &Path, c: u16, r: u16, s: u16) -> Proxy {
    let cfg = format!(
        r#"#!KAMAILIO
debug=2
log_stderror=yes
children=1
auto_aliases=no
listen=udp:127.0.0.1:{c}
listen=udp:127.0.0.1:{r}
listen=udp:127.0.0.1:{s}
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
loadmodule "acc.so"
loadmodule "uac_redirect.so"
modparam("usrloc", "db_mode", 0)
modparam("registrar", "min_expires", 1)
request_route {{
    if (is_method("OPTIONS") && uri == myself) {{ sl_send_reply("200", "OK"); exit; }}
    if (!mf_process_maxfwd_header("10")) {{ sl_send_reply("483", "Too Many Hops"); exit; }}
    if (has_totag()) {{
        if (loose_route()) {{ t_relay(); exit; }}
        if (is_method("ACK")) {{ if (t_check_trans()) {{ t_relay(); }} exit; }}
        sl_send_reply("404", "Not here");
        exit;
    }}
    if (is_method("CANCEL")) {{ if (t_check_trans()) {{ t_relay(); }} exit; }}
    if ($Rp == {r}) {{
        xlog("L_NOTICE", "tipring-test: redirect $rm $ru\n");
        append_to_reply("Contact: <sip:$rU@127.0.0.1:{s}>\r\n");
        sl_send_reply("302", "Moved Temporarily");
        exit;
    }}
    if ($Rp == {s}) {{
        if (is_method("REGISTER")) {{
            xlog("L_NOTICE", "tipring-test: registrar saves $tu\n");
            save("location");
            exit;
        }}
        if (!lookup("location")) {{
            xlog("L_NOTICE", "tipring-test: S finds no $rU\n");
            sl_send_reply("404", "Not Found");
            exit;
        }}
        xlog("L_NOTICE", "tipring-test: S sends $rm to $ru\n");
        t_relay();
        exit;
    }}
    xlog("L_NOTICE", "tipring-test: C asks the redirect server for $rm $ru\n");
    $du = "sip:127.0.0.1:{r}";
    t_on_failure("REDIRECTED");
    t_relay();
}}
failure_route[REDIRECTED] {{
    if (t_check_status("3[0-9][0-9]")) {{
        get_redirects("*");
        xlog("L_NOTICE", "tipring-test: C follows the redirect\n");
        t_relay();
    }}
}}
"#
    );
    let path = dir.join("servers.cfg");
    std::fs::write(&path, cfg).unwrap();
    let log = dir.join("servers.log");
    let child = Command::new("kamailio")
        .args(["-DD", "-E", "-f"])
        .arg(&path)
        .arg("-w")
        .arg(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .expect("kamailio (Debian kamailio) must be installed");
    let p = Proxy {
        child: Some(child),
        log,
    };
    let end = Instant::now() + Duration::from_secs(10);
    while !p.text().contains("INFO: <core>") && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(500));
    p
}

fn free_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Seed §5.3: gateway 2 registers its phone's number with the registrar; gateway 1 sends
/// the call to proxy C, which a redirect server sends (302) to proxy S, which finds
/// gateway 2 at the registrar; the call completes.
#[test]
fn call_through_proxy_redirect_server_and_registrar() {
    let _serial = serial();
    let tmp = TempDir::new("tipring-kam-gw-53").unwrap();
    let port = testbed::free_sip_port().unwrap();
    let (c, r, s) = (free_port(), free_port(), free_port());
    let servers = start_servers(&tmp.0, c, r, s);
    let a1 = SocketAddr::from(([127, 0, 0, 1], port));
    let a2 = SocketAddr::from(([127, 0, 0, 2], port));
    let proxy_c = SocketAddr::from(([127, 0, 0, 1], c));
    let cfg1 = testbed::config(a1, proxy_c, &phone("100")).replace(
        &format!("proxy = \"sip:{proxy_c}\""),
        &format!("proxy = \"sip:{proxy_c};lr\"\ndomain = \"example.test\""),
    );
    let cfg2 = testbed::config(a2, a1, &phone("200")).replace(
        &format!("proxy = \"sip:{a1}\""),
        &format!("registrar = \"sip:127.0.0.1:{s}\"\nusername = \"200\"\nregister_expiry_s = 60"),
    );
    assert!(cfg1.contains("domain") && cfg2.contains("registrar"));
    let mut g1 = Node::prepare("gw1", &tmp.0.join("gw1"), a1).unwrap();
    let mut g2 = Node::prepare("gw2", &tmp.0.join("gw2"), a2).unwrap();
    g2.start(Path::new(EXE), &cfg2, 32).unwrap();
    g1.start(Path::new(EXE), &cfg1, 31).unwrap();
    assert!(g1.wait_link(Duration::from_secs(10)) && g2.wait_link(Duration::from_secs(10)));
    // Registered before the call.
    let end = Instant::now() + Duration::from_secs(5);
    while !servers
        .lines()
        .iter()
        .any(|l| l.starts_with("registrar saves"))
    {
        if Instant::now() > end {
            for l in g2.lines() {
                eprintln!("{}: {}", l.node, l.text);
            }
            eprintln!("{}", servers.text());
            panic!("no REGISTER: {:?}", servers.lines());
        }
        std::thread::sleep(Duration::from_millis(50));
    }

    run(&g1, "offhook 0\nexpect-tone 0 350+440 4s\ndial 0 200");
    run(&g2, "expect-ringing 0 5s\noffhook 0\nwait 300ms");
    tone_passes(&g1, &g2, 1000.0);
    tone_passes(&g2, &g1, 1400.0);
    run(&g2, "onhook 0");
    // Cleared by the callee this time: the caller hears reorder.
    run(&g1, "expect-tone 0 480+620 5s\nonhook 0");
    for g in [&mut g1, &mut g2] {
        let st = g.terminate(Duration::from_secs(8));
        assert!(st.is_some_and(|st| st.success()), "{} exit {st:?}", g.name);
    }
    let lines = servers.lines();
    let order = [
        "registrar saves sip:200@",
        "C asks the redirect server for INVITE sip:200@example.test",
        "redirect INVITE sip:200@example.test",
        // Reaching S at all is following the redirect's Contact (S's port).
        "C follows the redirect",
        &format!("S sends INVITE to sip:200@{}", a2.ip()),
    ];
    let mut at = 0;
    for want in order {
        match lines[at..].iter().position(|l| l.starts_with(want)) {
            Some(i) => at += i + 1,
            None => panic!("`{want}` not found in order in {lines:?}"),
        }
    }
}
