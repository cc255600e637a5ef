//! `[limits]` (and the session timer bounds of `[timers]`): safe defaults when absent, and
//! each out-of-range knob named with its line.

use super::*;
use std::path::PathBuf;

const BASE: &str =
    "board = \"sim\"\n[[ports]]\nindex = 0\nkind = \"fxs\"\nhotline = \"sip:1@192.0.2.1\"\n";

fn load(extra: &str) -> Result<Loaded, ConfigError> {
    let board = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("board");
    load_str("t.toml", &format!("{BASE}{extra}"), &board)
}

#[test]
fn absent_limits_take_the_safe_defaults() {
    let l = load("").unwrap().config.limits;
    assert_eq!(l, Limits::default());
    assert!(l.drop_scanners && l.rate_per_s == 20 && l.max_server_transactions == 4_096);
}

#[test]
fn out_of_range_limits_are_named_with_their_line() {
    let e = load(
        "[limits]\nrate_per_s = 0\nban_min_s = 60\nban_max_s = 30\nscanner_user_agents = [\"\"]\n",
    )
    .unwrap_err();
    let fields: Vec<(&str, Option<usize>)> = e
        .diagnostics
        .iter()
        .map(|d| (d.field.as_str(), d.line))
        .collect();
    assert_eq!(
        fields,
        [
            ("limits.rate_per_s", Some(7)),
            ("limits.ban_max_s", Some(9)),
            ("limits.scanner_user_agents[0]", Some(10)),
        ]
    );
}

#[test]
fn unknown_limit_fields_are_refused() {
    assert!(load("[limits]\nrate = 5\n").is_err());
}

#[test]
fn the_log_level_is_checked() {
    assert_eq!(load("").unwrap().config.log.level, None);
    let ok = load("[log]\nlevel = \"warn,tipring_sip=debug\"\n").unwrap();
    assert_eq!(
        ok.config.log.level.as_deref(),
        Some("warn,tipring_sip=debug")
    );
    let e = load("[log]\nlevel = \"loud\"\n").unwrap_err();
    let fields: Vec<(&str, Option<usize>)> = e
        .diagnostics
        .iter()
        .map(|d| (d.field.as_str(), d.line))
        .collect();
    assert_eq!(fields, [("log.level", Some(7))]);
}

#[test]
fn the_echo_canceller_is_on_by_default_and_its_tail_checked() {
    let p = &load("").unwrap().config.ports[0];
    let ec = p.echo().unwrap();
    assert_eq!((ec.tail_ms, ec.nlp), (64, true));
    let p = &load("echo_tail_ms = 128\necho_nlp = false\n")
        .unwrap()
        .config
        .ports[0];
    let ec = p.echo().unwrap();
    assert_eq!((ec.tail_ms, ec.nlp), (128, false));
    let p = &load("echo_canceller = false\n").unwrap().config.ports[0];
    assert_eq!(p.echo(), None);
    let e = load("echo_tail_ms = 500\n").unwrap_err();
    let d = &e.diagnostics[0];
    assert_eq!(
        (d.field.as_str(), d.line),
        ("ports[0].echo_tail_ms", Some(6))
    );
    assert!(d.message.contains("16..=128"), "{}", d.message);
}

#[test]
fn far_dtmf_is_kept_off_fxo_lines_unless_allowed() {
    let fxo = "board = \"sim\"\n[security]\ntrusted_peers = [\"127.0.0.1\"]\n[[ports]]\nindex = 2\nkind = \"fxo\"\ninbound = \"hotline\"\nhotline = \"sip:1@192.0.2.1\"\n";
    let board = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("board");
    let l = load_str("t.toml", fxo, &board).unwrap();
    assert!(l.config.ports[0].audio().mute_far_dtmf);
    let allowed = format!("{fxo}allow_inband_digits = true\n");
    let l = load_str("t.toml", &allowed, &board).unwrap();
    assert!(!l.config.ports[0].audio().mute_far_dtmf);
    // An FXS port's phone may hear whatever the far end sends; the option is refused there.
    assert!(!load("").unwrap().config.ports[0].audio().mute_far_dtmf);
    let e = load("allow_inband_digits = true\n").unwrap_err();
    assert_eq!(e.diagnostics[0].field, "ports[0].allow_inband_digits");
}

#[test]
fn faxes_go_as_t38_by_default_and_the_mode_is_checked() {
    let p = &load("").unwrap().config.ports[0];
    let built = if FaxMode::T38_BUILT {
        FaxMode::T38
    } else {
        FaxMode::Passthrough
    };
    assert_eq!(p.fax_mode(), built);
    let p = &load("fax = \"passthrough\"\n").unwrap().config.ports[0];
    assert_eq!(p.fax_mode(), FaxMode::Passthrough);
    if FaxMode::T38_BUILT {
        let p = &load("fax = \"t38\"\n").unwrap().config.ports[0];
        assert_eq!(p.fax_mode(), FaxMode::T38);
    } else {
        let e = load("fax = \"t38\"\n").unwrap_err();
        assert_eq!(e.diagnostics[0].field, "ports[0].fax");
    }
    let e = load("fax = \"t.38\"\n").unwrap_err();
    let d = &e.diagnostics[0];
    assert_eq!((d.field.as_str(), d.line), ("ports[0].fax", Some(6)));
}

