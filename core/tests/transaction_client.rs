//! Client transactions (RFC 3261 §17.1) driven in virtual time.

mod transaction_util;

use sipher::sip::transaction::{TransactionError, TransactionEvent};
use sipher::sip::{HeaderAccess, HeaderName, Method, Response, SipMessage, Transport};
use transaction_util::*;

const BRANCH: &str = "z9hG4bKclient1";

#[test]
fn invite_over_udp_is_retransmitted_at_doubling_intervals_from_t1() {
    let mut h = Harness::new();
    h.send_request(invite(BRANCH), udp(BOB));
    h.run_until(31.9);
    // Intervals 0.5, 1, 2, 4, 8, 16 s after the first send.
    assert_times(
        &h.request_times(Method::Invite),
        &[0.0, 0.5, 1.5, 3.5, 7.5, 15.5, 31.5],
    );
}

#[test]
fn unanswered_invite_times_out_with_timer_b_at_32_seconds() {
    let mut h = Harness::new();
    let key = h.send_request(invite(BRANCH), udp(BOB));
    h.run_until(31.999);
    assert!(
        h.events.is_empty(),
        "nothing before Timer B: {:?}",
        h.events
    );
    h.run_until(32.0);
    assert_eq!(
        h.events,
        vec![
            TransactionEvent::Timeout { key: key.clone() },
            TransactionEvent::Terminated { key },
        ]
    );
    assert!(h.layer.is_empty());
}

#[test]
fn invite_over_tcp_is_never_retransmitted_but_still_times_out() {
    let mut h = Harness::new();
    let key = h.send_request(request("INVITE", BRANCH, 1, Transport::Tcp), tcp(BOB));
    h.run_until(40.0);
    assert_times(&h.request_times(Method::Invite), &[0.0]);
    assert!(h.events.contains(&TransactionEvent::Timeout { key }));
}

#[test]
fn provisional_response_stops_invite_retransmissions_and_timer_b() {
    let mut h = Harness::new();
    let inv = invite(BRANCH);
    let key = h.send_request(inv.clone(), udp(BOB));
    h.run_until(0.7);
    h.receive_response(response(&inv, 180), udp(BOB));
    h.run_until(100.0);
    assert_times(&h.request_times(Method::Invite), &[0.0, 0.5]);
    assert_eq!(h.responses_for(&key), vec![180]);
    assert!(!h
        .events
        .iter()
        .any(|e| matches!(e, TransactionEvent::Timeout { .. })));
}

#[test]
fn non_2xx_final_is_acked_with_invite_branch_and_response_to_tag() {
    let mut h = Harness::new();
    let inv = invite(BRANCH);
    let key = h.send_request(inv.clone(), udp(BOB));
    h.receive_response(response(&inv, 486), udp(BOB));
    assert_eq!(h.responses_for(&key), vec![486]);
    let acks = h.sent_requests(Method::Ack);
    assert_eq!(acks.len(), 1);
    let ack = &acks[0];
    assert_eq!(ack.uri, inv.uri);
    assert_eq!(ack.top_via().unwrap().branch().unwrap().0, BRANCH);
    assert_eq!(ack.headers.get_all(&HeaderName::Via).count(), 1);
    assert_eq!(ack.to_header().unwrap().tag().unwrap().0, "b1");
    assert_eq!(ack.from_header().unwrap(), inv.from_header().unwrap());
    assert_eq!(ack.call_id().unwrap(), inv.call_id().unwrap());
    let cseq = ack.cseq().unwrap();
    assert_eq!((cseq.seq, cseq.method), (1, Method::Ack));
    assert_eq!(
        ack.headers.get_all(&HeaderName::Route).collect::<Vec<_>>(),
        inv.headers.get_all(&HeaderName::Route).collect::<Vec<_>>()
    );
}

#[test]
fn retransmitted_non_2xx_final_is_reacked_without_a_second_event() {
    let mut h = Harness::new();
    let inv = invite(BRANCH);
    let key = h.send_request(inv.clone(), udp(BOB));
    h.receive_response(response(&inv, 486), udp(BOB));
    h.run_until(1.0);
    h.receive_response(response(&inv, 486), udp(BOB));
    assert_eq!(h.sent_requests(Method::Ack).len(), 2);
    assert_eq!(h.responses_for(&key), vec![486]);
}

#[test]
fn invite_client_lingers_for_timer_d_over_udp() {
    let mut h = Harness::new();
    let inv = invite(BRANCH);
    let key = h.send_request(inv.clone(), udp(BOB));
    h.receive_response(response(&inv, 603), udp(BOB));
    h.run_until(31.9);
    assert!(!h.terminated(&key));
    h.run_until(32.0);
    assert!(h.terminated(&key));
}

