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
    assert!(
        w.register(ALICE_I),
        "events: {:?}",
        w.phone(ALICE_I).registration_events()
    );
    let (state, status, expires) = w.phone(ALICE_I).last_registration().unwrap();
    assert_eq!(
        (state, status, expires),
        (RegState::Registered, Some(200), Some(600))
    );
    // One REGISTER without credentials (401), one with.
    assert_eq!(w.reg().registers().len(), 2);
    assert!(w.is_bound("alice"));

    // Past the original expiry the binding is still alive: the UA refreshed it in time.
    w.run_for(Duration::from_secs(700));
    assert!(w.is_bound("alice"), "binding expired");
    assert_eq!(
        w.ua(ALICE_I).registration_state(),
        Some(RegState::Registered)
    );
    assert!(
        w.reg().registers().len() >= 3,
        "no refresh REGISTER was seen"
    );
    let failed = w
        .phone(ALICE_I)
        .registration_events()
        .iter()
        .any(|(s, _, _)| *s == RegState::Failed);
    assert!(!failed, "{:?}", w.phone(ALICE_I).registration_events());
}

#[test]
fn wrong_password_fails_with_403_at_once_and_does_not_hammer_the_registrar() {
    let mut w = World::with_registrar(2);
    w.registrar().add_user("alice", "not-what-alice-types");
    assert!(!w.register(ALICE_I));
    let (state, status, _) = w.phone(ALICE_I).last_registration().unwrap();
    assert_eq!((state, status), (RegState::Failed, Some(403)));
    assert!(
        w.elapsed() < Duration::from_secs(1),
        "took {:?}",
        w.elapsed()
    );
    let before = w.reg().registers().len();
    assert_eq!(before, 2);
    w.run_for(Duration::from_secs(600));
    let after = w.reg().registers().len();
    assert!(
        after - before <= 2,
        "{} more REGISTERs after a 403",
        after - before
    );
    assert_eq!(w.ua(ALICE_I).registration_state(), Some(RegState::Failed));
}

#[test]
fn interval_too_brief_registers_again_with_min_expires() {
    let mut w = World::with_registrar(3);
    w.registrar().min_expires = Some(1800);
    assert!(
        w.register(ALICE_I),
        "{:?}",
        w.phone(ALICE_I).registration_events()
    );
    let (_, _, expires) = w.phone(ALICE_I).last_registration().unwrap();
    assert_eq!(expires, Some(1800));
    let last = w.reg().registers().last().unwrap().expires();
    assert_eq!(last, Some(1800));
    let saw_423 = w.net.responses_from(addr(REGISTRAR), 423).len();
    assert_eq!(saw_423, 1);
}

#[test]
fn unreachable_registrar_fails_with_408_and_retries_with_backoff() {
    let mut w = World::with_registrar(4);
    w.net
        .set_link(addr(ALICE), addr(REGISTRAR), LinkConfig::dead());
    assert!(!w.register(ALICE_I));
    let (state, status, _) = w.phone(ALICE_I).last_registration().unwrap();
    assert_eq!((state, status), (RegState::Failed, Some(408)));
    // Timer F: 64 * T1 = 32 s.
    assert!(w.elapsed() >= Duration::from_secs(30) && w.elapsed() < Duration::from_secs(40));
    w.run_for(Duration::from_secs(3600));
    let attempts = w
        .phone(ALICE_I)
        .registration_events()
        .iter()
        .filter(|(s, _, _)| *s == RegState::Failed)
        .count();
    // Backoff 30, 60, 120, ... capped at 600 s plus 32 s per attempt: a handful per hour, not
    // hundreds.
    assert!(
        (4..=12).contains(&attempts),
        "{attempts} failed attempts in an hour"
    );
    let sent = w.net.requests_from(addr(ALICE), "REGISTER");
    let gaps: Vec<Duration> = sent.windows(2).map(|p| p[1].at - p[0].at).collect();
    assert!(
        gaps.iter().all(|g| *g <= Duration::from_secs(600)),
        "{gaps:?}"
    );
    assert!(!w.is_bound("alice"));
}

#[test]
fn unregister_sends_expires_zero_and_ends_unregistered() {
    let mut w = World::with_registrar(5);
    assert!(w.register(ALICE_I));
    let now = w.now;
    w.ua(ALICE_I).unregister(now);
    let done = w.run_until(
        |w| w.phone(ALICE_I).last_registration().map(|r| r.0) == Some(RegState::Unregistered),
        Duration::from_secs(60),
    );
    assert!(done, "{:?}", w.phone(ALICE_I).registration_events());
    assert_eq!(w.reg().registers().last().unwrap().expires(), Some(0));
    assert!(!w.is_bound("alice"));
    assert!(
        w.ua(ALICE_I).is_idle()
            || w.run_until(|w| w.phones[ALICE_I].ua.is_idle(), Duration::from_secs(60))
    );
    // No refresh afterwards.
    let n = w.reg().registers().len();
    w.run_for(Duration::from_secs(1200));
    assert_eq!(w.reg().registers().len(), n);
}

