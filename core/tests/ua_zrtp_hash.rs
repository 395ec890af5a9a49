//! Signalling for ZRTP calls in virtual time: each side's SDP carries `a=zrtp-hash` for the
//! Hello its media path will send (RFC 6189 §8.1), and each side hands its media path the hash
//! the other announced, so a Hello from anyone else is refused there.

mod sim;

use std::time::Duration;

use sim::*;
use sipher::sip::ua::{CallState, MediaEncryption, UaConfig, UaEvent, ZrtpMedia};
use sipher::sip::Transport;
use sipher::zrtp::message::Zid;
use sipher::zrtp::session::ZrtpConfig;

const A: usize = 0;
const B: usize = 1;

fn zrtp_config(zid: u8) -> ZrtpConfig {
    ZrtpConfig::new(Zid([zid; 12]))
}

fn world(seed: u64, zrtp_b: bool) -> World {
    let mut w = World::new(seed);
    for (name, at, zid, s) in [("alice", ALICE, 0xa, 1), ("bob", BOB, 0xb, 2)] {
        let zrtp = name == "alice" || zrtp_b;
        let mut config = UaConfig {
            local_user: name.into(),
            encryption: if zrtp {
                MediaEncryption::Zrtp
            } else {
                MediaEncryption::None
            },
            zrtp: Some(zrtp_config(zid)),
            ..UaConfig::default()
        };
        config.media = media_config(addr(at), default_codecs());
        let i = w.add_phone(Phone::new(name, addr(at), addr(at), config, seed ^ s));
        w.ua(i).set_local_addr(Transport::Udp, addr(at));
    }
    w
}

/// Alice calls Bob and Bob answers; returns the ZRTP part of each side's media event.
fn connect(w: &mut World) -> (Option<Box<ZrtpMedia>>, Option<Box<ZrtpMedia>>) {
    let now = w.now;
    let ca = w
        .ua(A)
        .call(now, uri(&format!("sip:bob@{BOB}")), None)
        .expect("alice calls");
    assert!(w.run_until(
        |w| w.phone(B).incoming_call().is_some(),
        Duration::from_secs(5)
    ));
    let cb = w.phone(B).incoming_call().expect("bob rings");
    let now = w.now;
    w.ua(B).answer(now, cb).expect("bob answers");
    assert!(w.run_until(
        |w| w.phone(A).ua.call_state(ca) == Some(CallState::Connected),
        Duration::from_secs(5)
    ));
    let zrtp = |w: &World, i: usize| {
        w.phone(i).events.iter().rev().find_map(|(_, e)| match e {
            UaEvent::Media { zrtp, .. } => Some(zrtp.clone()),
            _ => None,
        })
    };
    (zrtp(w, A).flatten(), zrtp(w, B).flatten())
}

#[test]
fn both_sides_announce_their_hello_and_learn_the_other_ones() {
    let mut w = world(1, true);
    let (a, b) = connect(&mut w);
    let (a, b) = (a.expect("alice runs ZRTP"), b.expect("bob runs ZRTP"));
    assert_eq!(
        a.peer_hello_hash,
        Some(b.hello.hello_hash(&zrtp_config(0xb))),
        "alice expects the Hello bob's media path will send"
    );
    assert_eq!(
        b.peer_hello_hash,
        Some(a.hello.hello_hash(&zrtp_config(0xa)))
    );
    assert_ne!(a.hello, b.hello);
}

#[test]
fn a_peer_without_zrtp_in_its_sdp_leaves_nothing_to_check() {
    let mut w = world(2, false);
    let (a, b) = connect(&mut w);
    let a = a.expect("alice runs ZRTP");
    assert_eq!(a.peer_hello_hash, None);
    assert!(b.is_none(), "bob does not run ZRTP");
}

#[test]
fn every_call_gets_a_new_hash_chain() {
    let mut w = world(3, true);
    let (first, _) = connect(&mut w);
    let mut w2 = world(4, true);
    let (second, _) = connect(&mut w2);
    assert_ne!(first.unwrap().hello, second.unwrap().hello);
}
