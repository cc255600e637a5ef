//! The demo (`cargo run --example demo`, after `cargo build`): two gateways carry a call.
//! Each is a real `tipring run` process with a simulated line card (hosted here) on
//! 127.0.0.1 and 127.0.0.2. The phone on gateway 1
//! goes off-hook, hears dial tone, dials gateway 2's phone, which rings with caller ID
//! and answers; a tone passes each way and is measured; the caller hangs up. Prints the
//! SIP ladder and the audio figures, exits 0 — or 1 naming the step that failed.

use clap::Parser;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};
use testkit::measure::{Capture, ToneFigures, ToneSource, analyse};
use testkit::testbed::{self, LogLine, Node, TempDir};
use tipring::sim_dsp::MediaDsp;
use tipring_hal::sim::scenario::{Runner, parse_script};
use tipring_media::tone::{Country, CountryProfile};

/// The number of gateway 2's phone, and the identity of gateway 1's.
const CALLEE: &str = "200";
const CALLER: &str = "100";
/// Test tone level, dBm0, and length.
const TONE_DBM0: f32 = -10.0;
const TONE_FRAMES: u32 = 50;

/// Two simulated gateways carry a call; prints the SIP ladder and audio figures.
#[derive(Debug, Parser)]
pub struct Args {
    /// The `tipring` binary each gateway runs; by default the one built beside this
    /// example (`target/<profile>/tipring`).
    #[arg(long, value_name = "PATH")]
    pub gateway: Option<PathBuf>,
    /// Also show both gateways' full logs as they run.
    #[arg(long)]
    pub verbose: bool,
    /// Keep the gateways' directory (configs, board profiles) instead of removing it.
    #[arg(long)]
    pub keep: bool,
    /// Start each gateway's `tipring run` through this command, the gateway's path
    /// appended: an emulator such as "qemu-aarch64" for a `--gateway` built for ARM when
    /// the kernel has no binfmt_misc entry for ARM binaries. Split on whitespace.
    #[arg(long, value_name = "COMMAND")]
    pub runner: Option<String>,
}

/// A failed step.
struct Failed(String);

fn main() -> ExitCode {
    Args::parse().run()
}

/// `target/<profile>/tipring` for this example at `target/<profile>/examples/demo`.
fn beside_this_example() -> Result<PathBuf, Failed> {
    let me = std::env::current_exe().map_err(|e| Failed(format!("own binary: {e}")))?;
    let exe = me
        .parent()
        .and_then(|examples| examples.parent())
        .map(|profile| profile.join("tipring"))
        .ok_or_else(|| Failed(format!("no directory above {}", me.display())))?;
    if exe.is_file() {
        Ok(exe)
    } else {
        Err(Failed(format!(
            "{} not built (cargo build --bin tipring), or pass --gateway PATH",
            exe.display()
        )))
    }
}

impl Args {
    pub fn run(self) -> ExitCode {
        let started = Instant::now();
        let mut out = Demo::default();
        let result = out.run(&self);
        println!();
        print_ladder(&out.lines);
        println!();
        print_audio(&out.figures);
        print_rtp(&out.lines);
        print_signalling(&out.lines);
        match result {
            Ok(()) => {
                println!(
                    "\ndemo passed in {:.1} s: the call was set up, carried audio both ways and was cleared",
                    started.elapsed().as_secs_f32()
                );
                ExitCode::SUCCESS
            }
            Err(Failed(why)) => {
                if !self.verbose {
                    println!("\nThe gateways' last log lines:");
                    let from = out.lines.len().saturating_sub(30);
                    for l in &out.lines[from..] {
                        println!("  {}: {}", l.node, l.text);
                    }
                }
                println!("\ndemo FAILED: {why}");
                ExitCode::FAILURE
            }
        }
    }
}

#[derive(Default)]
struct Demo {
    lines: Vec<LogLine>,
    figures: Vec<(String, ToneFigures)>,
}

fn step(n: &mut u32, what: &str) {
    *n += 1;
    println!("{:>2}. {what}", n);
}

