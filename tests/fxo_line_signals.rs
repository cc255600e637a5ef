//! What an FXO line's exchange signals, against a real `tipring run` on a simulated card
//! on 127.0.83.x:
//! - answer supervision by voice (`answer_supervision = "speech"`), `tipring call` as the
//!   SIP caller: the line is seized and dialled, the exchange's ringback plays for seconds
//!   without the caller being answered, and the far party's voice (non-tonal sound played
//!   by the simulated exchange) answers the call;
//! - caller ID in its common forms: DTMF (`A5551234C`) before the first ring after a
//!   polarity reversal, Bell 202 FSK between the first and second ring (GR-30), V.23 FSK
//!   before the first ring after a polarity reversal (ETSI EN 300 659-1): the hotline
//!   INVITE to sipp carries the number in its From (checked by sipp), and in a
//!   P-Asserted-Identity only when it goes through the account's proxy.

mod common;

use common::gateway::{Conf, run, serial, sipp, start, wait_exit_ok};
use common::process::Tipring;
use std::net::SocketAddr;
use std::time::Duration;
use testkit::testbed::TempDir;

/// Whether a `tipring call` ladder shows a 200 received.
/// Whether `tipring call`'s ladder shows the INVITE answered: more 200s came back than
/// the PRACKs it sent for reliable provisionals (RFC 3262) account for.
fn answered(ladder: &str) -> bool {
    let count = |f: &dyn Fn(&str) -> bool| ladder.lines().filter(|l| f(l)).count();
    let oks = count(&|l| l.starts_with("<-") && l.contains("SIP/2.0 200"));
    let pracks = count(&|l| l.starts_with("->") && l.contains(" PRACK "));
    oks > pracks
}

#[test]
fn a_line_call_is_answered_when_the_far_party_talks_not_at_ringback() {
    let _serial = serial();
    let tmp = TempDir::new("fxo-answer-speech").unwrap();
    let gw = SocketAddr::from(([127, 0, 83, 1], 25083));
    let conf = Conf::new(gw)
        .ports(
            "[[ports]]\nindex = 3\nkind = \"fxo\"\nnumber = \"301\"\ninbound = \"hotline\"\n\
             hotline = \"sip:desk@127.0.83.3\"\nanswer_supervision = \"speech\"\n",
        )
        .trust("127.0.83.3");
    let mut g = start("gw", &tmp.0.join("gw"), gw, &conf, 83);
    let mut c = Tipring::spawn(
        "fxo-answer-speech",
        &[
            "call",
            &format!("sip:201@{gw}"),
            "--listen",
            "127.0.83.3:0",
            "--hold-secs",
            "1",
        ],
    );
    // Dial tone, the digits, then five seconds of ringback.
    run(
        &g,
        "expect-seized 3 8s\nplay 3 tone:dial 3s\nwait 3500ms\nplay 3 tone:ringback 5s\n\
         wait 5000ms",
    );
    assert!(
        !answered(&c.stdout()),
        "answered before anyone talked:\n{}",
        c.stdout()
    );
    // The far party picks up and talks.
    run(&g, "play 3 tone:1100+1650 2s\nwait 2000ms");
    let (status, ladder) = c.wait(Duration::from_secs(20));
    assert!(
        status.success() && answered(&ladder),
        "not answered:\n{ladder}"
    );
    run(&g, "expect-released 3 5s");
    wait_exit_ok(&mut g);
}

/// An FXO line whose exchange sends caller ID by DTMF before the first ring calls its
/// hotline; `scenario` (a sipp UAS at `desk`) checks the INVITE. With `via_proxy` the
/// INVITE goes through the port's account's outbound proxy (sipp): the caller ID is
/// asserted (P-Asserted-Identity) there, and only there.
/// How the exchange presents caller ID 5551234 to the line in a test: the script run on
/// the simulated card, the gateway's `[tones] country` (which FSK modem it listens
/// for), and the rings before the line is seized.
struct Presentation {
    script: &'static str,
    country: &'static str,
    rings: u8,
    /// More `[[ports]]` fields of the line.
    port: &'static str,
}

/// Caller ID before the first ring as DTMF (`A5551234C`) after a polarity reversal.
const DTMF_BEFORE_RING: Presentation = Presentation {
    script: "far-answer 3\nwait 200ms\ndial 3 A5551234C inband\nwait 300ms\nring 3 1s/4s",
    country: "us",
    rings: 1,
    port: "",
};

