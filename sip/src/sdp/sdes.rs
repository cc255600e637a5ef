//! SRTP keying by SDES in the offer/answer model (RFC 4568 §7): which transport and
//! `a=crypto` we offer, which offered key we take and how we answer it, and what an
//! answer to our offer gives. Best effort (the RTP/AVP offer carrying a key that many
//! devices send) and mandatory (RTP/SAVP, no media in clear) are both spoken.

use super::crypto::{Crypto, CryptoSuite, SdesKey};
use super::offer_answer::OfferAnswerError;
use super::session::{Attribute, Media};
use std::borrow::Cow;

/// Our side of SDES for a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sdes {
    /// Media only encrypted: RTP/SAVP offered, an offer or an answer without a usable key
    /// refused. Else best effort: RTP/AVP offered with a key, the call encrypted when the
    /// far end answers with one and in clear when it does not.
    pub mandatory: bool,
    /// Our master key and salt for this call (drawn from a CSPRNG by the owner).
    pub key: SdesKey,
}

/// The SRTP a negotiation settled on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NegotiatedSrtp {
    /// The suite.
    pub suite: CryptoSuite,
    /// Our key (what we send).
    pub ours: SdesKey,
    /// The far end's key (what it sends).
    pub theirs: SdesKey,
}

/// The tag of the one `a=crypto` we offer.
const OFFER_TAG: u32 = 1;

const AVP: &str = "RTP/AVP";
const SAVP: &str = "RTP/SAVP";

impl Sdes {
    /// Our offer's audio stream with SDES: RTP/SAVP when mandatory, and our key.
    pub(super) fn offer(&self, m: &mut Media<'static>) {
        if self.mandatory {
            m.proto = Cow::Borrowed(SAVP);
        }
        m.attributes.push(attribute(&Crypto {
            tag: OFFER_TAG,
            suite: CryptoSuite::AesCm128HmacSha1_80,
            key: self.key.clone(),
        }));
    }
}

/// The `a=crypto` values of a stream.
fn cryptos<'m>(m: &'m Media<'_>) -> impl Iterator<Item = &'m str> + 'm {
    m.attributes.iter().filter_map(|a| match a {
        Attribute::Other {
            name,
            value: Some(v),
        } if name.eq_ignore_ascii_case("crypto") => Some(v.as_ref()),
        _ => None,
    })
}

fn attribute(c: &Crypto) -> Attribute<'static> {
    Attribute::Other {
        name: Cow::Borrowed("crypto"),
        value: Some(Cow::Owned(c.to_string())),
    }
}

/// How we answer the offered stream `m` (RFC 4568 §7.1.2): its transport must be RTP/AVP
/// or, with SDES on, RTP/SAVP; with SDES on, the first usable offered key is taken and
/// answered with ours under its tag and suite. The `a=crypto` to put in our answer and
/// what was agreed; `None` for RTP in clear.
pub(super) fn answer(
    m: &Media<'_>,
    ours: Option<&Sdes>,
) -> Result<Option<(Attribute<'static>, NegotiatedSrtp)>, OfferAnswerError> {
    let savp = m.proto == SAVP;
    if !savp && m.proto != AVP {
        return Err(OfferAnswerError::IncompatibleTransport);
    }
    let Some(ours) = ours else {
        return match savp {
            true => Err(OfferAnswerError::IncompatibleTransport),
            false => Ok(None),
        };
    };
    match Crypto::first_usable(cryptos(m)) {
        Some(theirs) => {
            let line = attribute(&Crypto {
                tag: theirs.tag,
                suite: theirs.suite,
                key: ours.key.clone(),
            });
            Ok(Some((
                line,
                NegotiatedSrtp {
                    suite: theirs.suite,
                    ours: ours.key.clone(),
                    theirs: theirs.key,
                },
            )))
        }
        None if savp => Err(OfferAnswerError::NoUsableKey),
        None if ours.mandatory => Err(OfferAnswerError::EncryptionRequired),
        None => Ok(None),
    }
}

