use super::*;
use crate::sdp::session::tests::LINPHONE_OFFER;
use std::net::Ipv4Addr;

fn pt(n: u8) -> PayloadType {
    PayloadType::new(n).unwrap()
}

fn ip(last: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(10, 0, 0, last))
}

fn config(last: u8, port: u16, codecs: Vec<Codec>) -> MediaConfig {
    MediaConfig::new(SocketAddr::new(ip(last), port), codecs)
}

/// Sends a description over the "wire": print and parse, as a peer would see it.
fn wire(sd: &SessionDescription) -> SessionDescription {
    SessionDescription::parse(&sd.to_bytes()).unwrap()
}

fn linphone() -> SessionDescription {
    SessionDescription::parse(LINPHONE_OFFER.as_bytes()).unwrap()
}

#[test]
fn offer_lists_codecs_in_order_with_dtmf_and_ptime() {
    let cfg = config(
        1,
        4000,
        vec![Codec::opus(pt(96)), Codec::pcmu(), Codec::pcma()],
    );
    let offer = wire(&create_offer(&cfg, 42, 7, ip(1)));
    let text = offer.to_string();
    assert!(text.contains("o=sipher 42 7 IN IP4 10.0.0.1\r\n"), "{text}");
    assert!(text.contains("c=IN IP4 10.0.0.1\r\n"));
    assert!(
        text.contains("m=audio 4000 RTP/AVP 96 0 8 101\r\n"),
        "{text}"
    );
    assert!(text.contains("a=rtpmap:96 opus/48000/2\r\na=fmtp:96 useinbandfec=1\r\n"));
    assert!(text.contains("a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\n"));
    assert!(text.contains("a=ptime:20\r\na=sendrecv\r\n"));

    let mut no_dtmf = cfg.clone();
    no_dtmf.telephone_event = None;
    no_dtmf.codecs.push(Codec::pcmu()); // a duplicate must not appear twice
    let offer = create_offer(&no_dtmf, 42, 7, ip(1));
    assert_eq!(offer.media[0].formats, vec!["96", "0", "8"]);
}

#[test]
fn answer_to_linphone_keeps_offer_payload_types_and_unknown_lines_survive() {
    let mut bob = config(
        2,
        5000,
        vec![Codec::pcma(), Codec::opus(pt(111)).with_fmtp("stereo=0")],
    );
    bob.profiles.push("RTP/SAVP".into());
    let offer = linphone();
    let (answer, at_bob) = create_answer(&offer, &bob, 9, 1, ip(2)).unwrap();
    let answer = wire(&answer);
    let m = &answer.media[0];
    // Offer order, offerer's numbers; our fmtp for what we receive.
    assert_eq!(m.formats, vec!["96", "8", "101"]);
    assert_eq!(m.proto, "RTP/SAVP");
    assert_eq!(m.fmtp(pt(96)), Some("stereo=0"));
    assert_eq!(at_bob.codec.name, "opus");
    assert_eq!(at_bob.codec.payload_type, pt(96));
    assert_eq!(at_bob.codec.fmtp.as_deref(), Some("useinbandfec=1"));
    assert_eq!(at_bob.codecs.len(), 2);
    assert_eq!(at_bob.telephone_event, Some(pt(101)));
    assert_eq!(at_bob.remote_rtp, "192.168.1.20:7078".parse().unwrap());
    assert_eq!(
        at_bob.remote_rtcp,
        Some("192.168.1.20:7079".parse().unwrap())
    );
    assert_eq!(at_bob.ptime, None);

    let at_alice = process_answer(&offer, &answer).unwrap();
    assert_eq!(at_alice.codec.payload_type, pt(96));
    assert_eq!(at_alice.codec.fmtp.as_deref(), Some("stereo=0"));
    assert_eq!(at_alice.remote_rtp, SocketAddr::new(ip(2), 5000));
    assert_eq!(at_alice.ptime, Some(20));
    assert_eq!(at_alice.telephone_event, Some(pt(101)));
    assert_eq!(at_alice.proto, "RTP/SAVP");
}

