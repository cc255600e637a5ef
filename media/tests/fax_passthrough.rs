//! A fax through two media sessions as G.711 audio (pass-through): spandsp's fax terminal
//! (Debian libspandsp-dev, T.30 with V.17/V.29/V.27ter modems; testkit's `fax`) sends a three-page TIFF-F from one side's line; the other side's terminal receives
//! it. Each side's line has a hybrid echo (12 dB return loss) the session's echo canceller
//! faces, the receiving side is an FXO line (DTMF in the far audio kept off it), and between
//! the sessions the RTP takes 30 ms ± 10 ms. The pages must arrive
//! pixel-exact and both sessions must have gone into voice-band data mode.
//!
//! One virtual clock, no socket or thread. Needs libspandsp-dev and libtiff-dev.

mod common;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::path::Path;
use testkit::fax::{Document, Terminal};
use tipring_media::echo::EchoConfig;
use tipring_media::g711::Law;
use tipring_media::instant::Instant;
use tipring_media::jitter::JitterConfig;
use tipring_media::modem::ModemTone;
use tipring_media::session::{Identity, MediaSession, Remote, SessionConfig, SessionEvent};
use tipring_rng::SplitMix64;

/// One side: the terminal on the line, the line's hybrid echo, the session.
struct Side {
    terminal: Terminal,
    session: MediaSession,
    addr: SocketAddr,
    played: [i16; 160],
    data: Option<ModemTone>,
}

/// A session towards `far`; `fxo`: its line is an FXO line (far DTMF kept off it).
fn session(far: SocketAddr, seed: u64, fxo: bool) -> MediaSession {
    MediaSession::new(
        SessionConfig {
            remote: Remote {
                addr: Some(far),
                law: Law::Ulaw,
                payload_type: 0,
                event_payload_type: Some(101),
                send: true,
                receive: true,
            },
            jitter: JitterConfig::default(),
            far_digits: true,
            echo: Some(EchoConfig::default()),
            mute_far_dtmf: fxo,
        },
        Identity {
            rtp_seed: seed,
            rtcp_seed: seed ^ 0x77,
            cname: [seed as u8; 16],
            ntp_at_zero: 0xE000_0000_0000_0000,
        },
    )
}

/// What became of one fax call.
struct Outcome {
    seconds: f64,
    /// T.30 completion codes of the sender and the receiver (0: OK).
    codes: (Option<i32>, Option<i32>),
    /// The harness's page comparison.
    compare: String,
    data: (Option<ModemTone>, Option<ModemTone>),
}

/// A three-page fax across the two sessions, `loss` of the RTP packets dropped.
fn fax_call(tag: &str, loss: f64) -> Outcome {
    let dir =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("fax-{tag}-{}", std::process::id()));
    let doc = Document::new(&dir, 3);
    let (a, b): (SocketAddr, SocketAddr) = (
        "192.0.2.1:4000".parse().unwrap(),
        "192.0.2.2:4000".parse().unwrap(),
    );
    let mut sides = [
        Side {
            terminal: Terminal::new(true, Some(&doc.sent), None, false),
            session: session(b, 1, false),
            addr: a,
            played: [0; 160],
            data: None,
        },
        Side {
            terminal: Terminal::new(false, None, Some(&doc.received), false),
            session: session(a, 2, true),
            addr: b,
            played: [0; 160],
            data: None,
        },
    ];
    // In flight: (arrival, to side, bytes).
    let mut flight: VecDeque<(Instant, usize, Vec<u8>)> = VecDeque::new();
    let mut rng = SplitMix64::new(9);
    let mut frames = 0u64;
    let limit = 300 * 50;
    while frames < limit
        && !(sides[0].terminal.done().is_some() && sides[1].terminal.done().is_some())
    {
        let now = Instant::from_millis(frames * 20);
        let mut due: Vec<(Instant, usize, Vec<u8>)> = Vec::new();
        flight.retain(|p| {
            if p.0 <= now {
                due.push(p.clone());
                false
            } else {
                true
            }
        });
        due.sort_by_key(|p| p.0);
        for (at, to, bytes) in due {
            let from = sides[1 - to].addr;
            sides[to].session.handle_datagram(at, from, &bytes);
        }
        for (i, s) in sides.iter_mut().enumerate() {
            let tx = s.terminal.transmit();
            // The hybrid reflects what the line is played, 12 dB down, into the capture.
            let capture: [i16; 160] =
                core::array::from_fn(|n| tx[n].saturating_add(s.played[n] / 4));
            s.session.handle_frame(now, &capture);
            s.played = s.session.poll_playout().unwrap_or([0; 160]);
            s.terminal.receive(&s.played);
            while let Some(e) = s.session.poll_event() {
                if let SessionEvent::VoiceBandData(t) = e {
                    s.data = Some(t);
                }
            }
            while let Some((_, d)) = s.session.poll_transmit() {
                if rng.next_f64() < loss {
                    continue;
                }
                let jitter = rng.next_u64() % 20_000;
                flight.push_back((now + 20_000 + jitter, 1 - i, d.to_vec()));
            }
        }
        frames += 1;
    }
    let seconds = frames as f64 / 50.0;
    let codes = (sides[0].terminal.done(), sides[1].terminal.done());
    let data = (sides[0].data, sides[1].data);
    drop(sides);
    let compare = doc.compare();
    println!(
        "fax pass-through, {:.0} % loss: {seconds:.1} s, T.30 completion {codes:?}, \
         {compare}, data mode {data:?}",
        loss * 100.0
    );
    let _ = std::fs::remove_dir_all(&dir);
    Outcome {
        seconds,
        codes,
        compare,
        data,
    }
}

#[test]
fn a_three_page_fax_passes_pixel_exact() {
    let o = fax_call("clean", 0.0);
    assert_eq!(
        o.codes,
        (Some(0), Some(0)),
        "T.30 did not complete ({})",
        o.compare
    );
    assert_eq!(o.compare, "pages 3 3 rows_differing 0");
    assert!(o.data.0.is_some() && o.data.1.is_some(), "{:?}", o.data);
    assert!(o.seconds < 120.0, "{} s", o.seconds);
}

#[test]
fn the_check_sees_pages_damaged_by_packet_loss() {
    // 3 % of the packets lost: a fax without ECM cannot recover them, so pages are
    // damaged or T.30 gives up; the check above would see it.
    let o = fax_call("lossy", 0.03);
    let exact = o.codes == (Some(0), Some(0)) && o.compare == "pages 3 3 rows_differing 0";
    assert!(!exact, "{} with loss", o.compare);
}
