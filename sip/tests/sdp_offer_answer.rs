//! Offer/answer (RFC 3264) for the G.711 gateway: RFC 3264 §10 / RFC 4317 style examples,
//! preference order, hold and resume, re-offers, rejected streams, and the 488/400 refusals.

use tipring_sip::sdp::{
    Codec, Direction, EventSet, MediaConfig, OfferAnswer, OfferAnswerError, SessionDescription,
};

fn ours() -> OfferAnswer {
    OfferAnswer::new(
        MediaConfig::new("192.0.2.1".parse().unwrap(), 4000),
        3_000_000_000,
    )
}

fn sdp(text: &str) -> SessionDescription<'_> {
    SessionDescription::parse(text.as_bytes()).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

fn offer_with(media: &str) -> String {
    format!(
        "v=0\r\no=alice 2890844526 2890844526 IN IP4 host.atlanta.example.com\r\ns=-\r\n\
         c=IN IP4 192.0.2.101\r\nt=0 0\r\n{media}"
    )
}

#[test]
fn our_offer_is_pcmu_pcma_telephone_event_ptime_20() {
    let mut oa = ours();
    let text = oa.create_offer().to_string();
    assert_eq!(
        text,
        "v=0\r\no=tipring 3000000000 3000000000 IN IP4 192.0.2.1\r\ns=-\r\n\
         c=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0 8 101\r\n\
         a=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n\
         a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:20\r\n\
         a=sendrecv\r\n"
    );
    assert!(oa.offer_pending());
}

#[test]
fn configured_order_and_codecs_shape_the_offer() {
    let mut cfg = MediaConfig::new("2001:db8::1".parse().unwrap(), 4002);
    cfg.codecs = vec![Codec::Pcma];
    cfg.telephone_event = None;
    cfg.ptime = 30;
    let mut oa = OfferAnswer::new(cfg, 7);
    let sd = oa.create_offer();
    let m = &sd.media[0];
    assert_eq!(m.payload_types().collect::<Vec<_>>(), vec![8]);
    assert_eq!(m.ptime(), Some(30));
    assert_eq!(sd.to_string().lines().nth(3), Some("c=IN IP6 2001:db8::1"));
}

/// RFC 3264 §10.1: one audio and two video streams; we take the audio, refuse the video
/// with port 0 and keep the m= line count.
#[test]
fn rfc3264_10_1_audio_accepted_video_rejected() {
    let offer = offer_with(
        "m=audio 49170 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n\
         m=video 51372 RTP/AVP 31\r\na=rtpmap:31 H261/90000\r\n\
         m=video 53000 RTP/AVP 32\r\na=rtpmap:32 MPV/90000\r\n",
    );
    let mut oa = ours();
    let (answer, media) = oa.answer_offer(&sdp(&offer)).unwrap();
    let text = answer.to_string();
    let back = sdp(&text);
    assert_eq!(back.media.len(), 3);
    assert_eq!(back.media[0].port, 4000);
    assert_eq!(back.media[0].payload_types().collect::<Vec<_>>(), vec![0]);
    assert!(text.contains("m=video 0 RTP/AVP 31\r\n"));
    assert!(text.contains("m=video 0 RTP/AVP 32\r\n"));
    assert_eq!(media.codec, Codec::Pcmu);
    assert_eq!(media.payload_type, 0);
    assert_eq!(media.remote_rtp, Some("192.0.2.101:49170".parse().unwrap()));
    assert_eq!(
        media.remote_rtcp,
        Some("192.0.2.101:49171".parse().unwrap())
    );
    assert_eq!(media.telephone_event, None);
    assert_eq!(media.direction, Direction::SendRecv);
}

