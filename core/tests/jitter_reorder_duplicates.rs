//! Reordered packets play in order, duplicates are dropped, DTX gaps are not loss, and a
//! timestamp or sequence jump (or `reset()` for a new SSRC) re-syncs.
mod jitter_netem;
use std::time::Duration;

use jitter_netem::{origin, run, Profile, FRAME_TS};
use sipher::media::jitter::{JitterBuffer, JitterConfig, Playout};

#[test]
fn reordered_and_duplicated_packets_play_once_in_order() {
    let mut profile = Profile::new("reorder+dup", 5.0, 5_000);
    profile.reorder = 0.05;
    profile.duplicate = 0.05;
    let o = run(&profile, 21, 10_000);
    let s = &o.stats;
    assert!(s.duplicates >= 200, "{s:?}");
    assert!(s.reordered >= 200, "{s:?}");
    assert_eq!(s.received, o.sent + s.duplicates, "{s:?}");
    assert!(
        o.played_ts.windows(2).all(|w| w[1] > w[0]),
        "played out of order"
    );
    assert_eq!(s.played + s.late + s.dropped, o.sent, "{s:?}");
    assert!(
        o.pct(s.late) <= 1.0,
        "held-back packets are waited for: {s:?}"
    );
}

#[test]
fn dtx_silence_gaps_are_not_loss() {
    let mut profile = Profile::new("dtx", 5.0, 5_000);
    profile.dtx = Some((40, 60));
    let o = run(&profile, 22, 10_000);
    let s = &o.stats;
    assert_eq!((s.lost, s.resyncs), (0, 0), "{s:?}");
    assert!(o.pct(s.late) <= 0.5, "{s:?}");
    assert_eq!(s.played + s.late, o.sent);
    // Each talk spurt starts on time: the delay is the same as in continuous speech.
    assert!(
        jitter_netem::percentile(&o.added_delay_ms, 1.0) <= 50.0,
        "{s:?}"
    );
}

#[test]
fn timestamp_jump_and_sequence_reset_resync() {
    let t0 = origin();
    let ms = |n: u64| t0 + Duration::from_millis(n);
    let mut jb = JitterBuffer::new(JitterConfig::default());
    let mut frames = Vec::new();
    let mut step = |jb: &mut JitterBuffer, t: u64| {
        if let Playout::Frame { timestamp, .. } = jb.pop(ms(t)) {
            frames.push(timestamp);
        }
    };
    // 1 s of a stream, then its timestamps jump 1 hour ahead (a sender that restarted its
    // clock) while the time between packets stays 20 ms.
    let mut t = 0;
    for k in 0..100u64 {
        jb.push(ms(t), 1000 + k, k * FRAME_TS, vec![1]);
        step(&mut jb, t + 10);
        t += 20;
    }
    let jump = 3600 * 48_000;
    for k in 100..200u64 {
        jb.push(ms(t), 1000 + k, jump + k * FRAME_TS, vec![2]);
        step(&mut jb, t + 10);
        t += 20;
    }
    // Then a sequence reset for a new SSRC.
    jb.reset();
    for k in 0..100u64 {
        jb.push(ms(t), 7 + k, 555 + k * FRAME_TS, vec![3]);
        step(&mut jb, t + 10);
        t += 20;
    }
    let s = jb.stats();
    assert_eq!(s.resyncs, 2, "{s:?}");
    assert_eq!(s.lost, 0, "{s:?}");
    assert!(s.played >= 295, "{s:?}");
    assert!(
        frames.iter().filter(|&&f| f >= jump).count() >= 98,
        "the jumped stream plays"
    );
    assert!(
        frames.iter().filter(|&&f| f >= 555 && f < jump).count() >= 98,
        "the new SSRC plays"
    );
}

#[test]
fn memory_is_bounded_by_max_packets() {
    let t0 = origin();
    let cfg = JitterConfig {
        max_packets: 8,
        ..JitterConfig::default()
    };
    let mut jb = JitterBuffer::new(cfg);
    // A flood of packets within 1 s of media time, never popped.
    for k in 0..10_000u64 {
        jb.push(t0, k % 50, (k % 50) * FRAME_TS, vec![0; 100]);
    }
    let s = jb.stats();
    assert_eq!(s.overflow + s.duplicates + 8, 10_000, "{s:?}");
}
