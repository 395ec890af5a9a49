//! Garbage, truncated and odd datagrams to a phone: it answers 400 (505 for another SIP
//! version) when it can read enough to answer, never panics, and still takes a call afterwards.

mod sim;

use std::net::SocketAddr;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sim::*;
use sipher::sip::ua::CallState;

const A: usize = 0;
const B: usize = 1;
const EVIL: &str = "198.51.100.66:5060";

fn invite_text(version: &str, extra: &str) -> String {
    format!(
        "INVITE sip:bob@{BOB} {version}\r\n\
         Via: SIP/2.0/UDP {EVIL};branch=z9hG4bKevil{}\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:evil@{EVIL}>;tag=e1\r\n\
         To: <sip:bob@{BOB}>\r\n\
         Call-ID: evil-{}@198.51.100.66\r\n\
         CSeq: 1 INVITE\r\n\
         Contact: <sip:evil@{EVIL}>\r\n\
         {extra}\
         Content-Length: 0\r\n\r\n",
        version.len() + extra.len(),
        extra.len(),
    )
}

/// Statuses Bob sent to the attacker since `from` entries of the log.
fn answers_to_evil(w: &World, from: usize) -> Vec<u16> {
    let evil: SocketAddr = addr(EVIL);
    w.net.log[from..]
        .iter()
        .filter(|s| s.to.addr == evil)
        .filter_map(|s| s.status())
        .collect()
}

fn send_evil(w: &mut World, data: &[u8]) -> Vec<u16> {
    let mark = w.net.log.len();
    w.inject(addr(EVIL), B, data);
    w.run_for(Duration::from_millis(200));
    answers_to_evil(w, mark + 1)
}

#[test]
fn a_bad_header_in_a_readable_request_gets_400() {
    let mut w = World::peer_to_peer(41);
    let bad_cseq = invite_text("SIP/2.0", "").replace("CSeq: 1 INVITE", "CSeq: one INVITE");
    assert_eq!(send_evil(&mut w, bad_cseq.as_bytes()), [400]);
    assert_eq!(w.phone(B).malformed_count(), 1);
    assert!(w.phone(B).incoming_call().is_none());
}

#[test]
fn another_sip_version_gets_505() {
    let mut w = World::peer_to_peer(42);
    let v3 = invite_text("SIP/3.0", "");
    assert_eq!(send_evil(&mut w, v3.as_bytes()), [505]);
}

#[test]
fn garbage_and_truncations_never_panic_and_a_call_still_works() {
    let mut w = World::peer_to_peer(43);
    let good = invite_text("SIP/2.0", "Content-Type: application/sdp\r\n");
    let mut rng = StdRng::seed_from_u64(43);
    let mut inputs: Vec<Vec<u8>> = vec![
        b"".to_vec(),
        b"\r\n\r\n".to_vec(),
        b"hello".to_vec(),
        b"SIP/2.0 200 OK\r\n\r\n".to_vec(),
        b"INVITE\r\n\r\n".to_vec(),
        vec![0xff; 1500],
        b"INVITE sip:bob@198.51.100.20 SIP/2.0\r\nContent-Length: 99999\r\n\r\n".to_vec(),
        b"ACK sip:bob@198.51.100.20 SIP/2.0\r\nVia: nonsense\r\n\r\n".to_vec(),
        format!("BYE sip:x SIP/2.0\r\n{}\r\n", "X: y\r\n".repeat(400)).into_bytes(),
    ];
    // Every truncation of a valid INVITE.
    for cut in 1..good.len() {
        inputs.push(good.as_bytes()[..cut].to_vec());
    }
    // Random byte flips.
    for _ in 0..300 {
        let mut bytes = good.clone().into_bytes();
        for _ in 0..rng.gen_range(1..6) {
            let i = rng.gen_range(0..bytes.len());
            bytes[i] = rng.gen();
        }
        inputs.push(bytes);
    }
    let mark = w.net.log.len();
    for data in &inputs {
        w.inject(addr(EVIL), B, data);
        w.run_for(Duration::from_millis(5));
    }
    w.run_for(Duration::from_secs(40));
    let answers = answers_to_evil(&w, mark);
    assert!(answers.contains(&400), "{answers:?}");
    // Never a 2xx or 3xx to garbage.
    assert!(answers.iter().all(|s| *s < 200 || *s >= 400), "{answers:?}");
    // Each answer of Bob's is bounded: no amplification.
    assert!(
        answers.len() <= inputs.len() * 3,
        "{} answers",
        answers.len()
    );

    // Bob hangs up on whatever calls the flips created, then takes a real call.
    let calls = w.phone(B).incoming_calls();
    for c in calls {
        let now = w.now;
        let _ = w.ua(B).hangup(now, c);
    }
    w.run_for(Duration::from_secs(40));
    let ca = w.call(A, &format!("sip:bob@{BOB}"));
    assert!(w.run_until(
        |w| !w.phone(B).incoming_calls().is_empty()
            && w.phone(A).last_call_state(ca) == Some(CallState::Ringing),
        Duration::from_secs(10)
    ));
    let cb = *w.phone(B).incoming_calls().last().unwrap();
    let now = w.now;
    w.ua(B).answer(now, cb).unwrap();
    assert!(w.run_until(
        |w| w.phone(A).last_call_state(ca) == Some(CallState::Connected)
            && w.phone(B).last_call_state(cb) == Some(CallState::Connected),
        Duration::from_secs(10)
    ));
}
