//! Auto-provisioning against a real HTTPS server (Python's `http.server` behind its `ssl`
//! module, asking for a client certificate): a gateway started with phone number 100
//! fetches its configuration, finds phone 201 in it, and runs it without a restart of the
//! process — a real caller (sipp) then reaches 201. A configuration with an error is
//! refused with its line and the running one kept; a server whose certificate is not from
//! the configured CA is never read.

mod common;

use common::gateway::{Conf, EXE, dump, fxs, run, serial, sipp, start, wait_exit_ok};
use common::pki::Pki;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use testkit::testbed::{Node, TempDir};

/// Python's HTTPS server on `addr` serving `root`, with `pki`'s `server` certificate,
/// asking clients for a certificate from `pki`'s CA.
struct Server(Child);

impl Server {
    fn start(addr: SocketAddr, root: &Path, pki: &Pki) -> Server {
        let script = r#"
import functools, http.server, ssl, sys
ip, port, root, cert, key, ca = sys.argv[1:7]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
ctx.load_verify_locations(ca)
ctx.verify_mode = ssl.CERT_REQUIRED
handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=root)
httpd = http.server.HTTPServer((ip, int(port)), handler)
httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
print("ready", flush=True)
httpd.serve_forever()
"#;
        let mut child = Command::new("python3")
            .arg("-c")
            .arg(script)
            .arg(addr.ip().to_string())
            .arg(addr.port().to_string())
            .arg(root)
            .arg(pki.path("server.pem"))
            .arg(pki.path("server.key"))
            .arg(pki.path("ca.pem"))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3");
        let mut line = String::new();
        use std::io::BufRead;
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line.trim(), "ready");
        Server(child)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The gateway's configuration at `gw` with phone `number`, provisioned from `url` with
/// `ca` and the box's client certificate, its status socket and kept file in `dir`.
fn conf(gw: SocketAddr, number: &str, url: &str, ca: &Path, pki: &Pki, dir: &Path) -> Conf {
    Conf::new(gw)
        .ports(&fxs(number, "Desk"))
        .trust("127.0.84.0/24")
        .table(&format!(
            "[control]\nsocket = \"{}\"\n\n[provisioning]\nurl = \"{url}\"\nca = \"{}\"\n\
             client_cert = \"{}\"\nclient_key = \"{}\"\ninterval_s = 60\nfile = \"{}\"\n",
            dir.join("control.sock").display(),
            ca.display(),
            pki.path("box.pem").display(),
            pki.path("box.key").display(),
            dir.join("provisioned.toml").display(),
        ))
}

/// The provisioning part of the gateway's status, once it has a result.
fn provisioning(g: &Node, dir: &Path) -> serde_json::Value {
    let end = Instant::now() + Duration::from_secs(20);
    loop {
        let out = Command::new(EXE)
            .args(["status", "--json", "--socket"])
            .arg(dir.join("control.sock"))
            .output()
            .unwrap();
        if out.status.success() {
            let s: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            if !s["provisioning"]["last_result"].is_null() {
                return s["provisioning"].clone();
            }
        }
        if Instant::now() > end {
            dump(g);
            panic!("no provisioning result");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Runs the gateway with `base` until provisioning has a result, checks the base kept
/// running and nothing was kept, stops it; the result.
fn not_applied(base: &Conf, gw: SocketAddr, dir: &Path, seed: u64) -> String {
    let mut g = start("gw", dir, gw, base, seed);
    let p = provisioning(&g, dir);
    println!("{p}");
    assert_eq!(p["running"], "base", "{p}");
    assert!(!dir.join("provisioned.toml").exists());
    wait_exit_ok(&mut g);
    p["last_result"].as_str().unwrap_or_default().to_owned()
}

#[test]
fn a_fetched_configuration_is_applied_between_calls_and_a_bad_one_refused() {
    let _serial = serial();
    let tmp = TempDir::new("provisioning").unwrap();
    let https = SocketAddr::from(([127, 0, 84, 5], 25443));
    let pki = Pki::new(
        &tmp.0.join("pki"),
        "tipring provisioning test CA",
        &[("server", "127.0.84.5"), ("box", "box-1")],
    );
    let other = Pki::new(&tmp.0.join("other"), "someone else's CA", &[]);
    let root = tmp.0.join("www");
    std::fs::create_dir_all(&root).unwrap();
    let _server = Server::start(https, &root, &pki);
    let gw = SocketAddr::from(([127, 0, 84, 1], 25084));
    let url = |f: &str| format!("https://{https}/{f}");
    let dir = tmp.0.join("gw");
    std::fs::create_dir_all(&dir).unwrap();
    // What the server has for the box: the same, with phone 201 instead of 100.
    let served = conf(
        gw,
        "201",
        &url("good.toml"),
        &pki.path("ca.pem"),
        &pki,
        &dir,
    );
    std::fs::write(root.join("good.toml"), served.render()).unwrap();
    let base = conf(
        gw,
        "100",
        &url("good.toml"),
        &pki.path("ca.pem"),
        &pki,
        &dir,
    );
    let mut g = start("gw", &dir, gw, &base, 84);
    // Fetched, accepted, and running once the (idle) line allowed it.
    let end = Instant::now() + Duration::from_secs(20);
    while provisioning(&g, &dir)["running"] != "provisioned" {
        assert!(Instant::now() < end, "{}", provisioning(&g, &dir));
        std::thread::sleep(Duration::from_millis(300));
    }
    assert_eq!(
        std::fs::read_to_string(dir.join("provisioned.toml")).unwrap(),
        served.render()
    );
    assert!(provisioning(&g, &dir)["accepted"].is_string());
    // sipp calls 201: the phone rings and answers.
    let caller = SocketAddr::from(([127, 0, 84, 9], 25084));
    let mut uac = sipp(&tmp.0, "gw_uac_call.xml", caller, &[&gw.to_string()]);
    run(&g, "expect-ringing 0 8s\noffhook 0");
    let (st, out) = uac.wait(Duration::from_secs(20));
    assert!(st.success(), "sipp reached phone 201: {out}");
    run(&g, "onhook 0");
    wait_exit_ok(&mut g);

    // A configuration with an error: refused with its line, phone 100 keeps running.
    std::fs::remove_file(dir.join("provisioned.toml")).unwrap();
    let bad = served.render().replace("kind = \"fxs\"", "kind = \"fxx\"");
    std::fs::write(root.join("bad.toml"), bad).unwrap();
    let base = conf(gw, "100", &url("bad.toml"), &pki.path("ca.pem"), &pki, &dir);
    let result = not_applied(&base, gw, &dir, 85);
    assert!(result.starts_with("rejected: provisioned:"), "{result}");
    assert!(result.contains("ports[0].kind"), "{result}");

    // A CA that did not sign the server's certificate: nothing is read.
    let ca = other.path("ca.pem");
    let base = conf(gw, "100", &url("good.toml"), &ca, &pki, &dir);
    let result = not_applied(&base, gw, &dir, 86);
    assert!(result.starts_with("failed: fetch:"), "{result}");
}
