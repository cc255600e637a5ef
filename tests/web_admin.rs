//! The web admin page as an installer uses it, in headless Chromium (Debian's chromium and
//! chromedriver, driven over WebDriver): a wrong password refused, the login, a call
//! between two `tipring run` gateways appearing live with its SIP ladder, the call's
//! record, a wrong configuration value shown at its line and not applied, a right one
//! applied between calls (the status shows the port's new number), a configuration that
//! does not start rolled back, the capture downloaded and read by tshark; and what an
//! attacker without the session can do: nothing (other Host names, other origins, no or
//! a wrong CSRF token, no cookie, password guessing slowed down).
//!
//! Screenshots go to `$CARGO_TARGET_TMPDIR/web-admin/` (target/tmp/web-admin).

mod common;

use common::gateway::{Conf, EXE, fxs, run, serial, start, tone_passes};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;
use testkit::testbed::TempDir;
use testkit::webdriver::Browser;

const PASSWORD: &str = "correct horse battery";
const WAIT: Duration = Duration::from_secs(15);

/// `tipring web-password` with `password` on its standard input: the hash it prints.
fn hash_of(password: &str) -> String {
    let mut c = Command::new(EXE)
        .arg("web-password")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("tipring web-password runs");
    writeln!(c.stdin.take().unwrap(), "{password}").unwrap();
    let out = c.wait_with_output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

fn shots() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("web-admin")
}

/// One raw HTTP/1.1 request: the status code, the head and the body of the answer.
fn http(addr: SocketAddr, request: &str) -> (u16, String, Vec<u8>) {
    let mut s = TcpStream::connect(addr).expect("the admin page listens");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let split = out
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("an HTTP answer");
    let head = String::from_utf8_lossy(&out[..split]).into_owned();
    let code = head[9..12].parse().unwrap();
    (code, head, out[split + 4..].to_vec())
}

fn get(addr: SocketAddr, path: &str, cookie: &str) -> (u16, String, Vec<u8>) {
    http(
        addr,
        &format!(
            "GET {path} HTTP/1.1\r\nHost: {addr}\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n"
        ),
    )
}

fn post(addr: SocketAddr, path: &str, extra: &str, body: &str) -> u16 {
    http(
        addr,
        &format!(
            "POST {path} HTTP/1.1\r\nHost: {addr}\r\n{extra}Content-Type: \
             application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    )
    .0
}

/// The value for a form field (`application/x-www-form-urlencoded`).
fn form_value(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            b => format!("%{b:02X}"),
        })
        .collect()
}

/// Puts `text` in the configuration editor and submits it.
fn submit_config(b: &Browser, text: &str) {
    b.execute(
        "document.querySelector('#config-text').value = arguments[0];",
        vec![text.into()],
    )
    .unwrap();
    b.find("#config-apply").unwrap().click().unwrap();
}

/// The editor's text.
fn editor_text(b: &Browser) -> String {
    b.execute(
        "return document.querySelector('#config-text').value;",
        vec![],
    )
    .unwrap()
    .as_str()
    .unwrap()
    .to_owned()
}

/// The session cookie (checked to be HttpOnly and SameSite=Strict) as a `Cookie` value.
fn session_cookie(b: &Browser) -> String {
    let cookies = b.cookies().unwrap();
    let session = cookies
        .iter()
        .find(|c| c["name"] == "tipring_session")
        .expect("a session cookie");
    assert_eq!(session["httpOnly"], true, "{session}");
    assert_eq!(session["sameSite"], "Strict", "{session}");
    format!("tipring_session={}", session["value"].as_str().unwrap())
}

/// Waits until `css` holds `needle`; else fails with the page as it is.
fn seen(b: &Browser, css: &str, needle: &str, timeout: Duration) {
    if let Err(e) = b.wait_for_text(css, needle, timeout) {
        panic!("{e}\n{}", b.page_source().unwrap_or_default());
    }
}

/// Loads `url` again until its `css` element holds `needle` (the gateway restarts
/// meanwhile: the page is briefly unreachable).
fn reload_until(b: &Browser, url: &str, css: &str, needle: &str) {
    let end = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        b.goto(url).unwrap();
        if b.wait_for_text(css, needle, Duration::from_millis(500))
            .is_ok()
        {
            return;
        }
        assert!(
            std::time::Instant::now() < end,
            "{url}: no {css} with {needle:?}: {}",
            b.page_source().unwrap_or_default()
        );
    }
}

fn log_in(b: &Browser, web: SocketAddr, password: &str) {
    b.goto(&format!("http://{web}/login")).unwrap();
    let field = b.wait_for("#password", WAIT).unwrap();
    field.send_keys(password).unwrap();
    b.find("#login-submit").unwrap().click().unwrap();
}

