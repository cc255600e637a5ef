use super::*;

fn key(fill: u8) -> MasterKey {
    let mut k = [0u8; MASTER_LEN];
    for (i, b) in k.iter_mut().enumerate() {
        *b = fill.wrapping_add(i as u8);
    }
    MasterKey::new(k)
}

/// Two ends of one call: `a` sends with key 1, `b` with key 2.
fn pair(suite: Suite) -> (Srtp, Srtp) {
    let a = SrtpParams {
        suite,
        ours: key(1),
        theirs: key(100),
    };
    let b = SrtpParams {
        suite,
        ours: key(100),
        theirs: key(1),
    };
    (Srtp::new(&a).unwrap(), Srtp::new(&b).unwrap())
}

/// An RTP packet of 160 octets of `0x55` (A-law silence) in a buffer of 1500.
fn rtp(seq: u16, ssrc: u32) -> ([u8; 1500], usize) {
    let mut b = [0u8; 1500];
    b[0] = 0x80;
    b[1] = 8;
    b[2..4].copy_from_slice(&seq.to_be_bytes());
    b[4..8].copy_from_slice(&(u32::from(seq) * 160).to_be_bytes());
    b[8..12].copy_from_slice(&ssrc.to_be_bytes());
    b[12..172].fill(0x55);
    (b, 172)
}

#[test]
fn rtp_goes_through_encrypted_and_comes_back_clear() {
    for suite in [Suite::AesCm128HmacSha1_80, Suite::AesCm128HmacSha1_32] {
        let (mut a, mut b) = pair(suite);
        for seq in [65533u16, 65534, 65535, 0, 1, 2] {
            let (mut buf, n) = rtp(seq, 0x1234_5678);
            let clear = buf[..n].to_vec();
            let m = a.protect(&mut buf, n).unwrap();
            assert_eq!(m, n + suite.rtp_tag_len());
            assert_eq!(buf[..12], clear[..12], "the header stays in clear");
            let same = buf[12..n].iter().filter(|&&x| x == 0x55).count();
            assert!(same < 10, "payload encrypted ({same} octets unchanged)");
            let mut out = [0u8; 1500];
            let k = b.unprotect(&buf[..m], &mut out).unwrap();
            assert_eq!(&out[..k], &clear[..], "{suite}");
        }
    }
}

#[test]
fn rtcp_goes_through_with_an_index_and_a_tag() {
    let (mut a, mut b) = pair(Suite::AesCm128HmacSha1_80);
    // An empty receiver report: V=2, PT=201, length 1, SSRC.
    let mut buf = [0u8; 1500];
    buf[..8].copy_from_slice(&[0x80, 201, 0, 1, 0xde, 0xad, 0xbe, 0xef]);
    let m = a.protect(&mut buf, 8).unwrap();
    assert_eq!(m, 8 + SRTCP_INDEX + SRTCP_TAG);
    let mut out = [0u8; 1500];
    let k = b.unprotect(&buf[..m], &mut out).unwrap();
    assert_eq!(&out[..k], &[0x80, 201, 0, 1, 0xde, 0xad, 0xbe, 0xef]);
}

#[test]
fn a_changed_octet_a_replay_and_the_wrong_key_are_refused() {
    let (mut a, mut b) = pair(Suite::AesCm128HmacSha1_80);
    let mut out = [0u8; 1500];
    let (mut buf, n) = rtp(7, 42);
    let m = a.protect(&mut buf, n).unwrap();
    let mut bad = buf;
    bad[40] ^= 1;
    assert_eq!(
        b.unprotect(&bad[..m], &mut out),
        Err(SrtpError::Unauthenticated)
    );
    assert_eq!(b.far_streams(), 0, "nothing kept for a forgery");
    b.unprotect(&buf[..m], &mut out).unwrap();
    assert_eq!(b.unprotect(&buf[..m], &mut out), Err(SrtpError::Replayed));
    // Our own packet back at us: under our key, not the far end's.
    let (mut ours, n) = rtp(8, 42);
    let m = b.protect(&mut ours, n).unwrap();
    assert_eq!(
        b.unprotect(&ours[..m], &mut out),
        Err(SrtpError::Unauthenticated)
    );
}