impl Demo {
    fn run(&mut self, args: &Args) -> Result<(), Failed> {
        let fail = |s: &str| {
            let s = s.to_string();
            move |e: testbed::TestbedError| Failed(format!("{s}: {e}"))
        };
        let exe = match &args.gateway {
            Some(p) => p.clone(),
            None => beside_this_example()?,
        };
        let tmp = TempDir::new("tipring-demo").map_err(fail("temporary directory"))?;
        let port = testbed::free_sip_port().map_err(fail("SIP port"))?;
        let a1 = SocketAddr::from(([127, 0, 0, 1], port));
        let a2 = SocketAddr::from(([127, 0, 0, 2], port));
        let phone = |number: &str, name: &str| {
            format!(
                "[[ports]]\nindex = 0\nkind = \"fxs\"\nnumber = \"{number}\"\ndisplay_name = \"{name}\"\ndial_plan = \"ext\"\n"
            )
        };
        let mut n = 0;
        step(
            &mut n,
            "start two gateways (tipring run) with simulated line cards",
        );
        let mut g1 = Node::prepare("gw1", &tmp.0.join("gw1"), a1).map_err(fail("gateway 1"))?;
        let mut g2 = Node::prepare("gw2", &tmp.0.join("gw2"), a2).map_err(fail("gateway 2"))?;
        g1.echo(args.verbose);
        g2.echo(args.verbose);
        if let Some(r) = &args.runner {
            let r: Vec<String> = r.split_whitespace().map(String::from).collect();
            g1.runner(&r);
            g2.runner(&r);
        }
        let r = self.call(&exe, &mut g1, &mut g2, &phone, &mut n);
        step(&mut n, "stop both gateways (SIGTERM)");
        let s1 = g1.terminate(Duration::from_secs(6));
        let s2 = g2.terminate(Duration::from_secs(6));
        let mut lines = g1.lines();
        lines.extend(g2.lines());
        lines.sort_by_key(|l| l.at);
        self.lines = lines;
        if args.keep {
            println!("    configs kept in {}", tmp.0.display());
            std::mem::forget(tmp);
        }
        r?;
        for (name, s) in [("gateway 1", s1), ("gateway 2", s2)] {
            match s {
                Some(s) if s.success() => {}
                Some(s) => return Err(Failed(format!("{name} exited with {s} after SIGTERM"))),
                None => return Err(Failed(format!("{name} did not stop on SIGTERM"))),
            }
        }
        Ok(())
    }

