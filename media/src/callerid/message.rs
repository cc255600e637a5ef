//! Caller-ID data messages: SDMF and MDMF (Telcordia GR-30-CORE, also ETSI EN 300 659-3
//! "call set-up" with the same parameter codes), with the checksum.
//!
//! Wire layout: message type, message length, `length` data bytes, checksum = two's
//! complement of the modulo-256 sum of all preceding bytes. [`Message`] is the checked
//! view; [`CallerIdRepr`] the plain representation that parses from and emits into it.

/// Message type: single data message format (calling number delivery).
pub const TYPE_SDMF: u8 = 0x04;
/// Message type: multiple data message format (call set-up).
pub const TYPE_MDMF: u8 = 0x80;
/// MDMF parameter: date and time, `MMDDHHMM` in ASCII.
pub const PARAM_DATETIME: u8 = 0x01;
/// MDMF parameter: calling line number.
pub const PARAM_NUMBER: u8 = 0x02;
/// MDMF parameter: reason for absence of the number, `O` or `P`.
pub const PARAM_NUMBER_ABSENT: u8 = 0x04;
/// MDMF parameter: calling party name.
pub const PARAM_NAME: u8 = 0x07;
/// MDMF parameter: reason for absence of the name, `O` or `P`.
pub const PARAM_NAME_ABSENT: u8 = 0x08;
/// Longest number or name kept.
pub const MAX_TEXT: usize = 32;
/// Longest message on the wire (type, length, 255 data bytes, checksum).
pub const MAX_MESSAGE: usize = 258;

/// What is wrong with a caller-ID message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CallerIdError {
    #[error("message truncated: {have} bytes, header says {need}")]
    Truncated { have: usize, need: usize },
    #[error("checksum mismatch: computed {computed:#04x}, received {received:#04x}")]
    Checksum { computed: u8, received: u8 },
    #[error("unknown message type {0:#04x}")]
    UnknownType(u8),
    #[error("parameter {param:#04x} at offset {offset} overruns the message")]
    ParamOverrun { param: u8, offset: usize },
    #[error("date/time field is not 8 ASCII digits")]
    BadDateTime,
    #[error("field of {0} bytes exceeds {MAX_TEXT}")]
    FieldTooLong(usize),
    #[error("absence reason {0:#04x} is neither 'O' nor 'P'")]
    BadAbsence(u8),
    #[error("output buffer too small ({0} bytes)")]
    BufferTooSmall(usize),
    #[error("SDMF carries no name")]
    NameInSdmf,
}

/// Checksum over `bytes`: two's complement of their modulo-256 sum.
pub fn checksum(bytes: &[u8]) -> u8 {
    bytes
        .iter()
        .fold(0u8, |a, b| a.wrapping_add(*b))
        .wrapping_neg()
}

/// A checked view over a complete message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Message<'a> {
    bytes: &'a [u8],
}

impl<'a> Message<'a> {
    /// Checks the length and the checksum; nothing after this can fail on bounds.
    pub fn new_checked(bytes: &'a [u8]) -> Result<Message<'a>, CallerIdError> {
        if bytes.len() < 3 {
            return Err(CallerIdError::Truncated {
                have: bytes.len(),
                need: 3,
            });
        }
        let need = usize::from(bytes[1]) + 3;
        if bytes.len() < need {
            return Err(CallerIdError::Truncated {
                have: bytes.len(),
                need,
            });
        }
        let computed = checksum(&bytes[..need - 1]);
        if computed != bytes[need - 1] {
            return Err(CallerIdError::Checksum {
                computed,
                received: bytes[need - 1],
            });
        }
        Ok(Message {
            bytes: &bytes[..need],
        })
    }

    pub fn message_type(&self) -> u8 {
        self.bytes[0]
    }

    /// The data bytes between the length and the checksum.
    pub fn data(&self) -> &'a [u8] {
        &self.bytes[2..self.bytes.len() - 1]
    }

    /// The whole message including the checksum.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }
}

/// Why a number or name is absent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Absence {
    /// 'O': unavailable / out of area.
    Unavailable,
    /// 'P': private (presentation restricted).
    Private,
}

impl Absence {
    pub fn from_byte(b: u8) -> Result<Absence, CallerIdError> {
        match b {
            b'O' => Ok(Absence::Unavailable),
            b'P' => Ok(Absence::Private),
            _ => Err(CallerIdError::BadAbsence(b)),
        }
    }
    pub const fn as_byte(self) -> u8 {
        match self {
            Absence::Unavailable => b'O',
            Absence::Private => b'P',
        }
    }
}

/// Up to [`MAX_TEXT`] bytes of number or name.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Text {
    buf: [u8; MAX_TEXT],
    len: u8,
}

impl Text {
    pub fn new(bytes: &[u8]) -> Result<Text, CallerIdError> {
        if bytes.len() > MAX_TEXT {
            return Err(CallerIdError::FieldTooLong(bytes.len()));
        }
        let mut buf = [0; MAX_TEXT];
        buf[..bytes.len()].copy_from_slice(bytes);
        Ok(Text {
            buf,
            len: bytes.len() as u8,
        })
    }
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..usize::from(self.len)]
    }
}

