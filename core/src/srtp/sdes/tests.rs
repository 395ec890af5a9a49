use rand::rngs::StdRng;
use rand::SeedableRng;

use super::*;

const K30: &str = "HkNojbLX/CFGa5C12v8kSW6TuN0CJ0xxlrvgBSpP";
const K46: &str = "LlN4ncLnDDFWe6DF6g80WX6jyO0SN1yBpsvwFTpfhKnO8xg9Yoes0fYbQGWKrw==";
const K28: &str = "HEFmi7DV+h9EaY6z2P0iR2yRttsAJUpvlLneAw==";
const K44: &str = "LFF2m8DlCi9UeZ7D6A0yV3yhxusQNVp/pMnuEzhdgqfM8RY7YIWqz/QZPmM=";

/// Linphone's SDES offer: four suites, tags 1-4, 128-bit before 256-bit.
fn linphone_offer() -> Vec<String> {
    vec![
        format!("a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:{K30}"),
        format!("a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:{K30}"),
        format!("a=crypto:3 AES_256_CM_HMAC_SHA1_80 inline:{K46}"),
        format!("a=crypto:4 AES_256_CM_HMAC_SHA1_32 inline:{K46}"),
    ]
}

#[test]
fn parses_linphone_offer_lines() {
    let expected = [
        SrtpProfile::Aes128CmHmacSha1_80,
        SrtpProfile::Aes128CmHmacSha1_32,
        SrtpProfile::Aes256CmHmacSha1_80,
        SrtpProfile::Aes256CmHmacSha1_32,
    ];
    for (i, (line, profile)) in linphone_offer().iter().zip(expected).enumerate() {
        let a = CryptoAttribute::parse(line).unwrap();
        assert_eq!(a.tag, i as u32 + 1);
        assert_eq!(a.profile(), profile);
        assert_eq!(a.keys.key().len(), profile.key_len());
        // Printing gives back the same line.
        assert_eq!(&a.to_string(), line);
    }
}

#[test]
fn parses_baresip_gcm_lines_without_padding_too() {
    let a = CryptoAttribute::parse(&format!("a=crypto:1 AEAD_AES_256_GCM inline:{K44}")).unwrap();
    assert_eq!(a.profile(), SrtpProfile::AeadAes256Gcm);
    assert_eq!(a.keys.salt().len(), 12);
    let unpadded = K28.trim_end_matches('=');
    let b =
        CryptoAttribute::parse(&format!("crypto:2 AEAD_AES_128_GCM inline:{unpadded}")).unwrap();
    assert_eq!(b.profile(), SrtpProfile::AeadAes128Gcm);
    assert_eq!(b.keys.key().len(), 16);
}

#[test]
fn lifetime_mki_and_session_params_are_parsed_and_unsupported_ones_refused() {
    let a = CryptoAttribute::parse(&format!(
        "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:{K30}|2^20|1:4 KDR=0 WSH=128"
    ))
    .unwrap();
    assert_eq!(a.lifetime, Some(1 << 20));
    assert_eq!(a.mki, Some(Mki { value: 1, len: 4 }));
    assert_eq!(
        a.session_params,
        vec![SessionParam::Kdr(0), SessionParam::WindowSizeHint(128)]
    );
    assert_eq!(a.check_supported(), Err(SdesError::MkiUnsupported));
    assert!(a.to_string().ends_with("|2^20|1:4 KDR=0 WSH=128"));

    let b = CryptoAttribute::parse(&format!(
        "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:{K30}|1048576 UNENCRYPTED_SRTCP"
    ))
    .unwrap();
    assert_eq!(b.lifetime, Some(1 << 20));
    assert_eq!(
        b.check_supported(),
        Err(SdesError::UnsupportedSessionParam(
            "UNENCRYPTED_SRTCP".into()
        ))
    );
    let c = CryptoAttribute::parse(&format!(
        "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:{K30}|2^31"
    ))
    .unwrap();
    assert_eq!(c.check_supported(), Ok(()));
}

