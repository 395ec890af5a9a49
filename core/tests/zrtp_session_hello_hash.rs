//! `a=zrtp-hash` (RFC 6189 §8.1): each side's SDP announces the hash of the Hello it will send;
//! a Hello that does not hash to the announced value is not the signalled peer's and is never
//! used, and if nothing else comes the exchange fails saying so.

mod zrtp_session_net;

use std::time::Duration;

use rand::rngs::StdRng;
use rand::SeedableRng;
use sipher::zrtp::algorithms::{CipherAlgorithm, KeyAgreement, SasType};
use sipher::zrtp::session::{parse_zrtp_hash, PreparedHello, ZrtpConfig, ZrtpFailure, ZrtpState};
use zrtp_session_net::{assert_secure_pair, config, Net};

/// Alice and Bob with prepared chains, each expecting the other's announced hash.
fn announced_pair(seed: u64) -> (ZrtpConfig, ZrtpConfig) {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut a = config(0xa, KeyAgreement::Dh3k, CipherAlgorithm::Aes1, SasType::B32);
    let mut b = config(0xb, KeyAgreement::Dh3k, CipherAlgorithm::Aes1, SasType::B32);
    let (ha, hb) = (
        PreparedHello::generate(&mut rng),
        PreparedHello::generate(&mut rng),
    );
    // What each SDP carries, read back the way the other side parses it.
    let sdp_a = ha.sdp_value(&a);
    let sdp_b = hb.sdp_value(&b);
    assert!(
        sdp_a.starts_with("1.10 ") && sdp_a.len() == 5 + 64,
        "{sdp_a}"
    );
    a.peer_hello_hash = parse_zrtp_hash(&sdp_b);
    b.peer_hello_hash = parse_zrtp_hash(&sdp_a);
    a.hello = Some(ha);
    b.hello = Some(hb);
    (a, b)
}

#[test]
fn hellos_that_match_the_announced_hashes_lead_to_secure() {
    let (a, b) = announced_pair(1);
    let mut net = Net::pair(a, b, 1);
    net.loss = 0.1;
    net.run(Duration::from_secs(30));
    assert_secure_pair(&net, 0, 1);
}

#[test]
fn a_hello_changed_on_the_path_is_refused_and_the_failure_names_the_mismatch() {
    let (a, b) = announced_pair(2);
    let mut net = Net::pair(a, b, 2);
    // Someone on the path rewrites Bob's client id in every Hello (and fixes the CRC).
    net.tamper = Some(Box::new(|from, msg: &mut Vec<u8>| {
        if from == 1 && msg.get(4..12) == Some(b"Hello   ") {
            msg[20] ^= 0x20;
        }
    }));
    net.run(Duration::from_secs(60));
    assert_ne!(net.nodes[0].state(), ZrtpState::Secure);
    assert!(net.secure[0].is_empty() && net.secure[1].is_empty());
    assert_eq!(
        net.failed[0].first(),
        Some(&ZrtpFailure::HelloHashMismatch),
        "{:?}",
        net.failed
    );
}

#[test]
fn a_peer_that_announced_nothing_is_still_accepted() {
    let (mut a, b) = announced_pair(3);
    a.peer_hello_hash = None;
    let mut net = Net::pair(a, b, 3);
    net.run(Duration::from_secs(30));
    assert_secure_pair(&net, 0, 1);
}

#[test]
fn only_version_1_10_hashes_of_the_right_length_are_read() {
    let hex64 = "ab".repeat(32);
    assert_eq!(parse_zrtp_hash(&format!("1.10 {hex64}")), Some([0xab; 32]));
    assert_eq!(parse_zrtp_hash(&format!("1.00 {hex64}")), None);
    assert_eq!(parse_zrtp_hash("1.10 abcd"), None);
    assert_eq!(parse_zrtp_hash(&format!("1.10 {}", "zz".repeat(32))), None);
    assert_eq!(parse_zrtp_hash(""), None);
}
