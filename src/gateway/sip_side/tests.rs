//! Two SIP sides talking to each other in memory on virtual time: whatever one transmits
//! the other receives, no sockets.

use super::*;
use crate::call::CallerInfo;
use std::path::PathBuf;
use testkit::config::Conf;
use testkit::net::{Link, Net as Wire};
use tipring_sip::digest::{Algorithm, Challenge, respond};

const A: &str = "127.0.0.1:5060";
const B: &str = "127.0.0.2:5060";

/// The sim board's ports: FXS 0 and 1 numbered `{base}01` and `{base}02`, FXO 2 and 3 for
/// two-stage dialling.
pub(super) fn sim_ports(base: u8) -> String {
    format!(
        "[[ports]]\nindex = 0\nkind = \"fxs\"\nnumber = \"{base}01\"\n\
         display_name = \"Port zero\"\ndial_plan = \"ext\"\n\n\
         [[ports]]\nindex = 1\nkind = \"fxs\"\nnumber = \"{base}02\"\ndial_plan = \"ext\"\n\n\
         [[ports]]\nindex = 2\nkind = \"fxo\"\ninbound = \"two-stage\"\n\
         dial_plan = \"ext\"\ndisa_pin = \"590713\"\n\n\
         [[ports]]\nindex = 3\nkind = \"fxo\"\ninbound = \"two-stage\"\n\
         dial_plan = \"ext\"\ndisa_pin = \"590713\"\n\n"
    )
}

/// A gateway config for the sim board (2 FXS + 2 FXO) at `listen` (testkit's [`Conf`]):
/// FXS ports number `{base}01`/`{base}02`, FXO lines for two-stage dialling; `more` adds
/// accounts, trusted peers, security fields. The two sides call each other directly,
/// without a proxy between them: their FXS ports ring for anyone (`fxs_inbound = "any"`).
fn config(listen: &str, base: u8, more: impl FnOnce(Conf) -> Conf) -> Loaded {
    let conf = Conf::new(listen.parse().unwrap())
        .ports(&sim_ports(base))
        .security("fxs_inbound = \"any\"\n");
    let text = more(conf).render();
    let board = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("board");
    crate::config::load_str("test.toml", &text, &board).expect("test config is valid")
}

fn side(cfg: &Loaded, listen: &str, rtp_base: u16, seed: u64) -> SipSide {
    let local: SocketAddr = listen.parse().unwrap();
    let rtp = (0..4u8)
        .map(|i| (i, SocketAddr::new(local.ip(), rtp_base + 2 * u16::from(i))))
        .collect();
    SipSide::new(cfg, local, &rtp, Some(seed), HostTable::new()).expect("side builds")
}

/// Two sides on testkit's virtual network ([`Wire`], ideal links unless a test sets them),
/// and everything they reported.
struct Net {
    a: SipSide,
    b: SipSide,
    now: Instant,
    wire: Wire<SocketAddr, std::sync::Arc<[u8]>>,
    ev_a: Vec<PortEvent>,
    ev_b: Vec<PortEvent>,
}

impl Net {
    fn new(cfg_a: &Loaded, cfg_b: &Loaded) -> Net {
        let now = Instant::now();
        Net {
            a: side(cfg_a, A, 20000, 1),
            b: side(cfg_b, B, 30000, 2),
            now,
            wire: Wire::new(now, 1),
            ev_a: Vec::new(),
            ev_b: Vec::new(),
        }
    }

    /// Delivers messages and runs timers until `limit` of virtual time has passed.
    fn run_for(&mut self, limit: Duration) {
        let end = self.now + limit;
        loop {
            self.wire.advance(self.now);
            let mut moved = false;
            for side in [&mut self.a, &mut self.b] {
                while let Some(t) = side.poll_transmit() {
                    moved = true;
                    self.wire.send(side.local(), t.to.addr, t.bytes);
                }
            }
            while let Some(d) = self.wire.poll_deliver() {
                moved = true;
                let from = Peer {
                    transport: Transport::Udp,
                    addr: d.from,
                };
                for side in [&mut self.a, &mut self.b] {
                    if side.local() == d.to {
                        side.handle_message(self.now, &d.payload, from);
                    }
                }
            }
            while let Some(e) = self.a.poll_event() {
                self.ev_a.push(e);
            }
            while let Some(e) = self.b.poll_event() {
                self.ev_b.push(e);
            }
            if moved {
                continue;
            }
            let next = [
                self.a.poll_timeout(),
                self.b.poll_timeout(),
                self.wire.poll_timeout(),
            ]
            .into_iter()
            .flatten()
            .min();
            match next {
                Some(t) if t <= end => {
                    self.now = self.now.max(t);
                    self.a.handle_timeout(self.now);
                    self.b.handle_timeout(self.now);
                }
                _ => {
                    self.now = end;
                    return;
                }
            }
        }
    }

    /// Delivers what is in flight without letting timers run (a short exchange).
    fn settle(&mut self) {
        self.run_for(Duration::from_millis(1));
    }

    fn calls(ev: &[PortEvent], port: u8) -> Vec<SipEvent> {
        ev.iter()
            .filter_map(|e| match e {
                PortEvent::Call { port: p, event } if *p == port => Some(event.clone()),
                _ => None,
            })
            .collect()
    }

    fn media(ev: &[PortEvent], port: u8) -> Vec<MediaParams> {
        ev.iter()
            .filter_map(|e| match e {
                PortEvent::Media { port: p, media } if *p == port => Some(*media),
                _ => None,
            })
            .collect()
    }

    fn wire(ev: &[PortEvent], outbound: bool) -> Vec<String> {
        ev.iter()
            .filter_map(|e| match e {
                PortEvent::Wire {
                    outbound: o,
                    summary,
                    ..
                } if *o == outbound => Some(summary.clone()),
                _ => None,
            })
            .collect()
    }

    /// Asserts that a notice contains `text`.
    fn assert_noticed(ev: &[PortEvent], text: &str) {
        let notices = Net::notices(ev);
        assert!(
            notices.iter().any(|l| l.contains(text)),
            "no notice with {text:?}: {notices:?}"
        );
    }

    fn notices(ev: &[PortEvent]) -> Vec<String> {
        ev.iter()
            .filter_map(|e| match e {
                PortEvent::Notice(n) => Some(n.clone()),
                _ => None,
            })
            .collect()
    }

    fn place(&mut self, port: u8, target: &str) {
        self.a.intent(
            self.now,
            port,
            SipIntent::PlaceCall {
                target: target.into(),
                caller: CallerInfo::default(),
                hide_caller_id: None,
            },
        );
        self.settle();
    }
}

fn plain() -> (Loaded, Loaded) {
    let sec = |c: Conf| c.trust("127.0.0.3");
    (config(A, 2, sec), config(B, 3, sec))
}

#[test]
fn call_placed_ringing_answered_with_media_both_sides() {
    let (ca, cb) = plain();
    let mut n = Net::new(&ca, &cb);
    n.place(0, &format!("sip:301@{B}"));
    let incoming = Net::calls(&n.ev_b, 0);
    assert_eq!(
        incoming.len(),
        1,
        "B port 0 is offered the call: {:?}",
        n.ev_b
    );
    let SipEvent::IncomingCall { caller, number, .. } = &incoming[0] else {
        panic!("not an incoming call: {incoming:?}");
    };
    assert_eq!(number, "301");
    assert_eq!(caller.name.as_deref(), Some("Port zero"));
    assert_eq!(caller.number.as_deref(), Some("201"));
    assert!(Net::wire(&n.ev_a, true)[0].starts_with("INVITE sip:301@127.0.0.2:5060"));

    n.b.intent(n.now, 0, SipIntent::Alerting);
    n.settle();
    assert_eq!(Net::calls(&n.ev_a, 0), vec![SipEvent::Ringing]);
    assert!(
        Net::media(&n.ev_a, 0).is_empty(),
        "no media before an answer"
    );

    n.b.intent(n.now, 0, SipIntent::Answer);
    n.settle();
    assert_eq!(
        Net::calls(&n.ev_a, 0),
        vec![SipEvent::Ringing, SipEvent::Answered]
    );
    let ma = Net::media(&n.ev_a, 0);
    let mb = Net::media(&n.ev_b, 0);
    assert_eq!(ma.len(), 1, "{:?}", n.ev_a);
    assert_eq!(mb.len(), 1, "{:?}", n.ev_b);
    // Each side sends to the other's port-0 RTP address, PCMU first by default.
    assert_eq!(ma[0].remote, "127.0.0.2:30000".parse().unwrap());
    assert_eq!(mb[0].remote, "127.0.0.1:20000".parse().unwrap());
    assert_eq!(ma[0].law, tipring_media::g711::Law::Ulaw);
    assert_eq!(ma[0].payload_type, 0);
    assert_eq!(ma[0].event_payload_type, Some(101));
    assert_eq!(mb[0].event_payload_type, Some(101));
    // The ACK reached B: its 200 is not retransmitted.
    assert!(
        Net::wire(&n.ev_b, false)
            .iter()
            .any(|s| s.starts_with("ACK "))
    );
    n.run_for(Duration::from_secs(40));
    let oks = Net::wire(&n.ev_b, true)
        .iter()
        .filter(|s| s.as_str() == "200 OK")
        .count();
    assert_eq!(oks, 1, "{:?}", Net::wire(&n.ev_b, true));

    // The caller hangs up: BYE; B's machine hears RemoteHangup, A's nothing more.
    assert!(!n.a.idle(), "a call is up");
    n.a.intent(n.now, 0, SipIntent::Hangup);
    assert!(!n.a.idle(), "the BYE awaits its answer");
    n.settle();
    assert!(n.a.idle() && n.b.idle());
    assert_eq!(Net::calls(&n.ev_b, 0).last(), Some(&SipEvent::RemoteHangup));
    assert_eq!(Net::calls(&n.ev_a, 0).len(), 2);
    assert!(!n.a.port_busy(0) && !n.b.port_busy(0));
}

