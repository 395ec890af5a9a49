//! Hostile ZRTP input: every malformed packet, message, body and public value is refused with a
//! typed error that blames the peer, and nothing panics.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sipher::media::rtp::Ssrc;
use sipher::zrtp::agreement::{check_public_value, KeyPair};
use sipher::zrtp::algorithms::{AlgoId, AlgorithmOffer, KeyAgreement};
use sipher::zrtp::message::{
    Commit, CommitKind, ConfirmBody, DhPart, Encrypted, ErrorCode, HashImage, Hello, Mac, Message,
    Ping, PingAck, SasRelayBody, SecretId, Zid,
};
use sipher::zrtp::packet::{encode_packet, parse_packet};
use sipher::zrtp::{PeerMisbehaved, ZrtpError};

fn samples() -> Vec<Message> {
    let hello = Hello {
        version: *b"1.10",
        client_id: *b"Sipher          ",
        h3: HashImage([3; 32]),
        zid: Zid([7; 12]),
        signature_capable: true,
        mitm: false,
        passive: true,
        hashes: vec![AlgoId(*b"S384"), AlgoId(*b"S256")],
        ciphers: vec![AlgoId(*b"AES3")],
        auth_tags: vec![AlgoId(*b"HS80"), AlgoId(*b"HS32"), AlgoId(*b"SK32")],
        key_agreements: vec![
            AlgoId(*b"X255"),
            AlgoId(*b"X448"),
            AlgoId(*b"DH3k"),
            AlgoId(*b"Mult"),
        ],
        sas_types: vec![AlgoId(*b"B256")],
        mac: Mac([9; 8]),
    };
    let commit = |kind, ka: &[u8; 4]| Commit {
        h2: HashImage([2; 32]),
        zid: Zid([7; 12]),
        hash: AlgoId(*b"S256"),
        cipher: AlgoId(*b"AES1"),
        auth_tag: AlgoId(*b"HS80"),
        key_agreement: AlgoId(*ka),
        sas: AlgoId(*b"B32 "),
        kind,
        mac: Mac([1; 8]),
    };
    let part = DhPart {
        h1: HashImage([1; 32]),
        rs1_id: SecretId([1; 8]),
        rs2_id: SecretId([2; 8]),
        aux_secret_id: SecretId([3; 8]),
        pbx_secret_id: SecretId([4; 8]),
        public_value: vec![0x55; 32],
        mac: Mac([5; 8]),
    };
    let enc = Encrypted {
        mac: Mac([6; 8]),
        iv: [7; 16],
        ciphertext: vec![8; 48],
    };
    vec![
        Message::Hello(hello),
        Message::HelloAck,
        Message::Commit(commit(CommitKind::Dh { hvi: [4; 32] }, b"DH3k")),
        Message::Commit(commit(CommitKind::Multistream { nonce: [5; 16] }, b"Mult")),
        Message::Commit(commit(
            CommitKind::Preshared {
                nonce: [5; 16],
                key_id: [6; 8],
            },
            b"Prsh",
        )),
        Message::DhPart1(part.clone()),
        Message::DhPart2(part),
        Message::Confirm1(enc.clone()),
        Message::Confirm2(enc.clone()),
        Message::Conf2Ack,
        Message::Error(ErrorCode::BAD_CONFIRM_MAC),
        Message::ErrorAck,
        Message::GoClear {
            clear_mac: Mac([1; 8]),
        },
        Message::ClearAck,
        Message::SasRelay(enc),
        Message::RelayAck,
        Message::Ping(Ping {
            version: *b"1.10",
            endpoint_hash: [1; 8],
        }),
        Message::PingAck(PingAck {
            version: *b"1.10",
            endpoint_hash: [1; 8],
            received_endpoint_hash: [2; 8],
            received_ssrc: 0x1234_5678,
        }),
    ]
}

#[test]
fn every_message_round_trips_through_a_packet() {
    for (seq, msg) in samples().into_iter().enumerate() {
        let bytes = msg.encode().unwrap();
        assert_eq!(bytes.len() % 4, 0);
        let packet = encode_packet(seq as u16, Ssrc(42), &bytes);
        let raw = parse_packet(&packet).unwrap();
        assert_eq!(raw.sequence, seq as u16);
        assert_eq!(
            Message::parse(raw.message).unwrap(),
            msg,
            "{:?}",
            msg.type_block()
        );
    }
}

