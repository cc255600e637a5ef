//! Debian's sipvicious against `tipring run` on a simulated card (loopback 127.0.12.0/24):
//! `svwar -m INVITE` over the extensions 100-110 (two of them the phones' numbers, the rest
//! dialable numbers an FXO line would dial) and `svmap` (OPTIONS and INVITE) from an
//! untrusted address. Asserted on the card: no phone rang, no line was seized. The screen
//! alone is under test: the scanner User-Agent drop and the per-source rate limit, which
//! would silence sipvicious before the screen sees it, are turned off here.

mod common;

use common::gateway::{Conf, commands, run, serial, start, wait_exit_ok};
use common::process::Proc;
use std::net::SocketAddr;
use std::time::Duration;
use testkit::testbed::TempDir;
use tipring_hal::model::Command;

/// `[limits]` with the defences in front of the screen off.
const SCREEN_ONLY: &str = "[limits]\ndrop_scanners = false\nrate_per_s = 100000\nburst = 100000";

/// Phones 105 and 106 on the FXS ports, two FXO lines.
fn ports() -> String {
    let fxs = |i: u8, n: &str| {
        format!("[[ports]]\nindex = {i}\nkind = \"fxs\"\nnumber = \"{n}\"\ndial_plan = \"ext\"\n")
    };
    let fxo = |i: u8| {
        format!(
            "[[ports]]\nindex = {i}\nkind = \"fxo\"\ninbound = \"hotline\"\nhotline = \"sip:100@127.0.12.3:5060\"\n"
        )
    };
    format!("{}{}{}{}", fxs(0, "105"), fxs(1, "106"), fxo(2), fxo(3))
}

#[test]
fn svwar_and_svmap_ring_no_phone_and_seize_no_line() {
    let _serial = serial();
    let tmp = TempDir::new("attack-scan").expect("temp dir");
    let gw = SocketAddr::from(([127, 0, 12, 1], 25140));
    // With credentials configured the refusals are 401s, which svwar takes as "needs
    // authentication" and scans on (a 403 makes it stop at the first extension).
    let conf = Conf::new(gw)
        .ports(&ports())
        .trust("127.0.12.3")
        .security("inbound_auth = [{ username = \"trunk\", password = \"correct-horse\" }]\n")
        .table(SCREEN_ONLY);
    let mut g = start("gw", &tmp.0.join("gw"), gw, &conf, 141);
    let port = gw.port().to_string();
    let target = gw.ip().to_string();
    // svwar stops at the first extension whose answer differs from a random user's
    // (every INVITE here gets the same refusal, so it learns nothing); each extension is
    // therefore scanned by its own run so every one of them is tried.
    let mut runs: Vec<(String, &str, Vec<String>)> = (100..=110)
        .map(|ext| {
            let args = format!(
                "-m INVITE -e{ext} --force -b 127.0.12.90 -p {port} -t 0.02 --maximumtime 1 {target}"
            );
            (format!("svwar-{ext}"), "svwar", args.split(' ').map(String::from).collect())
        })
        .collect();
    for (name, method) in [("svmap", "OPTIONS"), ("svmap-invite", "INVITE")] {
        let args = format!("-m {method} -b 127.0.12.91 -p {port} -t 0.05 {target}");
        runs.push((
            name.into(),
            "svmap",
            args.split(' ').map(String::from).collect(),
        ));
    }
    for (name, program, args) in &runs {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let mut p = Proc::spawn(&tmp.0, name, program, &args);
        let (_, out) = p.wait(Duration::from_secs(30));
        println!("{name}:\n{out}");
    }
    run(&g, "wait 500ms");
    for phone in [0, 1] {
        let rings: Vec<Command> = commands(&g, phone)
            .into_iter()
            .filter(|c| matches!(c, Command::Ring(_)))
            .collect();
        assert_eq!(rings, vec![], "phone {phone} rang");
    }
    for line in [2, 3] {
        assert!(
            !commands(&g, line).contains(&Command::Seize),
            "line {line} was seized"
        );
    }
    wait_exit_ok(&mut g);
}