impl core::fmt::Debug for Text {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(self.as_bytes()))
    }
}

/// A number or name, or the reason it is missing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    Present(Text),
    Absent(Absence),
}

/// Month, day, hour, minute (local time of the exchange).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DateTime {
    pub month: u8,
    pub day: u8,
    pub hour: u8,
    pub minute: u8,
}

impl DateTime {
    fn parse(b: &[u8]) -> Result<DateTime, CallerIdError> {
        if b.len() != 8 || !b.iter().all(u8::is_ascii_digit) {
            return Err(CallerIdError::BadDateTime);
        }
        let two = |i: usize| (b[i] - b'0') * 10 + (b[i + 1] - b'0');
        Ok(DateTime {
            month: two(0),
            day: two(2),
            hour: two(4),
            minute: two(6),
        })
    }
    fn emit(&self) -> [u8; 8] {
        let mut o = [0u8; 8];
        for (i, v) in [self.month, self.day, self.hour, self.minute]
            .iter()
            .enumerate()
        {
            o[2 * i] = b'0' + (v / 10) % 10;
            o[2 * i + 1] = b'0' + v % 10;
        }
        o
    }
}

/// Message format on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Sdmf,
    Mdmf,
}

/// A caller-ID message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CallerIdRepr {
    pub datetime: Option<DateTime>,
    pub number: Option<Field>,
    pub name: Option<Field>,
}

impl CallerIdRepr {
    /// Parses an SDMF or MDMF message; unknown MDMF parameters are skipped.
    pub fn parse(m: &Message<'_>) -> Result<(Format, CallerIdRepr), CallerIdError> {
        let d = m.data();
        let mut r = CallerIdRepr {
            datetime: None,
            number: None,
            name: None,
        };
        match m.message_type() {
            TYPE_SDMF => {
                if d.len() < 8 {
                    return Err(CallerIdError::BadDateTime);
                }
                r.datetime = Some(DateTime::parse(&d[..8])?);
                let rest = &d[8..];
                r.number = Some(match rest {
                    [b @ (b'O' | b'P')] => Field::Absent(Absence::from_byte(*b)?),
                    _ => Field::Present(Text::new(rest)?),
                });
                Ok((Format::Sdmf, r))
            }
            TYPE_MDMF => {
                let mut i = 0;
                while i < d.len() {
                    let param = d[i];
                    let len = d.get(i + 1).map(|l| usize::from(*l));
                    let body = len.and_then(|l| d.get(i + 2..i + 2 + l)).ok_or(
                        CallerIdError::ParamOverrun {
                            param,
                            offset: i + 2,
                        },
                    )?;
                    let absence = || match body {
                        [b] => Absence::from_byte(*b),
                        _ => Err(CallerIdError::BadAbsence(
                            body.first().copied().unwrap_or(0),
                        )),
                    };
                    match param {
                        PARAM_DATETIME => r.datetime = Some(DateTime::parse(body)?),
                        PARAM_NUMBER => r.number = Some(Field::Present(Text::new(body)?)),
                        PARAM_NUMBER_ABSENT => r.number = Some(Field::Absent(absence()?)),
                        PARAM_NAME => r.name = Some(Field::Present(Text::new(body)?)),
                        PARAM_NAME_ABSENT => r.name = Some(Field::Absent(absence()?)),
                        _ => {}
                    }
                    i += 2 + body.len();
                }
                Ok((Format::Mdmf, r))
            }
            t => Err(CallerIdError::UnknownType(t)),
        }
    }

    /// Writes the message (with checksum) into `buf`; returns its length.
    pub fn emit(&self, format: Format, buf: &mut [u8]) -> Result<usize, CallerIdError> {
        let mut w = Writer { buf, at: 2 };
        match format {
            Format::Sdmf => {
                if self.name.is_some() {
                    return Err(CallerIdError::NameInSdmf);
                }
                let dt = self.datetime.unwrap_or(DateTime {
                    month: 1,
                    day: 1,
                    hour: 0,
                    minute: 0,
                });
                w.put(&dt.emit())?;
                match &self.number {
                    Some(Field::Present(t)) => w.put(t.as_bytes())?,
                    Some(Field::Absent(a)) => w.put(&[a.as_byte()])?,
                    None => w.put(b"O")?,
                }
            }
            Format::Mdmf => {
                if let Some(dt) = self.datetime {
                    w.param(PARAM_DATETIME, &dt.emit())?;
                }
                match &self.number {
                    Some(Field::Present(t)) => w.param(PARAM_NUMBER, t.as_bytes())?,
                    Some(Field::Absent(a)) => w.param(PARAM_NUMBER_ABSENT, &[a.as_byte()])?,
                    None => {}
                }
                match &self.name {
                    Some(Field::Present(t)) => w.param(PARAM_NAME, t.as_bytes())?,
                    Some(Field::Absent(a)) => w.param(PARAM_NAME_ABSENT, &[a.as_byte()])?,
                    None => {}
                }
            }
        }
        let n = w.at;
        let buf = w.buf;
        if buf.len() < n + 1 || n - 2 > 255 {
            return Err(CallerIdError::BufferTooSmall(buf.len()));
        }
        buf[0] = match format {
            Format::Sdmf => TYPE_SDMF,
            Format::Mdmf => TYPE_MDMF,
        };
        buf[1] = (n - 2) as u8;
        buf[n] = checksum(&buf[..n]);
        Ok(n + 1)
    }
}