#[test]
fn every_truncation_and_extension_is_refused_without_panic() {
    for msg in samples() {
        let bytes = msg.encode().unwrap();
        for cut in 0..bytes.len() {
            assert!(
                Message::parse(&bytes[..cut]).is_err(),
                "{:?} cut at {cut}",
                msg.type_block()
            );
        }
        let mut longer = bytes.clone();
        longer.extend_from_slice(&[0; 4]);
        let err = Message::parse(&longer).unwrap_err();
        assert!(err.is_peer_fault(), "{err}");
    }
}

#[test]
fn structural_lies_get_named_errors() {
    let hello = samples().remove(0).encode().unwrap();
    // Length field off by one word.
    let mut bad = hello.clone();
    bad[3] += 1;
    assert!(matches!(
        Message::parse(&bad),
        Err(ZrtpError::PeerMisbehaved(
            PeerMisbehaved::LengthMismatch { .. }
        ))
    ));
    // Algorithm count over seven.
    let mut bad = hello.clone();
    bad[12 + 4 + 16 + 32 + 12 + 1] = 0x08;
    assert_eq!(
        Message::parse(&bad),
        Err(PeerMisbehaved::BadAlgorithmCount.into())
    );
    // Counts that disagree with the length.
    let mut bad = hello.clone();
    bad[12 + 4 + 16 + 32 + 12 + 3] = 0x42;
    assert_eq!(
        Message::parse(&bad),
        Err(PeerMisbehaved::BadAlgorithmCount.into())
    );
    // Wrong preamble and unknown type.
    let mut bad = hello.clone();
    bad[0] = 0x51;
    assert_eq!(
        Message::parse(&bad),
        Err(PeerMisbehaved::BadPreamble(0x515a).into())
    );
    let mut bad = hello;
    bad[4..12].copy_from_slice(b"Bogus!!!");
    assert_eq!(
        Message::parse(&bad),
        Err(PeerMisbehaved::UnknownMessageType(*b"Bogus!!!").into())
    );
    // A DH-sized Commit that claims multistream.
    let mut commit = samples().remove(2).encode().unwrap();
    commit[12 + 32 + 12 + 12..12 + 32 + 12 + 16].copy_from_slice(b"Mult");
    assert_eq!(
        Message::parse(&commit),
        Err(PeerMisbehaved::CommitFormMismatch("Mult".into()).into())
    );
    // A fixed-size message with a different size.
    let ack = [
        0x50, 0x5a, 0x00, 0x04, b'H', b'e', b'l', b'l', b'o', b'A', b'C', b'K', 0, 0, 0, 0,
    ];
    assert!(matches!(
        Message::parse(&ack),
        Err(ZrtpError::PeerMisbehaved(
            PeerMisbehaved::BadMessageLength { .. }
        ))
    ));
}

#[test]
fn encrypted_bodies_reject_lying_signature_lengths() {
    let body = ConfirmBody {
        h0: HashImage([0; 32]),
        enrollment: false,
        sas_verified: true,
        allow_clear: false,
        disclosure: false,
        cache_expiration: 86400,
        signature: vec![1; 12],
    };
    let mut bytes = body.encode().unwrap();
    assert_eq!(ConfirmBody::parse(&bytes).unwrap(), body);
    bytes[34] = 0x01; // sig len now 256+3 words: far more than present
    assert_eq!(
        ConfirmBody::parse(&bytes),
        Err(PeerMisbehaved::BadEncryptedBody.into())
    );
    assert!(ConfirmBody::parse(&bytes[..39]).is_err());
    let relay = SasRelayBody {
        sas_verified: false,
        allow_clear: false,
        disclosure: true,
        rendering: AlgoId(*b"B32 "),
        sas_hash: [3; 32],
        signature: vec![],
    };
    let bytes = relay.encode().unwrap();
    assert_eq!(SasRelayBody::parse(&bytes).unwrap(), relay);
    assert!(SasRelayBody::parse(&bytes[..bytes.len() - 4]).is_err());
}