#[test]
fn an_installer_watches_a_call_and_changes_the_configuration_in_a_browser() {
    let _serial = serial();
    let tmp = TempDir::new("web-admin").unwrap();
    let a1 = SocketAddr::from(([127, 0, 86, 1], 25086));
    let a2 = SocketAddr::from(([127, 0, 86, 2], 25086));
    let web = SocketAddr::from(([127, 0, 86, 1], 25087));
    let (d1, d2) = (tmp.0.join("gw1"), tmp.0.join("gw2"));
    let saved = d1.join("web.toml");
    let records = d1.join("calls.jsonl");
    let hash = hash_of(PASSWORD);
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    let c1 = Conf::new(a1)
        .account("peer", &format!("proxy = \"sip:{a2}\""))
        .ports(&fxs("100", "Alice"))
        .trust("127.0.86.0/24")
        .table(&format!(
            "[records]\nfile = \"{}\"\n\n[web]\nlisten = \"{web}\"\npassword_hash = \"{hash}\"\n\
             file = \"{}\"\n",
            records.display(),
            saved.display()
        ));
    let c2 = Conf::new(a2)
        .account("peer", &format!("proxy = \"sip:{a1}\""))
        .ports(&fxs("200", "Bob"))
        .trust("127.0.86.0/24");
    let g1 = start("gw1", &d1, a1, &c1, 41);
    let g2 = start("gw2", &d2, a2, &c2, 42);
    let b = Browser::start().expect("headless chromium");
    let shot = |name: &str| b.screenshot(&shots().join(name)).unwrap();

    // Not logged in: the page sends the browser to the login form; a wrong password is
    // refused there.
    b.goto(&format!("http://{web}/")).unwrap();
    b.wait_for("#login", WAIT).unwrap();
    log_in(&b, web, "wrong password");
    seen(&b, "#login-error", "Wrong password", WAIT);
    shot("1-login-refused.png");

    // Logged in: the lines, live.
    log_in(&b, web, PASSWORD);
    seen(&b, "tr.port[data-port='0'] td.number", "100", WAIT);
    seen(&b, "tr.port[data-port='0'] td.state", "Idle", WAIT);
    session_cookie(&b);
    assert_eq!(
        b.execute("return document.cookie;", vec![]).unwrap(),
        "",
        "scripts cannot read the session"
    );

    // A call: it appears with its ladder while it rings and once answered.
    run(&g1, "offhook 0\nexpect-tone 0 350+440 8s\ndial 0 200");
    run(&g2, "expect-ringing 0 8s");
    seen(&b, "tr.call td.called", "sip:200@", WAIT);
    seen(&b, "#ladder", "INVITE sip:200@", WAIT);
    seen(&b, "#ladder", "180 Ringing", WAIT);
    run(&g2, "offhook 0\nwait 300ms");
    tone_passes(&g1, 0, &g2, 0, 1000.0);
    seen(&b, "tr.call td.answered", "yes", WAIT);
    seen(&b, "#ladder", "200 OK", WAIT);
    seen(&b, "#ladder", "ACK sip:", WAIT);
    shot("2-status-call.png");
    run(&g1, "onhook 0");
    run(&g2, "expect-tone 0 480+620 8s\nonhook 0\nwait 300ms");
    seen(&b, "tr.port[data-port='0'] td.last", "local_hangup", WAIT);
    seen(&b, "#ladder", "BYE sip:", WAIT);

    // The call's record.
    b.find("#nav-records").unwrap().click().unwrap();
    seen(&b, "tr.record", "local_hangup", WAIT);
    shot("3-records.png");

    // The configuration: the password hash is not shown.
    b.find("#nav-config").unwrap().click().unwrap();
    b.wait_for("#config-text", WAIT).unwrap();
    let shown = editor_text(&b);
    assert!(!shown.contains("argon2"), "{shown}");
    assert!(!b.page_source().unwrap().contains(&hash));
    assert!(shown.contains("password_hash = \"(kept)\""), "{shown}");

    // A wrong value: named at its line, nothing applied.
    let wrong = shown.replace("kind = \"fxs\"", "kind = \"fxx\"");
    let line = wrong.lines().position(|l| l == "kind = \"fxx\"").unwrap() + 1;
    submit_config(&b, &wrong);
    let err = b
        .wait_for_text("#config-errors li", "ports[0].kind", WAIT)
        .unwrap();
    assert!(
        err.text()
            .unwrap()
            .contains("\"fxx\" is not one of fxs, fxo")
    );
    assert_eq!(
        err.attribute("data-line").unwrap().as_deref(),
        Some(line.to_string().as_str())
    );
    assert_eq!(editor_text(&b), wrong, "the text typed stays to be fixed");
    shot("4-config-error.png");
    assert!(!saved.exists(), "nothing saved");

    // A right one: saved, applied once the line is idle (it is), the status shows it.
    submit_config(&b, &shown.replace("number = \"100\"", "number = \"150\""));
    seen(
        &b,
        "#config-result",
        "applied once every line is idle",
        WAIT,
    );
    let kept = std::fs::read_to_string(&saved).unwrap();
    assert!(kept.contains("number = \"150\"") && kept.contains(&hash));
    b.find("#nav-status").unwrap().click().unwrap();
    seen(
        &b,
        "tr.port[data-port='0'] td.number",
        "150",
        Duration::from_secs(30),
    );
    shot("5-applied.png");
    // The kept hash still lets the installer in.
    b.find("#logout-submit").unwrap().click().unwrap();
    b.wait_for("#login", WAIT).unwrap();
    log_in(&b, web, PASSWORD);
    seen(&b, "tr.port[data-port='0'] td.number", "150", WAIT);
    // And gw2 reaches the port at its new number.
    run(&g2, "offhook 0\nexpect-tone 0 350+440 8s\ndial 0 150");
    run(&g1, "expect-ringing 0 8s");
    run(&g2, "onhook 0");

    // The capture: a pcap tshark reads, with the INVITE of the call to the new number.
    let cookie = session_cookie(&b);
    let (code, head, pcap) = get(web, "/capture.pcap?last=600", &cookie);
    assert_eq!(code, 200, "{head}");
    assert!(head.contains("attachment"), "{head}");
    let file = tmp.0.join("web.pcap");
    std::fs::write(&file, pcap).unwrap();
    let out = Command::new("tshark")
        .arg("-r")
        .arg(&file)
        .args([
            "-d",
            "udp.port==25086,sip",
            "-Y",
            "sip.Method == \"INVITE\"",
            "-T",
            "fields",
            "-e",
            "sip.r-uri",
        ])
        .output()
        .expect("tshark");
    let uris = String::from_utf8_lossy(&out.stdout);
    assert!(uris.contains("sip:150@"), "{uris}");

    // A configuration that passes the checks but cannot start (its SIP address is taken):
    // rolled back, the previous one runs again.
    let taken = UdpSocket::bind("127.0.86.3:25086").unwrap();
    b.find("#nav-config").unwrap().click().unwrap();
    b.wait_for("#config-text", WAIT).unwrap();
    let current = editor_text(&b);
    assert!(current.contains(&a1.to_string()), "{current}");
    submit_config(&b, &current.replace(&a1.to_string(), "127.0.86.3:25086"));
    seen(&b, "#config-result", "Saved", WAIT);
    reload_until(
        &b,
        &format!("http://{web}/config"),
        "#config-change",
        "Rolled back",
    );
    shot("6-rolled-back.png");
    drop(taken);
    assert!(
        common::gateway::sip_answers(a1, Duration::from_secs(10)),
        "the previous configuration answers SIP again"
    );
    b.goto(&format!("http://{web}/")).unwrap();
    seen(&b, "tr.port[data-port='0'] td.number", "150", WAIT);

    // What others get: nothing.
    let (code, _, _) = get(web, "/api/status", "");
    assert_eq!(code, 401, "no cookie");
    let (code, _, _) = get(web, "/", "tipring_session=00");
    assert_eq!(code, 303, "a made-up session goes to the login");
    let (code, _, _) = http(
        web,
        &format!(
            "GET /login HTTP/1.1\r\nHost: rebound.example:{}\r\nConnection: close\r\n\r\n",
            web.port()
        ),
    );
    assert_eq!(code, 421, "another name for this address (DNS rebinding)");
    let (code, head, _) = get(web, "/api/status", &cookie);
    assert_eq!(code, 200);
    for h in [
        "content-security-policy: default-src 'none'",
        "x-frame-options: deny",
        "cache-control: no-store",
    ] {
        assert!(head.to_ascii_lowercase().contains(h), "{h}: {head}");
    }
    let csrf_less = format!("Cookie: {cookie}\r\n");
    let text = form_value("board = \"sim\"\n");
    assert_eq!(
        post(web, "/config", &csrf_less, &format!("csrf=0&text={text}")),
        403
    );
    assert_eq!(
        post(web, "/config", &csrf_less, &format!("text={text}")),
        422
    );
    let csrf = b
        .execute(
            "return document.querySelector('#logout input[name=csrf]').value;",
            vec![],
        )
        .unwrap();
    let csrf = csrf.as_str().unwrap();
    let foreign = format!("Cookie: {cookie}\r\nOrigin: http://evil.example\r\n");
    assert_eq!(
        post(
            web,
            "/config",
            &foreign,
            &format!("csrf={csrf}&text={text}")
        ),
        403
    );
    let fetched = format!("Cookie: {cookie}\r\nSec-Fetch-Site: cross-site\r\n");
    assert_eq!(
        post(
            web,
            "/config",
            &fetched,
            &format!("csrf={csrf}&text={text}")
        ),
        403
    );
    let running = std::fs::read_to_string(&saved).unwrap();
    assert!(
        running.contains("number = \"150\""),
        "unchanged by the attempts"
    );
    // Guessing: after three wrong passwords each attempt waits.
    let guess = |pw: &str| post(web, "/login", "", &format!("password={}", form_value(pw)));
    for _ in 0..3 {
        assert_eq!(guess("guess"), 401);
    }
    assert_eq!(guess(PASSWORD), 429, "even the right one waits its turn");
    drop(g1);
    drop(g2);
}
