//! Algorithm choice (RFC 6189 §4.1.2) against Hellos like the ones linphone's bzrtp sends
//! (/work/shared/interop/README.md) and the key-agreement cases of bzrtp's own tests.

use sipher::zrtp::algorithms::{
    AlgoId, AlgorithmOffer, AuthTag, CipherAlgorithm, HashAlgorithm, KeyAgreement, SasType,
};
use sipher::zrtp::message::{HashImage, Hello, Mac, Zid};

fn hello(lists: [&[&str]; 5]) -> Hello {
    let ids = |l: &[&str]| -> Vec<AlgoId> {
        l.iter()
            .map(|s| AlgoId(s.as_bytes().try_into().expect("four-character id")))
            .collect()
    };
    Hello {
        version: *b"1.10",
        client_id: *b"BZRTPv1.1       ",
        h3: HashImage([0; 32]),
        zid: Zid([1; 12]),
        signature_capable: false,
        mitm: false,
        passive: false,
        hashes: ids(lists[0]),
        ciphers: ids(lists[1]),
        auth_tags: ids(lists[2]),
        key_agreements: ids(lists[3]),
        sas_types: ids(lists[4]),
        mac: Mac::default(),
    }
}

fn kas(own: &[KeyAgreement], peer: &[&str]) -> KeyAgreement {
    let offer = AlgorithmOffer {
        key_agreements: own.to_vec(),
        ..AlgorithmOffer::default()
    };
    offer
        .negotiate(&hello([&["S256"], &["AES1"], &["HS80"], peer, &["B32 "]]))
        .unwrap()
        .key_agreement
}

#[test]
fn against_linphone_default_hello_we_pick_dh3k_and_the_mandatory_rest() {
    let linphone = hello([
        &["S256"],
        &["AES1", "AES3"],
        &["HS80", "HS32"],
        &["DH3k", "Mult"],
        &["B32 "],
    ]);
    let n = AlgorithmOffer::default().negotiate(&linphone).unwrap();
    assert_eq!(
        (n.hash, n.cipher, n.auth_tag, n.key_agreement, n.sas),
        (
            HashAlgorithm::S256,
            CipherAlgorithm::Aes1,
            AuthTag::Hs80,
            KeyAgreement::Dh3k,
            SasType::B32
        )
    );
}

#[test]
fn against_linphone_with_every_suite_we_pick_x25519_and_our_preferences() {
    let linphone = hello([
        &["S384", "S256"],
        &["AES3", "AES1"],
        &["HS80", "HS32"],
        &["X255", "X448", "DH3k", "DH2k", "Mult"],
        &["B256", "B32 "],
    ]);
    let n = AlgorithmOffer::default().negotiate(&linphone).unwrap();
    assert_eq!(n.key_agreement, KeyAgreement::X255);
    // The Initiator's order decides among common algorithms (ours lists S256 and AES1 first).
    assert_eq!(
        (n.hash, n.cipher, n.sas),
        (HashAlgorithm::S256, CipherAlgorithm::Aes1, SasType::B32)
    );
    let prefers_strong = AlgorithmOffer {
        hashes: vec![HashAlgorithm::S384],
        ciphers: vec![CipherAlgorithm::Aes3],
        sas_types: vec![SasType::B256],
        ..AlgorithmOffer::default()
    };
    let n = prefers_strong.negotiate(&linphone).unwrap();
    assert_eq!(
        (n.hash, n.cipher, n.sas),
        (HashAlgorithm::S384, CipherAlgorithm::Aes3, SasType::B256)
    );
}

#[test]
fn differing_first_choices_resolve_to_the_faster_key_agreement() {
    use KeyAgreement::*;
    // The cases of bzrtp's cryptoUtils "algo agreement" test.
    assert_eq!(kas(&[Dh2k, Dh3k], &["DH3k", "DH2k"]), Dh2k);
    assert_eq!(kas(&[Dh3k, Dh2k], &["DH2k", "DH3k"]), Dh2k);
    assert_eq!(kas(&[Dh3k, Dh2k], &["DH3k", "DH2k"]), Dh3k);
    assert_eq!(kas(&[Dh3k, Dh2k], &["EC52", "EC25", "DH3k", "DH2k"]), Dh3k);
    assert_eq!(kas(&[Dh2k], &["DH2k"]), Dh2k);
    assert_eq!(kas(&[Ec25], &["EC25", "DH3k"]), Ec25);
    assert_eq!(kas(&[Dh3k, X255], &["X255", "DH3k"]), X255);
    // Nothing in common but what is mandatory.
    assert_eq!(kas(&[X255], &["EC25"]), Dh3k);
    assert_eq!(kas(&[X255], &[]), Dh3k);
}

#[test]
fn ec38_comes_only_with_s384_and_prefers_a_256_bit_cipher() {
    let offer = AlgorithmOffer {
        hashes: vec![HashAlgorithm::S256, HashAlgorithm::S384],
        ciphers: vec![CipherAlgorithm::Aes1, CipherAlgorithm::Aes3],
        key_agreements: vec![KeyAgreement::Ec38],
        ..AlgorithmOffer::default()
    };
    let n = offer
        .negotiate(&hello([&["S384"], &["AES1", "AES3"], &[], &["EC38"], &[]]))
        .unwrap();
    assert_eq!(
        (n.key_agreement, n.hash, n.cipher),
        (
            KeyAgreement::Ec38,
            HashAlgorithm::S384,
            CipherAlgorithm::Aes3
        )
    );
    // Without a common S384, EC38 cannot be chosen: fall back to the mandatory DH3k.
    let n = offer
        .negotiate(&hello([&["S256"], &["AES1"], &[], &["EC38"], &[]]))
        .unwrap();
    assert_eq!(
        (n.key_agreement, n.hash),
        (KeyAgreement::Dh3k, HashAlgorithm::S256)
    );
}

#[test]
fn empty_hello_lists_imply_the_mandatory_algorithms() {
    let n = AlgorithmOffer::default()
        .negotiate(&hello([&[], &[], &[], &[], &[]]))
        .unwrap();
    assert_eq!(
        (n.hash, n.cipher, n.auth_tag, n.key_agreement, n.sas),
        (
            HashAlgorithm::S256,
            CipherAlgorithm::Aes1,
            AuthTag::Hs80,
            KeyAgreement::Dh3k,
            SasType::B32
        )
    );
}
