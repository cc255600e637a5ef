//! The STUN Binding transaction (RFC 8489) a box behind a NAT uses to learn where its RTP
//! port is reached from outside: a Binding request (a 20-byte header, no attribute) from
//! the RTP socket, and the server's success response carrying the reflexive transport
//! address in XOR-MAPPED-ADDRESS (§14.2), or MAPPED-ADDRESS (§14.1) from an RFC 3489
//! server. Sans-IO: whoever owns the socket sends and receives.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// The magic cookie of every RFC 5389/8489 message (§5).
pub const MAGIC_COOKIE: u32 = 0x2112_A442;

const BINDING_REQUEST: u16 = 0x0001;
const BINDING_SUCCESS: u16 = 0x0101;
const BINDING_ERROR: u16 = 0x0111;
const MAPPED_ADDRESS: u16 = 0x0001;
const XOR_MAPPED_ADDRESS: u16 = 0x0020;
const HEADER: usize = 20;

/// Why a datagram is not the answer to our Binding request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum StunError {
    #[error("not a STUN message")]
    NotStun,
    #[error("the answer to another transaction")]
    OtherTransaction,
    #[error("the server refused the request (error response)")]
    Refused,
    #[error("truncated or malformed attribute")]
    Malformed,
    #[error("no mapped address in the response")]
    NoAddress,
}

/// A Binding request with transaction id `id` (96 random bits, §6).
pub fn binding_request(id: [u8; 12]) -> [u8; HEADER] {
    let mut m = [0u8; HEADER];
    m[0..2].copy_from_slice(&BINDING_REQUEST.to_be_bytes());
    // Message length 0: no attributes.
    m[4..8].copy_from_slice(&MAGIC_COOKIE.to_be_bytes());
    m[8..20].copy_from_slice(&id);
    m
}

/// The reflexive address in `msg`, the success response to the request with `id`.
pub fn parse_binding_response(msg: &[u8], id: [u8; 12]) -> Result<SocketAddr, StunError> {
    if msg.len() < HEADER || msg[0] & 0xC0 != 0 {
        return Err(StunError::NotStun);
    }
    let kind = u16::from_be_bytes([msg[0], msg[1]]);
    let len = usize::from(u16::from_be_bytes([msg[2], msg[3]]));
    let cookie = u32::from_be_bytes([msg[4], msg[5], msg[6], msg[7]]);
    if cookie != MAGIC_COOKIE || len % 4 != 0 || HEADER + len > msg.len() {
        return Err(StunError::NotStun);
    }
    if msg[8..20] != id {
        return Err(StunError::OtherTransaction);
    }
    match kind {
        BINDING_SUCCESS => {}
        BINDING_ERROR => return Err(StunError::Refused),
        _ => return Err(StunError::NotStun),
    }
    let mut attrs = &msg[HEADER..HEADER + len];
    let mut plain = None;
    while !attrs.is_empty() {
        if attrs.len() < 4 {
            return Err(StunError::Malformed);
        }
        let t = u16::from_be_bytes([attrs[0], attrs[1]]);
        let l = usize::from(u16::from_be_bytes([attrs[2], attrs[3]]));
        // Attributes are padded to four bytes (§14).
        let padded = l.div_ceil(4) * 4;
        if attrs.len() < 4 + padded {
            return Err(StunError::Malformed);
        }
        let value = &attrs[4..4 + l];
        match t {
            XOR_MAPPED_ADDRESS => return address(value, Some(&msg[4..20])),
            MAPPED_ADDRESS => plain = Some(address(value, None)?),
            _ => {}
        }
        attrs = &attrs[4 + padded..];
    }
    plain.ok_or(StunError::NoAddress)
}

