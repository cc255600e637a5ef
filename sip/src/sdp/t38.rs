//! T.38 fax relay over UDPTL in SDP: the `m=image <port> udptl t38` stream registered by
//! RFC 3362 (`image/t38`) and the session attributes of ITU-T T.38 Annex D (D.2.3), as
//! updated by RFC 4612.
//!
//! [`T38Params::from_media`] reads the attributes of one media description (names matched
//! case-insensitively, since implementations differ in case), [`T38Params::media`] writes
//! them back in the usual casing, and [`T38Params::answer`] applies the Annex D answer rules.
//! The offer/answer exchange that switches a call to T.38 and back is in
//! [`OfferAnswer`](super::OfferAnswer).

use super::session::{Attribute, Media};
use std::borrow::Cow;
use std::str::FromStr;

/// `a=T38FaxRateManagement` (T.38 Annex D.2.3): how the TCF training check is carried
/// (T.38 §8: data rate management method 1 or 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum T38RateManagement {
    /// `localTCF`: method 1, each gateway generates TCF locally (required for TCP).
    LocalTcf,
    /// `transferredTCF`: method 2, TCF travels end to end (the one for UDP).
    TransferredTcf,
}

impl T38RateManagement {
    /// The value on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            T38RateManagement::LocalTcf => "localTCF",
            T38RateManagement::TransferredTcf => "transferredTCF",
        }
    }

    /// Parse a value, ignoring ASCII case.
    pub fn from_name(s: &str) -> Option<T38RateManagement> {
        [
            T38RateManagement::LocalTcf,
            T38RateManagement::TransferredTcf,
        ]
        .into_iter()
        .find(|r| r.as_str().eq_ignore_ascii_case(s))
    }
}

/// `a=T38FaxUdpEC` (T.38 Annex D.2.3): the UDPTL error protection scheme (T.38 §9.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum T38ErrorCorrection {
    /// No `a=T38FaxUdpEC`: no error protection.
    None,
    /// `t38UDPRedundancy`: earlier IFP packets repeated in each UDPTL packet.
    Redundancy,
    /// `t38UDPFEC`: parity forward error correction.
    Fec,
}

impl T38ErrorCorrection {
    /// The value on the wire; `None` for no attribute.
    pub fn as_str(self) -> Option<&'static str> {
        match self {
            T38ErrorCorrection::None => None,
            T38ErrorCorrection::Redundancy => Some("t38UDPRedundancy"),
            T38ErrorCorrection::Fec => Some("t38UDPFEC"),
        }
    }

    /// Parse a value, ignoring ASCII case.
    pub fn from_name(s: &str) -> Option<T38ErrorCorrection> {
        [T38ErrorCorrection::Redundancy, T38ErrorCorrection::Fec]
            .into_iter()
            .find(|e| e.as_str().is_some_and(|n| n.eq_ignore_ascii_case(s)))
    }
}

/// A T.38 attribute with a bad value: the attribute (as named on the wire) and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a={attribute}: {reason}")]
pub struct T38Error {
    /// The attribute name, e.g. `"T38FaxVersion"`.
    pub attribute: &'static str,
    /// What is wrong.
    pub reason: &'static str,
}

/// The session parameters of a T.38 stream (T.38 Annex D.2.3, RFC 4612). The
/// [`Default`] is what an `m=image` line without attributes means: version 0, 14400
/// bit/s (V.17, the fastest rate without V.34), transferredTCF (the method for UDP), no
/// buffer or datagram limit given, no error correction, no flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct T38Params {
    /// `a=T38FaxVersion`: the T.38 version (0 when absent).
    pub version: u8,
    /// `a=T38MaxBitRate`: the fastest fax modulation rate in bit/s, e.g. 14400.
    pub max_bit_rate: u32,
    /// `a=T38FaxRateManagement`.
    pub rate_management: T38RateManagement,
    /// `a=T38FaxMaxBuffer`: the receive buffer of the side that wrote it, in octets.
    pub max_buffer: Option<u32>,
    /// `a=T38FaxMaxDatagram`: the largest UDPTL payload the side that wrote it receives,
    /// in octets.
    pub max_datagram: Option<u32>,
    /// `a=T38FaxUdpEC`.
    pub error_correction: T38ErrorCorrection,
    /// `a=T38FaxFillBitRemoval`: fill bits removed from and reinserted in T.4 data.
    pub fill_bit_removal: bool,
    /// `a=T38FaxTranscodingMMR`: MMR transcoding.
    pub mmr: bool,
    /// `a=T38FaxTranscodingJBIG`: JBIG transcoding.
    pub jbig: bool,
}

