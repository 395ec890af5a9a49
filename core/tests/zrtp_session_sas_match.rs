//! Two ZRTP endpoints in virtual time reach Secure with the same SAS and mirrored SRTP keys for
//! every key agreement, cipher and SAS rendering that the preference lists can select, and the
//! keys really protect media between them.

mod zrtp_session_net;

use std::time::Duration;

use sipher::srtp::{SrtpProfile, SrtpSession};
use sipher::zrtp::algorithms::{CipherAlgorithm, KeyAgreement, SasType};
use zrtp_session_net::{assert_secure_pair, config, Net};

#[test]
fn every_key_agreement_cipher_and_sas_reaches_the_same_sas() {
    let kas = [
        KeyAgreement::Dh3k,
        KeyAgreement::Dh2k,
        KeyAgreement::Ec25,
        KeyAgreement::Ec38,
        KeyAgreement::X255,
    ];
    let mut seed = 0;
    for ka in kas {
        for cipher in [CipherAlgorithm::Aes1, CipherAlgorithm::Aes3] {
            for sas in [SasType::B32, SasType::B256] {
                seed += 1;
                let mut net =
                    Net::pair(config(1, ka, cipher, sas), config(2, ka, cipher, sas), seed);
                net.run(Duration::from_secs(30));
                let (a, b) = assert_secure_pair(&net, 0, 1);
                let case = format!("{ka:?} {cipher:?} {sas:?}");
                assert_eq!(
                    (a.key_agreement, a.cipher, a.sas_type),
                    (ka, cipher, sas),
                    "{case}"
                );
                match sas {
                    SasType::B32 => assert_eq!(a.sas.chars().count(), 4, "{case}: {}", a.sas),
                    SasType::B256 => assert!(a.sas.contains(':'), "{case}: {}", a.sas),
                }
                let profile = match cipher {
                    CipherAlgorithm::Aes1 => SrtpProfile::Aes128CmHmacSha1_80,
                    _ => SrtpProfile::Aes256CmHmacSha1_80,
                };
                assert_eq!(a.srtp_profile, profile, "{case}");
                assert!(!a.pbx_peer && !b.pbx_peer);

                // Media protected by one side opens on the other, in both directions.
                let mut sa = SrtpSession::new(profile, &a.local_srtp, &a.remote_srtp).unwrap();
                let mut sb = SrtpSession::new(profile, &b.local_srtp, &b.remote_srtp).unwrap();
                let rtp = [
                    0x80, 0, 0, 1, 0, 0, 0, 160, 0x11, 0x22, 0x33, 0x44, 0xab, 0xcd,
                ];
                assert_eq!(
                    sb.unprotect_rtp(&sa.protect_rtp(&rtp).unwrap()).unwrap(),
                    rtp
                );
                let rtp = [
                    0x80, 0, 0, 1, 0, 0, 0, 160, 0x55, 0x66, 0x77, 0x88, 0x01, 0x02,
                ];
                assert_eq!(
                    sa.unprotect_rtp(&sb.protect_rtp(&rtp).unwrap()).unwrap(),
                    rtp
                );
            }
        }
    }
}

#[test]
fn sessions_with_different_seeds_get_different_keys_and_sas_values() {
    let cfg = || config(1, KeyAgreement::X255, CipherAlgorithm::Aes1, SasType::B256);
    let mut sas = Vec::new();
    let mut keys = Vec::new();
    for seed in 100..106 {
        let mut b = cfg();
        b.zid = sipher::zrtp::message::Zid([2; 12]);
        let mut net = Net::pair(cfg(), b, seed);
        net.run(Duration::from_secs(30));
        let (a, _) = assert_secure_pair(&net, 0, 1);
        sas.push(a.sas);
        keys.push(a.local_srtp);
    }
    keys.dedup();
    assert_eq!(keys.len(), 6);
    sas.sort();
    sas.dedup();
    assert!(sas.len() >= 5, "SAS values repeat too often: {sas:?}");
}
