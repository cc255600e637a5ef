//! Caller ID sent as DTMF digits (ETSI EN 300 659-1 Annex B style CLIP-DTMF), in the two
//! common variants:
//! - C-terminated: `A<number>C`, or `B00C` (number unavailable) / `B10C` (restricted);
//! - #-terminated: `A<number>#`, or `D1#` (private), `D2#` (international, treated as
//!   unavailable on receive), `D3#` (unavailable).

use super::message::{Absence, Text};
use crate::dtmf::{Digit, DtmfDetector, DtmfEvent, DtmfGenerator, DtmfParams};

/// Which digit-string variant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DtmfClipFormat {
    CTerminated,
    HashTerminated,
}

/// A DTMF caller-ID indication.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DtmfClip {
    Number(Text),
    Absent(Absence),
}

/// What is wrong with a DTMF caller-ID string.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DtmfClipError {
    #[error("empty digit string")]
    Empty,
    #[error("no terminator (C or #)")]
    Unterminated,
    #[error("unexpected digit {0:?} at {1}")]
    Unexpected(char, usize),
    #[error("unknown absence code {0:?}")]
    UnknownAbsence(Text),
    #[error("number too long")]
    TooLong,
    #[error("output buffer too small")]
    BufferTooSmall,
}

impl DtmfClip {
    /// Writes the digit string into `out`; returns its length.
    pub fn emit(&self, fmt: DtmfClipFormat, out: &mut [u8]) -> Result<usize, DtmfClipError> {
        let mut n = 0;
        let mut put = |b: &[u8]| -> Result<(), DtmfClipError> {
            let dst = out
                .get_mut(n..n + b.len())
                .ok_or(DtmfClipError::BufferTooSmall)?;
            dst.copy_from_slice(b);
            n += b.len();
            Ok(())
        };
        let term: &[u8] = match fmt {
            DtmfClipFormat::CTerminated => b"C",
            DtmfClipFormat::HashTerminated => b"#",
        };
        match (self, fmt) {
            (DtmfClip::Number(t), _) => {
                if let Some(&c) = t.as_bytes().iter().find(|c| !c.is_ascii_digit()) {
                    return Err(DtmfClipError::Unexpected(c as char, 0));
                }
                put(b"A")?;
                put(t.as_bytes())?;
            }
            (DtmfClip::Absent(Absence::Unavailable), DtmfClipFormat::CTerminated) => put(b"B00")?,
            (DtmfClip::Absent(Absence::Private), DtmfClipFormat::CTerminated) => put(b"B10")?,
            (DtmfClip::Absent(Absence::Private), DtmfClipFormat::HashTerminated) => put(b"D1")?,
            (DtmfClip::Absent(Absence::Unavailable), DtmfClipFormat::HashTerminated) => put(b"D3")?,
        }
        put(term)?;
        Ok(n)
    }

    /// Parses a complete digit string.
    pub fn parse(s: &[u8]) -> Result<(DtmfClipFormat, DtmfClip), DtmfClipError> {
        let (&first, rest) = s.split_first().ok_or(DtmfClipError::Empty)?;
        let (&last, body) = rest.split_last().ok_or(DtmfClipError::Unterminated)?;
        let fmt = match last {
            b'C' => DtmfClipFormat::CTerminated,
            b'#' => DtmfClipFormat::HashTerminated,
            _ => return Err(DtmfClipError::Unterminated),
        };
        if let Some(i) = body.iter().position(|c| !c.is_ascii_digit()) {
            return Err(DtmfClipError::Unexpected(body[i] as char, i + 1));
        }
        let text = || Text::new(body).map_err(|_| DtmfClipError::TooLong);
        let clip = match (first, fmt) {
            (b'A', _) => DtmfClip::Number(text()?),
            (b'B', DtmfClipFormat::CTerminated) => match body {
                b"00" => DtmfClip::Absent(Absence::Unavailable),
                b"10" => DtmfClip::Absent(Absence::Private),
                _ => return Err(DtmfClipError::UnknownAbsence(text()?)),
            },
            (b'D', DtmfClipFormat::HashTerminated) => match body {
                b"1" => DtmfClip::Absent(Absence::Private),
                b"2" | b"3" => DtmfClip::Absent(Absence::Unavailable),
                _ => return Err(DtmfClipError::UnknownAbsence(text()?)),
            },
            (c, _) => return Err(DtmfClipError::Unexpected(c as char, 0)),
        };
        Ok((fmt, clip))
    }

