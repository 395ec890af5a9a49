//! A full call between two phones: through the registrar/proxy, then peer to peer. Ringing,
//! answer with media, hold, resume and hang-up, as each user sees it.

mod sim;

use std::time::Duration;

use sim::*;
use sipher::sip::ua::{CallHandle, CallState, Party};

const A: usize = 0;
const B: usize = 1;

/// Runs the whole flow; `to` is the URI Alice dials. Returns both call handles.
fn full_flow(w: &mut World, to: &str) -> (CallHandle, CallHandle) {
    let ca = w.call(A, to);
    assert!(
        w.run_until(
            |w| w.phone(B).incoming_call().is_some(),
            Duration::from_secs(10)
        ),
        "Bob never rang; Alice saw {:?}",
        w.phone(A).call_events(ca)
    );
    let cb = w.phone(B).incoming_call().unwrap();
    assert!(w.run_until(
        |w| w.phone(A).last_call_state(ca) == Some(CallState::Ringing),
        Duration::from_secs(10)
    ));

    let now = w.now;
    w.ua(B).answer(now, cb).unwrap();
    let connected = w.run_until(
        |w| {
            w.phone(A).last_call_state(ca) == Some(CallState::Connected)
                && w.phone(B).last_call_state(cb) == Some(CallState::Connected)
        },
        Duration::from_secs(10),
    );
    assert!(
        connected,
        "A {:?} B {:?}",
        w.phone(A).call_events(ca),
        w.phone(B).call_events(cb)
    );
    let (ma, mb) = (w.phone(A).media(ca), w.phone(B).media(cb));
    assert_eq!(ma.len(), 1, "{ma:?}");
    assert_eq!(mb.len(), 1, "{mb:?}");
    assert_eq!(
        ma[0].remote_rtp,
        media_config(w.phone(B).addr, vec![]).rtp_address
    );
    assert_eq!(
        mb[0].remote_rtp,
        media_config(w.phone(A).addr, vec![]).rtp_address
    );
    assert!(ma[0].codec.name.eq_ignore_ascii_case(&mb[0].codec.name));
    assert_eq!(ma[0].codec.clock_rate, mb[0].codec.clock_rate);

    // Hold and resume.
    let now = w.now;
    w.ua(A).hold(now, ca).unwrap();
    let held = w.run_until(
        |w| {
            w.phone(A).last_call_state(ca) == Some(CallState::Held)
                && w.phone(B).last_call_state(cb) == Some(CallState::RemoteHold)
        },
        Duration::from_secs(10),
    );
    assert!(
        held,
        "A {:?} B {:?}",
        w.phone(A).call_events(ca),
        w.phone(B).call_events(cb)
    );
    assert_eq!(w.ua(A).call_state(ca), Some(CallState::Held));
    assert_eq!(w.ua(B).call_state(cb), Some(CallState::RemoteHold));
    let b_media = w.phone(B).media(cb);
    assert!(b_media.last().unwrap().remote_holds(), "{b_media:?}");

    let now = w.now;
    w.ua(A).resume(now, ca).unwrap();
    let resumed = w.run_until(
        |w| {
            w.phone(A).last_call_state(ca) == Some(CallState::Resumed)
                && w.phone(B).last_call_state(cb) == Some(CallState::Resumed)
        },
        Duration::from_secs(10),
    );
    assert!(
        resumed,
        "A {:?} B {:?}",
        w.phone(A).call_events(ca),
        w.phone(B).call_events(cb)
    );
    w.run_for(Duration::from_secs(1));
    assert_eq!(w.ua(A).call_state(ca), Some(CallState::Connected));
    assert_eq!(w.ua(B).call_state(cb), Some(CallState::Connected));
    assert!(!w.phone(B).media(cb).last().unwrap().remote_holds());
    assert!(!w.phone(A).media(ca).last().unwrap().remote_holds());

    // Bob hangs up.
    let now = w.now;
    w.ua(B).hangup(now, cb).unwrap();
    let ended = w.run_until(
        |w| w.phone(A).last_call_state(ca) == Some(CallState::Ended),
        Duration::from_secs(10),
    );
    assert!(ended, "A {:?}", w.phone(A).call_events(ca));
    assert_eq!(
        w.phone(A).last_call_event(ca).unwrap().by,
        Some(Party::Remote)
    );
    let b_end = w.phone(B).last_call_event(cb).unwrap();
    assert_eq!(
        (b_end.state, b_end.by),
        (CallState::Ended, Some(Party::Local))
    );
    // The BYE was answered: nothing is left retransmitting.
    let byes = w.net.log.iter().filter(|s| s.is_request("BYE")).count();
    w.run_for(Duration::from_secs(60));
    assert_eq!(
        w.net.log.iter().filter(|s| s.is_request("BYE")).count(),
        byes
    );
    assert_eq!(w.ua(A).active_calls(), 0);
    assert_eq!(w.ua(B).active_calls(), 0);
    (ca, cb)
}

#[test]
fn call_through_the_registrar_rings_connects_holds_resumes_and_ends() {
    let mut w = World::with_registrar(11);
    assert!(w.register(A));
    assert!(w.register(B));
    let (ca, cb) = full_flow(&mut w, &format!("sip:bob@{DOMAIN}"));
    assert_eq!(
        w.phone(B).call_states(cb),
        [
            CallState::Incoming,
            CallState::Connected,
            CallState::RemoteHold,
            CallState::Resumed,
            CallState::Ended
        ]
    );
    // Alice's states in order, as her screen shows them.
    let states = w.phone(A).call_states(ca);
    assert_eq!(
        states,
        [
            CallState::Calling,
            CallState::Ringing,
            CallState::Connected,
            CallState::Held,
            CallState::Resumed,
            CallState::Ended
        ]
    );
    // In-dialog requests went through the proxy (Record-Route).
    let reg = addr(REGISTRAR);
    assert!(w
        .net
        .log
        .iter()
        .any(|s| s.is_request("BYE") && s.to.addr == reg));
}

#[test]
fn call_peer_to_peer_without_a_registrar() {
    let mut w = World::peer_to_peer(12);
    let (ca, cb) = full_flow(&mut w, &format!("sip:bob@{BOB}"));
    assert_eq!(
        w.phone(A).call_states(ca)[..3],
        [CallState::Calling, CallState::Ringing, CallState::Connected]
    );
    assert_eq!(
        w.phone(B).call_states(cb)[..2],
        [CallState::Incoming, CallState::Connected]
    );
}
