//! Two real phones on loopback (the tokio engine, UDP sockets) with data directories: the ZID
//! and the retained secrets survive a restart, a confirmed SAS makes the next call
//! "ZRTP - Verified" without comparing again, and a peer that lost its cache raises the alarm.

use std::path::{Path, PathBuf};
use std::time::Duration;

use sipher::engine::media::MediaEvent;
use sipher::engine::{Command, Phone, PhoneConfig, PhoneEvent};
use sipher::sip::ua::{CallHandle, CallState, MediaEncryption, UaEvent};
use sipher::sip::{Transport, Uri};
use sipher::zrtp::session::{CacheState, SecureInfo};

const LIMIT: Duration = Duration::from_secs(20);

async fn phone(dir: &Path) -> Phone {
    let config = PhoneConfig {
        encryption: MediaEncryption::Zrtp,
        data_dir: Some(dir.to_path_buf()),
        ..PhoneConfig::default()
    };
    Phone::start(config).await.expect("phone starts")
}

/// The next event that `pick` accepts, within the time limit.
async fn wait_for<T>(phone: &mut Phone, mut pick: impl FnMut(&PhoneEvent) -> Option<T>) -> T {
    tokio::time::timeout(LIMIT, async {
        loop {
            let ev = phone.events.recv().await.expect("the phone is running");
            if let Some(t) = pick(&ev) {
                return t;
            }
        }
    })
    .await
    .expect("the event came in time")
}

fn secure(ev: &PhoneEvent) -> Option<(CallHandle, SecureInfo)> {
    match ev {
        PhoneEvent::Media(MediaEvent::ZrtpSecure { call, info }) => Some((*call, (**info).clone())),
        _ => None,
    }
}

/// Alice calls Bob; both get the ZRTP result. Returns (alice's, bob's) call and info.
async fn call(
    alice: &mut Phone,
    bob: &mut Phone,
) -> ((CallHandle, SecureInfo), (CallHandle, SecureInfo)) {
    let addr = bob.local_addr(Transport::Udp).expect("bob listens on UDP");
    let uri = Uri::parse(&format!("sip:bob@{addr}")).expect("a valid URI");
    alice.send(Command::Call(uri));
    let incoming = wait_for(bob, |ev| match ev {
        PhoneEvent::Ua(UaEvent::Call {
            call,
            state: CallState::Incoming,
            ..
        }) => Some(*call),
        _ => None,
    })
    .await;
    bob.send(Command::Answer(incoming));
    let b = wait_for(bob, secure).await;
    let a = wait_for(alice, secure).await;
    (a, b)
}

async fn stop(mut phone: Phone) {
    phone.send(Command::Shutdown);
    wait_for(&mut phone, |ev| {
        matches!(ev, PhoneEvent::Stopped).then_some(())
    })
    .await;
}

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("sipher-engine-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_confirmed_sas_makes_the_next_call_verified_after_a_restart() {
    let (dir_a, dir_b) = (temp_dir("alice"), temp_dir("bob"));

    // First call: a new peer, "ZRTP - Not verified", the same SAS on both sides.
    let (mut alice, mut bob) = (phone(&dir_a).await, phone(&dir_b).await);
    let ((call_a, a1), (call_b, b1)) = call(&mut alice, &mut bob).await;
    assert_eq!(a1.sas, b1.sas);
    assert_eq!((a1.cache, b1.cache), (CacheState::New, CacheState::New));
    assert_eq!(a1.status(), "ZRTP - Not verified");
    // They read the SAS to each other and both press "confirm".
    alice.send(Command::ConfirmSas(call_a));
    bob.send(Command::ConfirmSas(call_b));
    let a_conf = wait_for(&mut alice, secure).await.1;
    let b_conf = wait_for(&mut bob, secure).await.1;
    assert!(a_conf.verified && b_conf.verified);
    assert_eq!(a_conf.status(), "ZRTP - Verified");
    stop(alice).await;
    stop(bob).await;

    // Both phones restart from their data directories: the next call is verified at once.
    let (mut alice, mut bob) = (phone(&dir_a).await, phone(&dir_b).await);
    let ((_, a2), (_, b2)) = call(&mut alice, &mut bob).await;
    assert_eq!((a2.cache, b2.cache), (CacheState::Match, CacheState::Match));
    assert!(
        a2.verified && b2.verified,
        "{} / {}",
        a2.status(),
        b2.status()
    );
    assert_eq!(a2.peer_zid, a1.peer_zid, "alice sees the same ZID for bob");
    stop(alice).await;
    stop(bob).await;

    // Bob's cache is wiped but his ZID stays (as for someone who took his ZID without his
    // secrets): Alice's phone raises the alarm and nothing says verified.
    std::fs::remove_file(dir_b.join("zrtp-cache.json")).expect("bob's cache existed");
    let (mut alice, mut bob) = (phone(&dir_a).await, phone(&dir_b).await);
    let ((call_a, a3), (_, b3)) = call(&mut alice, &mut bob).await;
    assert_eq!(a3.cache, CacheState::Mismatch);
    assert_eq!(b3.cache, CacheState::New);
    assert!(!a3.verified && !b3.verified);
    assert_eq!(a3.peer_zid, a1.peer_zid);

    // Alice revokes what is left of her trust in the old entry; the command is accepted.
    alice.send(Command::RevokeSas(call_a));
    let revoked = wait_for(&mut alice, secure).await.1;
    assert!(!revoked.verified);
    stop(alice).await;
    stop(bob).await;
    let _ = std::fs::remove_dir_all(&dir_a);
    let _ = std::fs::remove_dir_all(&dir_b);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupt_cache_file_gives_a_warning_and_the_phone_still_calls() {
    let dir_a = temp_dir("corrupt-a");
    let dir_b = temp_dir("corrupt-b");
    std::fs::create_dir_all(&dir_a).expect("temp dir");
    std::fs::write(dir_a.join("zrtp-cache.json"), b"{ not json").expect("write");
    let mut alice = phone(&dir_a).await;
    let warning = wait_for(&mut alice, |ev| match ev {
        PhoneEvent::Warning(w) => Some(w.clone()),
        _ => None,
    })
    .await;
    assert!(warning.contains("was reset"), "{warning}");
    let mut bob = phone(&dir_b).await;
    let ((_, a), (_, b)) = call(&mut alice, &mut bob).await;
    assert_eq!(a.sas, b.sas);
    stop(alice).await;
    stop(bob).await;
    let _ = std::fs::remove_dir_all(&dir_a);
    let _ = std::fs::remove_dir_all(&dir_b);
}
