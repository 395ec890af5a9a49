//! An attacker on the path cannot get either side to Secure with keys it controls: a changed
//! public value, a wrong hvi or an invalid DH value ends the exchange on both sides, with the
//! RFC's Error code sent to the peer; and hostile bytes never panic the engine.

mod zrtp_session_net;

use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sipher::zrtp::algorithms::{CipherAlgorithm, KeyAgreement, SasType};
use sipher::zrtp::message::{ErrorCode, Zid};
use sipher::zrtp::packet::encode_packet;
use sipher::zrtp::session::{ZrtpConfig, ZrtpEndpoint, ZrtpFailure, ZrtpState};
use sipher::zrtp::{PeerMisbehaved, ZrtpError};
use zrtp_session_net::{config, message_type, Net, COMMIT_HVI, DHPART_PV};

/// Node 0 initiates, node 1 is passive, so the roles are known; `tamper` edits what passes.
fn run_tampered(
    ka: KeyAgreement,
    seed: u64,
    tamper: impl FnMut(usize, &mut Vec<u8>) + 'static,
) -> Net {
    let mut responder = config(2, ka, CipherAlgorithm::Aes1, SasType::B32);
    responder.passive = true;
    let mut net = Net::pair(
        config(1, ka, CipherAlgorithm::Aes1, SasType::B32),
        responder,
        seed,
    );
    net.tamper = Some(Box::new(tamper));
    net.run(Duration::from_secs(60));
    assert!(
        net.secure.iter().all(Vec::is_empty),
        "nothing may be Secure"
    );
    assert_eq!(net.states(), [ZrtpState::Failed, ZrtpState::Failed]);
    net
}

fn bad_confirm_mac() -> ZrtpFailure {
    ZrtpFailure::Protocol(ZrtpError::PeerMisbehaved(PeerMisbehaved::BadConfirmMac))
}

#[test]
fn a_flipped_byte_in_the_responders_public_value_fails_both_sides() {
    for (ka, seed) in [
        (KeyAgreement::X255, 1),
        (KeyAgreement::Dh3k, 2),
        (KeyAgreement::Dh2k, 3),
    ] {
        let net = run_tampered(ka, seed, |from, msg| {
            if from == 1 && message_type(msg) == "DHPart1" {
                // Near the end of pvr: for DH the value stays in range, for X25519 it stays a
                // usable point, so only the key confirmation can notice.
                let at = msg.len() - 8 - 3;
                assert!(at > DHPART_PV);
                msg[at] ^= 0x40;
            }
        });
        // The Initiator derives other keys, so Confirm1 does not verify; it tells the Responder.
        assert_eq!(net.failed[0], vec![bad_confirm_mac()], "{ka:?}");
        assert_eq!(
            net.failed[1],
            vec![ZrtpFailure::PeerError(ErrorCode::BAD_CONFIRM_MAC)]
        );
    }
}

#[test]
fn a_flipped_byte_in_an_ec_public_value_is_refused_as_off_the_curve() {
    let net = run_tampered(KeyAgreement::Ec25, 4, |from, msg| {
        if from == 1 && message_type(msg) == "DHPart1" {
            msg[DHPART_PV + 40] ^= 0x01;
        }
    });
    let off_curve = ZrtpFailure::Protocol(PeerMisbehaved::PointNotOnCurve.into());
    assert_eq!(net.failed[0], vec![off_curve]);
    assert_eq!(
        net.failed[1],
        vec![ZrtpFailure::PeerError(ErrorCode::BAD_PUBLIC_VALUE)]
    );
}

#[test]
fn a_wrong_hvi_in_commit_fails_both_sides() {
    let net = run_tampered(KeyAgreement::X255, 5, |from, msg| {
        if from == 0 && message_type(msg) == "Commit" {
            msg[COMMIT_HVI + 5] ^= 0x10;
        }
    });
    assert_eq!(net.failed[1], vec![ZrtpFailure::BadHvi]);
    assert_eq!(
        net.failed[0],
        vec![ZrtpFailure::PeerError(ErrorCode::BAD_HVI)]
    );
}

