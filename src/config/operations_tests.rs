//! `[control]`, `[records]`, `[metrics]`, `[capture]`, `[provisioning]`: off or at their
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