/// RFC 4317 §2.1-style offer listing PCMA first: the answer follows OUR order and keeps the
/// offerer's dynamic telephone-event number (RFC 3264 §6.1).
#[test]
fn answer_intersects_in_our_order_with_offerers_dynamic_numbers() {
    let offer = offer_with(
        "m=audio 49170 RTP/AVP 8 97 0 96\r\na=rtpmap:8 PCMA/8000\r\n\
         a=rtpmap:97 iLBC/8000\r\na=rtpmap:0 PCMU/8000\r\n\
         a=rtpmap:96 telephone-event/8000\r\na=fmtp:96 0-11\r\na=ptime:30\r\n",
    );
    let mut oa = ours();
    let (answer, media) = oa.answer_offer(&sdp(&offer)).unwrap();
    let m = &answer.media[0];
    assert_eq!(m.payload_types().collect::<Vec<_>>(), vec![0, 8, 96]);
    assert_eq!(m.fmtp(96), Some("0-11"));
    assert_eq!(media.codec, Codec::Pcmu);
    assert_eq!(media.ptime, 30);
    let te = media.telephone_event.unwrap();
    assert_eq!(te.payload_type, 96);
    assert_eq!(te.events, EventSet::range(0, 11));

    let mut cfg = MediaConfig::new("192.0.2.1".parse().unwrap(), 4000);
    cfg.codecs = vec![Codec::Pcma, Codec::Pcmu];
    let (_, media) = OfferAnswer::new(cfg, 1).answer_offer(&sdp(&offer)).unwrap();
    assert_eq!((media.codec, media.payload_type), (Codec::Pcma, 8));
}

#[test]
fn dynamic_payload_type_for_pcmu_is_kept() {
    let offer = offer_with(
        "m=audio 49170 RTP/AVP 112 113\r\na=rtpmap:112 pcmu/8000/1\r\n\
         a=rtpmap:113 telephone-event/8000\r\n",
    );
    let (answer, media) = ours().answer_offer(&sdp(&offer)).unwrap();
    assert_eq!((media.codec, media.payload_type), (Codec::Pcmu, 112));
    assert_eq!(answer.media[0].rtpmap(112).unwrap().encoding, "PCMU");
    // RFC 4733 §2.4.1: no fmtp means events 0-15
    assert_eq!(
        media.telephone_event.unwrap().events,
        EventSet::range(0, 15)
    );
    // a dynamic number that is not G.711 is not taken for one
    let offer = offer_with("m=audio 49170 RTP/AVP 0\r\na=rtpmap:0 G729/8000\r\n");
    assert_eq!(
        ours().answer_offer(&sdp(&offer)).unwrap_err(),
        OfferAnswerError::NoCommonCodec
    );
}

#[test]
fn no_common_codec_is_488_with_warning_305() {
    let offer = offer_with("m=audio 49170 RTP/AVP 18 97\r\na=rtpmap:97 iLBC/8000\r\n");
    let e = ours().answer_offer(&sdp(&offer)).unwrap_err();
    assert_eq!(e, OfferAnswerError::NoCommonCodec);
    assert_eq!(e.status(), 488);
    assert_eq!(e.warning().unwrap().0, 305);
    assert_eq!(
        e.warning_header("gw.example.com").unwrap(),
        "305 gw.example.com \"Incompatible media format\""
    );
}

#[test]
fn other_refusals_map_to_their_warning_codes() {
    let cases = [
        ("m=video 51372 RTP/AVP 31\r\n", 304),
        ("m=audio 49170 RTP/SAVP 0\r\n", 302),
        ("m=audio 49170 RTP/AVP 0\r\nc=IN IP6 2001:db8::5\r\n", 301),
        // the most specific reason wins over "no audio"
        ("m=video 5 RTP/AVP 31\r\nm=audio 49170 RTP/AVP 18\r\n", 305),
    ];
    for (media, code) in cases {
        let offer = if code == 301 {
            format!("v=0\r\no=- 1 1 IN IP6 ::1\r\ns=-\r\nt=0 0\r\n{media}")
        } else {
            offer_with(media)
        };
        let e = ours().answer_offer(&sdp(&offer)).unwrap_err();
        assert_eq!(e.status(), 488, "{media}");
        assert_eq!(e.warning().map(|w| w.0), Some(code), "{media}: {e}");
    }
}

