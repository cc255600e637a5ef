//! Property tests of the codec: every message survives encode → decode, and arbitrary
//! bytes never make the decoder panic.

use super::*;
use crate::model::*;
use proptest::prelude::*;

fn digit() -> impl Strategy<Value = Digit> {
    (0usize..16).prop_map(|i| Digit::ALL[i])
}

fn event() -> impl Strategy<Value = Event> {
    prop_oneof![
        Just(Event::OffHook),
        Just(Event::OnHook),
        any::<u16>().prop_map(|d| Event::HookFlash { duration_ms: d }),
        (0u8..10).prop_map(|d| Event::PulseDigit { digit: d }),
        Just(Event::RingStart),
        (any::<u16>(), any::<u16>()).prop_map(|(on_ms, off_ms)| Event::RingStop { on_ms, off_ms }),
        any::<u8>().prop_map(|m| Event::LoopCurrentOn { milliamps: m }),
        Just(Event::LoopCurrentOff),
        any::<i16>().prop_map(|v| Event::LineVoltage { volts: v }),
        Just(Event::PolarityReversal),
        Just(Event::BatteryLost),
        (digit(), any::<u16>())
            .prop_map(|(digit, duration_ms)| Event::Digit { digit, duration_ms }),
        prop_oneof![
            Just(FaultCode::Thermal),
            Just(FaultCode::ForeignVoltage),
            Just(FaultCode::GroundFault),
            any::<u16>().prop_map(FaultCode::Internal)
        ]
        .prop_map(|code| Event::Fault { code }),
    ]
}

fn command() -> impl Strategy<Value = Command> {
    let cadence = (
        any::<u8>(),
        proptest::collection::vec((any::<u16>(), any::<u16>()), 0..=16),
    )
        .prop_map(|(f, steps)| {
            Command::Ring(RingCadence {
                frequency_hz: f,
                steps: steps
                    .into_iter()
                    .map(|(on_ms, off_ms)| RingStep { on_ms, off_ms })
                    .collect(),
            })
        });
    prop_oneof![
        cadence,
        Just(Command::StopRing),
        prop_oneof![Just(Polarity::Normal), Just(Polarity::Reversed)]
            .prop_map(Command::SetPolarity),
        any::<bool>().prop_map(|enable| Command::OnHookTransmission { enable }),
        (any::<i16>(), any::<i16>()).prop_map(|(tx_tenth_db, rx_tenth_db)| Command::SetGain(
            Gain {
                tx_tenth_db,
                rx_tenth_db
            }
        )),
        Just(Command::Seize),
        Just(Command::Release),
        any::<u16>().prop_map(|duration_ms| Command::HookFlash { duration_ms }),
        proptest::collection::vec(0u8..10, 0..=32).prop_map(|d| Command::PulseDial {
            digits: d.into_iter().collect()
        }),
        Just(Command::Reset),
        any::<bool>().prop_map(|on| Command::MessageWaiting { on }),
    ]
}

fn result() -> impl Strategy<Value = CmdResult> {
    prop_oneof![
        Just(CmdResult::Ok),
        Just(CmdResult::NoSuchPort),
        Just(CmdResult::WrongPortKind),
        Just(CmdResult::InvalidArgument),
        Just(CmdResult::Busy),
        Just(CmdResult::Failed),
    ]
}

fn packet() -> impl Strategy<Value = Packet> {
    let hello = (
        any::<bool>(),
        any::<u8>(),
        any::<u8>(),
        any::<u32>(),
        proptest::option::of((
            "[ -~]{0,16}",
            proptest::collection::vec(any::<bool>(), 0..=crate::model::MAX_PORTS),
        )),
    )
        .prop_map(|(card_role, min_version, max_version, boot_id, card)| {
            Packet::Hello(Hello {
                role: if card_role { Role::Card } else { Role::Gateway },
                min_version,
                max_version,
                boot_id,
                answer: min_version % 2 == 0,
                card: card.map(|(fw, ports)| CardInfo {
                    firmware: heapless::String::try_from(fw.as_str()).unwrap(),
                    ports: ports
                        .into_iter()
                        .map(|o| if o { PortKind::Fxo } else { PortKind::Fxs })
                        .collect(),
                }),
            })
        });
    prop_oneof![
        hello,
        any::<u32>().prop_map(|now_ms| Packet::Heartbeat { now_ms }),
        (any::<u16>(), any::<u8>(), command()).prop_map(|(seq, port, command)| Packet::Command {
            seq,
            port,
            command
        }),
        (any::<u16>(), any::<u32>(), any::<u8>(), event()).prop_map(|(seq, at_ms, port, event)| {
            Packet::Event {
                seq,
                event: TimedEvent { at_ms, port, event },
            }
        }),
        (any::<u16>(), result()).prop_map(|(seq, result)| Packet::Ack { seq, result }),
    ]
}

