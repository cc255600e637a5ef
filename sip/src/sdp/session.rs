//! The session description model (RFC 8866 §5). Fields are `Cow` so one type serves both
//! the zero-copy parser (borrowed) and the builder (owned, `'static`).

use super::events::EventSet;
use std::borrow::Cow;
use std::net::IpAddr;

/// `<addrtype>` of `c=` and `o=` (RFC 8866 §5.7); only `IN` is a network type we accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddrType {
    /// `IP4`.
    Ip4,
    /// `IP6` (RFC 5118 §4.5, ipv6-in-sdp).
    Ip6,
}

impl AddrType {
    /// The token on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            AddrType::Ip4 => "IP4",
            AddrType::Ip6 => "IP6",
        }
    }

    /// The type of an address.
    pub fn of(ip: IpAddr) -> AddrType {
        match ip {
            IpAddr::V4(_) => AddrType::Ip4,
            IpAddr::V6(_) => AddrType::Ip6,
        }
    }
}

/// `c=IN <addrtype> <connection-address>` (RFC 8866 §5.7). The address may be a literal,
/// a multicast address with `/ttl`, or an FQDN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection<'a> {
    /// `IP4` or `IP6`.
    pub addr_type: AddrType,
    /// The address text as on the wire.
    pub address: Cow<'a, str>,
}

impl Connection<'_> {
    /// The connection for a literal address.
    pub fn ip(ip: IpAddr) -> Connection<'static> {
        Connection {
            addr_type: AddrType::of(ip),
            address: Cow::Owned(ip.to_string()),
        }
    }

    /// The address as an IP literal (a multicast `/ttl` suffix ignored); `None` for an FQDN.
    pub fn ip_addr(&self) -> Option<IpAddr> {
        let a = self.address.split('/').next().unwrap_or("");
        a.parse().ok()
    }

    /// `c=IN IP4 0.0.0.0`: the RFC 2543 way of putting a call on hold (RFC 3264 §8.4).
    pub fn is_unspecified(&self) -> bool {
        self.ip_addr().is_some_and(|ip| ip.is_unspecified())
    }

    /// The same value with owned strings.
    pub fn into_owned(self) -> Connection<'static> {
        Connection {
            addr_type: self.addr_type,
            address: Cow::Owned(self.address.into_owned()),
        }
    }
}

/// `o=<username> <sess-id> <sess-version> IN <addrtype> <unicast-address>` (RFC 8866 §5.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin<'a> {
    /// `<username>` (`-` when there is none).
    pub username: Cow<'a, str>,
    /// `<sess-id>`: digits, kept as text since RFC 8866 sets no length limit.
    pub session_id: Cow<'a, str>,
    /// `<sess-version>`: incremented on each change (RFC 3264 §8).
    pub session_version: u64,
    /// The originator's address.
    pub connection: Connection<'a>,
}

/// Media direction attributes (RFC 3264 §5.1, §6.1): from the point of view of the side
/// that wrote them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// `a=sendrecv` (the default).
    SendRecv,
    /// `a=sendonly`.
    SendOnly,
    /// `a=recvonly`.
    RecvOnly,
    /// `a=inactive`.
    Inactive,
}

