//! The jitter buffer with packets longer than a frame (40 and 60 ms, as a peer on a poor link
//! sends them) and with a packet time that changes mid-stream, in virtual time over a seeded
//! jittery, lossy path. The receiver pops whenever the audio of the last pop has been played,
//! as the media session does.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sipher::media::jitter::{JitterBuffer, JitterConfig, Playout};

const CLOCK: u64 = 48_000;

/// What a run played, per pop: the packet timestamps played, the FEC recoveries (with the
/// timestamp of the FEC packet and the span), concealed and silent media time once playing
/// started (the start-up wait is not counted).
#[derive(Debug, Default)]
struct Played {
    frames: Vec<u64>,
    fec: Vec<(u64, u32)>,
    concealed_ts: u64,
    idle_ts: u64,
    /// Media time covered by all pops (RTP ticks).
    total_ts: u64,
    lost: u64,
    late: u64,
    /// On-time packets dropped to remove delay.
    dropped: u64,
}

/// Sends packets of the given durations (ms) back to back, drops those whose index is in `lost`,
/// delays each by 60 ms ± `jitter_ms` (normal), and plays them out.
fn run(durations: &[u32], lost: &[usize], jitter_ms: f64, seed: u64) -> Played {
    let mut rng = StdRng::seed_from_u64(seed);
    #[allow(clippy::disallowed_methods)] // the origin of virtual time; nothing else reads it
    let t0 = Instant::now();
    let at = |us: u64| t0 + Duration::from_micros(us);
    let mut arrivals = Vec::new();
    let mut ts = 0u64;
    let mut durs = HashMap::new();
    for (i, &ms) in durations.iter().enumerate() {
        let dur_ts = CLOCK / 1000 * u64::from(ms);
        // A packet leaves when its last sample was captured.
        let sent_us = (ts + dur_ts) * 1_000_000 / CLOCK;
        let u1: f64 = rng.gen_range(f64::EPSILON..1.0);
        let u2: f64 = rng.gen();
        let normal = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
        let delay_us = ((60.0 + jitter_ms * normal).max(0.0) * 1000.0) as u64;
        if !lost.contains(&i) {
            arrivals.push((sent_us + delay_us, i as u64, ts, dur_ts as u32));
        }
        durs.insert(ts, dur_ts);
        ts += dur_ts;
    }
    let end_ts = ts;
    arrivals.sort();
    let mut jb = JitterBuffer::new(JitterConfig::default());
    let mut played = Played::default();
    let mut next = 0;
    // Media time (µs of the receiver's clock) up to which the audio of past pops lasts.
    let mut audio_until_us = 0u64;
    let last_arrival = arrivals.last().map_or(0, |a| a.0);
    let mut now_us = 0u64;
    let last_ts = arrivals.iter().map(|a| a.2).max().unwrap_or(0);
    // Bounded: one tick per 20 ms until the last packet played or a second after it arrived
    // (past the end of the stream the buffer would only conceal the silence).
    while now_us <= last_arrival + 1_000_000 && played.frames.last() != Some(&last_ts) {
        while next < arrivals.len() && arrivals[next].0 <= now_us {
            let (a, seq, ts, dur) = arrivals[next];
            jb.push_sized(at(a), seq, ts, dur, ts.to_be_bytes().to_vec());
            next += 1;
        }
        while audio_until_us <= now_us {
            let out = jb.pop(at(now_us));
            let span = u64::from(jb.last_span());
            match out {
                Playout::Frame { timestamp, payload } => {
                    assert_eq!(payload, timestamp.to_be_bytes(), "another packet's payload");
                    assert_eq!(span, durs[&timestamp], "a packet plays for its duration");
                    played.frames.push(timestamp);
                }
                Playout::Missing {
                    next: Some(fec),
                    timestamp,
                } => {
                    let fec_ts = u64::from_be_bytes(fec.try_into().expect("8-byte payload"));
                    assert_eq!(timestamp + span, fec_ts, "the FEC span ends at its packet");
                    played.fec.push((fec_ts, span as u32));
                    played.concealed_ts += span;
                }
                Playout::Missing { next: None, .. } if !played.frames.is_empty() => {
                    played.concealed_ts += span
                }
                Playout::Idle if !played.frames.is_empty() => played.idle_ts += span,
                Playout::Missing { .. } | Playout::Idle => {}
            }
            played.total_ts += span;
            audio_until_us += span * 1_000_000 / CLOCK;
        }
        now_us += 20_000;
    }
    let stats = jb.stats();
    played.lost = stats.lost;
    played.late = stats.late;
    played.dropped = stats.dropped;
    assert!(
        played.frames.last().copied().unwrap_or(0) + 2880 >= end_ts - 2880,
        "played to the end"
    );
    played
}