proptest! {
    #[test]
    fn every_packet_round_trips(p in packet()) {
        let repr = FrameRepr::new(p);
        let mut wire = [0u8; MAX_WIRE_FRAME];
        let n = encode_frame(&repr, &mut wire).unwrap();
        prop_assert_eq!(wire[n - 1], 0);
        prop_assert!(!wire[..n - 1].contains(&0));
        let mut d = Decoder::new();
        let mut got = None;
        d.feed(&wire[..n], |r| got = Some(r));
        prop_assert_eq!(got, Some(Ok(repr)));
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2000)) {
        let mut d = Decoder::new();
        d.feed(&bytes, |_| {});
    }

    #[test]
    fn frame_after_garbage_is_still_received(
        garbage in proptest::collection::vec(any::<u8>(), 0..600),
        p in packet(),
    ) {
        let repr = FrameRepr::new(p);
        let mut wire = [0u8; MAX_WIRE_FRAME];
        let n = encode_frame(&repr, &mut wire).unwrap();
        let mut d = Decoder::new();
        d.feed(&garbage, |_| {});
        // A sender that resynchronises leads with a delimiter.
        let mut got = heapless::Vec::<_, 4>::new();
        d.feed(&[0], |r| { let _ = got.push(r); });
        got.clear();
        d.feed(&wire[..n], |r| { let _ = got.push(r); });
        prop_assert_eq!(&got[..], &[Ok(repr)]);
    }

    #[test]
    fn corrupted_frame_is_rejected(p in packet(), at in any::<prop::sample::Index>(), flip in 1u8..=255) {
        let repr = FrameRepr::new(p);
        let mut raw = [0u8; MAX_FRAME];
        let n = repr.emit(&mut raw).unwrap();
        raw[at.index(n)] ^= flip;
        let parsed = Frame::new_checked(&raw[..n]).and_then(|f| FrameRepr::parse(&f));
        // A CRC-16 detects every error burst of 16 bits or less (one byte here).
        prop_assert!(parsed.is_err());
    }
}

#[test]
fn truncated_frame_is_an_error_and_the_next_one_passes() {
    let repr = FrameRepr::new(Packet::Heartbeat { now_ms: 1234 });
    let mut wire = [0u8; MAX_WIRE_FRAME];
    let n = encode_frame(&repr, &mut wire).unwrap();
    let mut d = Decoder::new();
    let mut got = std::vec::Vec::new();
    d.feed(&wire[..n / 2], |r| got.push(r));
    d.feed(&[0], |r| got.push(r));
    d.feed(&wire[..n], |r| got.push(r));
    assert_eq!(got.len(), 2);
    assert!(got[0].is_err());
    assert_eq!(got[1], Ok(repr));
}

#[test]
fn wrong_version_is_refused() {
    let repr = FrameRepr {
        version: 9,
        packet: Packet::Heartbeat { now_ms: 1 },
    };
    let mut raw = [0u8; MAX_FRAME];
    let n = repr.emit(&mut raw).unwrap();
    let f = Frame::new_checked(&raw[..n]).unwrap();
    assert_eq!(FrameRepr::parse(&f), Err(WireError::Version(9)));
}

#[test]
fn overrun_resyncs_at_next_delimiter() {
    let mut d = Decoder::new();
    let mut got = std::vec::Vec::new();
    d.feed(&[0x55; MAX_WIRE_FRAME + 10], |r| got.push(r));
    d.feed(&[0], |r| got.push(r));
    assert_eq!(got, [Err(WireError::Overrun)]);
    let repr = FrameRepr::new(Packet::Heartbeat { now_ms: 7 });
    let mut wire = [0u8; MAX_WIRE_FRAME];
    let n = encode_frame(&repr, &mut wire).unwrap();
    got.clear();
    d.feed(&wire[..n], |r| got.push(r));
    assert_eq!(got, [Ok(repr)]);
}

/// The byte layout PROTOCOL.md gives as its worked example.
#[test]
fn documented_example_bytes() {
    let repr = FrameRepr::new(Packet::Event {
        seq: 300,
        event: TimedEvent {
            at_ms: 5,
            port: 1,
            event: Event::HookFlash { duration_ms: 250 },
        },
    });
    let mut raw = [0u8; MAX_FRAME];
    let n = repr.emit(&mut raw).unwrap();
    // version 1, variant 3 (Event), seq 300 = varint AC 02, at_ms 5, port 1,
    // variant 2 (HookFlash), 250 = varint FA 01, then the CRC.
    assert_eq!(
        &raw[..n - 2],
        &[0x01, 0x03, 0xAC, 0x02, 0x05, 0x01, 0x02, 0xFA, 0x01]
    );
    let crc = crc::crc16(&raw[..n - 2]);
    assert_eq!(&raw[n - 2..n], &crc.to_be_bytes());
    std::println!("example CRC {crc:#06x}");
}
