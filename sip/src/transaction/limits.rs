//! Bounds on the transaction table, so a flood of requests cannot grow it without limit
//! (every table remote input can grow has a bound), and the single-refusal rule that keeps
//! the gateway from amplifying a forged-source flood.

/// How many transactions of each side may live at once, and how refusals are sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Server transactions; beyond it a new request gets [`super::Receipt::Overload`]
    /// (the TU answers 503 statelessly) and no transaction.
    pub max_server: usize,
    /// Client transactions; beyond it [`super::TransactionLayer::send_request`] fails with
    /// [`super::TxnError::Overload`].
    pub max_client: usize,
    /// A 300-699 final response to an INVITE that had no provisional response is sent
    /// once and the transaction ends (see [`super::ServerInvite::set_single_refusal`]).
    pub single_refusal: bool,
}

impl Default for Limits {
    /// Generous bounds (a UA under test at thousands of calls per second: a call holds a
    /// server transaction for 64*T1 after it is answered); RFC 3261 retransmission of
    /// every final response. A small box sets its own (the gateway's `[limits]`).
    fn default() -> Self {
        Limits {
            max_server: 65_536,
            max_client: 65_536,
            single_refusal: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::*;
    use std::time::Duration;

    fn udp() -> Peer {
        Peer {
            transport: Transport::Udp,
            addr: "127.0.0.1:5070".parse().unwrap(),
        }
    }

    fn invite(branch: &str) -> Vec<u8> {
        format!(
            "INVITE sip:bob@127.0.0.1:5070 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch={branch}\r\n\
             Max-Forwards: 70\r\nFrom: <sip:alice@x>;tag=a1\r\nTo: <sip:bob@y>\r\n\
             Call-ID: {branch}@x\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n"
        )
        .into_bytes()
    }

    fn layer(max_server: usize, max_client: usize, single_refusal: bool) -> TransactionLayer {
        let mut l = TransactionLayer::new(TimerConfig::default());
        l.set_limits(Limits {
            max_server,
            max_client,
            single_refusal,
        });
        l
    }

    /// Transmissions queued by the layer.
    fn sent(l: &mut TransactionLayer) -> usize {
        let mut n = 0;
        while let Some((_, o)) = l.poll_output() {
            n += usize::from(matches!(o, Output::Transmit(_)));
        }
        n
    }

    #[test]
    fn new_requests_beyond_max_server_make_no_transaction() {
        let t0 = Instant::now();
        let mut l = layer(3, 3, false);
        for i in 0..10 {
            let req = invite(&format!("z9hG4bKs{i}"));
            let r = l.receive(t0, &Message::parse(&req).unwrap(), udp());
            if i < 3 {
                assert!(matches!(r, Receipt::NewRequest(_)), "{i}: {r:?}");
            } else {
                assert_eq!(r, Receipt::Overload, "{i}");
            }
        }
        assert_eq!(l.len(), 3);
        assert_eq!(l.overloaded, 7);
        // A retransmission of a live one is still absorbed, not refused.
        let again = invite("z9hG4bKs0");
        assert!(matches!(
            l.receive(t0, &Message::parse(&again).unwrap(), udp()),
            Receipt::Absorbed(_)
        ));
        // Once one ends there is room again.
        let id = l
            .find(&Key::server(&Message::parse(&again).unwrap()).unwrap())
            .unwrap();
        l.respond(t0, id, 404, b"SIP/2.0 404 Not Found\r\n\r\n".to_vec())
            .unwrap();
        l.handle_timeout(t0 + Duration::from_secs(40));
        assert_eq!(l.len(), 2);
        let next = invite("z9hG4bKs99");
        assert!(matches!(
            l.receive(t0, &Message::parse(&next).unwrap(), udp()),
            Receipt::NewRequest(_)
        ));
    }

    #[test]
    fn requests_of_ours_beyond_max_client_fail() {
        let t0 = Instant::now();
        let mut l = layer(3, 2, false);
        assert!(l.send_request(t0, invite("z9hG4bKc1"), udp()).is_ok());
        assert!(l.send_request(t0, invite("z9hG4bKc2"), udp()).is_ok());
        assert_eq!(
            l.send_request(t0, invite("z9hG4bKc3"), udp()),
            Err(TxnError::Overload)
        );
        assert_eq!(l.len(), 2);
    }

    /// Every transmission for a refused INVITE from a source that never ACKs, until the
    /// layer has nothing left to do.
    fn refusal_copies(single_refusal: bool, provisional: bool) -> (usize, usize) {
        let t0 = Instant::now();
        let mut l = layer(10, 10, single_refusal);
        let req = invite("z9hG4bKr1");
        let Receipt::NewRequest(id) = l.receive(t0, &Message::parse(&req).unwrap(), udp()) else {
            panic!("no transaction");
        };
        if provisional {
            l.respond(t0, id, 180, b"SIP/2.0 180 Ringing\r\n\r\n".to_vec())
                .unwrap();
        }
        l.respond(t0, id, 404, b"SIP/2.0 404 Not Found\r\n\r\n".to_vec())
            .unwrap();
        let mut n = sent(&mut l);
        while let Some(at) = l.poll_timeout() {
            l.handle_timeout(at);
            n += sent(&mut l);
        }
        (n, l.len())
    }

    #[test]
    fn a_refusal_without_provisional_is_sent_once_and_leaves_no_state() {
        // RFC 3261 §17.2.1 as written: the 404 and its Timer G copies until Timer H.
        let (rfc, _) = refusal_copies(false, false);
        assert!(rfc >= 5, "{rfc}");
        assert_eq!(refusal_copies(true, false), (1, 0));
        // After a provisional the caller no longer retransmits: Timer G stays.
        let (after_180, _) = refusal_copies(true, true);
        assert_eq!(after_180, rfc + 1);
    }
}