#[test]
fn forged_ssrcs_cost_no_memory_and_real_ones_are_bounded() {
    let (mut a, mut b) = pair(Suite::AesCm128HmacSha1_80);
    let mut out = [0u8; 1500];
    for ssrc in 0..2000u32 {
        let (mut buf, n) = rtp(1, ssrc);
        buf[n..n + 10].fill(0xa5);
        assert!(b.unprotect(&buf[..n + 10], &mut out).is_err());
    }
    assert_eq!(b.far_streams(), 0);
    for ssrc in 0..10u32 {
        let (mut buf, n) = rtp(1, ssrc);
        let m = a.protect(&mut buf, n).unwrap();
        b.unprotect(&buf[..m], &mut out).unwrap();
    }
    assert_eq!(b.far_streams(), RX_STREAMS);
}

#[test]
fn short_and_truncated_packets_are_refused() {
    let (mut a, mut b) = pair(Suite::AesCm128HmacSha1_80);
    let mut out = [0u8; 1500];
    let (mut buf, n) = rtp(3, 9);
    let m = a.protect(&mut buf, n).unwrap();
    for len in 0..m {
        assert!(b.unprotect(&buf[..len], &mut out).is_err(), "{len}");
    }
    let mut rtcp = [
        0x80u8, 200, 0, 6, 1, 2, 3, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    ];
    for len in 0..rtcp.len() {
        assert!(b.unprotect(&rtcp[..len], &mut out).is_err(), "{len}");
        let _ = a.protect(&mut rtcp, len);
    }
}

#[test]
fn keys_are_not_shown() {
    let p = SrtpParams {
        suite: Suite::AesCm128HmacSha1_80,
        ours: key(0x41),
        theirs: key(0x61),
    };
    let shown = format!("{p:?} {:?}", Srtp::new(&p).unwrap());
    assert!(!shown.contains("65"), "{shown}");
    assert!(shown.contains("MasterKey(..)"), "{shown}");
}

#[test]
fn suites_by_name() {
    for s in [Suite::AesCm128HmacSha1_80, Suite::AesCm128HmacSha1_32] {
        assert_eq!(Suite::from_name(s.name()), Some(s));
    }
    assert_eq!(Suite::from_name("aes_cm_128_hmac_sha1_80"), None);
    assert_eq!(Suite::from_name("F8_128_HMAC_SHA1_80"), None);
}

mod prop {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn any_datagram_is_refused_or_taken_without_panic(d in proptest::collection::vec(any::<u8>(), 0..300)) {
            let (_, mut b) = pair(Suite::AesCm128HmacSha1_32);
            let mut out = [0u8; 1500];
            let _ = b.unprotect(&d, &mut out);
            prop_assert_eq!(b.far_streams(), 0);
        }
    }
}

#[test]
fn srtcp_claiming_to_be_unencrypted_is_not_taken_unauthenticated() {
    let (mut a, mut b) = pair(Suite::AesCm128HmacSha1_80);
    let mut out = [0u8; 1500];
    let mut buf = [0u8; 1500];
    buf[..8].copy_from_slice(&[0x80, 203, 0, 1, 0xde, 0xad, 0xbe, 0xef]);
    let m = a.protect(&mut buf, 8).unwrap();
    // The same packet with the E flag cleared, and a BYE with a zero index and tag.
    let mut cleared = buf;
    cleared[8] &= 0x7f;
    assert_eq!(
        b.unprotect(&cleared[..m], &mut out),
        Err(SrtpError::Unauthenticated)
    );
    let mut bye = [0u8; 22];
    bye[..8].copy_from_slice(&[0x80, 203, 0, 1, 0xde, 0xad, 0xbe, 0xef]);
    assert_eq!(b.unprotect(&bye, &mut out), Err(SrtpError::Unauthenticated));
    assert_eq!(b.far_streams(), 0);
}