#[test]
fn malformed_or_incomplete_sdp_is_400_with_a_reason() {
    let e: OfferAnswerError = SessionDescription::parse(b"v=0\r\no=x\r\n")
        .unwrap_err()
        .into();
    assert_eq!(e.status(), 400);
    assert!(e.to_string().contains("line 2"), "{e}");
    let no_c = "v=0\r\no=- 1 1 IN IP4 192.0.2.9\r\ns=-\r\nt=0 0\r\nm=audio 5 RTP/AVP 0\r\n";
    let e = ours().answer_offer(&sdp(no_c)).unwrap_err();
    assert_eq!(
        (e.clone(), e.status()),
        (OfferAnswerError::NoConnection, 400)
    );
}

#[test]
fn only_the_first_audio_stream_is_taken() {
    // RFC 4317 §2.4-like: telephone-event offered on a second audio stream
    let offer = offer_with(
        "m=audio 49170 RTP/AVP 0\r\nm=audio 49172 RTP/AVP 98\r\n\
         a=rtpmap:98 telephone-event/8000\r\n",
    );
    let (answer, media) = ours().answer_offer(&sdp(&offer)).unwrap();
    assert_eq!(answer.media[0].port, 4000);
    assert_eq!(answer.media[1].port, 0);
    assert_eq!(media.remote_rtp.unwrap().port(), 49170);
}

#[test]
fn hold_directions_are_answered_per_rfc3264_8_4() {
    let cases = [
        ("a=sendonly\r\n", "192.0.2.101", Direction::RecvOnly),
        ("a=recvonly\r\n", "192.0.2.101", Direction::SendOnly),
        ("a=inactive\r\n", "192.0.2.101", Direction::Inactive),
        ("a=sendrecv\r\n", "192.0.2.101", Direction::SendRecv),
        ("", "0.0.0.0", Direction::RecvOnly),
        ("a=recvonly\r\n", "0.0.0.0", Direction::Inactive),
    ];
    for (attr, addr, want) in cases {
        let offer = format!(
            "v=0\r\no=- 1 1 IN IP4 192.0.2.101\r\ns=-\r\nc=IN IP4 {addr}\r\nt=0 0\r\n\
             m=audio 49170 RTP/AVP 0\r\n{attr}"
        );
        let (answer, media) = ours().answer_offer(&sdp(&offer)).unwrap();
        assert_eq!(media.direction, want, "{attr} {addr}");
        assert_eq!(answer.media[0].direction(), Some(want));
        assert_eq!(media.remote_rtp.is_none(), addr == "0.0.0.0");
    }
    // a session-level direction applies to media without its own
    let offer = "v=0\r\no=- 1 1 IN IP4 192.0.2.101\r\ns=-\r\nc=IN IP4 192.0.2.101\r\nt=0 0\r\n\
                 a=sendonly\r\nm=audio 49170 RTP/AVP 0\r\n";
    let (_, media) = ours().answer_offer(&sdp(offer)).unwrap();
    assert_eq!(media.direction, Direction::RecvOnly);
}

#[test]
fn remote_hold_then_resume_with_changed_address_and_port() {
    let mut oa = ours();
    let first = offer_with("m=audio 49170 RTP/AVP 0 8\r\n");
    let (a1, m1) = oa.answer_offer(&sdp(&first)).unwrap();
    assert_eq!(m1.direction, Direction::SendRecv);
    let hold = "v=0\r\no=alice 2890844526 2890844527 IN IP4 h\r\ns=-\r\nc=IN IP4 192.0.2.101\r\n\
                t=0 0\r\nm=audio 49170 RTP/AVP 0 8\r\na=sendonly\r\n";
    let (a2, m2) = oa.answer_offer(&sdp(hold)).unwrap();
    assert_eq!(m2.direction, Direction::RecvOnly);
    assert_eq!(a2.origin.session_version, a1.origin.session_version + 1);
    let resume = "v=0\r\no=alice 2890844526 2890844528 IN IP4 h\r\ns=-\r\nc=IN IP4 192.0.2.202\r\n\
                  t=0 0\r\nm=audio 50000 RTP/AVP 8\r\na=rtcp:50011\r\n";
    let (a3, m3) = oa.answer_offer(&sdp(resume)).unwrap();
    assert_eq!(m3.direction, Direction::SendRecv);
    assert_eq!(m3.remote_rtp, Some("192.0.2.202:50000".parse().unwrap()));
    assert_eq!(m3.remote_rtcp, Some("192.0.2.202:50011".parse().unwrap()));
    assert_eq!((m3.codec, m3.payload_type), (Codec::Pcma, 8));
    assert_eq!(a3.origin.session_version, a2.origin.session_version + 1);
    assert_eq!(oa.negotiated(), Some(&m3));
    // the same offer again: an unchanged answer keeps its version (RFC 3264 §8)
    let (a4, _) = oa.answer_offer(&sdp(resume)).unwrap();
    assert_eq!(a4.origin.session_version, a3.origin.session_version);
}

