use super::*;
use crate::rtp::{RtpReceiver, SplitMix64};

fn block(ssrc: u32, lost: i32) -> ReportBlock {
    ReportBlock {
        ssrc,
        fraction_lost: 12,
        cumulative_lost: lost,
        extended_highest_sequence: 0x0001_0005,
        jitter: 37,
        last_sr: 0x1234_5678,
        delay_since_last_sr: 65536,
    }
}

/// Builds SR + SDES(CNAME) + BYE into one compound packet.
fn compound(buf: &mut [u8], blocks: &[ReportBlock]) -> usize {
    let sr = SenderReportRepr {
        ssrc: 0xAAAA_0001,
        sender_info: SenderInfo {
            ntp_timestamp: 0xE1A2_B3C4_8000_0000,
            rtp_timestamp: 160_000,
            packet_count: 1000,
            octet_count: 160_000,
        },
        reports: ReportBlocks::Blocks(blocks),
    };
    let chunks = [SdesChunk {
        ssrc: 0xAAAA_0001,
        cname: Some(b"line1@gw.example"),
    }];
    let sdes = SdesRepr {
        chunks: SdesChunks::Chunks(&chunks),
    };
    let ids = [0xAAAA_0001];
    let bye = ByeRepr {
        sources: SsrcList::Values(&ids),
        reason: Some(b"hangup"),
    };
    let mut n = sr.emit(buf).unwrap();
    n += sdes.emit(&mut buf[n..]).unwrap();
    n += bye.emit(&mut buf[n..]).unwrap();
    n
}

#[test]
fn compound_sr_sdes_bye_round_trips() {
    let blocks = [block(7, -3), block(8, 0x7F_FFFF)];
    let mut buf = [0u8; 512];
    let n = compound(&mut buf, &blocks);
    assert_eq!(n % 4, 0);
    let c = RtcpCompound::new_checked(&buf[..n]).unwrap();
    let pk: Vec<RtcpPacket<'_>> = c.packets().collect();
    assert_eq!(pk.len(), 3);
    let sr = SenderReportRepr::parse(&pk[0]).unwrap();
    assert_eq!(sr.ssrc, 0xAAAA_0001);
    assert_eq!(sr.sender_info.ntp_timestamp, 0xE1A2_B3C4_8000_0000);
    assert_eq!(sr.sender_info.packet_count, 1000);
    assert_eq!(sr.reports, ReportBlocks::Blocks(&blocks));
    let got: Vec<ReportBlock> = sr.reports.iter().collect();
    assert_eq!(got[0].cumulative_lost, -3);
    let sdes = SdesRepr::parse(&pk[1]).unwrap();
    let ch: Vec<SdesChunk<'_>> = sdes.chunks.iter().collect();
    assert_eq!(ch.len(), 1);
    assert_eq!(ch[0].cname, Some(&b"line1@gw.example"[..]));
    let bye = ByeRepr::parse(&pk[2]).unwrap();
    assert_eq!(bye.sources.iter().collect::<Vec<_>>(), [0xAAAA_0001]);
    assert_eq!(bye.reason, Some(&b"hangup"[..]));
    assert_eq!(
        SenderReportRepr::parse(&pk[1]).err(),
        Some(RtcpError::WrongType(202))
    );
}

#[test]
fn receiver_report_from_receiver_statistics() {
    let mut rx = RtpReceiver::new(8000);
    for s in 0..50u16 {
        if s % 10 != 5 {
            rx.on_packet(
                0x55,
                s,
                u32::from(s) * 160,
                crate::instant::Instant::from_millis(u64::from(s) * 20),
            );
        }
    }
    let rep = rx.report().unwrap();
    let blocks = [ReportBlock::from_reception(
        &rep,
        ntp_middle(0x0001_2345_6789_0000),
        3 * 65536,
    )];
    let rr = ReceiverReportRepr {
        ssrc: 0x99,
        reports: ReportBlocks::Blocks(&blocks),
    };
    let mut buf = [0u8; 64];
    let n = rr.emit(&mut buf).unwrap();
    assert_eq!(n, 32);
    // Known wire bytes for the header: V=2, RC=1, PT=201, length 7.
    assert_eq!(&buf[..4], &[0x81, 201, 0, 7]);
    let p = RtcpPacket::new_checked(&buf[..n]).unwrap();
    let parsed = ReceiverReportRepr::parse(&p).unwrap();
    let b = parsed.reports.iter().next().unwrap();
    assert_eq!(b.ssrc, 0x55);
    assert_eq!(b.cumulative_lost, 5);
    assert_eq!(b.extended_highest_sequence, 49);
    assert_eq!(b.last_sr, 0x2345_6789);
    assert_eq!(parsed, rr);
}