#[test]
fn malformed_lines_give_typed_errors() {
    let cases: Vec<(String, SdesError)> = vec![
        (
            "a=crypto:1 AES_CM_128_HMAC_SHA1_80".into(),
            SdesError::MissingField,
        ),
        (
            format!("a=crypto:x AES_CM_128_HMAC_SHA1_80 inline:{K30}"),
            SdesError::BadTag("x".into()),
        ),
        (
            format!("a=crypto:1 F8_128_HMAC_SHA1_80 inline:{K30}"),
            SdesError::UnknownSuite("F8_128_HMAC_SHA1_80".into()),
        ),
        (
            "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:!!!!".into(),
            SdesError::BadBase64,
        ),
        (
            format!("a=crypto:1 AES_256_CM_HMAC_SHA1_80 inline:{K30}"),
            SdesError::WrongKeyLength {
                expected: 46,
                got: 30,
            },
        ),
        (
            format!("a=crypto:1 AES_CM_128_HMAC_SHA1_80 uri:{K30}"),
            SdesError::BadKeyMethod("uri".into()),
        ),
        (
            format!("a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:{K30}|2^99"),
            SdesError::BadLifetime("2^99".into()),
        ),
        (
            format!("a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:{K30}|256:1"),
            SdesError::BadMki("256:1".into()),
        ),
        (
            format!("a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:{K30};inline:{K30}"),
            SdesError::MultipleKeysUnsupported,
        ),
    ];
    for (line, err) in cases {
        assert_eq!(CryptoAttribute::parse(&line), Err(err), "{line}");
    }
    let long = format!(
        "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:{K30} {}",
        "X".repeat(2000)
    );
    assert!(matches!(
        CryptoAttribute::parse(&long),
        Err(SdesError::TooLong { .. })
    ));
}

#[test]
fn answer_picks_first_supported_offer_and_keeps_the_tag() {
    let mut rng = StdRng::seed_from_u64(7);
    let mut lines = vec![
        format!("a=crypto:9 AES_CM_128_HMAC_SHA1_80 inline:{K30}|2^20|1:4"),
        format!("a=crypto:8 F8_128_HMAC_SHA1_80 inline:{K30}"),
    ];
    lines.extend(linphone_offer().into_iter().skip(1));
    let agreed = answer_offer_lines(lines.iter().map(String::as_str), &mut rng).unwrap();
    assert_eq!(agreed.answer.tag, 2);
    assert_eq!(agreed.profile, SrtpProfile::Aes128CmHmacSha1_32);
    assert_ne!(agreed.local, agreed.remote);

    // The offerer matches the answer to its own line and gets the same keys, mirrored.
    let offer: Vec<_> = lines
        .iter()
        .filter_map(|l| CryptoAttribute::parse(l).ok())
        .collect();
    let answer = CryptoAttribute::parse(&agreed.answer.to_string()).unwrap();
    let at_offerer = process_answer(&offer, &answer).unwrap();
    assert_eq!(at_offerer.local, agreed.remote);
    assert_eq!(at_offerer.remote, agreed.local);
}

#[test]
fn no_acceptable_offer_lists_every_refusal() {
    let mut rng = StdRng::seed_from_u64(7);
    let lines = [
        format!("a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:{K30}|2^20|1:4"),
        format!("a=crypto:2 F8_128_HMAC_SHA1_80 inline:{K30}"),
    ];
    let err = answer_offer_lines(lines.iter().map(String::as_str), &mut rng).unwrap_err();
    assert_eq!(
        err,
        SdesError::NoAcceptableOffer(vec![
            SdesError::UnknownSuite("F8_128_HMAC_SHA1_80".into()),
            SdesError::MkiUnsupported,
        ])
    );
}

#[test]
fn offer_and_answer_round_trip_for_every_sdes_suite() {
    let mut rng = StdRng::seed_from_u64(1);
    let offer = create_offer(&SrtpProfile::ALL, &mut rng);
    assert_eq!(offer.len(), 6);
    let texts: Vec<String> = offer.iter().map(ToString::to_string).collect();
    for (i, text) in texts.iter().enumerate() {
        let back = CryptoAttribute::parse(text).unwrap();
        assert_eq!(back, offer[i]);
        let agreed = answer_offer(&[back], &mut rng).unwrap();
        assert_eq!(agreed.profile, offer[i].profile());
    }
    let wrong_tag = CryptoAttribute::generate(42, SrtpProfile::AeadAes128Gcm, &mut rng);
    assert_eq!(
        process_answer(&offer, &wrong_tag).unwrap_err(),
        SdesError::AnswerDoesNotMatchOffer(42)
    );
}