#[test]
fn invite_client_over_tcp_ends_at_once_after_non_2xx() {
    let mut h = Harness::new();
    let inv = request("INVITE", BRANCH, 1, Transport::Tcp);
    let key = h.send_request(inv.clone(), tcp(BOB));
    h.receive_response(response(&inv, 603), tcp(BOB));
    assert!(h.terminated(&key));
    assert_eq!(h.sent_requests(Method::Ack).len(), 1);
}

#[test]
fn every_2xx_is_passed_up_while_accepted_and_none_is_acked_by_the_layer() {
    let mut h = Harness::new();
    let inv = invite(BRANCH);
    let key = h.send_request(inv.clone(), udp(BOB));
    h.receive_response(response(&inv, 200), udp(BOB));
    h.run_until(2.0);
    h.receive_response(response(&inv, 200), udp(BOB));
    assert_eq!(h.responses_for(&key), vec![200, 200]);
    assert!(h.sent_requests(Method::Ack).is_empty());
    // Timer M (64*T1) ends the Accepted state; a later 2xx is dropped.
    h.run_until(32.0);
    assert!(h.terminated(&key));
    h.receive_response(response(&inv, 200), udp(BOB));
    assert_eq!(h.responses_for(&key), vec![200, 200]);
}

#[test]
fn non_invite_retransmit_interval_doubles_up_to_t2() {
    let mut h = Harness::new();
    h.send_request(request("REGISTER", BRANCH, 1, Transport::Udp), udp(BOB));
    h.run_until(31.9);
    assert_times(
        &h.request_times(Method::Register),
        &[0.0, 0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5],
    );
}

#[test]
fn unanswered_non_invite_times_out_with_timer_f_at_32_seconds() {
    let mut h = Harness::new();
    let key = h.send_request(request("OPTIONS", BRANCH, 1, Transport::Udp), udp(BOB));
    h.run_until(31.999);
    assert!(h.events.is_empty());
    h.run_until(32.0);
    assert_eq!(
        h.events,
        vec![
            TransactionEvent::Timeout { key: key.clone() },
            TransactionEvent::Terminated { key },
        ]
    );
}

#[test]
fn non_invite_retransmits_every_t2_after_a_provisional() {
    let mut h = Harness::new();
    let req = request("REGISTER", BRANCH, 1, Transport::Udp);
    h.send_request(req.clone(), udp(BOB));
    h.run_until(0.2);
    h.receive_response(response(&req, 100), udp(BOB));
    h.run_until(9.0);
    // The pending Timer E (0.5) fires, then every T2 = 4 s.
    assert_times(&h.request_times(Method::Register), &[0.0, 0.5, 4.5, 8.5]);
}

#[test]
fn non_invite_final_retransmission_is_absorbed_until_timer_k() {
    let mut h = Harness::new();
    let req = request("REGISTER", BRANCH, 1, Transport::Udp);
    let key = h.send_request(req.clone(), udp(BOB));
    h.receive_response(response(&req, 200), udp(BOB));
    h.receive_response(response(&req, 200), udp(BOB));
    assert_eq!(h.responses_for(&key), vec![200]);
    h.run_until(4.9);
    assert!(!h.terminated(&key));
    h.run_until(5.0);
    assert!(h.terminated(&key));
    assert_times(&h.request_times(Method::Register), &[0.0]);
}

#[test]
fn cancel_waits_for_a_provisional_response() {
    let mut h = Harness::new();
    let inv = invite(BRANCH);
    let key = h.send_request(inv.clone(), udp(BOB));
    let cancel_key = h.layer.cancel(h.now, &key).unwrap();
    h.drain();
    assert!(h.sent_requests(Method::Cancel).is_empty());
    h.run_until(1.0);
    h.receive_response(response(&inv, 180), udp(BOB));
    assert_times(&h.request_times(Method::Cancel), &[1.0]);
    assert_eq!(cancel_key.method(), &Method::Cancel);
    assert_eq!(h.layer.cancel(h.now, &key), Ok(cancel_key));
}

