//! `[control]`, `[records]`, `[metrics]`, `[capture]`, `[provisioning]`, `[web]`: off or at their
//! defaults when absent, each bad value named with its line.

use super::*;
use std::path::PathBuf;

const BASE: &str =
    "board = \"sim\"\n[[ports]]\nindex = 0\nkind = \"fxs\"\nhotline = \"sip:1@192.0.2.1\"\n";

fn load(extra: &str) -> Result<Loaded, ConfigError> {
    let board = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("board");
    load_str("t.toml", &format!("{BASE}{extra}"), &board)
}

fn errors(extra: &str) -> Vec<(String, Option<usize>)> {
    load(extra)
        .unwrap_err()
        .diagnostics
        .iter()
        .map(|d| (d.field.clone(), d.line))
        .collect()
}

#[test]
fn absent_tables_leave_metrics_and_provisioning_off() {
    let c = load("").unwrap().config;
    assert_eq!(c.metrics.listen, None);
    assert_eq!(c.provisioning.url, None);
    assert_eq!(c.records.max_bytes, 1 << 20);
    assert_eq!(c.capture.sip_bytes, 1 << 20);
}

#[test]
fn metrics_only_on_loopback() {
    let e = errors("[metrics]\nlisten = \"0.0.0.0:9464\"\n");
    assert_eq!(e, [("metrics.listen".to_owned(), Some(7))]);
    assert!(load("[metrics]\nlisten = \"[::1]:9464\"\n").is_ok());
}

#[test]
fn records_capture_and_control_bounds() {
    let e = errors(
        "[control]\nsocket = \"relative.sock\"\n[records]\nmax_bytes = 10\nkeep = 101\n\
         [capture]\nsip_bytes = 999999999\n",
    );
    let fields: Vec<&str> = e.iter().map(|(f, _)| f.as_str()).collect();
    assert_eq!(
        fields,
        [
            "control.socket",
            "records.max_bytes",
            "records.keep",
            "capture.sip_bytes"
        ]
    );
}

#[test]
fn provisioning_needs_https_a_ca_and_whole_client_credentials() {
    let e = errors("[provisioning]\nurl = \"http://prov.example/gw.toml\"\n");
    let fields: Vec<&str> = e.iter().map(|(f, _)| f.as_str()).collect();
    // The missing `ca` has no line of its own: it sorts first.
    assert_eq!(fields, ["provisioning.ca", "provisioning.url"]);
    let e = errors(
        "[provisioning]\nurl = \"https://user:pw@prov.example/x\"\nca = \"/etc/ca.pem\"\n\
         client_cert = \"/etc/c.pem\"\ninterval_s = 5\n",
    );
    let fields: Vec<&str> = e.iter().map(|(f, _)| f.as_str()).collect();
    assert_eq!(
        fields,
        [
            "provisioning.client_key",
            "provisioning.url",
            "provisioning.interval_s"
        ]
    );
    let ok =
        load("[provisioning]\nurl = \"https://prov.example:8443/gw.toml\"\nca = \"/etc/ca.pem\"\n")
            .unwrap();
    assert_eq!(ok.config.provisioning.interval_s, 3600);
}

/// A well-formed Argon2id PHC string (which password it hashes does not matter here).
const HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$\
    CFpLBRFVlAvB0H8UFdPpgLKxLyMEeXGRfF6PcDvaH3U";

#[test]
fn the_web_page_is_off_by_default() {
    let c = load("").unwrap().config;
    assert_eq!(c.web.listen, None);
    assert_eq!(c.web.idle_minutes, 15);
}

#[test]
fn the_web_page_needs_loopback_and_an_argon2id_hash() {
    let e = errors("[web]\nlisten = \"0.0.0.0:8080\"\n");
    assert_eq!(
        e,
        [
            ("web.listen".to_owned(), Some(7)),
            ("web.listen".to_owned(), Some(7))
        ]
    );
    let e = errors("[web]\nlisten = \"127.0.0.1:8080\"\npassword_hash = \"admin\"\n");
    assert_eq!(e, [("web.password_hash".to_owned(), Some(8))]);
    let e = errors("[web]\nidle_minutes = 0\nfile = \"web.toml\"\n");
    let fields: Vec<&str> = e.iter().map(|(f, _)| f.as_str()).collect();
    assert_eq!(fields, ["web.idle_minutes", "web.file"]);
    let ok = load(&format!(
        "[web]\nlisten = \"127.0.0.1:8080\"\npassword_hash = \"{HASH}\"\n"
    ))
    .unwrap();
    assert_eq!(ok.config.web.password_hash.as_deref(), Some(HASH));
}

#[test]
fn dns_servers_with_and_without_a_port_and_a_bad_one_named_with_its_line() {
    let c = load("[dns]\nservers = [\"192.0.2.53\", \"127.0.0.1:5353\", \"[::1]:53\"]\n")
        .unwrap()
        .config;
    let want: Vec<std::net::SocketAddr> = ["192.0.2.53:53", "127.0.0.1:5353", "[::1]:53"]
        .iter()
        .map(|s| s.parse().unwrap())
        .collect();
    assert_eq!(c.dns.servers, want);
    assert!(load("").unwrap().config.dns.servers.is_empty());
    let e = load("[dns]\nservers = [\"dns.example\"]\n").unwrap_err();
    let d = &e.diagnostics[0];
    assert_eq!((d.field.as_str(), d.line), ("dns.servers", Some(7)));
    assert!(
        d.message.contains("\"dns.example\" is not an IP address"),
        "{}",
        d.message
    );
}
