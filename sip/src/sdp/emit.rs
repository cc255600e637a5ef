//! Writing a session description (RFC 8866 §5: fixed line order, CRLF line ends).

use super::session::{Attribute, Connection, Line, Media, SessionDescription};
use std::fmt;

/// Write the verbatim lines whose type letter is in `kinds` (RFC 8866 §5 line order).
fn other_lines(f: &mut fmt::Formatter<'_>, other: &[Line<'_>], kinds: &str) -> fmt::Result {
    for l in other.iter().filter(|l| kinds.contains(l.kind)) {
        write!(f, "{}={}\r\n", l.kind, l.value)?;
    }
    Ok(())
}

impl fmt::Display for Connection<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IN {} {}", self.addr_type.as_str(), self.address)
    }
}

impl fmt::Display for Attribute<'_> {
    /// The value after `a=`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Attribute::Rtpmap(r) => {
                write!(
                    f,
                    "rtpmap:{} {}/{}",
                    r.payload_type, r.encoding, r.clock_rate
                )?;
                if let Some(c) = r.channels {
                    write!(f, "/{c}")?;
                }
                Ok(())
            }
            Attribute::Fmtp {
                payload_type,
                params,
            } => write!(f, "fmtp:{payload_type} {params}"),
            Attribute::Ptime(p) => write!(f, "ptime:{p}"),
            Attribute::MaxPtime(p) => write!(f, "maxptime:{p}"),
            Attribute::Direction(d) => f.write_str(d.as_str()),
            Attribute::Rtcp { port, connection } => {
                write!(f, "rtcp:{port}")?;
                if let Some(c) = connection {
                    write!(f, " {c}")?;
                }
                Ok(())
            }
            Attribute::Other { name, value } => {
                f.write_str(name)?;
                if let Some(v) = value {
                    write!(f, ":{v}")?;
                }
                Ok(())
            }
        }
    }
}

impl fmt::Display for Media<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "m={} {}", self.media, self.port)?;
        if let Some(c) = self.port_count {
            write!(f, "/{c}")?;
        }
        write!(f, " {}", self.proto)?;
        for fmt in &self.formats {
            write!(f, " {fmt}")?;
        }
        f.write_str("\r\n")?;
        other_lines(f, &self.other, "i")?;
        if let Some(c) = &self.connection {
            write!(f, "c={c}\r\n")?;
        }
        let typed = "ibcamvostrzepu";
        other_lines(f, &self.other, "bk")?;
        for l in self.other.iter().filter(|l| !typed.contains(l.kind)) {
            write!(f, "{}={}\r\n", l.kind, l.value)?;
        }
        for a in &self.attributes {
            write!(f, "a={a}\r\n")?;
        }
        Ok(())
    }
}

impl fmt::Display for SessionDescription<'_> {
    /// The whole body, every line ended by CRLF.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let o = &self.origin;
        write!(
            f,
            "v=0\r\no={} {} {} {}\r\ns={}\r\n",
            o.username, o.session_id, o.session_version, o.connection, self.name
        )?;
        other_lines(f, &self.other, "iuep")?;
        if let Some(c) = &self.connection {
            write!(f, "c={c}\r\n")?;
        }
        other_lines(f, &self.other, "b")?;
        if self.times.is_empty() {
            f.write_str("t=0 0\r\n")?;
        }
        for (start, stop) in &self.times {
            write!(f, "t={start} {stop}\r\n")?;
        }
        other_lines(f, &self.other, "rzk")?;
        let typed = "iuepbrzkcamvost";
        for l in self.other.iter().filter(|l| !typed.contains(l.kind)) {
            write!(f, "{}={}\r\n", l.kind, l.value)?;
        }
        for a in &self.attributes {
            write!(f, "a={a}\r\n")?;
        }
        for m in &self.media {
            write!(f, "{m}")?;
        }
        Ok(())
    }
}

impl SessionDescription<'_> {
    /// The body as bytes (for a SIP message body).
    pub fn to_bytes(&self) -> Vec<u8> {
        self.to_string().into_bytes()
    }
}