    fn call(
        &mut self,
        exe: &std::path::Path,
        g1: &mut Node,
        g2: &mut Node,
        phone: &dyn Fn(&str, &str) -> String,
        n: &mut u32,
    ) -> Result<(), Failed> {
        let fail = |s: &str| {
            let s = s.to_string();
            move |e: testbed::TestbedError| Failed(format!("{s}: {e}"))
        };
        let (a1, a2) = (g1.sip, g2.sip);
        g1.start(exe, &testbed::config(a1, a2, &phone(CALLER, "Alice")), 1)
            .map_err(fail("gateway 1"))?;
        g2.start(exe, &testbed::config(a2, a1, &phone(CALLEE, "Bob")), 2)
            .map_err(fail("gateway 2"))?;
        for g in [&mut *g1, &mut *g2] {
            if !g.wait_link(Duration::from_secs(8)) {
                let why = if g.running() {
                    "its line card link never came up".to_string()
                } else {
                    match g.wait_exit(Duration::from_millis(200)) {
                        // Under qemu-user, spawning an ARM binary directly (no
                        // binfmt_misc) "succeeds" and the child exits 127.
                        Some(s) if s.code() == Some(127) => format!(
                            "tipring run exited at start ({s}: not executable here? for an \
                             ARM build, pass --runner qemu-aarch64)"
                        ),
                        Some(s) => format!("tipring run exited at start ({s})"),
                        None => "tipring run exited at start".to_string(),
                    }
                };
                return Err(Failed(format!("{}: {why}", g.name)));
            }
        }
        // Let the SIP sides bind before the first INVITE.
        std::thread::sleep(Duration::from_millis(300));
        for g in [&mut *g1, &mut *g2] {
            if !g.running() {
                return Err(Failed(format!("{} exited at start", g.name)));
            }
        }
        let dsp = MediaDsp::new(CountryProfile::builtin(Country::Us));
        let script = |g: &Node, text: &str| -> Result<(), Failed> {
            let mut r = Runner {
                sim: &g.card,
                dsp: Some(&dsp),
            };
            for s in parse_script(text).map_err(|e| Failed(format!("script: {e}")))? {
                r.run(&s)
                    .map_err(|e| Failed(format!("{} phone, `{s:?}`: {e}", g.name)))?;
            }
            Ok(())
        };
        step(n, "gw1 phone off-hook: dial tone?");
        script(g1, "offhook 0\nexpect-tone 0 350+440 6s")?;
        step(n, &format!("gw1 phone dials {CALLEE}"));
        script(g1, &format!("dial 0 {CALLEE}"))?;
        step(n, "gw2 phone rings; gw1 phone hears ringback?");
        script(g2, "expect-ringing 0 8s")?;
        script(g1, "expect-tone 0 440+480 8s")?;
        step(n, &format!("gw2 phone shows caller ID {CALLER}?"));
        script(g2, &format!("expect-callerid 0 {CALLER} 8s"))?;
        step(n, "gw2 phone answers");
        script(g2, "offhook 0\nwait 400ms")?;
        step(n, "1000 Hz from gw1's phone to gw2's: measured");
        self.tone(g1, g2, 1000.0, "gw1 -> gw2")?;
        step(n, "1400 Hz from gw2's phone to gw1's: measured");
        self.tone(g2, g1, 1400.0, "gw2 -> gw1")?;
        step(n, "gw1 phone hangs up; gw2 phone hears reorder?");
        script(g1, "onhook 0")?;
        script(g2, "expect-tone 0 480+620 8s\nonhook 0\nwait 300ms")?;
        Ok(())
    }

    /// Plays a tone into `from`'s phone and measures it at `to`'s.
    fn tone(&mut self, from: &Node, to: &Node, freq: f32, label: &str) -> Result<(), Failed> {
        let cap = Capture::default();
        to.card.add_sink(0, Box::new(cap.clone()));
        let t0 = Instant::now();
        let (src, started) = ToneSource::new(freq, TONE_DBM0, TONE_FRAMES);
        from.card.play(0, Box::new(src));
        // The tone lasts 1 s; allow for the path's delay.
        std::thread::sleep(Duration::from_millis(u64::from(TONE_FRAMES) * 20 + 600));
        let start = started
            .lock()
            .ok()
            .and_then(|s| *s)
            .ok_or_else(|| Failed(format!("{label}: the tone was never played")))?;
        let frames = cap.since(t0);
        let f = analyse(&frames, freq, TONE_DBM0, start).ok_or_else(|| {
            Failed(format!(
                "{label}: {freq} Hz never arrived ({} frames received)",
                frames.len()
            ))
        })?;
        self.figures.push((label.into(), f));
        if (f.frequency_hz - freq).abs() > freq * 0.02 {
            return Err(Failed(format!(
                "{label}: arrived at {:.1} Hz, sent {freq} Hz",
                f.frequency_hz
            )));
        }
        if (f.level_dbm0 - TONE_DBM0).abs() > 3.0 {
            return Err(Failed(format!(
                "{label}: arrived at {:.1} dBm0, sent {TONE_DBM0} dBm0",
                f.level_dbm0
            )));
        }
        Ok(())
    }
}

/// The SIP messages between the gateways, in gateway 1's order (one process's log, so
/// the order is the order they were sent and received there).
fn print_ladder(lines: &[LogLine]) {
    println!("SIP ladder (seen at gw1):");
    let lines: Vec<&LogLine> = lines.iter().filter(|l| l.node == "gw1").collect();
    let t0 = lines.first().map(|l| l.at);
    let mut any = false;
    for l in lines {
        let Some((_, text)) = stamped(l) else {
            continue;
        };
        let (arrow, rest) = if let Some(r) = text.strip_prefix("SIP -> ") {
            ("gw1 ------> gw2", r)
        } else if let Some(r) = text.strip_prefix("SIP <- ") {
            ("gw1 <------ gw2", r)
        } else {
            continue;
        };
        any = true;
        let at = t0.map_or(0.0, |t| l.at.duration_since(t).as_secs_f32());
        let summary = rest.split_once(' ').map_or(rest, |(_, s)| s);
        println!("  {at:>6.3}s  {arrow}  {summary}");
    }
    if !any {
        println!("  (no SIP messages were logged)");
    }
}

