use aes::{Aes128, Aes256};

use super::*;
use crate::srtp::{SrtpProfile, SrtpSession};

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    hex::decode(s).expect("test vector is hex")
}

/// RFC 3711 Appendix B.2: the AES-CM keystream for session key 2B7E..., salt F0F1...FD,
/// SSRC 0, index 0, blocks 0-2 and 0xFEFF-0xFF01.
#[test]
fn rfc3711_b2_aes_cm_keystream() {
    let cipher = Aes128::new_from_slice(&hex("2B7E151628AED2A6ABF7158809CF4F3C")).unwrap();
    let salt: [u8; 14] = hex("F0F1F2F3F4F5F6F7F8F9FAFBFCFD").try_into().unwrap();
    let iv = packet_iv(&salt, 0, 0);
    assert_eq!(iv.to_vec(), hex("F0F1F2F3F4F5F6F7F8F9FAFBFCFD0000"));
    let mut stream = vec![0u8; 16 * 0xFF02];
    apply_keystream(&cipher, &iv, &mut stream);
    let block = |n: usize| stream[16 * n..16 * n + 16].to_vec();
    assert_eq!(block(0), hex("E03EAD0935C95E80E166B16DD92B4EB4"));
    assert_eq!(block(1), hex("D23513162B02D0F72A43A2FE4A5F97AB"));
    assert_eq!(block(2), hex("41E95B3BB0A2E8DD477901E4FCA894C0"));
    assert_eq!(block(0xFEFF), hex("EC8CDF7398607CB0F2D21675EA9EA1E4"));
    assert_eq!(block(0xFF00), hex("362B7C3C6773516318A077D7FC5073AE"));
    assert_eq!(block(0xFF01), hex("6A2CC3787889374FBEB4C81B17BA6C44"));
}

/// RFC 3711 Appendix B.3: session keys derived from a 128-bit master key.
#[test]
fn rfc3711_b3_key_derivation() {
    let master = Aes128::new_from_slice(&hex("E1F97A0D3E018BE0D64FA32C06DE4139")).unwrap();
    let salt = hex("0EC675AD498AFEEBB6960B3AABE6");
    let mut key = [0u8; 16];
    derive_into(&master, &salt, LABEL_RTP_ENCRYPTION, &mut key);
    assert_eq!(key.to_vec(), hex("C61E7A93744F39EE10734AFE3FF7A087"));
    let mut session_salt = [0u8; 14];
    derive_into(&master, &salt, LABEL_RTP_SALT, &mut session_salt);
    assert_eq!(session_salt.to_vec(), hex("30CBBC08863D8C85D49DB34A9AE1"));
    let mut auth = [0u8; 94];
    derive_into(&master, &salt, LABEL_RTP_AUTH, &mut auth);
    assert_eq!(
        auth.to_vec(),
        hex(
            "CEBE321F6FF7716B6FD4AB49AF256A15 6D38BAA48F0A0ACF3C34E2359E6CDBCE
             E049646C43D9327AD175578EF7227098 6371C10C9A369AC2F94A8C5FBCDDDC25
             6D6E919A48B610EF17C2041E47403576 6B68642C59BBFC2F34DB60DBDFB2"
        )
    );
}

/// RFC 6188 §7.2: the AES-256 key derivation.
#[test]
fn rfc6188_aes256_key_derivation() {
    let master = Aes256::new_from_slice(&hex(
        "f0f04914b513f2763a1b1fa130f10e29 98f6f6e43e4309d1e622a0e332b9f1b6",
    ))
    .unwrap();
    let salt = hex("3b04803de51ee7c96423ab5b78d2");
    let mut key = [0u8; 32];
    derive_into(&master, &salt, LABEL_RTP_ENCRYPTION, &mut key);
    assert_eq!(
        key.to_vec(),
        hex("5ba1064e30ec51613cad926c5a28ef73 1ec7fb397f70a960653caf06554cd8c4")
    );
    let mut session_salt = [0u8; 14];
    derive_into(&master, &salt, LABEL_RTP_SALT, &mut session_salt);
    assert_eq!(session_salt.to_vec(), hex("fa31791685ca444a9e07c6c64e93"));
    let mut auth = [0u8; 20];
    derive_into(&master, &salt, LABEL_RTP_AUTH, &mut auth);
    assert_eq!(
        auth.to_vec(),
        hex("fd9c32d39ed5fbb5a9dc96b30818454d1313dc05")
    );
}

