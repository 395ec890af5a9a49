use super::*;
use std::net::{Ipv4Addr, Ipv6Addr};

/// An offer shaped like Linphone's: Opus, G.711, DTMF, ZRTP hash and an SDES key.
pub(crate) const LINPHONE_OFFER: &str = "v=0\r\n\
o=alice 3456 1234 IN IP4 192.168.1.20\r\n\
s=Talk\r\n\
c=IN IP4 192.168.1.20\r\n\
b=AS:380\r\n\
t=0 0\r\n\
a=rtcp-xr:rcvr-rtt=all:10000 stat-summary=loss,dup,jitt,TTL voip-metrics\r\n\
a=record:off\r\n\
m=audio 7078 RTP/SAVP 96 0 8 101\r\n\
a=rtpmap:96 opus/48000/2\r\n\
a=fmtp:96 useinbandfec=1\r\n\
a=rtpmap:101 telephone-event/8000\r\n\
a=fmtp:101 0-16\r\n\
a=rtcp:7079\r\n\
a=zrtp-hash:1.10 fe30efd7cb7c4d2e2a1bef6a0f76a29b8f1e3ba8a4a3fc4b32ec8c5aa3d32b54\r\n\
a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^20|1:4\r\n\
a=rtcp-fb:* trr-int 1000\r\n\
a=rtcp-fb:* ccm tmmbr\r\n";

fn parse(s: &str) -> Result<SessionDescription, SdpError> {
    SessionDescription::parse(s.as_bytes())
}

fn pt(n: u8) -> PayloadType {
    PayloadType::new(n).unwrap()
}

#[test]
fn linphone_offer_parses_with_typed_accessors() {
    let sd = parse(LINPHONE_OFFER).unwrap();
    assert_eq!(sd.origin.session_version, 1234);
    assert_eq!(sd.origin.address, "192.168.1.20");
    assert_eq!(
        sd.connection,
        Some(Connection::new(IpAddr::V4(Ipv4Addr::new(192, 168, 1, 20))))
    );
    assert_eq!(sd.media.len(), 1);
    let m = &sd.media[0];
    assert_eq!(
        (m.kind.as_str(), m.port, m.proto.as_str()),
        ("audio", 7078, "RTP/SAVP")
    );
    assert_eq!(m.payload_types(), vec![pt(96), pt(0), pt(8), pt(101)]);
    let opus = m.rtpmap(pt(96)).unwrap();
    assert_eq!(
        (opus.encoding.as_str(), opus.clock_rate, opus.channels),
        ("opus", 48000, 2)
    );
    assert_eq!(m.fmtp(pt(96)), Some("useinbandfec=1"));
    assert_eq!(m.rtpmap(pt(0)), None, "static types need no rtpmap");
    assert_eq!(
        m.rtcp(),
        Some(Rtcp {
            port: 7079,
            address: None
        })
    );
    assert_eq!(sd.direction_for(m), Direction::SendRecv);
    assert!(m
        .attribute("zrtp-hash")
        .unwrap()
        .value
        .as_deref()
        .unwrap()
        .starts_with("1.10 "));
    assert_eq!(m.attribute_values("rtcp-fb").count(), 2);
}

#[test]
fn round_trip_is_byte_exact_and_keeps_unknown_lines() {
    let sd = parse(LINPHONE_OFFER).unwrap();
    assert_eq!(sd.to_string(), LINPHONE_OFFER);

    // Unmodelled lines go back in RFC 8866 order.
    let odd = "v=0\r\no=- 1 1 IN IP6 ::1\r\ns=-\r\ni=info\r\nu=http://x\r\nc=IN IP6 ::1\r\n\
        b=CT:64\r\nt=0 0\r\nr=604800 3600 0\r\nk=prompt\r\nx=unknown\r\na=group:BUNDLE 0\r\n\
        m=audio 9/2 RTP/AVP 0\r\ni=voice\r\nc=IN IP4 224.2.1.1/127/3\r\nb=AS:64\r\ny=what\r\n\
        a=ptime:20\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\n";
    let sd = parse(odd).unwrap();
    assert_eq!(sd.to_string(), odd);
    assert_eq!(sd.media[0].port_count, Some(2));
    assert_eq!(
        sd.media[0].connection.as_ref().unwrap().suffix.as_deref(),
        Some("127/3")
    );
    assert_eq!(sd.media[1].formats, vec!["webrtc-datachannel"]);
}

