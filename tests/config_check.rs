//! `tipring check-config` on real files: the good configuration passes and prints what
//! would run; each kind of error is reported as `file:line: field: message` with exit 1.

use std::path::{Path, PathBuf};
use std::process::Command;

const GOOD: &str = include_str!("data/config/good.toml");

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Writes `text` as `tipring.toml` in a fresh directory and runs check-config on it there,
/// so messages name the file as `tipring.toml`.
fn check(text: &str) -> (bool, String, String) {
    let dir = std::env::temp_dir().join(format!(
        "tipring-config-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("tipring.toml"), text).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_tipring"))
        .current_dir(&dir)
        .args(["check-config", "tipring.toml", "--board-dir"])
        .arg(repo().join("board"))
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

static COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// `GOOD` with the `nth` occurrence of `from` replaced; panics if it is not there.
fn edit(text: &str, from: &str, to: &str) -> String {
    assert!(text.contains(from), "test edit target {from:?} missing");
    text.replacen(from, to, 1)
}

/// 1-based line of the first line of `text` containing `needle`.
fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{needle:?} not in config"))
        + 1
}

/// Runs the bad config and asserts the exact diagnostic line is among the errors.
fn assert_error(text: &str, expected: &str) {
    let (ok, stdout, stderr) = check(text);
    assert!(!ok, "bad config accepted:\n{stdout}");
    assert!(
        stderr.lines().any(|l| l == expected),
        "expected line\n  {expected}\nin\n{stderr}"
    );
    assert!(
        stdout.is_empty(),
        "a rejected config printed a summary: {stdout}"
    );
}

#[test]
fn good_config_passes_and_prints_what_would_run() {
    let (ok, stdout, stderr) = check(GOOD);
    assert!(ok, "{stderr}");
    for want in [
        "tipring.toml: OK",
        "board sim",
        "serial /run/tipring/sim/card.tty at 115200 8N1",
        "listen Udp 127.0.0.1:5060",
        "listen Tcp 127.0.0.1:5060",
        "pbx: registrar sip:127.0.0.1:5070 (expiry 600 s)",
        "port 0: FXS, dial plan local; number 201, account pbx",
        "port 1: FXS, warm line to sip:reception@127.0.0.1 after 5000 ms",
        "port 2: FXO, inbound hotline to sip:operator@127.0.0.1, seize after 2 ring(s)",
        "port 3: FXO, inbound two-stage with dial plan local",
        "flash 600 ms",
        "flash 500 ms",
        "local: { [2-4]xx",
        "trusted peers [127.0.0.0/8, ::1]",
        "1 inbound credential(s), challenged with MD5, SHA-256",
    ] {
        assert!(stdout.contains(want), "missing {want:?} in\n{stdout}");
    }
}

#[test]
fn unknown_enum_value_names_the_allowed_values() {
    let bad = edit(
        GOOD,
        "index = 2\nkind = \"fxo\"",
        "index = 2\nkind = \"fxx\"",
    );
    let line = line_of(&bad, "\"fxx\"");
    assert_error(
        &bad,
        &format!("tipring.toml:{line}: ports[2].kind: \"fxx\" is not one of fxs, fxo"),
    );
}

#[test]
fn unknown_field_is_rejected() {
    let bad = edit(GOOD, "jitter_max_ms = 160", "jitter_maximum_ms = 160");
    let line = line_of(&bad, "jitter_maximum_ms");
    assert_error(
        &bad,
        &format!(
            "tipring.toml:{line}: media.jitter_maximum_ms: unknown field `jitter_maximum_ms`, expected one of `codecs`, `jitter_min_ms`, `jitter_max_ms`, `telephone_event_pt`, `ptime_ms`, `rtp_port_min`, `rtp_port_max`, `stun_server`"
        ),
    );
}

#[test]
fn missing_required_field_is_named() {
    let bad = edit(GOOD, "board = \"sim\"\n", "");
    // The whole document is the value that lacks it, so the line is its first.
    assert_error(&bad, "tipring.toml:1: missing field `board`");
}