/// What the answer stream `m` to our offered stream `offered` gives (RFC 4568 §7.1.3):
/// a key under a tag and suite we offered, or clear RTP when we did not require SRTP.
pub(super) fn answered(
    m: &Media<'_>,
    offered: &Media<'_>,
    ours: Option<&Sdes>,
) -> Result<Option<NegotiatedSrtp>, OfferAnswerError> {
    let Some(ours) = ours else {
        return Ok(None);
    };
    let ours_offered: Vec<Crypto> = cryptos(offered)
        .filter_map(|v| Crypto::parse(v).ok())
        .collect();
    let taken = cryptos(m).filter_map(|v| Crypto::parse(v).ok()).find(|c| {
        ours_offered
            .iter()
            .any(|o| o.tag == c.tag && o.suite == c.suite)
    });
    match taken {
        Some(c) => Ok(Some(NegotiatedSrtp {
            suite: c.suite,
            ours: ours.key.clone(),
            theirs: c.key,
        })),
        None if ours.mandatory => Err(OfferAnswerError::EncryptionRequired),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sdp::{MediaConfig, OfferAnswer, SessionDescription};

    fn side(last: u8, srtp: Option<(bool, u8)>) -> OfferAnswer {
        let mut c = MediaConfig::new(format!("192.0.2.{last}").parse().unwrap(), 4000);
        c.srtp = srtp.map(|(mandatory, k)| Sdes {
            mandatory,
            key: SdesKey([k; 30]),
        });
        OfferAnswer::new(c, u64::from(last))
    }

    fn parse(sd: &SessionDescription<'_>) -> SessionDescription<'static> {
        let text = sd.to_string();
        SessionDescription::parse(text.as_bytes())
            .unwrap()
            .into_owned()
    }

    /// Offer from `a`, answer by `b`: the answer's text and both sides' SRTP, or the
    /// refusal of the side that refused.
    fn call(
        mut a: OfferAnswer,
        mut b: OfferAnswer,
    ) -> Result<(String, Option<NegotiatedSrtp>, Option<NegotiatedSrtp>), OfferAnswerError> {
        let offer = parse(&a.create_offer());
        let (answer, nb) = b.answer_offer(&offer)?;
        let na = a.process_answer(&parse(&answer))?;
        Ok((answer.to_string(), na.srtp, nb.srtp))
    }

    #[test]
    fn best_effort_on_both_sides_encrypts_with_crossed_keys() {
        let offer = side(1, Some((false, 1))).create_offer().to_string();
        assert!(offer.contains("m=audio 4000 RTP/AVP "), "{offer}");
        assert!(
            offer.contains("a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:"),
            "{offer}"
        );
        let (answer, a, b) = call(side(1, Some((false, 1))), side(2, Some((false, 2)))).unwrap();
        assert!(
            answer.contains("RTP/AVP") && answer.contains("a=crypto:1 "),
            "{answer}"
        );
        let (a, b) = (a.unwrap(), b.unwrap());
        assert_eq!((a.ours.0[0], a.theirs.0[0]), (1, 2));
        assert_eq!((b.ours.0[0], b.theirs.0[0]), (2, 1));
    }

    #[test]
    fn mandatory_offers_savp_and_the_answer_keeps_it() {
        let offer = side(1, Some((true, 1))).create_offer().to_string();
        assert!(offer.contains("m=audio 4000 RTP/SAVP "), "{offer}");
        let (answer, a, b) = call(side(1, Some((true, 1))), side(2, Some((false, 2)))).unwrap();
        assert!(answer.contains("m=audio 4000 RTP/SAVP "), "{answer}");
        assert!(a.is_some() && b.is_some());
    }

    #[test]
    fn best_effort_meets_clear_and_stays_clear() {
        let (answer, a, b) = call(side(1, Some((false, 1))), side(2, None)).unwrap();
        assert!(!answer.contains("crypto"), "{answer}");
        assert_eq!((a, b), (None, None));
        let (_, a, b) = call(side(1, None), side(2, Some((false, 2)))).unwrap();
        assert_eq!((a, b), (None, None));
    }

    #[test]
    fn what_mandatory_refuses() {
        // SAVP to a side without SRTP: 488 with warning 302.
        let e = call(side(1, Some((true, 1))), side(2, None)).unwrap_err();
        assert_eq!(
            (e.status(), e),
            (488, OfferAnswerError::IncompatibleTransport)
        );
        // A clear offer to a side that requires SRTP.
        let e = call(side(1, None), side(2, Some((true, 2)))).unwrap_err();
        assert_eq!(e, OfferAnswerError::EncryptionRequired);
        assert_eq!(e.warning().map(|w| w.0), Some(302));
        // Our SAVP offer answered without a key.
        let mut a = side(1, Some((true, 1)));
        let offer = a.create_offer().to_string().replace("RTP/SAVP", "RTP/AVP");
        let offer = offer
            .lines()
            .filter(|l| !l.starts_with("a=crypto"))
            .collect::<Vec<_>>()
            .join("\r\n")
            + "\r\n";
        let mut b = side(2, None);
        let (answer, _) = b
            .answer_offer(&SessionDescription::parse(offer.as_bytes()).unwrap())
            .unwrap();
        assert_eq!(
            a.process_answer(&parse(&answer)),
            Err(OfferAnswerError::EncryptionRequired)
        );
    }

    #[test]
    fn keys_we_cannot_use_are_not_taken() {
        let mut b = side(2, Some((false, 2)));
        let savp = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n\
            m=audio 5000 RTP/SAVP 0\r\na=crypto:1 AEAD_AES_256_GCM inline:AAAA\r\n\
            a=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:4\r\n";
        let e = b
            .answer_offer(&SessionDescription::parse(savp.as_bytes()).unwrap())
            .unwrap_err();
        assert_eq!(
            (e.warning().map(|w| w.0), e),
            (Some(305), OfferAnswerError::NoUsableKey)
        );
        // The second line usable: its tag and suite are answered.
        let savp = savp
            .replace("|1:4", "")
            .replace("HMAC_SHA1_80", "HMAC_SHA1_32");
        let (answer, n) = b
            .answer_offer(&SessionDescription::parse(savp.as_bytes()).unwrap())
            .unwrap();
        assert!(
            answer
                .to_string()
                .contains("a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:")
        );
        assert_eq!(n.srtp.unwrap().suite, CryptoSuite::AesCm128HmacSha1_32);
    }

    #[test]
    fn an_answer_under_a_tag_we_did_not_offer_is_not_a_key() {
        let mut a = side(1, Some((false, 1)));
        let mut b = side(2, Some((false, 2)));
        let offer = parse(&a.create_offer());
        let (answer, _) = b.answer_offer(&offer).unwrap();
        let moved = answer.to_string().replace("a=crypto:1 ", "a=crypto:9 ");
        let n = a
            .process_answer(&SessionDescription::parse(moved.as_bytes()).unwrap())
            .unwrap();
        assert_eq!(n.srtp, None);
    }
}
