//! Server transactions (RFC 3261 §17.2, RFC 6026) driven in virtual time.

mod transaction_util;

use sipher::sip::transaction::{TransactionError, TransactionEvent, TransactionKey};
use sipher::sip::{HeaderAccess, HeaderName, Method, Request, Transport};
use transaction_util::*;

const BRANCH: &str = "z9hG4bKserver1";

/// Delivers `req` from Alice and returns the key of the Request event it produced.
fn receive_new(h: &mut Harness, req: &Request) -> TransactionKey {
    h.receive_request(req.clone(), udp(ALICE));
    match h.events.last() {
        Some(TransactionEvent::Request { key, request, .. }) if request == req => key.clone(),
        other => panic!("expected a Request event, got {other:?}"),
    }
}

fn ack_for(invite: &Request, resp_code: u16) -> Request {
    let mut ack = invite.clone();
    ack.method = Method::Ack;
    ack.headers.set(HeaderName::CSeq, "1 ACK");
    let to = response(invite, resp_code);
    ack.headers
        .set(HeaderName::To, to.headers.get(&HeaderName::To).unwrap());
    ack
}

#[test]
fn invite_gets_100_trying_from_the_layer_after_200_ms_of_silence() {
    let mut h = Harness::new();
    let inv = invite(BRANCH);
    let key = receive_new(&mut h, &inv);
    assert!(key.is_server());
    h.run_until(0.199);
    assert!(h.sent.is_empty());
    h.run_until(0.2);
    assert_times(&h.response_times(100), &[0.2]);
    assert_eq!(
        h.sent[0].1,
        udp(ALICE),
        "responses go to the request's source"
    );
}

#[test]
fn no_100_trying_when_the_ua_answers_within_200_ms() {
    let mut h = Harness::new();
    let inv = invite(BRANCH);
    receive_new(&mut h, &inv);
    h.run_until(0.1);
    h.respond(response(&inv, 180));
    h.run_until(1.0);
    assert!(h.response_times(100).is_empty());
    assert_times(&h.response_times(180), &[0.1]);
}

#[test]
fn retransmitted_invite_is_absorbed_and_last_provisional_resent() {
    let mut h = Harness::new();
    let inv = invite(BRANCH);
    receive_new(&mut h, &inv);
    h.respond(response(&inv, 180));
    h.run_until(0.5);
    h.receive_request(inv.clone(), udp(ALICE));
    let requests = h
        .events
        .iter()
        .filter(|e| matches!(e, TransactionEvent::Request { .. }))
        .count();
    assert_eq!(requests, 1);
    assert_times(&h.response_times(180), &[0.0, 0.5]);
}

#[test]
fn retransmitted_non_invite_gets_the_same_final_response_again() {
    let mut h = Harness::new();
    let reg = request("REGISTER", BRANCH, 1, Transport::Udp);
    receive_new(&mut h, &reg);
    h.respond(response(&reg, 401));
    h.run_until(2.0);
    h.receive_request(reg.clone(), udp(ALICE));
    assert_times(&h.response_times(401), &[0.0, 2.0]);
    assert_eq!(h.events.len(), 1, "one Request event only: {:?}", h.events);
}

#[test]
fn non_invite_server_forgets_the_request_after_timer_j() {
    let mut h = Harness::new();
    let reg = request("REGISTER", BRANCH, 1, Transport::Udp);
    let key = receive_new(&mut h, &reg);
    h.respond(response(&reg, 200));
    h.run_until(31.9);
    assert!(!h.terminated(&key));
    h.run_until(32.0);
    assert!(h.terminated(&key));
    // Now the same request is new again.
    receive_new(&mut h, &reg);
}

#[test]
fn non_invite_server_over_tcp_ends_with_its_final_response() {
    let mut h = Harness::new();
    let reg = request("REGISTER", BRANCH, 1, Transport::Tcp);
    h.receive_request(reg.clone(), tcp(ALICE));
    h.respond(response(&reg, 200));
    assert!(matches!(
        h.events.last(),
        Some(TransactionEvent::Terminated { .. })
    ));
    assert!(h.layer.is_empty());
}