#[test]
fn malformed_compounds_give_typed_errors() {
    let mut buf = [0u8; 512];
    let n = compound(&mut buf, &[block(1, 0)]);
    // Truncated datagram: SR (52) + SDES (28), then the BYE at 80 is cut.
    assert!(matches!(
        RtcpCompound::new_checked(&buf[..n - 4]),
        Err(RtcpError::Truncated { offset: 80, .. })
    ));
    // Wrong version.
    let mut bad = buf;
    bad[0] = 0x40 | (bad[0] & 0x3F);
    assert_eq!(
        RtcpCompound::new_checked(&bad[..n]).err(),
        Some(RtcpError::Version {
            offset: 0,
            version: 1
        })
    );
    // First packet not a report: start at the SDES.
    let sr_len = 4 * (usize::from(u16::from_be_bytes([buf[2], buf[3]])) + 1);
    assert_eq!(
        RtcpCompound::new_checked(&buf[sr_len..n]).err(),
        Some(RtcpError::FirstNotReport(202))
    );
    // Padding flagged on the first of several packets.
    let mut pad = buf;
    pad[0] |= 0x20;
    pad[sr_len - 1] = 4;
    assert_eq!(
        RtcpCompound::new_checked(&pad[..n]).err(),
        Some(RtcpError::PaddingNotLast(0))
    );
    // An SR whose count claims more blocks than it holds.
    let mut sr = buf;
    sr[0] = 0x80 | 3;
    let p = RtcpPacket::new_checked(&sr[..sr_len]).unwrap();
    assert!(matches!(
        SenderReportRepr::parse(&p),
        Err(RtcpError::Body { count: 3, .. })
    ));
    // An SDES item running past the packet.
    let sdes = [0x81, 202, 0, 2, 0, 0, 0, 1, 1, 200, b'a', b'b'];
    let p = RtcpPacket::new_checked(&sdes).unwrap();
    assert!(matches!(
        SdesRepr::parse(&p),
        Err(RtcpError::Sdes { chunk: 0, .. })
    ));
    // A BYE reason longer than the packet.
    let bye = [0x81, 203, 0, 2, 0, 0, 0, 1, 9, b'x', 0, 0];
    let p = RtcpPacket::new_checked(&bye).unwrap();
    assert_eq!(ByeRepr::parse(&p).err(), Some(RtcpError::ByeReason(9)));
}

#[test]
fn report_interval_is_randomised_around_the_five_second_minimum() {
    let mut ri = ReportInterval::new(ReportIntervalConfig::default(), 80);
    let mut rng = SplitMix64::new(5);
    // Before the first report the minimum is halved.
    assert_eq!(ri.deterministic(2, 1, true), 2.5);
    ri.on_report_sent();
    assert_eq!(ri.deterministic(2, 1, true), 5.0);
    let draws: Vec<f64> = (0..10_000)
        .map(|_| ri.next_interval_us(2, 1, true, &mut rng) as f64 / 1e6)
        .collect();
    let lo = 5.0 * 0.5 / (core::f64::consts::E - 1.5);
    let hi = 5.0 * 1.5 / (core::f64::consts::E - 1.5);
    assert!(draws.iter().all(|&t| t >= lo - 1e-6 && t < hi));
    let mean = draws.iter().sum::<f64>() / draws.len() as f64;
    assert!(
        (mean - 5.0 / (core::f64::consts::E - 1.5)).abs() < 0.05,
        "{mean}"
    );
    // The draws spread over the whole range.
    assert!(draws.iter().any(|&t| t < lo + 0.2) && draws.iter().any(|&t| t > hi - 0.2));
}

#[test]
fn reduced_minimum_and_large_sessions() {
    let cfg = ReportIntervalConfig {
        reduced_minimum: true,
        ..ReportIntervalConfig::default()
    };
    let mut ri = ReportInterval::new(cfg, 80);
    ri.on_report_sent();
    // 360 / 80 kbit/s = 4.5 s.
    assert!((ri.deterministic(2, 1, true) - 4.5).abs() < 1e-9);
    // 1000 receivers, 1 sender: receivers share 75 % of 500 octets/s; 108-octet packets.
    let mut big = ReportInterval::new(ReportIntervalConfig::default(), 80);
    big.on_report_sent();
    let t = big.deterministic(1001, 1, false);
    assert!((t - 108.0 * 1000.0 / (500.0 * 0.75)).abs() < 1e-6, "{t}");
    // The average size follows the packets actually sent.
    for _ in 0..200 {
        big.on_rtcp_packet(172);
    }
    let t2 = big.deterministic(1001, 1, false);
    assert!((t2 - 200.0 * 1000.0 / 375.0).abs() < 1.0, "{t2}");
}

#[test]
fn lsr_and_dlsr_units() {
    // Middle 32 bits of the NTP timestamp; delays in 1/65536 s.
    assert_eq!(ntp_middle(0xAABB_CCDD_EEFF_0011), 0xCCDD_EEFF);
    assert_eq!(dlsr_from_micros(1_000_000), 65536);
    assert_eq!(dlsr_from_micros(5_250_000), 5 * 65536 + 16384);
    assert_eq!(dlsr_from_micros(u64::MAX), u32::MAX);
}
