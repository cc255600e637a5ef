//! A fax through two T.38 relays: spandsp's fax terminal (the test's fax machines, a
//! different use of spandsp than the relay's gateway) sends a multi-page TIFF-F from one
//! side's line; each side's [`T38Relay`] turns its line's modem audio into UDPTL and back;
//! the other terminal receives. Between the relays testkit's virtual network carries the
//! datagrams with delay, jitter and loss. The pages must arrive pixel-exact. One virtual
//! clock, no socket or thread. Needs libspandsp-dev and libtiff-dev.

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};
use testkit::fax::{Document, Terminal};
use testkit::net::{Link, Net};
use tipring_t38::{GatewayConfig, RelayConfig, RelayStats, T38Relay};

/// What became of one fax call.
struct Outcome {
    seconds: f64,
    /// T.30 completion codes of the sender and the receiver (0: OK).
    codes: (Option<i32>, Option<i32>),
    compare: String,
    stats: [RelayStats; 2],
}

/// `pages` pages from side 0's fax machine to side 1's over `link`.
fn fax_call(tag: &str, pages: u32, link: Link, ecm: bool) -> Outcome {
    let dir =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("t38-{tag}-{}", std::process::id()));
    let doc = Document::new(&dir, pages);
    let addr: [SocketAddr; 2] = [
        "192.0.2.1:4000".parse().unwrap(),
        "192.0.2.2:4002".parse().unwrap(),
    ];
    let mut terminals = [
        Terminal::new(true, Some(&doc.sent), None, ecm),
        Terminal::new(false, None, Some(&doc.received), ecm),
    ];
    let mut relays = [0, 1].map(|i| {
        let cfg = RelayConfig {
            gateway: GatewayConfig::default(),
            remote: addr[1 - i],
            redundancy: 3,
        };
        T38Relay::new(&cfg, 1000 * i as u16).expect("spandsp's gateway")
    });
    let t0 = Instant::now();
    let mut net: Net<SocketAddr, Vec<u8>> = Net::new(t0, 7).with_link(link);
    let mut frames = 0u64;
    let limit = 300 * 50;
    while frames < limit && !(terminals[0].done().is_some() && terminals[1].done().is_some()) {
        let now = t0 + Duration::from_millis(frames * 20);
        net.advance(now);
        while let Some(d) = net.poll_deliver() {
            if let Some(i) = addr.iter().position(|a| *a == d.to) {
                relays[i].handle_datagram(d.from, &d.payload);
            }
        }
        for i in 0..2 {
            let line = terminals[i].transmit();
            let play = relays[i].handle_frame(&line);
            terminals[i].receive(&play);
            while let Some((to, d)) = relays[i].poll_transmit() {
                net.send(addr[i], to, d);
            }
        }
        frames += 1;
    }
    Outcome {
        seconds: frames as f64 / 50.0,
        codes: (terminals[0].done(), terminals[1].done()),
        compare: doc.compare(),
        stats: [relays[0].stats(), relays[1].stats()],
    }
}

fn assert_sent(o: &Outcome, pages: u32) {
    println!(
        "{:.1} s, codes {:?}, {}\nsender's relay {:?}\nreceiver's relay {:?}",
        o.seconds, o.codes, o.compare, o.stats[0], o.stats[1]
    );
    assert_eq!(o.codes, (Some(0), Some(0)), "T.30 completion codes");
    assert_eq!(o.compare, format!("pages {pages} {pages} rows_differing 0"));
}

#[test]
fn three_pages_pass_through_two_relays_pixel_exact() {
    let o = fax_call(
        "clean",
        3,
        Link::IDEAL.latency(Duration::from_millis(30)),
        false,
    );
    assert_sent(&o, 3);
    assert_eq!(o.stats[1].transfer.pages, 3);
    assert_eq!(o.stats[0].ifp_lost + o.stats[1].ifp_lost, 0);
}

/// 3 % loss breaks a G.711 pass-through fax (media/tests/fax_passthrough.rs); UDPTL's
/// redundancy carries T.38 through it.
#[test]
fn three_percent_loss_and_jitter_are_covered_by_the_redundancy() {
    let link = Link::IDEAL
        .latency(Duration::from_millis(30))
        .jitter(Duration::from_millis(20))
        .loss(0.03);
    let o = fax_call("lossy", 3, link, false);
    assert_sent(&o, 3);
    assert!(
        o.stats[0].ifp_recovered + o.stats[1].ifp_recovered > 0,
        "loss was recovered"
    );
}

/// Error correction mode (T.30 Annex A): HDLC frames of the page data through the relays.
#[test]
fn a_page_in_error_correction_mode_passes() {
    let o = fax_call(
        "ecm",
        2,
        Link::IDEAL.latency(Duration::from_millis(30)),
        true,
    );
    assert_sent(&o, 2);
    assert!(o.stats[1].transfer.ecm, "ECM was used");
}

/// Datagrams from a third host are not the far end's: dropped, counted, and the fax
/// goes on.
#[test]
fn udptl_from_another_host_is_ignored() {
    let cfg = RelayConfig {
        gateway: GatewayConfig::default(),
        remote: "192.0.2.2:4002".parse().unwrap(),
        redundancy: 3,
    };
    let mut r = T38Relay::new(&cfg, 0).unwrap();
    // A T.30 indicator (CED) in a UDPTL packet, from the wrong port and the wrong host.
    let d = [0x00, 0x05, 0x01, 0x02, 0x00, 0x00];
    r.handle_datagram("192.0.2.2:4004".parse().unwrap(), &d);
    r.handle_datagram("198.51.100.7:4002".parse().unwrap(), &d);
    assert_eq!(r.stats().foreign, 2);
    assert_eq!(r.stats().ifp_received, 0);
    // Garbage from the far end is counted, never a panic.
    r.handle_datagram(cfg.remote, &[0xff; 9]);
    assert_eq!(r.stats().malformed, 1);
}
