//! The whole register -> call -> hold -> resume -> BYE flow over a bad network (25 % random
//! loss plus bursts, jitter, duplication, reordering), for many seeds: retransmissions must
//! carry every step, and every seed must end the same way.

mod sim;

use std::time::Duration;

use sim::*;
use sipher::sip::ua::{CallState, Party, RegState};

const A: usize = 0;
const B: usize = 1;
const LONG: Duration = Duration::from_secs(300);

/// What the users saw at the end, and the milestones on the way.
#[derive(Debug)]
struct Outcome {
    registered: (Option<RegState>, Option<RegState>),
    a_saw: Vec<CallState>,
    b_saw: Vec<CallState>,
    a_end: (CallState, Option<Party>),
    b_end: (CallState, Option<Party>),
    /// Datagrams the network lost on the way.
    dropped: usize,
}

fn flow(seed: u64) -> Outcome {
    let mut w = World::with_registrar(seed);
    w.net.default_link = LinkConfig::lossy(0.2 + (seed % 3) as f64 * 0.05);
    let now = w.now;
    w.ua(A).register(now).unwrap();
    w.ua(B).register(now).unwrap();
    let registered = w.run_until(
        |w| w.is_bound("alice") && w.is_bound("bob"),
        Duration::from_secs(900),
    );
    assert!(
        registered,
        "seed {seed}: {:?}",
        w.phone(A).registration_events()
    );
    w.run_until(
        |w| {
            w.phones[A].ua.registration_state() == Some(RegState::Registered)
                && w.phones[B].ua.registration_state() == Some(RegState::Registered)
        },
        LONG,
    );

    let ca = w.call(A, &format!("sip:bob@{DOMAIN}"));
    assert!(
        w.run_until(|w| w.phone(B).incoming_call().is_some(), LONG),
        "seed {seed}: no incoming call; A saw {:?}",
        w.phone(A).call_events(ca)
    );
    let cb = w.phone(B).incoming_call().unwrap();
    let now = w.now;
    w.ua(B).answer(now, cb).unwrap();
    let both = |w: &World, a: CallState, b: CallState| {
        w.phone(A).ua.call_state(ca) == Some(a) && w.phone(B).ua.call_state(cb) == Some(b)
    };
    assert!(
        w.run_until(
            |w| both(w, CallState::Connected, CallState::Connected),
            LONG
        ),
        "seed {seed}: A {:?} B {:?}",
        w.phone(A).call_events(ca),
        w.phone(B).call_events(cb)
    );

    let now = w.now;
    w.ua(A).hold(now, ca).unwrap();
    assert!(
        w.run_until(|w| both(w, CallState::Held, CallState::RemoteHold), LONG),
        "seed {seed}: hold: A {:?} B {:?}",
        w.phone(A).call_events(ca),
        w.phone(B).call_events(cb)
    );
    // Resume once Alice may (her previous offer/answer is complete).
    let mut resumed = false;
    for _ in 0..20 {
        let now = w.now;
        if w.ua(A).resume(now, ca).is_ok() {
            resumed = true;
            break;
        }
        w.run_for(Duration::from_secs(1));
    }
    assert!(resumed, "seed {seed}: resume refused");
    assert!(
        w.run_until(
            |w| both(w, CallState::Connected, CallState::Connected),
            LONG
        ),
        "seed {seed}: resume: A {:?} B {:?}",
        w.phone(A).call_events(ca),
        w.phone(B).call_events(cb)
    );

    let now = w.now;
    w.ua(B).hangup(now, cb).unwrap();
    w.run_until(
        |w| w.phone(A).ua.call_state(ca) == Some(CallState::Ended),
        LONG,
    );
    // Let retransmissions die out; nothing may change any more.
    w.run_for(Duration::from_secs(60));
    let end = |p: &Phone, c| {
        let e = p.last_call_event(c).expect("the call had events");
        (e.state, e.by)
    };
    let dedup = |mut v: Vec<CallState>| {
        v.dedup();
        v
    };
    Outcome {
        registered: (w.ua(A).registration_state(), w.ua(B).registration_state()),
        a_saw: dedup(w.phone(A).call_states(ca)),
        b_saw: dedup(w.phone(B).call_states(cb)),
        a_end: end(w.phone(A), ca),
        b_end: end(w.phone(B), cb),
        dropped: w.net.log.iter().filter(|s| s.dropped).count(),
    }
}

#[test]
fn full_flow_over_a_lossy_link_ends_the_same_on_every_seed() {
    let mut dropped = 0;
    for seed in 100..120 {
        let got = flow(seed);
        dropped += got.dropped;
        let registered = (Some(RegState::Registered), Some(RegState::Registered));
        assert_eq!(got.registered, registered, "seed {seed}: {got:?}");
        assert_eq!(
            got.a_end,
            (CallState::Ended, Some(Party::Remote)),
            "seed {seed}: {got:?}"
        );
        assert_eq!(
            got.b_end,
            (CallState::Ended, Some(Party::Local)),
            "seed {seed}: {got:?}"
        );
        // Alice may miss Ringing (a lost 180 is not retransmitted on its own); every other
        // milestone must show.
        let a: Vec<CallState> = got
            .a_saw
            .iter()
            .copied()
            .filter(|s| *s != CallState::Ringing)
            .collect();
        assert_eq!(
            a,
            [
                CallState::Calling,
                CallState::Connected,
                CallState::Held,
                CallState::Resumed,
                CallState::Ended
            ],
            "seed {seed}"
        );
        assert_eq!(
            got.b_saw,
            [
                CallState::Incoming,
                CallState::Connected,
                CallState::RemoteHold,
                CallState::Resumed,
                CallState::Ended
            ],
            "seed {seed}"
        );
    }
    // The link really was bad: the flows above survived on retransmissions.
    assert!(
        dropped >= 100,
        "only {dropped} datagrams lost over 20 seeds"
    );
}
