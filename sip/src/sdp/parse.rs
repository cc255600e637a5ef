//! The SDP parser (RFC 8866 §5, §9): line by line, borrowing from the body.
//!
//! Lenient where RFC 8866 §5 lets a receiver be (bare LF line ends, empty lines, missing
//! `t=`, empty `s=` as in RFC 5118 mult-ip-in-sdp); strict on the fields a gateway acts on.

use super::SdpError;
use super::session::{
    AddrType, Attribute, Connection, Direction, Line, Media, Origin, Rtpmap, SessionDescription,
    is_rtp_proto,
};
use std::borrow::Cow;
use std::net::{Ipv4Addr, Ipv6Addr};

type Res<T> = Result<T, SdpError>;

fn err(line: usize, field: &'static str, reason: &'static str) -> SdpError {
    SdpError {
        line,
        field,
        reason,
    }
}

impl<'a> SessionDescription<'a> {
    /// Parse a session description, borrowing from `body`.
    pub fn parse(body: &'a [u8]) -> Result<SessionDescription<'a>, SdpError> {
        let text = match std::str::from_utf8(body) {
            Ok(t) => t,
            Err(e) => {
                let line = 1 + body[..e.valid_up_to()]
                    .iter()
                    .filter(|&&b| b == b'\n')
                    .count();
                return Err(err(line, "line", "not valid UTF-8"));
            }
        };
        let end = text.split('\n').count() + 1;
        let mut lines = text
            .split('\n')
            .enumerate()
            .map(|(k, l)| (k + 1, l.strip_suffix('\r').unwrap_or(l)))
            .filter(|(_, l)| !l.is_empty())
            .peekable();
        let mut next = |want: char, field: &'static str| -> Res<(usize, &'a str)> {
            match lines.next() {
                Some((n, l)) => {
                    let (kind, value) = split_line(n, l)?;
                    if kind != want {
                        return Err(err(n, field, "line out of order"));
                    }
                    Ok((n, value))
                }
                None => Err(err(end, field, "missing")),
            }
        };
        let (n, v) = next('v', "v=")?;
        if v != "0" {
            return Err(err(n, "v=", "version is not 0"));
        }
        let (n, o) = next('o', "o=")?;
        let origin = origin(n, o)?;
        let (_, name) = next('s', "s=")?;
        let mut sd = SessionDescription {
            origin,
            name: Cow::Borrowed(name),
            connection: None,
            times: Vec::new(),
            attributes: Vec::new(),
            other: Vec::new(),
            media: Vec::new(),
        };
        for (n, l) in lines {
            let (kind, value) = split_line(n, l)?;
            if kind == 'm' {
                sd.media.push(media(n, value)?);
                continue;
            }
            match sd.media.last_mut() {
                None => session_line(&mut sd, n, kind, value)?,
                Some(m) => media_line(m, n, kind, value)?,
            }
        }
        Ok(sd)
    }
}

fn split_line(n: usize, l: &str) -> Res<(char, &str)> {
    let b = l.as_bytes();
    if b.len() < 2 || b[1] != b'=' || !b[0].is_ascii_lowercase() {
        return Err(err(n, "line", "not of the form <type>=<value>"));
    }
    Ok((char::from(b[0]), &l[2..]))
}

fn session_line<'a>(sd: &mut SessionDescription<'a>, n: usize, k: char, v: &'a str) -> Res<()> {
    match k {
        'c' => {
            if sd.connection.is_some() {
                return Err(err(n, "c=", "more than one session-level c="));
            }
            sd.connection = Some(connection(n, "c=", v)?);
        }
        't' => {
            let mut f = v.split(' ');
            let start = number(n, "t= start-time", f.next())?;
            let stop = number(n, "t= stop-time", f.next())?;
            if f.next().is_some() {
                return Err(err(n, "t=", "extra fields"));
            }
            sd.times.push((start, stop));
        }
        'a' => sd.attributes.push(attribute(n, v)?),
        'v' | 'o' | 's' => return Err(err(n, "line", "repeated v=, o= or s=")),
        _ => sd.other.push(Line {
            kind: k,
            value: Cow::Borrowed(v),
        }),
    }
    Ok(())
}

