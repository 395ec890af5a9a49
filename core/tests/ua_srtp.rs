//! SDES-SRTP negotiation between two phones in virtual time: keys only over TLS, policies
//! enforced, and what the user is told.

mod sim;

use std::time::Duration;

use sim::*;
use sipher::sip::ua::{CallState, MediaEncryption, UaConfig, UaError, UaEvent};
use sipher::sip::Transport;

const A: usize = 0;
const B: usize = 1;

fn world(seed: u64, a: MediaEncryption, b: MediaEncryption, transport: Transport) -> World {
    let mut w = World::new(seed);
    for (name, at, enc, s) in [("alice", ALICE, a, 1), ("bob", BOB, b, 2)] {
        let mut config = UaConfig {
            local_user: name.into(),
            encryption: enc,
            ..UaConfig::default()
        };
        config.media = media_config(addr(at), default_codecs());
        let i = w.add_phone(Phone::new(name, addr(at), addr(at), config, seed ^ s));
        w.ua(i).set_local_addr(transport, addr(at));
    }
    w
}

fn bob_uri(transport: Transport) -> String {
    format!(
        "sip:bob@{BOB};transport={}",
        transport.as_str().to_ascii_lowercase()
    )
}

/// Places A -> B, B answers; returns whether both got connected.
fn connect(w: &mut World, transport: Transport) -> bool {
    let now = w.now;
    let Ok(ca) = w.ua(A).call(now, uri(&bob_uri(transport)), None) else {
        return false;
    };
    if !w.run_until(
        |w| w.phone(B).incoming_call().is_some(),
        Duration::from_secs(5),
    ) {
        return false;
    }
    let cb = w.phone(B).incoming_call().unwrap();
    let now = w.now;
    let _ = w.ua(B).answer(now, cb);
    w.run_until(
        |w| {
            w.phone(A).ua.call_state(ca) == Some(CallState::Connected)
                && w.phone(B).ua.call_state(cb) == Some(CallState::Connected)
        },
        Duration::from_secs(5),
    )
}

fn security(w: &World, i: usize) -> Vec<sipher::sip::ua::SecurityInfo> {
    w.phone(i)
        .events
        .iter()
        .filter_map(|(_, e)| match e {
            UaEvent::Security { info, .. } => Some(info.clone()),
            _ => None,
        })
        .collect()
}

fn srtp_keys(w: &World, i: usize) -> Vec<Option<sipher::sip::ua::SrtpKeys>> {
    w.phone(i)
        .events
        .iter()
        .filter_map(|(_, e)| match e {
            UaEvent::Media { srtp, .. } => Some(srtp.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn mandatory_srtp_over_tls_agrees_on_mirrored_keys_and_says_srtp() {
    let mut w = world(
        1,
        MediaEncryption::SrtpMandatory,
        MediaEncryption::SrtpMandatory,
        Transport::Tls,
    );
    assert!(connect(&mut w, Transport::Tls));
    let (ka, kb) = (srtp_keys(&w, A), srtp_keys(&w, B));
    let (ka, kb) = (
        ka[0].clone().expect("A has keys"),
        kb[0].clone().expect("B has keys"),
    );
    assert_eq!(ka.profile, kb.profile);
    assert_eq!(
        ka.local, kb.remote,
        "what A protects with, B unprotects with"
    );
    assert_eq!(ka.remote, kb.local);
    for i in [A, B] {
        let info = &security(&w, i)[0];
        assert_eq!(
            (info.mode, info.badge.as_str(), info.insecure),
            ("srtp-sdes", "SRTP", false)
        );
        assert_eq!(
            info.signalling_badge.as_deref(),
            Some("TLS transport is used for immediate hop")
        );
    }
    // The offer was RTP/SAVP with a=crypto lines, and it went over TLS only.
    let invite = w
        .net
        .log
        .iter()
        .find(|s| s.start_line().starts_with("INVITE"))
        .unwrap();
    assert!(invite.text().contains("RTP/SAVP") && invite.text().contains("a=crypto:"));
    assert!(w.net.log.iter().all(|s| s.to.transport == Transport::Tls));
}

#[test]
fn mandatory_srtp_over_udp_is_refused_before_anything_is_sent() {
    let mut w = world(
        2,
        MediaEncryption::SrtpMandatory,
        MediaEncryption::SrtpMandatory,
        Transport::Udp,
    );
    let now = w.now;
    let r = w.ua(A).call(now, uri(&bob_uri(Transport::Udp)), None);
    match r {
        Err(UaError::InsecureSdes(why)) => assert!(why.contains("not TLS"), "{why}"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    w.run_for(Duration::from_secs(1));
    assert!(
        w.net.log.is_empty(),
        "no INVITE (and no key) left the phone"
    );
}

#[test]
fn a_plain_offer_to_a_mandatory_callee_gets_488_with_the_reason() {
    let mut w = world(
        3,
        MediaEncryption::None,
        MediaEncryption::SrtpMandatory,
        Transport::Tls,
    );
    let now = w.now;
    let ca = w
        .ua(A)
        .call(now, uri(&bob_uri(Transport::Tls)), None)
        .unwrap();
    assert!(w.run_until(
        |w| w.phone(A).ua.call_state(ca) == Some(CallState::Failed),
        Duration::from_secs(5)
    ));
    let ev = w.phone(A).last_call_event(ca).unwrap();
    assert_eq!(ev.status, Some(488));
    assert!(ev.reason.unwrap().contains("SRTP"));
    assert!(w.phone(B).incoming_call().is_none(), "B's phone never rang");
}

#[test]
fn optional_srtp_falls_back_to_plain_rtp_with_a_plain_peer_and_says_so() {
    let mut w = world(
        4,
        MediaEncryption::SrtpOptional,
        MediaEncryption::None,
        Transport::Tls,
    );
    assert!(connect(&mut w, Transport::Tls));
    assert_eq!(srtp_keys(&w, A), vec![None]);
    let info = &security(&w, A)[0];
    assert_eq!(
        (info.mode, info.badge.as_str(), info.insecure),
        ("none", "Not encrypted", true)
    );
}

#[test]
fn optional_srtp_on_both_sides_encrypts() {
    let mut w = world(
        5,
        MediaEncryption::SrtpOptional,
        MediaEncryption::SrtpOptional,
        Transport::Tls,
    );
    assert!(connect(&mut w, Transport::Tls));
    assert!(srtp_keys(&w, A)[0].is_some() && srtp_keys(&w, B)[0].is_some());
}

#[test]
fn hold_and_resume_keep_the_same_srtp_keys() {
    let mut w = world(
        6,
        MediaEncryption::SrtpMandatory,
        MediaEncryption::SrtpMandatory,
        Transport::Tls,
    );
    assert!(connect(&mut w, Transport::Tls));
    let ca = sipher::sip::ua::CallHandle(1);
    let now = w.now;
    w.ua(A).hold(now, ca).unwrap();
    assert!(w.run_until(
        |w| w.phone(A).ua.call_state(ca) == Some(CallState::Held),
        Duration::from_secs(5)
    ));
    let now = w.now;
    w.ua(A).resume(now, ca).unwrap();
    w.run_for(Duration::from_secs(2));
    let keys_b = srtp_keys(&w, B);
    assert!(
        keys_b.len() >= 3,
        "media updated on hold and resume: {}",
        keys_b.len()
    );
    assert!(
        keys_b.windows(2).all(|k| k[0] == k[1]),
        "B's keys never changed"
    );
    let keys_a = srtp_keys(&w, A);
    assert!(
        keys_a.windows(2).all(|k| k[0] == k[1]),
        "A's keys never changed"
    );
}
