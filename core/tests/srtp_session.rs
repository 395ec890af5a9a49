//! SrtpSession through its public API: every profile round trips RTP and RTCP; replays,
//! tampering, E=0 SRTCP and runt packets are refused; the ROC follows a sequence wrap.

use sipher::srtp::{MasterKeys, SrtpError, SrtpProfile, SrtpSession, MAX_SSRCS};

fn keys(profile: SrtpProfile, fill: u8) -> MasterKeys {
    MasterKeys::new(
        profile,
        &vec![fill; profile.key_len()],
        &vec![fill ^ 0x5A; profile.salt_len()],
    )
    .unwrap()
}

fn pair(profile: SrtpProfile) -> (SrtpSession, SrtpSession) {
    let (a, b) = (keys(profile, 1), keys(profile, 2));
    (
        SrtpSession::new(profile, &a, &b).unwrap(),
        SrtpSession::new(profile, &b, &a).unwrap(),
    )
}

fn rtp(seq: u16, ssrc: u32) -> Vec<u8> {
    let mut p = vec![0x80, 0x00];
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&(u32::from(seq) * 160).to_be_bytes());
    p.extend_from_slice(&ssrc.to_be_bytes());
    p.extend((0..160).map(|i| (i as u8) ^ (seq as u8)));
    p
}

/// An RTCP receiver report with one report block, SSRC `ssrc`.
fn rtcp(ssrc: u32) -> Vec<u8> {
    let mut p = vec![0x81, 201, 0, 7];
    p.extend_from_slice(&ssrc.to_be_bytes());
    p.extend_from_slice(&[0xAB; 24]);
    p
}

#[test]
fn every_profile_round_trips_rtp_and_rtcp() {
    for profile in SrtpProfile::ALL {
        let (mut alice, mut bob) = pair(profile);
        for seq in 100..110 {
            let packet = rtp(seq, 0x1111);
            let srtp = alice.protect_rtp(&packet).unwrap();
            assert_eq!(
                srtp.len(),
                packet.len() + profile.rtp_tag_len(),
                "{profile:?}"
            );
            assert_ne!(
                srtp[12..172],
                packet[12..],
                "{profile:?} payload left in clear"
            );
            assert_eq!(bob.unprotect_rtp(&srtp).unwrap(), packet, "{profile:?}");
            // And the other way.
            let back = rtp(seq, 0x2222);
            assert_eq!(
                alice
                    .unprotect_rtp(&bob.protect_rtp(&back).unwrap())
                    .unwrap(),
                back
            );
        }
        for _ in 0..3 {
            let report = rtcp(0x1111);
            let srtcp = alice.protect_rtcp(&report).unwrap();
            assert_eq!(
                srtcp.len(),
                report.len() + 4 + profile.rtcp_tag_len(),
                "{profile:?}"
            );
            assert_eq!(bob.unprotect_rtcp(&srtcp).unwrap(), report, "{profile:?}");
        }
    }
}

#[test]
fn replayed_packets_are_rejected_but_reordering_is_not() {
    for profile in SrtpProfile::ALL {
        let (mut alice, mut bob) = pair(profile);
        let sent: Vec<_> = (0..5)
            .map(|s| alice.protect_rtp(&rtp(s, 7)).unwrap())
            .collect();
        for i in [0, 2, 1, 4, 3] {
            bob.unprotect_rtp(&sent[i]).unwrap();
        }
        assert!(
            matches!(bob.unprotect_rtp(&sent[2]), Err(SrtpError::Replayed { .. })),
            "{profile:?}"
        );
        let report = alice.protect_rtcp(&rtcp(7)).unwrap();
        bob.unprotect_rtcp(&report).unwrap();
        assert!(
            matches!(bob.unprotect_rtcp(&report), Err(SrtpError::Replayed { .. })),
            "{profile:?}"
        );
    }
}

#[test]
fn a_tampered_byte_anywhere_is_rejected() {
    for profile in SrtpProfile::ALL {
        let (mut alice, mut bob) = pair(profile);
        let srtp = alice.protect_rtp(&rtp(1, 9)).unwrap();
        // Header, payload and tag.
        for at in [1, 20, srtp.len() - 1] {
            let mut bad = srtp.clone();
            bad[at] ^= 0x01;
            assert_eq!(
                bob.unprotect_rtp(&bad),
                Err(SrtpError::AuthenticationFailed),
                "{at}"
            );
        }
        // The untouched packet still gets through: failures did not poison the state.
        assert!(bob.unprotect_rtp(&srtp).is_ok());
        let mut srtcp = alice.protect_rtcp(&rtcp(9)).unwrap();
        srtcp[10] ^= 0x80;
        assert_eq!(
            bob.unprotect_rtcp(&srtcp),
            Err(SrtpError::AuthenticationFailed)
        );
    }
}