#[test]
fn non_2xx_final_to_invite_is_retransmitted_with_timer_g_capped_at_t2() {
    let mut h = Harness::new();
    let inv = invite(BRANCH);
    receive_new(&mut h, &inv);
    h.respond(response(&inv, 486));
    h.run_until(20.0);
    assert_times(
        &h.response_times(486),
        &[0.0, 0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5],
    );
}

#[test]
fn missing_ack_is_reported_by_timer_h_at_32_seconds() {
    let mut h = Harness::new();
    let inv = invite(BRANCH);
    let key = receive_new(&mut h, &inv);
    h.respond(response(&inv, 486));
    h.run_until(31.999);
    assert!(!h
        .events
        .iter()
        .any(|e| matches!(e, TransactionEvent::AckTimeout { .. })));
    h.run_until(32.0);
    assert!(h.events.ends_with(&[
        TransactionEvent::AckTimeout { key: key.clone() },
        TransactionEvent::Terminated { key }
    ]));
}

#[test]
fn ack_for_non_2xx_stops_retransmissions_and_is_absorbed() {
    let mut h = Harness::new();
    let inv = invite(BRANCH);
    let key = receive_new(&mut h, &inv);
    h.respond(response(&inv, 486));
    h.run_until(0.6);
    h.receive_request(ack_for(&inv, 486), udp(ALICE));
    h.receive_request(ack_for(&inv, 486), udp(ALICE));
    h.run_until(40.0);
    assert_times(&h.response_times(486), &[0.0, 0.5]);
    assert!(!h.events.iter().any(|e| matches!(
        e,
        TransactionEvent::Ack { .. } | TransactionEvent::AckTimeout { .. }
    )));
    // Timer I (T4 = 5 s) after the ACK at 0.6.
    assert!(h.terminated(&key));
}

#[test]
fn after_2xx_invite_retransmissions_are_absorbed_and_ua_2xx_retransmissions_pass() {
    let mut h = Harness::new();
    let inv = invite(BRANCH);
    let key = receive_new(&mut h, &inv);
    h.respond(response(&inv, 200));
    h.run_until(0.5);
    h.receive_request(inv.clone(), udp(ALICE));
    // The UA retransmits its 2xx itself (RFC 3261 §13.3.1.4).
    h.respond(response(&inv, 200));
    assert_times(&h.response_times(200), &[0.0, 0.5]);
    assert_eq!(
        h.layer.send_response(h.now, response(&inv, 486)),
        Err(TransactionError::AlreadyFinal)
    );
    h.run_until(32.0);
    assert!(h.terminated(&key));
    assert_eq!(
        h.response_times(200).len(),
        2,
        "the layer never retransmits a 2xx"
    );
}

#[test]
fn ack_for_2xx_with_a_new_branch_goes_to_the_ua() {
    let mut h = Harness::new();
    let inv = invite(BRANCH);
    receive_new(&mut h, &inv);
    h.respond(response(&inv, 200));
    let mut ack = ack_for(&inv, 200);
    ack.headers.set(
        HeaderName::Via,
        "SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKack2xx",
    );
    h.receive_request(ack.clone(), udp(ALICE));
    assert_eq!(
        h.events.last(),
        Some(&TransactionEvent::Ack {
            request: ack,
            source: udp(ALICE)
        })
    );
}

#[test]
fn cancel_of_a_pending_invite_is_answered_200_and_reported_to_the_ua() {
    let mut h = Harness::new();
    let inv = invite(BRANCH);
    let invite_key = receive_new(&mut h, &inv);
    h.respond(response(&inv, 180));
    let mut cancel = inv.clone();
    cancel.method = Method::Cancel;
    cancel.headers.set(HeaderName::CSeq, "1 CANCEL");
    h.receive_request(cancel.clone(), udp(ALICE));
    let ok = h.sent_responses().pop().unwrap();
    assert_eq!(ok.status.code(), 200);
    assert_eq!(ok.cseq().unwrap().method, Method::Cancel);
    assert_eq!(
        ok.to_header().unwrap().tag().unwrap().0,
        "b1",
        "same tag as the 180"
    );
    match h.events.last() {
        Some(TransactionEvent::Request {
            request, cancelled, ..
        }) => {
            assert_eq!(request, &cancel);
            assert_eq!(cancelled, &Some(invite_key.clone()));
        }
        other => panic!("expected the CANCEL, got {other:?}"),
    }
    // The UA answers 487 to the INVITE.
    h.respond(response(&inv, 487));
    assert_eq!(h.sent_responses().pop().unwrap().status.code(), 487);
}