#[test]
fn lf_only_blank_lines_and_ipv6() {
    let text = "v=0\no=- 1 2 IN IP6 2001:db8::1\ns=\nc=IN IP6 2001:db8::1\nt=0 0\n\n\
        m=audio 5004 RTP/AVP 0\na=sendonly\na=ptime:30.5\na=maxptime:60\n";
    let sd = parse(text).unwrap();
    let addr: Ipv6Addr = "2001:db8::1".parse().unwrap();
    assert_eq!(sd.connection.as_ref().unwrap().address, IpAddr::V6(addr));
    assert_eq!(sd.session_name, "");
    let m = &sd.media[0];
    assert_eq!((m.ptime(), m.maxptime()), (Some(30), Some(60)));
    assert_eq!(sd.direction_for(m), Direction::SendOnly);
    // Printed back with CRLF and parsed again to the same value.
    let printed = sd.to_string();
    assert!(printed.contains("\r\nt=0 0\r\n"));
    assert_eq!(parse(&printed).unwrap(), sd);
}

#[test]
fn session_level_direction_and_media_override() {
    let base = "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n";
    let sd = parse(&format!("{base}a=inactive\r\nm=audio 1 RTP/AVP 0\r\n")).unwrap();
    assert_eq!(sd.direction_for(&sd.media[0]), Direction::Inactive);
    let sd = parse(&format!(
        "{base}a=inactive\r\nm=audio 1 RTP/AVP 0\r\na=recvonly\r\n"
    ))
    .unwrap();
    assert_eq!(sd.direction_for(&sd.media[0]), Direction::RecvOnly);
    let mut m = sd.media[0].clone();
    m.set_direction(Direction::SendOnly);
    assert_eq!(m.direction(), Some(Direction::SendOnly));
    assert_eq!(m.attributes.len(), 1);
}

#[test]
fn rtcp_attribute_with_address() {
    let sd = parse(
        "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n\
         m=audio 4000 RTP/AVP 0\r\na=rtcp:53020 IN IP4 126.16.64.4\r\n",
    )
    .unwrap();
    let rtcp = sd.media[0].rtcp().unwrap();
    assert_eq!(rtcp.port, 53020);
    assert_eq!(
        rtcp.address,
        Some(IpAddr::V4(Ipv4Addr::new(126, 16, 64, 4)))
    );
}

