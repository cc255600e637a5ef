use super::*;

const F: u32 = 160;

fn ms(v: u64) -> Instant {
    Instant::from_millis(v)
}

/// Payload tagging a frame with its index so playout order can be checked.
fn frame(k: u32) -> [u8; 160] {
    [k as u8; 160]
}

fn tag(p: Playout<'_>) -> Option<u8> {
    match p {
        Playout::Audio(a) => Some(a[0]),
        _ => None,
    }
}

#[test]
fn waits_for_the_target_then_plays_in_order_despite_reordering() {
    let mut jb = JitterBuffer::new(JitterConfig::default());
    let ts0 = 1000u32;
    // Frames 0..6 arrive at 20 ms spacing but 2 and 3 swapped.
    let order = [0u32, 1, 3, 2, 4, 5];
    for (i, &k) in order.iter().enumerate() {
        let o = jb.push_frame(ts0 + k * F, k as u16, k == 0, &frame(k), ms(i as u64 * 20));
        assert_eq!(o, PushOutcome::Stored);
    }
    assert_eq!(jb.pop(ms(10)), Playout::Silence);
    let mut played = Vec::new();
    for i in 0..10 {
        played.extend(tag(jb.pop(ms(20 + 20 * i))));
    }
    assert_eq!(played, [0, 1, 2, 3, 4, 5]);
    // The swap revealed 40 ms of transit spread: the target rose to 60 ms and the buffer
    // held the timeline (inserted frames) rather than losing anything.
    let s = jb.stats();
    assert_eq!(s.target_delay_us, 60_000);
    assert_eq!(s.lost, 0);
    assert!(s.inserted >= 1);
    // Ten pops: six frames played, the rest concealed (inserted, then the stream ended).
    assert_eq!(s.concealed, 4);
}

#[test]
fn duplicates_and_late_packets_are_dropped_and_counted() {
    let mut jb = JitterBuffer::new(JitterConfig::default());
    for k in 0..3u32 {
        jb.push_frame(k * F, k as u16, false, &frame(k), ms(u64::from(k) * 20));
    }
    assert_eq!(
        jb.push_frame(F, 1, false, &frame(1), ms(41)),
        PushOutcome::Duplicate
    );
    // Play 0, 1, (2), then frame 3 is missing at its instant and arrives afterwards.
    assert_eq!(tag(jb.pop(ms(20))), Some(0));
    assert_eq!(tag(jb.pop(ms(40))), Some(1));
    assert_eq!(tag(jb.pop(ms(60))), Some(2));
    jb.push_frame(4 * F, 4, false, &frame(4), ms(79));
    assert_eq!(jb.pop(ms(80)), Playout::Conceal);
    assert_eq!(
        jb.push_frame(3 * F, 3, false, &frame(3), ms(85)),
        PushOutcome::Late
    );
    // The late arrival widened the spread, so the buffer inserts before playing frame 4.
    let mut t = 100;
    while tag(jb.pop(ms(t))) != Some(4) {
        t += 20;
        assert!(t < 300);
    }
    let s = jb.stats();
    assert_eq!((s.duplicates, s.late, s.lost), (1, 1, 1));
    assert!(s.inserted >= 1);
    assert_eq!(s.concealed, s.lost + s.inserted);
}

#[test]
fn oversize_and_far_stray_packets_are_rejected() {
    let mut jb = JitterBuffer::new(JitterConfig::default());
    jb.push_frame(0, 0, false, &frame(0), ms(0));
    assert_eq!(
        jb.push_frame(F, 1, false, &[0; 161], ms(20)),
        PushOutcome::Oversize
    );
    // Far ahead, not consecutive, no marker: a stray.
    assert_eq!(
        jb.push_frame(1_000_000, 77, false, &frame(1), ms(20)),
        PushOutcome::OutOfRange
    );
    assert_eq!(jb.stats().dropped, 2);
}