#[test]
fn a_new_far_key_keeps_our_sending_state() {
    let (mut a, mut b) = pair(Suite::AesCm128HmacSha1_80);
    let mut out = [0u8; 1500];
    for seq in [65534u16, 65535, 0] {
        let (mut buf, n) = rtp(seq, 7);
        let m = a.protect(&mut buf, n).unwrap();
        b.unprotect(&buf[..m], &mut out).unwrap();
    }
    // The far end (b) re-keys in a re-INVITE: a takes its new key in place. Our packets
    // go on in the second rollover cycle, which b (its receive state intact) follows.
    let rekeyed = SrtpParams {
        suite: Suite::AesCm128HmacSha1_80,
        ours: key(1),
        theirs: key(200),
    };
    assert!(a.rekey(&rekeyed));
    let (mut buf, n) = rtp(1, 7);
    let m = a.protect(&mut buf, n).unwrap();
    b.unprotect(&buf[..m], &mut out).unwrap();
    let b2 = SrtpParams {
        suite: Suite::AesCm128HmacSha1_80,
        ours: key(200),
        theirs: key(1),
    };
    let mut b2 = Srtp::new(&b2).unwrap();
    let (mut buf, n) = rtp(9, 8);
    let m = b2.protect(&mut buf, n).unwrap();
    a.unprotect(&buf[..m], &mut out).unwrap();
    // Another suite or our own key changing needs a new state.
    let other = SrtpParams {
        suite: Suite::AesCm128HmacSha1_32,
        ..rekeyed
    };
    assert!(!a.rekey(&other));
}

#[test]
fn header_extensions_that_overrun_the_packet_are_refused_before_the_parser() {
    let (mut a, mut b) = pair(Suite::AesCm128HmacSha1_80);
    let mut out = [0u8; 1500];
    // Found by the srtp_unprotect fuzz target: a two-byte extension element of 255
    // octets in a 46-octet packet made the `rtp` crate panic.
    let crash: &[u8] = &[
        0xf9, 0x11, 0x00, 0x2f, 0x00, 0x1d, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x8a, 0x8a,
        0xd9, 0x08, 0x10, 0x00, 0x00, 0x01, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff,
    ];
    assert!(b.unprotect(crash, &mut out).is_err());
    // One-byte (0xBEDE) and two-byte (0x1000) elements running past the extension, and
    // an extension longer than the packet.
    for ext in [
        &[0xbe, 0xde, 0x00, 0x01, 0x1f, 0x00, 0x00, 0x00][..],
        &[0x10, 0x00, 0x00, 0x01, 0x01, 0xff, 0x00, 0x00][..],
        &[0x12, 0x34, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00][..],
    ] {
        let (mut buf, _) = rtp(5, 3);
        buf[0] |= 0x10;
        let mut p = buf[..12].to_vec();
        p.extend_from_slice(ext);
        p.extend_from_slice(&[0x55; 20]);
        assert_eq!(
            b.unprotect(&p, &mut out),
            Err(SrtpError::Malformed),
            "{ext:?}"
        );
    }
    // A well-formed one-byte extension (RFC 6464 audio level) goes through.
    let (mut buf, _) = rtp(6, 3);
    buf[0] |= 0x10;
    let mut p = buf[..12].to_vec();
    p.extend_from_slice(&[0xbe, 0xde, 0x00, 0x01, 0x10, 0x7f, 0x00, 0x00]);
    p.extend_from_slice(&[0x55; 160]);
    let n = p.len();
    p.resize(n + 10, 0);
    let m = a.protect(&mut p, n).unwrap();
    let k = b.unprotect(&p[..m], &mut out).unwrap();
    assert_eq!(k, n);
}
