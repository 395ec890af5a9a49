//! A seeded network model for the jitter buffer tests, in virtual time: a sender emitting one
//! 20 ms frame per tick of its own (possibly drifting) clock, a path with base delay, normal
//! jitter, random or Gilbert-Elliott loss, reordering and duplication, and a receiver popping one
//! frame per 20 ms of its clock. Nothing here reads the clock except the virtual-time origin.
#![allow(dead_code)]

use std::collections::HashMap;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sipher::media::jitter::{JitterBuffer, JitterConfig, JitterStats, Playout};

pub const FRAME_US: i64 = 20_000;
pub const FRAME_TS: u64 = 960;

/// How packets are lost.
#[derive(Debug, Clone, Copy)]
pub enum Loss {
    None,
    /// Each packet independently.
    Random(f64),
    /// Two-state Markov chain: good -> bad with `p`, bad -> good with `r`; every packet sent in the
    /// bad state is lost.
    GilbertElliott {
        p: f64,
        r: f64,
    },
    /// `len` packets in a row lost every `every` packets.
    Bursts {
        every: u64,
        len: u64,
    },
}

#[derive(Debug, Clone, Copy)]
pub struct Profile {
    pub name: &'static str,
    pub base_delay_ms: f64,
    /// Standard deviation of the normal one-way jitter (netem "100ms 20ms").
    pub jitter_sd_ms: f64,
    pub loss: Loss,
    /// Probability that a packet is held back by an extra 30-60 ms.
    pub reorder: f64,
    /// Probability that a packet arrives twice.
    pub duplicate: f64,
    /// Sender clock rate error: 0.01 means the sender's clock runs 1 % fast.
    pub drift: f64,
    /// Talk spurts and silences (DTX: no packets, timestamps keep running): (talk, silence) frames.
    pub dtx: Option<(u64, u64)>,
    pub frames: u64,
}

impl Profile {
    pub fn new(name: &'static str, jitter_sd_ms: f64, frames: u64) -> Self {
        Self {
            name,
            base_delay_ms: 100.0,
            jitter_sd_ms,
            loss: Loss::None,
            reorder: 0.0,
            duplicate: 0.0,
            drift: 0.0,
            dtx: None,
            frames,
        }
    }
}

/// What one run measured.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Speech frames the sender produced (sent or lost on the way).
    pub sent: u64,
    pub stats: JitterStats,
    /// Per played frame: pop time minus (send time + nominal base delay), in ms, in play order.
    pub added_delay_ms: Vec<f64>,
    /// Per played frame: (pop time µs, added delay ms).
    pub delay_trace: Vec<(i64, f64)>,
    /// Played timestamps, in order.
    pub played_ts: Vec<u64>,
    pub missing_with_fec: u64,
    pub pops: u64,
    /// Largest buffer current delay seen, from `stats()` after each pop.
    pub max_current_delay: Duration,
}

impl Outcome {
    pub fn added_delay_percentile(&self, p: f64) -> f64 {
        percentile(&self.added_delay_ms, p)
    }

    pub fn pct(&self, n: u64) -> f64 {
        100.0 * n as f64 / self.sent.max(1) as f64
    }
}

pub fn percentile(values: &[f64], p: f64) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let mut v = values.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    let k = ((v.len() as f64 * p).ceil() as usize).clamp(1, v.len()) - 1;
    v[k]
}

pub fn config() -> JitterConfig {
    JitterConfig::default()
}

/// Runs `profile` through a fresh buffer; `phase_us` is where the receiver's pops fall within the
/// sender's 20 ms grid.
pub fn run(profile: &Profile, seed: u64, phase_us: i64) -> Outcome {
    run_with(profile, seed, phase_us, config())
}