#[test]
fn malformed_input_is_a_typed_error() {
    let head = "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n";
    let no_c = "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 1 RTP/AVP 0\r\n";
    let cases: Vec<(String, SdpError)> = vec![
        (String::new(), SdpError::MissingLine('v')),
        (
            "o=- 1 1 IN IP4 1.2.3.4\r\n".into(),
            SdpError::MissingLine('v'),
        ),
        ("v=1\r\n".into(), SdpError::BadVersion { line: 1 }),
        ("v=0\r\ns=-\r\nt=0 0\r\n".into(), SdpError::MissingLine('o')),
        (
            "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nt=0 0\r\n".into(),
            SdpError::MissingLine('s'),
        ),
        (
            "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\n".into(),
            SdpError::MissingLine('t'),
        ),
        (no_c.into(), SdpError::MissingConnection { media: 1 }),
        (
            "v=0\r\no=- 1 x IN IP4 1.2.3.4\r\n".into(),
            SdpError::BadOrigin { line: 2 },
        ),
        (
            "v=0\r\no=- 1 1 IN IP4\r\n".into(),
            SdpError::BadOrigin { line: 2 },
        ),
        (
            format!("{head}c=IN IP4 1.1.1.1\r\n"),
            SdpError::DuplicateLine { line: 6, kind: 'c' },
        ),
        (
            format!("{head}m=audio 1 RTP/AVP 0\r\nc=IN IP4 ::1\r\n"),
            SdpError::BadConnection { line: 7 },
        ),
        (
            format!("{head}m=audio 1 RTP/AVP 0\r\nc=IN IP4 host.example\r\n"),
            SdpError::BadConnection { line: 7 },
        ),
        (
            format!("{head}m=audio 70000 RTP/AVP 0\r\n"),
            SdpError::BadPort { line: 6 },
        ),
        (
            format!("{head}m=audio -1 RTP/AVP 0\r\n"),
            SdpError::BadPort { line: 6 },
        ),
        (
            format!("{head}m=audio 1/x RTP/AVP 0\r\n"),
            SdpError::BadPort { line: 6 },
        ),
        (
            format!("{head}m=audio 1 RTP/AVP 128\r\n"),
            SdpError::BadPayloadType { line: 6 },
        ),
        (
            format!("{head}m=audio 1 RTP/AVP +8\r\n"),
            SdpError::BadPayloadType { line: 6 },
        ),
        (
            format!("{head}m=audio 1 RTP/AVP\r\n"),
            SdpError::BadMedia { line: 6 },
        ),
        (
            format!("{head}m=audio 1 RTP/AVP 0\r\nt=0 0\r\n"),
            SdpError::UnexpectedLine { line: 7, kind: 't' },
        ),
        (format!("{head}t=0\r\n"), SdpError::BadTiming { line: 6 }),
        (
            format!("{head}M=audio\r\n"),
            SdpError::MalformedLine { line: 6 },
        ),
        (
            format!("{head}garbage\r\n"),
            SdpError::MalformedLine { line: 6 },
        ),
        (
            format!("{head}a=rtpmap:96 opus\r\n"),
            SdpError::BadAttribute {
                line: 6,
                name: "rtpmap".into(),
            },
        ),
        (
            format!("{head}a=rtpmap:96 opus/0\r\n"),
            SdpError::BadAttribute {
                line: 6,
                name: "rtpmap".into(),
            },
        ),
        (
            format!("{head}a=ptime:soon\r\n"),
            SdpError::BadAttribute {
                line: 6,
                name: "ptime".into(),
            },
        ),
        (
            format!("{head}a=:x\r\n"),
            SdpError::BadAttribute {
                line: 6,
                name: String::new(),
            },
        ),
    ];
    for (input, expected) in cases {
        assert_eq!(parse(&input), Err(expected), "input {input:?}");
    }
    assert_eq!(
        SessionDescription::parse(b"v=0\r\no=\xff\r\n"),
        Err(SdpError::NotUtf8)
    );
}

#[test]
fn limits_are_enforced() {
    let head = "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n";
    let huge = format!("{head}a=x:{}\r\n", "y".repeat(MAX_SDP_LEN));
    assert!(matches!(parse(&huge), Err(SdpError::TooLarge { .. })));

    let media = "m=audio 1 RTP/AVP 0\r\n".repeat(MAX_MEDIA + 1);
    assert_eq!(
        parse(&format!("{head}{media}")),
        Err(SdpError::TooMany {
            what: "m= sections",
            max: MAX_MEDIA
        })
    );
    let formats = " 0".repeat(MAX_FORMATS + 1);
    assert_eq!(
        parse(&format!("{head}m=audio 1 RTP/AVP{formats}\r\n")),
        Err(SdpError::TooMany {
            what: "formats",
            max: MAX_FORMATS
        })
    );
    let attrs = "a=x\r\n".repeat(MAX_ATTRIBUTES + 1);
    assert_eq!(
        parse(&format!("{head}{attrs}")),
        Err(SdpError::TooMany {
            what: "attributes",
            max: MAX_ATTRIBUTES
        })
    );
}

#[test]
fn arbitrary_bytes_never_panic() {
    // A cheap deterministic fuzz pass over mutations of a real offer.
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let base = LINPHONE_OFFER.as_bytes();
    for _ in 0..2000 {
        let mut bytes = base.to_vec();
        for _ in 0..4 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let at = (state % bytes.len() as u64) as usize;
            bytes[at] = (state >> 32) as u8;
        }
        if let Ok(sd) = SessionDescription::parse(&bytes) {
            // Whatever parses must print to something that parses to the same value.
            assert_eq!(SessionDescription::parse(&sd.to_bytes()).as_ref(), Ok(&sd));
        }
    }
}
