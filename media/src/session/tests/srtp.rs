//! A call with SRTP: the audio and reports go through protected both ways, and packets
//! under another key or in clear are refused and counted.

use super::*;
use crate::srtp::{MASTER_LEN, MasterKey, Suite};

fn params(ours: u8, theirs: u8) -> SrtpParams {
    SrtpParams {
        suite: Suite::AesCm128HmacSha1_80,
        ours: MasterKey::new([ours; MASTER_LEN]),
        theirs: MasterKey::new([theirs; MASTER_LEN]),
    }
}

#[test]
fn audio_and_reports_flow_encrypted_both_ways() {
    let mut c = Call::new(0.0, 0, 11);
    c.a.set_srtp(Some(&params(1, 2))).unwrap();
    c.b.set_srtp(Some(&params(2, 1))).unwrap();
    c.run(400, tone_1k());
    let s = c.b.stats();
    assert!(s.rtp_received >= 395, "{s:?}");
    assert_eq!((s.srtp_refused, s.malformed, s.foreign), (0, 0, 0), "{s:?}");
    assert!(
        s.rtcp_received >= 1 && c.a.stats().rtcp_received >= 1,
        "{s:?}"
    );
    let quiet = c.played_b[10..].iter().filter(|f| energy(f) < 1e5).count();
    assert_eq!(quiet, 0);
    // On the wire: 160 octets of payload and the 80-bit tag, not the tone's G.711.
    let mut clear = session(None, false, 99);
    let audio: Vec<&Vec<u8>> = c
        .at_b
        .iter()
        .map(|(_, d)| d)
        .filter(|d| d.len() == 182)
        .collect();
    assert!(audio.len() >= 395);
    for d in &audio {
        clear.handle_datagram(c.now, at(A), d);
    }
    let p = RtpPacket::new_checked(audio[50]).unwrap();
    let mut pcm = [0i16; FRAME_SAMPLES];
    Law::Ulaw.decode(&p.payload()[..FRAME_SAMPLES], &mut pcm);
    let sent: Frame = {
        let mut t = tone_1k();
        t(0)
    };
    let corr: f64 = pcm
        .iter()
        .zip(&sent)
        .map(|(&x, &y)| f64::from(x) * f64::from(y))
        .sum();
    let norm = (energy(&pcm) * energy(&sent)).sqrt() * FRAME_SAMPLES as f64;
    assert!(
        corr.abs() / norm < 0.5,
        "ciphertext decodes to noise, not the tone"
    );
}

#[test]
fn clear_rtp_and_another_key_are_refused() {
    let mut c = Call::new(0.0, 0, 12);
    c.a.set_srtp(Some(&params(1, 2))).unwrap();
    // B expects A's key to be 3: nothing of A's authenticates.
    c.b.set_srtp(Some(&params(2, 3))).unwrap();
    c.run(50, tone_1k());
    let s = c.b.stats();
    assert_eq!(s.rtp_received, 0, "{s:?}");
    assert!(s.srtp_refused >= 45, "{s:?}");
    // A session in clear meets one that requires SRTP.
    let mut c = Call::new(0.0, 0, 13);
    c.b.set_srtp(Some(&params(2, 1))).unwrap();
    c.run(50, tone_1k());
    assert_eq!(c.b.stats().rtp_received, 0);
    assert!(c.b.stats().srtp_refused >= 45);
    let quiet = c.played_b.iter().filter(|f| energy(f) < 1e3).count();
    assert_eq!(quiet, 50, "nothing unauthenticated is played");
}

#[test]
fn the_same_keys_again_keep_the_state_and_new_ones_replace_it() {
    let mut s = session(Some(B), false, 5);
    assert!(!s.encrypted());
    s.set_srtp(Some(&params(1, 2))).unwrap();
    assert!(s.encrypted());
    s.set_srtp(Some(&params(1, 2))).unwrap();
    s.set_srtp(Some(&params(1, 4))).unwrap();
    s.set_srtp(None).unwrap();
    assert!(!s.encrypted());
}