pub fn run_with(profile: &Profile, seed: u64, phase_us: i64, cfg: JitterConfig) -> Outcome {
    let mut rng = StdRng::seed_from_u64(seed);
    let seq0: u64 = 40_000;
    let ts0: u64 = 3_000_000_000;
    // (arrival µs, seq, ts)
    let mut arrivals: Vec<(i64, u64, u64)> = Vec::new();
    let mut send_us: HashMap<u64, i64> = HashMap::new();
    let mut bad = false;
    let mut seq = seq0;
    let mut sent = 0;
    for k in 0..profile.frames {
        if let Some((talk, silence)) = profile.dtx {
            if k % (talk + silence) >= talk {
                continue;
            }
        }
        let ts = ts0 + k * FRAME_TS;
        let this_seq = seq;
        seq += 1;
        sent += 1;
        let at = (k as f64 * FRAME_US as f64 / (1.0 + profile.drift)) as i64;
        send_us.insert(ts, at);
        let lost = match profile.loss {
            Loss::None => false,
            Loss::Random(p) => rng.gen_bool(p),
            Loss::GilbertElliott { p, r } => {
                bad = if bad {
                    !rng.gen_bool(r)
                } else {
                    rng.gen_bool(p)
                };
                bad
            }
            Loss::Bursts { every, len } => k % every >= every - len,
        };
        if lost {
            continue;
        }
        let mut delay = profile.base_delay_ms + profile.jitter_sd_ms * normal(&mut rng);
        if rng.gen_bool(profile.reorder) {
            delay += rng.gen_range(30.0..60.0);
        }
        let arrival = at + (delay.max(0.0) * 1000.0) as i64;
        arrivals.push((arrival, this_seq, ts));
        if rng.gen_bool(profile.duplicate) {
            arrivals.push((arrival + rng.gen_range(0..40_000), this_seq, ts));
        }
    }
    arrivals.sort_by_key(|a| a.0);

    let origin = origin();
    let at = |us: i64| origin + Duration::from_micros(us as u64);
    let mut jb = JitterBuffer::new(cfg);
    let mut out = Outcome {
        sent,
        ..Outcome::default()
    };
    let last_arrival = arrivals.last().map_or(0, |a| a.0);
    let mut next = 0;
    let mut pop_us = phase_us;
    let base_us = (profile.base_delay_ms * 1000.0) as i64;
    let last_ts = arrivals.iter().map(|a| a.2).max().unwrap_or(0);
    // Bounded: one pop per 20 ms until the last frame played or a second after the last arrival
    // (past the end of the stream the buffer would only conceal the silence).
    while pop_us <= last_arrival + 1_000_000 && out.played_ts.last() != Some(&last_ts) {
        while next < arrivals.len() && arrivals[next].0 <= pop_us {
            let (a, s, ts) = arrivals[next];
            jb.push(at(a), s, ts, ts.to_be_bytes().to_vec());
            next += 1;
        }
        out.pops += 1;
        match jb.pop(at(pop_us)) {
            Playout::Frame { timestamp, payload } => {
                assert_eq!(
                    payload,
                    timestamp.to_be_bytes(),
                    "payload of another frame played"
                );
                let sent_at = send_us[&timestamp];
                let added = (pop_us - sent_at - base_us) as f64 / 1000.0;
                out.added_delay_ms.push(added);
                out.delay_trace.push((pop_us, added));
                out.played_ts.push(timestamp);
            }
            Playout::Missing {
                next: Some(fec),
                timestamp,
            } => {
                assert_eq!(
                    fec,
                    (timestamp + FRAME_TS).to_be_bytes(),
                    "FEC from a wrong packet"
                );
                out.missing_with_fec += 1;
            }
            Playout::Missing { next: None, .. } | Playout::Idle => {}
        }
        out.max_current_delay = out.max_current_delay.max(jb.stats().current_delay);
        pop_us += FRAME_US;
    }
    out.stats = jb.stats();
    out
}

/// Standard normal sample (Box-Muller).
pub fn normal(rng: &mut StdRng) -> f64 {
    let u1: f64 = rng.gen_range(f64::EPSILON..1.0);
    let u2: f64 = rng.gen();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

/// The origin of virtual time; every other instant is an offset from it.
#[allow(clippy::disallowed_methods)]
pub fn origin() -> Instant {
    Instant::now()
}
