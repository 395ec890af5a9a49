//! ZRTP known answers from someone else's implementation: bzrtp's test vectors (generated with
//! GNU ZRTP C++) for the KDF and the CRC, whose CRC inputs are real Hello, HelloACK and DHPart1
//! packets; plus values computed with an independent Python implementation (hashlib/hmac) for
//! S384 and s0, noted beside each.

use sipher::zrtp::agreement::check_public_value;
use sipher::zrtp::algorithms::{AlgoId, HashAlgorithm, KeyAgreement, SasType};
use sipher::zrtp::kdf::{kdf, s0, MatchedSecrets};
use sipher::zrtp::keys::retained_secret_ids;
use sipher::zrtp::message::{Message, Zid};
use sipher::zrtp::packet::{crc, parse_packet, HEADER_LEN};
use sipher::zrtp::sas;

/// GNU ZRTP's Hello as sent by linphone (without its CRC trailer).
const HELLO: &str = "100018ca5a52545063674bfb505a001d48656c6c6f202020312e31304c494e50484f4e452d5a5254504350505d9c1a31fa1de7fd0a9033923a7be5fbf9a3d323286efc7249eb7b713e067cc994a90690cf9ced13998c513400011221533235364145533148533332485338304448336b4d756c744233322080473713dcd6ef54";
/// A HelloACK.
const HELLO_ACK: &str = "100018cd5a52545063674bfb505a000348656c6c6f41434b";
/// A DHPart1 carrying a DH3k public value.
const DHPART1: &str = "100018cf5a52545063674bfb505a00754448506172743120da39dea299f29e177bd25e1621fbf3e78fa7df0d187986452d9cf2167f0998113ad1ebf185a72a85fe415f50805aaa392789c058681c56ae36a6ee54062c06767c8de0f7668285b63a2ed1989dd9f18967ace2e654507e24dd9ba30dbfe865d3e34b762bec2842f709357942b525572b5371e1ca4025a998213bfbbd14f7b9bb5c51cadce2e6f71969e448937306170a046a50a151d573f6aebbaab5d1405a8e281502ffd6a20f648eed747f4ddc930e87fe9e3186e33088671f6861b7263414b1f5979953ebf1551bf4a6e921dc2bc41c267e861180e3a2d82a644f1b45f8905a302ac813b9d72b3256c9ea9fefbbf7c3439e2712bdec1e611dc658f3772a279ab7f11e152b0d670607656d896029a14925d4506efee2a88e59f9b35f980d2987d3874535a43f875f6fd04ad2f937687ec6aa573e71afb448ea0e7e46f9dbd3b926c4e25034870ab10d92010ab1b0d5d9b774012e0fabc84a570e942c2d327f6789a2c5a2b3d368763de89634a9964f66c0103cf64dafc8d3bd386f520f1ba90e92460dba401aec6880eca0fe1a9ba5d85485159e641c5ed897c24c4ff7e9093c6dc38c1b36d056d277cdaacf5cffdf2393b5dc089597db682d4b0189b28bd02519abbf49cfa527";

fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s).expect("test vector is valid hex")
}

#[test]
fn crc32c_matches_bzrtp_vectors_and_frames_real_packets() {
    for (input, expected) in [
        (HELLO, 0x5065ab04u32),
        (HELLO_ACK, 0x9c9edccd),
        (DHPART1, 0xda5c92ea),
    ] {
        let bytes = unhex(input);
        // bzrtp prints the trailer as a big-endian number of the wire bytes.
        assert_eq!(crc(&bytes), expected.to_be_bytes());
        let mut packet = bytes.clone();
        packet.extend_from_slice(&expected.to_be_bytes());
        let raw = parse_packet(&packet).expect("real packet frames");
        assert_eq!(raw.message, &bytes[HEADER_LEN..]);
        assert_eq!(raw.ssrc.0, 0x63674bfb);
    }
}

#[test]
fn real_hello_parses_and_re_encodes_byte_for_byte() {
    let bytes = unhex(HELLO);
    let msg = Message::parse(&bytes[HEADER_LEN..]).unwrap();
    let Message::Hello(hello) = &msg else {
        panic!("not a Hello: {msg:?}")
    };
    assert_eq!(&hello.version, b"1.10");
    assert_eq!(&hello.client_id, b"LINPHONE-ZRTPCPP");
    assert_eq!(
        hello.zid,
        Zid(unhex("94a90690cf9ced13998c5134").try_into().unwrap())
    );
    let ids = |l: &[AlgoId]| {
        l.iter()
            .map(|a| a.to_string())
            .collect::<Vec<_>>()
            .join(",")
    };
    assert_eq!(ids(&hello.hashes), "S256");
    assert_eq!(ids(&hello.ciphers), "AES1");
    assert_eq!(ids(&hello.auth_tags), "HS32,HS80");
    assert_eq!(ids(&hello.key_agreements), "DH3k,Mult");
    assert_eq!(ids(&hello.sas_types), "B32 ");
    assert!(!hello.signature_capable && !hello.mitm && !hello.passive);
    assert_eq!(msg.encode().unwrap(), &bytes[HEADER_LEN..]);
}

