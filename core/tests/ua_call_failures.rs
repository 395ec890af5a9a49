//! Calls that do not connect, and requests a phone must refuse: what the user sees and what
//! the peer gets back.

mod sim;

use std::net::SocketAddr;
use std::time::Duration;

use sim::*;
use sipher::sdp::Codec;
use sipher::sip::ua::{CallHandle, CallState, Party};

const A: usize = 0;
const B: usize = 1;
const PROBE: &str = "198.51.100.99:5060";

fn registered_pair(seed: u64) -> World {
    let mut w = World::with_registrar(seed);
    assert!(w.register(A));
    assert!(w.register(B));
    w
}

/// Alice calls Bob and runs until Bob's phone rings.
fn ring_bob(w: &mut World) -> (CallHandle, CallHandle) {
    let ca = w.call(A, &format!("sip:bob@{DOMAIN}"));
    assert!(w.run_until(
        |w| w.phone(B).incoming_call().is_some()
            && w.phone(A).last_call_state(ca) == Some(CallState::Ringing),
        Duration::from_secs(10)
    ));
    (ca, w.phone(B).incoming_call().unwrap())
}

fn rejected_with(status: u16, reason: &str) {
    let mut w = registered_pair(u64::from(status));
    let (ca, cb) = ring_bob(&mut w);
    let now = w.now;
    w.ua(B).reject(now, cb, status).unwrap();
    assert!(w.run_until(
        |w| w.phone(A).last_call_state(ca) == Some(CallState::Failed),
        Duration::from_secs(10)
    ));
    let e = w.phone(A).last_call_event(ca).unwrap();
    assert_eq!(
        (e.status, e.reason.as_deref()),
        (Some(status), Some(reason))
    );
    assert_eq!(e.by, Some(Party::Remote));
    let eb = w.phone(B).last_call_event(cb).unwrap();
    assert_eq!((eb.state, eb.by), (CallState::Ended, Some(Party::Local)));
    // The rejection was ACKed: Bob stops retransmitting it.
    w.run_for(Duration::from_secs(40));
    let finals = w.net.responses_from(addr(BOB), status).len();
    assert_eq!(finals, 1, "Bob sent {finals} x {status}");
}

#[test]
fn busy_here_486_fails_the_call_for_the_caller() {
    rejected_with(486, "Busy Here");
}

#[test]
fn decline_603_fails_the_call_for_the_caller() {
    rejected_with(603, "Decline");
}

#[test]
fn caller_hangs_up_while_ringing_sends_cancel_and_callee_sees_487() {
    let mut w = registered_pair(21);
    let (ca, cb) = ring_bob(&mut w);
    let now = w.now;
    w.ua(A).hangup(now, ca).unwrap();
    assert!(w.run_until(
        |w| w.phone(B).last_call_state(cb) == Some(CallState::Ended),
        Duration::from_secs(10)
    ));
    let eb = w.phone(B).last_call_event(cb).unwrap();
    assert_eq!((eb.status, eb.by), (Some(487), Some(Party::Remote)));
    let ea = w.phone(A).last_call_event(ca).unwrap();
    assert_eq!((ea.state, ea.by), (CallState::Ended, Some(Party::Local)));
    assert_eq!(w.net.requests_from(addr(ALICE), "CANCEL").len(), 1);
    // The 487 reached Alice and was ACKed; no state flips afterwards.
    w.run_for(Duration::from_secs(40));
    assert!(w
        .net
        .log
        .iter()
        .any(|s| s.to.addr == addr(ALICE) && s.status() == Some(487)));
    assert_eq!(
        w.net.responses_from(addr(BOB), 487).len(),
        1,
        "the 487 was not ACKed"
    );
    assert_eq!(w.phone(A).call_states(ca).last(), Some(&CallState::Ended));
    assert_eq!(
        w.phone(A)
            .call_states(ca)
            .iter()
            .filter(|s| **s == CallState::Ended)
            .count(),
        1
    );
    assert_eq!(w.ua(A).active_calls() + w.ua(B).active_calls(), 0);
}

#[test]
fn calling_an_unregistered_user_fails_with_404() {
    let mut w = World::with_registrar(22);
    assert!(w.register(A));
    let ca = w.call(A, &format!("sip:bob@{DOMAIN}"));
    assert!(w.run_until(
        |w| w.phone(A).last_call_state(ca) == Some(CallState::Failed),
        Duration::from_secs(40)
    ));
    let e = w.phone(A).last_call_event(ca).unwrap();
    assert_eq!(e.status, Some(404));
}