impl Direction {
    /// The attribute name.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::SendRecv => "sendrecv",
            Direction::SendOnly => "sendonly",
            Direction::RecvOnly => "recvonly",
            Direction::Inactive => "inactive",
        }
    }

    /// Parse an attribute name.
    pub fn from_name(s: &str) -> Option<Direction> {
        [
            Direction::SendRecv,
            Direction::SendOnly,
            Direction::RecvOnly,
            Direction::Inactive,
        ]
        .into_iter()
        .find(|d| d.as_str() == s)
    }

    /// Built from its two halves.
    pub fn from_flags(send: bool, recv: bool) -> Direction {
        match (send, recv) {
            (true, true) => Direction::SendRecv,
            (true, false) => Direction::SendOnly,
            (false, true) => Direction::RecvOnly,
            (false, false) => Direction::Inactive,
        }
    }

    /// Whether this side sends.
    pub fn sends(self) -> bool {
        matches!(self, Direction::SendRecv | Direction::SendOnly)
    }

    /// Whether this side receives.
    pub fn receives(self) -> bool {
        matches!(self, Direction::SendRecv | Direction::RecvOnly)
    }

    /// The same stream seen from the other side (sendonly <-> recvonly).
    pub fn reversed(self) -> Direction {
        Direction::from_flags(self.receives(), self.sends())
    }

    /// What both allow.
    pub fn intersect(self, o: Direction) -> Direction {
        Direction::from_flags(self.sends() && o.sends(), self.receives() && o.receives())
    }
}

/// `a=rtpmap:<payload type> <encoding name>/<clock rate>[/<channels>]` (RFC 8866 §6.6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rtpmap<'a> {
    /// RTP payload type, 0..=127.
    pub payload_type: u8,
    /// Encoding name, e.g. `PCMU` (case-insensitive).
    pub encoding: Cow<'a, str>,
    /// Clock rate in Hz.
    pub clock_rate: u32,
    /// Channel count, when given.
    pub channels: Option<u16>,
}

/// An `a=` line (RFC 8866 §5.13, §6). The ones a G.711 gateway acts on are typed; the rest
/// are kept as [`Attribute::Other`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attribute<'a> {
    /// `a=rtpmap` (RFC 8866 §6.6).
    Rtpmap(Rtpmap<'a>),
    /// `a=fmtp:<payload type> <params>` (RFC 8866 §6.15).
    Fmtp {
        /// Payload type.
        payload_type: u8,
        /// Format-specific parameters, e.g. `0-16` for telephone-event (RFC 4733 §2.4.1).
        params: Cow<'a, str>,
    },
    /// `a=ptime:<ms>` (RFC 8866 §6.4).
    Ptime(u32),
    /// `a=maxptime:<ms>` (RFC 8866 §6.5).
    MaxPtime(u32),
    /// `a=sendrecv|sendonly|recvonly|inactive` (RFC 8866 §6.7).
    Direction(Direction),
    /// `a=rtcp:<port> [IN <addrtype> <address>]` (RFC 3605).
    Rtcp {
        /// RTCP port.
        port: u16,
        /// RTCP address, when different from `c=`.
        connection: Option<Connection<'a>>,
    },
    /// Any other attribute, kept verbatim.
    Other {
        /// Attribute name.
        name: Cow<'a, str>,
        /// Value after the `:`, if any.
        value: Option<Cow<'a, str>>,
    },
}

impl Attribute<'_> {
    /// The same value with owned strings.
    pub fn into_owned(self) -> Attribute<'static> {
        match self {
            Attribute::Rtpmap(r) => Attribute::Rtpmap(Rtpmap {
                payload_type: r.payload_type,
                encoding: Cow::Owned(r.encoding.into_owned()),
                clock_rate: r.clock_rate,
                channels: r.channels,
            }),
            Attribute::Fmtp {
                payload_type,
                params,
            } => Attribute::Fmtp {
                payload_type,
                params: Cow::Owned(params.into_owned()),
            },
            Attribute::Ptime(p) => Attribute::Ptime(p),
            Attribute::MaxPtime(p) => Attribute::MaxPtime(p),
            Attribute::Direction(d) => Attribute::Direction(d),
            Attribute::Rtcp { port, connection } => Attribute::Rtcp {
                port,
                connection: connection.map(Connection::into_owned),
            },
            Attribute::Other { name, value } => Attribute::Other {
                name: Cow::Owned(name.into_owned()),
                value: value.map(|v| Cow::Owned(v.into_owned())),
            },
        }
    }
}

