//! Two endpoints run the ZRTP DH-mode key schedule with the building blocks, message by
//! message over encoded bytes, for every key agreement: both must end with the same SRTP keys
//! and SAS, each check (hash chain, message MACs, hvi, Confirm MAC) must catch tampering, and a
//! man in the middle must end with SAS values that differ.

use rand::rngs::StdRng;
use rand::SeedableRng;
use sipher::zrtp::agreement::KeyPair;
use sipher::zrtp::algorithms::{
    AlgorithmOffer, CipherAlgorithm, HashAlgorithm, KeyAgreement, Negotiated, SasType,
};
use sipher::zrtp::kdf::{self, HashChain};
use sipher::zrtp::keys::{self, RetainedSecrets, Role, SessionKeys};
use sipher::zrtp::message::{
    Commit, CommitKind, ConfirmBody, DhPart, Hello, Mac, Message, SecretId, Zid, ZRTP_VERSION,
};
use sipher::zrtp::{PeerMisbehaved, ZrtpError};

struct Endpoint {
    zid: Zid,
    chain: HashChain,
    offer: AlgorithmOffer,
    hello: Vec<u8>,
}

fn endpoint(zid: u8, offer: AlgorithmOffer, rng: &mut StdRng) -> Endpoint {
    let chain = HashChain::generate(rng);
    let [hashes, ciphers, auth_tags, key_agreements, sas_types] = offer.hello_lists();
    let hello = Message::Hello(Hello {
        version: ZRTP_VERSION,
        client_id: *b"Sipher test     ",
        h3: chain.h3,
        zid: Zid([zid; 12]),
        signature_capable: false,
        mitm: false,
        passive: false,
        hashes,
        ciphers,
        auth_tags,
        key_agreements,
        sas_types,
        mac: Mac::default(),
    });
    let mut hello = hello.encode().unwrap();
    kdf::seal_message(&chain.h2, &mut hello);
    Endpoint {
        zid: Zid([zid; 12]),
        chain,
        offer,
        hello,
    }
}

fn dh_part(chain: &HashChain, pair: &KeyPair, initiator: bool) -> Vec<u8> {
    let part = DhPart {
        h1: chain.h1,
        rs1_id: SecretId([1; 8]),
        rs2_id: SecretId([2; 8]),
        aux_secret_id: SecretId([3; 8]),
        pbx_secret_id: SecretId([4; 8]),
        public_value: pair.public_value().to_vec(),
        mac: Mac::default(),
    };
    let msg = if initiator {
        Message::DhPart2(part)
    } else {
        Message::DhPart1(part)
    };
    let mut bytes = msg.encode().unwrap();
    kdf::seal_message(&chain.h0, &mut bytes);
    bytes
}

/// What each side ends up with.
struct Outcome {
    negotiated: Negotiated,
    initiator: SessionKeys,
    responder: SessionKeys,
}

