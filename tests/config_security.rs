//! `tipring check-config` on the `[security]` admission settings: a trusted peer that
//! trusts everyone is refused with file, line and field; trust bound to a transport is
//! accepted; trust by source address over UDP beyond loopback is warned about;
//! `fxs_inbound` takes only its three values.

use std::path::Path;
use std::process::Command;

const GOOD: &str = include_str!("data/config/good.toml");

/// Runs check-config on `text` written as `tipring.toml`: (success, stdout, stderr).
fn check(text: &str, tag: &str) -> (bool, String, String) {
    let dir = std::env::temp_dir().join(format!("tipring-sec-{}-{tag}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("tipring.toml"), text).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_tipring"))
        .current_dir(&dir)
        .args(["check-config", "tipring.toml", "--board-dir"])
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("board"))
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `GOOD` with its trusted peers replaced by `peers` (the TOML array's inside).
fn with_peers(peers: &str) -> String {
    let from = "trusted_peers = [\"127.0.0.0/8\", \"::1\"]";
    assert!(GOOD.contains(from), "good.toml changed");
    GOOD.replacen(from, &format!("trusted_peers = [{peers}]"), 1)
}

fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .expect("needle")
        + 1
}

#[test]
fn trusting_everyone_is_refused_with_file_line_and_field() {
    for (peers, field) in [
        ("\"0.0.0.0/0\"", "security.trusted_peers[0]"),
        ("\"10.0.0.1\", \"::/0\"", "security.trusted_peers[1]"),
        (
            "{ address = \"0.0.0.0/0\", transport = \"tls\" }",
            "security.trusted_peers[0].address",
        ),
    ] {
        let text = with_peers(peers);
        let (ok, _, stderr) = check(&text, "all");
        assert!(!ok, "{peers} accepted");
        let line = line_of(&text, "trusted_peers = [");
        let expected = format!("tipring.toml:{line}: {field}: ");
        assert!(
            stderr
                .lines()
                .any(|l| l.starts_with(&expected) && l.contains("trusts every address")),
            "{expected}… not in\n{stderr}"
        );
    }
}

#[test]
fn trust_bound_to_a_transport_is_accepted_and_udp_trust_is_warned_about() {
    let text = with_peers(
        "\"127.0.0.0/8\", \"192.0.2.10\", { address = \"198.51.100.0/24\", transport = \"tls\" }",
    );
    let (ok, stdout, stderr) = check(&text, "bound");
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains("trusted peers [127.0.0.0/8, 192.0.2.10, 198.51.100.0/24 over Tls]"),
        "{stdout}"
    );
    let warnings: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("warning:"))
        .collect();
    assert_eq!(warnings.len(), 1, "{stdout}");
    assert!(
        warnings[0].contains("security.trusted_peers[1] \"192.0.2.10\"")
            && warnings[0].contains("source address over UDP"),
        "{}",
        warnings[0]
    );
    assert!(stdout.contains("FXS ports ring for: Proxy"), "{stdout}");
}

#[test]
fn a_bound_entry_needs_a_known_transport_and_fxs_inbound_a_known_policy() {
    let text = with_peers("{ address = \"192.0.2.10\", transport = \"sctp\" }");
    let (ok, _, _) = check(&text, "sctp");
    assert!(!ok, "an unknown transport was accepted");
    let text = GOOD.replacen("[security]\n", "[security]\nfxs_inbound = \"nobody\"\n", 1);
    assert_ne!(text, GOOD);
    let (ok, _, stderr) = check(&text, "fxs");
    assert!(!ok, "an unknown fxs_inbound was accepted");
    assert!(stderr.contains("fxs_inbound"), "{stderr}");
    let text = GOOD.replacen("[security]\n", "[security]\nfxs_inbound = \"trusted\"\n", 1);
    let (ok, stdout, stderr) = check(&text, "fxs-ok");
    assert!(ok, "{stderr}");
    assert!(stdout.contains("FXS ports ring for: Trusted"), "{stdout}");
}
