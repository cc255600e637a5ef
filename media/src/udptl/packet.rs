//! One UDPTL datagram (T.38 §9.1), parsed and emitted:
//!
//! ```text
//! UDPTLPacket ::= SEQUENCE {
//!     seq-number          INTEGER (0..65535),
//!     primary-ifp-packet  TYPE-IDENTIFIER.&Type(IFPPacket),
//!     error-recovery      CHOICE {
//!         secondary-ifp-packets  SEQUENCE OF TYPE-IDENTIFIER.&Type(IFPPacket),
//!         fec-info               SEQUENCE {
//!             fec-npackets  INTEGER,
//!             fec-data      SEQUENCE OF OCTET STRING } } }
//! ```
//!
//! In aligned PER that is: two octets of sequence number; the primary IFP packet as a
//! length determinant and its octets; one octet whose top bit picks the recovery
//! (0x00 redundancy, 0x80 FEC); then, for redundancy, a count determinant and each
//! secondary as determinant and octets, newest first; for FEC, `fec-npackets` as a
//! one-octet integer with its determinant, a count determinant and each entry.
//!
//! A parse has to walk every length to find the end of the datagram, so the checked view
//! and the representation are one type here: [`UdptlPacket::parse`] validates the whole
//! datagram and keeps the slices it found, in fixed arrays, allocating nothing.

use super::per::{Reader, Writer, det_len, field_len};
use super::{MAX_FEC_ENTRIES, MAX_FIELD_LEN, MAX_SECONDARIES, Part, SliceList, UdptlError};

/// The `fec-info` alternative of `error-recovery` (T.38 §9.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FecInfo<'a> {
    /// `fec-npackets`: how many earlier IFP packets each entry protects. Read as the
    /// unsigned value of its one octet.
    pub npackets: u8,
    /// `fec-data`: the parity octet strings.
    pub data: SliceList<'a>,
}

/// The `error-recovery` CHOICE (T.38 §9.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Recovery<'a> {
    /// `secondary-ifp-packets`: copies of the IFP packets sent before the primary, newest
    /// first (sequence numbers `seq - 1`, `seq - 2`, ...). Possibly empty.
    Redundancy(SliceList<'a>),
    /// `fec-info`: parity over earlier IFP packets.
    Fec(FecInfo<'a>),
}

impl<'a> Recovery<'a> {
    /// The secondary IFP packets, newest first; none for FEC.
    pub fn secondaries(&self) -> &[&'a [u8]] {
        match self {
            Recovery::Redundancy(list) => list.as_slice(),
            Recovery::Fec(_) => &[],
        }
    }
}

/// One UDPTL datagram: sequence number, primary IFP packet and error recovery. Built by
/// [`UdptlPacket::parse`] from received octets (after which every slice lies within
/// them), or by hand to [`emit`](UdptlPacket::emit).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UdptlPacket<'a> {
    /// `seq-number`: the sequence number of the primary IFP packet.
    pub seq: u16,
    /// `primary-ifp-packet`: the PER encoding of the IFP packet, never empty.
    pub primary: &'a [u8],
    /// `error-recovery`.
    pub recovery: Recovery<'a>,
}

impl<'a> UdptlPacket<'a> {
    /// A packet carrying `primary` and the `secondaries` (newest first).
    pub fn redundant(seq: u16, primary: &'a [u8], secondaries: SliceList<'a>) -> Self {
        UdptlPacket {
            seq,
            primary,
            recovery: Recovery::Redundancy(secondaries),
        }
    }