/// A log line's own timestamp (seconds since that gateway started) and its message,
/// after the spans it was logged in (`sip{call_id=...}: `).
fn stamped(l: &LogLine) -> Option<(f64, &str)> {
    let rest = l.text.strip_prefix('[')?;
    let (t, mut text) = rest.split_once("] ")?;
    while let Some((span, after)) = text.split_once("}: ")
        && span
            .split_once('{')
            .is_some_and(|(name, _)| !name.contains(' '))
    {
        text = after;
    }
    Some((t.trim().parse().ok()?, text))
}

/// The first moment in `node`'s log when a line matching `want` came after `after`.
fn when(lines: &[LogLine], node: &str, after: f64, want: impl Fn(&str) -> bool) -> Option<f64> {
    lines
        .iter()
        .filter(|l| l.node == node)
        .filter_map(stamped)
        .find(|(t, text)| *t >= after && want(text))
        .map(|(t, _)| t)
}

/// Signalling delays from each gateway's own log clock.
fn print_signalling(lines: &[LogLine]) {
    println!("Signalling (each gateway's own clock):");
    let last_digit = lines
        .iter()
        .filter(|l| l.node == "gw1")
        .filter_map(stamped)
        .rfind(|(_, t)| t.contains(": card Digit"))
        .map(|(t, _)| t);
    let show = |what: &str, a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) => println!("  {what:<44} {:>6.1} ms", (b - a) * 1000.0),
        _ => println!("  {what:<44}      -"),
    };
    let invite = last_digit.and_then(|d| {
        when(lines, "gw1", d, |t| {
            t.starts_with("SIP -> ") && t.contains(" INVITE ")
        })
    });
    show(
        "post-dial delay (gw1: last digit -> INVITE)",
        last_digit,
        invite,
    );
    let rx = when(lines, "gw2", 0.0, |t| {
        t.starts_with("SIP <- ") && t.contains(" INVITE ")
    });
    let ringing = rx.and_then(|r| {
        when(lines, "gw2", r, |t| {
            t.starts_with("SIP -> ") && t.contains(" 180 ")
        })
    });
    show("INVITE -> 180 (gw2)", rx, ringing);
    let off = rx.and_then(|r| when(lines, "gw2", r, |t| t.contains(": card OffHook")));
    let ok = off.and_then(|o| {
        when(lines, "gw2", o, |t| {
            t.starts_with("SIP -> ") && t.contains(" 200 OK")
        })
    });
    show("answer -> 200 OK (gw2: off-hook -> 200)", off, ok);
}

/// The gateways' own RTP counters of the call, as their bridges logged them at the end.
fn print_rtp(lines: &[LogLine]) {
    println!("RTP (each gateway's bridge counters for the call):");
    for l in lines {
        if let Some(r) = l.text.split("bridge stopped: ").nth(1)
            && !r.starts_with("RTP 0 sent, 0 received")
        {
            println!("  {}: {r}", l.node);
        }
    }
}

fn print_audio(figures: &[(String, ToneFigures)]) {
    println!(
        "Audio (tone {TONE_DBM0} dBm0, {} ms each way):",
        TONE_FRAMES * 20
    );
    println!("  direction    frequency   level        latency   frames  gaps");
    for (label, f) in figures {
        println!(
            "  {label:<11} {:>8.1} Hz {:>6.1} dBm0 {:>7.0} ms {:>5}/{TONE_FRAMES} {:>5}",
            f.frequency_hz, f.level_dbm0, f.latency_ms, f.frames, f.gaps
        );
    }
    if figures.is_empty() {
        println!("  (no tone was measured)");
    }
}