/// A (XOR-)MAPPED-ADDRESS value (§14.1, §14.2): family, port, address; XORed with the
/// cookie and transaction id when `xor` gives them.
fn address(v: &[u8], xor: Option<&[u8]>) -> Result<SocketAddr, StunError> {
    if v.len() < 4 {
        return Err(StunError::Malformed);
    }
    let mask = |i: usize| xor.map_or(0, |x| x[i]);
    let port = u16::from_be_bytes([v[2] ^ mask(0), v[3] ^ mask(1)]);
    let ip: IpAddr = match (v[1], v.len()) {
        (0x01, 8) => {
            let b: [u8; 4] = std::array::from_fn(|i| v[4 + i] ^ mask(i));
            Ipv4Addr::from(b).into()
        }
        (0x02, 20) => {
            let b: [u8; 16] = std::array::from_fn(|i| v[4 + i] ^ mask(i));
            Ipv6Addr::from(b).into()
        }
        _ => return Err(StunError::Malformed),
    };
    Ok(SocketAddr::new(ip, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: [u8; 12] = [
        0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae,
    ];

    /// RFC 5769 §2.2: a sample IPv4 response (its XOR-MAPPED-ADDRESS is 192.0.2.1:32853),
    /// with the SOFTWARE, MESSAGE-INTEGRITY and FINGERPRINT attributes around it.
    const RFC5769_V4: &[u8] = &[
        0x01, 0x01, 0x00, 0x3c, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6,
        0x86, 0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b, 0x74, 0x65, 0x73, 0x74, 0x20, 0x76,
        0x65, 0x63, 0x74, 0x6f, 0x72, 0x20, 0x00, 0x20, 0x00, 0x08, 0x00, 0x01, 0xa1, 0x47, 0xe1,
        0x12, 0xa6, 0x43, 0x00, 0x08, 0x00, 0x14, 0x2b, 0x91, 0xf5, 0x99, 0xfd, 0x9e, 0x90, 0xc3,
        0x8c, 0x74, 0x89, 0xf9, 0x2a, 0xf9, 0xba, 0x53, 0xf0, 0x6b, 0xe7, 0xd7, 0x80, 0x28, 0x00,
        0x04, 0xc0, 0x7d, 0x4c, 0x96,
    ];

    /// RFC 5769 §2.3: the IPv6 sample (2001:db8:1234:5678:11:2233:4455:6677, port 32853).
    const RFC5769_V6: &[u8] = &[
        0x01, 0x01, 0x00, 0x48, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6,
        0x86, 0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b, 0x74, 0x65, 0x73, 0x74, 0x20, 0x76,
        0x65, 0x63, 0x74, 0x6f, 0x72, 0x20, 0x00, 0x20, 0x00, 0x14, 0x00, 0x02, 0xa1, 0x47, 0x01,
        0x13, 0xa9, 0xfa, 0xa5, 0xd3, 0xf1, 0x79, 0xbc, 0x25, 0xf4, 0xb5, 0xbe, 0xd2, 0xb9, 0xd9,
        0x00, 0x08, 0x00, 0x14, 0xa3, 0x82, 0x95, 0x4e, 0x4b, 0xe6, 0x7b, 0xf1, 0x17, 0x84, 0xc9,
        0x7c, 0x82, 0x92, 0xc2, 0x75, 0xbf, 0xe3, 0xed, 0x41, 0x80, 0x28, 0x00, 0x04, 0xc8, 0xfb,
        0x0b, 0x4c,
    ];

    #[test]
    fn the_rfc5769_samples_give_their_addresses() {
        assert_eq!(
            parse_binding_response(RFC5769_V4, ID),
            Ok("192.0.2.1:32853".parse().unwrap())
        );
        assert_eq!(
            parse_binding_response(RFC5769_V6, ID),
            Ok("[2001:db8:1234:5678:11:2233:4455:6677]:32853"
                .parse()
                .unwrap())
        );
    }

    #[test]
    fn a_request_is_a_bare_header() {
        let r = binding_request(ID);
        assert_eq!(&r[..8], &[0, 1, 0, 0, 0x21, 0x12, 0xa4, 0x42]);
        assert_eq!(&r[8..], &ID);
    }

    #[test]
    fn other_transactions_errors_and_garbage_are_refused() {
        let mut other = ID;
        other[0] ^= 1;
        assert_eq!(
            parse_binding_response(RFC5769_V4, other),
            Err(StunError::OtherTransaction)
        );
        let mut err = RFC5769_V4.to_vec();
        err[1] = 0x11;
        assert_eq!(parse_binding_response(&err, ID), Err(StunError::Refused));
        assert_eq!(
            parse_binding_response(b"\x80\x00 RTP, not STUN......", ID),
            Err(StunError::NotStun)
        );
        // A length past the datagram, an attribute running off its end.
        let mut long = RFC5769_V4.to_vec();
        long[3] = 0x40;
        assert_eq!(parse_binding_response(&long, ID), Err(StunError::NotStun));
        let mut cut = RFC5769_V4[..44].to_vec();
        cut[3] = 24;
        assert_eq!(parse_binding_response(&cut, ID), Err(StunError::Malformed));
        // A response without any address.
        let mut bare = binding_request(ID);
        bare[0] = 0x01;
        assert_eq!(parse_binding_response(&bare, ID), Err(StunError::NoAddress));
    }

    #[test]
    fn a_plain_mapped_address_from_an_old_server() {
        let mut m = binding_request(ID).to_vec();
        m[0] = 0x01;
        m[3] = 12;
        m.extend_from_slice(&[
            0x00, 0x01, 0x00, 0x08, 0x00, 0x01, 0x13, 0x88, 198, 51, 100, 7,
        ]);
        assert_eq!(
            parse_binding_response(&m, ID),
            Ok("198.51.100.7:5000".parse().unwrap())
        );
    }

    #[test]
    fn mutated_samples_and_random_bytes_are_answered_without_a_panic() {
        let mut rng = tipring_rng::SplitMix64::new(5769);
        for _ in 0..20_000 {
            let mut m = if rng.next_u64() % 2 == 0 {
                RFC5769_V4.to_vec()
            } else {
                RFC5769_V6.to_vec()
            };
            for _ in 0..1 + rng.next_u64() % 4 {
                let i = (rng.next_u64() as usize) % m.len();
                m[i] = rng.next_u64() as u8;
            }
            m.truncate((rng.next_u64() as usize) % (m.len() + 1));
            let _ = parse_binding_response(&m, ID);
            let junk: Vec<u8> = (0..rng.next_u64() % 64)
                .map(|_| rng.next_u64() as u8)
                .collect();
            let _ = parse_binding_response(&junk, ID);
        }
    }
}
