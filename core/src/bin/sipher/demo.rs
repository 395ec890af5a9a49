//! `sipher demo`: two phones on loopback make a ZRTP call and talk.

use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::time::Instant;

use sipher::engine::media::MediaEvent;
use sipher::engine::{Command, PhoneConfig, PhoneEvent};
use sipher::sip::ua::{CallState, MediaEncryption, UaEvent};
use sipher::sip::{Transport, Uri};

use super::output::{line, Output};
use super::{secs, start, Common, Schedule};

/// Two phones on loopback: Alice calls Bob and speaks, Bob answers and records, Alice holds
/// and resumes, Bob hangs up. They compared the SAS and confirmed it, so a second call after
/// both phones restart is "ZRTP - Verified" at once.
pub(crate) async fn run(
    json: bool,
    play: Option<PathBuf>,
    record: Option<PathBuf>,
) -> Result<(), String> {
    let play = play.unwrap_or_else(|| {
        PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../assets/demo-speech.wav"
        ))
    });
    let record = record.unwrap_or_else(|| std::env::temp_dir().join("sipher-demo-bob.wav"));
    let common = Common {
        json,
        duration: None,
    };
    // Each phone keeps its ZID and retained secrets here, fresh for every demo.
    let data = std::env::temp_dir().join(format!("sipher-demo-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    let (dir_a, dir_b) = (data.join("alice"), data.join("bob"));
    // ZRTP end to end: nobody on the path, not even a server, can listen; the users compare
    // the SAS by voice.
    let mut bob_config = PhoneConfig {
        encryption: MediaEncryption::Zrtp,
        data_dir: Some(dir_b.clone()),
        ..PhoneConfig::default()
    };
    bob_config.audio.record = Some(record.clone());
    let mut alice_config = PhoneConfig {
        encryption: MediaEncryption::Zrtp,
        data_dir: Some(dir_a.clone()),
        ..PhoneConfig::default()
    };
    if play.exists() {
        alice_config.audio.play = Some(play.clone());
    }
    let mut bob = start(bob_config, &common, "bob").await?;
    let mut alice = start(alice_config, &common, "alice").await?;
    let bob_addr = bob
        .local_addr(Transport::Udp)
        .ok_or("sipher: bob has no UDP address")?;
    let (out_a, out_b) = (Output::new(json, "alice"), Output::new(json, "bob"));
    if !json {
        line("Sipher demo: two phones on loopback, no server.");
        line(&format!(
            "alice calls bob at sip:bob@{bob_addr} over ZRTP and speaks ({}); bob answers and records; \
             alice holds and resumes; bob hangs up.",
            if play.exists() {
                play.display().to_string()
            } else {
                "silence: no speech file".into()
            }
        ));
    }
    let uri = Uri::parse(&format!("sip:bob@{bob_addr}")).map_err(|e| e.to_string())?;
    alice.send(Command::Call(uri));
    let started = Instant::now();
    let deadline = started + Duration::from_secs(40);
    let mut schedule = Schedule::default();
    let mut seen_a: Vec<CallState> = Vec::new();
    let mut seen_b: Vec<CallState> = Vec::new();
    let mut alice_call = None;
    let (mut sas_a, mut sas_b): (Option<String>, Option<String>) = (None, None);
    let (mut a_done, mut b_done) = (false, false);
    while !(a_done && b_done) {
        tokio::select! {
            ev = alice.events.recv() => {
                let Some(ev) = ev else { break };
                out_a.event(&ev);
                match &ev {
                    PhoneEvent::Ua(UaEvent::Call { call, state, .. }) => {
                        seen_a.push(*state);
                        match state {
                            CallState::Connected => {
                                alice_call = Some(*call);
                                if !play.exists() {
                                    schedule.at(Instant::now() + secs(1.0), Command::Hold(*call));
                                }
                            }
                            CallState::Ended | CallState::Failed => { alice.send(Command::Shutdown); }
                            _ => {}
                        }
                    }
                    PhoneEvent::Media(MediaEvent::ZrtpSecure { call, info }) => {
                        // Alice reads her SAS to Bob; he sees the same and both confirm.
                        if sas_a.is_none() && !info.verified {
                            alice.send(Command::ConfirmSas(*call));
                        }
                        sas_a = Some(info.sas.clone());
                    }
                    PhoneEvent::Media(MediaEvent::PlayFinished { call }) if alice_call == Some(*call) => {
                        schedule.at(Instant::now() + secs(0.5), Command::Hold(*call));
                    }
                    PhoneEvent::Stopped => a_done = true,
                    _ => {}
                }
            }
            ev = bob.events.recv() => {
                let Some(ev) = ev else { break };
                out_b.event(&ev);
                match &ev {
                    PhoneEvent::Media(MediaEvent::ZrtpSecure { call, info }) => {
                        if sas_b.is_none() && !info.verified {
                            bob.send(Command::ConfirmSas(*call));
                        }
                        sas_b = Some(info.sas.clone());
                    }
                    PhoneEvent::Ua(UaEvent::Call { call, state, .. }) => {
                        seen_b.push(*state);
                        match state {
                            CallState::Incoming => { bob.send(Command::Answer(*call)); }
                            CallState::RemoteHold => {
                                if let Some(a) = alice_call {
                                    schedule.at(Instant::now() + secs(1.0), Command::Resume(a));
                                }
                            }
                            CallState::Resumed => {
                                schedule.at(Instant::now() + secs(1.0), Command::Hangup(*call));
                            }
                            CallState::Ended | CallState::Failed => { bob.send(Command::Shutdown); }
                            _ => {}
                        }
                    }
                    PhoneEvent::Stopped => b_done = true,
                    _ => {}
                }
            }
            cmd = schedule.next() => {
                // Hold/resume are Alice's; the hang-up is Bob's.
                match cmd {
                    Command::Hangup(_) => bob.send(cmd),
                    _ => alice.send(cmd),
                };
            }
            _ = tokio::time::sleep_until(deadline) => {
                return Err("demo failed: it did not finish within 40 s".into());
            }
        }
    }
    let expected_a = [
        CallState::Ringing,
        CallState::Connected,
        CallState::Held,
        CallState::Resumed,
        CallState::Ended,
    ];
    let expected_b = [
        CallState::Incoming,
        CallState::Connected,
        CallState::RemoteHold,
        CallState::Resumed,
        CallState::Ended,
    ];
    let sas_equal = sas_a.is_some() && sas_a == sas_b;
    let ok = expected_a.iter().all(|s| seen_a.contains(s))
        && expected_b.iter().all(|s| seen_b.contains(s))
        && sas_equal;
    let heard = recording_summary(&record);
    if !json {
        line(&format!(
            "SAS shown to alice: {}, to bob: {} ({})",
            sas_a.as_deref().unwrap_or("none"),
            sas_b.as_deref().unwrap_or("none"),
            if sas_equal {
                "equal: no one in the middle"
            } else {
                "NOT EQUAL"
            }
        ));
        line(&format!(
            "bob recorded what he heard to {}: {heard}",
            record.display()
        ));
        let verdict = if ok {
            "finished"
        } else {
            "did not go as planned"
        };
        line(&format!(
            "first call {verdict} in {:.1} s",
            started.elapsed().as_secs_f64()
        ));
    }
    if !ok {
        let _ = std::fs::remove_dir_all(&data);
        return Err(format!(
            "demo failed: alice saw {seen_a:?}, bob saw {seen_b:?}, SAS {sas_a:?} / {sas_b:?}"
        ));
    }
    let second = verified_call(json, &dir_a, &dir_b).await;
    let _ = std::fs::remove_dir_all(&data);
    second
}

/// Both phones start again from their data directories and Alice calls Bob once more: the
/// retained secret matches and both confirmed the SAS last time, so both show "Verified".
async fn verified_call(json: bool, dir_a: &Path, dir_b: &Path) -> Result<(), String> {
    let common = Common {
        json,
        duration: None,
    };
    let config = |dir: &Path| PhoneConfig {
        encryption: MediaEncryption::Zrtp,
        data_dir: Some(dir.to_path_buf()),
        ..PhoneConfig::default()
    };
    let mut bob = start(config(dir_b), &common, "bob").await?;
    let mut alice = start(config(dir_a), &common, "alice").await?;
    let bob_addr = bob
        .local_addr(Transport::Udp)
        .ok_or("sipher: bob has no UDP address")?;
    let (out_a, out_b) = (Output::new(json, "alice"), Output::new(json, "bob"));
    if !json {
        line("Both confirmed the SAS. The phones restart and alice calls bob again:");
    }
    let uri = Uri::parse(&format!("sip:bob@{bob_addr}")).map_err(|e| e.to_string())?;
    alice.send(Command::Call(uri));
    let deadline = Instant::now() + Duration::from_secs(20);
    let (mut info_a, mut info_b) = (None, None);
    let (mut a_done, mut b_done) = (false, false);
    let mut hangup: Option<(Instant, sipher::sip::ua::CallHandle)> = None;
    while !(a_done && b_done) {
        let hangup_at = hangup.map(|(at, _)| at);
        tokio::select! {
            _ = super::sleep_until(hangup_at), if hangup_at.is_some() => {
                if let Some((_, call)) = hangup.take() {
                    bob.send(Command::Hangup(call));
                }
            }
            ev = alice.events.recv() => {
                let Some(ev) = ev else { break };
                out_a.event(&ev);
                match &ev {
                    PhoneEvent::Media(MediaEvent::ZrtpSecure { info, .. }) => info_a = Some(info.clone()),
                    PhoneEvent::Ua(UaEvent::Call { state: CallState::Ended | CallState::Failed, .. }) => {
                        alice.send(Command::Shutdown);
                    }
                    PhoneEvent::Stopped => a_done = true,
                    _ => {}
                }
            }
            ev = bob.events.recv() => {
                let Some(ev) = ev else { break };
                out_b.event(&ev);
                match &ev {
                    PhoneEvent::Ua(UaEvent::Call { call, state: CallState::Incoming, .. }) => {
                        bob.send(Command::Answer(*call));
                    }
                    PhoneEvent::Media(MediaEvent::ZrtpSecure { call, info }) => {
                        info_b = Some(info.clone());
                        hangup = Some((Instant::now() + secs(1.0), *call));
                    }
                    PhoneEvent::Ua(UaEvent::Call { state: CallState::Ended | CallState::Failed, .. }) => {
                        bob.send(Command::Shutdown);
                    }
                    PhoneEvent::Stopped => b_done = true,
                    _ => {}
                }
            }
            _ = tokio::time::sleep_until(deadline) => {
                return Err("demo failed: the second call did not finish within 20 s".into());
            }
        }
    }
    let verified =
        |i: &Option<Box<sipher::zrtp::session::SecureInfo>>| i.as_ref().is_some_and(|i| i.verified);
    let show = |i: &Option<Box<sipher::zrtp::session::SecureInfo>>| {
        i.as_ref().map_or("no ZRTP".to_string(), |i| {
            format!("{} (SAS {}, cache {})", i.status(), i.sas, i.cache.as_str())
        })
    };
    if !json {
        line(&format!("alice sees: {}", show(&info_a)));
        line(&format!("bob sees:   {}", show(&info_b)));
    }
    if verified(&info_a) && verified(&info_b) {
        Ok(())
    } else {
        Err(format!(
            "demo failed: the second call is not verified: alice {}, bob {}",
            show(&info_a),
            show(&info_b)
        ))
    }
}

/// Length and speech level of a recording, for the demo's last words.
fn recording_summary(path: &std::path::Path) -> String {
    let Ok(mut reader) = hound::WavReader::open(path) else {
        return "no recording".into();
    };
    let rate = reader.spec().sample_rate.max(1);
    let samples: Vec<i16> = reader.samples::<i16>().filter_map(Result::ok).collect();
    let secs = samples.len() as f64 / f64::from(rate);
    let loud = samples.chunks(960).filter(|c| rms(c) > 300.0).count();
    format!(
        "{secs:.1} s, {:.1} s of it with sound, level {:.0} dBFS",
        loud as f64 * 0.02,
        20.0 * (rms(&samples).max(1.0) / 32768.0).log10()
    )
}

fn rms(pcm: &[i16]) -> f64 {
    if pcm.is_empty() {
        return 0.0;
    }
    (pcm.iter().map(|s| f64::from(*s).powi(2)).sum::<f64>() / pcm.len() as f64).sqrt()
}