/// Any other `<type>=<value>` line (`i=`, `u=`, `e=`, `p=`, `b=`, `z=`, `k=`, `r=`, or an
/// unknown letter), kept verbatim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line<'a> {
    /// The type letter.
    pub kind: char,
    /// Everything after `=`.
    pub value: Cow<'a, str>,
}

impl Line<'_> {
    /// The same value with owned strings.
    pub fn into_owned(self) -> Line<'static> {
        Line {
            kind: self.kind,
            value: Cow::Owned(self.value.into_owned()),
        }
    }
}

/// One media description: `m=` and the lines up to the next `m=` (RFC 8866 §5.14).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Media<'a> {
    /// `<media>`: `audio`, `video`, ...
    pub media: Cow<'a, str>,
    /// `<port>`; 0 rejects or disables the stream (RFC 3264 §5.1, §6).
    pub port: u16,
    /// The `/<number of ports>` suffix, when given.
    pub port_count: Option<u16>,
    /// `<proto>`, e.g. `RTP/AVP`.
    pub proto: Cow<'a, str>,
    /// `<fmt>` list: payload type numbers for RTP profiles.
    pub formats: Vec<Cow<'a, str>>,
    /// Media-level `c=`.
    pub connection: Option<Connection<'a>>,
    /// Media-level `a=` lines in order.
    pub attributes: Vec<Attribute<'a>>,
    /// Media-level `i=`, `b=`, `k=` lines.
    pub other: Vec<Line<'a>>,
}

impl<'a> Media<'a> {
    /// An `m=audio <port> RTP/AVP <pts>` with no attributes.
    pub fn audio(port: u16, payload_types: &[u8]) -> Media<'static> {
        Media {
            media: Cow::Borrowed("audio"),
            port,
            port_count: None,
            proto: Cow::Borrowed("RTP/AVP"),
            formats: payload_types
                .iter()
                .map(|p| Cow::Owned(p.to_string()))
                .collect(),
            connection: None,
            attributes: Vec::new(),
            other: Vec::new(),
        }
    }

    /// Whether the transport is an RTP profile (`RTP/AVP`, `RTP/SAVP`, `UDP/TLS/RTP/SAVPF`...).
    pub fn is_rtp(&self) -> bool {
        is_rtp_proto(&self.proto)
    }

    /// The `<fmt>` list as payload type numbers (formats that are not numbers skipped).
    pub fn payload_types(&self) -> impl Iterator<Item = u8> + '_ {
        self.formats.iter().filter_map(|f| f.parse().ok())
    }

    /// The `a=rtpmap` for a payload type.
    pub fn rtpmap(&self, pt: u8) -> Option<&Rtpmap<'a>> {
        self.attributes.iter().find_map(|a| match a {
            Attribute::Rtpmap(r) if r.payload_type == pt => Some(r),
            _ => None,
        })
    }

    /// The `a=fmtp` parameters for a payload type.
    pub fn fmtp(&self, pt: u8) -> Option<&str> {
        self.attributes.iter().find_map(|a| match a {
            Attribute::Fmtp {
                payload_type,
                params,
            } if *payload_type == pt => Some(params.as_ref()),
            _ => None,
        })
    }

    /// The telephone-event events offered for a payload type: its `a=fmtp`, or 0-15 when
    /// there is none (RFC 4733 §2.4.1). `None` if the fmtp does not parse.
    pub fn telephone_events(&self, pt: u8) -> Option<EventSet> {
        match self.fmtp(pt) {
            Some(p) => p.parse().ok(),
            None => Some(EventSet::range(0, 15)),
        }
    }

    /// `a=ptime`.
    pub fn ptime(&self) -> Option<u32> {
        self.attributes.iter().find_map(|a| match a {
            Attribute::Ptime(p) => Some(*p),
            _ => None,
        })
    }

    /// `a=maxptime`.
    pub fn max_ptime(&self) -> Option<u32> {
        self.attributes.iter().find_map(|a| match a {
            Attribute::MaxPtime(p) => Some(*p),
            _ => None,
        })
    }

    /// The media-level direction attribute, if present.
    pub fn direction(&self) -> Option<Direction> {
        direction_of(&self.attributes)
    }

    /// `a=rtcp`: port and optional address.
    pub fn rtcp(&self) -> Option<(u16, Option<&Connection<'a>>)> {
        self.attributes.iter().find_map(|a| match a {
            Attribute::Rtcp { port, connection } => Some((*port, connection.as_ref())),
            _ => None,
        })
    }

    /// The same value with owned strings.
    pub fn into_owned(self) -> Media<'static> {
        Media {
            media: Cow::Owned(self.media.into_owned()),
            port: self.port,
            port_count: self.port_count,
            proto: Cow::Owned(self.proto.into_owned()),
            formats: self
                .formats
                .into_iter()
                .map(|f| Cow::Owned(f.into_owned()))
                .collect(),
            connection: self.connection.map(Connection::into_owned),
            attributes: self
                .attributes
                .into_iter()
                .map(Attribute::into_owned)
                .collect(),
            other: self.other.into_iter().map(Line::into_owned).collect(),
        }
    }
}

