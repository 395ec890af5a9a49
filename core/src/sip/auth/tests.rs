use super::*;
use rand::rngs::StdRng;
use rand::SeedableRng;

/// Pulls one parameter out of a credentials value we produced.
fn param(creds: &str, name: &str) -> Option<String> {
    let raw = parse_auth_header(creds).unwrap().pop().unwrap();
    raw.params
        .into_iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v)
}

#[test]
fn rfc2617_example_md5_qop_auth() {
    let c = Challenge::parse(
        r#"Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41""#,
    )
    .unwrap();
    assert_eq!(c.algorithm, Algorithm::Md5);
    assert_eq!(c.qop, vec![Qop::Auth, Qop::AuthInt]);
    let mut client = DigestClient::new(c.clone());
    let creds = client.authorization_with_cnonce(
        "GET",
        "/dir/index.html",
        "Mufasa",
        "Circle Of Life",
        b"",
        "0a4f113b",
    );
    assert_eq!(
        param(&creds, "response").unwrap(),
        "6629fae49393a05397450978507c4ef1"
    );
    assert_eq!(param(&creds, "nc").unwrap(), "00000001");
    assert_eq!(param(&creds, "qop").unwrap(), "auth");
    assert_eq!(
        param(&creds, "opaque").unwrap(),
        "5ccc069c403ebaf9f0171e9517f40e41"
    );
    assert!(creds.starts_with("Digest username=\"Mufasa\", realm=\"testrealm@host.com\""));
    verify(&creds, "GET", "Circle Of Life", &c, b"").unwrap();
}

const RFC7616_CHALLENGE: &str = r#"Digest
    realm="http-auth@example.org",
    qop="auth, auth-int",
    algorithm=ALGO,
    nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
    opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS""#;

fn rfc7616_response(algo: &str) -> String {
    let c = Challenge::parse(&RFC7616_CHALLENGE.replace("ALGO", algo)).unwrap();
    let mut client = DigestClient::new(c);
    let creds = client.authorization_with_cnonce(
        "GET",
        "/dir/index.html",
        "Mufasa",
        "Circle of Life",
        b"",
        "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
    );
    param(&creds, "response").unwrap()
}

#[test]
fn rfc7616_examples_md5_and_sha256() {
    assert_eq!(rfc7616_response("MD5"), "8ca523f5e9506fed4657c9700eebdbec");
    assert_eq!(
        rfc7616_response("SHA-256"),
        "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"
    );
}

#[test]
fn nonce_count_increments_and_resets_on_new_nonce() {
    let mut rng = StdRng::seed_from_u64(7);
    let mut client = DigestClient::new(Challenge::new("r", "n1", Algorithm::Sha256));
    let a = client.authorization("REGISTER", "sip:r", "u", "p", b"", &mut rng);
    let b = client.authorization("REGISTER", "sip:r", "u", "p", b"", &mut rng);
    assert_eq!(param(&a, "nc").unwrap(), "00000001");
    assert_eq!(param(&b, "nc").unwrap(), "00000002");
    assert_ne!(param(&a, "cnonce"), param(&b, "cnonce"));

    let mut fresh = Challenge::new("r", "n2", Algorithm::Sha256);
    fresh.stale = true;
    assert_eq!(client.on_challenge(fresh), ChallengeVerdict::Retry);
    let c = client.authorization("REGISTER", "sip:r", "u", "p", b"", &mut rng);
    assert_eq!(param(&c, "nc").unwrap(), "00000001");
    assert_eq!(param(&c, "nonce").unwrap(), "n2");
}

