//! Two transaction layers over a seeded lossy link: whole exchanges must still complete, and
//! retransmission timers must keep their schedule whatever is lost.

mod transaction_util;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use sipher::sip::transaction::TransactionEvent;
use sipher::sip::{HeaderAccess, HeaderName, Method, SipMessage, Transport};
use transaction_util::*;

const LOSS: f64 = 0.3;
const SEEDS: std::ops::Range<u64> = 0..20;
/// Bound on driver steps: a livelock fails the test instead of hanging it.
const MAX_STEPS: usize = 20_000;

/// How an INVITE/180/200/ACK call went.
struct CallOutcome {
    alice_got_200: bool,
    bob_got_ack: bool,
    pair: Pair,
}

/// Alice calls Bob; Bob rings at once and answers after a second, retransmitting his 200
/// (T1 doubling, capped at T2) until the ACK arrives, as RFC 3261 §13.3.1.4 asks of the UA.
/// Alice ACKs every 2xx she is given. Runs until neither side has anything left to do.
fn call(seed: u64, loss: f64) -> CallOutcome {
    let mut pair = Pair::new(seed, loss);
    let inv = invite("z9hG4bKcall");
    let key = pair
        .alice
        .send_request(pair.now, inv.clone(), pair.bob_addr);
    let t1 = Duration::from_millis(500);
    let mut answer_at: Option<Instant> = None;
    let mut retransmit: Option<(Instant, Duration)> = None;
    let mut answered_at: Option<Instant> = None;
    let (mut alice_got_200, mut bob_got_ack) = (false, false);
    for _ in 0..MAX_STEPS {
        let deadline = [answer_at, retransmit.map(|r| r.0)]
            .into_iter()
            .flatten()
            .min();
        let Some(events) = pair.step(deadline) else {
            break;
        };
        let now = pair.now;
        for (side, event) in events {
            match (side, event) {
                (Side::Bob, TransactionEvent::Request { request, .. })
                    if request.method == Method::Invite =>
                {
                    pair.bob
                        .send_response(now, response(&request, 180))
                        .expect("Bob's INVITE transaction is live");
                    answer_at = Some(now + Duration::from_secs(1));
                }
                (Side::Alice, TransactionEvent::Response { key: k, response })
                    if k == key && response.status.is_success() =>
                {
                    alice_got_200 = true;
                    let mut ack = inv.clone();
                    ack.method = Method::Ack;
                    ack.headers.set(
                        HeaderName::Via,
                        "SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKack",
                    );
                    ack.headers.set(HeaderName::CSeq, "1 ACK");
                    ack.headers.set(
                        HeaderName::To,
                        response.headers.get(&HeaderName::To).unwrap(),
                    );
                    pair.put(Side::Alice, SipMessage::Request(ack));
                }
                (Side::Bob, TransactionEvent::Ack { request, .. }) => {
                    assert_eq!(request.call_id().unwrap(), inv.call_id().unwrap());
                    bob_got_ack = true;
                    retransmit = None;
                }
                _ => {}
            }
        }
        if answer_at.is_some_and(|t| t <= now) {
            answer_at = None;
            answered_at = Some(now);
            pair.bob
                .send_response(now, response(&inv, 200))
                .expect("Bob's INVITE transaction is live");
            retransmit = Some((now + t1, t1));
        }
        if let Some((at, interval)) = retransmit.filter(|r| r.0 <= now) {
            let give_up = answered_at.is_some_and(|a| now >= a + t1 * 64);
            retransmit = None;
            if !give_up && pair.bob.send_response(now, response(&inv, 200)).is_ok() {
                let next = (interval * 2).min(Duration::from_secs(4));
                retransmit = Some((at + next, next));
            }
        }
    }
    CallOutcome {
        alice_got_200,
        bob_got_ack,
        pair,
    }
}