/// The hotline INVITE of FXO line 3 of a gateway at 127.0.83.`last` reaches sipp running
/// `scenario` (directly, or through the account's outbound proxy) after the exchange
/// presented the caller as `how` says; sipp checks the identity headers.
fn line_caller_id(tag: &str, last: u8, scenario: &str, via_proxy: bool, how: &Presentation) {
    let _serial = serial();
    let tmp = TempDir::new(tag).unwrap();
    let gw = SocketAddr::from(([127, 0, 83, last], 25089));
    let desk = SocketAddr::from(([127, 0, 83, last + 8], 25089));
    let mut uas = sipp(&tmp.0, scenario, desk, &[]);
    let (account, hotline) = if via_proxy {
        (
            // The outbound proxy (no OPTIONS pings, which would be sipp's one call).
            format!("outbound_proxy = \"sip:{desk};lr\""),
            format!("sip:7000@{desk}"),
        )
    } else {
        (String::new(), format!("sip:desk@{desk}"))
    };
    let mut conf = Conf::new(gw);
    if via_proxy {
        conf = conf.account("itsp", &account);
    }
    let conf = conf
        .ports(&format!(
            "[[ports]]\nindex = 3\nkind = \"fxo\"\nnumber = \"301\"\ninbound = \"hotline\"\n\
             hotline = \"{hotline}\"\nrings_before_seize = {}\n{}",
            how.rings, how.port
        ))
        .table(&format!("[tones]\ncountry = \"{}\"\n", how.country))
        .trust(&desk.ip().to_string());
    let mut g = start("gw", &tmp.0.join("gw"), gw, &conf, 89);
    run(&g, how.script);
    // Seized after the first ring, the INVITE goes out; sipp's 486 releases the line.
    let (st, out) = uas.wait(Duration::from_secs(20));
    if !st.success() {
        common::gateway::dump(&g);
    }
    assert!(st.success(), "the INVITE's identity headers: {out}");
    run(&g, "stop-ring 3\nexpect-released 3 8s");
    wait_exit_ok(&mut g);
}

#[test]
fn dtmf_caller_id_before_the_first_ring_reaches_the_invite() {
    line_caller_id("fxo-clip", 1, "gw_uas_clip.xml", false, &DTMF_BEFORE_RING);
}

/// Bell 202 FSK between the first and second ring (Telcordia GR-30-CORE, North America):
/// the line is seized after the second ring with the caller's number.
#[test]
fn fsk_caller_id_after_the_first_ring_reaches_the_invite() {
    let how = Presentation {
        script: "ring 3 2s/4s\nwait 2600ms\ncallerid 3 5551234 bell",
        country: "us",
        rings: 2,
        port: "",
    };
    line_caller_id("fxo-fsk-bell", 3, "gw_uas_clip.xml", false, &how);
}

/// V.23 FSK before the first ring, after a polarity reversal (ETSI EN 300 659-1 §6.1.2,
/// e.g. Germany): the line is seized after the first ring with the caller's number.
#[test]
fn v23_caller_id_after_a_polarity_reversal_reaches_the_invite() {
    let how = Presentation {
        script: "far-answer 3\nwait 200ms\ncallerid 3 5551234 v23\nwait 300ms\nring 3 1s/4s",
        country: "de",
        rings: 1,
        port: "",
    };
    line_caller_id("fxo-fsk-v23", 4, "gw_uas_clip.xml", false, &how);
}

/// V.23 FSK before the first ring announced by a dual-tone alert (DT-AS, 2130 + 2750 Hz,
/// ETSI EN 300 659-1 §6.1.2) without a polarity reversal: with `dt_as = true` the idle
/// line is listened to, and the line is seized after the first ring with the number.
#[test]
fn v23_caller_id_after_a_dual_tone_alert_reaches_the_invite() {
    let how = Presentation {
        script: "play 3 tone:2130+2750 100ms\nwait 150ms\ncallerid 3 5551234 v23\n\
                 wait 300ms\nring 3 1s/4s",
        country: "uk",
        rings: 1,
        port: "dt_as = true\n",
    };
    line_caller_id("fxo-fsk-dtas", 5, "gw_uas_clip.xml", false, &how);
}

#[test]
fn the_lines_caller_id_is_asserted_to_the_providers_proxy_only() {
    line_caller_id(
        "fxo-clip-pai",
        2,
        "gw_uas_clip_pai.xml",
        true,
        &DTMF_BEFORE_RING,
    );
}
