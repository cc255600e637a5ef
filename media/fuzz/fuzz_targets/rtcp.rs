//! RTCP decoder: compound validation and every packet parser never panic, and parsed
//! reports, source descriptions and BYEs re-emit to equal representations.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tipring_media::rtcp::{
    ByeRepr, ReceiverReportRepr, RtcpCompound, RtcpPacket, SdesRepr, SenderReportRepr, packet_type,
};

fn check(p: &RtcpPacket<'_>) {
    let mut buf = vec![0u8; 4 * 1024];
    match p.packet_type() {
        packet_type::SR => {
            if let Ok(r) = SenderReportRepr::parse(p) {
                let n = r.emit(&mut buf).expect("re-emit SR");
                let q = RtcpPacket::new_checked(&buf[..n]).expect("emitted SR checks");
                assert_eq!(SenderReportRepr::parse(&q).expect("emitted SR parses"), r);
            }
        }
        packet_type::RR => {
            if let Ok(r) = ReceiverReportRepr::parse(p) {
                let n = r.emit(&mut buf).expect("re-emit RR");
                let q = RtcpPacket::new_checked(&buf[..n]).expect("emitted RR checks");
                assert_eq!(ReceiverReportRepr::parse(&q).expect("emitted RR parses"), r);
            }
        }
        packet_type::SDES => {
            if let Ok(r) = SdesRepr::parse(p) {
                let n = r.emit(&mut buf).expect("re-emit SDES");
                let q = RtcpPacket::new_checked(&buf[..n]).expect("emitted SDES checks");
                assert_eq!(SdesRepr::parse(&q).expect("emitted SDES parses"), r);
            }
        }
        packet_type::BYE => {
            if let Ok(r) = ByeRepr::parse(p) {
                let n = r.emit(&mut buf).expect("re-emit BYE");
                let q = RtcpPacket::new_checked(&buf[..n]).expect("emitted BYE checks");
                assert_eq!(ByeRepr::parse(&q).expect("emitted BYE parses"), r);
            }
        }
        _ => {}
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(c) = RtcpCompound::new_checked(data) {
        for p in c.packets() {
            check(&p);
        }
    }
    if let Ok(p) = RtcpPacket::new_checked(data) {
        check(&p);
    }
});