struct Writer<'b> {
    buf: &'b mut [u8],
    at: usize,
}

impl Writer<'_> {
    fn put(&mut self, b: &[u8]) -> Result<(), CallerIdError> {
        let end = self.at + b.len();
        let dst = self
            .buf
            .get_mut(self.at..end)
            .ok_or(CallerIdError::BufferTooSmall(end))?;
        dst.copy_from_slice(b);
        self.at = end;
        Ok(())
    }
    fn param(&mut self, p: u8, body: &[u8]) -> Result<(), CallerIdError> {
        self.put(&[p, body.len() as u8])?;
        self.put(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> CallerIdRepr {
        CallerIdRepr {
            datetime: Some(DateTime {
                month: 11,
                day: 24,
                hour: 16,
                minute: 5,
            }),
            number: Some(Field::Present(Text::new(b"0301234567").unwrap())),
            name: Some(Field::Present(Text::new(b"TIPRING TEST").unwrap())),
        }
    }

    #[test]
    fn mdmf_round_trip_and_checksum_sums_to_zero() {
        let mut buf = [0u8; MAX_MESSAGE];
        let n = sample().emit(Format::Mdmf, &mut buf).unwrap();
        assert_eq!(buf.iter().take(n).fold(0u8, |a, b| a.wrapping_add(*b)), 0);
        let m = Message::new_checked(&buf[..n]).unwrap();
        assert_eq!(CallerIdRepr::parse(&m).unwrap(), (Format::Mdmf, sample()));
    }

    #[test]
    fn sdmf_known_vector() {
        // GR-30 style example: 04 12 "01011200" "5551234567" checksum.
        let r = CallerIdRepr {
            datetime: Some(DateTime {
                month: 1,
                day: 1,
                hour: 12,
                minute: 0,
            }),
            number: Some(Field::Present(Text::new(b"5551234567").unwrap())),
            name: None,
        };
        let mut buf = [0u8; 64];
        let n = r.emit(Format::Sdmf, &mut buf).unwrap();
        assert_eq!(&buf[..2], &[0x04, 18]);
        assert_eq!(&buf[2..20], b"010112005551234567");
        let sum: u32 = buf[..20].iter().map(|&b| u32::from(b)).sum();
        assert_eq!(u32::from(buf[20]), (256 - sum % 256) % 256);
        assert_eq!(n, 21);
        let m = Message::new_checked(&buf[..n]).unwrap();
        assert_eq!(CallerIdRepr::parse(&m).unwrap(), (Format::Sdmf, r));
    }

    #[test]
    fn absence_reasons_both_formats() {
        for a in [Absence::Private, Absence::Unavailable] {
            let r = CallerIdRepr {
                datetime: Some(DateTime {
                    month: 2,
                    day: 3,
                    hour: 4,
                    minute: 5,
                }),
                number: Some(Field::Absent(a)),
                name: None,
            };
            let mut buf = [0u8; 64];
            for f in [Format::Sdmf, Format::Mdmf] {
                let n = r.emit(f, &mut buf).unwrap();
                let m = Message::new_checked(&buf[..n]).unwrap();
                assert_eq!(CallerIdRepr::parse(&m).unwrap(), (f, r));
            }
        }
    }

    #[test]
    fn malformed_input_gives_typed_errors() {
        let mut buf = [0u8; MAX_MESSAGE];
        let n = sample().emit(Format::Mdmf, &mut buf).unwrap();
        let mut bad = buf;
        bad[5] ^= 1;
        assert!(matches!(
            Message::new_checked(&bad[..n]),
            Err(CallerIdError::Checksum { .. })
        ));
        assert!(matches!(
            Message::new_checked(&buf[..n - 2]),
            Err(CallerIdError::Truncated { .. })
        ));
        // A parameter claiming more bytes than remain.
        let mut m = [TYPE_MDMF, 3, PARAM_NUMBER, 9, b'1', 0];
        m[5] = checksum(&m[..5]);
        let v = Message::new_checked(&m).unwrap();
        assert!(matches!(
            CallerIdRepr::parse(&v),
            Err(CallerIdError::ParamOverrun { .. })
        ));
        // Every truncation and every byte flip of a valid message is rejected or parsed,
        // never a panic.
        for i in 0..n {
            let _ = Message::new_checked(&buf[..i]).and_then(|m| CallerIdRepr::parse(&m));
            for bit in 0..8 {
                let mut b = buf;
                b[i] ^= 1 << bit;
                let _ = Message::new_checked(&b[..n]).and_then(|m| CallerIdRepr::parse(&m));
            }
        }
    }
}