fn media_line<'a>(m: &mut Media<'a>, n: usize, k: char, v: &'a str) -> Res<()> {
    match k {
        'c' => {
            if m.connection.is_some() {
                return Err(err(n, "c=", "more than one c= in a media description"));
            }
            m.connection = Some(connection(n, "c=", v)?);
        }
        'a' => m.attributes.push(attribute(n, v)?),
        'v' | 'o' | 's' | 't' | 'r' | 'z' | 'e' | 'p' | 'u' => {
            return Err(err(
                n,
                "line",
                "session-level line inside a media description",
            ));
        }
        _ => m.other.push(Line {
            kind: k,
            value: Cow::Borrowed(v),
        }),
    }
    Ok(())
}

fn number<T: std::str::FromStr>(n: usize, field: &'static str, s: Option<&str>) -> Res<T> {
    let s = s.ok_or(err(n, field, "missing"))?;
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(err(n, field, "not a decimal number"));
    }
    s.parse().map_err(|_| err(n, field, "number out of range"))
}

fn word<'a>(n: usize, field: &'static str, s: Option<&'a str>) -> Res<&'a str> {
    match s {
        Some(w) if !w.is_empty() => Ok(w),
        _ => Err(err(n, field, "missing")),
    }
}

/// `o=` (RFC 8866 §5.2).
fn origin(n: usize, v: &str) -> Res<Origin<'_>> {
    let mut f = v.splitn(4, ' ');
    let username = word(n, "o= username", f.next())?;
    let session_id = word(n, "o= sess-id", f.next())?;
    if !session_id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(err(n, "o= sess-id", "not a decimal number"));
    }
    let session_version = number(n, "o= sess-version", f.next())?;
    let rest = f.next().ok_or(err(n, "o= nettype", "missing"))?;
    Ok(Origin {
        username: Cow::Borrowed(username),
        session_id: Cow::Borrowed(session_id),
        session_version,
        connection: connection(n, "o= address", rest)?,
    })
}

/// `IN <addrtype> <address>` of `c=`, `o=` and `a=rtcp` (RFC 8866 §5.7).
fn connection<'a>(n: usize, field: &'static str, v: &'a str) -> Res<Connection<'a>> {
    let mut f = v.split(' ');
    if f.next() != Some("IN") {
        return Err(err(n, field, "network type is not IN"));
    }
    let addr_type = match f.next() {
        Some("IP4") => AddrType::Ip4,
        Some("IP6") => AddrType::Ip6,
        _ => return Err(err(n, field, "address type is not IP4 or IP6")),
    };
    let address = word(n, field, f.next())?;
    if f.next().is_some() {
        return Err(err(n, field, "extra fields"));
    }
    let host = address.split('/').next().unwrap_or("");
    let literal_ok = match addr_type {
        AddrType::Ip4 if host.bytes().all(|b| b.is_ascii_digit() || b == b'.') => {
            host.parse::<Ipv4Addr>().is_ok()
        }
        AddrType::Ip6 if host.contains(':') => host.parse::<Ipv6Addr>().is_ok(),
        _ => {
            !host.is_empty()
                && host
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
        }
    };
    if !literal_ok {
        return Err(err(n, field, "malformed address"));
    }
    Ok(Connection {
        addr_type,
        address: Cow::Borrowed(address),
    })
}