/// The same call over 80 ms links with 40 ms jitter and 20 % loss, for many seeds: the
/// SIP retransmissions carry it, each side hears each step once, and both sides end idle.
#[test]
fn call_over_a_lossy_jittery_network_rings_answers_and_ends() {
    let (ca, cb) = plain();
    let link = Link::IDEAL
        .latency(Duration::from_millis(80))
        .jitter(Duration::from_millis(40))
        .loss(0.2);
    let mut lost = 0;
    for seed in 1..=20 {
        let mut n = Net::new(&ca, &cb);
        n.wire = Wire::new(n.now, seed).with_link(link);
        n.a.intent(
            n.now,
            0,
            SipIntent::PlaceCall {
                target: format!("sip:301@{B}"),
                caller: CallerInfo::default(),
                hide_caller_id: None,
            },
        );
        n.run_for(Duration::from_secs(8));
        assert_eq!(Net::calls(&n.ev_b, 0).len(), 1, "seed {seed}: offered once");
        n.b.intent(n.now, 0, SipIntent::Alerting);
        n.run_for(Duration::from_secs(8));
        n.b.intent(n.now, 0, SipIntent::Answer);
        n.run_for(Duration::from_secs(20));
        let answered = Net::calls(&n.ev_a, 0);
        assert_eq!(answered.last(), Some(&SipEvent::Answered), "seed {seed}");
        assert_eq!(Net::media(&n.ev_a, 0).len(), 1, "seed {seed}");
        n.a.intent(n.now, 0, SipIntent::Hangup);
        n.run_for(Duration::from_secs(40));
        assert!(n.a.idle() && n.b.idle(), "seed {seed}");
        let b = Net::calls(&n.ev_b, 0);
        assert_eq!(b.last(), Some(&SipEvent::RemoteHangup), "seed {seed}");
        assert!(!n.a.port_busy(0) && !n.b.port_busy(0), "seed {seed}");
        lost += n.wire.stats().lost;
    }
    assert!(lost > 20, "the links lost {lost} messages in all");
}

#[test]
fn codec_preference_and_early_media() {
    let (ca, _) = plain();
    let cb = config(B, 3, |c| {
        c.trust("127.0.0.1")
            .table("[media]\ncodecs = [\"pcma\"]\ntelephone_event_pt = 96")
    });
    let mut n = Net::new(&ca, &cb);
    // A dials a PSTN number straight at B's address: B hunts an FXO line.
    n.place(1, &format!("sip:5551234@{B}"));
    assert!(matches!(
        Net::calls(&n.ev_b, 2).as_slice(),
        [SipEvent::IncomingCall { number, .. }] if number == "5551234"
    ));
    n.b.intent(n.now, 2, SipIntent::EarlyMedia);
    n.settle();
    assert_eq!(Net::calls(&n.ev_a, 1), vec![SipEvent::EarlyMedia]);
    let ma = Net::media(&n.ev_a, 1);
    assert_eq!(ma.len(), 1);
    assert_eq!(ma[0].law, tipring_media::g711::Law::Alaw);
    assert_eq!(ma[0].payload_type, 8);
    // B answers with the offerer's telephone-event number (RFC 3264 §6.1).
    assert_eq!(ma[0].event_payload_type, Some(101));
    assert_eq!(ma[0].remote, "127.0.0.2:30004".parse().unwrap());
    assert_eq!(Net::media(&n.ev_b, 2).len(), 1);
    n.b.intent(n.now, 2, SipIntent::Answer);
    n.settle();
    assert_eq!(
        Net::calls(&n.ev_a, 1),
        vec![SipEvent::EarlyMedia, SipEvent::Answered]
    );
    // The same answer again: the bridge is not told twice.
    assert_eq!(Net::media(&n.ev_a, 1).len(), 1);
    assert_eq!(Net::media(&n.ev_b, 2).len(), 1);
}

#[test]
fn busy_port_gets_486_without_its_machine_hearing() {
    let (ca, cb) = plain();
    let mut n = Net::new(&ca, &cb);
    n.place(0, &format!("sip:301@{B}"));
    n.b.intent(n.now, 0, SipIntent::Answer);
    n.settle();
    assert_eq!(Net::calls(&n.ev_a, 0), vec![SipEvent::Answered]);
    // A second call waits (call waiting); the phone's machine refusing it is busy.
    n.place(1, &format!("sip:301@{B}"));
    assert_eq!(Net::calls(&n.ev_a, 1), vec![SipEvent::Ringing]);
    n.b.intent(n.now, 0, SipIntent::EndWaiting(486));
    n.settle();
    assert_eq!(
        Net::calls(&n.ev_a, 1),
        vec![SipEvent::Ringing, SipEvent::Rejected(486)]
    );
    // With a call waiting, a third one is busy without the machine hearing of it.
    n.place(1, &format!("sip:301@{B}"));
    n.place(2, &format!("sip:301@{B}"));
    assert_eq!(
        Net::calls(&n.ev_a, 2),
        vec![SipEvent::Rejected(486)],
        "{:?}",
        n.ev_a
    );
    assert_eq!(Net::calls(&n.ev_b, 0).len(), 3, "{:?}", n.ev_b);
    assert!(
        Net::wire(&n.ev_b, true)
            .iter()
            .any(|s| s == "486 Busy Here")
    );
    // The other FXS port of B is free and reachable.
    n.place(3, &format!("sip:302@{B}"));
    assert_eq!(Net::calls(&n.ev_b, 1).len(), 1);
}

#[test]
fn hunting_skips_a_line_that_is_not_idle() {
    let sec = |c: Conf| c.trust("127.0.0.3");
    let ca = config(A, 2, sec);
    // B's FXS ports are both reached at its account's user name "desk".
    let cb = config(B, 3, |c| sec(c.account("b", "username = \"desk\"")));
    let mut n = Net::new(&ca, &cb);
    // B's port 0 has no SIP call but its phone is off-hook (e.g. reorder after the far
    // end hung up): the call goes to port 1.
    n.b.set_line_idle(0, false);
    assert!(!n.b.port_busy(0) && !n.b.port_free(0));
    n.place(0, &format!("sip:desk@{B}"));
    assert_eq!(Net::calls(&n.ev_b, 0), vec![], "{:?}", n.ev_b);
    assert!(matches!(
        Net::calls(&n.ev_b, 1).as_slice(),
        [SipEvent::IncomingCall { number, .. }] if number == "desk"
    ));
    // Port 1 now has a call, port 0 is still off-hook: the next hunt finds nothing.
    n.place(1, &format!("sip:desk@{B}"));
    assert_eq!(Net::calls(&n.ev_a, 1), vec![SipEvent::Rejected(486)]);
    // A call to port 0's own number is refused as busy too, without its machine hearing.
    n.place(1, &format!("sip:301@{B}"));
    assert_eq!(
        Net::calls(&n.ev_a, 1),
        vec![SipEvent::Rejected(486), SipEvent::Rejected(486)]
    );
    assert_eq!(Net::calls(&n.ev_b, 0), vec![]);
    // The phone goes back on-hook: port 0 rings again.
    n.b.set_line_idle(0, true);
    n.place(1, &format!("sip:desk@{B}"));
    assert!(matches!(
        Net::calls(&n.ev_b, 0).as_slice(),
        [SipEvent::IncomingCall { .. }]
    ));
}

#[test]
fn cancel_before_answer() {
    let (ca, cb) = plain();
    let mut n = Net::new(&ca, &cb);
    n.place(0, &format!("sip:302@{B}"));
    n.b.intent(n.now, 1, SipIntent::Alerting);
    n.settle();
    n.a.intent(n.now, 0, SipIntent::Hangup);
    n.settle();
    assert!(
        Net::wire(&n.ev_a, true)
            .iter()
            .any(|s| s.starts_with("CANCEL "))
    );
    assert!(
        Net::wire(&n.ev_a, false)
            .iter()
            .any(|s| s == "487 Request Terminated")
    );
    assert_eq!(Net::calls(&n.ev_b, 1).last(), Some(&SipEvent::Cancelled));
    // The caller's machine asked for it: it hears nothing more than the ringing.
    assert_eq!(Net::calls(&n.ev_a, 0), vec![SipEvent::Ringing]);
    assert!(!n.b.port_busy(1));
    // B's machine, late, tries to answer: nothing goes out.
    let before = Net::wire(&n.ev_b, true).len();
    n.b.intent(n.now, 1, SipIntent::Answer);
    n.settle();
    assert_eq!(Net::wire(&n.ev_b, true).len(), before);
}

#[test]
fn far_bye_is_remote_hangup() {
    let (ca, cb) = plain();
    let mut n = Net::new(&ca, &cb);
    n.place(0, &format!("sip:301@{B}"));
    n.b.intent(n.now, 0, SipIntent::Answer);
    n.settle();
    n.b.intent(n.now, 0, SipIntent::Hangup);
    n.settle();
    assert!(
        Net::wire(&n.ev_b, true)
            .iter()
            .any(|s| s.starts_with("BYE "))
    );
    assert_eq!(
        Net::calls(&n.ev_a, 0),
        vec![SipEvent::Answered, SipEvent::RemoteHangup]
    );
    assert_eq!(
        Net::calls(&n.ev_b, 0).len(),
        1,
        "B's own hangup is not echoed"
    );
    assert!(!n.a.port_busy(0));
}