#[test]
fn sixty_ms_packets_play_in_order_each_for_its_whole_duration() {
    let played = run(&[60; 200], &[], 0.0, 1);
    let expected: Vec<u64> = (0..200).map(|i| i * 2880).collect();
    assert_eq!(played.frames, expected);
    assert_eq!((played.lost, played.late), (0, 0));
    // No gap mid-stream; at most the delay floor growing to one packet (60 ms) at the start.
    assert!(played.concealed_ts + played.idle_ts <= 2880, "{played:?}");
}

#[test]
fn forty_ms_packets_over_jitter_lose_nothing_and_keep_order() {
    let played = run(&[40; 400], &[], 15.0, 2);
    assert_eq!(played.lost, 0);
    assert!(played.frames.windows(2).all(|w| w[0] < w[1]), "in order");
    assert!(
        played.frames.len() as u64 + played.late >= 400,
        "every packet played or counted late: {} + {}",
        played.frames.len(),
        played.late
    );
    assert!(played.late <= 8, "late {} of 400", played.late);
}

#[test]
fn a_lost_sixty_ms_packet_is_rebuilt_whole_from_the_next_packets_fec() {
    let played = run(&[60; 100], &[30, 60, 61], 0.0, 3);
    assert_eq!(played.lost, 3);
    // Packet 30 alone: one FEC span of 60 ms from packet 31. Packets 60 and 61: 60 ms of
    // concealment for packet 60, then FEC from packet 62 for packet 61.
    assert_eq!(played.fec, vec![(31 * 2880, 2880), (62 * 2880, 2880)]);
    assert!(
        played.concealed_ts >= 3 * 2880 && played.concealed_ts <= 3 * 2880 + 3 * 960,
        "three packets' worth concealed (plus start-up): {}",
        played.concealed_ts
    );
    assert_eq!(played.frames.len(), 97);
}

#[test]
fn the_packet_time_can_change_mid_stream_without_a_gap_or_a_skip() {
    // 20 ms, then 60 ms (the sender met heavy loss), then 40, then 20 again.
    let mut durations = vec![20; 150];
    durations.extend([60; 60]);
    durations.extend([40; 60]);
    durations.extend([20; 150]);
    let played = run(&durations, &[], 5.0, 4);
    // Back at 20 ms the delay floor falls from 60 to 20 ms: the buffer drops a packet or two of
    // speech to get there; nothing else is missing.
    assert_eq!(
        played.frames.len() as u64 + played.late + played.dropped,
        durations.len() as u64
    );
    assert!(played.late <= 4, "late {}", played.late);
    assert!(played.dropped <= 3, "dropped {}", played.dropped);
    // Every pop covers the media time it says: silence and concealment only where packets were
    // late, never a skipped or doubled stretch.
    let media_ts: u64 = durations.iter().map(|&d| CLOCK / 1000 * u64::from(d)).sum();
    let first = played.frames[0];
    assert!(
        played.total_ts >= media_ts - first,
        "covered {} of {media_ts}",
        played.total_ts
    );
}

#[test]
fn a_gap_of_lost_forty_ms_packets_is_concealed_for_as_long_as_they_lasted() {
    let played = run(&[40; 100], &[50, 51, 52], 0.0, 5);
    assert_eq!(played.lost, 3);
    // 120 ms lost: 80 ms concealed frame by frame, the last 40 ms rebuilt from packet 53's FEC.
    assert_eq!(played.fec, vec![(53 * 1920, 1920)]);
    assert!(played.idle_ts <= 1920, "no silence in the gap: {played:?}");
}
