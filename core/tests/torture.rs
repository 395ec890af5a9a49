//! The SIP torture set (tests/torture/*.sip, in the style of RFC 4475) run through the parser,
//! plus one test per robustness gap asserting exactly what was parsed.
//!
//! The verdict is in each file name: `valid-` (parses and round-trips), `invalid-` (400),
//! `version-` (505, `VersionNotSupported`), `scheme-` (416, `UnsupportedScheme`).

use std::path::PathBuf;

use sipher::sip::framing::{Frame, StreamFramer};
use sipher::sip::parse::{parse_message, ParseError, ParseErrorKind};
use sipher::sip::{
    HeaderAccess, HeaderError, HeaderName, Host, Method, Request, Scheme, SipMessage, Transport,
};

#[test]
fn every_torture_message_gets_its_verdict() {
    let files = torture_files();
    assert!(files.len() >= 30, "only {} torture files", files.len());
    let mut failures = Vec::new();
    for (name, data) in &files {
        let result = parse_message(data);
        let ok = match (name.split('-').next(), &result) {
            (Some("valid"), Ok(msg)) => match parse_message(&msg.to_bytes()) {
                Ok(again) if again == *msg => true,
                other => {
                    failures.push(format!("{name}: round trip gave {other:?}"));
                    continue;
                }
            },
            (Some("invalid"), Err(e)) => !matches!(
                e.kind,
                ParseErrorKind::VersionNotSupported(_) | ParseErrorKind::UnsupportedScheme(_)
            ),
            (Some("version"), Err(e)) => matches!(e.kind, ParseErrorKind::VersionNotSupported(_)),
            (Some("scheme"), Err(e)) => matches!(e.kind, ParseErrorKind::UnsupportedScheme(_)),
            _ => false,
        };
        if !ok {
            failures.push(format!("{name}: {:?}", result.map(|_| "parsed")));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn line_folding_is_unfolded_into_one_value() {
    let r = request("valid-folded-subject");
    assert_eq!(
        r.headers.get(&HeaderName::Subject),
        Some("I know you're there, pick up the phone and talk to me!")
    );
}

#[test]
fn unusual_spacing_folding_and_space_before_colon() {
    let r = request("valid-unusual-spacing-and-folding");
    assert_eq!(r.to_header().unwrap().tag().unwrap().0, "1918181833n");
    let from = r.from_header().unwrap();
    assert_eq!(from.display.as_deref(), Some("J Rosenberg \\\""));
    assert_eq!(from.tag().unwrap().0, "98asjd8");
    let cseq = r.cseq().unwrap();
    assert_eq!((cseq.seq, cseq.method), (9, Method::Invite));
    let vias = r.vias().unwrap();
    let hosts: Vec<_> = vias
        .iter()
        .map(|v| (v.transport, v.host.as_str()))
        .collect();
    assert_eq!(
        hosts,
        [
            (Transport::Udp, "192.0.2.2"),
            (Transport::Tcp, "spindle.example.com"),
            (Transport::Udp, "192.168.255.111"),
        ]
    );
    assert_eq!(vias[2].branch().unwrap().0, "z9hG4bK30239");
    let contact = &r.contacts().unwrap()[0];
    assert_eq!(contact.display.as_deref(), Some("Quoted string \"\""));
    assert_eq!(contact.params.value("q"), Some("0.33"));
    assert_eq!(
        r.headers.get(&HeaderName::Other("NewFangledHeader".into())),
        Some("newfangled value continued newfangled value")
    );
    // `Content-Length   :` was understood: the body is exactly the SDP.
    assert!(r.body.starts_with(b"v=0\r\n") && r.body.ends_with(b"PCMU/8000\r\n"));
}

#[test]
fn ipv6_request_uri_and_via() {
    let r = request("valid-ipv6-request-uri-and-via");
    assert_eq!(r.uri.host, Host::V6("2001:db8::10".parse().unwrap()));
    assert_eq!(r.uri.port, Some(5070));
    let via = r.top_via().unwrap();
    assert_eq!(via.host, "[2001:db8::9:1]");
    assert_eq!(via.port, Some(5070));
    assert_eq!(via.params.value("received"), Some("[2001:db8::9:255]"));
}

#[test]
fn malformed_ipv6_references_are_rejected() {
    for name in [
        "invalid-ipv6-unclosed-bracket",
        "invalid-ipv6-without-brackets",
        "invalid-ipv6-bad-address",
    ] {
        let e = error(name);
        assert!(
            matches!(
                &e.kind,
                ParseErrorKind::Header(HeaderError::Malformed {
                    header: "Request-URI",
                    ..
                })
            ),
            "{name}: {e:?}"
        );
    }
    let e = error("invalid-ipv6-via-host");
    assert!(matches!(
        &e.kind,
        ParseErrorKind::Header(HeaderError::Malformed { header: "Via", .. })
    ));
    assert!(
        e.request.is_some(),
        "a bad Via still leaves a request to answer"
    );
}

#[test]
fn extension_method_is_kept_by_name() {
    let r = request("valid-extension-method");
    assert_eq!(r.method, Method::Extension("NEWMETHOD".into()));
    assert_eq!(r.cseq().unwrap().method, r.method);
    assert_eq!(r.body, b"opaque");
}

#[test]
fn escaped_user_is_unescaped_and_params_kept_as_sent() {
    let r = request("valid-escaped-user-and-params");
    assert_eq!(r.uri.user.as_deref(), Some("sips:user@example.com"));
    assert_eq!(r.uri.host, Host::Domain("example.net".into()));
    assert_eq!(
        r.uri.params.0,
        [("param%20name".to_string(), Some("value%20x".to_string()))]
    );
    assert_eq!(r.from_header().unwrap().uri.user.as_deref(), Some("alice"));
    let r = request("valid-semicolon-in-user");
    assert_eq!(r.uri.user.as_deref(), Some("user;par=u@example.net"));
    assert_eq!(r.uri.host, Host::Domain("example.com".into()));
    let r = request("valid-escaped-uri-headers");
    assert_eq!(
        r.uri.headers,
        [
            ("Route".to_string(), "%3Csip:example.com%3E".to_string()),
            ("Subject".to_string(), "hi%20there".to_string())
        ]
    );
}

#[test]
fn compact_header_names_are_expanded() {
    let r = request("valid-compact-headers");
    let names: Vec<_> = r
        .headers
        .iter()
        .map(|h| h.name.as_str().to_string())
        .collect();
    assert_eq!(
        names,
        [
            "Via",
            "Call-ID",
            "From",
            "To",
            "Contact",
            "Supported",
            "Supported",
            "Subject",
            "Content-Encoding",
            "Event",
            "CSeq",
            "Content-Type",
        ]
    );
    assert_eq!(r.call_id().unwrap().0, "compact-1@client.example.com");
    assert_eq!(r.body, b"hello");
    assert_eq!(
        r.contacts().unwrap()[0].uri.transport_param(),
        Some(Transport::Tcp)
    );
}

#[test]
fn comma_joined_list_values_are_split() {
    let r = request("valid-comma-joined-vias");
    let vias = r.vias().unwrap();
    assert_eq!(vias.len(), 2);
    assert_eq!(
        (vias[0].host.as_str(), vias[0].port),
        ("proxy.example.com", None)
    );
    assert_eq!(
        (vias[1].transport, vias[1].port),
        (Transport::Tcp, Some(5062))
    );

    let r = request("valid-quoted-comma-in-contact-list");
    let contacts = r.contacts().unwrap();
    // One Contact line of the base INVITE, then two from the comma-joined line.
    assert_eq!(contacts.len(), 3, "the comma inside quotes does not split");
    assert_eq!(contacts[1].display.as_deref(), Some("Doe, John"));
    assert_eq!(contacts[2].params.value("q"), Some("0.1"));

    let r = request("valid-uri-and-header-params");
    let routes: Vec<_> = r.headers.get_all(&HeaderName::Route).collect();
    assert_eq!(
        routes,
        [
            "<sip:p1.example.com;lr>",
            "<sip:p2.example.com;lr;transport=tcp>"
        ]
    );

    let r = request("valid-register-contact-star");
    assert_eq!(r.headers.get(&HeaderName::Contact), Some("*"));
    assert!(r.contacts().unwrap().is_empty());
}

#[test]
fn uri_params_and_header_params_are_told_apart() {
    let r = request("valid-uri-and-header-params");
    let from = r.from_header().unwrap();
    assert!(
        from.uri.params.0.is_empty(),
        "addr-spec: ;tag belongs to the header"
    );
    assert_eq!(from.tag().unwrap().0, "addrspec");
    let to = r.to_header().unwrap();
    assert_eq!(to.uri.params.value("user"), Some("phone"));
    assert_eq!(to.params.value("custom"), Some("1"));
    assert!(!to.params.contains("user"));
}

#[test]
fn escaped_display_name_is_unescaped() {
    let r = request("valid-escaped-display-name");
    let from = r.from_header().unwrap();
    assert_eq!(
        from.display.as_deref(),
        Some("Alice \"the \\ boss\" O'Neil")
    );
    assert_eq!(r.to_header().unwrap().display.as_deref(), Some("Bob Smith"));
}

#[test]
fn content_length_rules() {
    for name in [
        "invalid-content-length-negative",
        "invalid-content-length-non-numeric",
        "invalid-content-length-overlarge",
        "invalid-content-length-truncated",
        "invalid-content-length-conflicting",
    ] {
        let e = error(name);
        assert!(
            matches!(e.kind, ParseErrorKind::ContentLength(_)),
            "{name}: {e:?}"
        );
        assert!(
            e.request.is_some(),
            "{name}: the request is kept to answer 400"
        );
    }
    assert_eq!(
        request("valid-body-longer-than-content-length").body,
        b"hello"
    );
    assert_eq!(
        request("valid-no-content-length-datagram").body,
        b"the whole rest is the body"
    );
    let r = request("valid-binary-body");
    assert_eq!(r.body.len(), 256 + 5);
    assert_eq!(r.body[255], 0xff);
}

#[test]
fn case_insensitive_names_and_version() {
    let r = request("valid-lowercase-version-and-names");
    assert_eq!(r.call_id().unwrap().0, "lowercase@pc1.example.com");
    assert_eq!(r.top_via().unwrap().transport, Transport::Udp);
}

#[test]
fn other_versions_are_505_with_the_request_kept() {
    let e = error("version-sip-7");
    assert_eq!(
        e.kind,
        ParseErrorKind::VersionNotSupported("SIP/7.0".into())
    );
    let req = e.request.expect("request kept for the 505");
    assert_eq!(req.method, Method::Invite);
    assert_eq!(
        req.call_id().unwrap().0,
        "3848276298220188511@pc1.example.com"
    );
    assert!(matches!(
        error("version-response-sip-3").kind,
        ParseErrorKind::VersionNotSupported(_)
    ));
}

#[test]
fn mandatory_headers_and_cseq_method() {
    let e = error("invalid-missing-call-id");
    assert_eq!(
        e.kind,
        ParseErrorKind::Header(HeaderError::Missing("Call-ID"))
    );
    assert!(e.request.is_some());
    assert_eq!(
        error("invalid-missing-via").kind,
        ParseErrorKind::Header(HeaderError::Missing("Via"))
    );
    assert_eq!(
        error("invalid-missing-from").kind,
        ParseErrorKind::Header(HeaderError::Missing("From"))
    );
    let e = error("invalid-cseq-method-mismatch");
    assert!(matches!(
        &e.kind,
        ParseErrorKind::Header(HeaderError::Malformed { header: "CSeq", .. })
    ));
    assert!(e.request.is_some());
    assert!(error("invalid-response-missing-cseq").request.is_none());
    assert_eq!(request("valid-no-max-forwards").method, Method::Bye);
}

#[test]
fn hostile_input_limits() {
    for name in [
        "invalid-nul-in-header",
        "invalid-control-char-in-header",
        "invalid-binary",
    ] {
        let e = error(name);
        assert!(matches!(e.kind, ParseErrorKind::Syntax(_)), "{name}: {e:?}");
        assert!(e.request.is_none());
    }
    assert_eq!(
        error("invalid-too-many-headers").kind,
        ParseErrorKind::TooManyHeaders
    );
    assert_eq!(error("invalid-too-large").kind, ParseErrorKind::TooLarge);
    assert_eq!(
        error("scheme-tel-request-uri").kind,
        ParseErrorKind::UnsupportedScheme("tel".into())
    );
    assert!(matches!(
        error("invalid-port-too-large").kind,
        ParseErrorKind::Header(_)
    ));
    assert!(matches!(
        error("invalid-status-code-out-of-range").kind,
        ParseErrorKind::Syntax(_)
    ));
}

#[test]
fn leading_crlf_sips_and_responses() {
    assert_eq!(request("valid-leading-crlf").method, Method::Options);
    let r = request("valid-sips-uri");
    assert_eq!(r.uri.scheme, Scheme::Sips);
    assert_eq!(r.top_via().unwrap().transport, Transport::Tls);
    let SipMessage::Response(resp) = parse("valid-empty-reason-phrase").unwrap() else {
        panic!("not a response")
    };
    assert_eq!((resp.status.code(), resp.reason.as_str()), (200, ""));
    let SipMessage::Response(resp) = parse("valid-response-utf8-reason").unwrap() else {
        panic!("not a response")
    };
    assert_eq!(resp.reason, "Occupé, rappelez plus tard ☎");
}

/// Every prefix and many single-byte corruptions of every torture message: no panic, and
/// the stream framer cuts the valid messages back out of one concatenated stream.
#[test]
fn corrupted_messages_never_panic_and_framer_recovers_messages() {
    let files = torture_files();
    for (_, data) in &files {
        for cut in (0..data.len()).step_by(7) {
            let _ = parse_message(&data[..cut]);
        }
        for (i, byte) in [0u8, b'\r', b'\n', b' ', b':', b';', b'<', b'"', b'%', 0xff]
            .iter()
            .enumerate()
        {
            let mut bad = data.clone();
            for at in (i..bad.len()).step_by(31) {
                bad[at] = *byte;
                let _ = parse_message(&bad);
            }
        }
    }

    let valid: Vec<_> = files
        .iter()
        .filter(|(n, _)| n.starts_with("valid-") && !n.contains("no-content-length"))
        .filter_map(|(_, d)| parse_message(d).ok())
        .collect();
    let mut framer = StreamFramer::new();
    let mut frames = Vec::new();
    for msg in &valid {
        for chunk in msg.to_bytes().chunks(97) {
            framer.push(chunk);
            // Bounded: each frame consumes bytes of a finite buffer.
            for _ in 0..100 {
                match framer.next() {
                    Some(f) => frames.push(f.expect("valid stream")),
                    None => break,
                }
            }
        }
    }
    let parsed: Vec<_> = frames
        .iter()
        .map(|f| match f {
            Frame::Message(m) => parse_message(m).expect("framed message parses"),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(parsed, valid);
}

fn torture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/torture")
}

fn torture_files() -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<_> = std::fs::read_dir(torture_dir())
        .expect("tests/torture exists")
        .filter_map(|e| {
            let path = e.ok()?.path();
            let name = path
                .file_name()?
                .to_str()?
                .strip_suffix(".sip")?
                .to_string();
            Some((name, std::fs::read(&path).ok()?))
        })
        .collect();
    files.sort();
    files
}

fn parse(name: &str) -> Result<SipMessage, ParseError> {
    let data = std::fs::read(torture_dir().join(format!("{name}.sip"))).expect(name);
    parse_message(&data)
}

fn request(name: &str) -> Request {
    match parse(name) {
        Ok(SipMessage::Request(r)) => r,
        other => panic!("{name}: {other:?}"),
    }
}

fn error(name: &str) -> ParseError {
    match parse(name) {
        Err(e) => e,
        Ok(m) => panic!("{name} parsed: {m:?}"),
    }
}