/// Alice registers, is challenged with 401, registers again with credentials and gets 200.
/// Returns Alice's final status and the pair.
fn register(seed: u64, loss: f64) -> (Option<u16>, Pair) {
    let mut pair = Pair::new(seed, loss);
    let first = request("REGISTER", "z9hG4bKreg1", 1, Transport::Udp);
    let first_key = pair
        .alice
        .send_request(pair.now, first.clone(), pair.bob_addr);
    let mut second_key = None;
    let mut outcome = None;
    for _ in 0..MAX_STEPS {
        let Some(events) = pair.step(None) else {
            break;
        };
        let now = pair.now;
        for (side, event) in events {
            match (side, event) {
                (Side::Bob, TransactionEvent::Request { request, .. }) => {
                    let authorized = request.headers.get(&HeaderName::Authorization).is_some();
                    let code = if authorized { 200 } else { 401 };
                    pair.bob
                        .send_response(now, response(&request, code))
                        .expect("Bob's REGISTER transaction is live");
                }
                (Side::Alice, TransactionEvent::Response { key, response }) => {
                    let code = response.status.code();
                    if key == first_key && code == 401 {
                        let mut again = request("REGISTER", "z9hG4bKreg2", 2, Transport::Udp);
                        again
                            .headers
                            .push(HeaderName::Authorization, "Digest username=\"alice\"");
                        second_key = Some(pair.alice.send_request(now, again, pair.bob_addr));
                    } else if Some(&key) == second_key.as_ref() && code >= 200 {
                        outcome = Some(code);
                    }
                }
                (Side::Alice, TransactionEvent::Timeout { .. }) => outcome = Some(408),
                _ => {}
            }
        }
    }
    (outcome, pair)
}

/// Send times of each `method` transaction (by branch), relative to its first send.
fn request_schedules(pair: &Pair, from: Side, method: Method) -> Vec<Vec<f64>> {
    let mut by_tx: HashMap<String, Vec<f64>> = HashMap::new();
    for (t, side, msg) in &pair.log {
        match msg {
            SipMessage::Request(r) if *side == from && r.method == method => {
                let branch = r.top_via().unwrap().branch().unwrap().0;
                by_tx.entry(branch).or_default().push(*t);
            }
            _ => {}
        }
    }
    by_tx
        .into_values()
        .map(|times| times.iter().map(|t| t - times[0]).collect())
        .collect()
}

fn assert_prefix_of(actual: &[f64], schedule: &[f64]) {
    let ok = actual.len() <= schedule.len()
        && actual
            .iter()
            .zip(schedule)
            .all(|(a, e)| (a - e).abs() < 1e-6);
    assert!(ok, "sends at {actual:?} do not follow {schedule:?}");
}

#[test]
fn invite_180_200_ack_completes_over_a_30_percent_lossy_link() {
    let mut lost = 0;
    for seed in SEEDS {
        let out = call(seed, LOSS);
        assert!(out.alice_got_200, "seed {seed}: Alice never got the 200");
        assert!(out.bob_got_ack, "seed {seed}: Bob never got the ACK");
        assert!(out.pair.alice.is_empty() && out.pair.bob.is_empty());
        lost += out.pair.lost;
    }
    assert!(
        lost >= SEEDS.count(),
        "the link must really lose messages, lost {lost}"
    );
}

#[test]
fn register_401_register_200_completes_over_a_30_percent_lossy_link() {
    let mut lost = 0;
    for seed in SEEDS {
        let (outcome, pair) = register(seed, LOSS);
        assert_eq!(outcome, Some(200), "seed {seed}");
        assert!(pair.alice.is_empty() && pair.bob.is_empty());
        lost += pair.lost;
    }
    assert!(
        lost >= SEEDS.count(),
        "the link must really lose messages, lost {lost}"
    );
}