#[test]
fn unknown_number_404() {
    let (ca, cb) = plain();
    let mut n = Net::new(&ca, &cb);
    n.place(0, &format!("sip:nobody@{B}"));
    assert_eq!(Net::calls(&n.ev_a, 0), vec![SipEvent::Rejected(404)]);
    assert!((0..4).all(|p| Net::calls(&n.ev_b, p).is_empty()));
    assert!(Net::notices(&n.ev_b).iter().any(|l| l.contains("404")));
}

#[test]
fn untrusted_invite_toward_fxo_403_and_no_call() {
    let (ca, cb) = plain();
    let mut n = Net::new(&ca, &cb);
    n.place(0, &format!("sip:5551234@{B}"));
    assert_eq!(Net::calls(&n.ev_a, 0), vec![SipEvent::Rejected(403)]);
    assert!(
        (0..4).all(|p| Net::calls(&n.ev_b, p).is_empty()),
        "{:?}",
        n.ev_b
    );
    assert!(
        Net::notices(&n.ev_b)
            .iter()
            .any(|l| l.contains("untrusted 127.0.0.1"))
    );
    // The same peer still reaches an FXS port.
    n.place(1, &format!("sip:301@{B}"));
    assert_eq!(Net::calls(&n.ev_b, 0).len(), 1);
    // Retransmissions get the same stateless answer and nothing else happens.
    n.run_for(Duration::from_secs(40));
    assert!(Net::calls(&n.ev_b, 2).is_empty() && Net::calls(&n.ev_b, 3).is_empty());
    let refusals = Net::notices(&n.ev_b)
        .into_iter()
        .filter(|l| l.contains("untrusted"))
        .count();
    assert_eq!(refusals, 1, "one log line per refused INVITE");
}

#[test]
fn trusted_invite_toward_fxo_accepted() {
    let ca = config(A, 2, |c| c.trust("127.0.0.3"));
    let cb = config(B, 3, |c| c.trust("127.0.0.0/31"));
    let mut n = Net::new(&ca, &cb);
    n.place(0, &format!("sip:5551234@{B}"));
    assert!(matches!(
        Net::calls(&n.ev_b, 2).as_slice(),
        [SipEvent::IncomingCall { number, .. }] if number == "5551234"
    ));
    // A second call hunts the other FXO line.
    n.place(1, &format!("sip:5550000@{B}"));
    assert_eq!(Net::calls(&n.ev_b, 3).len(), 1);
    // Both lines taken: the next call gets 486, and B's machines hear nothing of it.
    n.place(2, &format!("sip:5552222@{B}"));
    assert_eq!(Net::calls(&n.ev_a, 2), vec![SipEvent::Rejected(486)]);
    assert_eq!(
        Net::calls(&n.ev_b, 2).len() + Net::calls(&n.ev_b, 3).len(),
        2
    );
    // The first call is cancelled (once B's 100 Trying lets the CANCEL go, RFC 3261 §9.1);
    // its line is free again for the next call.
    n.a.intent(n.now, 0, SipIntent::Hangup);
    n.run_for(Duration::from_secs(1));
    assert_eq!(Net::calls(&n.ev_b, 2).last(), Some(&SipEvent::Cancelled));
    n.place(0, &format!("sip:5551111@{B}"));
    assert_eq!(
        Net::calls(&n.ev_b, 2).len(),
        3,
        "{:?}",
        Net::calls(&n.ev_b, 2)
    );
}

/// B challenges unknown callers toward its FXO lines; A has an account for B.
fn with_auth(a_password: &str) -> (Loaded, Loaded) {
    let ca = config(A, 2, |c| {
        c.account(
            "b",
            &format!("username = \"trunk\"\npassword = \"{a_password}\"\ndomain = \"{B}\""),
        )
        .trust("127.0.0.3")
    });
    let cb = config(B, 3, |c| {
        c.trust("127.0.0.3").security(
            "inbound_auth = [{ username = \"trunk\", password = \"long-enough\" }]\n\
                 realm = \"gw-b\"\n",
        )
    });
    (ca, cb)
}

#[test]
fn digest_authenticated_invite_toward_fxo_accepted() {
    let (ca, cb) = with_auth("long-enough");
    let mut n = Net::new(&ca, &cb);
    // A number: addressed at the account's domain.
    n.place(0, "5551234");
    let wa = Net::wire(&n.ev_a, false);
    assert!(wa.iter().any(|s| s == "401 Unauthorized"), "{wa:?}");
    assert!(
        matches!(
            Net::calls(&n.ev_b, 2).as_slice(),
            [SipEvent::IncomingCall { number, .. }] if number == "5551234"
        ),
        "{:?}",
        n.ev_b
    );
    n.b.intent(n.now, 2, SipIntent::Answer);
    n.settle();
    assert_eq!(Net::calls(&n.ev_a, 0), vec![SipEvent::Answered]);
    // Retransmission of the authenticated INVITE must not be challenged again.
    n.run_for(Duration::from_secs(40));
    assert_eq!(
        Net::wire(&n.ev_b, true)
            .iter()
            .filter(|s| s.starts_with("401"))
            .count(),
        1
    );
}

#[test]
fn wrong_password_toward_fxo_refused() {
    let (ca, cb) = with_auth("not-the-password");
    let mut n = Net::new(&ca, &cb);
    n.place(0, "5551234");
    let ev = Net::calls(&n.ev_a, 0);
    assert!(
        matches!(ev.as_slice(), [SipEvent::Rejected(401 | 403)]),
        "{ev:?}"
    );
    assert!((0..4).all(|p| Net::calls(&n.ev_b, p).is_empty()));
}

/// B challenging untrusted callers toward its FXO lines, with `auth_algorithms` when given.
fn challenging(algorithms: Option<&str>) -> SipSide {
    let list = algorithms
        .map(|a| format!("auth_algorithms = {a}\n"))
        .unwrap_or_default();
    let cb = config(B, 3, |c| {
        c.security(&format!(
            "inbound_auth = [{{ username = \"trunk\", password = \"long-enough\" }}]\n\
                 realm = \"gw-b\"\n{list}"
        ))
    });
    side(&cb, B, 30000, 2)
}

/// An INVITE from A (untrusted) toward a number on B's FXO lines, with `authorization`.
fn invite_to_fxo(id: &str, authorization: Option<&str>) -> Vec<u8> {
    let auth = authorization
        .map(|a| format!("Authorization: {a}\r\n"))
        .unwrap_or_default();
    format!(
        "INVITE sip:5551234@{B} SIP/2.0\r\nVia: SIP/2.0/UDP {A};branch=z9hG4bK{id}\r\n\
         Max-Forwards: 70\r\nFrom: <sip:trunk@{A}>;tag=f{id}\r\nTo: <sip:5551234@{B}>\r\n\
         Call-ID: {id}@{A}\r\nCSeq: 1 INVITE\r\nContact: <sip:trunk@{A}>\r\n\
         {auth}Content-Length: 0\r\n\r\n"
    )
    .into_bytes()
}

/// A, as B sees it.
fn peer_a() -> Peer {
    Peer {
        transport: Transport::Udp,
        addr: A.parse().unwrap(),
    }
}

/// Hands `invite` from A to `b`; its final answer's code and challenges.
fn answer_of(b: &mut SipSide, now: Instant, invite: &[u8]) -> (u16, Vec<Challenge>) {
    b.handle_message(now, invite, peer_a());
    while let Some(t) = b.poll_transmit() {
        let msg = Message::parse(&t.bytes).unwrap();
        match msg.status() {
            Some(code) if code >= 200 => {
                let challenges = msg
                    .headers_named("WWW-Authenticate")
                    .map(|h| Challenge::parse(h.value).unwrap())
                    .collect();
                return (code, challenges);
            }
            _ => {}
        }
    }
    panic!("no final answer to the INVITE")
}

fn algorithms(challenges: &[Challenge]) -> Vec<Algorithm> {
    challenges.iter().map(|c| c.algorithm).collect()
}