#[test]
fn distinctive_rings_are_checked_and_only_on_fxs_ports() {
    let ok =
        "alert_info_rings = { \"urn:alert:source:external\" = \"1200,4800\", \"vip\" = \"dr4\" }\n";
    let p = &load(ok).unwrap().config.ports[0];
    assert_eq!(p.alert_info_rings.as_ref().map(|m| m.len()), Some(2));
    for bad in [
        "alert_info_rings = { \"x\" = \"dr9\" }\n",
        "alert_info_rings = { \"x\" = \"1000\" }\n",
        "alert_info_rings = { \"x\" = \"20,4000\" }\n",
        "alert_info_rings = { \"\" = \"dr2\" }\n",
    ] {
        let e = load(bad).unwrap_err();
        let d = &e.diagnostics[0];
        assert_eq!(
            (d.field.as_str(), d.line),
            ("ports[0].alert_info_rings", Some(6)),
            "{bad}"
        );
    }
    let fxo = "board = \"sim\"\n[security]\ntrusted_peers = [\"127.0.0.1\"]\n[[ports]]\nindex = 2\nkind = \"fxo\"\ninbound = \"hotline\"\nhotline = \"sip:1@192.0.2.1\"\nalert_info_rings = { \"x\" = \"dr2\" }\n";
    let board = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("board");
    let e = load_str("t.toml", fxo, &board).unwrap_err();
    assert_eq!(e.diagnostics[0].field, "ports[0].alert_info_rings");
}

#[test]
fn do_not_disturb_and_anonymous_rejection_are_fxs_options() {
    let p = &load("do_not_disturb = true\nreject_anonymous = true\n")
        .unwrap()
        .config
        .ports[0];
    assert_eq!(
        (p.do_not_disturb, p.reject_anonymous),
        (Some(true), Some(true))
    );
    let fxo = "board = \"sim\"\n[security]\ntrusted_peers = [\"127.0.0.1\"]\n[[ports]]\nindex = 2\nkind = \"fxo\"\ninbound = \"hotline\"\nhotline = \"sip:1@192.0.2.1\"\ndo_not_disturb = true\n";
    let board = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("board");
    let e = load_str("t.toml", fxo, &board).unwrap_err();
    assert_eq!(e.diagnostics[0].field, "ports[0].do_not_disturb");
}

#[test]
fn forwarding_targets_and_the_no_answer_time_are_checked() {
    let ok = "forward_busy = \"sip:vm@192.0.2.50\"\nforward_no_answer = \"sips:desk@pbx.example\"\nno_answer_s = 20\n";
    let p = &load(ok).unwrap().config.ports[0];
    assert_eq!(p.no_answer_s, Some(20));
    for (bad, field) in [
        (
            "forward_always = \"tel:+15550100\"\n",
            "ports[0].forward_always",
        ),
        ("forward_busy = \"not a uri\"\n", "ports[0].forward_busy"),
        ("no_answer_s = 2\n", "ports[0].no_answer_s"),
    ] {
        let e = load(bad).unwrap_err();
        assert_eq!(
            (e.diagnostics[0].field.as_str(), e.diagnostics[0].line),
            (field, Some(6)),
            "{bad}"
        );
    }
}

#[test]
fn call_waiting_options_are_checked_and_fxs_only() {
    let p = &load("call_waiting = false\ncall_waiting_timeout_s = 20\ncall_waiting_status = 486\n")
        .unwrap()
        .config
        .ports[0];
    assert_eq!(
        (
            p.call_waiting,
            p.call_waiting_timeout_s,
            p.call_waiting_status
        ),
        (Some(false), Some(20), Some(486))
    );
    for (bad, field) in [
        (
            "call_waiting_timeout_s = 1\n",
            "ports[0].call_waiting_timeout_s",
        ),
        (
            "call_waiting_status = 404\n",
            "ports[0].call_waiting_status",
        ),
    ] {
        let e = load(bad).unwrap_err();
        assert_eq!(
            (e.diagnostics[0].field.as_str(), e.diagnostics[0].line),
            (field, Some(6)),
            "{bad}"
        );
    }
    let fxo = "board = \"sim\"\n[security]\ntrusted_peers = [\"127.0.0.1\"]\n[[ports]]\nindex = 2\nkind = \"fxo\"\ninbound = \"hotline\"\nhotline = \"sip:1@192.0.2.1\"\ncall_waiting = true\n";
    let board = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("board");
    let e = load_str("t.toml", fxo, &board).unwrap_err();
    assert_eq!(e.diagnostics[0].field, "ports[0].call_waiting");
}