#[test]
fn real_dhpart1_parses_and_its_dh3k_value_passes_the_range_check() {
    let bytes = unhex(DHPART1);
    let msg = Message::parse(&bytes[HEADER_LEN..]).unwrap();
    let Message::DhPart1(part) = &msg else {
        panic!("not a DHPart1: {msg:?}")
    };
    assert_eq!(part.public_value.len(), 384);
    check_public_value(KeyAgreement::Dh3k, &part.public_value).unwrap();
    assert!(check_public_value(KeyAgreement::Dh2k, &part.public_value).is_err());
    assert_eq!(msg.encode().unwrap(), &bytes[HEADER_LEN..]);
    assert_eq!(
        Message::parse(&unhex(HELLO_ACK)[HEADER_LEN..]).unwrap(),
        Message::HelloAck
    );
}

#[test]
fn kdf_matches_gnu_zrtp_patterns() {
    let key = unhex("33e66c01ca6fe64fb76ffde31cabc0fbad3d3102676b0c090fc996381e0a8c2f");
    let context = unhex(
        "f01f2402000000008024adfb94a90690cf9ced13998c51347dc435a74d75254480c211f2d3205ea71b4ba4eec78eb7357528e56fcf4f749f",
    );
    assert_eq!(context.len(), 56);
    let cases: [(&str, usize, &str); 9] = [
        (
            "Responder SRTP master key",
            16,
            "f2cfc5724acfd7b50e89bed8a5c9f2cd",
        ),
        (
            "Responder SRTP master salt",
            14,
            "3c8fb13fd6ca83fbd6af3bd5ab1c",
        ),
        (
            "SAS",
            32,
            "d269b0718ad58f3c8e0dcf4535811d951847314128319f54c606595b522c5287",
        ),
        (
            "ZRTP Session Key",
            32,
            "c363390bc9ee13aa9e6a00528409ddc90717e01d1ae2dcf9a70ab98886ac6975",
        ),
        (
            "retained secret",
            32,
            "a7272dee77e7990c24b20b9f54ba2b617a23d8a59765829b78072bc51299015c",
        ),
        ("Responder ZRTP key", 16, "75767d41829cb697c7a20d6812eadb9a"),
        ("Initiator ZRTP key", 16, "08a821460cbd6ce0f1fe3c4c704e3bea"),
        (
            "Responder HMAC key",
            32,
            "2169f15c1b85a23977024d5ea71f481623fe94dc1aabf489b8744d0d373d7cab",
        ),
        (
            "Initiator HMAC key",
            32,
            "1d117befd627cc5a80d0236e8d496be42a6a0118ac4159e861b9b14a784b5d3f",
        ),
    ];
    for (label, len, expected) in cases {
        let out = kdf(HashAlgorithm::S256, &key, label, &context, len);
        assert_eq!(hex::encode(out), expected, "label {label}");
    }
}

#[test]
fn kdf_and_s0_match_an_independent_python_implementation() {
    // python3: hmac.new(ki, b'\0\0\0\1' + label + b'\0' + ctx + (8*L).to_bytes(4,'big'), sha384)
    let ki: Vec<u8> = (0u8..48).collect();
    let ctx: Vec<u8> = (100u8..172).collect();
    assert_eq!(
        hex::encode(kdf(HashAlgorithm::S384, &ki, "ZRTP Session Key", &ctx, 48)),
        "1ac9ee36b17987dc8dba906e6c3fadf4e02e46e0ed9927d24347dcbe07e2ba3610f7f4d0deffcbeef6dee6bde23e2ba8"
    );
    assert_eq!(
        hex::encode(kdf(
            HashAlgorithm::S384,
            &ki,
            "Initiator SRTP master key",
            &ctx,
            16
        )),
        "9e80b1faba762843e16723da5926fd48"
    );
    // python3: sha(b'\0\0\0\1' + dh + b'ZRTP-HMAC-KDF' + zi + zr + th + len(s1)+s1 + ...)
    let (zi, zr) = (Zid([1; 12]), Zid([2; 12]));
    let s1 = [4u8; 32];
    let secrets = MatchedSecrets {
        s1: Some(&s1),
        s2: Some(b"aux-secret"),
        s3: None,
    };
    assert_eq!(
        hex::encode(s0(
            HashAlgorithm::S256,
            &[0xaa; 32],
            &zi,
            &zr,
            &[3; 32],
            secrets
        )),
        "c5fe4a0f22477b90ede6c091cd1859f4c791e35b4a0445deff497739d92d1655"
    );
    assert_eq!(
        hex::encode(s0(HashAlgorithm::S384, &[0xaa; 32], &zi, &zr, &[3; 32], MatchedSecrets::default())),
        "c071a8e9793e86427e8c83837efea48d9348d4e8d41f1cd11fac2e5d3b5cbdbee28937db469aa8bd52109ddea0497d7a"
    );
    let ids = retained_secret_ids(HashAlgorithm::S256, &[9; 32]);
    assert_eq!(hex::encode(ids.initiator.0), "ea9f787ca5608f46");
    assert_eq!(hex::encode(ids.responder.0), "ef6586c72973ac1f");
}

#[test]
fn sas_renderings_of_known_sashash_values() {
    let mut sas_hash = [0u8; 32];
    sas_hash[..4].copy_from_slice(&0xdeadbeefu32.to_be_bytes());
    // z-base-32 of the leftmost 20 bits, and PGP words of the leftmost 16 (Python, see above).
    assert_eq!(sas::render(SasType::B32, &sas_hash), "54s5");
    assert_eq!(sas::render(SasType::B256, &sas_hash), "tactics:perceptive");
    sas_hash[..4].copy_from_slice(&0x12345678u32.to_be_bytes());
    assert_eq!(sas::render(SasType::B32, &sas_hash), "ne4f");
    assert_eq!(sas::render(SasType::B256, &sas_hash), "atlas:confidence");
}