#[test]
fn bad_public_values_are_refused() {
    let zero = vec![0u8; 384];
    let mut one = vec![0u8; 384];
    one[383] = 1;
    for pv in [&zero, &one] {
        assert_eq!(
            check_public_value(KeyAgreement::Dh3k, pv),
            Err(PeerMisbehaved::DhValueOutOfRange.into())
        );
    }
    // All-ones is larger than p.
    assert_eq!(
        check_public_value(KeyAgreement::Dh3k, &[0xff; 384]),
        Err(PeerMisbehaved::DhValueOutOfRange.into())
    );
    let mut rng = StdRng::seed_from_u64(11);
    let p_minus_1 = dh3k_prime_minus_one();
    assert_eq!(
        check_public_value(KeyAgreement::Dh3k, &p_minus_1),
        Err(PeerMisbehaved::DhValueOutOfRange.into())
    );
    let mut two = vec![0u8; 384];
    two[383] = 2;
    check_public_value(KeyAgreement::Dh3k, &two).unwrap();

    assert_eq!(
        check_public_value(KeyAgreement::Dh2k, &[1; 200]),
        Err(PeerMisbehaved::BadPublicValueLength {
            expected: 256,
            actual: 200
        }
        .into())
    );
    assert_eq!(
        check_public_value(KeyAgreement::Ec25, &[7; 64]),
        Err(PeerMisbehaved::PointNotOnCurve.into())
    );
    assert_eq!(
        check_public_value(KeyAgreement::Ec38, &[7; 96]),
        Err(PeerMisbehaved::PointNotOnCurve.into())
    );
    let ec = KeyPair::generate(KeyAgreement::Ec25, &mut rng).unwrap();
    let mut off_curve = ec.public_value().to_vec();
    off_curve[63] ^= 1;
    assert!(ec.agree(&off_curve).is_err());
    let x = KeyPair::generate(KeyAgreement::X255, &mut rng).unwrap();
    assert_eq!(
        x.agree(&[0; 32]).unwrap_err(),
        PeerMisbehaved::LowOrderPoint.into()
    );
    assert!(KeyPair::generate(KeyAgreement::Mult, &mut rng).is_err());
}

#[test]
fn commit_with_unoffered_algorithms_is_refused_by_the_responder() {
    let offer = AlgorithmOffer::default();
    let Message::Commit(mut commit) = samples().remove(2) else {
        unreachable!()
    };
    assert!(
        offer.accept_commit(&commit).is_ok(),
        "DH3k/S256/AES1 are mandatory"
    );
    commit.cipher = AlgoId(*b"2FS3");
    assert!(matches!(
        offer.accept_commit(&commit),
        Err(ZrtpError::PeerMisbehaved(
            PeerMisbehaved::UnofferedAlgorithm { .. }
        ))
    ));
}

#[test]
fn random_bytes_never_panic_the_parsers() {
    let mut rng = StdRng::seed_from_u64(0x5a52_5450);
    let templates: Vec<Vec<u8>> = samples().iter().map(|m| m.encode().unwrap()).collect();
    for i in 0..20_000 {
        let mut bytes = templates[i % templates.len()].clone();
        for _ in 0..rng.gen_range(1..6) {
            let at = rng.gen_range(0..bytes.len());
            bytes[at] = rng.gen();
        }
        if rng.gen_bool(0.2) {
            bytes.truncate(rng.gen_range(0..bytes.len()));
        }
        if let Ok(msg) = Message::parse(&bytes) {
            // Whatever parses must encode again (unused bits aside).
            let _ = msg.encode();
        }
        let _ = parse_packet(&bytes);
        let _ = ConfirmBody::parse(&bytes);
        let _ = SasRelayBody::parse(&bytes);
    }
}

/// The 3072-bit MODP prime minus one, from RFC 3526 group 15 (a DH value no peer may send).
fn dh3k_prime_minus_one() -> Vec<u8> {
    let mut p = hex::decode(concat!(
        "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74",
        "020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437",
        "4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED",
        "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF05",
        "98DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB",
        "9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B",
        "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF695581718",
        "3995497CEA956AE515D2261898FA051015728E5A8AAAC42DAD33170D04507A33",
        "A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7",
        "ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864",
        "D87602733EC86A64521F2B18177B200CBBE117577A615D6C770988C0BAD946E2",
        "08E24FA074E5AB3143DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF",
    ))
    .unwrap();
    p[383] = 0xfe;
    p
}