impl Default for T38Params {
    fn default() -> T38Params {
        T38Params {
            version: 0,
            max_bit_rate: 14400,
            rate_management: T38RateManagement::TransferredTcf,
            max_buffer: None,
            max_datagram: None,
            error_correction: T38ErrorCorrection::None,
            fill_bit_removal: false,
            mmr: false,
            jbig: false,
        }
    }
}

/// The parameters, in the order they are emitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    Version,
    MaxBitRate,
    RateManagement,
    MaxBuffer,
    MaxDatagram,
    UdpEc,
    FillBitRemoval,
    Mmr,
    Jbig,
}

/// Attribute names (T.38 Annex D.2.3) in their usual casing, emission order first; the
/// last two are spellings seen in the field for `T38MaxBitRate` and `T38FaxMaxDatagram`,
/// accepted on input only.
const NAMES: [(&str, Key); 11] = [
    ("T38FaxVersion", Key::Version),
    ("T38MaxBitRate", Key::MaxBitRate),
    ("T38FaxRateManagement", Key::RateManagement),
    ("T38FaxMaxBuffer", Key::MaxBuffer),
    ("T38FaxMaxDatagram", Key::MaxDatagram),
    ("T38FaxUdpEC", Key::UdpEc),
    ("T38FaxFillBitRemoval", Key::FillBitRemoval),
    ("T38FaxTranscodingMMR", Key::Mmr),
    ("T38FaxTranscodingJBIG", Key::Jbig),
    ("T38FaxMaxRate", Key::MaxBitRate),
    ("T38MaxDatagram", Key::MaxDatagram),
];

fn name_of(k: Key) -> &'static str {
    NAMES.iter().find(|(_, n)| *n == k).map_or("", |(s, _)| s)
}

fn bad(attribute: &'static str, reason: &'static str) -> T38Error {
    T38Error { attribute, reason }
}

/// A decimal attribute value (surrounding blanks allowed).
fn number<T: FromStr>(attr: &'static str, v: Option<&str>) -> Result<T, T38Error> {
    let v = v.ok_or(bad(attr, "missing value"))?;
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad(attr, "not a decimal number"));
    }
    v.parse().map_err(|_| bad(attr, "number out of range"))
}

/// A size or rate: a decimal number above zero.
fn positive(attr: &'static str, v: Option<&str>) -> Result<u32, T38Error> {
    match number(attr, v)? {
        0 => Err(bad(attr, "zero")),
        n => Ok(n),
    }
}

/// A boolean attribute: present as a flag (T.38 Annex D.2.3), or with the value `0` or
/// `1` as older implementations write it.
fn flag(attr: &'static str, v: Option<&str>) -> Result<bool, T38Error> {
    match v {
        None | Some("1") => Ok(true),
        Some("0") => Ok(false),
        Some(_) => Err(bad(attr, "not 0 or 1")),
    }
}

impl T38Params {
    /// Whether a media description is a T.38 stream: `m=image <port> udptl t38` (RFC 3362,
    /// T.38 Annex D.2.1), ignoring case.
    pub fn is_t38(m: &Media<'_>) -> bool {
        m.media.eq_ignore_ascii_case("image")
            && m.proto.eq_ignore_ascii_case("udptl")
            && m.formats.iter().any(|f| f.eq_ignore_ascii_case("t38"))
    }