    /// Validates the whole datagram and reads it. Refuses truncation, trailing octets, the
    /// fragmented length form, empty IFP packets, a recovery octet other than 0x00 or 0x80,
    /// and more than [`MAX_SECONDARIES`] secondaries or [`MAX_FEC_ENTRIES`] FEC entries.
    pub fn parse(buf: &'a [u8]) -> Result<Self, UdptlError> {
        let mut r = Reader::new(buf);
        let seq = r.u16(Part::SeqNumber)?;
        let primary = ifp(&mut r, Part::Primary)?;
        let recovery = match r.u8(Part::ErrorRecovery)? {
            0x00 => {
                let count = r.length(Part::SecondaryCount)?;
                if count > MAX_SECONDARIES {
                    return Err(UdptlError::TooManySecondaries(count));
                }
                let mut list = SliceList::new();
                for _ in 0..count {
                    list.push(ifp(&mut r, Part::Secondary)?);
                }
                Recovery::Redundancy(list)
            }
            0x80 => {
                // An unconstrained INTEGER: a determinant, then that many octets.
                let n = r.length(Part::FecPackets)?;
                if n != 1 {
                    return Err(UdptlError::FecPacketsLength(n));
                }
                let npackets = r.u8(Part::FecPackets)?;
                let count = r.length(Part::FecCount)?;
                if count > MAX_FEC_ENTRIES {
                    return Err(UdptlError::TooManyFecEntries(count));
                }
                let mut data = SliceList::new();
                for _ in 0..count {
                    data.push(r.field(Part::FecData)?);
                }
                Recovery::Fec(FecInfo { npackets, data })
            }
            other => return Err(UdptlError::RecoveryChoice(other)),
        };
        match r.remaining() {
            0 => Ok(UdptlPacket {
                seq,
                primary,
                recovery,
            }),
            n => Err(UdptlError::TrailingBytes(n)),
        }
    }

    /// Length of the datagram as emitted.
    pub fn buffer_len(&self) -> usize {
        let head = 2 + field_len(self.primary.len()) + 1;
        match &self.recovery {
            Recovery::Redundancy(list) => head + det_len(list.len()) + list_len(list),
            Recovery::Fec(fec) => head + 2 + det_len(fec.data.len()) + list_len(&fec.data),
        }
    }

    /// Writes the datagram into `buf`, returning its length. Refuses empty IFP packets and
    /// fields longer than [`MAX_FIELD_LEN`].
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize, UdptlError> {
        check_ifp(self.primary, Part::Primary)?;
        match &self.recovery {
            Recovery::Redundancy(list) => {
                for s in list.iter() {
                    check_ifp(s, Part::Secondary)?;
                }
            }
            Recovery::Fec(fec) => {
                for d in fec.data.iter() {
                    check_len(d, Part::FecData)?;
                }
            }
        }
        let needed = self.buffer_len();
        if buf.len() < needed {
            return Err(UdptlError::BufferTooSmall {
                needed,
                len: buf.len(),
            });
        }
        let mut w = Writer::new(buf);
        w.bytes(&self.seq.to_be_bytes());
        w.field(self.primary);
        match &self.recovery {
            Recovery::Redundancy(list) => {
                w.bytes(&[0x00]);
                w.length(list.len());
                for s in list.iter() {
                    w.field(s);
                }
            }
            Recovery::Fec(fec) => {
                w.bytes(&[0x80]);
                w.field(&[fec.npackets]);
                w.length(fec.data.len());
                for d in fec.data.iter() {
                    w.field(d);
                }
            }
        }
        Ok(w.len())
    }
}

/// An IFP packet (an open type): a determinant and at least one octet.
fn ifp<'a>(r: &mut Reader<'a>, part: Part) -> Result<&'a [u8], UdptlError> {
    let b = r.field(part)?;
    if b.is_empty() {
        return Err(UdptlError::EmptyIfp(part));
    }
    Ok(b)
}

/// Octets of the fields of `list`, determinants included.
fn list_len(list: &SliceList<'_>) -> usize {
    list.iter().map(|s| field_len(s.len())).sum()
}

fn check_len(b: &[u8], part: Part) -> Result<(), UdptlError> {
    if b.len() > MAX_FIELD_LEN {
        return Err(UdptlError::TooLong { part, len: b.len() });
    }
    Ok(())
}