pub(super) fn is_rtp_proto(p: &str) -> bool {
    p.split('/').any(|s| s == "RTP")
}

fn direction_of(attrs: &[Attribute<'_>]) -> Option<Direction> {
    attrs.iter().find_map(|a| match a {
        Attribute::Direction(d) => Some(*d),
        _ => None,
    })
}

/// A whole session description (RFC 8866 §5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionDescription<'a> {
    /// `o=`.
    pub origin: Origin<'a>,
    /// `s=` (RFC 3264 §5 suggests `-`).
    pub name: Cow<'a, str>,
    /// Session-level `c=`.
    pub connection: Option<Connection<'a>>,
    /// `t=<start> <stop>` lines; `t=0 0` is emitted when empty.
    pub times: Vec<(u64, u64)>,
    /// Session-level `a=` lines in order.
    pub attributes: Vec<Attribute<'a>>,
    /// Other session-level lines (`i=`, `u=`, `e=`, `p=`, `b=`, `r=`, `z=`, `k=`).
    pub other: Vec<Line<'a>>,
    /// Media descriptions in order.
    pub media: Vec<Media<'a>>,
}

impl<'a> SessionDescription<'a> {
    /// The session-level direction attribute, if present.
    pub fn direction(&self) -> Option<Direction> {
        direction_of(&self.attributes)
    }

    /// The direction in force for a media description: its own attribute, else the
    /// session's, else sendrecv (RFC 8866 §6.7).
    pub fn media_direction(&self, m: &Media<'_>) -> Direction {
        m.direction()
            .or(self.direction())
            .unwrap_or(Direction::SendRecv)
    }

    /// The `c=` in force for a media description: its own, else the session's.
    pub fn media_connection<'s>(&'s self, m: &'s Media<'a>) -> Option<&'s Connection<'a>> {
        m.connection.as_ref().or(self.connection.as_ref())
    }

    /// The same value with owned strings.
    pub fn into_owned(self) -> SessionDescription<'static> {
        SessionDescription {
            origin: Origin {
                username: Cow::Owned(self.origin.username.into_owned()),
                session_id: Cow::Owned(self.origin.session_id.into_owned()),
                session_version: self.origin.session_version,
                connection: self.origin.connection.into_owned(),
            },
            name: Cow::Owned(self.name.into_owned()),
            connection: self.connection.map(Connection::into_owned),
            times: self.times,
            attributes: self
                .attributes
                .into_iter()
                .map(Attribute::into_owned)
                .collect(),
            other: self.other.into_iter().map(Line::into_owned).collect(),
            media: self.media.into_iter().map(Media::into_owned).collect(),
        }
    }
}
