//! `tipring sim-card` as a real process: it prints the PTY it serves, the real serial
//! driver connects to it, and steps typed at its prompt reach the driver as events.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tipring_hal::driver::{Driver, DriverEvent, SerialSettings};
use tipring_hal::model::{Digit, Event, PortKind};

fn tmp(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("tipring-cli-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn next_event(drv: &Driver) -> Event {
    let end = Instant::now() + Duration::from_secs(5);
    loop {
        match drv
            .events()
            .recv_timeout(end.saturating_duration_since(Instant::now()))
        {
            Ok(DriverEvent::Event(e)) => return e.event,
            Ok(_) => {}
            Err(e) => panic!("no event: {e}"),
        }
    }
}

#[test]
fn interactive_sim_card_serves_the_driver() {
    let dir = tmp("interactive");
    let mut child = Command::new(env!("CARGO_BIN_EXE_tipring"))
        .args(["sim-card", "--ports", "fxs,fxo", "--dir"])
        .arg(&dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    out.read_line(&mut first).unwrap();
    assert!(first.starts_with("sim-card serving /dev/pts/"), "{first}");
    let link = dir.join("card.tty");
    assert!(first.contains(&link.display().to_string()));

    let drv = Driver::start(SerialSettings::new(&link)).unwrap();
    let end = Instant::now() + Duration::from_secs(5);
    loop {
        match drv
            .events()
            .recv_timeout(end.saturating_duration_since(Instant::now()))
        {
            Ok(DriverEvent::LinkUp(h)) => {
                assert_eq!(&h.card.unwrap().ports[..], &[PortKind::Fxs, PortKind::Fxo]);
                break;
            }
            Ok(_) => {}
            Err(e) => panic!("no link: {e}"),
        }
    }
    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, "offhook 0").unwrap();

    assert_eq!(next_event(&drv), Event::OffHook);
    writeln!(stdin, "dial 0 7#").unwrap();
    for d in [Digit::D7, Digit::Hash] {
        assert!(matches!(next_event(&drv), Event::Digit { digit, .. } if digit == d));
    }
    writeln!(stdin, "far-answer 1").unwrap();
    assert_eq!(next_event(&drv), Event::PolarityReversal);
    writeln!(stdin, "status").unwrap();
    writeln!(stdin, "quit").unwrap();
    let mut rest = String::new();
    for line in out.lines() {
        rest.push_str(&line.unwrap());
        rest.push('\n');
    }
    assert!(rest.contains("port 0: fxs off-hook"), "{rest}");
    assert!(rest.contains("port 1: fxo idle"), "{rest}");
    assert!(child.wait().unwrap().success());
}

#[test]
fn script_runs_and_dsp_steps_report_what_they_missed() {
    let dir = tmp("script");
    let ok = dir.join("ok.scn");
    std::fs::write(
        &ok,
        "# fault injection and status\ngarbage 10\nwait 50ms\nstatus\n",
    )
    .unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_tipring"))
        .args(["sim-card", "--ports", "fxs", "--script"])
        .arg(&ok)
        .arg("--dir")
        .arg(&dir)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{text}");
    assert!(text.contains("port 0: fxs on-hook"), "{text}");

    let dsp = dir.join("dsp.scn");
    std::fs::write(&dsp, "offhook 0\nexpect-tone 0 dial 1s\n").unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_tipring"))
        .args(["sim-card", "--ports", "fxs", "--script"])
        .arg(&dsp)
        .arg("--dir")
        .arg(&dir)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(!o.status.success());
    // Nothing plays dial tone to the port (no gateway): the DSP step times out.
    assert!(
        text.contains("timed out after 1s waiting for: tone"),
        "{text}"
    );

    let bad = dir.join("bad.scn");
    std::fs::write(&bad, "offhook 0\nfrobnicate 0\n").unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_tipring"))
        .args(["sim-card", "--script"])
        .arg(&bad)
        .arg("--dir")
        .arg(&dir)
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("line 2"));
}
