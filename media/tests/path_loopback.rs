//! The whole per-channel media path on virtual time: G.711 encode -> RTP sender -> a seeded
//! network (delay, jitter, loss) -> RTP parse -> receiver statistics -> jitter buffer ->
//! G.711 decode or concealment. Checks what comes out against what went in.

use tipring_media::g711::Law;
use tipring_media::instant::Instant;
use tipring_media::jitter::{JitterBuffer, JitterConfig, Playout};
use tipring_media::plc::{self, Plc};
use tipring_media::rtcp::{ReceiverReportRepr, ReportBlock, ReportBlocks, RtcpCompound};
use tipring_media::rtp::{RtpPacket, RtpReceiver, RtpSender, SplitMix64};

const FRAME: usize = 160;

fn voice(len: usize) -> Vec<i16> {
    (0..len)
        .map(|n| {
            let n = n as f64;
            // A 100 Hz voiced-like tone whose loudness varies slowly.
            let env = 0.6 + 0.4 * (n / 4000.0).sin();
            (env * (5000.0 * (n * 0.0785).sin() + 1500.0 * (n * 0.2356).sin())) as i16
        })
        .collect()
}

struct Run {
    input: Vec<i16>,
    output: Vec<i16>,
    /// Per output frame: whether it was played from a packet.
    from_packet: Vec<bool>,
    sent_lost: usize,
    rx: RtpReceiver,
    concealed: u64,
}

fn run(frames: usize, loss_per_mille: u64, jitter_us: u64, seed: u64) -> Run {
    let law = Law::Alaw;
    let mut rng = SplitMix64::new(seed);
    let mut tx = RtpSender::new(8, &mut rng);
    let input = voice(frames * FRAME);
    // Build and "send" every packet up front: arrival = send + 30 ms + jitter; some lost.
    let mut net: Vec<(u64, Vec<u8>)> = Vec::new();
    let mut sent_lost = 0;
    for k in 0..frames {
        let mut payload = [0u8; FRAME];
        law.encode(&input[k * FRAME..(k + 1) * FRAME], &mut payload);
        let mut pkt = vec![0u8; 12 + FRAME];
        let n = tx.send_frame(&payload, FRAME as u32, &mut pkt).unwrap();
        pkt.truncate(n);
        if rng.next_u64() % 1000 < loss_per_mille {
            sent_lost += 1;
            continue;
        }
        let jitter = if jitter_us > 0 {
            rng.next_u64() % jitter_us
        } else {
            0
        };
        net.push((k as u64 * 20_000 + 30_000 + jitter, pkt));
    }
    net.sort_by_key(|p| p.0);

    let mut rx = RtpReceiver::new(8000);
    let mut jb = JitterBuffer::new(JitterConfig::default());
    let mut plc = Plc::new();
    let mut output = Vec::new();
    let mut from_packet = Vec::new();
    let mut next = 0;
    let mut decoded = [0i16; FRAME];
    let mut out = [0i16; FRAME];
    for tick in 0..frames as u64 + 20 {
        let now = tick * 20_000;
        while next < net.len() && net[next].0 <= now {
            let p = RtpPacket::new_checked(&net[next].1).unwrap();
            let at = Instant::from_micros(net[next].0);
            rx.on_packet(p.ssrc(), p.sequence_number(), p.timestamp(), at);
            jb.push(&p, at);
            next += 1;
        }
        let played = match jb.pop(Instant::from_micros(now)) {
            Playout::Audio(a) => {
                law.decode(a, &mut decoded);
                plc.good_frame(&decoded, &mut out);
                true
            }
            Playout::Conceal => {
                plc.lost_frame(&mut out);
                false
            }
            Playout::Silence => {
                out.fill(0);
                false
            }
        };
        output.extend_from_slice(&out);
        from_packet.push(played);
    }
    Run {
        input,
        output,
        from_packet,
        sent_lost,
        concealed: jb.stats().concealed,
        rx,
    }
}

/// The offset (in samples) at which the output best matches the companded input.
fn align(r: &Run) -> usize {
    let law = Law::Alaw;
    let mut ref_ = vec![0i16; r.input.len()];
    let mut codes = vec![0u8; r.input.len()];
    law.encode(&r.input, &mut codes);
    law.decode(&codes, &mut ref_);
    (0..20 * FRAME)
        .min_by_key(|&d| {
            (4000..8000)
                .map(|i| (i64::from(r.output[i + d]) - i64::from(ref_[i])).abs())
                .sum::<i64>()
        })
        .unwrap()
}

#[test]
fn a_clean_network_delivers_the_companded_audio_bit_exactly() {
    let r = run(500, 0, 10_000, 1);
    let d = align(&r);
    // Output = jitter-buffer delay (whole frames) + the PLC's delay line.
    assert_eq!((d - plc::DELAY) % FRAME, 0, "offset {d}");
    let law = Law::Alaw;
    let mut codes = vec![0u8; r.input.len()];
    let mut ref_ = vec![0i16; r.input.len()];
    law.encode(&r.input, &mut codes);
    law.decode(&codes, &mut ref_);
    // After the first second (where the buffer may insert a frame while it learns the
    // jitter) every sample is the companded input.
    let (a, b) = (60 * FRAME, 480 * FRAME);
    assert_eq!(&r.output[a + d..b + d], &ref_[a..b]);
    assert!(r.concealed <= 25, "{} concealed", r.concealed);
    assert_eq!(r.rx.cumulative_lost(), 0);
}

#[test]
fn loss_is_concealed_counted_and_reported_over_rtcp() {
    let mut r = run(2500, 50, 30_000, 2); // 5 % loss, 0-30 ms jitter, 50 s
    let report = r.rx.report().unwrap();
    // The receiver's count matches the network's (the first packet only starts probation).
    assert_eq!(report.cumulative_lost as usize, r.sent_lost);
    let expect = r.sent_lost as f64 / 2500.0 * 256.0;
    assert!((f64::from(report.fraction_lost) - expect).abs() < 3.0);
    // Carried in an RR and read back.
    let blocks = [ReportBlock::from_reception(&report, 0, 0)];
    let rr = ReceiverReportRepr {
        ssrc: 1,
        reports: ReportBlocks::Blocks(&blocks),
    };
    let mut buf = [0u8; 64];
    let n = rr.emit(&mut buf).unwrap();
    let c = RtcpCompound::new_checked(&buf[..n]).unwrap();
    let p = c.packets().next().unwrap();
    let back = ReceiverReportRepr::parse(&p).unwrap();
    assert_eq!(
        back.reports.iter().next().unwrap().cumulative_lost,
        report.cumulative_lost
    );

    // Concealed frames carry signal (isolated losses are bridged, not muted).
    let played_gaps: Vec<usize> = (30..r.from_packet.len() - 30)
        .filter(|&f| !r.from_packet[f] && r.from_packet[f - 1] && r.from_packet[f + 1])
        .collect();
    assert!(
        played_gaps.len() >= r.sent_lost / 2,
        "{} gaps",
        played_gaps.len()
    );
    let energy = |f: usize| {
        r.output[f * FRAME..(f + 1) * FRAME]
            .iter()
            .map(|&v| f64::from(v).powi(2))
            .sum::<f64>()
    };
    for &f in &played_gaps {
        let around = (energy(f - 1) + energy(f + 1)) / 2.0;
        assert!(energy(f) > 0.4 * around, "frame {f} nearly silent");
    }
}