#[test]
fn challenges_follow_auth_algorithms() {
    use Algorithm::{Md5, Sha256, Sha512_256};
    let now = Instant::now();
    for (configured, offered) in [
        (None, vec![Sha256, Md5]),
        (Some(r#"["md5", "sha-256"]"#), vec![Md5, Sha256]),
        (Some(r#"["sha-512-256"]"#), vec![Sha512_256]),
        (Some(r#"["md5"]"#), vec![Md5]),
    ] {
        let mut b = challenging(configured);
        let (code, challenges) = answer_of(&mut b, now, &invite_to_fxo("c1", None));
        assert_eq!(code, 401, "{configured:?}");
        assert_eq!(algorithms(&challenges), offered, "{configured:?}");
        assert!(challenges.iter().all(|c| c.realm == "gw-b"));
    }
}

/// With `["md5"]`, right SHA-256 credentials on a nonce of ours are still refused
/// (algorithm not offered, RFC 7616 §3.7): a new MD5 challenge, no port hears of it; the
/// same user with MD5 gets through.
#[test]
fn md5_only_refuses_sha256_credentials_and_admits_md5() {
    let now = Instant::now();
    let mut b = challenging(Some(r#"["md5"]"#));
    let (_, challenges) = answer_of(&mut b, now, &invite_to_fxo("m1", None));
    let uri = format!("sip:5551234@{B}");
    let credentials = |c: &Challenge| {
        respond(c, "trunk", "long-enough", "INVITE", &uri, b"", "cn", 1).to_string()
    };
    let sha = Challenge {
        algorithm: Algorithm::Sha256,
        ..challenges[0].clone()
    };
    let (code, again) = answer_of(&mut b, now, &invite_to_fxo("m2", Some(&credentials(&sha))));
    assert_eq!((code, algorithms(&again)), (401, vec![Algorithm::Md5]));
    let mut ev: Vec<PortEvent> = std::iter::from_fn(|| b.poll_event()).collect();
    assert!((0..4).all(|p| Net::calls(&ev, p).is_empty()), "{ev:?}");
    assert!(
        Net::notices(&ev)
            .iter()
            .any(|l| l.contains("AlgorithmNotOffered")),
        "{ev:?}"
    );
    let md5 = credentials(&again[0]);
    b.handle_message(now, &invite_to_fxo("m3", Some(&md5)), peer_a());
    ev.extend(std::iter::from_fn(|| b.poll_event()));
    assert!(
        matches!(
            Net::calls(&ev, 2).as_slice(),
            [SipEvent::IncomingCall { number, .. }] if number == "5551234"
        ),
        "{ev:?}"
    );
}

#[test]
fn no_answer_is_408() {
    let (ca, _) = plain();
    let mut n = Net::new(&ca, &ca.clone());
    // Nobody listens at 127.0.0.9.
    n.place(0, "sip:301@127.0.0.9:5060");
    n.run_for(Duration::from_secs(40));
    assert_eq!(Net::calls(&n.ev_a, 0), vec![SipEvent::Rejected(408)]);
}

#[test]
fn number_without_domain_is_refused_locally() {
    let (ca, cb) = plain();
    let mut n = Net::new(&ca, &cb);
    n.place(0, "5551234");
    assert_eq!(Net::calls(&n.ev_a, 0), vec![SipEvent::Rejected(404)]);
    assert!(Net::wire(&n.ev_a, true).is_empty());
}

/// A registrar written out by hand: challenges the first REGISTER, checks the answer with
/// a real digest server, grants what was asked.
#[test]
fn registers_with_digest_refreshes_and_unregisters() {
    use tipring_sip::digest::{DigestServer, Secret, ServerConfig};
    let cfg = config(A, 2, |c| {
        c.account(
            "pbx",
            "registrar = \"sip:127.0.0.2:5070\"\nusername = \"gw1\"\n\
                 password = \"secret-pass\"\nregister_expiry_s = 600",
        )
        .trust("127.0.0.3")
    });
    let mut s = side(&cfg, A, 20000, 5);
    let registrar = Peer {
        transport: Transport::Udp,
        addr: "127.0.0.2:5070".parse().unwrap(),
    };
    let t0 = Instant::now();
    let mut server = DigestServer::new(ServerConfig::new("127.0.0.2"), [7; 32], t0);
    let users = std::collections::HashMap::from([(
        "gw1".to_owned(),
        Secret::Password("secret-pass".into()),
    )]);
    let mut answer = |s: &mut SipSide, now: Instant| -> (u32, Option<String>) {
        let t = s.poll_transmit().expect("a REGISTER");
        assert_eq!(t.to, registrar);
        let msg = Message::parse(&t.bytes).unwrap();
        assert_eq!(msg.method(), Some(Method::Register));
        assert_eq!(msg.request_uri().unwrap().to_string(), "sip:127.0.0.2:5070");
        assert_eq!(
            msg.to().unwrap().uri.to_string(),
            "sip:gw1@127.0.0.2",
            "address of record at the registrar's domain"
        );
        let expires = msg.expires().expect("Expires");
        let contact = msg.header("Contact").unwrap().value.to_owned();
        let resp =
            match server.verify_request(now, &msg, tipring_sip::digest::ChallengeKind::Www, &users)
            {
                tipring_sip::digest::Verdict::Authorized { .. } => {
                    tipring_sip::MessageBuilder::response_to(&msg, 200, "OK", Some("r1"))
                        .header(
                            tipring_sip::HeaderName::Contact,
                            format!("{contact};expires={expires}"),
                        )
                        .finish()
                }
                _ => {
                    let mut b = tipring_sip::MessageBuilder::response_to(
                        &msg,
                        401,
                        "Unauthorized",
                        Some("r1"),
                    );
                    for c in server.challenges(now, false) {
                        b = b.header(tipring_sip::HeaderName::WwwAuthenticate, c);
                    }
                    b.finish()
                }
            };
        let code = Message::parse(&resp).unwrap().status().unwrap();
        s.handle_message(now, &resp, registrar);
        (expires, Some(code.to_string()))
    };
    s.start(t0);
    s.start(t0);
    assert_eq!(answer(&mut s, t0), (600, Some("401".into())));
    assert_eq!(answer(&mut s, t0), (600, Some("200".into())));
    assert!(
        s.poll_transmit().is_none(),
        "a second start() registers nothing more"
    );
    let notes = Net::notices(&std::iter::from_fn(|| s.poll_event()).collect::<Vec<_>>());
    assert!(
        notes
            .iter()
            .any(|n| n == "account pbx: registered for 600 s"),
        "{notes:?}"
    );
    // The box's addresses changed (a new lease): registered again at once, not at 540 s.
    s.addresses_changed(t0, &["127.0.0.1".parse().unwrap()]);
    let (e, code) = answer(&mut s, t0);
    assert_eq!(e, 600);
    if code == Some("401".into()) {
        assert_eq!(answer(&mut s, t0).1, Some("200".into()));
    }
    // Refreshed before it lapses (a minute early), with credentials again.
    // Run the timers (Timer K first) until the refresh goes out.
    let mut due = t0;
    while s.transmits.is_empty() {
        due = s.poll_timeout().expect("a timer runs");
        assert!(due <= t0 + Duration::from_secs(540), "no refresh in time");
        s.handle_timeout(due);
    }
    assert!(
        due > t0 + Duration::from_secs(500),
        "refreshed too early: {:?}",
        due - t0
    );
    let (e, code) = answer(&mut s, due);
    assert_eq!(e, 600);
    assert!(code == Some("200".into()) || code == Some("401".into()));
    if code == Some("401".into()) {
        assert_eq!(answer(&mut s, due).1, Some("200".into()));
    }
    // Shutdown removes the binding.
    s.shutdown(due);
    assert!(s.unregistering());
    let (e, code) = answer(&mut s, due);
    assert_eq!(e, 0);
    if code == Some("401".into()) {
        assert_eq!(answer(&mut s, due).1, Some("200".into()));
    }
    assert!(!s.unregistering());
    let notes = Net::notices(&std::iter::from_fn(|| s.poll_event()).collect::<Vec<_>>());
    assert!(
        notes.iter().any(|n| n == "account pbx: unregistered"),
        "{notes:?}"
    );
}

#[test]
fn numbers_go_through_the_account_proxy_which_is_pinged() {
    let ca = config(A, 2, |c| {
        c.account("sp", &format!("proxy = \"sip:{B};lr\""))
            .trust("127.0.0.3")
    });
    let (_, cb) = plain();
    let mut n = Net::new(&ca, &cb);
    n.a.start(n.now);
    n.settle();
    assert!(
        Net::notices(&n.ev_a)
            .iter()
            .any(|l| l == &format!("proxy sip:{B};lr is up")),
        "{:?}",
        n.ev_a
    );
    n.place(0, "302");
    assert!(
        Net::wire(&n.ev_a, true)
            .iter()
            .any(|s| s == &format!("INVITE sip:302@{B}"))
    );
    assert_eq!(Net::calls(&n.ev_b, 1).len(), 1);
}

#[test]
fn proxy_down_is_noticed() {
    let ca = config(A, 2, |c| {
        c.account("sp", "proxy = \"sip:127.0.0.7:5060;lr\"")
            .trust("127.0.0.3")
    });
    let (_, cb) = plain();
    let mut n = Net::new(&ca, &cb);
    n.a.start(n.now);
    n.run_for(Duration::from_secs(40));
    assert!(
        Net::notices(&n.ev_a)
            .iter()
            .any(|l| l == "proxy sip:127.0.0.7:5060;lr is down (no answer)"),
        "{:?}",
        Net::notices(&n.ev_a)
    );
}

/// A far end that re-offers (a plain UA core): the bridge is retargeted.
#[test]
fn reinvite_retargets_the_bridge() {
    use tipring_sip::sdp::{Direction, MediaConfig, OfferAnswer};
    use tipring_sip::ua::UaConfig;
    let (ca, _) = plain();
    let mut a = side(&ca, A, 20000, 1);
    let far: SocketAddr = B.parse().unwrap();
    let mut ua = Ua::new(UaConfig::new(far, Transport::Udp, "far"));
    let mut oa = OfferAnswer::new(MediaConfig::new(far.ip(), 7000), 9);
    let now = Instant::now();
    let offer = oa.create_offer().to_string().into_bytes();
    let h = ua
        .call(now, &format!("sip:201@{A}"), &format!("sip:far@{B}"), offer)
        .unwrap();
    let mut ev = Vec::new();
    let pump = |a: &mut SipSide, ua: &mut Ua, ev: &mut Vec<PortEvent>| {
        let from_far = Peer {
            transport: Transport::Udp,
            addr: far,
        };
        let from_a = Peer {
            transport: Transport::Udp,
            addr: a.local(),
        };
        for _ in 0..10 {
            while let Some(t) = ua.poll_transmit() {
                a.handle_message(now, &t.bytes, from_far);
            }
            while let Some(t) = a.poll_transmit() {
                ua.handle_message(now, &t.bytes, from_a);
            }
            ev.extend(std::iter::from_fn(|| a.poll_event()));
        }
    };
    pump(&mut a, &mut ua, &mut ev);
    assert_eq!(Net::calls(&ev, 0).len(), 1);
    a.intent(now, 0, SipIntent::Answer);
    pump(&mut a, &mut ua, &mut ev);
    let answered = std::iter::from_fn(|| ua.poll_event())
        .find_map(|e| match e {
            UaEvent::Answered { sdp, .. } => Some(sdp),
            _ => None,
        })
        .expect("far end answered");
    let sd = tipring_sip::sdp::SessionDescription::parse(&answered).unwrap();
    oa.process_answer(&sd).unwrap();
    assert_eq!(
        Net::media(&ev, 0)[0].remote,
        "127.0.0.2:7000".parse().unwrap()
    );
    // The far end moves its media to another port.
    oa.config_mut().rtp_port = 7100;
    let reoffer = oa.create_offer().to_string().into_bytes();
    ua.reinvite(now, h, reoffer).unwrap();
    pump(&mut a, &mut ua, &mut ev);
    let m = Net::media(&ev, 0);
    assert_eq!(m.len(), 2, "{ev:?}");
    assert_eq!(m[1].remote, "127.0.0.2:7100".parse().unwrap());
    assert!(
        std::iter::from_fn(|| ua.poll_event()).any(|e| matches!(e, UaEvent::ReinviteDone { .. }))
    );
    // The far end holds the call (a=sendonly, RFC 3264 §8.4): we answer recvonly and the
    // bridge stops sending; an old-style hold (c=0.0.0.0) keeps the address, sends
    // nothing; taking the call back (sendrecv) lets the bridge send again.
    let mut reinvite = |oa: &mut OfferAnswer, ua: &mut Ua, ev: &mut Vec<PortEvent>| {
        let offer = oa.create_offer().to_string().into_bytes();
        ua.reinvite(now, h, offer).unwrap();
        pump(&mut a, ua, ev);
        let answer = std::iter::from_fn(|| ua.poll_event())
            .find_map(|e| match e {
                UaEvent::ReinviteDone { sdp, .. } => Some(sdp),
                _ => None,
            })
            .expect("re-INVITE answered");
        let sd = tipring_sip::sdp::SessionDescription::parse(&answer).unwrap();
        oa.process_answer(&sd).unwrap();
        sd.to_string()
    };
    oa.config_mut().direction = Direction::SendOnly;
    let answer = reinvite(&mut oa, &mut ua, &mut ev);
    assert!(answer.contains("a=recvonly"), "{answer}");
    let m = Net::media(&ev, 0);
    assert_eq!(m.len(), 3, "{ev:?}");
    assert!(!m[2].send);
    assert_eq!(m[2].remote, "127.0.0.2:7100".parse().unwrap());
    oa.config_mut().direction = Direction::SendRecv;
    reinvite(&mut oa, &mut ua, &mut ev);
    assert!(Net::media(&ev, 0)[3].send);
    oa.config_mut().address = std::net::Ipv4Addr::UNSPECIFIED.into();
    reinvite(&mut oa, &mut ua, &mut ev);
    let m = Net::media(&ev, 0);
    assert_eq!(m.len(), 5, "{ev:?}");
    assert!(!m[4].send);
    assert_eq!(m[4].remote, "127.0.0.2:7100".parse().unwrap());
    // The machine was not bothered by the re-INVITEs.
    assert_eq!(Net::calls(&ev, 0).len(), 1);
}

fn with_dead_proxy() -> (Loaded, Loaded) {
    let ca = config(A, 2, |c| {
        c.account(
            "sp",
            &format!("proxy = \"sip:127.0.0.7:5060;lr\"\nsecondary_proxy = \"sip:{B};lr\""),
        )
        .trust("127.0.0.3")
    });
    (ca, plain().1)
}

#[test]
fn proxy_timeout_fails_over_to_the_secondary() {
    let (ca, cb) = with_dead_proxy();
    let mut n = Net::new(&ca, &cb);
    n.place(0, "302");
    assert!(Net::calls(&n.ev_b, 1).is_empty());
    n.run_for(Duration::from_secs(33));
    assert_eq!(
        Net::calls(&n.ev_b, 1).len(),
        1,
        "{:?}",
        Net::notices(&n.ev_a)
    );
    assert!(
        Net::calls(&n.ev_a, 0).is_empty(),
        "the machine sees no failure"
    );
    assert!(
        Net::notices(&n.ev_a)
            .iter()
            .any(|l| l == &format!("port 0: proxy failed, trying sip:{B};lr"))
    );
    n.b.intent(n.now, 1, SipIntent::Answer);
    n.settle();
    assert_eq!(Net::calls(&n.ev_a, 0), vec![SipEvent::Answered]);
}

#[test]
fn proxy_known_down_goes_to_the_secondary_at_once() {
    let (ca, cb) = with_dead_proxy();
    let mut n = Net::new(&ca, &cb);
    n.a.start(n.now);
    n.run_for(Duration::from_secs(40));
    assert!(
        Net::notices(&n.ev_a)
            .iter()
            .any(|l| l.contains("127.0.0.7:5060;lr is down"))
    );
    n.place(0, "302");
    assert_eq!(Net::calls(&n.ev_b, 1).len(), 1);
}

#[test]
fn no_common_codec_is_488_before_any_port_hears() {
    let ca = config(A, 2, |c| {
        c.trust("127.0.0.3").table("[media]\ncodecs = [\"pcmu\"]")
    });
    let cb = config(B, 3, |c| {
        c.trust("127.0.0.3").table("[media]\ncodecs = [\"pcma\"]")
    });
    let mut n = Net::new(&ca, &cb);
    n.place(0, &format!("sip:301@{B}"));
    assert_eq!(Net::calls(&n.ev_a, 0), vec![SipEvent::Rejected(488)]);
    assert!(Net::calls(&n.ev_b, 0).is_empty());
    assert!(!n.b.port_busy(0));
}

#[test]
fn refused_invite_retransmission_gets_the_same_answer_and_one_log_line() {
    let (ca, cb) = plain();
    let mut a = side(&ca, A, 20000, 1);
    let mut b = side(&cb, B, 30000, 2);
    let now = Instant::now();
    a.intent(
        now,
        0,
        SipIntent::PlaceCall {
            target: format!("sip:5551234@{B}"),
            caller: CallerInfo::default(),
            hide_caller_id: None,
        },
    );
    let invite = a.poll_transmit().expect("INVITE");
    let from = Peer {
        transport: Transport::Udp,
        addr: a.local(),
    };
    let mut answers = Vec::new();
    for _ in 0..2 {
        b.handle_message(now, &invite.bytes, from);
        let t = b.poll_transmit().expect("a stateless answer");
        assert_eq!(t.to, from);
        assert!(b.poll_transmit().is_none());
        answers.push(t.bytes.to_vec());
    }
    assert_eq!(
        answers[0], answers[1],
        "same To tag each time (RFC 3261 §8.2.7)"
    );
    let m = Message::parse(&answers[0]).unwrap();
    assert_eq!(m.status(), Some(403));
    assert!(m.to().unwrap().tag().is_some());
    let ev: Vec<PortEvent> = std::iter::from_fn(|| b.poll_event()).collect();
    assert_eq!(Net::notices(&ev).len(), 1, "{ev:?}");
    assert!((0..4).all(|p| Net::calls(&ev, p).is_empty()));
}

proptest::proptest! {
    /// Whatever arrives (a valid INVITE cut and spliced with junk, toward FXS and FXO
    /// numbers, with and without SDP), the side answers or drops it, never panics.
    #[test]
    fn hostile_messages_never_panic(
        user in proptest::sample::select(vec!["301", "5551234", "nobody", "+1%32", ""]),
        pos in 0usize..700,
        junk in "\\PC{0,24}",
        sdp in proptest::bool::ANY,
    ) {
        let (ca, cb) = plain();
        let mut a = side(&ca, A, 20000, 1);
        let mut b = side(&cb, B, 30000, 2);
        let now = Instant::now();
        a.intent(now, 0, SipIntent::PlaceCall {
            target: format!("sip:{user}@{B}"),
            caller: CallerInfo::default(),
            hide_caller_id: None,
        });
        let Some(t) = a.poll_transmit() else { return Ok(()); };
        let mut text = String::from_utf8_lossy(&t.bytes).into_owned();
        if !sdp && let Some(i) = text.find("\r\n\r\n") {
            text.truncate(i + 4);
        }
        let mut cut = pos.min(text.len());
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        let bytes = format!("{}{junk}{}", &text[..cut], &text[cut..]).into_bytes();
        let from = Peer { transport: Transport::Udp, addr: a.local() };
        b.handle_message(now, &bytes, from);
        b.handle_message(now, &bytes, from);
        while b.poll_transmit().is_some() {}
        while let Some(e) = b.poll_event() {
            if let PortEvent::Call { port, event: SipEvent::IncomingCall { .. } } = e {
                b.intent(now, port, SipIntent::Answer);
            }
        }
        b.handle_timeout(now + Duration::from_secs(64));
    }
}

#[test]
fn messages_carry_the_configured_product() {
    let ca = config(A, 2, |c| c.user_agent("tipring-test/1").trust("127.0.0.3"));
    let cb = config(B, 3, |c| c.default_product().trust("127.0.0.3"));
    let mut a = side(&ca, A, 20000, 1);
    let mut b = side(&cb, B, 30000, 2);
    let now = Instant::now();
    a.intent(
        now,
        0,
        SipIntent::PlaceCall {
            target: format!("sip:301@{B}"),
            caller: CallerInfo::default(),
            hide_caller_id: None,
        },
    );
    let t = a.poll_transmit().unwrap();
    let m = Message::parse(&t.bytes).unwrap();
    assert_eq!(m.header("User-Agent").unwrap().value, "tipring-test/1");
    assert_eq!(m.method(), Some(Method::Invite));
    assert!(!m.body().is_empty(), "the body is intact");
    let from = Peer {
        transport: Transport::Udp,
        addr: a.local(),
    };
    b.handle_message(now, &t.bytes, from);
    b.intent(now, 0, SipIntent::Alerting);
    let mut statuses = Vec::new();
    while let Some(r) = b.poll_transmit() {
        let m = Message::parse(&r.bytes).unwrap();
        statuses.push(m.status());
        // The default product: tipring/<version>.
        assert!(m.header("Server").unwrap().value.starts_with("tipring/"));
        a.handle_message(
            now,
            &r.bytes,
            Peer {
                transport: Transport::Udp,
                addr: b.local(),
            },
        );
    }
    assert!(statuses.contains(&Some(180)), "{statuses:?}");
    let ev: Vec<PortEvent> = std::iter::from_fn(|| a.poll_event()).collect();
    assert_eq!(Net::calls(&ev, 0), vec![SipEvent::Ringing]);
}

/// A registrar known by a name that did not resolve at start: nothing is sent, the
/// failure is noticed; once a later lookup answers, the REGISTER goes to that address, and
/// the same answer again changes nothing.
#[test]
fn a_registrar_name_resolved_later_starts_the_registration() {
    let cfg = config(A, 2, |c| {
        c.account(
            "pbx",
            "registrar = \"sip:pbx.test:5070\"\nusername = \"gw\"",
        )
        .trust("127.0.0.3")
    });
    let mut s = side(&cfg, A, 20000, 3);
    let now = Instant::now();
    s.start(now);
    let sent = |s: &mut SipSide| std::iter::from_fn(|| s.poll_transmit()).collect::<Vec<_>>();
    let notices = |s: &mut SipSide| {
        std::iter::from_fn(|| s.poll_event())
            .filter_map(|e| match e {
                PortEvent::Notice(n) => Some(n),
                _ => None,
            })
            .collect::<Vec<_>>()
    };
    assert!(sent(&mut s).is_empty());
    assert!(
        notices(&mut s)
            .iter()
            .any(|n| n.starts_with("account pbx: cannot register")),
    );
    let mut fresh = HostTable::new();
    fresh.insert("pbx.test", "127.0.0.1".parse().unwrap());
    s.set_hosts(now, &fresh);
    let out = sent(&mut s);
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(out[0].to.addr, "127.0.0.1:5070".parse().unwrap());
    assert!(
        out[0]
            .bytes
            .starts_with(b"REGISTER sip:pbx.test:5070 SIP/2.0")
    );
    assert!(notices(&mut s).contains(&"pbx.test resolves to 127.0.0.1".to_string()));
    s.set_hosts(now, &fresh);
    assert!(sent(&mut s).is_empty());
    // A lookup that fails (the name missing from the answer) keeps the address.
    s.set_hosts(now, &HostTable::new());
    assert_eq!(
        s.hosts().get("pbx.test"),
        Some("127.0.0.1".parse().unwrap())
    );
}

#[test]
fn an_answer_aiming_our_rtp_at_multicast_ends_the_call() {
    let (ca, cb) = plain();
    let mut a = side(&ca, A, 20000, 1);
    let mut b = side(&cb, B, 30000, 2);
    let now = Instant::now();
    a.intent(
        now,
        0,
        SipIntent::PlaceCall {
            target: format!("sip:301@{B}"),
            caller: CallerInfo::default(),
            hide_caller_id: None,
        },
    );
    let invite = a.poll_transmit().expect("INVITE");
    let (pa, pb) = (
        Peer {
            transport: Transport::Udp,
            addr: a.local(),
        },
        Peer {
            transport: Transport::Udp,
            addr: b.local(),
        },
    );
    b.handle_message(now, &invite.bytes, pa);
    while let Some(e) = b.poll_event() {
        if let PortEvent::Call {
            port,
            event: SipEvent::IncomingCall { .. },
        } = e
        {
            b.intent(now, port, SipIntent::Answer);
        }
    }
    let ok = std::iter::from_fn(|| b.poll_transmit())
        .find(|t| t.bytes.starts_with(b"SIP/2.0 200"))
        .expect("200");
    // The same length, so Content-Length still holds.
    let ok = String::from_utf8(ok.bytes.to_vec())
        .unwrap()
        .replace("c=IN IP4 127.0.0.2", "c=IN IP4 224.0.0.1");
    while a.poll_event().is_some() {}
    a.handle_message(now, ok.as_bytes(), pb);
    let ev: Vec<PortEvent> = std::iter::from_fn(|| a.poll_event()).collect();
    assert_eq!(Net::calls(&ev, 0), vec![SipEvent::Rejected(488)], "{ev:?}");
    assert!(Net::media(&ev, 0).is_empty(), "no bridge toward multicast");
    let sent: Vec<String> = std::iter::from_fn(|| a.poll_transmit())
        .map(|t| summary(&t.bytes))
        .collect();
    assert!(sent.iter().any(|s| s.starts_with("BYE")), "{sent:?}");
}

#[test]
fn the_call_id_of_a_sent_message_is_read_back_for_the_log() {
    let bye = b"BYE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5060\r\ni: abc@h\r\n\r\n";
    assert_eq!(call_id(bye).as_deref(), Some("abc@h"));
    let ok = b"SIP/2.0 200 OK\r\nCall-ID:  k1 \r\n\r\nCall-ID: in the body";
    assert_eq!(call_id(ok).as_deref(), Some("k1"));
    assert_eq!(call_id(b"OPTIONS sip:x SIP/2.0\r\n\r\nCall-ID: body"), None);
}

/// An INVITE's `Alert-Info` picks the phone's ring: a Bellcore name, an RFC 7462 URN; an
/// unknown token (even one asking to answer at once) rings the country's cadence.
#[test]
fn alert_info_picks_a_distinctive_ring() {
    let ring_of = |alert: &str| {
        let (_, cb) = plain();
        let mut b = side(&cb, B, 30000, 2);
        let invite = format!(
            "INVITE sip:301@{B} SIP/2.0\r\nVia: SIP/2.0/UDP {A};branch=z9hG4bKai\r\n\
             Max-Forwards: 70\r\nFrom: <sip:100@{A}>;tag=fa\r\nTo: <sip:301@{B}>\r\n\
             Call-ID: ai@{A}\r\nCSeq: 1 INVITE\r\nContact: <sip:100@{A}>\r\n\
             Alert-Info: {alert}\r\nContent-Length: 0\r\n\r\n"
        );
        b.handle_message(Instant::now(), invite.as_bytes(), peer_a());
        let events: Vec<PortEvent> = std::iter::from_fn(|| b.poll_event()).collect();
        let calls = Net::calls(&events, 0);
        let [SipEvent::IncomingCall { ring, .. }] = calls.as_slice() else {
            panic!("{events:?}");
        };
        ring.as_ref().map(|c| {
            c.steps
                .iter()
                .map(|s| (s.on_ms, s.off_ms))
                .collect::<Vec<_>>()
        })
    };
    assert_eq!(
        ring_of("<http://127.0.0.1/Bellcore-dr2>"),
        Some(vec![(800, 400), (800, 4000)])
    );
    assert_eq!(
        ring_of("<urn:alert:source:internal>"),
        Some(vec![(800, 400), (800, 4000)])
    );
    assert_eq!(
        ring_of("<http://www.notused.com>;info=alert-autoanswer"),
        None
    );
}

/// A gateway at `listen` with one phone, `{base}01` on port 0, configured with `opts`
/// (port options, one per line); any caller may ring it, 127.0.0.3 is trusted.
fn one_phone(listen: &str, base: u8, opts: &str) -> Loaded {
    let ports = format!(
        "[[ports]]\nindex = 0\nkind = \"fxs\"\nnumber = \"{base}01\"\n\
         display_name = \"Port zero\"\ndial_plan = \"ext\"\n{opts}\n"
    );
    let text = Conf::new(listen.parse().unwrap())
        .ports(&ports)
        .security("fxs_inbound = \"any\"\n")
        .trust("127.0.0.3")
        .render();
    let board = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("board");
    crate::config::load_str("t.toml", &text, &board).unwrap()
}

/// Do not disturb refuses every call without ringing (486); anonymous call rejection
/// refuses only a hidden caller, with 433 (RFC 5079).
#[test]
fn do_not_disturb_and_anonymous_call_rejection() {
    let answer = |port_opts: &str, from: &str, extra: &str| {
        let mut b = side(&one_phone(B, 3, port_opts), B, 30000, 2);
        let invite = format!(
            "INVITE sip:301@{B} SIP/2.0\r\nVia: SIP/2.0/UDP {A};branch=z9hG4bKdnd\r\n\
             Max-Forwards: 70\r\nFrom: {from};tag=fd\r\nTo: <sip:301@{B}>\r\n\
             Call-ID: dnd@{A}\r\nCSeq: 1 INVITE\r\nContact: <sip:100@{A}>\r\n\
             {extra}Content-Length: 0\r\n\r\n"
        );
        let now = Instant::now();
        b.handle_message(now, invite.as_bytes(), peer_a());
        let events: Vec<PortEvent> = std::iter::from_fn(|| b.poll_event()).collect();
        let rang = !Net::calls(&events, 0).is_empty();
        let finals: Vec<u16> = std::iter::from_fn(|| b.poll_transmit())
            .filter_map(|t| Message::parse(&t.bytes).ok()?.status())
            .filter(|c| *c >= 200)
            .collect();
        (rang, finals)
    };
    let alice = format!("<sip:100@{A}>");
    let hidden = "\"Anonymous\" <sip:anonymous@anonymous.invalid>";
    assert_eq!(answer("", &alice, ""), (true, vec![]));
    assert_eq!(
        answer("do_not_disturb = true", &alice, ""),
        (false, vec![486])
    );
    assert_eq!(
        answer("reject_anonymous = true", &alice, ""),
        (true, vec![])
    );
    assert_eq!(
        answer("reject_anonymous = true", hidden, ""),
        (false, vec![433])
    );
    assert_eq!(
        answer("reject_anonymous = true", &alice, "Privacy: id\r\n"),
        (false, vec![433])
    );
    assert_eq!(answer("", hidden, ""), (true, vec![]));
}

/// A's phone blocks its caller ID: the INVITE says `Privacy: id` from an anonymous From,
/// B's phone is offered a caller with no name and no number; a phone of B's that rejects
/// anonymous callers refuses the call with 433, which A's phone hears as a failure.
#[test]
fn a_blocked_caller_id_reaches_no_one_and_is_refused_where_anonymity_is() {
    let ca = one_phone(A, 2, "caller_id_blocking = true");
    let mut n = Net::new(&ca, &one_phone(B, 3, ""));
    n.place(0, &format!("sip:301@{B}"));
    let invite = Net::wire(&n.ev_a, true)[0].clone();
    assert!(invite.starts_with("INVITE sip:301@"), "{invite}");
    let incoming = Net::calls(&n.ev_b, 0);
    let [SipEvent::IncomingCall { caller, .. }] = incoming.as_slice() else {
        panic!("{:?}", n.ev_b);
    };
    assert_eq!(caller, &CallerInfo::default());
    let mut n = Net::new(&ca, &one_phone(B, 3, "reject_anonymous = true"));
    n.place(0, &format!("sip:301@{B}"));
    assert!(Net::calls(&n.ev_b, 0).is_empty());
    assert_eq!(Net::calls(&n.ev_a, 0), vec![SipEvent::Rejected(433)]);
}

/// The final responses `b` sent, with their Contact.
fn final_responses(b: &mut SipSide) -> Vec<(u16, Option<String>)> {
    std::iter::from_fn(|| b.poll_transmit())
        .filter_map(|t| {
            let m = Message::parse(&t.bytes).ok()?;
            let code = m.status().filter(|c| *c >= 200)?;
            Some((code, m.header("Contact").map(|h| h.value.to_string())))
        })
        .collect()
}

/// Call forwarding by redirect: always (no ring), on busy (the line engaged), on no
/// answer (the machine's 480 becomes a 302); the 302's Contact is the configured target.
#[test]
fn calls_are_forwarded_by_302_always_on_busy_and_on_no_answer() {
    let b_with = |opts: &str| side(&one_phone(B, 3, opts), B, 30000, 2);
    let invite = format!(
        "INVITE sip:301@{B} SIP/2.0\r\nVia: SIP/2.0/UDP {A};branch=z9hG4bKfw\r\n\
         Max-Forwards: 70\r\nFrom: <sip:100@{A}>;tag=fw\r\nTo: <sip:301@{B}>\r\n\
         Call-ID: fw@{A}\r\nCSeq: 1 INVITE\r\nContact: <sip:100@{A}>\r\n\
         Content-Length: 0\r\n\r\n"
    );
    let now = Instant::now();
    let rang = |b: &mut SipSide| {
        let events: Vec<PortEvent> = std::iter::from_fn(|| b.poll_event()).collect();
        !Net::calls(&events, 0).is_empty()
    };
    let voicemail = Some("<sip:vm@192.0.2.50>".to_string());

    let mut b = b_with("forward_always = \"sip:vm@192.0.2.50\"");
    b.handle_message(now, invite.as_bytes(), peer_a());
    assert!(!rang(&mut b));
    assert_eq!(final_responses(&mut b), [(302, voicemail.clone())]);

    let mut b = b_with("forward_busy = \"sip:vm@192.0.2.50\"");
    b.set_line_idle(0, false);
    b.handle_message(now, invite.as_bytes(), peer_a());
    assert!(!rang(&mut b));
    assert_eq!(final_responses(&mut b), [(302, voicemail.clone())]);

    let mut b = b_with("forward_no_answer = \"sip:vm@192.0.2.50\"\nno_answer_s = 20");
    b.handle_message(now, invite.as_bytes(), peer_a());
    assert!(rang(&mut b));
    b.intent(now, 0, SipIntent::Alerting);
    b.intent(now, 0, SipIntent::Reject(480));
    let f = final_responses(&mut b);
    assert_eq!(f.last(), Some(&(302, voicemail.clone())), "{f:?}");
    assert!(!b.port_busy(0), "the forwarded call left the port");

    // Without forwarding: busy is 486, no answer 480.
    let mut b = b_with("");
    b.set_line_idle(0, false);
    b.handle_message(now, invite.as_bytes(), peer_a());
    assert_eq!(final_responses(&mut b), [(486, None)]);
}

/// Feature codes reach the SIP side as service changes: each is answered to the port's
/// machine, takes effect on the next INVITE (do-not-disturb: 486; forwarding: a 302 to
/// the URI the dialled number routes to); a number that routes nowhere and an FXO line's
/// change are refused.
#[test]
fn feature_codes_change_the_services_the_next_invite_meets() {
    use crate::call::{ForwardWhen, Service};
    let invite = |n: u32| {
        format!(
            "INVITE sip:301@{B} SIP/2.0\r\nVia: SIP/2.0/UDP {A};branch=z9hG4bKfc{n}\r\n\
             Max-Forwards: 70\r\nFrom: <sip:100@{A}>;tag=fc{n}\r\nTo: <sip:301@{B}>\r\n\
             Call-ID: fc{n}@{A}\r\nCSeq: 1 INVITE\r\nContact: <sip:100@{A}>\r\n\
             Content-Length: 0\r\n\r\n"
        )
    };
    let now = Instant::now();
    let events = |b: &mut SipSide| -> Vec<SipEvent> {
        let events: Vec<PortEvent> = std::iter::from_fn(|| b.poll_event()).collect();
        Net::calls(&events, 0)
    };
    let cfg = config(B, 3, |c| {
        c.account("sp", "proxy = \"sip:192.0.2.60;lr\"")
            .trust("127.0.0.3")
    });
    let mut b = side(&cfg, B, 30000, 2);
    b.intent(now, 0, SipIntent::SetService(Service::DoNotDisturb(true)));
    assert_eq!(events(&mut b), [SipEvent::ServiceSet(true)]);
    b.handle_message(now, invite(1).as_bytes(), peer_a());
    assert!(events(&mut b).is_empty(), "the phone does not ring");
    assert_eq!(final_responses(&mut b), [(486, None)]);

    b.intent(now, 0, SipIntent::SetService(Service::DoNotDisturb(false)));
    b.intent(
        now,
        0,
        SipIntent::SetService(Service::Forward(ForwardWhen::Always, Some("302".into()))),
    );
    assert_eq!(
        events(&mut b),
        [SipEvent::ServiceSet(true), SipEvent::ServiceSet(true)]
    );
    b.handle_message(now, invite(2).as_bytes(), peer_a());
    let f = final_responses(&mut b);
    assert!(
        matches!(f.as_slice(), [(302, Some(c))] if c == "<sip:302@192.0.2.60>"),
        "{f:?}"
    );

    b.intent(
        now,
        0,
        SipIntent::SetService(Service::Forward(ForwardWhen::Always, None)),
    );
    events(&mut b);
    b.handle_message(now, invite(3).as_bytes(), peer_a());
    assert!(matches!(
        events(&mut b).as_slice(),
        [SipEvent::IncomingCall { .. }]
    ));

    // An FXO line has no services to change, whatever asks.
    b.intent(now, 2, SipIntent::SetService(Service::DoNotDisturb(true)));
    let fxo: Vec<PortEvent> = std::iter::from_fn(|| b.poll_event()).collect();
    assert_eq!(Net::calls(&fxo, 2), [SipEvent::ServiceSet(false)]);
    // Without an account a bare number has no domain: nothing to forward to.
    let mut lone = side(&one_phone(B, 3, ""), B, 30000, 2);
    lone.intent(
        now,
        0,
        SipIntent::SetService(Service::Forward(ForwardWhen::Busy, Some("302".into()))),
    );
    assert_eq!(events(&mut lone), [SipEvent::ServiceSet(false)]);
}

/// Message waiting: an account with `mwi` subscribes to `message-summary` at its
/// address-of-record through its proxy; a NOTIFY from the proxy (solicited or not) is
/// answered 200 and tells the phone whose number it names; one from anyone else gets 403
/// and tells no one; a malformed summary changes nothing.
#[test]
fn message_summary_notifies_reach_the_phone_only_from_the_accounts_servers() {
    let cfg = config(B, 3, |c| {
        c.account(
            "sp",
            "proxy = \"sip:192.0.2.60;lr\"\nusername = \"301\"\nmwi = true",
        )
        .trust("127.0.0.3")
    });
    let mut b = side(&cfg, B, 30000, 2);
    let now = Instant::now();
    b.start(now);
    let subscribe = std::iter::from_fn(|| b.poll_transmit())
        .find(|t| t.bytes.starts_with(b"SUBSCRIBE"))
        .expect("a SUBSCRIBE at start");
    assert_eq!(subscribe.to.addr, "192.0.2.60:5060".parse().unwrap());
    let m = Message::parse(&subscribe.bytes).unwrap();
    assert_eq!(m.request_uri().unwrap().to_string(), "sip:301@192.0.2.60");
    assert_eq!(m.header("Event").map(|h| h.value), Some("message-summary"));
    let notify = |n: u32, body: &str| {
        format!(
            "NOTIFY sip:301@{B} SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.60;branch=z9hG4bKmw{n}\r\n\
             Max-Forwards: 70\r\nFrom: <sip:301@192.0.2.60>;tag=vm{n}\r\nTo: <sip:301@{B}>\r\n\
             Call-ID: mwi{n}@192.0.2.60\r\nCSeq: 1 NOTIFY\r\nEvent: message-summary\r\n\
             Content-Type: application/simple-message-summary\r\n\
             Content-Length: {}\r\n\r\n{body}",
            body.len()
        )
    };
    let from = |ip: &str| Peer {
        transport: Transport::Udp,
        addr: format!("{ip}:5060").parse().unwrap(),
    };
    let answers = |b: &mut SipSide| -> Vec<u16> {
        std::iter::from_fn(|| b.poll_transmit())
            .filter_map(|t| Message::parse(&t.bytes).ok()?.status())
            .collect()
    };
    let told = |b: &mut SipSide| -> Vec<(u8, SipEvent)> {
        std::iter::from_fn(|| b.poll_event())
            .filter_map(|e| match e {
                PortEvent::Call {
                    port,
                    event: e @ SipEvent::MessageWaiting(_),
                } => Some((port, e)),
                _ => None,
            })
            .collect()
    };
    told(&mut b);
    let yes = "Messages-Waiting: yes\r\nVoice-Message: 2/0\r\n";
    b.handle_message(now, notify(1, yes).as_bytes(), from("192.0.2.99"));
    assert_eq!(answers(&mut b), [403]);
    assert!(told(&mut b).is_empty());
    b.handle_message(now, notify(2, yes).as_bytes(), from("192.0.2.60"));
    assert_eq!(answers(&mut b), [200]);
    assert_eq!(told(&mut b), [(0, SipEvent::MessageWaiting(true))]);
    b.handle_message(
        now,
        notify(3, "Messages-Waiting: perhaps\r\n").as_bytes(),
        from("127.0.0.3"),
    );
    assert_eq!(answers(&mut b), [200]);
    assert!(told(&mut b).is_empty());
    b.handle_message(
        now,
        notify(4, "Messages-Waiting: no\r\n").as_bytes(),
        from("127.0.0.3"),
    );
    assert_eq!(told(&mut b), [(0, SipEvent::MessageWaiting(false))]);
}

/// The call records' notes of `port`, in order.
fn legs(ev: &[PortEvent], port: u8) -> Vec<crate::ops::record::LegNote> {
    ev.iter()
        .filter_map(|e| match e {
            PortEvent::Leg { port: p, note } if *p == port => Some(note.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn each_side_notes_its_calls_start_answer_and_end_after_the_ports_event() {
    use crate::ops::record::{Direction, EndCause, LegNote};
    let (ca, cb) = plain();
    let mut n = Net::new(&ca, &cb);
    n.place(0, &format!("sip:301@{B}"));
    n.b.intent(n.now, 0, SipIntent::Answer);
    n.settle();
    n.b.intent(n.now, 0, SipIntent::Hangup);
    n.settle();
    let a = legs(&n.ev_a, 0);
    let LegNote::Started {
        call_id,
        direction,
        called,
        ..
    } = &a[0]
    else {
        panic!("{a:?}");
    };
    assert_eq!(*direction, Direction::Outgoing);
    assert_eq!(called, &format!("sip:301@{B}"));
    assert!(!call_id.is_empty());
    let ended = LegNote::Ended {
        code: 200,
        cause: EndCause::RemoteHangup,
    };
    assert_eq!(a[1..], [LegNote::Answered, ended]);
    // The port heard of the hangup before the record was closed.
    let at = |ev: &[PortEvent], f: &dyn Fn(&PortEvent) -> bool| ev.iter().position(f).unwrap();
    let hangup = at(&n.ev_a, &|e| {
        matches!(
            e,
            PortEvent::Call {
                event: SipEvent::RemoteHangup,
                ..
            }
        )
    });
    let closed = at(&n.ev_a, &|e| {
        matches!(
            e,
            PortEvent::Leg {
                note: LegNote::Ended { .. },
                ..
            }
        )
    });
    assert!(hangup < closed);
    let b = legs(&n.ev_b, 0);
    assert!(
        matches!(&b[0], LegNote::Started { direction: Direction::Incoming, call_id: c, .. } if c == call_id)
    );
    let ended = LegNote::Ended {
        code: 200,
        cause: EndCause::LocalHangup,
    };
    assert_eq!(b[1..], [LegNote::Answered, ended]);
}

#[test]
fn unanswered_calls_end_with_their_status_and_cause() {
    use crate::ops::record::{EndCause, LegNote};
    let (ca, cb) = plain();
    let mut n = Net::new(&ca, &cb);
    // Cancelled by the caller's line while ringing.
    n.place(0, &format!("sip:302@{B}"));
    n.b.intent(n.now, 1, SipIntent::Alerting);
    n.settle();
    n.a.intent(n.now, 0, SipIntent::Hangup);
    n.settle();
    let end = |code, cause| LegNote::Ended { code, cause };
    assert_eq!(
        legs(&n.ev_a, 0).last(),
        Some(&end(487, EndCause::Abandoned))
    );
    assert_eq!(
        legs(&n.ev_b, 1).last(),
        Some(&end(487, EndCause::CallerCancelled))
    );
    // Refused by the called phone's machine.
    n.place(1, &format!("sip:301@{B}"));
    n.b.intent(n.now, 0, SipIntent::Reject(486));
    n.settle();
    assert_eq!(legs(&n.ev_b, 0).last(), Some(&end(486, EndCause::Rejected)));
    assert_eq!(
        legs(&n.ev_a, 1).last(),
        Some(&end(486, EndCause::FarEndRejected))
    );
}

#[test]
fn status_counts_refusals_and_names_no_secret() {
    let (ca, cb) = plain();
    let mut n = Net::new(&ca, &cb);
    n.place(0, &format!("sip:nobody@{B}"));
    let s = n.b.status(n.now);
    assert_eq!(s.sip.refused.get("invite_unknown_number"), Some(&1));
    assert!(s.registrations.is_empty());
    let json = serde_json::to_string(&s).unwrap();
    assert!(
        !json.contains("password") && !json.contains("nonce"),
        "{json}"
    );
}

#[test]
fn a_response_aiming_the_dialog_at_a_forbidden_target_is_dropped() {
    let (ca, _) = plain();
    let mut a = side(&ca, A, 20000, 1);
    let now = Instant::now();
    a.intent(
        now,
        0,
        SipIntent::PlaceCall {
            target: format!("sip:301@{B}"),
            caller: CallerInfo::default(),
            hide_caller_id: None,
        },
    );
    let invite = a.poll_transmit().expect("INVITE").bytes;
    let invite = Message::parse(&invite).unwrap();
    let from_b = Peer {
        transport: Transport::Udp,
        addr: B.parse().unwrap(),
    };
    // A 180 and a 200 whose Contact / Record-Route name a multicast group and the box
    // itself: the ACK and BYE would go there.
    for (code, name, value) in [
        (
            180,
            tipring_sip::header::HeaderName::Contact,
            "<sip:far@224.0.0.1:5060>",
        ),
        (
            200,
            tipring_sip::header::HeaderName::RecordRoute,
            &format!("<sip:{A};lr>"),
        ),
        (
            200,
            tipring_sip::header::HeaderName::Contact,
            "<sip:far@224.0.0.1:5060>",
        ),
    ] {
        let r = tipring_sip::MessageBuilder::response_to(&invite, code, "X", Some("t1"))
            .header(name, value)
            .finish();
        a.handle_message(now, &r, from_b);
    }
    let ev: Vec<PortEvent> = std::iter::from_fn(|| a.poll_event()).collect();
    assert!(Net::calls(&ev, 0).is_empty(), "{ev:?}");
    assert_eq!(
        a.status(now).sip.refused.get("response_forbidden_target"),
        Some(&3)
    );
    // Logged at the 1st and 2nd, not the 3rd.
    let dropped = Net::notices(&ev)
        .into_iter()
        .filter(|n| n.contains("dropped"))
        .count();
    assert_eq!(dropped, 2, "{ev:?}");
    assert!(a.poll_transmit().is_none(), "no ACK went anywhere");
}

mod forward;
mod transfer;
mod waiting;
