//! Identifiers from the OS CSPRNG: two UAs built without a seed share no tag, branch or
//! Call-ID, and each carries at least 64 random bits.

use super::*;
use std::collections::HashSet;

fn unseeded(addr: &str) -> Ua {
    Ua::new(UaConfig::new(addr.parse().unwrap(), Transport::Udp, "u"))
}

/// The From tag, top-Via branch, Call-ID and CSeq of the INVITE a fresh call sends.
fn invite_ids(ua: &mut Ua, now: Instant) -> (String, String, String, u32) {
    ua.call(now, "sip:x@127.0.0.1:5999", "sip:u@127.0.0.1", Vec::new())
        .unwrap();
    let t = ua.poll_transmit().unwrap();
    let m = Message::parse(&t.bytes).unwrap();
    let tag = m.from().unwrap().tag().unwrap().to_owned();
    let branch = m.top_via().unwrap().branch().unwrap().to_owned();
    let call_id = m.call_id().unwrap().to_owned();
    (tag, branch, call_id, m.cseq().unwrap().seq)
}

#[test]
fn unseeded_uas_share_no_identifier() {
    let now = Instant::now();
    let mut a = unseeded("127.0.0.1:5071");
    let mut b = unseeded("127.0.0.1:5072");
    let mut seen = HashSet::new();
    let mut cseqs = HashSet::new();
    for _ in 0..8 {
        for ua in [&mut a, &mut b] {
            let (tag, branch, call_id, cseq) = invite_ids(ua, now);
            assert!(tag.len() >= 16, "tag {tag}");
            assert!(branch.len() >= "z9hG4bK".len() + 16, "branch {branch}");
            let id = call_id.split('@').next().unwrap();
            assert!(id.len() >= 32, "Call-ID {call_id}");
            assert!(seen.insert(tag), "tag repeated");
            assert!(seen.insert(branch), "branch repeated");
            assert!(seen.insert(call_id), "Call-ID repeated");
            assert!((1..1 << 31).contains(&cseq));
            cseqs.insert(cseq);
        }
    }
    // 16 draws of 30 bits: a repeat would mean the CSeq is not random.
    assert_eq!(cseqs.len(), 16);
}

#[test]
fn seeded_uas_repeat_themselves() {
    let now = Instant::now();
    let mk = || {
        let mut c = UaConfig::new("127.0.0.1:5073".parse().unwrap(), Transport::Udp, "u");
        c.seed = Some(42);
        Ua::new(c)
    };
    let (mut a, mut b) = (mk(), mk());
    assert_eq!(invite_ids(&mut a, now), invite_ids(&mut b, now));
}