#[test]
fn stale_semantics() {
    let c = Challenge::parse(r#"Digest realm="r", nonce="n", STALE=TRUE"#).unwrap();
    assert!(c.is_stale());
    let c = Challenge::parse(r#"Digest realm="r", nonce="n", stale=false"#).unwrap();
    assert!(!c.is_stale());

    let mut rng = StdRng::seed_from_u64(1);
    let mut client = DigestClient::new(Challenge::new("r", "n1", Algorithm::Md5));
    // A first challenge before any credentials were sent is always worth answering.
    assert_eq!(
        client.on_challenge(Challenge::new("r", "n1", Algorithm::Md5)),
        ChallengeVerdict::Retry
    );
    client.authorization("INVITE", "sip:b@r", "u", "p", b"", &mut rng);
    // Rechallenged without stale after sending credentials: the password is wrong.
    assert_eq!(
        client.on_challenge(Challenge::new("r", "n2", Algorithm::Md5)),
        ChallengeVerdict::CredentialsRejected
    );
}

#[test]
fn verify_rejects_wrong_password_nonce_realm() {
    let mut rng = StdRng::seed_from_u64(3);
    let mut ch = Challenge::new("sip.test", "abc", Algorithm::Md5);
    ch.opaque = Some("op".into());
    let mut client = DigestClient::new(ch.clone());
    let creds = client.authorization("REGISTER", "sip:sip.test", "alice", "pw", b"", &mut rng);
    assert_eq!(verify(&creds, "REGISTER", "pw", &ch, b""), Ok(()));
    assert_eq!(
        verify(&creds, "REGISTER", "bad", &ch, b""),
        Err(AuthError::ResponseMismatch)
    );
    assert_eq!(
        verify(&creds, "INVITE", "pw", &ch, b""),
        Err(AuthError::ResponseMismatch)
    );
    let other_nonce = Challenge {
        nonce: "xyz".into(),
        ..ch.clone()
    };
    assert_eq!(
        verify(&creds, "REGISTER", "pw", &other_nonce, b""),
        Err(AuthError::StaleNonce)
    );
    let other_realm = Challenge {
        realm: "evil".into(),
        ..ch.clone()
    };
    assert_eq!(
        verify(&creds, "REGISTER", "pw", &other_realm, b""),
        Err(AuthError::RealmMismatch)
    );
    let sha = Challenge {
        algorithm: Algorithm::Sha256,
        ..ch
    };
    assert_eq!(
        verify(&creds, "REGISTER", "pw", &sha, b""),
        Err(AuthError::AlgorithmMismatch)
    );
}

#[test]
fn auth_int_sess_and_rfc2069_round_trip_through_verify() {
    let mut rng = StdRng::seed_from_u64(5);
    for (alg, qop) in [
        (Algorithm::Md5Sess, vec![Qop::AuthInt]),
        (Algorithm::Sha256Sess, vec![Qop::Auth]),
        (Algorithm::Sha256, vec![]),
        (Algorithm::Md5, vec![]),
    ] {
        let ch = Challenge {
            qop: qop.clone(),
            ..Challenge::new("r", "n", alg)
        };
        // Through Display and back, as the registrar would send it.
        let ch = Challenge::parse(&ch.to_string()).unwrap();
        assert_eq!(ch.qop, qop);
        let creds = DigestClient::new(ch.clone())
            .authorization("MESSAGE", "sip:x", "u", "p", b"hi", &mut rng);
        assert_eq!(
            param(&creds, "qop").as_deref(),
            qop.first().map(|q| q.as_str())
        );
        assert_eq!(param(&creds, "nc").is_some(), !qop.is_empty());
        assert_eq!(
            verify(&creds, "MESSAGE", "p", &ch, b"hi"),
            Ok(()),
            "{alg} {qop:?}"
        );
        if qop == [Qop::AuthInt] {
            // auth-int covers the body.
            assert_eq!(
                verify(&creds, "MESSAGE", "p", &ch, b"ho"),
                Err(AuthError::ResponseMismatch)
            );
        }
    }
}

#[test]
fn tolerant_parsing() {
    let c = Challenge::parse(
        "digest   REALM = \"a \\\"q\\\" b\" ,NONCE=abc/def==,Algorithm=sha-256-SESS,  foo=bar, \
         qop=auth,domain=\"sip:a sip:b\"",
    )
    .unwrap();
    assert_eq!(c.realm, "a \"q\" b");
    assert_eq!(c.nonce, "abc/def==");
    assert_eq!(c.algorithm, Algorithm::Sha256Sess);
    assert_eq!(c.qop, vec![Qop::Auth]);
    assert_eq!(c.domain.as_deref(), Some("sip:a sip:b"));
    // Quotes and backslashes survive a Display round trip.
    assert_eq!(Challenge::parse(&c.to_string()).unwrap(), c);
}

#[test]
fn select_prefers_sha256() {
    let values = [
        r#"Basic realm="x""#,
        r#"Digest realm="r", nonce="1", algorithm=MD5"#,
        r#"Digest realm="r", nonce="2", algorithm=SHA-256, Digest realm="r", nonce="3""#,
        r#"Digest realm="r", nonce="4", algorithm=SHA-512-256"#,
    ];
    let c = select_challenge(values).unwrap();
    assert_eq!((c.algorithm, c.nonce.as_str()), (Algorithm::Sha256, "2"));
    let only_md5 = select_challenge([r#"Digest realm="r", nonce="1""#]).unwrap();
    assert_eq!(only_md5.algorithm, Algorithm::Md5);
    assert_eq!(
        select_challenge([r#"Basic realm="x""#]),
        Err(AuthError::UnsupportedScheme("Basic".into()))
    );
    assert_eq!(select_challenge([]), Err(AuthError::Empty));
}

#[test]
fn malformed_challenges_are_typed_errors() {
    type Check = fn(&AuthError) -> bool;
    let cases: &[(&str, Check)] = &[
        ("", |e| *e == AuthError::Empty),
        ("Digest", |e| *e == AuthError::MissingParameter("realm")),
        (r#"Digest realm="r""#, |e| {
            *e == AuthError::MissingParameter("nonce")
        }),
        (r#"Digest realm="r, nonce="n""#, |e| {
            matches!(e, AuthError::Malformed { .. })
        }),
        (r#"Digest realm="r" nonce="n""#, |e| {
            matches!(e, AuthError::Malformed { .. })
        }),
        (r#"Digest realm=, nonce="n""#, |e| {
            matches!(e, AuthError::Malformed { .. })
        }),
        (r#"Digest realm="r", realm="s", nonce="n""#, |e| {
            *e == AuthError::DuplicateParameter("realm".into())
        }),
        (r#"Digest realm="r", nonce="n", algorithm=SHA-1"#, |e| {
            *e == AuthError::UnsupportedAlgorithm("SHA-1".into())
        }),
        (r#"Digest realm="r", nonce="n", qop="auth-conf""#, |e| {
            matches!(e, AuthError::UnsupportedQop(_))
        }),
        (r#"Negotiate abc=="#, |e| {
            matches!(e, AuthError::UnsupportedScheme(_))
        }),
        ("Digest realm=\"r\\", |e| {
            matches!(e, AuthError::Malformed { .. })
        }),
        ("=\"x\"", |e| matches!(e, AuthError::Malformed { .. })),
        ("Digest \u{e9}=1", |e| {
            matches!(e, AuthError::Malformed { .. })
        }),
    ];
    for (input, check) in cases {
        let err = Challenge::parse(input).unwrap_err();
        assert!(check(&err), "{input:?} gave {err:?}");
    }
    let long = format!(
        "Digest realm=\"{}\", nonce=\"n\"",
        "a".repeat(MAX_HEADER_LEN)
    );
    assert_eq!(Challenge::parse(&long), Err(AuthError::TooLong));
    let many: String = (0..=MAX_PARAMS).map(|i| format!("p{i}=1, ")).collect();
    assert_eq!(
        Challenge::parse(&format!("Digest {many}realm=r, nonce=n")),
        Err(AuthError::TooManyParameters)
    );
}