pub(super) fn check_ifp(b: &[u8], part: Part) -> Result<(), UdptlError> {
    if b.is_empty() {
        return Err(UdptlError::EmptyIfp(part));
    }
    check_len(b, part)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn emit_vec(p: &UdptlPacket<'_>) -> Vec<u8> {
        let mut buf = vec![0u8; p.buffer_len()];
        let n = p.emit(&mut buf).unwrap();
        assert_eq!(n, buf.len());
        buf
    }

    /// Every way a datagram can be mangled: each truncation, each single-octet change to a
    /// few values, each appended octet. None may panic; truncations must all be refused.
    fn mangle_all(bytes: &[u8]) {
        for n in 0..bytes.len() {
            assert!(
                UdptlPacket::parse(&bytes[..n]).is_err(),
                "truncation to {n} accepted"
            );
        }
        let mut v = bytes.to_vec();
        for i in 0..v.len() {
            let orig = v[i];
            for b in [
                0x00,
                0x01,
                0x7F,
                0x80,
                0x81,
                0xBF,
                0xC0,
                0xFF,
                orig ^ 0x01,
                orig ^ 0x40,
            ] {
                v[i] = b;
                if let Ok(p) = UdptlPacket::parse(&v) {
                    // What parses re-emits to something that parses the same.
                    let again = emit_vec(&p);
                    assert_eq!(UdptlPacket::parse(&again), Ok(p));
                }
            }
            v[i] = orig;
        }
        let mut long = bytes.to_vec();
        long.push(0);
        assert_eq!(UdptlPacket::parse(&long), Err(UdptlError::TrailingBytes(1)));
    }

    #[test]
    fn known_bytes_no_signal_without_secondaries() {
        // seq 0x0102, primary IFP [0x00] (t30-indicator no-signal), redundancy, no
        // secondaries.
        let p = UdptlPacket::redundant(0x0102, &[0x00], SliceList::new());
        let bytes = emit_vec(&p);
        assert_eq!(bytes, [0x01, 0x02, 0x01, 0x00, 0x00, 0x00]);
        assert_eq!(UdptlPacket::parse(&bytes), Ok(p));
    }

    #[test]
    fn known_bytes_with_two_secondaries() {
        let bytes = [
            0x00, 0x07, // seq 7
            0x02, 0xC0, 0x01, // primary
            0x00, // redundancy
            0x02, // two secondaries
            0x01, 0xAA, // seq 6
            0x03, 0x01, 0x02, 0x03, // seq 5
        ];
        let p = UdptlPacket::parse(&bytes).unwrap();
        assert_eq!(p.seq, 7);
        assert_eq!(p.primary, [0xC0, 0x01]);
        assert_eq!(p.recovery.secondaries(), [&[0xAA][..], &[1, 2, 3][..]]);
        assert_eq!(emit_vec(&p), bytes);
        mangle_all(&bytes);
    }

    #[test]
    fn round_trip_with_secondaries_and_two_octet_lengths() {
        let big = [0x5A; 200];
        let mid = [0x11; 128];
        let small = [0x22; 127];
        let list = SliceList::from_slices(&[&mid, &small, &[0x33]]).unwrap();
        let p = UdptlPacket::redundant(0xFFFF, &big, list);
        let bytes = emit_vec(&p);
        // 200 = 0x00C8 in the two-octet form.
        assert_eq!(bytes[2..4], [0x80, 0xC8]);
        assert_eq!(
            bytes.len(),
            2 + (2 + 200) + 1 + 1 + (2 + 128) + (1 + 127) + (1 + 1)
        );
        let back = UdptlPacket::parse(&bytes).unwrap();
        assert_eq!(back, p);
        assert_eq!(back.primary.len(), 200);
        mangle_all(&bytes);
    }

    #[test]
    fn fec_packets_parse_and_round_trip() {
        let bytes = [
            0x12, 0x34, // seq
            0x01, 0x06, // primary
            0x80, // fec-info
            0x01, 0x03, // fec-npackets = 3
            0x02, // two entries
            0x02, 0xDE, 0xAD, // entry 1
            0x00, // entry 2, empty (an octet string may be)
        ];
        let p = UdptlPacket::parse(&bytes).unwrap();
        let Recovery::Fec(fec) = p.recovery else {
            panic!("not FEC: {p:?}");
        };
        assert_eq!(fec.npackets, 3);
        assert_eq!(fec.data.as_slice(), [&[0xDE, 0xAD][..], &[][..]]);
        assert!(p.recovery.secondaries().is_empty());
        assert_eq!(emit_vec(&p), bytes);
        mangle_all(&bytes);

        let mut bad = bytes;
        bad[5] = 0x02; // fec-npackets in two octets
        assert_eq!(
            UdptlPacket::parse(&bad),
            Err(UdptlError::FecPacketsLength(2))
        );
    }

    #[test]
    fn malformed_datagrams_name_what_is_wrong() {
        use UdptlError::*;
        let parse = UdptlPacket::parse;
        assert_eq!(parse(&[]), Err(Truncated(Part::SeqNumber)));
        assert_eq!(parse(&[0, 1]), Err(Truncated(Part::Primary)));
        assert_eq!(parse(&[0, 1, 3, 1, 2]), Err(Truncated(Part::Primary)));
        assert_eq!(parse(&[0, 1, 0, 0, 0]), Err(EmptyIfp(Part::Primary)));
        assert_eq!(parse(&[0, 1, 0xC1, 0]), Err(Fragmented(Part::Primary)));
        assert_eq!(parse(&[0, 1, 1, 0]), Err(Truncated(Part::ErrorRecovery)));
        assert_eq!(parse(&[0, 1, 1, 0, 0x40, 0]), Err(RecoveryChoice(0x40)));
        assert_eq!(parse(&[0, 1, 1, 0, 0x01, 0]), Err(RecoveryChoice(0x01)));
        assert_eq!(
            parse(&[0, 1, 1, 0, 0]),
            Err(Truncated(Part::SecondaryCount))
        );
        assert_eq!(parse(&[0, 1, 1, 0, 0, 1]), Err(Truncated(Part::Secondary)));
        assert_eq!(
            parse(&[0, 1, 1, 0, 0, 1, 0]),
            Err(EmptyIfp(Part::Secondary))
        );
        assert_eq!(parse(&[0, 1, 1, 0, 0, 17]), Err(TooManySecondaries(17)));
        assert_eq!(
            parse(&[0, 1, 1, 0, 0, 0x80, 0xFF]),
            Err(TooManySecondaries(255))
        );
        assert_eq!(parse(&[0, 1, 1, 0, 0x80, 0]), Err(FecPacketsLength(0)));
        assert_eq!(
            parse(&[0, 1, 1, 0, 0x80, 1, 3]),
            Err(Truncated(Part::FecCount))
        );
        assert_eq!(
            parse(&[0, 1, 1, 0, 0x80, 1, 3, 17]),
            Err(TooManyFecEntries(17))
        );
        assert_eq!(
            parse(&[0, 1, 1, 0, 0x80, 1, 3, 1, 2, 9]),
            Err(Truncated(Part::FecData))
        );
        assert_eq!(parse(&[0, 1, 1, 0, 0, 0, 0, 0]), Err(TrailingBytes(2)));
    }

    #[test]
    fn sixteen_secondaries_pass_and_seventeen_do_not() {
        let mut bytes = vec![0, 9, 1, 0xAB, 0x00, 16];
        for i in 0..16u8 {
            bytes.extend_from_slice(&[1, i + 1]);
        }
        let p = UdptlPacket::parse(&bytes).unwrap();
        assert_eq!(p.recovery.secondaries().len(), MAX_SECONDARIES);
        assert_eq!(p.recovery.secondaries()[15], [16]);
        bytes[5] = 17;
        bytes.extend_from_slice(&[1, 17]);
        assert_eq!(
            UdptlPacket::parse(&bytes),
            Err(UdptlError::TooManySecondaries(17))
        );
    }

    #[test]
    fn emit_refuses_what_it_cannot_encode() {
        let p = UdptlPacket::redundant(1, &[], SliceList::new());
        assert_eq!(
            p.emit(&mut [0; 16]),
            Err(UdptlError::EmptyIfp(Part::Primary))
        );
        let huge = vec![0u8; MAX_FIELD_LEN + 1];
        let p = UdptlPacket::redundant(1, &huge, SliceList::new());
        assert_eq!(
            p.emit(&mut vec![0; 20_000]),
            Err(UdptlError::TooLong {
                part: Part::Primary,
                len: MAX_FIELD_LEN + 1
            })
        );
        let list = SliceList::from_slices(&[&[]]).unwrap();
        let p = UdptlPacket::redundant(1, &[1], list);
        assert_eq!(
            p.emit(&mut [0; 16]),
            Err(UdptlError::EmptyIfp(Part::Secondary))
        );
        let p = UdptlPacket::redundant(1, &[1, 2, 3], SliceList::new());
        assert_eq!(
            p.emit(&mut [0; 7]),
            Err(UdptlError::BufferTooSmall { needed: 8, len: 7 })
        );
        let max = vec![7u8; MAX_FIELD_LEN];
        let p = UdptlPacket::redundant(1, &max, SliceList::new());
        let bytes = emit_vec(&p);
        assert_eq!(bytes[2..4], [0xBF, 0xFF]);
        assert_eq!(UdptlPacket::parse(&bytes), Ok(p));
    }
}