/// Run Hello → Commit → DHPart1 → DHPart2 → key derivation, checking everything a real
/// endpoint checks, and return both sides' keys.
fn run(alice_offer: AlgorithmOffer, bob_offer: AlgorithmOffer, seed: u64) -> Outcome {
    let mut rng = StdRng::seed_from_u64(seed);
    let alice = endpoint(0xa1, alice_offer, &mut rng);
    let bob = endpoint(0xb0, bob_offer, &mut rng);

    // Alice (Initiator) reads Bob's Hello and chooses.
    let Message::Hello(bob_hello) = Message::parse(&bob.hello).unwrap() else {
        unreachable!()
    };
    let n = alice.offer.negotiate(&bob_hello).unwrap();
    let alice_pair = KeyPair::generate(n.key_agreement, &mut rng).unwrap();
    let dhpart2 = dh_part(&alice.chain, &alice_pair, true);
    let commit = Message::Commit(Commit {
        h2: alice.chain.h2,
        zid: alice.zid,
        hash: n.hash.id(),
        cipher: n.cipher.id(),
        auth_tag: n.auth_tag.id(),
        key_agreement: n.key_agreement.id(),
        sas: n.sas.id(),
        kind: CommitKind::Dh {
            hvi: kdf::hvi(n.hash, &dhpart2, &bob.hello),
        },
        mac: Mac::default(),
    });
    let mut commit = commit.encode().unwrap();
    kdf::seal_message(&alice.chain.h1, &mut commit);

    // Bob (Responder) checks the Commit against what he offered and against Alice's Hello.
    let Message::Commit(c) = Message::parse(&commit).unwrap() else {
        unreachable!()
    };
    let bn = bob.offer.accept_commit(&c).unwrap();
    assert_eq!(bn, n);
    let Message::Hello(alice_hello) = Message::parse(&alice.hello).unwrap() else {
        unreachable!()
    };
    kdf::verify_chain_link(&c.h2, &alice_hello.h3).unwrap();
    kdf::verify_message_mac(&c.h2, &alice.hello).unwrap();
    let bob_pair = KeyPair::generate(n.key_agreement, &mut rng).unwrap();
    let dhpart1 = dh_part(&bob.chain, &bob_pair, false);

    // Alice checks DHPart1: Bob's H1 closes his Hello MAC via H2.
    let Message::DhPart1(d1) = Message::parse(&dhpart1).unwrap() else {
        unreachable!()
    };
    let bob_h2 = kdf::next_image(&d1.h1);
    kdf::verify_chain_link(&bob_h2, &bob_hello.h3).unwrap();
    kdf::verify_message_mac(&bob_h2, &bob.hello).unwrap();
    let alice_dh = alice_pair.agree(&d1.public_value).unwrap();

    // Bob checks DHPart2: hvi commitment, H1 → H2, Commit MAC keyed by H1.
    let Message::DhPart2(d2) = Message::parse(&dhpart2).unwrap() else {
        unreachable!()
    };
    let CommitKind::Dh { hvi } = c.kind else {
        unreachable!()
    };
    assert_eq!(kdf::hvi(n.hash, &dhpart2, &bob.hello), hvi);
    kdf::verify_chain_link(&d2.h1, &c.h2).unwrap();
    kdf::verify_message_mac(&d2.h1, &commit).unwrap();
    let bob_dh = bob_pair.agree(&d2.public_value).unwrap();

    let derive = |dh: &[u8]| {
        let total = kdf::total_hash(n.hash, &bob.hello, &commit, &dhpart1, &dhpart2);
        let s0 = kdf::s0(n.hash, dh, &alice.zid, &bob.zid, &total, Default::default());
        SessionKeys::derive(&n, &s0, &kdf::kdf_context(&alice.zid, &bob.zid, &total))
    };
    let initiator = derive(&alice_dh.0);
    let responder = derive(&bob_dh.0);

    // Confirm1 from Bob; Alice learns H0 and can close the DHPart1 MAC.
    let body = ConfirmBody {
        h0: bob.chain.h0,
        enrollment: false,
        sas_verified: false,
        allow_clear: false,
        disclosure: false,
        cache_expiration: 0xffff_ffff,
        signature: Vec::new(),
    };
    let sealed = keys::seal_confirm(&n, &responder, Role::Responder, [9; 16], &body).unwrap();
    let wire = Message::Confirm1(sealed).encode().unwrap();
    let Message::Confirm1(received) = Message::parse(&wire).unwrap() else {
        unreachable!()
    };
    let opened = keys::open_confirm(&n, &initiator, Role::Responder, &received).unwrap();
    assert_eq!(opened, body);
    kdf::verify_chain_link(&opened.h0, &d1.h1).unwrap();
    kdf::verify_message_mac(&opened.h0, &dhpart1).unwrap();

    Outcome {
        negotiated: n,
        initiator,
        responder,
    }
}

fn offer(
    ka: KeyAgreement,
    hash: HashAlgorithm,
    cipher: CipherAlgorithm,
    sas: SasType,
) -> AlgorithmOffer {
    AlgorithmOffer {
        hashes: vec![hash],
        ciphers: vec![cipher],
        auth_tags: vec![],
        key_agreements: vec![ka],
        sas_types: vec![sas],
    }
}

#[test]
fn both_sides_agree_on_keys_and_sas_for_every_key_agreement() {
    let cases = [
        (
            KeyAgreement::Dh3k,
            HashAlgorithm::S256,
            CipherAlgorithm::Aes1,
            SasType::B32,
        ),
        (
            KeyAgreement::Dh2k,
            HashAlgorithm::S256,
            CipherAlgorithm::Twofish1,
            SasType::B32,
        ),
        (
            KeyAgreement::Ec25,
            HashAlgorithm::S256,
            CipherAlgorithm::Aes3,
            SasType::B256,
        ),
        (
            KeyAgreement::Ec38,
            HashAlgorithm::S384,
            CipherAlgorithm::Aes3,
            SasType::B256,
        ),
        (
            KeyAgreement::X255,
            HashAlgorithm::S384,
            CipherAlgorithm::Twofish3,
            SasType::B32,
        ),
    ];
    let mut sas_seen = Vec::new();
    for (i, (ka, hash, cipher, sas)) in cases.into_iter().enumerate() {
        let o = run(
            offer(ka, hash, cipher, sas),
            offer(ka, hash, cipher, sas),
            100 + i as u64,
        );
        assert_eq!(o.negotiated.key_agreement, ka);
        assert_eq!(o.negotiated.hash, hash);
        assert_eq!(o.negotiated.cipher, cipher);
        let (i_keys, r_keys) = (&o.initiator, &o.responder);
        assert_eq!(i_keys.srtp_key_i, r_keys.srtp_key_i);
        assert_eq!(i_keys.srtp_salt_r, r_keys.srtp_salt_r);
        assert_eq!(i_keys.srtp_key_i.len(), cipher.key_len());
        assert_ne!(
            i_keys.srtp_key_i, i_keys.srtp_key_r,
            "directions must have their own keys"
        );
        assert_eq!(i_keys.zrtp_session.len(), hash.digest_len());
        assert_eq!(i_keys.new_rs1, r_keys.new_rs1);
        let shown = i_keys.sas(o.negotiated.sas);
        assert_eq!(shown, r_keys.sas(o.negotiated.sas));
        sas_seen.push(shown);
    }
    sas_seen.dedup();
    assert_eq!(
        sas_seen.len(),
        5,
        "different exchanges should not share a SAS: {sas_seen:?}"
    );
}

