//! Clock drift through the whole receive path: a far sender whose clock runs 0.1 % fast or
//! slow against the local audio clock, 10 simulated minutes of 20 ms G.711 frames with
//! seeded network jitter, RTP built by the sender, parsed, and fed to the jitter buffer.
//! The buffer must keep its delay bounded, never starve, and absorb the drift with about
//! one inserted or removed frame per 20 ms of accumulated clock difference.

use tipring_media::instant::Instant;
use tipring_media::jitter::{JitterBuffer, JitterConfig, Playout};
use tipring_media::rtp::{RtpPacket, RtpSender, SplitMix64};

const FRAME_US: f64 = 20_000.0;
const MINUTES: u64 = 10;

struct Outcome {
    removed: u64,
    inserted: u64,
    lost: u64,
    late: u64,
    max_delay_us: i64,
    min_delay_us: i64,
    max_buffered: usize,
    mean_delay_first_minute: f64,
    mean_delay_last_minute: f64,
    audio_frames: u64,
}

fn run(ppm: f64, seed: u64) -> Outcome {
    let mut rng = SplitMix64::new(seed);
    let mut sender = RtpSender::new(0, &mut rng);
    let pops = MINUTES * 60 * 50;
    // The far clock runs (1 + ppm/1e6) times as fast: its 20 ms frames take less real time.
    let period = FRAME_US / (1.0 + ppm * 1e-6);
    let frames = (pops as f64 * (1.0 + ppm * 1e-6)) as usize + 100;
    let mut packets: Vec<(u64, Vec<u8>)> = Vec::with_capacity(frames);
    for k in 0..frames {
        let sent = k as f64 * period;
        let jitter = (rng.next_u64() % 30_000) as f64; // 0-30 ms
        let arrival = (sent + 40_000.0 + jitter) as u64;
        let mut buf = vec![0u8; 172];
        let payload = [(k % 251) as u8; 160];
        let n = sender.send_frame(&payload, 160, &mut buf).unwrap();
        buf.truncate(n);
        packets.push((arrival, buf));
    }
    packets.sort_by_key(|p| p.0);

    let mut jb = JitterBuffer::new(JitterConfig::default());
    let mut next = 0;
    let mut out = Outcome {
        removed: 0,
        inserted: 0,
        lost: 0,
        late: 0,
        max_delay_us: i64::MIN,
        min_delay_us: i64::MAX,
        max_buffered: 0,
        mean_delay_first_minute: 0.0,
        mean_delay_last_minute: 0.0,
        audio_frames: 0,
    };
    let minute = 60 * 50;
    let (mut first_sum, mut last_sum) = (0i64, 0i64);
    for n in 0..pops {
        let now = n * 20_000;
        while next < packets.len() && packets[next].0 <= now {
            let p = RtpPacket::new_checked(&packets[next].1).unwrap();
            jb.push(&p, Instant::from_micros(packets[next].0));
            next += 1;
        }
        if let Playout::Audio(_) = jb.pop(Instant::from_micros(now)) {
            out.audio_frames += 1;
        }
        let s = jb.stats();
        // Skip the first 5 s of warm-up before checking bounds.
        if n >= 250 {
            out.max_delay_us = out.max_delay_us.max(s.current_delay_us);
            out.min_delay_us = out.min_delay_us.min(s.current_delay_us);
            out.max_buffered = out.max_buffered.max(s.buffered);
        }
        if (250..250 + minute).contains(&n) {
            first_sum += s.current_delay_us;
        }
        if n >= pops - minute {
            last_sum += s.current_delay_us;
        }
    }
    let s = jb.stats();
    out.removed = s.removed;
    out.inserted = s.inserted;
    out.lost = s.lost;
    out.late = s.late;
    out.mean_delay_first_minute = first_sum as f64 / minute as f64;
    out.mean_delay_last_minute = last_sum as f64 / minute as f64;
    out
}

fn check(o: &Outcome, label: &str) {
    eprintln!(
        "{label}: removed {} inserted {} lost {} late {} delay {}..{} us, buffered <= {}, \
         mean delay first/last minute {:.0}/{:.0} us, audio frames {}",
        o.removed,
        o.inserted,
        o.lost,
        o.late,
        o.min_delay_us,
        o.max_delay_us,
        o.max_buffered,
        o.mean_delay_first_minute,
        o.mean_delay_last_minute,
        o.audio_frames
    );
    let cfg = JitterConfig::default();
    // Bounded: never above the highest target plus the removal band, never starving.
    assert!(
        o.max_delay_us <= cfg.max_delay_us as i64 + 30_000,
        "{label}"
    );
    assert!(o.min_delay_us >= 0, "{label}");
    assert!(o.max_buffered <= 15, "{label}");
    // No growth: the delay in the last minute is where it was in the first.
    assert!(
        (o.mean_delay_last_minute - o.mean_delay_first_minute).abs() < 20_000.0,
        "{label}"
    );
    assert!(o.lost <= 10 && o.late <= 10, "{label}");
}

#[test]
fn fast_far_clock_is_absorbed_by_removing_about_thirty_frames() {
    let o = run(1000.0, 11);
    check(&o, "+0.1 %");
    // 600 s * 0.1 % = 600 ms of surplus audio = 30 frames of 20 ms.
    assert!((27..=36).contains(&o.removed), "removed {}", o.removed);
    assert!(o.inserted <= 6, "inserted {}", o.inserted);
}

#[test]
fn slow_far_clock_is_absorbed_by_inserting_about_thirty_frames() {
    let o = run(-1000.0, 12);
    check(&o, "-0.1 %");
    assert!((27..=36).contains(&o.inserted), "inserted {}", o.inserted);
    assert!(o.removed <= 6, "removed {}", o.removed);
}