#[test]
fn stale_nonce_is_retried_not_taken_for_a_wrong_password() {
    let mut w = World::with_registrar(6);
    assert!(w.register(ALICE_I));
    w.registrar().expire_nonces();
    // The refresh (at 540 s) meets a stale nonce and must register again with the new one.
    w.run_for(Duration::from_secs(700));
    let events = w.phone(ALICE_I).registration_events();
    assert!(
        events.iter().all(|(s, _, _)| *s != RegState::Failed),
        "{events:?}"
    );
    assert_eq!(
        w.ua(ALICE_I).registration_state(),
        Some(RegState::Registered)
    );
    assert!(w.is_bound("alice"));
    let stale_401 = w
        .net
        .responses_from(addr(REGISTRAR), 401)
        .iter()
        .filter(|s| s.text().contains("stale=true"))
        .count();
    assert_eq!(stale_401, 1);
}

#[test]
fn nat_address_seen_by_the_registrar_goes_into_the_contact() {
    let mut w = World::new(7);
    let mut reg = Registrar::new(addr(REGISTRAR), "sim.test");
    reg.add_user("alice", PASSWORD_ALICE);
    w.registrar = Some(reg);
    let public = addr("203.0.113.7:40123");
    let private = addr("10.0.0.5:5060");
    let config = account_config("alice", PASSWORD_ALICE, "10.0.0.5:5060");
    w.add_phone(Phone::new("alice", public, private, config, 7));
    assert!(w.register(0), "{:?}", w.phone(0).registration_events());
    let binding = w.reg().binding("alice", w.now).unwrap().contact.clone();
    assert_eq!(binding.host.ip(), Some(public.ip()));
    assert_eq!(binding.port, Some(public.port()));
    // Still registered at the public address after a refresh.
    w.run_for(Duration::from_secs(700));
    let binding = w.reg().binding("alice", w.now).unwrap().contact.clone();
    assert_eq!(binding.port, Some(public.port()));
}

#[test]
fn sha256_challenge_is_answered() {
    let mut w = World::with_registrar(8);
    w.registrar().algorithm = sipher::sip::auth::Algorithm::Sha256;
    assert!(
        w.register(ALICE_I),
        "{:?}",
        w.phone(ALICE_I).registration_events()
    );
    let creds = w.reg().registers()[1]
        .headers
        .get(&sipher::sip::HeaderName::Authorization)
        .unwrap()
        .to_string();
    assert!(creds.contains("SHA-256"), "{creds}");
}

#[test]
fn a_shorter_lifetime_granted_by_the_registrar_is_refreshed_in_time() {
    let mut w = World::with_registrar(9);
    w.registrar().max_expires = 60;
    assert!(w.register(ALICE_I));
    assert_eq!(w.phone(ALICE_I).last_registration().unwrap().2, Some(60));
    for _ in 0..10 {
        w.run_for(Duration::from_secs(50));
        assert!(w.is_bound("alice"), "binding lapsed at {:?}", w.elapsed());
    }
}

#[test]
fn a_closed_tcp_flow_registers_again() {
    let mut w = World::new(10);
    let mut reg = Registrar::new(addr(REGISTRAR), "sim.test");
    reg.add_user("alice", PASSWORD_ALICE);
    w.registrar = Some(reg);
    let mut config = account_config("alice", PASSWORD_ALICE, ALICE);
    let server = sipher::sip::Target {
        transport: sipher::sip::Transport::Tcp,
        addr: addr(REGISTRAR),
    };
    config.account.as_mut().unwrap().server = server;
    let mut phone = Phone::new("alice", addr(ALICE), addr(ALICE), config, 10);
    phone
        .ua
        .set_local_addr(sipher::sip::Transport::Tcp, addr(ALICE));
    w.add_phone(phone);
    assert!(w.register(0), "{:?}", w.phone(0).registration_events());
    let before = w.reg().registers().len();
    let now = w.now;
    w.ua(0).flow_closed(now, server);
    w.run_for(Duration::from_secs(5));
    assert!(
        w.reg().registers().len() > before,
        "no REGISTER after the flow closed"
    );
    assert_eq!(w.ua(0).registration_state(), Some(RegState::Registered));
    assert!(w.is_bound("alice"));
}
