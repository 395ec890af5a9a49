//! The exchange survives a bad network (loss, reorder, duplicates), settles Commit contention
//! when both sides commit at once, and gives up in bounded time when the peer goes silent.

mod zrtp_session_net;

use std::time::Duration;

use sipher::zrtp::algorithms::{CipherAlgorithm, KeyAgreement, SasType};
use sipher::zrtp::session::{ZrtpFailure, ZrtpState};
use zrtp_session_net::{assert_secure_pair, config, Net};

fn x255(zid: u8) -> sipher::zrtp::session::ZrtpConfig {
    config(zid, KeyAgreement::X255, CipherAlgorithm::Aes1, SasType::B32)
}

#[test]
fn twenty_percent_loss_with_reorder_and_duplicates_still_reaches_the_same_sas() {
    for seed in 1..=12 {
        let mut net = Net::pair(x255(1), x255(2), seed);
        net.loss = 0.2;
        net.duplicate = 0.1;
        net.delay = Duration::from_millis(30);
        net.jitter = Duration::from_millis(120);
        net.run(Duration::from_secs(60));
        assert_secure_pair(&net, 0, 1);
        let resent: usize = net.sent.iter().map(Vec::len).sum();
        assert!(
            resent > 8,
            "seed {seed}: the loss was felt ({resent} packets)"
        );
    }
}

#[test]
fn finite_field_dh_under_loss() {
    for seed in 20..=23 {
        let ka = KeyAgreement::Dh3k;
        let cfg = |zid| config(zid, ka, CipherAlgorithm::Aes3, SasType::B256);
        let mut net = Net::pair(cfg(1), cfg(2), seed);
        net.loss = 0.2;
        net.jitter = Duration::from_millis(80);
        net.run(Duration::from_secs(60));
        assert_secure_pair(&net, 0, 1);
    }
}

#[test]
fn both_commit_at_once_and_the_larger_hvi_initiates() {
    let mut contended = 0;
    for seed in 40..50 {
        // Symmetric link, both started together: both see HelloACK at the same instant.
        let mut net = Net::pair(x255(1), x255(2), seed);
        net.run(Duration::from_secs(30));
        let (a, _) = assert_secure_pair(&net, 0, 1);
        let commits = |i: usize| net.sent[i].iter().filter(|t| *t == "Commit").count();
        if commits(0) > 0 && commits(1) > 0 {
            contended += 1;
        }
        // The loser answered with DHPart1, the winner sent DHPart2.
        let (winner, loser) = if a.we_are_initiator { (0, 1) } else { (1, 0) };
        assert!(net.sent[loser].contains(&"DHPart1".to_owned()));
        assert!(!net.sent[loser].contains(&"DHPart2".to_owned()));
        assert!(net.sent[winner].contains(&"DHPart2".to_owned()));
    }
    assert_eq!(contended, 10, "every symmetric start is a contention");
}

#[test]
fn a_passive_endpoint_never_commits_but_answers() {
    let mut passive = x255(2);
    passive.passive = true;
    let mut net = Net::pair(x255(1), passive, 7);
    net.run(Duration::from_secs(30));
    let (a, b) = assert_secure_pair(&net, 0, 1);
    assert!(a.we_are_initiator && !b.we_are_initiator);
    assert!(!net.sent[1].contains(&"Commit".to_owned()));
}

#[test]
fn a_silent_peer_ends_in_a_hello_timeout() {
    // Node 1 exists but nothing reaches it: node 0 repeats Hello 20 times, then fails.
    let mut net = Net::pair(x255(1), x255(2), 3);
    net.loss = 1.0;
    net.run(Duration::from_secs(60));
    assert_eq!(net.failed[0], vec![ZrtpFailure::Timeout("Hello")]);
    assert_eq!(net.sent[0].iter().filter(|t| *t == "Hello").count(), 20);
    assert_eq!(net.states()[0], ZrtpState::Failed);
    assert!(net.secure.iter().all(Vec::is_empty));
    // 50 + 100 + 18 x 200 ms.
    assert!(
        net.elapsed() < Duration::from_secs(5),
        "{:?}",
        net.elapsed()
    );
}

#[test]
fn a_dhpart1_off_the_hash_chain_is_dropped_and_the_commit_times_out() {
    let mut passive = x255(2);
    passive.passive = true;
    let mut net = Net::pair(x255(1), passive, 5);
    // Every DHPart1 carries an H1 that does not hash up to the Hello's H3: the Initiator drops
    // it, never acts on it, and repeats its Commit until T2 gives up after ten.
    net.tamper = Some(Box::new(|from, msg| {
        if from == 1 && zrtp_session_net::message_type(msg) == "DHPart1" {
            msg[20] ^= 1;
        }
    }));
    net.run(Duration::from_secs(60));
    assert_eq!(net.failed[0], vec![ZrtpFailure::Timeout("Commit")]);
    assert_eq!(net.sent[0].iter().filter(|t| *t == "Commit").count(), 10);
    assert!(!net.sent[0].contains(&"DHPart2".to_owned()));
    assert!(net.secure.iter().all(Vec::is_empty));
}