    /// A DTMF generator loaded with this indication.
    pub fn generator(
        &self,
        fmt: DtmfClipFormat,
        params: DtmfParams,
    ) -> Result<DtmfGenerator, DtmfClipError> {
        let mut buf = [0u8; 40];
        let n = self.emit(fmt, &mut buf)?;
        let mut g = DtmfGenerator::new(params);
        for &b in &buf[..n] {
            let d =
                Digit::from_char(b as char).map_err(|_| DtmfClipError::Unexpected(b as char, 0))?;
            g.push(d).map_err(|_| DtmfClipError::TooLong)?;
        }
        Ok(g)
    }
}

/// Listens for DTMF caller ID in audio (FXO side).
#[derive(Clone, Debug)]
pub struct DtmfClipReceiver {
    det: DtmfDetector,
    buf: [u8; 40],
    len: usize,
}

impl Default for DtmfClipReceiver {
    fn default() -> Self {
        DtmfClipReceiver {
            det: DtmfDetector::default(),
            buf: [0; 40],
            len: 0,
        }
    }
}

impl DtmfClipReceiver {
    /// Consumes audio; reports each complete indication (or why it could not be parsed).
    pub fn process(
        &mut self,
        samples: &[i16],
        mut on_clip: impl FnMut(Result<(DtmfClipFormat, DtmfClip), DtmfClipError>),
    ) {
        let (det, buf, len) = (&mut self.det, &mut self.buf, &mut self.len);
        det.process(samples, |e| {
            if let DtmfEvent::Start { digit, .. } = e {
                let c = digit.as_char() as u8;
                if matches!(c, b'A' | b'B' | b'D') && *len == 0 {
                    buf[0] = c;
                    *len = 1;
                } else if *len > 0 {
                    if *len == buf.len() {
                        *len = 0;
                        on_clip(Err(DtmfClipError::TooLong));
                        return;
                    }
                    buf[*len] = c;
                    *len += 1;
                    if matches!(c, b'C' | b'#') {
                        on_clip(DtmfClip::parse(&buf[..*len]));
                        *len = 0;
                    }
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_round_trip() {
        let num = DtmfClip::Number(Text::new(b"0123456789").unwrap());
        let cases = [
            (num, DtmfClipFormat::CTerminated, &b"A0123456789C"[..]),
            (num, DtmfClipFormat::HashTerminated, b"A0123456789#"),
            (
                DtmfClip::Absent(Absence::Private),
                DtmfClipFormat::CTerminated,
                b"B10C",
            ),
            (
                DtmfClip::Absent(Absence::Unavailable),
                DtmfClipFormat::CTerminated,
                b"B00C",
            ),
            (
                DtmfClip::Absent(Absence::Private),
                DtmfClipFormat::HashTerminated,
                b"D1#",
            ),
            (
                DtmfClip::Absent(Absence::Unavailable),
                DtmfClipFormat::HashTerminated,
                b"D3#",
            ),
        ];
        for (clip, fmt, want) in cases {
            let mut b = [0u8; 40];
            let n = clip.emit(fmt, &mut b).unwrap();
            assert_eq!(&b[..n], want);
            assert_eq!(DtmfClip::parse(want), Ok((fmt, clip)));
        }
        assert_eq!(DtmfClip::parse(b"A123"), Err(DtmfClipError::Unterminated));
        assert_eq!(DtmfClip::parse(b""), Err(DtmfClipError::Empty));
        assert!(matches!(
            DtmfClip::parse(b"B77C"),
            Err(DtmfClipError::UnknownAbsence(_))
        ));
        assert_eq!(
            DtmfClip::parse(b"A1*2C"),
            Err(DtmfClipError::Unexpected('*', 2))
        );
    }
}
