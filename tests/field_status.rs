//! What an installer sees of a running gateway: `tipring status` (the real binary asking
//! the control socket) and the metrics endpoint while one phone calls another through two
//! `tipring run` gateways, the account's registration with sipp as the registrar, the
//! call records both gateways wrote once the call was over, and the call's SIP ladder and
//! RTP headers in the pcap `tipring capture` wrote, as tshark decodes it.

mod common;

use common::gateway::{Conf, EXE, fxs, run, serial, sipp, start, tone_passes, wait_exit_ok};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};
use testkit::testbed::TempDir;
use testkit::tshark::{SEED_5_1, ladder, sip_packets, without_trying};

/// `tipring status` (with `--json` when `json`) against `socket`: its output.
fn status(socket: &Path, json: bool) -> String {
    let mut c = Command::new(EXE);
    c.arg("status").arg("--socket").arg(socket);
    if json {
        c.arg("--json");
    }
    let out = c.output().expect("tipring status runs");
    assert!(
        out.status.success(),
        "tipring status: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8")
}

fn status_json(socket: &Path) -> serde_json::Value {
    serde_json::from_str(&status(socket, true)).expect("status is JSON")
}

/// `GET path` on the metrics listener: status line and body.
fn get(addr: SocketAddr, path: &str) -> (String, String) {
    let mut s = TcpStream::connect(addr).expect("metrics listener");
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: {addr}\r\n\r\n").unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let (head, body) = out.split_once("\r\n\r\n").expect("an HTTP answer");
    (
        head.lines().next().unwrap_or_default().to_owned(),
        body.to_owned(),
    )
}