#[test]
fn no_common_codec_is_refused_with_488() {
    let mut w = World::with_registrar(23);
    let g722_only = media_config(addr(BOB), vec![Codec::g722()]);
    w.phones[B].ua = {
        let mut config = account_config("bob", PASSWORD_BOB, BOB);
        config.media = g722_only;
        let mut ua = sipher::sip::ua::UserAgent::new(
            config,
            &mut <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(23),
        );
        ua.set_local_addr(sipher::sip::Transport::Udp, addr(BOB));
        ua
    };
    assert!(w.register(A));
    assert!(w.register(B));
    let ca = w.call(A, &format!("sip:bob@{DOMAIN}"));
    assert!(w.run_until(
        |w| w.phone(A).last_call_state(ca) == Some(CallState::Failed),
        Duration::from_secs(40)
    ));
    assert_eq!(w.phone(A).last_call_event(ca).unwrap().status, Some(488));
    let refusal = w.net.responses_from(addr(BOB), 488)[0].text();
    let to = refusal.lines().find(|l| l.starts_with("To:")).unwrap();
    assert!(to.contains(";tag="), "{refusal}");
    assert!(
        w.phone(B).incoming_call().is_none(),
        "Bob's phone rang for a call it cannot take"
    );
}

#[test]
fn the_2xx_is_retransmitted_until_the_ack_when_the_first_ack_is_lost() {
    let mut w = registered_pair(24);
    let (ca, cb) = ring_bob(&mut w);
    w.net
        .drop_once(|s| s.is_request("ACK") && s.from == addr(ALICE));
    let now = w.now;
    w.ua(B).answer(now, cb).unwrap();
    assert!(w.run_until(
        |w| w.phone(B).last_call_state(cb) == Some(CallState::Connected),
        Duration::from_secs(10)
    ));
    assert_eq!(w.phone(A).last_call_state(ca), Some(CallState::Connected));
    let oks = w
        .net
        .responses_from(addr(BOB), 200)
        .iter()
        .filter(|s| s.cseq_method().as_deref() == Some("INVITE"))
        .count();
    assert!(oks >= 2, "the 2xx was not retransmitted");
    let acks = w.net.requests_from(addr(ALICE), "ACK").len();
    assert!(acks >= 2, "Alice did not ACK the retransmitted 2xx");
    // Once ACKed, no more 2xx.
    w.run_for(Duration::from_secs(40));
    let later = w
        .net
        .responses_from(addr(BOB), 200)
        .iter()
        .filter(|s| s.cseq_method().as_deref() == Some("INVITE"))
        .count();
    assert_eq!(later, oks);
    assert_eq!(w.ua(B).call_state(cb), Some(CallState::Connected));
    assert_eq!(w.ua(A).call_state(ca), Some(CallState::Connected));
}

/// A request from the probe address to Bob, as raw text.
fn probe_request(method: &str, to_tag: Option<&str>, extra: &str) -> Vec<u8> {
    let to_tag = to_tag.map(|t| format!(";tag={t}")).unwrap_or_default();
    format!(
        "{method} sip:bob@{BOB} SIP/2.0\r\n\
         Via: SIP/2.0/UDP {PROBE};branch=z9hG4bKprobe{method}\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:probe@{PROBE}>;tag=p1\r\n\
         To: <sip:bob@{BOB}>{to_tag}\r\n\
         Call-ID: probe-{method}@198.51.100.99\r\n\
         CSeq: 7 {method}\r\n\
         Contact: <sip:probe@{PROBE}>\r\n\
         {extra}\
         Content-Length: 0\r\n\r\n"
    )
    .into_bytes()
}

/// Sends `req` to Bob and returns the final status he answered with.
fn probe(w: &mut World, req: &[u8]) -> Option<u16> {
    let probe: SocketAddr = addr(PROBE);
    w.inject(probe, B, req);
    w.run_for(Duration::from_secs(1));
    w.net
        .log
        .iter()
        .rev()
        .find(|s| s.to.addr == probe && s.status().is_some_and(|c| c >= 200))
        .and_then(|s| s.status())
}

#[test]
fn bye_for_an_unknown_dialog_gets_481() {
    let mut w = World::peer_to_peer(25);
    assert_eq!(
        probe(&mut w, &probe_request("BYE", Some("nosuch"), "")),
        Some(481)
    );
}

#[test]
fn options_is_answered_200() {
    let mut w = World::peer_to_peer(26);
    assert_eq!(
        probe(&mut w, &probe_request("OPTIONS", None, "")),
        Some(200)
    );
    let answer = w.net.log.last().unwrap().text();
    assert!(answer.contains("Allow:"), "{answer}");
}

#[test]
fn an_unsupported_require_gets_420_with_unsupported() {
    let mut w = World::peer_to_peer(27);
    let req = probe_request("INVITE", None, "Require: 100rel, foo\r\n");
    assert_eq!(probe(&mut w, &req), Some(420));
    let answer = w
        .net
        .log
        .iter()
        .rev()
        .find(|s| s.status() == Some(420))
        .unwrap()
        .text();
    assert!(answer.contains("Unsupported: 100rel, foo"), "{answer}");
    // Every final response carries a To tag (RFC 3261 §8.2.6.2).
    let to = answer.lines().find(|l| l.starts_with("To:")).unwrap();
    assert!(to.contains(";tag="), "{answer}");
    assert!(w.phone(B).incoming_call().is_none());
}