#[test]
fn cancel_copies_uri_via_call_id_from_to_route_and_cseq_number() {
    let mut h = Harness::new();
    let inv = invite(BRANCH);
    let key = h.send_request(inv.clone(), udp(BOB));
    h.receive_response(response(&inv, 100), udp(BOB));
    let cancel_key = h.layer.cancel(h.now, &key).unwrap();
    h.drain();
    let cancels = h.sent_requests(Method::Cancel);
    assert_eq!(cancels.len(), 1);
    let c = &cancels[0];
    assert_eq!(c.uri, inv.uri);
    assert_eq!(
        c.headers.get_all(&HeaderName::Via).collect::<Vec<_>>(),
        vec![inv.headers.get(&HeaderName::Via).unwrap()]
    );
    assert_eq!(c.call_id().unwrap(), inv.call_id().unwrap());
    assert_eq!(c.from_header().unwrap(), inv.from_header().unwrap());
    assert_eq!(c.to_header().unwrap(), inv.to_header().unwrap());
    let cseq = c.cseq().unwrap();
    assert_eq!((cseq.seq, cseq.method), (1, Method::Cancel));
    assert_eq!(
        c.headers.get_all(&HeaderName::Route).collect::<Vec<_>>(),
        inv.headers.get_all(&HeaderName::Route).collect::<Vec<_>>()
    );
    // Its 200 matches the CANCEL transaction, not the INVITE.
    h.receive_response(response(c, 200), udp(BOB));
    assert_eq!(h.responses_for(&cancel_key), vec![200]);
    assert_eq!(h.responses_for(&key), vec![100]);
}

#[test]
fn queued_cancel_is_dropped_when_the_invite_gets_a_final_response_first() {
    let mut h = Harness::new();
    let inv = invite(BRANCH);
    let key = h.send_request(inv.clone(), udp(BOB));
    let cancel_key = h.layer.cancel(h.now, &key).unwrap();
    h.receive_response(response(&inv, 486), udp(BOB));
    assert!(h.terminated(&cancel_key));
    h.run_until(40.0);
    assert!(h.sent_requests(Method::Cancel).is_empty());
}

#[test]
fn cancel_after_final_response_is_refused() {
    let mut h = Harness::new();
    let inv = invite(BRANCH);
    let key = h.send_request(inv.clone(), udp(BOB));
    h.receive_response(response(&inv, 200), udp(BOB));
    assert_eq!(
        h.layer.cancel(h.now, &key),
        Err(TransactionError::AlreadyFinal)
    );
    let register = h.send_request(
        request("REGISTER", "z9hG4bKreg", 1, Transport::Udp),
        udp(BOB),
    );
    assert_eq!(
        h.layer.cancel(h.now, &register),
        Err(TransactionError::NotInvite)
    );
}

#[test]
fn transport_error_ends_pending_transactions_to_that_target_only() {
    let mut h = Harness::new();
    let to_bob = h.send_request(request("INVITE", BRANCH, 1, Transport::Tcp), tcp(BOB));
    let elsewhere = h.send_request(
        request("OPTIONS", "z9hG4bKother", 1, Transport::Tcp),
        tcp("127.0.0.1:5080"),
    );
    h.layer.transport_error(h.now, tcp(BOB));
    h.drain();
    assert_eq!(
        h.events,
        vec![
            TransactionEvent::TransportError {
                key: to_bob.clone()
            },
            TransactionEvent::Terminated { key: to_bob },
        ]
    );
    assert!(!h.terminated(&elsewhere));
}

#[test]
fn response_without_via_or_with_garbage_cseq_is_dropped() {
    let mut h = Harness::new();
    let inv = invite(BRANCH);
    let key = h.send_request(inv.clone(), udp(BOB));
    let mut no_via = response(&inv, 180);
    no_via.headers.remove(&HeaderName::Via);
    h.receive_response(no_via, udp(BOB));
    let mut bad_cseq = response(&inv, 180);
    bad_cseq.headers.set(HeaderName::CSeq, "many INVITE");
    h.receive_response(bad_cseq, udp(BOB));
    assert!(h.events.is_empty());
    // Still Calling: Timer A keeps retransmitting.
    h.run_until(0.5);
    assert_eq!(h.request_times(Method::Invite).len(), 2);
    assert!(h.responses_for(&key).is_empty());
}

#[test]
fn response_for_another_branch_or_method_is_dropped() {
    let mut h = Harness::new();
    let inv = invite(BRANCH);
    h.send_request(inv.clone(), udp(BOB));
    let other = invite("z9hG4bKunknown");
    h.receive_response(response(&other, 200), udp(BOB));
    let mut wrong_method: Response = response(&inv, 200);
    wrong_method.headers.set(HeaderName::CSeq, "1 BYE");
    h.receive_response(wrong_method, udp(BOB));
    assert!(h.events.is_empty());
    assert!(h
        .sent
        .iter()
        .all(|(_, _, m)| matches!(m, SipMessage::Request(r) if r.method == Method::Invite)));
}