#[test]
fn a_timestamp_jump_with_consecutive_sequence_resyncs() {
    let mut jb = JitterBuffer::new(JitterConfig::default());
    for k in 0..5u32 {
        jb.push_frame(k * F, k as u16, false, &frame(k), ms(u64::from(k) * 20));
    }
    for i in 0..5 {
        assert_eq!(tag(jb.pop(ms(20 + 20 * i))), Some(i as u8));
    }
    // The sender's timestamp jumps by ~10 minutes, sequence continues.
    let base = 4_800_000u32;
    for k in 0..5u32 {
        let o = jb.push_frame(
            base + k * F,
            5 + k as u16,
            false,
            &frame(50 + k),
            ms(120 + 20 * u64::from(k)),
        );
        assert_eq!(
            o,
            if k == 0 {
                PushOutcome::Resynced
            } else {
                PushOutcome::Stored
            }
        );
    }
    let mut played = Vec::new();
    for i in 0..6 {
        played.extend(tag(jb.pop(ms(120 + 20 * i))));
    }
    assert_eq!(played, [50, 51, 52, 53, 54]);
    assert_eq!(jb.stats().resyncs, 1);
}

#[test]
fn a_marker_after_silence_reanchors_the_delay() {
    let mut jb = JitterBuffer::new(JitterConfig::default());
    for k in 0..3u32 {
        jb.push_frame(k * F, k as u16, k == 0, &frame(k), ms(u64::from(k) * 20));
    }
    let mut t = 20;
    for _ in 0..3 {
        assert!(tag(jb.pop(ms(t))).is_some());
        t += 20;
    }
    // Silence suppression: 1 s without packets; then a talkspurt whose first packet comes
    // 150 ms later than its timestamp implies (the far end buffered it).
    for _ in 0..50 {
        jb.pop(ms(t));
        t += 20;
    }
    let ts = 3 * F + 8000;
    let arrival = 60 + 1000 + 150;
    assert_eq!(
        jb.push_frame(ts, 3, true, &frame(9), ms(arrival)),
        PushOutcome::Stored
    );
    jb.push_frame(ts + F, 4, false, &frame(10), ms(arrival + 20));
    // It is played one target delay after its arrival, not dropped as late.
    let mut first = None;
    while t < arrival + 200 {
        if tag(jb.pop(ms(t))) == Some(9) {
            first = Some(t);
        }
        t += 20;
    }
    let first = first.expect("talkspurt played");
    assert!(first >= arrival + 20 && first < arrival + 60, "{first}");
    assert_eq!(jb.stats().talkspurts, 1);
    assert_eq!(jb.stats().late, 0);
}

#[test]
fn the_target_follows_jitter_within_bounds() {
    let cfg = JitterConfig::default();
    let mut jb = JitterBuffer::new(cfg);
    // A seeded pattern of 0-60 ms extra delay.
    let mut rng = crate::rtp::SplitMix64::new(3);
    let mut arrivals: Vec<(u64, u32)> = (0..500u32)
        .map(|k| (u64::from(k) * 20_000 + rng.next_u64() % 60_000, k))
        .collect();
    arrivals.sort();
    let mut next = 0;
    let mut late_after_warmup = 0;
    for tick in 0..520u64 {
        let now = tick * 20_000;
        while next < arrivals.len() && arrivals[next].0 <= now {
            let (at, k) = arrivals[next];
            let o = jb.push_frame(k * F, k as u16, false, &frame(k), Instant::from_micros(at));
            if o == PushOutcome::Late && k > 100 {
                late_after_warmup += 1;
            }
            next += 1;
        }
        jb.pop(Instant::from_micros(now));
    }
    let s = jb.stats();
    // Spread of ~60 ms plus a frame: the target sits near 80 ms, inside 20..200 ms.
    assert!(
        (60_000..=100_000).contains(&s.target_delay_us),
        "{}",
        s.target_delay_us
    );
    assert!(late_after_warmup <= 5, "{late_after_warmup} late");
    // And a huge spread is capped at the configured maximum.
    let mut jb = JitterBuffer::new(cfg);
    for k in 0..50u32 {
        let extra = if k % 2 == 0 { 0 } else { 900 };
        jb.push_frame(
            k * F,
            k as u16,
            false,
            &frame(k),
            ms(u64::from(k) * 20 + extra),
        );
    }
    assert_eq!(jb.stats().target_delay_us, 200_000);
}