#[test]
fn invite_retransmissions_keep_timer_a_schedule_under_loss() {
    let schedule = [0.0, 0.5, 1.5, 3.5, 7.5, 15.5, 31.5];
    for seed in SEEDS {
        let out = call(seed, LOSS);
        let schedules = request_schedules(&out.pair, Side::Alice, Method::Invite);
        assert_eq!(schedules.len(), 1);
        assert_prefix_of(&schedules[0], &schedule);
    }
}

#[test]
fn register_retransmissions_keep_timer_e_schedule_under_loss() {
    let schedule = [0.0, 0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5];
    for seed in SEEDS {
        let (_, pair) = register(seed, LOSS);
        let schedules = request_schedules(&pair, Side::Alice, Method::Register);
        assert_eq!(schedules.len(), 2, "seed {seed}: two REGISTER transactions");
        for times in schedules {
            assert_prefix_of(&times, &schedule);
        }
    }
}

#[test]
fn invite_over_a_dead_link_times_out_at_exactly_64_t1() {
    let mut pair = Pair::new(1, 1.0);
    let key = pair
        .alice
        .send_request(pair.now, invite("z9hG4bKdead"), pair.bob_addr);
    let mut timed_out_at = None;
    for _ in 0..MAX_STEPS {
        let Some(events) = pair.step(None) else {
            break;
        };
        for (_, e) in events {
            if e == (TransactionEvent::Timeout { key: key.clone() }) {
                timed_out_at = Some(pair.secs());
            }
        }
    }
    assert_eq!(timed_out_at, Some(32.0));
    assert_eq!(pair.log.len(), 7, "the INVITE and its six retransmissions");
}

#[test]
fn invite_cancelled_while_ringing_ends_with_487_on_both_sides_over_a_lossy_link() {
    for seed in SEEDS {
        let mut pair = Pair::new(seed, LOSS);
        let inv = invite("z9hG4bKcancel");
        let key = pair
            .alice
            .send_request(pair.now, inv.clone(), pair.bob_addr);
        let (mut cancel_key, mut alice_final, mut cancel_final) = (None, None, None);
        let (mut bob_cancelled, mut bob_ack_timeout) = (false, false);
        for _ in 0..MAX_STEPS {
            let Some(events) = pair.step(None) else {
                break;
            };
            let now = pair.now;
            for (side, event) in events {
                match (side, event) {
                    (Side::Bob, TransactionEvent::Request { request, .. })
                        if request.method == Method::Invite =>
                    {
                        pair.bob
                            .send_response(now, response(&request, 180))
                            .expect("Bob's INVITE transaction is live");
                    }
                    (
                        Side::Bob,
                        TransactionEvent::Request {
                            cancelled: Some(_), ..
                        },
                    ) => {
                        bob_cancelled = true;
                        pair.bob
                            .send_response(now, response(&inv, 487))
                            .expect("the INVITE still waits for its final response");
                    }
                    (Side::Bob, TransactionEvent::AckTimeout { .. }) => bob_ack_timeout = true,
                    (Side::Alice, TransactionEvent::Response { key: k, response }) => {
                        let code = response.status.code();
                        if k == key && code == 180 && cancel_key.is_none() {
                            cancel_key = Some(pair.alice.cancel(now, &key).unwrap());
                        } else if k == key && code >= 200 {
                            alice_final = Some(code);
                        } else if Some(&k) == cancel_key.as_ref() && code >= 200 {
                            cancel_final = Some(code);
                        }
                    }
                    _ => {}
                }
            }
        }
        assert!(bob_cancelled, "seed {seed}: Bob never saw the CANCEL");
        assert_eq!(alice_final, Some(487), "seed {seed}");
        assert_eq!(cancel_final, Some(200), "seed {seed}");
        assert!(!bob_ack_timeout, "seed {seed}: Bob's 487 was never ACKed");
        assert!(pair.alice.is_empty() && pair.bob.is_empty());
        assert!(pair.log.iter().any(|(_, side, m)| *side == Side::Alice
            && matches!(m, SipMessage::Request(r) if r.method == Method::Ack)));
    }
}