/// `m=<media> <port>[/<n>] <proto> <fmt> ...` (RFC 8866 §5.14).
fn media(n: usize, v: &str) -> Res<Media<'_>> {
    let mut f = v.split(' ');
    let kind = word(n, "m= media", f.next())?;
    let port = word(n, "m= port", f.next())?;
    let (port, port_count) = match port.split_once('/') {
        Some((p, c)) => (p, Some(number(n, "m= port count", Some(c))?)),
        None => (port, None),
    };
    let port = number(n, "m= port", Some(port))?;
    let proto = word(n, "m= proto", f.next())?;
    let formats: Vec<Cow<'_, str>> = f.map(Cow::Borrowed).collect();
    if formats.is_empty() || formats.iter().any(|f| f.is_empty()) {
        return Err(err(n, "m= fmt", "missing or empty format"));
    }
    if is_rtp_proto(proto) {
        for f in &formats {
            let pt: u8 = number(n, "m= fmt", Some(f))?;
            if pt > 127 {
                return Err(err(n, "m= fmt", "RTP payload type above 127"));
            }
        }
    }
    Ok(Media {
        media: Cow::Borrowed(kind),
        port,
        port_count,
        proto: Cow::Borrowed(proto),
        formats,
        connection: None,
        attributes: Vec::new(),
        other: Vec::new(),
    })
}

fn payload_type(n: usize, field: &'static str, s: Option<&str>) -> Res<u8> {
    let pt: u8 = number(n, field, s)?;
    if pt > 127 {
        return Err(err(n, field, "RTP payload type above 127"));
    }
    Ok(pt)
}

/// `a=<name>[:<value>]` (RFC 8866 §5.13, §6).
fn attribute(n: usize, v: &str) -> Res<Attribute<'_>> {
    let (name, value) = match v.split_once(':') {
        Some((a, b)) => (a, Some(b)),
        None => (v, None),
    };
    if name.is_empty() || name.contains(' ') {
        return Err(err(n, "a= name", "empty or contains a space"));
    }
    if let Some(d) = Direction::from_name(name) {
        return Ok(Attribute::Direction(d));
    }
    Ok(match (name, value) {
        ("rtpmap", Some(v)) => {
            let (pt, rest) = v
                .split_once(' ')
                .ok_or(err(n, "a=rtpmap", "missing encoding"))?;
            let payload_type = payload_type(n, "a=rtpmap payload type", Some(pt))?;
            let mut f = rest.split('/');
            let encoding = word(n, "a=rtpmap encoding name", f.next())?;
            let clock_rate = number(n, "a=rtpmap clock rate", f.next())?;
            let channels = match f.next() {
                Some(c) => Some(number(n, "a=rtpmap channels", Some(c))?),
                None => None,
            };
            if f.next().is_some() {
                return Err(err(n, "a=rtpmap", "extra fields"));
            }
            Attribute::Rtpmap(Rtpmap {
                payload_type,
                encoding: Cow::Borrowed(encoding),
                clock_rate,
                channels,
            })
        }
        ("fmtp", Some(v)) => {
            let (pt, params) = v.split_once(' ').unwrap_or((v, ""));
            Attribute::Fmtp {
                payload_type: payload_type(n, "a=fmtp payload type", Some(pt))?,
                params: Cow::Borrowed(params),
            }
        }
        ("ptime", Some(v)) => Attribute::Ptime(number(n, "a=ptime", Some(v.trim()))?),
        ("maxptime", Some(v)) => Attribute::MaxPtime(number(n, "a=maxptime", Some(v.trim()))?),
        ("rtcp", Some(v)) => {
            let (port, addr) = match v.split_once(' ') {
                Some((p, a)) => (p, Some(connection(n, "a=rtcp address", a)?)),
                None => (v, None),
            };
            Attribute::Rtcp {
                port: number(n, "a=rtcp port", Some(port))?,
                connection: addr,
            }
        }
        ("rtpmap" | "fmtp" | "ptime" | "maxptime" | "rtcp", None) => {
            return Err(err(n, "a= value", "attribute needs a value"));
        }
        _ => Attribute::Other {
            name: Cow::Borrowed(name),
            value: value.map(Cow::Borrowed),
        },
    })
}
