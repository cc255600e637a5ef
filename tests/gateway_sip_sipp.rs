//! The gateway's SIP side on real sockets (`gateway::sip_side::io::run`) against sipp, in
//! this process (no gateway binary): a port calls sipp's UAS and hangs up (or the driver is
//! stopped mid-call); sipp calls an FXS port over UDP and TCP, with and without an offer in
//! the INVITE; an untrusted INVITE toward an FXO line gets 403 and never reaches a port;
//! the account registers with digest at a sipp registrar and unregisters at shutdown.
//! Ports are ephemeral; sipp children are killed on drop.
//!
//! Two whole-process tests (`tipring run` with a simulated card on 127.0.44.1, sipp on
//! 127.0.44.2, one at a time by `common::gateway::serial`): an untrusted sipp authenticates toward an FXO line when the gateway
//! challenges with MD5 only (`[security] auth_algorithms`), and cannot with the default
//! SHA-256-first challenges, since sipp answers only the first challenge and only in MD5.

mod common;
#[path = "sipp/harness.rs"]
mod harness;

use common::gateway::{Conf, commands, run, seized, serial, start, wait_exit_ok};
use harness::{Sipp, scenario};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;
use testkit::testbed::{Node, TempDir};
use tipring::call::{SipEvent, SipIntent};
use tipring::config::Loaded;
use tipring::gateway::sip_side::{PortEvent, SipSide, io};
use tipring_hal::model::Command;
use tokio::sync::{mpsc, watch};

/// A UDP port free on 127.0.0.1 right now (so copies of these tests running at the same
/// time in other checkouts do not collide on fixed ports).
fn free_port() -> u16 {
    free_port_on("127.0.0.1")
}

/// A UDP port free on `ip` right now.
fn free_port_on(ip: &str) -> u16 {
    std::net::UdpSocket::bind((ip, 0))
        .and_then(|s| s.local_addr())
        .expect("an ephemeral port")
        .port()
}

/// sipp running tests/sipp/`name` for one call on 127.0.0.1:`port`: a UAC toward `target`,
/// or a UAS waiting for one (`None`).
fn sipp_once(tag: &str, name: &str, target: Option<&str>, port: &str) -> Sipp {
    let scenario = scenario(name);
    let mut args = vec!["-sf", scenario.as_str()];
    args.extend(target);
    args.extend(["-i", "127.0.0.1", "-p", port, "-m", "1"]);
    Sipp::spawn(tag, &args)
}

fn config(listen: &str, trusted: &str) -> Loaded {
    config_with(listen, trusted, "", "udp")
}

/// As [`config`], with `accounts` (TOML `[[accounts]]` tables) first.
fn config_with(listen: &str, trusted: &str, accounts: &str, transport: &str) -> Loaded {
    let text = format!(
        r#"board = "sim"
{accounts}
[[identity.listen]]
transport = "{transport}"
address = "{listen}"
[[ports]]
index = 0
kind = "fxs"
number = "201"
display_name = "Kitchen"
dial_plan = "p"
[[ports]]
index = 2
kind = "fxo"
inbound = "two-stage"
dial_plan = "p"
disa_pin = "590713"
[dial_plans]
p = "x.T"
[security]
trusted_peers = ["{trusted}"]
# sipp calls the FXS port directly, without a proxy, from an untrusted address.
fxs_inbound = "any"
"#
    );
    let board = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("board");
    tipring::config::load_str("test.toml", &text, &board).expect("valid config")
}

/// The SIP side of `cfg` at `listen`, driven by `io::run` on a task.
struct Gateway {
    intents: mpsc::Sender<(u8, SipIntent)>,
    events: mpsc::Receiver<PortEvent>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<Result<(), io::DriverError>>,
    seen: Vec<PortEvent>,
}

impl Gateway {
    /// Port `port` places a call to `target` (no caller ID of its own).
    async fn place_call(&self, port: u8, target: &str) {
        let call = SipIntent::PlaceCall {
            target: target.to_owned(),
            caller: Default::default(),
            hide_caller_id: None,
        };
        self.intents.send((port, call)).await.unwrap();
    }

    fn start(cfg: &Loaded, listen: &str) -> Gateway {
        let local: SocketAddr = listen.parse().unwrap();
        let rtp: BTreeMap<u8, SocketAddr> = [(0, 40000), (2, 40002)]
            .into_iter()
            .map(|(i, p)| (i, SocketAddr::new(local.ip(), p)))
            .collect();
        let side = SipSide::new(cfg, local, &rtp, Some(7), Default::default()).expect("side");
        let (itx, irx) = mpsc::channel(16);
        let (etx, erx) = mpsc::channel(256);
        let (stx, srx) = watch::channel(false);
        // Nobody asks this side for its status.
        let (_, status) = mpsc::channel(1);
        let task = tokio::spawn(io::run(side, irx, etx, srx, status));
        Gateway {
            intents: itx,
            events: erx,
            stop: stx,
            task,
            seen: Vec::new(),
        }
    }

