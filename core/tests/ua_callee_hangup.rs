//! The callee hangs up right after answering, before the caller's ACK arrived: the caller must
//! still learn the call is over (a BYE once the ACK is in, RFC 3261 §15), and nobody may be
//! left connected.

mod sim;

use std::time::Duration;

use sim::*;
use sipher::sip::ua::{CallState, Party};

const A: usize = 0;
const B: usize = 1;

#[test]
fn callee_hangs_up_before_the_ack_and_the_caller_ends_too() {
    let mut w = World::with_registrar(61);
    assert!(w.register(A) && w.register(B));
    let ca = w.call(A, &format!("sip:bob@{DOMAIN}"));
    assert!(w.run_until(
        |w| w.phone(B).incoming_call().is_some(),
        Duration::from_secs(10)
    ));
    let cb = w.phone(B).incoming_call().unwrap();
    // The first ACK is lost, so Bob is still waiting for it when he hangs up.
    w.net
        .drop_once(|s| s.is_request("ACK") && s.from == addr(ALICE));
    let now = w.now;
    w.ua(B).answer(now, cb).unwrap();
    assert!(w.run_until(
        |w| w.phone(A).ua.call_state(ca) == Some(CallState::Connected),
        Duration::from_secs(10)
    ));
    let now = w.now;
    w.ua(B).hangup(now, cb).unwrap();
    let ended = w.run_until(
        |w| w.phone(A).ua.call_state(ca) == Some(CallState::Ended),
        Duration::from_secs(40),
    );
    assert!(ended, "Alice is left in {:?}", w.phone(A).call_events(ca));
    assert_eq!(
        w.phone(A).last_call_event(ca).unwrap().by,
        Some(Party::Remote)
    );
    let eb = w.phone(B).last_call_event(cb).unwrap();
    assert_eq!((eb.state, eb.by), (CallState::Ended, Some(Party::Local)));
    // Bob never sent a 603 after his 200: that would be a second final response.
    assert!(w.net.responses_from(addr(BOB), 603).is_empty());
    w.run_for(Duration::from_secs(40));
    assert_eq!(w.net.requests_from(addr(BOB), "BYE").len(), 1);
    assert_eq!(w.ua(A).active_calls() + w.ua(B).active_calls(), 0);
}

#[test]
fn a_second_answer_is_refused() {
    let mut w = World::peer_to_peer(62);
    w.call(A, &format!("sip:bob@{BOB}"));
    assert!(w.run_until(
        |w| w.phone(B).incoming_call().is_some(),
        Duration::from_secs(10)
    ));
    let cb = w.phone(B).incoming_call().unwrap();
    w.net.set_link(addr(ALICE), addr(BOB), LinkConfig::dead());
    let now = w.now;
    w.ua(B).answer(now, cb).unwrap();
    w.run_for(Duration::from_millis(100));
    let now = w.now;
    assert!(w.ua(B).answer(now, cb).is_err());
    assert!(w.ua(B).reject(now, cb, 486).is_err());
}