    /// The T.38 parameters of a media description: `None` unless it is an
    /// `m=image <port> udptl t38` stream, an error naming the first attribute with a bad
    /// value. Unknown attributes are ignored; an attribute repeated with a different value
    /// is an error. Absent attributes take the [`Default`] values.
    pub fn from_media(m: &Media<'_>) -> Result<Option<T38Params>, T38Error> {
        if !T38Params::is_t38(m) {
            return Ok(None);
        }
        let mut p = T38Params::default();
        let mut seen = [false; NAMES.len()];
        for a in &m.attributes {
            let Attribute::Other { name, value } = a else {
                continue;
            };
            let Some(&(attr, key)) = NAMES.iter().find(|(n, _)| n.eq_ignore_ascii_case(name))
            else {
                continue;
            };
            let v = value.as_deref().map(str::trim);
            let mut q = p;
            match key {
                Key::Version => q.version = number(attr, v)?,
                Key::MaxBitRate => q.max_bit_rate = positive(attr, v)?,
                Key::RateManagement => {
                    let v = v.ok_or(bad(attr, "missing value"))?;
                    q.rate_management = T38RateManagement::from_name(v)
                        .ok_or(bad(attr, "not localTCF or transferredTCF"))?;
                }
                Key::MaxBuffer => q.max_buffer = Some(positive(attr, v)?),
                Key::MaxDatagram => q.max_datagram = Some(positive(attr, v)?),
                Key::UdpEc => {
                    let v = v.ok_or(bad(attr, "missing value"))?;
                    q.error_correction = T38ErrorCorrection::from_name(v)
                        .ok_or(bad(attr, "not t38UDPRedundancy or t38UDPFEC"))?;
                }
                Key::FillBitRemoval => q.fill_bit_removal = flag(attr, v)?,
                Key::Mmr => q.mmr = flag(attr, v)?,
                Key::Jbig => q.jbig = flag(attr, v)?,
            }
            let k = key as usize;
            if seen[k] && q != p {
                return Err(bad(attr, "repeated with a different value"));
            }
            seen[k] = true;
            p = q;
        }
        Ok(Some(p))
    }