    /// The next port-machine event of `port`, within `limit`.
    async fn next_call(&mut self, port: u8, limit: Duration) -> SipEvent {
        let end = tokio::time::Instant::now() + limit;
        loop {
            let e = tokio::time::timeout_at(end, self.events.recv())
                .await
                .unwrap_or_else(|_| panic!("no call event for port {port}; saw {:?}", self.seen))
                .expect("driver running");
            self.seen.push(e.clone());
            if let PortEvent::Call { port: p, event } = e
                && p == port
            {
                return event;
            }
        }
    }

    /// Everything reported in the next `d`.
    async fn drain_for(&mut self, d: Duration) {
        let end = tokio::time::Instant::now() + d;
        while let Ok(Some(e)) = tokio::time::timeout_at(end, self.events.recv()).await {
            self.seen.push(e);
        }
    }

    fn media(&self, port: u8) -> Vec<tipring::gateway::sip_side::MediaParams> {
        self.seen
            .iter()
            .filter_map(|e| match e {
                PortEvent::Media { port: p, media } if *p == port => Some(*media),
                _ => None,
            })
            .collect()
    }

    async fn stop(self) {
        self.stop.send(true).expect("driver listening");
        let r = tokio::time::timeout(Duration::from_secs(5), self.task)
            .await
            .expect("driver stops")
            .expect("driver task");
        r.expect("driver ends cleanly");
    }
}

#[tokio::test]
async fn port_calls_sipp_uas_and_hangs_up() {
    let g_addr = &format!("127.0.0.1:{}", free_port());
    let sipp_port = free_port().to_string();
    let mut sipp = sipp_once("gw-uas", "uas_call.xml", None, &sipp_port);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut g = Gateway::start(&config(g_addr, "127.0.0.9"), g_addr);
    g.place_call(0, &format!("sip:service@127.0.0.1:{sipp_port}"))
        .await;
    let l = Duration::from_secs(10);
    assert_eq!(g.next_call(0, l).await, SipEvent::Ringing);
    assert_eq!(g.next_call(0, l).await, SipEvent::Answered);
    let m = g.media(0);
    assert_eq!(m.len(), 1, "{:?}", g.seen);
    assert_eq!(m[0].law, tipring_media::g711::Law::Ulaw);
    assert_eq!(m[0].remote.ip().to_string(), "127.0.0.1");
    g.intents.send((0, SipIntent::Hangup)).await.unwrap();
    sipp.expect_success(Duration::from_secs(30)).await;
    g.drain_for(Duration::from_millis(200)).await;
    let wire: Vec<&str> = g
        .seen
        .iter()
        .filter_map(|e| match e {
            PortEvent::Wire { summary, .. } => Some(summary.as_str()),
            _ => None,
        })
        .collect();
    assert!(wire.iter().any(|s| s.starts_with("BYE ")), "{wire:?}");
    g.stop().await;
}

#[tokio::test]
async fn sipp_calls_fxs_port_which_answers() {
    let g_addr = &format!("127.0.0.1:{}", free_port());
    let sipp_port = free_port().to_string();
    let mut g = Gateway::start(&config(g_addr, "127.0.0.9"), g_addr);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut sipp = sipp_once("gw-uac", "gw_uac_call.xml", Some(g_addr), &sipp_port);
    let l = Duration::from_secs(10);
    let SipEvent::IncomingCall {
        caller,
        number,
        ring,
    } = g.next_call(0, l).await
    else {
        panic!("not an incoming call: {:?}", g.seen);
    };
    assert_eq!(number, "201");
    assert_eq!(caller.name.as_deref(), Some("Sipp Caller"));
    assert_eq!(caller.number.as_deref(), Some("5550123"));
    // sipp's `Alert-Info: <http://…/Bellcore-dr3>`: short-short-long.
    let ring: Vec<(u16, u16)> = ring
        .expect("a distinctive ring")
        .steps
        .iter()
        .map(|s| (s.on_ms, s.off_ms))
        .collect();
    assert_eq!(ring, [(400, 200), (400, 200), (800, 4000)]);
    g.intents.send((0, SipIntent::Alerting)).await.unwrap();
    g.intents.send((0, SipIntent::Answer)).await.unwrap();
    assert_eq!(g.next_call(0, l).await, SipEvent::RemoteHangup);
    let m = g.media(0);
    assert_eq!(m.len(), 1, "{:?}", g.seen);
    assert_eq!(m[0].law, tipring_media::g711::Law::Alaw);
    assert_eq!(m[0].payload_type, 8);
    assert_eq!(m[0].event_payload_type, Some(101));
    sipp.expect_success(Duration::from_secs(30)).await;
    g.stop().await;
}