#[test]
fn our_hold_and_media_change_in_reoffers() {
    let mut a = ours();
    let mut b = OfferAnswer::new(MediaConfig::new("192.0.2.2".parse().unwrap(), 6000), 9);
    let o1 = a.create_offer().to_string();
    let (ans, mb) = b.answer_offer(&sdp(&o1)).unwrap();
    let ma = a.process_answer(&sdp(&ans.to_string())).unwrap();
    assert_eq!(ma.remote_rtp, Some("192.0.2.2:6000".parse().unwrap()));
    assert_eq!(mb.remote_rtp, Some("192.0.2.1:4000".parse().unwrap()));
    assert_eq!(ma.telephone_event.unwrap().payload_type, 101);
    assert_eq!(ma.telephone_event.unwrap().events, EventSet::range(0, 16));

    a.set_direction(Direction::SendOnly);
    let o2 = a.create_offer();
    assert_eq!(o2.origin.session_version, 3_000_000_001);
    let (ans, mb) = b.answer_offer(&sdp(&o2.to_string())).unwrap();
    assert_eq!(mb.direction, Direction::RecvOnly);
    assert_eq!(ans.media[0].direction(), Some(Direction::RecvOnly));
    let ma = a.process_answer(&sdp(&ans.to_string())).unwrap();
    assert_eq!(ma.direction, Direction::SendOnly);

    a.set_direction(Direction::SendRecv);
    a.config_mut().address = "192.0.2.77".parse().unwrap();
    a.config_mut().rtp_port = 4100;
    let o3 = a.create_offer();
    assert_eq!(o3.origin.session_version, 3_000_000_002);
    let (_, mb) = b.answer_offer(&sdp(&o3.to_string())).unwrap();
    assert_eq!(mb.remote_rtp, Some("192.0.2.77:4100".parse().unwrap()));
    assert_eq!(mb.direction, Direction::SendRecv);
    // an offer identical to the last SDP sent keeps the version
    assert_eq!(a.create_offer().origin.session_version, 3_000_000_002);
}

#[test]
fn bad_answers_are_refused() {
    let mut a = ours();
    let stray = "v=0\r\no=- 1 1 IN IP4 192.0.2.2\r\ns=-\r\nc=IN IP4 192.0.2.2\r\nt=0 0\r\n\
                 m=audio 6000 RTP/AVP 0\r\n";
    assert_eq!(
        a.process_answer(&sdp(stray)).unwrap_err(),
        OfferAnswerError::NoOfferPending
    );
    let cases = [
        ("m=audio 0 RTP/AVP 0\r\n", OfferAnswerError::NoCommonCodec),
        (
            "m=audio 6000 RTP/AVP 18\r\n",
            OfferAnswerError::AnswerMismatch("no offered codec in the answer"),
        ),
        (
            "m=audio 6000 RTP/AVP 0\r\nm=video 0 RTP/AVP 31\r\n",
            OfferAnswerError::AnswerMismatch("number of m= lines differs"),
        ),
    ];
    for (media, want) in cases {
        a.create_offer();
        let text = format!(
            "v=0\r\no=- 1 1 IN IP4 192.0.2.2\r\ns=-\r\nc=IN IP4 192.0.2.2\r\nt=0 0\r\n{media}"
        );
        assert_eq!(a.process_answer(&sdp(&text)).unwrap_err(), want, "{media}");
        assert!(!a.offer_pending());
    }
}
