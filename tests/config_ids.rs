//! The configuration knobs of the identifier and transaction defences:
//! `[security] response_source`, `redirect_allow`, `allow_rfc2069`, `[[accounts]] realm`.

use std::path::PathBuf;

fn load(extra_account: &str, security: &str) -> Result<tipring::config::Loaded, String> {
    let text = format!(
        "board = \"sim\"\n[[identity.listen]]\ntransport = \"udp\"\naddress = \"127.0.11.1:5060\"\n\
         [[accounts]]\nname = \"pbx\"\nproxy = \"sip:pbx.example\"\n{extra_account}\n\
         [[ports]]\nindex = 0\nkind = \"fxs\"\nnumber = \"100\"\ndial_plan = \"p\"\n\
         [dial_plans]\np = \"x.T\"\n[security]\n{security}\n"
    );
    let board = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("board");
    tipring::config::load_str("t.toml", &text, &board).map_err(|e| e.to_string())
}

#[test]
fn safe_defaults() {
    let l = load("", "").expect("valid");
    let s = &l.config.security;
    assert_eq!(s.response_source, tipring::config::ResponseSource::Exact);
    assert!(s.redirect_allow.is_empty());
    assert!(!s.allow_rfc2069);
    assert_eq!(l.config.accounts[0].realm, None);
}

#[test]
fn knobs_are_read_and_checked() {
    let l = load(
        "realm = \"pbx\"",
        "response_source = \"host\"\nredirect_allow = [\"10.0.0.0/8\", \"sip2.example\"]\nallow_rfc2069 = true",
    )
    .expect("valid");
    assert_eq!(l.config.accounts[0].realm.as_deref(), Some("pbx"));
    assert_eq!(l.config.security.redirect_allow.len(), 2);
    let e = load("", "redirect_allow = [\"10.0.0.0/33\"]").unwrap_err();
    assert!(e.contains("security.redirect_allow[0]"), "{e}");
    let e = load("", "redirect_allow = [\"bad host!\"]").unwrap_err();
    assert!(e.contains("security.redirect_allow[0]"), "{e}");
    let e = load("realm = \"\"", "").unwrap_err();
    assert!(e.contains("accounts[0].realm"), "{e}");
    let e = load("", "response_source = \"anywhere\"").unwrap_err();
    assert!(e.contains("response_source"), "{e}");
}