    /// `m=image <port> udptl t38` with these parameters (T.38 Annex D.2.3): version, bit
    /// rate and rate management always, buffer and datagram sizes when known, error
    /// correction unless none, the boolean attributes as flags when true.
    pub fn media(&self, port: u16) -> Media<'static> {
        let mut attributes = Vec::with_capacity(9);
        let mut push = |k: Key, value: Option<String>| {
            attributes.push(Attribute::Other {
                name: Cow::Borrowed(name_of(k)),
                value: value.map(Cow::Owned),
            });
        };
        push(Key::Version, Some(self.version.to_string()));
        push(Key::MaxBitRate, Some(self.max_bit_rate.to_string()));
        push(
            Key::RateManagement,
            Some(self.rate_management.as_str().to_owned()),
        );
        if let Some(b) = self.max_buffer {
            push(Key::MaxBuffer, Some(b.to_string()));
        }
        if let Some(d) = self.max_datagram {
            push(Key::MaxDatagram, Some(d.to_string()));
        }
        if let Some(ec) = self.error_correction.as_str() {
            push(Key::UdpEc, Some(ec.to_owned()));
        }
        for (on, k) in [
            (self.fill_bit_removal, Key::FillBitRemoval),
            (self.mmr, Key::Mmr),
            (self.jbig, Key::Jbig),
        ] {
            if on {
                push(k, None);
            }
        }
        Media {
            media: Cow::Borrowed("image"),
            port,
            port_count: None,
            proto: Cow::Borrowed("udptl"),
            formats: vec![Cow::Borrowed("t38")],
            connection: None,
            attributes,
            other: Vec::new(),
        }
    }

    /// Our answer to offered parameters, `self` being what we support (T.38 Annex D.2.3,
    /// RFC 4612): the lower version and bit rate; the offer's rate management (we do both);
    /// redundancy when the offer asks for redundancy or FEC and we do redundancy (FEC only
    /// if both sides do FEC), none when either side has none; our own buffer and datagram
    /// sizes (each side declares what it receives); no fill bit removal and no
    /// transcoding, which we do not do.
    pub fn answer(&self, offer: &T38Params) -> T38Params {
        use T38ErrorCorrection as Ec;
        let error_correction = match (offer.error_correction, self.error_correction) {
            (Ec::None, _) | (_, Ec::None) => Ec::None,
            (Ec::Fec, Ec::Fec) => Ec::Fec,
            _ => Ec::Redundancy,
        };
        T38Params {
            version: self.version.min(offer.version),
            max_bit_rate: self.max_bit_rate.min(offer.max_bit_rate),
            rate_management: offer.rate_management,
            max_buffer: self.max_buffer,
            max_datagram: self.max_datagram,
            error_correction,
            fill_bit_removal: false,
            mmr: false,
            jbig: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sdp::{MediaConfig, OfferAnswer, OfferAnswerError, SessionDescription};
    use std::net::SocketAddr;

    fn sdp(text: &str) -> SessionDescription<'_> {
        SessionDescription::parse(text.as_bytes()).unwrap_or_else(|e| panic!("{e}\n{text}"))
    }

    fn params_of(text: &str) -> Result<Option<T38Params>, T38Error> {
        T38Params::from_media(&sdp(text).media[0])
    }

    fn image(attrs: &str) -> String {
        format!(
            "v=0\r\no=- 1 1 IN IP4 192.0.2.9\r\ns=-\r\nc=IN IP4 192.0.2.9\r\nt=0 0\r\n\
             m=image 4000 udptl t38\r\n{attrs}"
        )
    }

    /// What the gateway supports: version 0, V.17, redundancy, its own UDPTL sizes.
    fn gateway() -> T38Params {
        T38Params {
            max_buffer: Some(1800),
            max_datagram: Some(400),
            error_correction: T38ErrorCorrection::Redundancy,
            ..T38Params::default()
        }
    }

    /// A re-INVITE body in the style of a Cisco IOS gateway or Asterisk switching to fax.
    #[test]
    fn cisco_asterisk_style_offer() {
        let body = "v=0\r\n\
            o=CiscoSystemsSIP-GW-UserAgent 9612 4243 IN IP4 198.51.100.7\r\n\
            s=SIP Call\r\nc=IN IP4 198.51.100.7\r\nt=0 0\r\n\
            m=image 17424 udptl t38\r\nc=IN IP4 198.51.100.7\r\n\
            a=T38FaxVersion:0\r\na=T38MaxBitRate:14400\r\n\
            a=T38FaxRateManagement:transferredTCF\r\na=T38FaxMaxBuffer:200\r\n\
            a=T38FaxMaxDatagram:72\r\na=T38FaxUdpEC:t38UDPRedundancy\r\n";
        let p = params_of(body).unwrap().unwrap();
        assert_eq!(
            p,
            T38Params {
                version: 0,
                max_bit_rate: 14400,
                rate_management: T38RateManagement::TransferredTcf,
                max_buffer: Some(200),
                max_datagram: Some(72),
                error_correction: T38ErrorCorrection::Redundancy,
                fill_bit_removal: false,
                mmr: false,
                jbig: false,
            }
        );
    }

    /// Lower-case names, booleans with values, FEC, the `T38MaxDatagram` spelling and an
    /// attribute we do not know (T38FaxMaxIFP, T.38 Annex D of 2010).
    #[test]
    fn lower_case_offer_with_fec_and_valued_booleans() {
        let body = "v=0\r\no=- 3 3 IN IP4 203.0.113.5\r\ns=-\r\nc=IN IP4 203.0.113.5\r\n\
            t=0 0\r\nm=image 30000 UDPTL T38\r\n\
            a=t38faxversion:3\r\na=t38maxbitrate:33600\r\n\
            a=t38faxratemanagement:localtcf\r\na=t38faxfillbitremoval:0\r\n\
            a=t38faxtranscodingmmr:1\r\na=t38faxtranscodingjbig\r\n\
            a=t38maxdatagram: 160\r\na=t38faxmaxifp:40\r\na=t38faxudpec:t38UDPFEC\r\n";
        let p = params_of(body).unwrap().unwrap();
        assert_eq!(
            p,
            T38Params {
                version: 3,
                max_bit_rate: 33600,
                rate_management: T38RateManagement::LocalTcf,
                max_buffer: None,
                max_datagram: Some(160),
                error_correction: T38ErrorCorrection::Fec,
                fill_bit_removal: false,
                mmr: true,
                jbig: true,
            }
        );
    }

    #[test]
    fn only_image_udptl_t38_is_t38() {
        assert_eq!(params_of(&image("")), Ok(Some(T38Params::default())));
        let other = [
            "m=audio 4000 RTP/AVP 0\r\n",
            "m=image 4000 tcptl t38\r\n",
            "m=image 4000 udptl jpeg\r\n",
            "m=application 4000 udptl t38\r\n",
        ];
        for m in other {
            let text = format!("v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nt=0 0\r\n{m}");
            assert_eq!(params_of(&text), Ok(None), "{m}");
        }
        // the port does not matter here: a refused stream still parses
        let refused = image("a=T38FaxVersion:1\r\n").replace("4000", "0");
        assert_eq!(params_of(&refused).unwrap().unwrap().version, 1);
    }

    #[test]
    fn emit_round_trip() {
        let full = T38Params {
            version: 2,
            max_bit_rate: 9600,
            rate_management: T38RateManagement::LocalTcf,
            max_buffer: Some(262),
            max_datagram: Some(158),
            error_correction: T38ErrorCorrection::Fec,
            fill_bit_removal: true,
            mmr: true,
            jbig: true,
        };
        assert_eq!(
            full.media(5000).to_string(),
            "m=image 5000 udptl t38\r\na=T38FaxVersion:2\r\na=T38MaxBitRate:9600\r\n\
             a=T38FaxRateManagement:localTCF\r\na=T38FaxMaxBuffer:262\r\n\
             a=T38FaxMaxDatagram:158\r\na=T38FaxUdpEC:t38UDPFEC\r\n\
             a=T38FaxFillBitRemoval\r\na=T38FaxTranscodingMMR\r\na=T38FaxTranscodingJBIG\r\n"
        );
        assert_eq!(
            T38Params::default().media(0).to_string(),
            "m=image 0 udptl t38\r\na=T38FaxVersion:0\r\na=T38MaxBitRate:14400\r\n\
             a=T38FaxRateManagement:transferredTCF\r\n"
        );
        for p in [full, gateway(), T38Params::default()] {
            let text = image("").replace("m=image 4000 udptl t38\r\n", &p.media(4000).to_string());
            assert_eq!(params_of(&text), Ok(Some(p)));
        }
    }

    #[test]
    fn answer_rules_t38_annex_d() {
        use T38ErrorCorrection as Ec;
        let ours = gateway();
        let offer = T38Params {
            version: 3,
            max_bit_rate: 33600,
            rate_management: T38RateManagement::LocalTcf,
            max_buffer: Some(200),
            max_datagram: Some(72),
            error_correction: Ec::Fec,
            fill_bit_removal: true,
            mmr: true,
            jbig: true,
        };
        let a = ours.answer(&offer);
        assert_eq!(
            a,
            T38Params {
                version: 0,
                max_bit_rate: 14400,
                rate_management: T38RateManagement::LocalTcf,
                max_buffer: Some(1800),
                max_datagram: Some(400),
                error_correction: Ec::Redundancy,
                fill_bit_removal: false,
                mmr: false,
                jbig: false,
            }
        );
        let slow = T38Params {
            version: 0,
            max_bit_rate: 9600,
            ..offer
        };
        let newer = T38Params { version: 1, ..ours };
        assert_eq!(newer.answer(&slow).version, 0);
        assert_eq!(newer.answer(&offer).version, 1);
        assert_eq!(ours.answer(&slow).max_bit_rate, 9600);
        assert_eq!(
            ours.answer(&T38Params::default()).rate_management,
            T38RateManagement::TransferredTcf
        );
        let ec = |offered, supported| {
            let o = T38Params {
                error_correction: offered,
                ..offer
            };
            let s = T38Params {
                error_correction: supported,
                ..ours
            };
            s.answer(&o).error_correction
        };
        assert_eq!(ec(Ec::Redundancy, Ec::Redundancy), Ec::Redundancy);
        assert_eq!(ec(Ec::Fec, Ec::Redundancy), Ec::Redundancy);
        assert_eq!(ec(Ec::None, Ec::Redundancy), Ec::None);
        assert_eq!(ec(Ec::Redundancy, Ec::None), Ec::None);
        assert_eq!(ec(Ec::Fec, Ec::Fec), Ec::Fec);
        assert_eq!(ec(Ec::Redundancy, Ec::Fec), Ec::Redundancy);
    }

    #[test]
    fn bad_values_are_typed_errors() {
        let cases = [
            (
                "a=T38FaxVersion:x\r\n",
                "T38FaxVersion",
                "not a decimal number",
            ),
            (
                "a=T38FaxVersion:256\r\n",
                "T38FaxVersion",
                "number out of range",
            ),
            (
                "a=T38FaxVersion:-1\r\n",
                "T38FaxVersion",
                "not a decimal number",
            ),
            ("a=T38FaxVersion\r\n", "T38FaxVersion", "missing value"),
            (
                "a=T38MaxBitRate:\r\n",
                "T38MaxBitRate",
                "not a decimal number",
            ),
            ("a=T38MaxBitRate:0\r\n", "T38MaxBitRate", "zero"),
            (
                "a=T38FaxMaxRate:99999999999\r\n",
                "T38FaxMaxRate",
                "number out of range",
            ),
            (
                "a=T38FaxRateManagement:remoteTCF\r\n",
                "T38FaxRateManagement",
                "not localTCF or transferredTCF",
            ),
            (
                "a=T38FaxRateManagement\r\n",
                "T38FaxRateManagement",
                "missing value",
            ),
            ("a=T38FaxMaxBuffer:0\r\n", "T38FaxMaxBuffer", "zero"),
            (
                "a=T38FaxMaxDatagram:7 2\r\n",
                "T38FaxMaxDatagram",
                "not a decimal number",
            ),
            (
                "a=T38FaxUdpEC:t38UDPParity\r\n",
                "T38FaxUdpEC",
                "not t38UDPRedundancy or t38UDPFEC",
            ),
            ("a=T38FaxUdpEC\r\n", "T38FaxUdpEC", "missing value"),
            (
                "a=T38FaxFillBitRemoval:yes\r\n",
                "T38FaxFillBitRemoval",
                "not 0 or 1",
            ),
            (
                "a=T38FaxTranscodingMMR:2\r\n",
                "T38FaxTranscodingMMR",
                "not 0 or 1",
            ),
            (
                "a=T38FaxTranscodingJBIG:\r\n",
                "T38FaxTranscodingJBIG",
                "not 0 or 1",
            ),
            (
                "a=T38FaxVersion:0\r\na=t38faxversion:1\r\n",
                "T38FaxVersion",
                "repeated with a different value",
            ),
            (
                "a=T38FaxMaxDatagram:72\r\na=T38MaxDatagram:160\r\n",
                "T38MaxDatagram",
                "repeated with a different value",
            ),
        ];
        for (attrs, attribute, reason) in cases {
            assert_eq!(
                params_of(&image(attrs)),
                Err(T38Error { attribute, reason }),
                "{attrs}"
            );
        }
        // the same value twice, or a flag and `:1`, is no conflict
        let twice = image(
            "a=T38FaxVersion:0\r\na=T38FaxVersion:0\r\na=T38FaxFillBitRemoval\r\na=T38FaxFillBitRemoval:1\r\n",
        );
        assert!(params_of(&twice).unwrap().unwrap().fill_bit_removal);
        let e = T38Error {
            attribute: "T38FaxVersion",
            reason: "missing value",
        };
        assert_eq!(e.to_string(), "a=T38FaxVersion: missing value");
        let oa = OfferAnswerError::from(e);
        assert_eq!((oa.status(), oa.warning().map(|w| w.0)), (488, Some(305)));
    }

    fn end(addr: &str, port: u16, id: u64) -> OfferAnswer {
        OfferAnswer::new(MediaConfig::new(addr.parse().unwrap(), port), id)
    }

    /// An audio call between the gateway `a` (192.0.2.1:4000) and `b` (192.0.2.2:6000).
    fn call() -> (OfferAnswer, OfferAnswer) {
        let mut a = end("192.0.2.1", 4000, 1000);
        let mut b = end("192.0.2.2", 6000, 2000);
        let offer = a.create_offer().to_string();
        let (answer, _) = b.answer_offer(&sdp(&offer)).unwrap();
        a.process_answer(&sdp(&answer.to_string())).unwrap();
        (a, b)
    }

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn switch_to_t38_and_back_to_voice() {
        let (mut a, mut b) = call();
        let audio_b = b.negotiated().cloned();
        let far_end = T38Params {
            version: 1,
            max_bit_rate: 9600,
            max_buffer: Some(200),
            max_datagram: Some(72),
            error_correction: T38ErrorCorrection::Fec,
            fill_bit_removal: true,
            ..T38Params::default()
        };

        // b (say, a PBX that heard the CNG tone) re-offers T.38; the gateway answers
        let offer = b.create_t38_offer(&far_end);
        assert_eq!(offer.origin.session_version, 2001);
        assert_eq!(offer.media.len(), 1);
        let text = offer.to_string();
        assert!(text.contains("c=IN IP4 192.0.2.2\r\n"), "{text}");
        assert!(text.contains("m=image 6000 udptl t38\r\n"), "{text}");
        let (answer, far_b, ours) = a
            .answer_t38_offer(&sdp(&text), &gateway())
            .unwrap()
            .unwrap();
        assert_eq!(far_b, addr("192.0.2.2:6000"));
        assert_eq!(answer.origin.session_version, 1001);
        assert_eq!(ours, gateway().answer(&far_end));
        assert_eq!(ours.error_correction, T38ErrorCorrection::Redundancy);
        let (far_a, theirs) = b
            .process_t38_answer(&sdp(&answer.to_string()))
            .unwrap()
            .unwrap();
        assert_eq!(far_a, addr("192.0.2.1:4000"));
        assert_eq!(theirs, ours);
        assert!(!b.offer_pending());
        assert_eq!(b.negotiated().cloned(), audio_b, "audio state untouched");

        // after the fax, b goes back to voice with an ordinary audio re-offer
        let back = b.create_offer();
        assert_eq!(back.origin.session_version, 2002);
        let (answer, media_a) = a.answer_offer(&sdp(&back.to_string())).unwrap();
        assert_eq!(answer.origin.session_version, 1002);
        assert_eq!(answer.media[0].media, "audio");
        assert_eq!(media_a.remote_rtp, Some(addr("192.0.2.2:6000")));
        let media_b = b.process_answer(&sdp(&answer.to_string())).unwrap();
        assert_eq!(media_b.remote_rtp, Some(addr("192.0.2.1:4000")));

        // and the gateway's own audio re-offer is still valid
        let reoffer = a.create_offer();
        assert_eq!(reoffer.origin.session_version, 1002, "unchanged SDP");
        assert_eq!(reoffer.media[0].media, "audio");
        let (answer, _) = b.answer_offer(&sdp(&reoffer.to_string())).unwrap();
        assert!(a.process_answer(&sdp(&answer.to_string())).is_ok());
    }

    #[test]
    fn gateway_offers_t38_then_returns_to_audio() {
        let (mut a, mut b) = call();
        let offer = a.create_t38_offer(&gateway());
        assert_eq!(offer.origin.session_version, 1001);
        assert!(a.offer_pending());
        let far_end = T38Params {
            max_datagram: Some(160),
            error_correction: T38ErrorCorrection::Redundancy,
            ..T38Params::default()
        };
        let (answer, far_a, theirs) = b
            .answer_t38_offer(&sdp(&offer.to_string()), &far_end)
            .unwrap()
            .unwrap();
        assert_eq!(far_a, addr("192.0.2.1:4000"));
        let (far_b, ours) = a
            .process_t38_answer(&sdp(&answer.to_string()))
            .unwrap()
            .unwrap();
        assert_eq!(far_b, addr("192.0.2.2:6000"));
        assert_eq!(ours, theirs);
        assert_eq!(ours.max_datagram, Some(160), "the answerer's own size");

        let back = a.create_offer();
        assert_eq!(back.origin.session_version, 1002);
        let (answer, _) = b.answer_offer(&sdp(&back.to_string())).unwrap();
        let media = a.process_answer(&sdp(&answer.to_string())).unwrap();
        assert_eq!(media.remote_rtp, Some(addr("192.0.2.2:6000")));
    }

    #[test]
    fn refused_t38_answers_give_none() {
        let (mut a, _) = call();
        let answer_with = |media: &str| {
            format!(
                "v=0\r\no=- 7 8 IN IP4 192.0.2.2\r\ns=-\r\nc=IN IP4 192.0.2.2\r\nt=0 0\r\n{media}"
            )
        };
        for media in [
            "m=image 0 udptl t38\r\n",
            "m=audio 6000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n",
        ] {
            a.create_t38_offer(&gateway());
            assert_eq!(
                a.process_t38_answer(&sdp(&answer_with(media))),
                Ok(None),
                "{media}"
            );
            assert!(!a.offer_pending());
        }
        let mismatches = [
            (
                "m=image 6000 udptl t38\r\na=T38FaxVersion:1\r\n",
                OfferAnswerError::AnswerMismatch("T38FaxVersion above the offered one"),
            ),
            (
                "m=image 6000 udptl t38\r\na=T38FaxUdpEC:t38UDPFEC\r\n",
                OfferAnswerError::AnswerMismatch("t38UDPFEC not offered"),
            ),
            (
                "m=image 6000 udptl t38\r\nm=audio 0 RTP/AVP 0\r\n",
                OfferAnswerError::AnswerMismatch("number of m= lines differs"),
            ),
            (
                "m=image 6000 udptl t38\r\nc=IN IP4 0.0.0.0\r\n",
                OfferAnswerError::IncompatibleAddress,
            ),
            (
                "m=image 6000 udptl t38\r\na=T38FaxMaxDatagram:0\r\n",
                OfferAnswerError::T38(T38Error {
                    attribute: "T38FaxMaxDatagram",
                    reason: "zero",
                }),
            ),
        ];
        for (media, want) in mismatches {
            a.create_t38_offer(&gateway());
            assert_eq!(
                a.process_t38_answer(&sdp(&answer_with(media))),
                Err(want),
                "{media}"
            );
        }
        assert_eq!(
            a.process_t38_answer(&sdp(&answer_with("m=image 6000 udptl t38\r\n"))),
            Err(OfferAnswerError::NoOfferPending)
        );
        // an audio offer outstanding is not a T.38 offer
        a.create_offer();
        assert_eq!(
            a.process_t38_answer(&sdp(&answer_with("m=image 6000 udptl t38\r\n"))),
            Err(OfferAnswerError::AnswerMismatch("no T.38 stream offered"))
        );
        // after a refusal the call goes on with audio
        let mut b = end("192.0.2.2", 6000, 5);
        let back = a.create_offer();
        let (answer, _) = b.answer_offer(&sdp(&back.to_string())).unwrap();
        assert!(a.process_answer(&sdp(&answer.to_string())).is_ok());
    }

    #[test]
    fn answering_offers_with_and_without_t38() {
        let (mut a, _) = call();
        let offer_with = |media: &str| {
            format!(
                "v=0\r\no=- 7 8 IN IP4 192.0.2.2\r\ns=-\r\nc=IN IP4 192.0.2.2\r\nt=0 0\r\n{media}"
            )
        };
        // no T.38 stream: left to answer_offer
        let audio = offer_with("m=audio 6000 RTP/AVP 0\r\n");
        assert_eq!(a.answer_t38_offer(&sdp(&audio), &gateway()), Ok(None));
        let refused = offer_with("m=image 0 udptl t38\r\nm=audio 6000 RTP/AVP 0\r\n");
        assert_eq!(a.answer_t38_offer(&sdp(&refused), &gateway()), Ok(None));
        let (answer, _) = a.answer_offer(&sdp(&refused)).unwrap();
        assert_eq!(answer.media[0].port, 0);

        // audio and image offered: the image stream taken, the audio refused in place
        let both = offer_with(
            "m=audio 6000 RTP/AVP 0\r\nm=image 6002 udptl t38\r\nc=IN IP4 192.0.2.3\r\n\
             a=T38FaxUdpEC:t38UDPRedundancy\r\n",
        );
        let (answer, far, params) = a
            .answer_t38_offer(&sdp(&both), &gateway())
            .unwrap()
            .unwrap();
        assert_eq!(far, addr("192.0.2.3:6002"));
        assert_eq!(params.error_correction, T38ErrorCorrection::Redundancy);
        let answer = answer.to_string();
        let parsed = sdp(&answer);
        assert_eq!(parsed.media.len(), 2);
        assert_eq!(
            (parsed.media[0].media.as_ref(), parsed.media[0].port),
            ("audio", 0)
        );
        assert_eq!(parsed.media[1].port, 4000);
        assert_eq!(T38Params::from_media(&parsed.media[1]), Ok(Some(params)));

        // refusals: bad values, another address family, no c= at all
        let bad = offer_with("m=image 6000 udptl t38\r\na=T38FaxRateManagement:none\r\n");
        let e = a.answer_t38_offer(&sdp(&bad), &gateway()).unwrap_err();
        assert_eq!(e.status(), 488);
        let v6 = offer_with("m=image 6000 udptl t38\r\nc=IN IP6 2001:db8::2\r\n");
        assert_eq!(
            a.answer_t38_offer(&sdp(&v6), &gateway()),
            Err(OfferAnswerError::IncompatibleAddress)
        );
        let bare = "v=0\r\no=- 7 8 IN IP4 192.0.2.2\r\ns=-\r\nt=0 0\r\nm=image 6000 udptl t38\r\n";
        assert_eq!(
            a.answer_t38_offer(&sdp(bare), &gateway()),
            Err(OfferAnswerError::NoConnection)
        );
    }
}
