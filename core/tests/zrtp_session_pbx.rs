//! A trusted MiTM (RFC 6189 §7.3): Alice talks to a PBX, which talks to Bob. The PBX's Hello
//! says it is one ("EndAtMitM"), it asks to be enrolled, and once Alice enrolled it, the SAS it
//! relays from Bob's leg is what Alice sees, so Alice and Bob read the same SAS. From a PBX she
//! never enrolled the relay is refused and her own SAS stays. Also: Ping is answered in any
//! state and GoClear is refused without leaving Secure.

mod zrtp_session_net;

use std::sync::Arc;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::SeedableRng;
use sipher::media::rtp::Ssrc;
use sipher::zrtp::algorithms::{CipherAlgorithm, KeyAgreement, SasType};
use sipher::zrtp::cache::{CachedPeer, KnownPeers};
use sipher::zrtp::message::{ErrorCode, Message, Ping, Zid, ZRTP_VERSION};
use sipher::zrtp::packet::{encode_packet, parse_packet};
use sipher::zrtp::session::{
    CacheState, ZrtpConfig, ZrtpEndpoint, ZrtpFailure, ZrtpOutput, ZrtpState,
};
use zrtp_session_net::{assert_secure_pair, config, Net};

const PBX_ZID: u8 = 0xc;

fn cfg(zid: u8) -> ZrtpConfig {
    config(zid, KeyAgreement::Ec25, CipherAlgorithm::Aes3, SasType::B32)
}

fn pbx_leg(zid: u8) -> ZrtpConfig {
    let mut c = cfg(zid);
    c.pbx = true;
    c.enroll = true;
    c
}

/// What Alice and the PBX remember of each other after an enrolment call: the retained
/// secret, and on Alice's side the enrolment.
fn after_enrolment(seed: u64) -> (KnownPeers, KnownPeers) {
    let mut net = Net::pair(cfg(0xa), pbx_leg(PBX_ZID), seed);
    net.run(Duration::from_secs(30));
    let (alice, pbx) = assert_secure_pair(&net, 0, 1);
    let mut alice_knows = KnownPeers::new();
    alice_knows.insert(
        alice.peer_zid,
        CachedPeer {
            rs1: Some(alice.rs1),
            verified: true,
            pbx_enrolled: true,
            ..CachedPeer::default()
        },
    );
    let mut pbx_knows = KnownPeers::new();
    pbx_knows.insert(
        Zid([0xa; 12]),
        CachedPeer {
            rs1: Some(pbx.rs1),
            ..CachedPeer::default()
        },
    );
    (alice_knows, pbx_knows)
}

/// Alice (0) ↔ PBX (1) and PBX (2) ↔ Bob (3), every leg secure. `memory`: what Alice and the
/// PBX remember of each other.
fn through_pbx(memory: Option<(KnownPeers, KnownPeers)>, seed: u64) -> Net {
    let mut alice = cfg(0xa);
    let mut pbx = pbx_leg(PBX_ZID);
    if let Some((alice_knows, pbx_knows)) = memory {
        alice.known_peers = Arc::new(alice_knows);
        pbx.known_peers = Arc::new(pbx_knows);
    }
    let mut net = Net::new(
        vec![alice, pbx, pbx_leg(PBX_ZID), cfg(0xb)],
        &[(0, 1), (2, 3)],
        seed,
    );
    net.run(Duration::from_secs(30));
    assert_secure_pair(&net, 0, 1);
    assert_secure_pair(&net, 2, 3);
    net
}

#[test]
fn the_pbx_is_shown_as_end_at_mitm_and_offers_enrolment() {
    let net = through_pbx(None, 1);
    let alice = &net.secure[0][0];
    assert!(alice.pbx_peer && alice.enrollment_offered);
    assert!(alice.badge().ends_with("/EndAtMitM"), "{}", alice.badge());
    let bob = &net.secure[3][0];
    assert!(bob.pbx_peer, "Bob's call also ends at the PBX");
    assert_ne!(
        alice.sas, bob.sas,
        "two legs, two SAS values before any relay"
    );
}

#[test]
fn an_enrolled_pbx_relays_bobs_sas_to_alice() {
    let mut net = through_pbx(Some(after_enrolment(7)), 2);
    assert_eq!(net.secure[0][0].cache, CacheState::Match);
    let bob_leg = net.secure[2][0].clone();
    let now = net.now;
    assert!(net.nodes[1].relay_sas(now, &bob_leg));
    net.run(Duration::from_secs(30));
    assert_eq!(net.secure[0].len(), 2, "the relayed SAS is reported");
    let relayed = &net.secure[0][1];
    assert!(relayed.sas_relayed);
    assert_eq!(
        relayed.sas, net.secure[3][0].sas,
        "Alice now reads Bob's SAS"
    );
    assert_eq!(relayed.local_srtp, net.secure[0][0].local_srtp, "same keys");
    assert!(!relayed.verified);
    assert!(net.failed.iter().all(Vec::is_empty), "{:?}", net.failed);
    assert!(
        net.sent[1]
            .iter()
            .filter(|t| t.as_str() == "SASrelay")
            .count()
            <= 2,
        "RelayACK stopped the retransmissions"
    );
}