/// The Twofish key-setup quirk: a 16-byte key must select the 128-bit schedule. Known answers
/// from the Twofish paper (ECB_TBL.TXT, I=1 for 128 and 256 bits: zero key, zero block).
#[test]
fn twofish_128_and_256_key_setup_known_answers() {
    let mut block = GenericArray::from([0u8; 16]);
    Twofish::new_from_slice(&[0u8; 16])
        .unwrap()
        .encrypt_block(&mut block);
    assert_eq!(block.to_vec(), hex("9F589F5CF6122C32B6BFEC2F2AE8C35A"));
    let mut block = GenericArray::from([0u8; 16]);
    Twofish::new_from_slice(&[0u8; 32])
        .unwrap()
        .encrypt_block(&mut block);
    assert_eq!(block.to_vec(), hex("57FF739D4DC92C1BD7FC01700CC8216F"));
}

use twofish::Twofish;

type Protect = Box<dyn FnMut(&[u8]) -> Vec<u8>>;

fn rtp(seq: u16, ssrc: u32, payload_len: usize) -> Vec<u8> {
    let mut p = vec![0x80, 0x00];
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&(u32::from(seq) * 160).to_be_bytes());
    p.extend_from_slice(&ssrc.to_be_bytes());
    p.extend((0..payload_len).map(|i| i as u8));
    p
}

/// Our generic counter-mode code keyed with AES produces exactly what webrtc-srtp produces for
/// the AES-CM profiles: two independent implementations agree byte for byte, RTP and RTCP,
/// across a sequence-number wrap.
#[test]
fn generic_cm_with_aes_matches_webrtc_srtp() {
    for profile in [
        SrtpProfile::Aes128CmHmacSha1_80,
        SrtpProfile::Aes128CmHmacSha1_32,
        SrtpProfile::Aes256CmHmacSha1_80,
        SrtpProfile::Aes256CmHmacSha1_32,
    ] {
        let keys = MasterKeys::new(
            profile,
            &(0..profile.key_len() as u8).collect::<Vec<_>>(),
            &[7; 14],
        )
        .unwrap();
        let mut webrtc = SrtpSession::new(profile, &keys, &keys).unwrap();
        let mut ours: Protect = if profile.key_len() == 16 {
            let mut c = CmContext::<Aes128>::new(&keys).unwrap();
            Box::new(move |p| c.protect_rtp(p).unwrap())
        } else {
            let mut c = CmContext::<Aes256>::new(&keys).unwrap();
            Box::new(move |p| c.protect_rtp(p).unwrap())
        };
        for seq in [65533u16, 65534, 65535, 0, 1] {
            let packet = rtp(seq, 0xDEADBEEF, 160);
            assert_eq!(
                ours(&packet),
                webrtc.protect_rtp(&packet).unwrap(),
                "{profile:?} {seq}"
            );
        }
    }
}

#[test]
fn twofish_round_trip_and_rejections() {
    for profile in [
        SrtpProfile::Twofish128CmHmacSha1_80,
        SrtpProfile::Twofish128CmHmacSha1_32,
        SrtpProfile::Twofish256CmHmacSha1_80,
        SrtpProfile::Twofish256CmHmacSha1_32,
    ] {
        let keys = MasterKeys::new(profile, &vec![9; profile.key_len()], &[3; 14]).unwrap();
        let mut tx = CmContext::<Twofish>::new(&keys).unwrap();
        let mut rx = CmContext::<Twofish>::new(&keys).unwrap();
        let packet = rtp(10, 1, 160);
        let srtp = tx.protect_rtp(&packet).unwrap();
        assert_eq!(srtp.len(), packet.len() + profile.rtp_tag_len());
        assert_ne!(srtp[12..172], packet[12..]);
        assert_eq!(rx.unprotect_rtp(&srtp).unwrap(), packet);
        assert_eq!(
            rx.unprotect_rtp(&srtp),
            Err(SrtpError::Replayed { index: 10 })
        );
        let mut tampered = tx.protect_rtp(&rtp(11, 1, 160)).unwrap();
        tampered[20] ^= 1;
        assert_eq!(
            rx.unprotect_rtp(&tampered),
            Err(SrtpError::AuthenticationFailed)
        );
    }
}

#[test]
fn index_estimation_follows_rfc3711_appendix_a() {
    // Across the wrap forwards, a late packet from before it, and no ROC below zero.
    assert_eq!(estimate_index(65535, 0), 1 << 16);
    assert_eq!(estimate_index((1 << 16) | 2, 65534), 65534);
    assert_eq!(estimate_index(5, 65000), 65000);
    assert_eq!(estimate_index(40000, 100), (1 << 16) | 100);
}

#[test]
fn replay_window_accepts_reordering_within_128_and_refuses_older() {
    let mut w = Window::new(1000);
    w.accept(1005);
    assert!(w.check(1003).is_ok());
    w.accept(1003);
    assert!(w.check(1003).is_err());
    assert!(w.check(1005 - 127).is_ok());
    assert!(w.check(1005 - 128).is_err());
    w.accept(5000);
    assert!(w.check(1005).is_err());
    assert!(w.check(4999).is_ok());
}
