//! Registration through the simulated registrar: digest challenge, refresh, refusals, 423,
//! unreachable registrar, un-REGISTER, stale nonces and NAT discovery.

mod sim;

use std::time::Duration;

use sim::*;
use sipher::sip::ua::RegState;
use sipher::sip::HeaderAccess;

const ALICE_I: usize = 0;

#[test]
fn registers_through_a_401_challenge_and_refreshes_before_expiry() {
    let mut w = World::with_registrar(1);
    assert!(w.register(ALICE_I), "events: {:?}", w.phone(ALICE_I).registration_events());
    let (state, status, expires) = w.phone(ALICE_I).last_registration().unwrap();
    assert_eq!((state, status, expires), (RegState::Registered, Some(200), Some(600)));
    // One REGISTER without credentials (401), one with.
    assert_eq!(w.reg().registers().len(), 2);
    assert!(w.is_bound("alice"));

    // Past the original expiry the binding is still alive: the UA refreshed it in time.
    w.run_for(Duration::from_secs(700));
    assert!(w.is_bound("alice"), "binding expired");
    assert_eq!(w.ua(ALICE_I).registration_state(), Some(RegState::Registered));
    assert!(w.reg().registers().len() >= 3, "no refresh REGISTER was seen");
    let failed = w
        .phone(ALICE_I)
        .registration_events()
        .iter()
        .any(|(s, _, _)| *s == RegState::Failed);
    assert!(!failed, "{:?}", w.phone(ALICE_I).registration_events());
}