#[test]
fn wrong_value_type_is_named() {
    let bad = edit(
        GOOD,
        "rings_before_seize = 2",
        "rings_before_seize = \"two\"",
    );
    let line = line_of(&bad, "rings_before_seize");
    let (ok, _, stderr) = check(&bad);
    assert!(!ok);
    let prefix = format!("tipring.toml:{line}: ports[2].rings_before_seize: ");
    assert!(stderr.lines().any(|l| l.starts_with(&prefix)), "{stderr}");
}

#[test]
fn port_index_the_board_lacks() {
    let bad = edit(
        GOOD,
        "index = 3\nkind = \"fxo\"",
        "index = 7\nkind = \"fxo\"",
    );
    let line = line_of(&bad, "index = 7");
    assert_error(
        &bad,
        &format!(
            "tipring.toml:{line}: ports[3].index: board \"sim\" has no port 7; it has 0, 1, 2, 3"
        ),
    );
}

#[test]
fn port_kind_differs_from_the_board() {
    let bad = edit(
        GOOD,
        "index = 1\nkind = \"fxs\"",
        "index = 1\nkind = \"fxo\"",
    );
    let line = line_of(&bad, "index = 1") + 1;
    assert_error(
        &bad,
        &format!("tipring.toml:{line}: ports[1].kind: \"fxo\" but port 1 of board \"sim\" is fxs"),
    );
}

#[test]
fn duplicate_port_index() {
    let bad = edit(
        GOOD,
        "index = 3\nkind = \"fxo\"",
        "index = 2\nkind = \"fxo\"",
    );
    let lines: Vec<&str> = bad.lines().collect();
    let line = lines.iter().rposition(|l| *l == "index = 2").unwrap() + 1;
    assert_error(
        &bad,
        &format!("tipring.toml:{line}: ports[3].index: port 2 is configured twice"),
    );
}

#[test]
fn dial_plan_that_does_not_exist() {
    let bad = edit(
        GOOD,
        "number = \"201\"\ndisplay_name = \"Kitchen\"\ndial_plan = \"local\"",
        "number = \"201\"\ndisplay_name = \"Kitchen\"\ndial_plan = \"intl\"",
    );
    let line = line_of(&bad, "\"intl\"");
    assert_error(
        &bad,
        &format!("tipring.toml:{line}: ports[0].dial_plan: \"intl\" is not one of local"),
    );
}

#[test]
fn digit_map_syntax_error_names_the_column() {
    let bad = edit(GOOD, "local = \"{ [2-4]xx |", "local = \"{ [4-2]xx |");
    let line = line_of(&bad, "local = ");
    assert_error(
        &bad,
        &format!(
            "tipring.toml:{line}: dial_plans.local: digit map: at column 6: range 4-2 runs backwards"
        ),
    );
}

#[test]
fn fxo_port_reachable_from_nobody() {
    let bad = edit(
        GOOD,
        "trusted_peers = [\"127.0.0.0/8\", \"::1\"]\ninbound_auth = [{ username = \"trunk\", password = \"long-enough\" }]\n",
        "",
    );
    let (ok, _, stderr) = check(&bad);
    assert!(!ok);
    for (i, needle) in [(2, "index = 2"), (3, "index = 3")] {
        let line = line_of(&bad, needle) + 1;
        let want = format!(
            "tipring.toml:{line}: ports[{i}].kind: FXO port reachable from no trusted peer and no inbound auth: add security.trusted_peers or security.inbound_auth"
        );
        assert!(
            stderr.lines().any(|l| l == want),
            "{want}\nnot in\n{stderr}"
        );
    }
}

#[test]
fn bad_trusted_peer() {
    let bad = edit(GOOD, "\"127.0.0.0/8\"", "\"127.0.0.0/40\"");
    let line = line_of(&bad, "127.0.0.0/40");
    assert_error(
        &bad,
        &format!("tipring.toml:{line}: security.trusted_peers[0]: prefix \"40\" is not in 1..=32"),
    );
}