#[test]
fn rollover_counter_follows_the_sequence_wrap() {
    for profile in SrtpProfile::ALL {
        let (mut alice, mut bob) = pair(profile);
        let seqs = [65533u16, 65534, 65535, 0, 1, 2];
        let sent: Vec<_> = seqs
            .iter()
            .map(|s| alice.protect_rtp(&rtp(*s, 3)).unwrap())
            .collect();
        // Delivered with the pre-wrap packet 65535 arriving after 0 and 1.
        for i in [0, 1, 3, 4, 2, 5] {
            assert_eq!(
                bob.unprotect_rtp(&sent[i]).unwrap(),
                rtp(seqs[i], 3),
                "{profile:?} {i}"
            );
        }
        // A receiver that guessed ROC 0 for a post-wrap packet would fail authentication; a
        // fresh receiver that only ever sees post-wrap packets therefore cannot read them.
        let (_, b) = (keys(profile, 1), keys(profile, 2));
        let mut late = SrtpSession::new(profile, &b, &keys(profile, 1)).unwrap();
        assert_eq!(
            late.unprotect_rtp(&sent[4]),
            Err(SrtpError::AuthenticationFailed)
        );
    }
}

#[test]
fn srtcp_index_is_carried_and_increments_with_the_e_flag_set() {
    for profile in SrtpProfile::ALL {
        let (mut alice, mut bob) = pair(profile);
        let tag = profile.rtcp_tag_len();
        let mut last = None;
        for _ in 0..4 {
            let srtcp = alice.protect_rtcp(&rtcp(5)).unwrap();
            let at = if profile.is_aead() {
                srtcp.len() - 4
            } else {
                srtcp.len() - 4 - tag
            };
            let word = u32::from_be_bytes(srtcp[at..at + 4].try_into().unwrap());
            assert_ne!(word & 0x8000_0000, 0, "E flag");
            let index = word & 0x7FFF_FFFF;
            if let Some(prev) = last {
                assert_eq!(index, prev + 1, "{profile:?}");
            }
            last = Some(index);
            bob.unprotect_rtcp(&srtcp).unwrap();
        }
    }
}

#[test]
fn srtcp_with_the_e_flag_cleared_is_refused() {
    for profile in SrtpProfile::ALL {
        let (mut alice, mut bob) = pair(profile);
        let mut srtcp = alice.protect_rtcp(&rtcp(5)).unwrap();
        let tag = profile.rtcp_tag_len();
        let at = if profile.is_aead() {
            srtcp.len() - 4
        } else {
            srtcp.len() - 4 - tag
        };
        srtcp[at] &= 0x7F;
        assert_eq!(
            bob.unprotect_rtcp(&srtcp),
            Err(SrtpError::UnencryptedSrtcp),
            "{profile:?}"
        );
    }
}

#[test]
fn runts_and_garbage_are_errors_not_panics() {
    for profile in SrtpProfile::ALL {
        let (_, mut bob) = pair(profile);
        for len in 0..48 {
            let junk: Vec<u8> = (0..len).map(|i| (i * 37 + 0x80) as u8).collect();
            assert!(bob.unprotect_rtp(&junk).is_err(), "{profile:?} rtp {len}");
            assert!(bob.unprotect_rtcp(&junk).is_err(), "{profile:?} rtcp {len}");
        }
        // RTP with an extension header claiming more words than the packet holds.
        let mut ext = rtp(1, 1);
        ext[0] |= 0x10;
        ext[14] = 0xFF;
        assert!(bob.unprotect_rtp(&ext).is_err());
    }
}

#[test]
fn made_up_ssrcs_cannot_grow_state_without_bound() {
    let profile = SrtpProfile::Aes128CmHmacSha1_80;
    let (mut alice, mut bob) = pair(profile);
    let genuine = alice.protect_rtp(&rtp(1, 42)).unwrap();
    bob.unprotect_rtp(&genuine).unwrap();
    let mut refused = 0;
    for ssrc in 0..1000u32 {
        let mut forged = genuine.clone();
        forged[8..12].copy_from_slice(&(ssrc + 1000).to_be_bytes());
        if bob.unprotect_rtp(&forged) == Err(SrtpError::TooManySsrcs { max: MAX_SSRCS }) {
            refused += 1;
        }
    }
    assert_eq!(refused, 1000 - (MAX_SSRCS - 1));
    // The genuine stream goes on.
    assert!(bob
        .unprotect_rtp(&alice.protect_rtp(&rtp(2, 42)).unwrap())
        .is_ok());
}

#[test]
fn keys_for_the_wrong_profile_are_refused() {
    let a = keys(SrtpProfile::Aes128CmHmacSha1_80, 1);
    let b = keys(SrtpProfile::AeadAes128Gcm, 2);
    assert_eq!(
        SrtpSession::new(SrtpProfile::Aes128CmHmacSha1_80, &a, &b).unwrap_err(),
        SrtpError::ProfileMismatch
    );
    assert_eq!(
        MasterKeys::new(SrtpProfile::AeadAes256Gcm, &[0; 16], &[0; 12]).unwrap_err(),
        SrtpError::KeyLength {
            expected: 32,
            got: 16
        }
    );
}
