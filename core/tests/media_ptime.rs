//! Packet time end to end: two media sessions in virtual time over a seeded link. A peer that
//! sends 40 or 60 ms packets (Opus or G.711) is heard as a continuous tone; a sender whose peer
//! reports heavy loss lengthens its packets and shortens them again once the link recovers, but
//! never beyond what the peer allows.
#![allow(clippy::disallowed_methods)] // the origin of virtual time; nothing else reads the clock

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use sipher::media::codec::{CodecKind, EncoderConfig};
use sipher::media::session::{
    MediaOutput, MediaParams, MediaSession, QualityFigures, DEVICE_FRAME, DEVICE_RATE,
};

const A: &str = "127.0.0.1:4000";
const B: &str = "127.0.0.1:5000";

type Datagram = (Instant, u64, SocketAddr, SocketAddr, Vec<u8>);

/// One-way delay 80 ms ± `jitter_ms` (uniform), loss that can change during the run.
struct Link {
    rng: StdRng,
    jitter_ms: f64,
    loss: f64,
    queue: BinaryHeap<Reverse<Datagram>>,
    n: u64,
}

impl Link {
    fn send(&mut self, now: Instant, from: SocketAddr, to: SocketAddr, data: Vec<u8>) {
        if self.rng.gen_bool(self.loss) {
            return;
        }
        let delay = 80.0 + self.rng.gen_range(-1.0..=1.0) * self.jitter_ms;
        self.n += 1;
        let at = now + Duration::from_secs_f64(delay / 1000.0);
        self.queue.push(Reverse((at, self.n, from, to, data)));
    }
}

fn params(codec: CodecKind, remote: &str, encoder: EncoderConfig) -> MediaParams {
    MediaParams {
        codec,
        payload_type: if codec == CodecKind::Opus { 96 } else { 0 },
        remote: remote.parse().expect("literal address"),
        remote_rtcp: None,
        send: true,
        receive: true,
        telephone_event: None,
        encoder,
        require_srtp: false,
        zrtp: None,
    }
}

fn tone(frame: usize) -> Vec<i16> {
    (0..DEVICE_FRAME)
        .map(|i| {
            let t = (frame * DEVICE_FRAME + i) as f64 / f64::from(DEVICE_RATE);
            (8000.0 * (2.0 * std::f64::consts::PI * 1000.0 * t).sin()) as i16
        })
        .collect()
}

/// What a run gave: B's playout, B's quality, A's packet time after each frame, and how many
/// RTP packets A sent.
struct Run {
    heard: Vec<i16>,
    quality: QualityFigures,
    a_ptimes: Vec<u32>,
}

/// A sends a 1 kHz tone to B for `frames` 20 ms frames; `loss(frame)` is the link's loss then.
fn run(
    codec: CodecKind,
    a_encoder: EncoderConfig,
    jitter_ms: f64,
    frames: usize,
    loss: impl Fn(usize) -> f64,
    seed: u64,
) -> Run {
    let t0 = Instant::now();
    let wall = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    let (a_addr, b_addr): (SocketAddr, SocketAddr) = (A.parse().unwrap(), B.parse().unwrap());
    let mut a = MediaSession::new(
        params(codec, B, a_encoder),
        t0,
        &mut StdRng::seed_from_u64(seed),
    )
    .expect("session A");
    let b_encoder = EncoderConfig {
        max_frame_ms: 60,
        ..EncoderConfig::default()
    };
    let mut b = MediaSession::new(
        params(codec, A, b_encoder),
        t0,
        &mut StdRng::seed_from_u64(seed + 1),
    )
    .expect("session B");
    let mut link = Link {
        rng: StdRng::seed_from_u64(seed),
        jitter_ms,
        loss: 0.0,
        queue: BinaryHeap::new(),
        n: 0,
    };
    let (mut heard, mut out, mut a_ptimes) = (Vec::new(), Vec::new(), Vec::new());
    for f in 0..frames {
        let now = t0 + Duration::from_millis(20 * f as u64);
        link.loss = loss(f);
        while link.queue.peek().is_some_and(|Reverse((t, ..))| *t <= now) {
            let Reverse((t, _, from, to, data)) = link.queue.pop().expect("peeked");
            if to.port() == b_addr.port() || to.port() == b_addr.port() + 1 {
                b.handle_datagram(t, from, &data);
            } else {
                a.handle_datagram(t, from, &data);
            }
        }
        a.capture(now, &tone(f));
        b.capture(now, &[0; DEVICE_FRAME]);
        b.playout(now, &mut out);
        assert_eq!(out.len(), DEVICE_FRAME, "one device frame per playout");
        heard.extend_from_slice(&out);
        a.playout(now, &mut out);
        let at = wall + Duration::from_millis(20 * f as u64);
        a.handle_timeout(now, at);
        b.handle_timeout(now, at);
        for (s, from) in [(&mut a, a_addr), (&mut b, b_addr)] {
            while let Some(o) = s.poll_output() {
                if let MediaOutput::Transmit { dest, data }
                | MediaOutput::TransmitRtcp { dest, data } = o
                {
                    link.send(now, from, dest, data);
                }
            }
        }
        a_ptimes.push(a.ptime_ms());
    }
    let quality = b.quality(t0 + Duration::from_millis(20 * frames as u64));
    Run {
        heard,
        quality,
        a_ptimes,
    }
}