#[test]
fn auth_algorithms_empty_repeated_or_unknown() {
    let bad = edit(
        GOOD,
        "auth_algorithms = [\"md5\", \"sha-256\"]",
        "auth_algorithms = []",
    );
    let line = line_of(&bad, "auth_algorithms");
    assert_error(
        &bad,
        &format!(
            "tipring.toml:{line}: security.auth_algorithms: at least one of sha-256, md5, sha-512-256"
        ),
    );
    // The wire token is the same algorithm as the configuration name.
    let bad = edit(
        GOOD,
        "auth_algorithms = [\"md5\", \"sha-256\"]",
        "auth_algorithms = [\"md5\", \"sha-256\", \"MD5\"]",
    );
    let line = line_of(&bad, "auth_algorithms");
    assert_error(
        &bad,
        &format!("tipring.toml:{line}: security.auth_algorithms[2]: listed twice"),
    );
    let bad = edit(GOOD, "\"sha-256\"]", "\"sha-1\"]");
    let line = line_of(&bad, "auth_algorithms");
    assert_error(
        &bad,
        &format!(
            "tipring.toml:{line}: security.auth_algorithms[1]: \"sha-1\" is not one of sha-256, md5, sha-512-256"
        ),
    );
}

#[test]
fn fxs_port_without_a_role() {
    let bad = edit(
        GOOD,
        "display_name = \"Kitchen\"\ndial_plan = \"local\"",
        "display_name = \"Kitchen\"",
    );
    let line = line_of(&bad, "number = \"201\"") - 3;
    assert_error(
        &bad,
        &format!(
            "tipring.toml:{line}: ports[0].dial_plan: an FXS port needs one of dial_plan, hotline, warm_line"
        ),
    );
}

#[test]
fn fxo_option_on_an_fxs_port() {
    let bad = edit(
        GOOD,
        "display_name = \"Kitchen\"",
        "display_name = \"Kitchen\"\ndialing = \"pulse\"",
    );
    let line = line_of(&bad, "dialing = \"pulse\"");
    assert_error(
        &bad,
        &format!("tipring.toml:{line}: ports[0].dialing: applies to FXO ports only"),
    );
}

#[test]
fn unknown_account_reference() {
    let bad = edit(
        GOOD,
        "number = \"300\"",
        "number = \"300\"\naccount = \"carrier\"",
    );
    let line = line_of(&bad, "\"carrier\"");
    assert_error(
        &bad,
        &format!("tipring.toml:{line}: ports[2].account: \"carrier\" is not one of pbx"),
    );
}

#[test]
fn bad_sip_uri() {
    let bad = edit(
        GOOD,
        "hotline = \"sip:operator@127.0.0.1\"",
        "hotline = \"mailto:op@example.com\"",
    );
    let line = line_of(&bad, "mailto:");
    assert_error(
        &bad,
        &format!(
            "tipring.toml:{line}: ports[2].hotline: \"mailto:op@example.com\" is not a sip: or sips: URI"
        ),
    );
}

#[test]
fn timer_out_of_range_and_inconsistent() {
    let bad = edit(
        GOOD,
        "interdigit_short_ms = 2000",
        "interdigit_short_ms = 9000",
    );
    let line = line_of(&bad, "interdigit_short_ms");
    assert_error(
        &bad,
        &format!(
            "tipring.toml:{line}: timers.interdigit_short_ms: 9000 is longer than interdigit_long_ms (8000)"
        ),
    );
}

#[test]
fn media_payload_type_out_of_range() {
    let bad = edit(GOOD, "telephone_event_pt = 101", "telephone_event_pt = 13");
    let line = line_of(&bad, "telephone_event_pt");
    assert_error(
        &bad,
        &format!(
            "tipring.toml:{line}: media.telephone_event_pt: 13 is not a dynamic payload type (96..=127)"
        ),
    );
}