#[tokio::test]
async fn untrusted_invite_toward_fxo_gets_403() {
    let g_addr = &format!("127.0.0.1:{}", free_port());
    let sipp_port = free_port().to_string();
    let mut g = Gateway::start(&config(g_addr, "127.0.0.9"), g_addr);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut sipp = sipp_once("gw-403", "gw_fxo_403.xml", Some(g_addr), &sipp_port);
    sipp.expect_success(Duration::from_secs(30)).await;
    g.drain_for(Duration::from_millis(300)).await;
    assert!(
        !g.seen.iter().any(|e| matches!(e, PortEvent::Call { .. })),
        "{:?}",
        g.seen
    );
    assert!(
        g.seen
            .iter()
            .any(|e| matches!(e, PortEvent::Notice(n) if n.contains("untrusted 127.0.0.1"))),
        "{:?}",
        g.seen
    );
    g.stop().await;
}

#[tokio::test]
async fn shutdown_ends_the_call_with_bye() {
    let g_addr = &format!("127.0.0.1:{}", free_port());
    let sipp_port = free_port().to_string();
    let mut sipp = sipp_once("gw-stop", "uas_call.xml", None, &sipp_port);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut g = Gateway::start(&config(g_addr, "127.0.0.9"), g_addr);
    g.place_call(0, &format!("sip:service@127.0.0.1:{sipp_port}"))
        .await;
    let l = Duration::from_secs(10);
    assert_eq!(g.next_call(0, l).await, SipEvent::Ringing);
    assert_eq!(g.next_call(0, l).await, SipEvent::Answered);
    // No Hangup intent: stopping the driver ends the call, and it waits for the 200.
    g.stop().await;
    sipp.expect_success(Duration::from_secs(30)).await;
}

#[tokio::test]
async fn registers_with_sipp_registrar_and_unregisters_at_shutdown() {
    let g_addr = &format!("127.0.0.1:{}", free_port());
    let sipp_port = free_port().to_string();
    let mut sipp = sipp_once("gw-reg", "gw_registrar.xml", None, &sipp_port);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let cfg = config_with(
        g_addr,
        "127.0.0.9",
        &format!(
            "[[accounts]]\nname = \"pbx\"\nregistrar = \"sip:127.0.0.1:{sipp_port}\"\n\
         username = \"gw1\"\npassword = \"secret-pass\"\nregister_expiry_s = 600\n"
        ),
        "udp",
    );
    let mut g = Gateway::start(&cfg, g_addr);
    let end = tokio::time::Instant::now() + Duration::from_secs(10);
    while !g
        .seen
        .iter()
        .any(|e| matches!(e, PortEvent::Notice(n) if n == "account pbx: registered for 600 s"))
    {
        assert!(
            tokio::time::Instant::now() < end,
            "not registered: {:?}",
            g.seen
        );
        g.drain_for(Duration::from_millis(100)).await;
    }
    g.stop().await;
    sipp.expect_success(Duration::from_secs(30)).await;
}

#[tokio::test]
async fn invite_without_offer_gets_ours_and_the_ack_answer_starts_media() {
    let g_addr = &format!("127.0.0.1:{}", free_port());
    let sipp_port = free_port().to_string();
    let mut g = Gateway::start(&config(g_addr, "127.0.0.9"), g_addr);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut sipp = sipp_once("gw-late", "gw_late_offer.xml", Some(g_addr), &sipp_port);
    let l = Duration::from_secs(10);
    assert!(matches!(
        g.next_call(0, l).await,
        SipEvent::IncomingCall { .. }
    ));
    assert!(g.media(0).is_empty(), "no media before the answer");
    g.intents.send((0, SipIntent::Answer)).await.unwrap();
    assert_eq!(g.next_call(0, l).await, SipEvent::RemoteHangup);
    let m = g.media(0);
    assert_eq!(m.len(), 1, "{:?}", g.seen);
    // sipp answered PCMA first among our PCMU, PCMA: its choice stands.
    assert_eq!(m[0].law, tipring_media::g711::Law::Alaw);
    assert_eq!(m[0].event_payload_type, Some(101));
    sipp.expect_success(Duration::from_secs(30)).await;
    g.stop().await;
}