#[test]
fn a_public_value_of_one_or_zero_is_refused() {
    for (ka, value, seed) in [
        (KeyAgreement::Dh3k, 1u8, 6),
        (KeyAgreement::Dh3k, 0, 7),
        (KeyAgreement::Dh2k, 1, 8),
        (KeyAgreement::X255, 0, 9),
    ] {
        let net = run_tampered(ka, seed, move |from, msg| {
            if from == 1 && message_type(msg) == "DHPart1" {
                let end = msg.len() - 8;
                msg[DHPART_PV..end].fill(0);
                msg[end - 1] = value;
            }
        });
        let expected = match ka {
            KeyAgreement::X255 => PeerMisbehaved::LowOrderPoint,
            _ => PeerMisbehaved::DhValueOutOfRange,
        };
        assert_eq!(
            net.failed[0],
            vec![ZrtpFailure::Protocol(expected.into())],
            "{ka:?}"
        );
        assert_eq!(
            net.failed[1],
            vec![ZrtpFailure::PeerError(ErrorCode::BAD_PUBLIC_VALUE)],
            "{ka:?} {value}"
        );
    }
}

#[test]
fn a_public_value_of_one_in_dhpart2_breaks_the_hvi_commitment() {
    let net = run_tampered(KeyAgreement::Dh3k, 10, |from, msg| {
        if from == 0 && message_type(msg) == "DHPart2" {
            let end = msg.len() - 8;
            msg[DHPART_PV..end].fill(0);
            msg[end - 1] = 1;
        }
    });
    assert_eq!(net.failed[1], vec![ZrtpFailure::BadHvi]);
    assert_eq!(
        net.failed[0],
        vec![ZrtpFailure::PeerError(ErrorCode::BAD_HVI)]
    );
}

#[test]
fn a_peer_hello_with_our_own_zid_is_refused() {
    let cfg = config(1, KeyAgreement::X255, CipherAlgorithm::Aes1, SasType::B32);
    let mut net = Net::pair(cfg.clone(), cfg, 11);
    net.run(Duration::from_secs(30));
    assert!(
        net.failed[0].contains(&ZrtpFailure::EqualZid),
        "{:?}",
        net.failed
    );
    assert!(net.secure.iter().all(Vec::is_empty));
}

#[test]
fn hostile_bytes_never_panic_and_never_make_secure() {
    let mut rng = StdRng::seed_from_u64(12);
    #[allow(clippy::disallowed_methods)] // a fixed instant; time does not move here
    let now = Instant::now();
    let mut ep = ZrtpEndpoint::new(ZrtpConfig::new(Zid([1; 12])), 1, now, &mut rng);
    ep.start(now);
    let types: [&[u8; 8]; 8] = [
        b"Hello   ",
        b"Commit  ",
        b"DHPart1 ",
        b"DHPart2 ",
        b"Confirm1",
        b"Confirm2",
        b"Conf2ACK",
        b"HelloACK",
    ];
    for i in 0..5000u32 {
        let len = rng.gen_range(0..120usize);
        let mut msg: Vec<u8> = (0..len).map(|_| rng.gen()).collect();
        if len >= 12 && i % 2 == 0 {
            let words = u16::try_from(len / 4).unwrap();
            msg[..4].copy_from_slice(&[0x50, 0x5a, (words >> 8) as u8, words as u8]);
            msg[4..12].copy_from_slice(types[rng.gen_range(0..types.len())]);
        }
        ep.handle_packet(
            now,
            &encode_packet(i as u16, sipher::media::rtp::Ssrc(0xbad), &msg),
        );
        ep.handle_packet(now, &msg);
    }
    while let Some(out) = ep.poll_output() {
        assert!(!matches!(out, sipher::zrtp::session::ZrtpOutput::Secure(_)));
    }
    assert_ne!(ep.state(), ZrtpState::Secure);
}

#[test]
fn a_forged_commit_or_dhpart1_off_the_hash_chain_is_dropped_and_the_genuine_one_wins() {
    for target in ["Commit", "DHPart1"] {
        let mut responder = config(2, KeyAgreement::X255, CipherAlgorithm::Aes1, SasType::B32);
        responder.passive = true;
        let initiator = config(1, KeyAgreement::X255, CipherAlgorithm::Aes1, SasType::B32);
        let mut net = Net::pair(initiator, responder, 13);
        // Only the first one is forged (its hash image, at offset 12, no longer fits the
        // chain); the retransmissions are genuine.
        let mut forged = false;
        net.tamper = Some(Box::new(move |_, msg| {
            if !forged && message_type(msg) == target {
                forged = true;
                msg[12] ^= 0x80;
            }
        }));
        net.run(Duration::from_secs(30));
        zrtp_session_net::assert_secure_pair(&net, 0, 1);
        let commits = net.sent[0].iter().filter(|t| *t == "Commit").count();
        assert!(commits >= 2, "{target}: the Commit had to be repeated");
    }
}