#[test]
fn codec_matching_rules() {
    let base = "v=0\r\no=- 1 1 IN IP4 10.0.0.9\r\ns=-\r\nc=IN IP4 10.0.0.9\r\nt=0 0\r\n";
    // (media section, our codecs, expected codec name and payload type)
    type Case = (&'static str, Vec<Codec>, Option<(&'static str, u8)>);
    let cases: &[Case] = &[
        // Names compare case-insensitively.
        (
            "m=audio 1 RTP/AVP 98\r\na=rtpmap:98 OPUS/48000/2\r\n",
            vec![Codec::opus(pt(96))],
            Some(("OPUS", 98)),
        ),
        // Channel count and clock rate must agree.
        (
            "m=audio 1 RTP/AVP 98\r\na=rtpmap:98 opus/48000\r\n",
            vec![Codec::opus(pt(96))],
            None,
        ),
        (
            "m=audio 1 RTP/AVP 98\r\na=rtpmap:98 PCMU/16000\r\n",
            vec![Codec::pcmu()],
            None,
        ),
        // Static types without rtpmap; an unknown dynamic type without rtpmap is skipped.
        (
            "m=audio 1 RTP/AVP 97 9 8\r\n",
            vec![Codec::pcma(), Codec::g722()],
            Some(("G722", 9)),
        ),
        // A static number remapped by rtpmap follows the rtpmap.
        (
            "m=audio 1 RTP/AVP 0\r\na=rtpmap:0 PCMA/8000\r\n",
            vec![Codec::pcma()],
            Some(("PCMA", 0)),
        ),
        // telephone-event alone is not a codec.
        (
            "m=audio 1 RTP/AVP 101\r\na=rtpmap:101 telephone-event/8000\r\n",
            vec![Codec::pcmu()],
            None,
        ),
    ];
    for (media, codecs, expected) in cases {
        let offer = SessionDescription::parse(format!("{base}{media}").as_bytes()).unwrap();
        let result = create_answer(&offer, &config(2, 5000, codecs.clone()), 1, 1, ip(2));
        match (result, expected) {
            (Ok((_, n)), Some((name, number))) => {
                assert_eq!(
                    (n.codec.name.as_str(), n.codec.payload_type),
                    (*name, pt(*number))
                );
            }
            (Err(SdpError::NoCommonCodec { .. }), None) => {}
            (other, _) => panic!("{media:?}: unexpected {other:?}"),
        }
    }
}

#[test]
fn direction_matrix() {
    use Direction::*;
    // (offer direction, answerer's wish, expected answer direction) per RFC 3264 §6.1.
    let matrix = [
        (SendRecv, SendRecv, SendRecv),
        (SendOnly, SendRecv, RecvOnly),
        (RecvOnly, SendRecv, SendOnly),
        (Inactive, SendRecv, Inactive),
        (SendRecv, SendOnly, SendOnly),
        (SendOnly, SendOnly, Inactive),
        (RecvOnly, RecvOnly, Inactive),
        (SendRecv, Inactive, Inactive),
    ];
    for (offer_dir, wish, expected) in matrix {
        let mut alice = config(1, 4000, vec![Codec::pcmu()]);
        alice.direction = offer_dir;
        let mut bob = config(2, 5000, vec![Codec::pcmu()]);
        bob.direction = wish;
        let offer = wire(&create_offer(&alice, 1, 1, ip(1)));
        let (answer, at_bob) = create_answer(&offer, &bob, 2, 1, ip(2)).unwrap();
        let answer = wire(&answer);
        assert_eq!(
            answer.media[0].direction(),
            Some(expected),
            "{offer_dir:?}/{wish:?}"
        );
        assert_eq!(at_bob.local_direction, expected);
        assert_eq!(at_bob.remote_direction, offer_dir);
        let at_alice = process_answer(&offer, &answer).unwrap();
        assert_eq!(
            at_alice.local_direction,
            expected.reversed(),
            "{offer_dir:?}/{wish:?}"
        );
        assert_eq!(at_alice.remote_direction, expected);
    }
}

#[test]
fn no_common_codec_rejects_with_port_zero() {
    let offer = linphone();
    let mut bob = config(2, 5000, vec![Codec::g722()]);
    bob.profiles.push("RTP/SAVP".into());
    let Err(SdpError::NoCommonCodec {
        answer: Some(answer),
    }) = create_answer(&offer, &bob, 1, 1, ip(2))
    else {
        panic!("expected NoCommonCodec with an answer");
    };
    let answer = wire(&answer);
    assert_eq!(answer.media.len(), 1);
    assert_eq!(answer.media[0].port, 0);
    assert_eq!(answer.media[0].formats, offer.media[0].formats);
    assert_eq!(
        process_answer(&offer, &answer),
        Err(SdpError::StreamRejected)
    );

    // A profile we do not accept is as good as no codec at all.
    let plain = config(2, 5000, vec![Codec::pcmu()]);
    assert!(matches!(
        create_answer(&offer, &plain, 1, 1, ip(2)),
        Err(SdpError::NoCommonCodec { answer: Some(_) })
    ));
}