#[tokio::test]
async fn sipp_calls_fxs_port_over_tcp() {
    let g_addr = &format!("127.0.0.1:{}", free_port());
    let sipp_port = free_port().to_string();
    let cfg = config_with(g_addr, "127.0.0.9", "", "tcp");
    let mut g = Gateway::start(&cfg, g_addr);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut sipp = Sipp::spawn(
        "gw-tcp",
        &[
            "-sf",
            &scenario("gw_uac_call.xml"),
            g_addr,
            "-t",
            "t1",
            "-i",
            "127.0.0.1",
            "-p",
            &sipp_port,
            "-m",
            "1",
        ],
    );
    let l = Duration::from_secs(10);
    assert!(matches!(
        g.next_call(0, l).await,
        SipEvent::IncomingCall { .. }
    ));
    g.intents.send((0, SipIntent::Alerting)).await.unwrap();
    g.intents.send((0, SipIntent::Answer)).await.unwrap();
    assert_eq!(g.next_call(0, l).await, SipEvent::RemoteHangup);
    sipp.expect_success(Duration::from_secs(30)).await;
    g.stop().await;
}

/// The whole-process gateway's address, and sipp's (not trusted).
const AUTH_GW: &str = "127.0.44.1";
const AUTH_SIPP: &str = "127.0.44.2";

/// `tipring run` at [`AUTH_GW`]: FXO line 2 (number 300) reached by nobody trusted, only
/// with the credentials trunk / long-enough, challenged with `algorithms` when given.
fn auth_gateway(tag: &str, algorithms: Option<&str>) -> (Node, TempDir) {
    let tmp = TempDir::new(tag).expect("temp dir");
    let sip = SocketAddr::new(AUTH_GW.parse().unwrap(), free_port_on(AUTH_GW));
    let list = algorithms
        .map(|a| format!("auth_algorithms = {a}\n"))
        .unwrap_or_default();
    let conf = Conf::new(sip)
        .ports(
            "[[ports]]\nindex = 2\nkind = \"fxo\"\nnumber = \"300\"\ninbound = \"two-stage\"\n\
             dial_plan = \"ext\"\ndisa_pin = \"590713\"\nallow_direct_seize = true\n",
        )
        .security(&format!(
            "inbound_auth = [{{ username = \"trunk\", password = \"long-enough\" }}]\n{list}"
        ));
    let g = start("gw", &tmp.0.join("gw"), sip, &conf, 44);
    (g, tmp)
}

/// sipp at [`AUTH_SIPP`] calling line 300 of `g` with gw_fxo_auth.xml.
fn sipp_authenticating(test: &str, g: &Node) -> Sipp {
    Sipp::spawn(
        test,
        &[
            "-sf",
            &scenario("gw_fxo_auth.xml"),
            &g.sip.to_string(),
            "-i",
            AUTH_SIPP,
            "-p",
            &free_port_on(AUTH_SIPP).to_string(),
            "-m",
            "1",
        ],
    )
}