#[test]
fn the_flash_mode_is_an_fxs_option_and_transfers_are_trusted_only_by_default() {
    let c = load("flash = \"relay\"\n").unwrap().config;
    assert_eq!(c.ports[0].flash, Some(FlashMode::Relay));
    assert!(
        !c.ports[0].call_waiting_on(),
        "call waiting needs the flash"
    );
    assert_eq!(c.security.accept_transfer, AcceptTransfer::Trusted);
    let e = load("flash = \"transfer\"\n").unwrap_err();
    assert_eq!(e.diagnostics[0].field, "ports[0].flash");
    let fxo = "board = \"sim\"\n[security]\ntrusted_peers = [\"127.0.0.1\"]\naccept_transfer = \"none\"\n[[ports]]\nindex = 2\nkind = \"fxo\"\ninbound = \"hotline\"\nhotline = \"sip:1@192.0.2.1\"\nflash = \"relay\"\n";
    let board = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("board");
    let e = load_str("t.toml", fxo, &board).unwrap_err();
    assert_eq!(e.diagnostics[0].field, "ports[0].flash");
}

#[test]
fn session_timer_bounds_follow_rfc_4028() {
    let t = load("").unwrap().config.timers;
    assert_eq!((t.session_expires_s, t.min_se_s), (1800, 90));
    assert!(load("[timers]\nsession_expires_s = 0\n").is_ok(), "0: off");
    let e = load("[timers]\nsession_expires_s = 60\nmin_se_s = 30\n").unwrap_err();
    let fields: Vec<&str> = e.diagnostics.iter().map(|d| d.field.as_str()).collect();
    assert_eq!(fields, ["timers.session_expires_s", "timers.min_se_s"]);
    let e = load("[timers]\nsession_expires_s = 200\nmin_se_s = 300\n").unwrap_err();
    assert!(
        e.to_string()
            .contains("is not 0 (off) or in min_se_s (300)..=86400"),
        "{e}"
    );
}

#[test]
fn forwarding_by_the_gateway_is_an_fxs_option_that_needs_relays() {
    let c = load("forward_mode = \"gateway\"\n").unwrap().config;
    assert!(c.ports[0].forwards_by_gateway());
    assert_eq!(c.limits.max_relayed_calls, 2);
    assert!(!load("").unwrap().config.ports[0].forwards_by_gateway());
    let e = load("forward_mode = \"bounce\"\n").unwrap_err();
    assert_eq!(e.diagnostics[0].field, "ports[0].forward_mode");
    let e = load("forward_mode = \"gateway\"\n[limits]\nmax_relayed_calls = 0\n").unwrap_err();
    assert_eq!(
        (e.diagnostics[0].field.as_str(), e.diagnostics[0].line),
        ("ports[0].forward_mode", Some(6))
    );
    let e = load("[limits]\nmax_relayed_calls = 65\n").unwrap_err();
    assert_eq!(e.diagnostics[0].field, "limits.max_relayed_calls");
    let fxo = "board = \"sim\"\n[security]\ntrusted_peers = [\"127.0.0.1\"]\n[[ports]]\nindex = 2\nkind = \"fxo\"\ninbound = \"hotline\"\nhotline = \"sip:1@192.0.2.1\"\nforward_mode = \"gateway\"\n";
    let board = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("board");
    let e = load_str("t.toml", fxo, &board).unwrap_err();
    assert_eq!(e.diagnostics[0].field, "ports[0].forward_mode");
}

#[test]
fn the_caller_id_window_is_an_fxo_option_in_range() {
    let fxo = |extra: &str| {
        format!(
            "board = \"sim\"\n[security]\ntrusted_peers = [\"127.0.0.1\"]\n[[ports]]\nindex = 2\n\
             kind = \"fxo\"\ninbound = \"hotline\"\nhotline = \"sip:1@192.0.2.1\"\n{extra}"
        )
    };
    let board = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("board");
    let c = load_str("t.toml", &fxo("caller_id_window_ms = 3000\n"), &board).unwrap();
    let PortRole::Fxo(role) = c.config.ports[0].role() else {
        panic!("an FXO port");
    };
    assert_eq!(role.caller_id_window_ms, 3000);
    let e = load_str("t.toml", &fxo("caller_id_window_ms = 100\n"), &board).unwrap_err();
    assert_eq!(e.diagnostics[0].field, "ports[0].caller_id_window_ms");
    let e = load("caller_id_window_ms = 3000\n").unwrap_err();
    assert_eq!(e.diagnostics[0].field, "ports[0].caller_id_window_ms");
}
