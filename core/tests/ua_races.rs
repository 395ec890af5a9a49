//! Races a real network produces: an answer crossing a hang-up, both sides re-INVITing at
//! once (glare), a hang-up before anything came back, a call over TCP.

mod sim;

use std::time::Duration;

use sim::*;
use sipher::sip::ua::{CallState, Party};
use sipher::sip::Transport;

const A: usize = 0;
const B: usize = 1;

fn ringing(w: &mut World) -> (sipher::sip::ua::CallHandle, sipher::sip::ua::CallHandle) {
    let ca = w.call(A, &format!("sip:bob@{DOMAIN}"));
    assert!(w.run_until(
        |w| w.phone(B).incoming_call().is_some()
            && w.phone(A).last_call_state(ca) == Some(CallState::Ringing),
        Duration::from_secs(10)
    ));
    (ca, w.phone(B).incoming_call().unwrap())
}

#[test]
fn answer_crossing_a_hangup_ends_both_sides() {
    let mut w = World::with_registrar(51);
    assert!(w.register(A) && w.register(B));
    let (ca, cb) = ringing(&mut w);
    let now = w.now;
    w.ua(B).answer(now, cb).unwrap();
    w.ua(A).hangup(now, ca).unwrap();
    w.run_for(Duration::from_secs(40));
    let ea = w.phone(A).last_call_event(ca).unwrap();
    assert_eq!((ea.state, ea.by), (CallState::Ended, Some(Party::Local)));
    let eb = w.phone(B).last_call_event(cb).unwrap();
    assert_eq!(
        eb.state,
        CallState::Ended,
        "{:?}",
        w.phone(B).call_events(cb)
    );
    assert_eq!(eb.by, Some(Party::Remote));
    assert_eq!(w.ua(A).active_calls() + w.ua(B).active_calls(), 0);
}

#[test]
fn glare_on_hold_resolves_with_491_and_a_retry() {
    let mut w = World::with_registrar(52);
    assert!(w.register(A) && w.register(B));
    let (ca, cb) = ringing(&mut w);
    let now = w.now;
    w.ua(B).answer(now, cb).unwrap();
    assert!(w.run_until(
        |w| w.phone(A).ua.call_state(ca) == Some(CallState::Connected)
            && w.phone(B).ua.call_state(cb) == Some(CallState::Connected),
        Duration::from_secs(10)
    ));
    let now = w.now;
    w.ua(A).hold(now, ca).unwrap();
    w.ua(B).hold(now, cb).unwrap();
    w.run_for(Duration::from_secs(20));
    assert!(
        !w.net.responses_from(addr(ALICE), 491).is_empty()
            || !w.net.responses_from(addr(BOB), 491).is_empty()
    );
    let a_states = w.phone(A).call_states(ca);
    let b_states = w.phone(B).call_states(cb);
    assert!(a_states.contains(&CallState::Held), "{a_states:?}");
    assert!(b_states.contains(&CallState::Held), "{b_states:?}");
    assert!(a_states.contains(&CallState::RemoteHold), "{a_states:?}");
    assert!(b_states.contains(&CallState::RemoteHold), "{b_states:?}");
    // Both hold; the call is still up and can be hung up cleanly.
    let now = w.now;
    w.ua(A).hangup(now, ca).unwrap();
    w.run_for(Duration::from_secs(5));
    assert_eq!(
        w.phone(B).last_call_event(cb).unwrap().by,
        Some(Party::Remote)
    );
}

#[test]
fn hangup_before_any_provisional_still_cancels() {
    let mut w = World::with_registrar(53);
    assert!(w.register(A) && w.register(B));
    let ca = w.call(A, &format!("sip:bob@{DOMAIN}"));
    let now = w.now;
    w.ua(A).hangup(now, ca).unwrap();
    w.run_for(Duration::from_secs(40));
    let ea = w.phone(A).last_call_event(ca).unwrap();
    assert_eq!((ea.state, ea.by), (CallState::Ended, Some(Party::Local)));
    // If Bob's phone rang, it stopped ringing.
    if let Some(cb) = w.phone(B).incoming_call() {
        assert_eq!(w.phone(B).last_call_state(cb), Some(CallState::Ended));
    }
    assert_eq!(w.ua(A).active_calls() + w.ua(B).active_calls(), 0);
}

#[test]
fn peer_to_peer_call_over_tcp() {
    let mut w = World::peer_to_peer(54);
    w.ua(A).set_local_addr(Transport::Tcp, addr(ALICE));
    w.ua(B).set_local_addr(Transport::Tcp, addr(BOB));
    let now = w.now;
    let ca = w
        .ua(A)
        .call(now, uri(&format!("sip:bob@{BOB};transport=tcp")), None)
        .unwrap();
    assert!(w.run_until(
        |w| w.phone(B).incoming_call().is_some(),
        Duration::from_secs(5)
    ));
    let cb = w.phone(B).incoming_call().unwrap();
    let now = w.now;
    w.ua(B).answer(now, cb).unwrap();
    assert!(
        w.run_until(
            |w| w.phone(A).ua.call_state(ca) == Some(CallState::Connected)
                && w.phone(B).ua.call_state(cb) == Some(CallState::Connected),
            Duration::from_secs(5)
        ),
        "A {:?} B {:?}",
        w.phone(A).call_events(ca),
        w.phone(B).call_events(cb)
    );
    let now = w.now;
    w.ua(A).hangup(now, ca).unwrap();
    assert!(w.run_until(
        |w| w.phone(B).ua.call_state(cb) == Some(CallState::Ended),
        Duration::from_secs(5)
    ));
    assert!(w.net.log.iter().all(|s| s.to.transport == Transport::Tcp));
}