#[test]
fn md5_only_challenge_lets_sipp_seize_the_fxo_line() {
    let _serial = serial();
    let (mut g, _tmp) = auth_gateway("tipring-sipp-md5", Some(r#"["md5"]"#));
    let mut sipp = sipp_authenticating("gw-md5", &g);
    // The exchange gives dial tone once seized; the gateway then answers (200).
    run(&g, "expect-seized 2 8s\nplay 2 tone:dial 3s");
    sipp.expect_success_blocking(Duration::from_secs(30));
    // sipp's BYE releases the line.
    run(&g, "expect-released 2 5s");
    let c = commands(&g, 2);
    assert_eq!(c.first(), Some(&Command::Seize), "{c:?}");
    assert_eq!(c.last(), Some(&Command::Release), "{c:?}");
    wait_exit_ok(&mut g);
}

/// Why `auth_algorithms` exists: with the default challenges (SHA-256 first) sipp cannot
/// answer, and the line is never seized.
#[test]
fn sha256_first_challenge_leaves_sipp_out() {
    let _serial = serial();
    let (mut g, _tmp) = auth_gateway("tipring-sipp-sha", None);
    let mut sipp = sipp_authenticating("gw-sha", &g);
    let status = sipp.wait_blocking(Duration::from_secs(30));
    let err = sipp.file("stderr");
    assert!(!status.success(), "sipp got through: {err}");
    // sipp 3.6: "createAuthHeader: authentication must use MD5 or AKAv1-MD5".
    assert!(err.contains("must use MD5"), "{err}");
    assert!(!seized(&g, 2));
    assert!(commands(&g, 2).is_empty(), "{:?}", commands(&g, 2));
    wait_exit_ok(&mut g);
}

/// RFC 3262 as UAS: sipp requires 100rel; the port's ringing goes out reliably and sipp's
/// PRACK is answered before the port answers (gw_uac_100rel.xml checks the headers).
#[tokio::test]
async fn sipp_requiring_100rel_gets_reliable_ringing_and_its_prack_answered() {
    let g_addr = &format!("127.0.0.1:{}", free_port());
    let sipp_port = free_port().to_string();
    let mut g = Gateway::start(&config(g_addr, "127.0.0.9"), g_addr);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut sipp = sipp_once(
        "gw-uac-100rel",
        "gw_uac_100rel.xml",
        Some(g_addr),
        &sipp_port,
    );
    let l = Duration::from_secs(10);
    assert!(matches!(
        g.next_call(0, l).await,
        SipEvent::IncomingCall { .. }
    ));
    g.intents.send((0, SipIntent::Alerting)).await.unwrap();
    // The PRACK's exchange first, then the answer.
    tokio::time::sleep(Duration::from_millis(500)).await;
    g.intents.send((0, SipIntent::Answer)).await.unwrap();
    assert_eq!(g.next_call(0, l).await, SipEvent::RemoteHangup);
    sipp.expect_success(Duration::from_secs(30)).await;
    g.stop().await;
}

/// RFC 3262 as UAC: the port's INVITE says Supported: 100rel; sipp's reliable 183 with
/// early media is PRACKed once, then the call is answered and hung up.
#[tokio::test]
async fn port_pracks_the_reliable_early_media_of_sipp() {
    let g_addr = &format!("127.0.0.1:{}", free_port());
    let sipp_port = free_port().to_string();
    let mut sipp = sipp_once("gw-uas-100rel", "gw_uas_100rel.xml", None, &sipp_port);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut g = Gateway::start(&config(g_addr, "127.0.0.9"), g_addr);
    g.place_call(0, &format!("sip:service@127.0.0.1:{sipp_port}"))
        .await;
    let l = Duration::from_secs(10);
    let mut answered = false;
    while !answered {
        match g.next_call(0, l).await {
            SipEvent::Answered => answered = true,
            SipEvent::EarlyMedia | SipEvent::Ringing | SipEvent::Proceeding => {}
            e => panic!("{e:?}: {:?}", g.seen),
        }
    }
    g.intents.send((0, SipIntent::Hangup)).await.unwrap();
    sipp.expect_success(Duration::from_secs(30)).await;
    g.drain_for(Duration::from_millis(200)).await;
    let pracks = g
        .seen
        .iter()
        .filter(|e| matches!(e, PortEvent::Wire { summary, .. } if summary.starts_with("PRACK ")))
        .count();
    assert_eq!(pracks, 1, "{:?}", g.seen);
    g.stop().await;
}

/// RFC 4028 as UAS: sipp asks for a 90 s session refreshed by the gateway; the gateway's
/// UPDATE comes at half the interval (gw_uac_timer.xml checks the headers), the call stays
/// up until sipp's BYE. About 46 s.
#[tokio::test]
async fn the_gateway_refreshes_the_session_sipp_asked_it_to() {
    let g_addr = &format!("127.0.0.1:{}", free_port());
    let sipp_port = free_port().to_string();
    let mut g = Gateway::start(&config(g_addr, "127.0.0.9"), g_addr);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut sipp = sipp_once("gw-uac-timer", "gw_uac_timer.xml", Some(g_addr), &sipp_port);
    let l = Duration::from_secs(10);
    assert!(matches!(
        g.next_call(0, l).await,
        SipEvent::IncomingCall { .. }
    ));
    g.intents.send((0, SipIntent::Alerting)).await.unwrap();
    g.intents.send((0, SipIntent::Answer)).await.unwrap();
    assert_eq!(
        g.next_call(0, Duration::from_secs(70)).await,
        SipEvent::RemoteHangup
    );
    sipp.expect_success(Duration::from_secs(30)).await;
    let updates = g
        .seen
        .iter()
        .filter(|e| matches!(e, PortEvent::Wire { outbound: true, summary, .. } if summary.starts_with("UPDATE ")))
        .count();
    assert_eq!(updates, 1, "{:?}", g.seen);
    g.stop().await;
}
