//! Retained secrets across calls (RFC 6189 §4.3, §4.6.1, §7.1): what the users see on the
//! second call with the same peer, after one side lost its cache, and with a man in the middle
//! who was not part of the first call.

mod zrtp_session_net;

use std::sync::Arc;
use std::time::Duration;

use sipher::zrtp::algorithms::{CipherAlgorithm, KeyAgreement, SasType};
use sipher::zrtp::cache::{CachedPeer, KnownPeers};
use sipher::zrtp::message::Zid;
use sipher::zrtp::session::{CacheState, SecureInfo, ZrtpConfig};
use zrtp_session_net::{assert_secure_pair, config, Net};

/// One side's memory: its ZID and what it retained of peers.
#[derive(Clone, Default)]
struct Memory {
    peers: KnownPeers,
}

impl Memory {
    /// Store the outcome of an exchange as the engine does: rotate rs1 into rs2, unless the
    /// cache did not match (then nothing is replaced until the users verify the SAS).
    fn remember(&mut self, info: &SecureInfo) {
        let entry = self.peers.entry(info.peer_zid).or_default();
        if info.cache != CacheState::Mismatch {
            entry.rs2 = entry.rs1.take();
            entry.rs1 = Some(info.rs1);
        } else {
            entry.verified = false;
        }
    }

    fn confirm(&mut self, peer: Zid) {
        self.peers.entry(peer).or_default().verified = true;
    }
}

fn cfg(zid: u8, memory: &Memory) -> ZrtpConfig {
    let mut c = config(zid, KeyAgreement::X255, CipherAlgorithm::Aes3, SasType::B32);
    c.known_peers = Arc::new(memory.peers.clone());
    c
}

/// A call between node 0 (zid `a`) and node 1 (zid `b`); both remember it.
fn call(a: (u8, &mut Memory), b: (u8, &mut Memory), seed: u64) -> (SecureInfo, SecureInfo) {
    let mut net = Net::pair(cfg(a.0, a.1), cfg(b.0, b.1), seed);
    net.loss = 0.1;
    net.jitter = Duration::from_millis(30);
    net.run(Duration::from_secs(60));
    let (x, y) = assert_secure_pair(&net, 0, 1);
    a.1.remember(&x);
    b.1.remember(&y);
    (x, y)
}

fn zid(b: u8) -> Zid {
    config(b, KeyAgreement::X255, CipherAlgorithm::Aes3, SasType::B32).zid
}

#[test]
fn the_second_call_matches_and_verification_carries_over_only_when_both_confirmed() {
    let (mut alice, mut bob) = (Memory::default(), Memory::default());
    let (a1, b1) = call((0xa, &mut alice), (0xb, &mut bob), 1);
    assert_eq!((a1.cache, b1.cache), (CacheState::New, CacheState::New));
    assert!(
        !a1.verified && !b1.verified,
        "a first call is never verified"
    );
    assert_eq!(a1.sas, b1.sas);

    // Nobody confirmed: the secret matches, but the call is still "Not verified".
    let (a2, b2) = call((0xa, &mut alice), (0xb, &mut bob), 2);
    assert_eq!((a2.cache, b2.cache), (CacheState::Match, CacheState::Match));
    assert!(!a2.verified && !b2.verified);
    assert_ne!(a2.local_srtp, a1.local_srtp, "new keys every call");

    // Only Alice confirmed: both still show "Not verified" (both V flags are needed).
    alice.confirm(zid(0xb));
    let (a3, b3) = call((0xa, &mut alice), (0xb, &mut bob), 3);
    assert!(!a3.verified && !b3.verified);
    assert_eq!(a3.status(), "ZRTP - Not verified");

    // Both confirmed: the next call is verified on both sides without comparing again.
    bob.confirm(zid(0xa));
    let (a4, b4) = call((0xa, &mut alice), (0xb, &mut bob), 4);
    assert_eq!((a4.cache, b4.cache), (CacheState::Match, CacheState::Match));
    assert!(a4.verified && b4.verified);
    assert_eq!(b4.status(), "ZRTP - Verified");
}

#[test]
fn a_side_that_lost_its_cache_makes_the_other_side_raise_the_alarm() {
    let (mut alice, mut bob) = (Memory::default(), Memory::default());
    call((0xa, &mut alice), (0xb, &mut bob), 5);
    alice.confirm(zid(0xb));
    bob.confirm(zid(0xa));
    call((0xa, &mut alice), (0xb, &mut bob), 6);

    // Bob reinstalls: his cache is empty.
    let mut wiped = Memory::default();
    let (a, b) = call((0xa, &mut alice), (0xb, &mut wiped), 7);
    assert_eq!(a.cache, CacheState::Mismatch, "Alice had secrets for Bob");
    assert_eq!(b.cache, CacheState::New);
    assert!(
        !a.verified && !b.verified,
        "nothing says verified after a mismatch"
    );
    assert_eq!(a.sas, b.sas, "the SAS still works: they can compare it");
    assert!(
        !alice.peers[&zid(0xb)].verified,
        "the mismatch cleared Alice's V flag"
    );
}

#[test]
fn an_attacker_who_missed_the_first_call_causes_a_mismatch_on_both_sides() {
    let (mut alice, mut bob) = (Memory::default(), Memory::default());
    call((0xa, &mut alice), (0xb, &mut bob), 8);
    alice.confirm(zid(0xb));
    bob.confirm(zid(0xa));

    // Mallory relays with two sessions, claiming Bob's ZID to Alice and Alice's to Bob, but
    // she does not hold their retained secret.
    let mallory = Memory::default();
    let to_alice = cfg(0xb, &mallory);
    let to_bob = cfg(0xa, &mallory);
    let mut net = Net::new(
        vec![cfg(0xa, &alice), to_alice, to_bob, cfg(0xb, &bob)],
        &[(0, 1), (2, 3)],
        9,
    );
    net.run(Duration::from_secs(60));
    let (alice_side, _) = assert_secure_pair(&net, 0, 1);
    let (_, bob_side) = assert_secure_pair(&net, 2, 3);
    assert_eq!(alice_side.cache, CacheState::Mismatch);
    assert_eq!(bob_side.cache, CacheState::Mismatch);
    assert!(!alice_side.verified && !bob_side.verified);
    assert_ne!(
        alice_side.sas, bob_side.sas,
        "reading the SAS aloud exposes her"
    );
}

#[test]
fn the_shorter_cache_expiration_of_both_sides_wins() {
    let mut a = cfg(0xa, &Memory::default());
    a.cache_expiration = 3600;
    let b = cfg(0xb, &Memory::default());
    let mut net = Net::pair(a, b, 10);
    net.run(Duration::from_secs(30));
    let (x, y) = assert_secure_pair(&net, 0, 1);
    assert_eq!((x.cache_expiration, y.cache_expiration), (3600, 3600));
}

#[test]
fn cached_peer_debug_output_hides_the_secrets() {
    let p = CachedPeer {
        rs1: Some([0x5a; 32]),
        rs2: None,
        verified: true,
        pbx_enrolled: false,
    };
    let shown = format!("{p:?}");
    assert!(
        !shown.contains("90") && shown.contains("rs1: true"),
        "{shown}"
    );
}