#[test]
fn credentials_parse_rejects_bad_nonce_count() {
    let creds = r#"Digest username="u", realm="r", nonce="n", uri="sip:x", response="00", qop=auth, nc=1, cnonce="c""#;
    assert_eq!(
        Credentials::parse(creds),
        Err(AuthError::BadNonceCount("1".into()))
    );
}

#[test]
fn arbitrary_headers_never_panic() {
    // A cheap deterministic fuzz pass over mutations of real challenge and credentials values.
    let mut client = DigestClient::new(Challenge::new("r", "n", Algorithm::Md5Sess));
    let creds = client.authorization_with_cnonce("INVITE", "sip:b@r", "u\"x", "p", b"", "c");
    let seeds = [RFC7616_CHALLENGE.replace("ALGO", "SHA-256"), creds];
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    for seed in &seeds {
        for _ in 0..2000 {
            let mut bytes = seed.as_bytes().to_vec();
            for _ in 0..3 {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let at = (state % bytes.len() as u64) as usize;
                bytes[at] = b"\"\\,= aZ9\t/-"[(state >> 40) as usize % 11];
            }
            let text = String::from_utf8(bytes).expect("ASCII replacements keep UTF-8");
            if let Ok(c) = Challenge::parse(&text) {
                assert_eq!(Challenge::parse(&c.to_string()), Ok(c));
            }
            let _ = Credentials::parse(&text);
            let _ = select_challenge([text.as_str()]);
        }
    }
}