#[test]
fn default_offers_interoperate_like_bzrtp_defaults() {
    let o = run(AlgorithmOffer::default(), AlgorithmOffer::default(), 7);
    assert_eq!(o.negotiated.key_agreement, KeyAgreement::X255);
    assert_eq!(o.negotiated.hash, HashAlgorithm::S256);
    assert_eq!(o.initiator.sas_value(), o.responder.sas_value());
}

#[test]
fn a_man_in_the_middle_shows_up_as_different_sas() {
    // Mallory answers each side with her own public value. Even if she made every other byte of
    // both transcripts identical, the two legs differ in their DH results, and so do the SAS.
    let o = offer(
        KeyAgreement::X255,
        HashAlgorithm::S256,
        CipherAlgorithm::Aes1,
        SasType::B32,
    );
    let run_ok = run(o.clone(), o, 1);
    let n = run_ok.negotiated;
    let mut rng = StdRng::seed_from_u64(9);
    let alice = KeyPair::generate(KeyAgreement::X255, &mut rng).unwrap();
    let bob = KeyPair::generate(KeyAgreement::X255, &mut rng).unwrap();
    let mallory = KeyPair::generate(KeyAgreement::X255, &mut rng).unwrap();
    let (zi, zr, total) = (Zid([1; 12]), Zid([2; 12]), [7u8; 32]);
    let sas_for = |dh: &[u8]| {
        let s0 = kdf::s0(n.hash, dh, &zi, &zr, &total, Default::default());
        SessionKeys::derive(&n, &s0, &kdf::kdf_context(&zi, &zr, &total)).sas(SasType::B32)
    };
    let alice_sees = sas_for(&alice.agree(mallory.public_value()).unwrap().0);
    let bob_sees = sas_for(&bob.agree(mallory.public_value()).unwrap().0);
    let honest = sas_for(&alice.agree(bob.public_value()).unwrap().0);
    assert_eq!(honest, sas_for(&bob.agree(alice.public_value()).unwrap().0));
    assert_ne!(alice_sees, bob_sees);
}

#[test]
fn tampering_is_caught_by_chain_macs_and_confirm_mac() {
    let mut rng = StdRng::seed_from_u64(3);
    let bob = endpoint(0xb0, AlgorithmOffer::default(), &mut rng);
    let other = HashChain::generate(&mut rng);
    // A Hello altered in flight fails its MAC once H2 is revealed.
    let mut hello = bob.hello.clone();
    hello[20] ^= 1;
    assert_eq!(
        kdf::verify_message_mac(&bob.chain.h2, &hello),
        Err(PeerMisbehaved::BadMessageMac.into())
    );
    // An H2 that is not the preimage of H3 breaks the chain.
    assert_eq!(
        kdf::verify_chain_link(&other.h2, &bob.chain.h3),
        Err(PeerMisbehaved::BadHashChain.into())
    );

    let o = run(AlgorithmOffer::default(), AlgorithmOffer::default(), 4);
    let n = o.negotiated;
    let body = ConfirmBody {
        h0: other.h0,
        enrollment: true,
        sas_verified: true,
        allow_clear: false,
        disclosure: true,
        cache_expiration: 3600,
        signature: vec![0xab; 8],
    };
    let mut sealed = keys::seal_confirm(&n, &o.initiator, Role::Initiator, [5; 16], &body).unwrap();
    assert_eq!(
        keys::open_confirm(&n, &o.responder, Role::Initiator, &sealed).unwrap(),
        body
    );
    // Keys of the wrong direction do not open it.
    assert!(keys::open_confirm(&n, &o.responder, Role::Responder, &sealed).is_err());
    sealed.ciphertext[0] ^= 0x80;
    assert_eq!(
        keys::open_confirm(&n, &o.responder, Role::Initiator, &sealed),
        Err(ZrtpError::PeerMisbehaved(PeerMisbehaved::BadConfirmMac))
    );
}

#[test]
fn retained_secret_ids_match_across_roles_and_rotate() {
    let mut cache = RetainedSecrets::default();
    cache.rotate([1; 32]);
    cache.rotate([2; 32]);
    assert_eq!((cache.rs1, cache.rs2), (Some([2; 32]), Some([1; 32])));
    let ids = keys::retained_secret_ids(HashAlgorithm::S256, &cache.rs1.unwrap());
    assert_ne!(ids.initiator, ids.responder);
    assert_eq!(
        ids,
        keys::retained_secret_ids(HashAlgorithm::S256, &[2; 32])
    );
}
