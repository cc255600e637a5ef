//! The telephone-event payload format (RFC 4733 §2.3): event, E bit, R bit, volume,
//! duration.

use super::EventError;

/// Length of one event in the payload (RFC 4733 §2.3).
pub const PAYLOAD_LEN: usize = 4;

/// An event code (RFC 4733 §3.2, Table 7 for DTMF; §3.3 for flash).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct EventCode(pub u8);

impl EventCode {
    /// Hook flash (RFC 4733 §3.3, event 16).
    pub const FLASH: EventCode = EventCode(16);

    /// The code for a DTMF key: `0`-`9`, `*`, `#`, `A`-`D` (RFC 4733 §3.2, events 0-15).
    pub fn from_key(key: char) -> Option<Self> {
        let code = match key.to_ascii_uppercase() {
            c @ '0'..='9' => c as u8 - b'0',
            '*' => 10,
            '#' => 11,
            c @ 'A'..='D' => c as u8 - b'A' + 12,
            _ => return None,
        };
        Some(EventCode(code))
    }

    /// The DTMF key of this code, if it is one (events 0-15).
    pub fn key(self) -> Option<char> {
        match self.0 {
            c @ 0..=9 => Some((b'0' + c) as char),
            10 => Some('*'),
            11 => Some('#'),
            c @ 12..=15 => Some((b'A' + c - 12) as char),
            _ => None,
        }
    }

    /// Whether this is the hook flash event.
    pub fn is_flash(self) -> bool {
        self == Self::FLASH
    }
}

/// A checked view of a telephone-event payload. Only the first event is read; RFC 4733
/// sends one event per packet outside RFC 2198 redundancy.
#[derive(Clone, Copy, Debug)]
pub struct TelephoneEventPacket<'a> {
    buf: &'a [u8],
}

impl<'a> TelephoneEventPacket<'a> {
    /// Validates that `buf` holds at least one event.
    pub fn new_checked(buf: &'a [u8]) -> Result<Self, EventError> {
        if buf.len() < PAYLOAD_LEN {
            return Err(EventError::Truncated(buf.len()));
        }
        Ok(TelephoneEventPacket { buf })
    }
    /// The event code (§2.3.1).
    pub fn event(&self) -> EventCode {
        EventCode(self.buf[0])
    }
    /// The E bit: this packet reports the end of the event (§2.3.2).
    pub fn end(&self) -> bool {
        self.buf[1] & 0x80 != 0
    }
    /// The reserved R bit (§2.3.3), ignored by receivers.
    pub fn reserved(&self) -> bool {
        self.buf[1] & 0x40 != 0
    }
    /// The power level, in dB below 0 dBm0 (§2.3.4).
    pub fn volume(&self) -> u8 {
        self.buf[1] & 0x3F
    }
    /// The duration so far, in timestamp units (§2.3.5).
    pub fn duration(&self) -> u16 {
        u16::from_be_bytes([self.buf[2], self.buf[3]])
    }
}

/// A plain representation of one telephone event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TelephoneEventRepr {
    /// The event.
    pub event: EventCode,
    /// The E bit.
    pub end: bool,
    /// Volume, 0..=63 dB below 0 dBm0.
    pub volume: u8,
    /// Duration in timestamp units.
    pub duration: u16,
}

impl TelephoneEventRepr {
    /// Reads the representation from a checked view (R is ignored, §2.3.3).
    pub fn parse(packet: &TelephoneEventPacket<'_>) -> Self {
        TelephoneEventRepr {
            event: packet.event(),
            end: packet.end(),
            volume: packet.volume(),
            duration: packet.duration(),
        }
    }

    /// Checks and parses in one step.
    pub fn parse_bytes(buf: &[u8]) -> Result<Self, EventError> {
        Ok(Self::parse(&TelephoneEventPacket::new_checked(buf)?))
    }

    /// Writes the 4-octet payload into `buf`, R cleared (§2.3.3).
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize, EventError> {
        if self.volume > 0x3F {
            return Err(EventError::Volume(self.volume));
        }
        if buf.len() < PAYLOAD_LEN {
            return Err(EventError::BufferTooSmall(buf.len()));
        }
        buf[0] = self.event.0;
        buf[1] = (u8::from(self.end) << 7) | self.volume;
        buf[2..4].copy_from_slice(&self.duration.to_be_bytes());
        Ok(PAYLOAD_LEN)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_flash_map_to_the_rfc_codes() {
        let keys = "0123456789*#ABCD";
        for (i, k) in keys.chars().enumerate() {
            let c = EventCode::from_key(k).unwrap();
            assert_eq!(c.0 as usize, i);
            assert_eq!(c.key(), Some(k));
        }
        assert_eq!(EventCode::from_key('x'), None);
        assert_eq!(EventCode::FLASH.key(), None);
        assert!(EventCode(16).is_flash());
    }

    #[test]
    fn known_bytes_parse_and_emit_back() {
        // Digit 5, end, R set, volume 10, duration 1600.
        let bytes = [5, 0x80 | 0x40 | 10, 0x06, 0x40];
        let p = TelephoneEventPacket::new_checked(&bytes).unwrap();
        assert!(p.reserved());
        let r = TelephoneEventRepr::parse(&p);
        assert_eq!(
            r,
            TelephoneEventRepr {
                event: EventCode(5),
                end: true,
                volume: 10,
                duration: 1600
            }
        );
        let mut out = [0u8; 4];
        r.emit(&mut out).unwrap();
        assert_eq!(out, [5, 0x80 | 10, 0x06, 0x40]);
    }

    #[test]
    fn malformed_input_is_a_typed_error() {
        assert_eq!(
            TelephoneEventRepr::parse_bytes(&[1, 2, 3]),
            Err(EventError::Truncated(3))
        );
        let r = TelephoneEventRepr {
            event: EventCode(1),
            end: false,
            volume: 64,
            duration: 0,
        };
        assert_eq!(r.emit(&mut [0; 4]), Err(EventError::Volume(64)));
    }
}