/// Device frames (20 ms) after the first second that are near silent: gaps in the tone.
fn gaps(heard: &[i16]) -> usize {
    heard
        .chunks(DEVICE_FRAME)
        .skip(50)
        .filter(|f| {
            let rms =
                (f.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / f.len() as f64).sqrt();
            rms < 1000.0
        })
        .count()
}

/// Dominant frequency of the second half, from zero crossings.
fn frequency(heard: &[i16]) -> f64 {
    let tail = &heard[heard.len() / 2..];
    let crossings = tail.windows(2).filter(|w| (w[0] < 0) != (w[1] < 0)).count();
    crossings as f64 / 2.0 / (tail.len() as f64 / f64::from(DEVICE_RATE))
}

fn fixed(frame_ms: u32) -> EncoderConfig {
    EncoderConfig {
        frame_ms,
        max_frame_ms: frame_ms,
        ..EncoderConfig::default()
    }
}

#[test]
fn opus_in_sixty_ms_packets_is_heard_as_a_continuous_tone() {
    let r = run(CodecKind::Opus, fixed(60), 10.0, 500, |_| 0.0, 1);
    assert_eq!(gaps(&r.heard), 0, "no gap in the tone");
    assert!((frequency(&r.heard) - 1000.0).abs() < 20.0);
    assert_eq!(r.quality.jitter.lost, 0);
    // 10 s of 60 ms packets: about 167 packets, not 500.
    let received = r.quality.packets_received;
    assert!((150..=170).contains(&received), "received {received}");
}

#[test]
fn pcmu_in_forty_and_sixty_ms_packets_is_heard_as_a_continuous_tone() {
    for (ms, seed) in [(40, 2), (60, 3)] {
        let r = run(CodecKind::Pcmu, fixed(ms), 10.0, 500, |_| 0.0, seed);
        assert_eq!(gaps(&r.heard), 0, "{ms} ms: no gap in the tone");
        assert!((frequency(&r.heard) - 1000.0).abs() < 20.0, "{ms} ms");
        let received = r.quality.packets_received;
        let expected = 10_000 / u64::from(ms);
        assert!(
            received.abs_diff(expected) <= 5,
            "{ms} ms: received {received}"
        );
    }
}

#[test]
fn lost_sixty_ms_packets_are_concealed_for_their_whole_duration() {
    let encoder = EncoderConfig {
        expected_loss_pct: 10,
        ..fixed(60)
    };
    let r = run(CodecKind::Opus, encoder, 10.0, 1500, |_| 0.05, 4);
    let j = &r.quality.jitter;
    assert!(j.lost > 10, "loss seen: {j:?}");
    assert_eq!(
        j.played + j.lost,
        r.quality.packets_received + j.lost,
        "{j:?}"
    );
    assert!((frequency(&r.heard) - 1000.0).abs() < 30.0);
    // Each lost packet is 3 device frames; concealment and FEC fill part of them (a silent
    // 60 ms per loss would be 3 × lost), and nothing else is silent.
    let gaps = gaps(&r.heard);
    assert!(
        gaps < 3 * j.lost as usize,
        "{gaps} silent frames for {} lost",
        j.lost
    );
}

#[test]
fn heavy_loss_lengthens_the_packets_and_recovery_shortens_them_again() {
    // 40 s at 30 % loss, then 60 s clean; RTCP reports come every ~5 s.
    let encoder = EncoderConfig {
        max_frame_ms: 60,
        ..EncoderConfig::default()
    };
    let r = run(
        CodecKind::Opus,
        encoder,
        10.0,
        5000,
        |f| if f < 2000 { 0.3 } else { 0.0 },
        5,
    );
    let mut steps = r.a_ptimes.clone();
    steps.dedup();
    assert_eq!(steps, vec![20, 40, 60, 40, 20], "packet times in order");
    assert_eq!(r.a_ptimes[1999], 60, "the longest while the loss lasts");
    assert_eq!(*r.a_ptimes.last().unwrap(), 20, "back to 20 ms");
    assert!((frequency(&r.heard) - 1000.0).abs() < 20.0);
    // Clean second half: the switches back to 40 and 20 ms leave no gap.
    let clean = &r.heard[2100 * DEVICE_FRAME..];
    assert_eq!(gaps(clean), 0, "no gap once the link is clean");
}

#[test]
fn a_peer_that_allows_twenty_ms_only_gets_twenty_ms_whatever_the_loss() {
    let r = run(CodecKind::Pcmu, fixed(20), 10.0, 2000, |_| 0.2, 6);
    assert!(r.a_ptimes.iter().all(|&p| p == 20), "stayed at 20 ms");
}