#[test]
fn tls_listener_without_certificates() {
    let bad = edit(GOOD, "transport = \"tcp\"", "transport = \"tls\"");
    let line = line_of(&bad, "[identity]");
    assert_error(
        &bad,
        &format!(
            "tipring.toml:{line}: identity.tls: a TLS listener or account needs [identity.tls] with cert and key"
        ),
    );
}

#[test]
fn flash_length_out_of_range_and_on_an_fxs_port() {
    let bad = edit(GOOD, "flash_ms = 600", "flash_ms = 20");
    let line = line_of(&bad, "flash_ms = 20");
    assert_error(
        &bad,
        &format!("tipring.toml:{line}: ports[2].flash_ms: 20 is not in 50..=2000"),
    );
    let bad = edit(GOOD, "number = \"201\"", "number = \"201\"\nflash_ms = 300");
    let line = line_of(&bad, "flash_ms = 300");
    assert_error(
        &bad,
        &format!("tipring.toml:{line}: ports[0].flash_ms: applies to FXO ports only"),
    );
}

#[test]
fn account_transport_needs_a_listener_of_its_kind_at_the_sip_address() {
    // good.toml listens on TCP at the SIP address: an account over TCP is fine.
    let tcp = edit(
        GOOD,
        "password = \"secret-pass\"\ntransport = \"udp\"",
        "password = \"secret-pass\"\ntransport = \"tcp\"",
    );
    let (ok, _, stderr) = check(&tcp);
    assert!(ok, "{stderr}");
    // No TLS listener: refused, naming the address to add it at.
    let tls = edit(
        GOOD,
        "password = \"secret-pass\"\ntransport = \"udp\"",
        "password = \"secret-pass\"\ntransport = \"tls\"",
    );
    let line = line_of(&tls, "password = ") + 1;
    assert_error(
        &tls,
        &format!(
            "tipring.toml:{line}: accounts[0].transport: \"tls\" needs an [[identity.listen]] with transport = \"tls\" at 127.0.0.1:5060 (the SIP address, the first UDP listener's)"
        ),
    );
}

#[test]
fn custom_tone_plan_is_validated() {
    let bad = edit(
        GOOD,
        "country = \"de\"",
        "country = \"custom\"\n[tones.custom]\nring_ms = [1000, 4000]\ndial = { freqs = [425.0], level_dbm0 = -10.0 }\nringback = { freqs = [425.0], level_dbm0 = -10.0, cadence_ms = [1000, 4000] }\nbusy = { freqs = [9000.0], level_dbm0 = -10.0, cadence_ms = [480, 480] }\ncongestion = { freqs = [425.0], level_dbm0 = -10.0, cadence_ms = [240, 240] }\ncall_waiting = { freqs = [425.0], level_dbm0 = -10.0, cadence_ms = [200, 5000] }",
    );
    let line = line_of(&bad, "9000.0");
    let (ok, _, stderr) = check(&bad);
    assert!(!ok);
    let prefix = format!("tipring.toml:{line}: tones.custom.busy: ");
    assert!(
        stderr.lines().any(|l| l.starts_with(&prefix)),
        "{prefix}\nnot in\n{stderr}"
    );
}

#[test]
fn unknown_board_profile() {
    let bad = edit(GOOD, "board = \"sim\"", "board = \"tr9\"");
    let (ok, _, stderr) = check(&bad);
    assert!(!ok);
    assert!(
        stderr
            .lines()
            .any(|l| l == "tipring.toml:2: board: board profile \"tr9\" is not usable"),
        "{stderr}"
    );
    assert!(stderr.contains("tr9.toml: cannot read"), "{stderr}");
}

#[test]
fn toml_syntax_error_names_the_line() {
    let bad = edit(GOOD, "number = \"202\"", "number = \"202");
    let line = line_of(&bad, "number = \"202");
    let (ok, _, stderr) = check(&bad);
    assert!(!ok);
    assert!(
        stderr
            .lines()
            .any(|l| l.starts_with(&format!("tipring.toml:{line}: TOML syntax:"))),
        "{stderr}"
    );
}