#[test]
fn cancel_matching_no_transaction_is_answered_481_by_the_layer() {
    let mut h = Harness::new();
    let cancel = request("CANCEL", BRANCH, 1, Transport::Udp);
    h.receive_request(cancel.clone(), udp(ALICE));
    let resp = h.sent_responses();
    assert_eq!(resp.len(), 1);
    assert_eq!(resp[0].status.code(), 481);
    assert!(resp[0].to_header().unwrap().tag().is_some());
    assert!(!h
        .events
        .iter()
        .any(|e| matches!(e, TransactionEvent::Request { .. })));
    // A retransmitted CANCEL gets the same answer.
    h.receive_request(cancel, udp(ALICE));
    assert_eq!(h.sent_responses(), vec![resp[0].clone(), resp[0].clone()]);
}

#[test]
fn cancel_after_the_final_response_is_answered_200_without_an_event() {
    let mut h = Harness::new();
    let inv = invite(BRANCH);
    receive_new(&mut h, &inv);
    h.respond(response(&inv, 200));
    let events_before = h.events.len();
    let mut cancel = inv.clone();
    cancel.method = Method::Cancel;
    cancel.headers.set(HeaderName::CSeq, "1 CANCEL");
    h.receive_request(cancel, udp(ALICE));
    assert_eq!(h.sent_responses().pop().unwrap().status.code(), 200);
    assert_eq!(h.events.len(), events_before);
}

#[test]
fn response_matching_no_server_transaction_is_an_error() {
    let mut h = Harness::new();
    let inv = invite(BRANCH);
    assert_eq!(
        h.layer.send_response(h.now, response(&inv, 200)),
        Err(TransactionError::NoTransaction)
    );
    let mut no_via = response(&inv, 200);
    no_via.headers.remove(&HeaderName::Via);
    assert!(matches!(
        h.layer.send_response(h.now, no_via),
        Err(TransactionError::Header(_))
    ));
}

#[test]
fn requests_beyond_the_transaction_cap_get_503_without_reaching_the_ua() {
    let mut h = Harness::new();
    h.layer.set_max_transactions(2);
    for i in 0..3 {
        let req = request("OPTIONS", &format!("z9hG4bKcap{i}"), 1, Transport::Udp);
        h.receive_request(req, udp(ALICE));
    }
    let requests = h
        .events
        .iter()
        .filter(|e| matches!(e, TransactionEvent::Request { .. }))
        .count();
    assert_eq!(requests, 2);
    let resp = h.sent_responses();
    assert_eq!(resp.len(), 1);
    assert_eq!(resp[0].status.code(), 503);
    assert_eq!(h.layer.len(), 2);
}

#[test]
fn hostile_requests_without_via_or_with_inconsistent_cseq_are_dropped() {
    let mut h = Harness::new();
    let mut no_via = invite(BRANCH);
    no_via.headers.remove(&HeaderName::Via);
    h.receive_request(no_via, udp(ALICE));
    let mut wrong_cseq = invite(BRANCH);
    wrong_cseq.headers.set(HeaderName::CSeq, "1 BYE");
    h.receive_request(wrong_cseq, udp(ALICE));
    let mut garbage_cseq = invite(BRANCH);
    garbage_cseq
        .headers
        .set(HeaderName::CSeq, "99999999999999999999 INVITE");
    h.receive_request(garbage_cseq, udp(ALICE));
    h.run_until(5.0);
    assert!(h.events.is_empty());
    assert!(h.sent.is_empty());
    assert!(h.layer.is_empty());
}

#[test]
fn rfc2543_request_without_magic_cookie_still_matches_its_retransmission_and_ack() {
    let mut h = Harness::new();
    let inv = invite("oldstyle1");
    let key = receive_new(&mut h, &inv);
    h.respond(response(&inv, 486));
    h.receive_request(inv.clone(), udp(ALICE));
    assert_eq!(h.response_times(486).len(), 2);
    h.receive_request(ack_for(&inv, 486), udp(ALICE));
    h.run_until(10.0);
    assert!(h.terminated(&key));
    assert_eq!(h.response_times(486).len(), 2, "the ACK stopped Timer G");
}