#[test]
fn a_relay_from_a_pbx_that_was_never_enrolled_is_refused() {
    let mut net = through_pbx(None, 3);
    let bob_leg = net.secure[2][0].clone();
    let own_sas = net.secure[0][0].sas.clone();
    let now = net.now;
    assert!(net.nodes[1].relay_sas(now, &bob_leg));
    net.run(Duration::from_secs(30));
    assert_eq!(net.secure[0].len(), 1, "nothing new is shown to Alice");
    assert_eq!(net.secure[0][0].sas, own_sas);
    assert_eq!(net.nodes[0].state(), ZrtpState::Secure);
    assert_eq!(
        net.failed[1],
        vec![ZrtpFailure::PeerError(ErrorCode::UNTRUSTED_MITM)],
        "the PBX is told why"
    );
}

#[test]
fn an_impostor_with_the_enrolled_pbxs_zid_but_not_its_secret_is_refused() {
    // Alice enrolled the PBX, but this "PBX" (same public ZID, M flag) never held the secret.
    let (alice_knows, _) = after_enrolment(8);
    let mut net = through_pbx(Some((alice_knows, KnownPeers::new())), 9);
    assert_eq!(
        net.secure[0][0].cache,
        CacheState::Mismatch,
        "the alarm is up"
    );
    let bob_leg = net.secure[2][0].clone();
    let own_sas = net.secure[0][0].sas.clone();
    let now = net.now;
    assert!(net.nodes[1].relay_sas(now, &bob_leg));
    net.run(Duration::from_secs(30));
    assert_eq!(net.secure[0].len(), 1, "the forged relay is not shown");
    assert_eq!(net.secure[0][0].sas, own_sas);
}

#[test]
fn a_phone_never_relays() {
    let mut net = Net::pair(cfg(0xa), cfg(0xb), 4);
    net.run(Duration::from_secs(30));
    let (a, _) = assert_secure_pair(&net, 0, 1);
    assert!(!a.enrollment_offered && !a.pbx_peer);
    let now = net.now;
    assert!(!net.nodes[0].relay_sas(now, &a), "only a PBX relays");
}

#[test]
fn ping_gets_a_ping_ack_in_any_state_and_goclear_is_refused() {
    let mut rng = StdRng::seed_from_u64(5);
    #[allow(clippy::disallowed_methods)] // a time origin for the endpoint
    let now = std::time::Instant::now();
    let mut e = ZrtpEndpoint::new(cfg(0xa), 0x1234, now, &mut rng);
    let ping = Message::Ping(Ping {
        version: ZRTP_VERSION,
        endpoint_hash: [7; 8],
    })
    .encode()
    .unwrap();
    e.handle_packet(now, &encode_packet(1, Ssrc(0xfeed), &ping));
    let Some(ZrtpOutput::Transmit(p)) = e.poll_output() else {
        panic!("no answer to Ping");
    };
    let Ok(Message::PingAck(ack)) = Message::parse(parse_packet(&p).unwrap().message) else {
        panic!("not a PingACK");
    };
    assert_eq!(
        (ack.received_endpoint_hash, ack.received_ssrc),
        ([7; 8], 0xfeed)
    );
    assert_eq!(e.state(), ZrtpState::Discovery, "Ping changes nothing");

    // A secure pair; then someone asks Alice to go clear.
    let mut net = Net::pair(cfg(0xa), cfg(0xb), 6);
    net.run(Duration::from_secs(30));
    let goclear = hex_goclear();
    let t = net.now;
    net.nodes[0].handle_packet(t, &encode_packet(9, Ssrc(1), &goclear));
    assert_eq!(
        net.nodes[0].state(),
        ZrtpState::Secure,
        "media stays encrypted"
    );
    let Some(ZrtpOutput::Transmit(p)) = net.nodes[0].poll_output() else {
        panic!("GoClear is answered");
    };
    let msg = Message::parse(parse_packet(&p).unwrap().message).unwrap();
    assert_eq!(msg, Message::Error(ErrorCode::GOCLEAR_NOT_ALLOWED));
}

/// A GoClear message (§5.11): type block and an 8-byte clear_hmac.
fn hex_goclear() -> Vec<u8> {
    let mut m = vec![0x50, 0x5a, 0x00, 0x05];
    m.extend_from_slice(b"GoClear ");
    m.extend_from_slice(&[0; 8]);
    m
}