#[test]
fn every_error_is_reported_at_once() {
    let bad = edit(GOOD, "telephone_event_pt = 101", "telephone_event_pt = 13");
    let bad = edit(&bad, "jitter_min_ms = 40", "jitter_min_ms = 1");
    let bad = edit(&bad, "rings_before_seize = 2", "rings_before_seize = 40");
    let (ok, _, stderr) = check(&bad);
    assert!(!ok);
    assert!(
        stderr.contains("tipring.toml: 3 error(s); nothing would run"),
        "{stderr}"
    );
}

#[test]
fn unreadable_file_is_an_error() {
    let out = Command::new(env!("CARGO_BIN_EXE_tipring"))
        .args(["check-config", "/nonexistent/tipring.toml", "--board-dir"])
        .arg(PathBuf::from(repo()).join("board"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("/nonexistent/tipring.toml: cannot read")
    );
}

#[test]
fn real_board_profile_is_printed() {
    let text = edit(GOOD, "board = \"sim\"", "board = \"tr4-arm64\"");
    let (ok, stdout, stderr) = check(&text);
    assert!(ok, "{stderr}");
    for want in [
        "board tr4-arm64",
        "serial /dev/ttyS1 at 115200 8N1",
        "audio: ALSA, alaw bus, 2 periods of 20 ms",
        "port 3 (Fxo): capture hw:CARD=tipring,DEV=3, playback hw:CARD=tipring,DEV=3",
        "watchdog /dev/watchdog0 (30 s)",
    ] {
        assert!(stdout.contains(want), "missing {want:?} in\n{stdout}");
    }
}

#[test]
fn board_profile_errors_name_the_profile_file() {
    let dir = std::env::temp_dir().join(format!("tipring-boards-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let board = std::fs::read_to_string(repo().join("board/sim.toml"))
        .unwrap()
        .replace("framing = \"8N1\"", "framing = \"7E1\"");
    std::fs::write(dir.join("sim.toml"), &board).unwrap();
    std::fs::write(dir.join("tipring.toml"), GOOD).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_tipring"))
        .current_dir(&dir)
        .args(["check-config", "tipring.toml", "--board-dir", "."])
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    let line = line_of(&board, "7E1");
    assert!(
        stderr
            .lines()
            .any(|l| l == format!("./sim.toml:{line}: serial.framing: \"7E1\" is not one of 8N1")),
        "{stderr}"
    );
    assert!(
        stderr
            .lines()
            .any(|l| l == "tipring.toml:2: board: board profile \"sim\" is not usable"),
        "{stderr}"
    );
}

#[test]
fn bad_allow_target() {
    let bad = edit(
        GOOD,
        "auth_algorithms = [\"md5\", \"sha-256\"]",
        "auth_algorithms = [\"md5\", \"sha-256\"]\nallow_targets = [\"239.0.0.0/8\", \"localhost\"]",
    );
    let line = line_of(&bad, "allow_targets");
    assert_error(
        &bad,
        &format!(
            "tipring.toml:{line}: security.allow_targets[1]: \"localhost\" is not an IPv4 or IPv6 address"
        ),
    );
}

/// Open DISA: two-stage dialling from the PSTN needs a PIN unless explicitly
/// opted out, and an obvious PIN is refused.
#[test]
fn two_stage_needs_a_disa_pin_that_is_not_obvious() {
    let open = edit(GOOD, "disa_pin = \"590713\"\n", "");
    // A missing field is reported at its table.
    let line = line_of(&open, "index = 3") - 1;
    let (ok, _, stderr) = check(&open);
    assert!(!ok, "two-stage without a PIN accepted");
    let want = format!("tipring.toml:{line}: ports[3].disa_pin: inbound = \"two-stage\"");
    assert!(stderr.lines().any(|l| l.starts_with(&want)), "{stderr}");
    let opted_out = edit(GOOD, "disa_pin = \"590713\"", "disa_pin_required = false");
    assert!(check(&opted_out).0, "explicit open DISA refused");
    for weak in ["5907", "000000", "987654", "12ab56"] {
        let bad = edit(GOOD, "590713", weak);
        let line = line_of(&bad, &format!("disa_pin = \"{weak}\""));
        let (ok, _, stderr) = check(&bad);
        assert!(!ok, "PIN {weak} accepted");
        let want = format!("tipring.toml:{line}: ports[3].disa_pin: ");
        assert!(stderr.lines().any(|l| l.starts_with(&want)), "{stderr}");
    }
}

#[test]
fn fxo_policy_knobs_are_checked() {
    let bad = edit(
        GOOD,
        "dial_allow = \"{ [2-4]xx | 911 }\"",
        "dial_allow = \"[9-1]x\"",
    );
    let line = line_of(&bad, "[9-1]x");
    assert_error(
        &bad,
        &format!(
            "tipring.toml:{line}: ports[3].dial_allow: digit map: at column 4: range 9-1 runs backwards"
        ),
    );
    let bad = edit(GOOD, "max_call_s = 3600", "max_call_s = 5");
    let line = line_of(&bad, "max_call_s = 5");
    assert_error(
        &bad,
        &format!("tipring.toml:{line}: ports[3].max_call_s: 5 is not in 60..=86400"),
    );
    let bad = edit(GOOD, "max_calls_per_hour = 20", "max_calls_per_hour = 0");
    let line = line_of(&bad, "max_calls_per_hour = 0");
    assert_error(
        &bad,
        &format!("tipring.toml:{line}: ports[3].max_calls_per_hour: 0 is not in 1..=3600"),
    );
    let (ok, stdout, stderr) = check(GOOD);
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains("allows { [2-4]xx | 911 }, DISA PIN set, calls up to 3600 s, 20 per hour"),
        "{stdout}"
    );
}

/// A feature code that starts another, or a key that names no feature, is named with its
/// line.
#[test]
fn feature_codes_that_clash_or_name_nothing_are_refused() {
    let text = format!("{GOOD}\n[feature_codes]\nforward_always_on = \"*7\"\ndnd = \"*11\"\n");
    let l = line_of(&text, "forward_always_on");
    assert_error(
        &text,
        &format!(
            "tipring.toml:{l}: feature_codes.forward_always_on: \"*7\" clashes with \
             feature_codes.do_not_disturb_on = \"*78\" (one starts the other)"
        ),
    );
    let (ok, _, stderr) = check(&text);
    assert!(!ok);
    assert!(
        stderr.contains(&format!(
            "tipring.toml:{}: feature_codes.dnd: unknown feature",
            line_of(&text, "dnd =")
        )),
        "{stderr}"
    );
}

/// The voice-answer knobs need `answer_supervision = "speech"` and sane values.
#[test]
fn speech_answer_knobs_need_speech_supervision_and_range() {
    let text = edit(
        GOOD,
        "answer_supervision = \"polarity-reversal\"",
        "answer_supervision = \"polarity-reversal\"\nanswer_speech_ms = 300",
    );
    let l = line_of(&text, "answer_speech_ms");
    assert_error(
        &text,
        &format!(
            "tipring.toml:{l}: ports[2].answer_speech_ms: applies to answer_supervision = \"speech\" only"
        ),
    );
    let text = edit(
        GOOD,
        "answer_supervision = \"polarity-reversal\"",
        "answer_supervision = \"speech\"\nanswer_speech_dbm0 = -70",
    );
    let l = line_of(&text, "answer_speech_dbm0");
    assert_error(
        &text,
        &format!("tipring.toml:{l}: ports[2].answer_speech_dbm0: -70 is not in -55..=-10"),
    );
    let ok = edit(
        GOOD,
        "answer_supervision = \"polarity-reversal\"",
        "answer_supervision = \"speech\"\nanswer_speech_dbm0 = -40\nanswer_speech_ms = 300",
    );
    let (passed, _, stderr) = check(&ok);
    assert!(passed, "{stderr}");
}