/// Waits until `f` holds for the status at `socket`.
fn status_until(
    socket: &Path,
    what: &str,
    f: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let end = Instant::now() + Duration::from_secs(10);
    loop {
        let s = status_json(socket);
        if f(&s) {
            return s;
        }
        assert!(Instant::now() < end, "{what}: {s:#}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// tshark's `fields` of the SIP messages in `pcap` matching `filter`, a row per message.
fn tshark_fields(pcap: &Path, filter: &str, fields: &[&str]) -> Vec<Vec<String>> {
    let mut c = Command::new("tshark");
    c.arg("-r").arg(pcap);
    c.args([
        "-d",
        "udp.port==25083,sip",
        "-Y",
        filter,
        "-T",
        "fields",
        "-E",
        "separator=|",
    ]);
    for f in fields {
        c.args(["-e", f]);
    }
    let out = c.output().expect("tshark -r");
    assert!(
        out.status.success(),
        "tshark: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.split('|').map(str::to_owned).collect())
        .collect()
}

/// tshark's RTP packets in `pcap` (found by its heuristic: the ports are random): SSRC,
/// sequence number, captured and original length.
fn rtp_fields(pcap: &Path) -> Vec<Vec<String>> {
    let out = Command::new("tshark")
        .arg("-r")
        .arg(pcap)
        .args([
            "-o",
            "rtp.heuristic_rtp:TRUE",
            "-Y",
            "rtp && !rtcp",
            "-T",
            "fields",
        ])
        .args(["-E", "separator=|", "-e", "rtp.ssrc", "-e", "rtp.seq"])
        .args(["-e", "frame.cap_len", "-e", "frame.len"])
        .output()
        .expect("tshark -r");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.split('|').map(str::to_owned).collect())
        .collect()
}

/// The records of `file`, one JSON value per line.
fn records(file: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(file)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).expect("a record is one JSON line"))
        .collect()
}

#[test]
fn status_metrics_and_records_follow_a_call_between_two_gateways() {
    let _serial = serial();
    let tmp = TempDir::new("field-status").unwrap();
    let a1 = SocketAddr::from(([127, 0, 83, 1], 25083));
    let a2 = SocketAddr::from(([127, 0, 83, 2], 25083));
    let registrar = SocketAddr::from(([127, 0, 83, 9], 25083));
    let metrics = SocketAddr::from(([127, 0, 83, 1], 25084));
    let (d1, d2) = (tmp.0.join("gw1"), tmp.0.join("gw2"));
    let (sock1, sock2) = (d1.join("control.sock"), d2.join("control.sock"));
    let (rec1, rec2) = (d1.join("calls.jsonl"), d2.join("calls.jsonl"));
    let mut reg = sipp(&tmp.0, "gw_registrar.xml", registrar, &[]);
    std::thread::sleep(Duration::from_millis(300));
    let operator = |sock: &Path, rec: &Path| {
        format!(
            "[control]\nsocket = \"{}\"\n\n[records]\nfile = \"{}\"\n",
            sock.display(),
            rec.display()
        )
    };
    let c1 = Conf::new(a1)
        .account("peer", &format!("proxy = \"sip:{a2}\""))
        .account(
            "pbx",
            &format!(
                "registrar = \"sip:{registrar}\"\nusername = \"gw1\"\n\
                 password = \"secret-pass\"\nregister_expiry_s = 600"
            ),
        )
        .ports(&fxs("100", "Alice"))
        .trust("127.0.83.0/24")
        .table(&operator(&sock1, &rec1))
        .table(&format!("[metrics]\nlisten = \"{metrics}\"\n"))
        .table("[capture]\nrtp_bytes = 262144\n");
    let c2 = Conf::new(a2)
        .account("peer", &format!("proxy = \"sip:{a1}\""))
        .ports(&fxs("200", "Bob"))
        .trust("127.0.83.0/24")
        .table(&operator(&sock2, &rec2));
    let mut g1 = start("gw1", &d1, a1, &c1, 31);
    let mut g2 = start("gw2", &d2, a2, &c2, 32);

    // Only the service's group may ask.
    let mode = std::fs::metadata(&sock1).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o660, "{mode:o}");
    // Idle: both lines, no call; the registrar granted 600 s.
    let s = status_until(&sock1, "registered", |s| {
        s["registrations"][0]["state"] == "registered"
    });
    assert_eq!(s["registrations"][0]["account"], "pbx");
    assert!(
        s["registrations"][0]["expires_in_s"].as_u64().unwrap() > 590,
        "{s:#}"
    );
    assert_eq!(s["ports"][0]["state"], "Idle");
    assert!(s["ports"][0]["call"].is_null());
    assert!(!status(&sock1, true).contains("secret-pass"));

    run(&g1, "offhook 0\nexpect-tone 0 350+440 8s\ndial 0 200");
    run(&g2, "expect-ringing 0 8s");
    let ringing = status_json(&sock1);
    let call = &ringing["ports"][0]["call"];
    assert_eq!(call["direction"], "outgoing", "{ringing:#}");
    assert_eq!(call["answered"], false);
    assert!(
        call["called"].as_str().unwrap().starts_with("sip:200@"),
        "{call}"
    );
    run(&g2, "offhook 0\nwait 300ms");
    tone_passes(&g1, 0, &g2, 0, 1000.0);
    // Up with audio both ways: the codec, RTP counters and a MOS on both gateways.
    let up = status_until(&sock1, "RTP received", |s| {
        s["ports"][0]["call"]["rtp"]["received"]
            .as_u64()
            .unwrap_or(0)
            > 25
    });
    let call = &up["ports"][0]["call"];
    assert_eq!(call["answered"], true);
    assert_eq!(call["codec"], "PCMU");
    assert!(call["mos"].as_f64().unwrap() > 4.0, "{call}");
    let far = status_json(&sock2);
    assert_eq!(far["ports"][0]["call"]["direction"], "incoming", "{far:#}");
    assert_eq!(far["ports"][0]["call"]["call_id"], call["call_id"]);
    // `--config` finds the socket the configuration names.
    let by_config = Command::new(EXE)
        .args(["status", "--json", "--config"])
        .arg(d2.join("tipring.toml"))
        .output()
        .expect("tipring status runs");
    let by_config: serde_json::Value =
        serde_json::from_slice(&by_config.stdout).expect("status is JSON");
    assert_eq!(by_config["ports"][0]["call"]["call_id"], call["call_id"]);
    let text = status(&sock1, false);
    println!("{text}");
    assert!(text.contains("out ") && text.contains("PCMU"), "{text}");
    assert!(
        text.contains("pbx") && text.contains("registered"),
        "{text}"
    );

    // The metrics say the same; nothing else is served.
    let (st, body) = get(metrics, "/metrics");
    assert_eq!(st, "HTTP/1.1 200 OK", "{body}");
    assert!(
        body.contains("tipring_calls_total{direction=\"outgoing\"} 1\n"),
        "{body}"
    );
    assert!(
        body.contains("tipring_port_busy{port=\"0\",kind=\"fxs\"} 1\n"),
        "{body}"
    );
    assert!(
        body.contains("tipring_registration_up{account=\"pbx\"} 1\n"),
        "{body}"
    );
    assert!(body.ends_with("# EOF\n"));
    assert_eq!(get(metrics, "/").0, "HTTP/1.1 404 Not Found");

    run(&g1, "wait 1000ms\nonhook 0");
    run(&g2, "expect-tone 0 480+620 8s\nonhook 0\nwait 300ms");
    let after = status_until(&sock1, "the call is over", |s| {
        s["ports"][0]["call"].is_null()
    });
    assert_eq!(after["ports"][0]["last_call"]["cause"], "local_hangup");
    assert_eq!(after["calls"]["answered"], 1);

    // One record on each side: same Call-ID, the same end seen from both.
    let r1 = records(&rec1);
    let r2 = records(&rec2);
    assert_eq!((r1.len(), r2.len()), (1, 1), "{r1:?} {r2:?}");
    let (r1, r2) = (&r1[0], &r2[0]);
    assert_eq!(r1["call_id"], r2["call_id"]);
    assert_eq!(
        (&r1["direction"], &r2["direction"]),
        (&"outgoing".into(), &"incoming".into())
    );
    assert_eq!(
        (&r1["sip_code"], &r2["sip_code"]),
        (&200.into(), &200.into())
    );
    assert_eq!(r1["cause"], "local_hangup", "{r1}");
    assert_eq!(r2["cause"], "remote_hangup", "{r2}");
    assert_eq!(r1["codec"], "PCMU");
    let duration = r1["duration_s"].as_f64().unwrap();
    assert!((1.0..15.0).contains(&duration), "{r1}");
    assert!(r1["rtp"]["received"].as_u64().unwrap() > 50, "{r1}");
    assert!(r1["mos"].as_f64().unwrap() > 4.0, "{r1}");
    assert!(r1["answer"].as_str().unwrap() > r1["start"].as_str().unwrap());
    let mode = std::fs::metadata(&rec1).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode & 0o007, 0, "records are not for everyone: {mode:o}");

    // The call as a support desk gets it: `tipring capture`, read by tshark.
    let pcap = tmp.0.join("last.pcap");
    let out = Command::new(EXE)
        .args(["capture", "--last", "5m", "--socket"])
        .arg(&sock1)
        .arg(&pcap)
        .output()
        .expect("tipring capture runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ladder = without_trying(ladder(&sip_packets(&pcap, &[a1.port()]), a1, a2));
    assert_eq!(ladder, SEED_5_1);
    // The registration is in it too, its digest answer blanked.
    let auth = tshark_fields(&pcap, "sip.Method == \"REGISTER\"", &["sip.Authorization"]);
    assert!(
        auth.iter()
            .flatten()
            .any(|a| a.contains("response=\"xxxxxxxx")),
        "{auth:?}"
    );

    // The call's RTP, both ways, as headers only: sequence numbers, no voice.
    let rtp = rtp_fields(&pcap);
    let ssrcs: std::collections::BTreeSet<&str> = rtp.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(ssrcs.len(), 2, "one stream each way: {ssrcs:?}");
    assert!(rtp.len() > 100, "{} RTP packets", rtp.len());
    for r in &rtp {
        let (cap, len): (usize, usize) = (r[2].parse().unwrap(), r[3].parse().unwrap());
        assert_eq!(cap, 20 + 8 + 12, "header only: {r:?}");
        assert_eq!(len, 20 + 8 + 12 + 160, "the packet's length kept: {r:?}");
    }

    wait_exit_ok(&mut g1);
    wait_exit_ok(&mut g2);
    assert!(!sock1.exists(), "the socket goes with the gateway");
    let (st, out) = reg.wait(Duration::from_secs(10));
    assert!(
        st.success(),
        "sipp registrar (REGISTER, unREGISTER at exit): {out}"
    );
}