#[test]
fn extra_streams_are_rejected_and_audio_found_by_position() {
    let offer = SessionDescription::parse(
        b"v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n\
          m=video 6000 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n\
          m=audio 0 RTP/AVP 0\r\n\
          m=audio 4000 RTP/AVP 8 0\r\nc=IN IP4 10.0.0.7\r\n\
          m=audio 4002 RTP/AVP 0\r\n",
    )
    .unwrap();
    let bob = config(2, 5000, vec![Codec::pcmu(), Codec::pcma()]);
    let (answer, at_bob) = create_answer(&offer, &bob, 1, 1, ip(2)).unwrap();
    let ports: Vec<u16> = answer.media.iter().map(|m| m.port).collect();
    assert_eq!(ports, vec![0, 0, 5000, 0]);
    assert_eq!(at_bob.remote_rtp, SocketAddr::new(ip(7), 4000));
    assert_eq!(at_bob.codec.name, "PCMA");
    let at_alice = process_answer(&offer, &wire(&answer)).unwrap();
    assert_eq!(at_alice.codec.name, "PCMA");
    assert_eq!(at_alice.remote_rtp, SocketAddr::new(ip(2), 5000));
}

#[test]
fn process_answer_catches_peer_mistakes() {
    let alice = config(1, 4000, vec![Codec::pcmu(), Codec::pcma()]);
    let offer = create_offer(&alice, 1, 1, ip(1));
    let answer = |media: &str| {
        let text = format!(
            "v=0\r\no=- 1 1 IN IP4 10.0.0.2\r\ns=-\r\nc=IN IP4 10.0.0.2\r\nt=0 0\r\n{media}"
        );
        SessionDescription::parse(text.as_bytes()).unwrap()
    };
    assert_eq!(
        process_answer(
            &offer,
            &answer("m=audio 5 RTP/AVP 0\r\nm=audio 6 RTP/AVP 0\r\n")
        ),
        Err(SdpError::AnswerMismatch {
            what: "number of m= lines"
        })
    );
    assert_eq!(
        process_answer(&offer, &answer("m=audio 5 RTP/SAVP 0\r\n")),
        Err(SdpError::AnswerMismatch {
            what: "RTP profile"
        })
    );
    assert_eq!(
        process_answer(&offer, &answer("m=audio 5 RTP/AVP 9 18\r\n")),
        Err(SdpError::NoCommonCodec { answer: None })
    );
    // A payload type we never offered is skipped, not used.
    let n = process_answer(&offer, &answer("m=audio 5 RTP/AVP 9 8\r\n")).unwrap();
    assert_eq!(
        n.codecs.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
        vec!["PCMA"]
    );
}

#[test]
fn hold_and_resume() {
    let alice = config(1, 4000, vec![Codec::pcmu()]);
    let bob = config(2, 5000, vec![Codec::pcmu()]);
    let offer = create_offer(&alice, 1, 1, ip(1));

    let hold = wire(&hold_offer(&offer));
    assert_eq!(hold.origin.session_version, 2);
    assert_eq!(hold.origin.session_id, offer.origin.session_id);
    assert_eq!(hold.media[0].direction(), Some(Direction::SendOnly));
    let (answer, at_bob) = create_answer(&hold, &bob, 5, 2, ip(2)).unwrap();
    assert_eq!(answer.media[0].direction(), Some(Direction::RecvOnly));
    assert_eq!(at_bob.local_direction, Direction::RecvOnly);
    let at_alice = process_answer(&hold, &wire(&answer)).unwrap();
    assert_eq!(at_alice.local_direction, Direction::SendOnly);

    // Bob has Alice on hold too: his answer is inactive.
    let bob_holding = MediaConfig {
        direction: Direction::SendOnly,
        ..bob.clone()
    };
    let (answer, _) = create_answer(&hold, &bob_holding, 5, 3, ip(2)).unwrap();
    assert_eq!(answer.media[0].direction(), Some(Direction::Inactive));

    let resume = wire(&resume_offer(&hold));
    assert_eq!(resume.origin.session_version, 3);
    assert_eq!(resume.media[0].direction(), Some(Direction::SendRecv));
    assert!(resume.media[0]
        .attributes
        .iter()
        .all(|a| a.name != "sendonly"));
    let (_, at_bob) = create_answer(&resume, &bob, 5, 4, ip(2)).unwrap();
    assert_eq!(at_bob.local_direction, Direction::SendRecv);
}
