//! The adaptive jitter buffer, sans-IO: packets go in with their arrival time, and the playout
//! clock takes out what is due. No clock reads, no IO; time is always passed in.
//!
//! # Driving contract
//!
//! The network side calls [`JitterBuffer::push`] for every received packet (extended sequence
//! number and RTP timestamp, as unwrapped by the RTP layer; [`JitterBuffer::push_sized`] when the
//! packet's duration is known from its payload), the audio side calls [`JitterBuffer::pop`] when
//! it needs audio and decodes what it gets. A pop covers [`JitterBuffer::last_span`] of media
//! time: a whole packet (20, 40, 60 ms… as the sender packetised), one `frame_duration` of
//! concealment or silence, or the stretch a FEC packet recovers. With 20 ms packets that is one
//! pop per 20 ms:
//!
//! ```
//! use std::time::{Duration, Instant};
//! use sipher::media::jitter::{JitterBuffer, JitterConfig, Playout};
//!
//! let mut jb = JitterBuffer::new(JitterConfig::default());
//! let t0 = Instant::now(); // the engine owns the clock; the buffer never reads it
//! jb.push(t0, 1, 960, vec![0xF8]);
//! let mut played = 0;
//! for k in 0..10u32 {
//!     match jb.pop(t0 + Duration::from_millis(20) * k) {
//!         Playout::Frame { payload, .. } => played += payload.len(), // decode
//!         Playout::Missing { next: Some(_fec), .. } => {}            // decode FEC of the next
//!         Playout::Missing { next: None, .. } => {}                  // packet-loss concealment
//!         Playout::Idle => {}                                         // comfort silence
//!     }
//! }
//! assert_eq!(played, 1);
//! ```
//!
//! # How the playout delay is chosen
//!
//! Each packet gives a *relative transit* sample `rel = arrival - timestamp / clock_rate` (its
//! absolute value is meaningless, its spread is the jitter). The last [`WINDOW`] samples (10 s of
//! 20 ms frames) are kept. Sender and receiver clocks may differ by up to ±1 %, i.e. the samples
//! slide by up to 10 ms per second, which would smear a 10 s window by 100 ms; so a least-squares
//! slope (the clock skew) is fitted over the window and every sample is projected to "now" before
//! taking statistics.
//!
//! The playout offset (`pop time - timestamp / clock_rate` of the frame being played) must be at
//! least the [`QUANTILE`] (p98) of the projected samples for that share of packets to arrive in
//! time. p98 rather than p95: the offset can only move in whole frames (20 ms), so in steady state
//! it sits between the quantile and the quantile + a frame, which puts late loss well under 1 %
//! while a higher quantile, noisier from a 500-sample window, would make the offset flap. The
//! delay over the fastest packet is clamped to `[min_delay, max_delay]`.
//!
//! - **Fast attack**: when the offset is below the target, a frame is inserted at the next pop
//!   (silence if the stream is silent, else a concealment request). A jitter increase shows up in
//!   the p98 after 10 high samples (200 ms).
//! - **Slow decay**: high samples stay in the window for 10 s, and a frame is removed only when the
//!   offset exceeds the target by a frame plus [`SHRINK_HYSTERESIS`]; during silence or a loss at
//!   once (nothing audible is lost); during speech only once the excess reaches
//!   [`SHRINK_SPEECH_EXCESS`] or it was wanted for [`SHRINK_HOLD`], so that drift is mostly
//!   absorbed in the next silence.
//! - **Drift**: the skew projection keeps the target on the moving distribution; the buffer then
//!   inserts or removes one frame every 2 s at ±1 %, so it neither grows nor starves.
//! - **Re-sync**: a sequence jump, a timestamp that does not follow elapsed time, or
//!   [`RESYNC_LATE_RUN`] late packets in a row re-anchors the timeline on the new packet (keeping
//!   the learnt jitter); [`JitterBuffer::reset`] does the same for a new SSRC.
//!
//! Sequence numbers order packets and tell loss from silence: a timestamp gap with consecutive
//! sequence numbers is DTX or silence suppression (played as [`Playout::Idle`], not counted lost).
//!
//! # Packet time
//!
//! Packets may carry several frames (RFC 3551 `ptime`, Opus 40/60 ms): each slot keeps its
//! duration, a played packet moves the playout by all of it, and a gap of `n` lost packets is
//! concealed for `n` times the duration of the latest packet (then silence, if the gap is longer:
//! DTX). When the packet after a loss is here and the loss ends right before it, one
//! [`Playout::Missing`] with `next` covers as much of the gap as that packet's duration (its Opus
//! LBRR data rebuilds the previous packet of the same duration). The delay still moves in whole
//! `frame_duration` steps, except that removing delay during speech drops a whole packet. The
//! delay floor is one packet rather than `min_delay` when packets are longer: the packet after a
//! loss must be here in time for its FEC to be of use.

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

use super::jitter_tuning::{
    BLIND_CONCEAL, RESYNC_SLACK_US, SEQ_JUMP, SKEW_MAX, SKEW_MIN_SAMPLES, SKEW_MIN_SPAN_US,
};
pub use super::jitter_tuning::{
    QUANTILE, RESYNC_LATE_RUN, SHRINK_HOLD, SHRINK_HYSTERESIS, SHRINK_SPEECH_EXCESS, WINDOW,
};

/// Settings of one [`JitterBuffer`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JitterConfig {
    /// RTP clock rate of the stream (48 000 for Opus).
    pub clock_rate: u32,
    /// Duration of one frame; [`JitterBuffer::pop`] is called once per frame.
    pub frame_duration: Duration,
    /// Least delay the fastest packet spends in the buffer.
    pub min_delay: Duration,
    /// Most delay the fastest packet spends in the buffer, whatever the jitter.
    pub max_delay: Duration,
    /// Most packets held; more are discarded (counted in [`JitterStats::overflow`]).
    pub max_packets: usize,
}

impl Default for JitterConfig {
    /// Opus voice: 48 kHz clock, 20 ms frames, 20 ms to 500 ms of delay, 1 s of packets.
    fn default() -> Self {
        Self {
            clock_rate: 48_000,
            frame_duration: Duration::from_millis(20),
            min_delay: Duration::from_millis(20),
            max_delay: Duration::from_millis(500),
            max_packets: 50,
        }
    }
}

/// What the playout clock plays now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Playout {
    /// The frame due now.
    Frame { timestamp: u64, payload: Vec<u8> },
    /// The frame due now was lost or is late (or a frame of delay is being inserted); `next` is
    /// the following packet if it is already here (so the decoder can use Opus in-band FEC to
    /// rebuild the lost one), else conceal.
    Missing {
        timestamp: u64,
        next: Option<Vec<u8>>,
    },
    /// Nothing received yet (or the stream is silent / in DTX for a long while): play comfort
    /// silence.
    Idle,
}

/// Counters and delays of a [`JitterBuffer`], for RTCP reports and the call statistics screen.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct JitterStats {
    /// Packets pushed (including duplicates, late and discarded ones).
    pub received: u64,
    /// Frames returned as [`Playout::Frame`].
    pub played: u64,
    /// Packets that arrived after their playout time (dropped).
    pub late: u64,
    /// Sequence numbers passed over that never arrived (not counting DTX gaps).
    pub lost: u64,
    /// [`Playout::Missing`] returned (loss, lateness or inserted delay during speech).
    pub concealed: u64,
    /// Packets received a second time (dropped).
    pub duplicates: u64,
    /// Packets that arrived after a packet with a higher sequence number.
    pub reordered: u64,
    /// Frames of delay inserted (fast attack, or a sender clock slower than ours).
    pub stretched: u64,
    /// Frames of delay removed (slow decay, or a sender clock faster than ours).
    pub shrunk: u64,
    /// On-time frames discarded to remove delay during speech, or on a re-sync.
    pub dropped: u64,
    /// Packets discarded because `max_packets` were already held.
    pub overflow: u64,
    /// Timeline re-anchorings (sequence or timestamp jumps, stalls, [`JitterBuffer::reset`]).
    pub resyncs: u64,
    /// Delay the fastest recent packet spends in the buffer now.
    pub current_delay: Duration,
    /// Delay the buffer is steering towards.
    pub target_delay: Duration,
}

/// The adaptive jitter buffer of one received stream. See the module docs.
#[derive(Debug)]
pub struct JitterBuffer {
    cfg: JitterConfig,
    /// One frame in RTP timestamp units.
    frame_ts: i64,
    /// Zero of the microsecond timeline; the first instant seen.
    epoch: Option<Instant>,
    /// Added to an RTP timestamp to get the internal media timestamp (re-anchored on re-sync).
    ts_offset: i128,
    phase: Phase,
    /// Packets not yet played, by extended sequence number.
    slots: BTreeMap<u64, Slot>,
    /// Recent (arrival µs, relative transit µs) samples, oldest first.
    window: VecDeque<(i64, i64)>,
    /// Media timestamp of the frame the next pop plays.
    play_ts: i64,
    /// Lowest sequence number not yet played or passed over.
    next_seq: u64,
    /// Sequence number playing started at; older ones were never counted lost.
    start_seq: u64,
    /// Bit i set: sequence `next_seq - 1 - i` arrived (played, dropped or late).
    seen: u128,
    highest_seq: Option<u64>,
    /// `pop time - play_ts` in µs, measured at the last pop.
    offset_us: i64,
    /// Target of `offset_us` and the fastest projected transit, from the last pop.
    target_us: i64,
    base_us: i64,
    /// Media time concealed since `next_seq` last moved (RTP ticks).
    missing_ts: i64,
    /// Duration of the latest packet received (RTP ticks): how long a lost one is concealed.
    pkt_ts: i64,
    /// Media time the last pop covered (RTP ticks).
    span_ts: i64,
    /// Pops in a row that found the buffer empty.
    blind_run: u32,
    late_run: u32,
    /// Since when (µs) a shrink has been wanted during speech.
    shrink_wanted_since: Option<i64>,
    resync_pending: bool,
    stats: JitterStats,
}

impl JitterBuffer {
    pub fn new(cfg: JitterConfig) -> Self {
        let clock_rate = cfg.clock_rate.max(1);
        let frame_ts = (i128::from(clock_rate) * cfg.frame_duration.as_micros() as i128 / 1_000_000)
            .clamp(1, i128::from(u32::MAX)) as i64;
        Self {
            cfg: JitterConfig {
                clock_rate,
                max_packets: cfg.max_packets.max(1),
                ..cfg
            },
            frame_ts,
            epoch: None,
            ts_offset: 0,
            phase: Phase::Empty,
            slots: BTreeMap::new(),
            window: VecDeque::with_capacity(WINDOW),
            play_ts: 0,
            next_seq: 0,
            start_seq: 0,
            seen: 0,
            highest_seq: None,
            offset_us: 0,
            target_us: 0,
            base_us: 0,
            missing_ts: 0,
            pkt_ts: frame_ts,
            span_ts: frame_ts,
            blind_run: 0,
            late_run: 0,
            shrink_wanted_since: None,
            resync_pending: false,
            stats: JitterStats::default(),
        }
    }

    /// A received packet of one frame: extended sequence number, extended RTP timestamp, payload.
    pub fn push(&mut self, now: Instant, seq: u64, timestamp: u64, payload: Vec<u8>) {
        let frame = u32::try_from(self.frame_ts).unwrap_or(u32::MAX);
        self.push_sized(now, seq, timestamp, frame, payload);
    }

    /// A received packet that lasts `duration` RTP ticks (as its payload says; 0 is taken as one
    /// frame).
    pub fn push_sized(
        &mut self,
        now: Instant,
        seq: u64,
        timestamp: u64,
        duration: u32,
        payload: Vec<u8>,
    ) {
        let dur = if duration == 0 {
            self.frame_ts
        } else {
            i64::from(duration)
        };
        self.stats.received += 1;
        let now_us = self.micros(now);
        if matches!(self.phase, Phase::Empty) {
            self.anchor(now_us, seq, timestamp, Anchor::Fresh);
        } else if self.resync_pending || self.is_jump(now_us, seq, timestamp) {
            self.resync(now_us, seq, timestamp);
        }
        if self.slots.contains_key(&seq) {
            self.stats.duplicates += 1;
            return;
        }
        let playing = matches!(self.phase, Phase::Playing);
        if playing && seq < self.next_seq {
            if self.passed_over_arrival(seq) {
                self.record_transit(now_us, timestamp);
            }
            return;
        }
        if self.highest_seq.is_some_and(|h| seq < h) {
            self.stats.reordered += 1;
        }
        self.highest_seq = Some(self.highest_seq.map_or(seq, |h| h.max(seq)));
        self.record_transit(now_us, timestamp);
        let ts = self.media_ts(timestamp);
        let late = playing && ts < self.play_ts;
        if late {
            self.stats.late += 1;
            self.late_run += 1;
        } else {
            self.late_run = 0;
        }
        if self.slots.len() >= self.cfg.max_packets {
            self.stats.overflow += 1;
            return;
        }
        // A late packet is kept (without its payload) only so that the pop that sweeps it knows
        // its sequence number arrived and does not count it lost.
        let payload = if late { Vec::new() } else { payload };
        if !late {
            self.pkt_ts = dur;
        }
        self.slots.insert(
            seq,
            Slot {
                ts,
                dur,
                timestamp,
                payload,
                late,
            },
        );
    }

    /// Called by the playout clock when it needs audio: what to play now. The result covers
    /// [`JitterBuffer::last_span`] of media time; call again when that has been played.
    pub fn pop(&mut self, now: Instant) -> Playout {
        self.span_ts = self.frame_ts;
        let now_us = self.micros(now);
        if let Phase::Waiting { start_at_us } = self.phase {
            if now_us < start_at_us {
                return Playout::Idle;
            }
            let Some((&seq, slot)) = self.slots.iter().min_by_key(|(_, s)| s.ts) else {
                return Playout::Idle;
            };
            self.phase = Phase::Playing;
            self.play_ts = slot.ts;
            self.next_seq = self.slots.keys().next().copied().unwrap_or(seq).min(seq);
            self.start_seq = self.next_seq;
            self.seen = 0;
        }
        if !matches!(self.phase, Phase::Playing) {
            return Playout::Idle;
        }
        self.offset_us = now_us.saturating_sub(self.ts_to_us(self.play_ts));
        self.update_target(now_us);
        self.catch_up();
        self.sweep();
        let due = self.due();
        let silent_or_lost = !matches!(due, Due::Frame(_));
        if self.offset_us < self.target_us {
            // Fast attack: play nothing now and keep the same frame for the next pop.
            self.stats.stretched += 1;
            return match due {
                Due::Frame(_) | Due::Missing { .. } => self.missing(false),
                Due::Blind => self.missing(true),
                Due::Silence => Playout::Idle,
            };
        }
        // Removing delay during speech drops the whole due packet: only when that much is spare.
        let removed_us = match due {
            Due::Frame(seq) => self
                .slots
                .get(&seq)
                .map_or(self.frame_us(), |s| self.ts_to_us(s.dur)),
            _ => self.frame_us(),
        };
        let excess = self.offset_us - self.target_us - removed_us;
        if excess >= SHRINK_HYSTERESIS.as_micros() as i64 {
            let since = *self.shrink_wanted_since.get_or_insert(now_us);
            let urgent = excess >= SHRINK_SPEECH_EXCESS.as_micros() as i64
                || now_us - since >= SHRINK_HOLD.as_micros() as i64;
            if silent_or_lost || urgent {
                self.shrink_wanted_since = None;
                self.stats.shrunk += 1;
                if let Due::Frame(seq) = due {
                    self.drop_slot(seq);
                } else {
                    self.play_ts += self.frame_ts;
                }
                self.sweep();
                return self.play(self.due());
            }
        } else {
            self.shrink_wanted_since = None;
        }
        self.play(due)
    }

    /// Forgets the stream (a new SSRC): the next packet re-anchors the timeline. Statistics and
    /// the learnt jitter are kept.
    pub fn reset(&mut self) {
        if !matches!(self.phase, Phase::Empty) {
            self.resync_pending = true;
        }
    }

    /// Media time the last [`JitterBuffer::pop`] covers, in RTP ticks (which are samples for
    /// Opus and G.711): the packet's duration for a [`Playout::Frame`], one frame or the span a
    /// FEC packet recovers for a [`Playout::Missing`], one frame for [`Playout::Idle`].
    pub fn last_span(&self) -> u32 {
        u32::try_from(self.span_ts).unwrap_or(u32::MAX)
    }

    pub fn stats(&self) -> JitterStats {
        JitterStats {
            current_delay: self.current_delay(),
            target_delay: self.target_delay(),
            ..self.stats.clone()
        }
    }

    /// The delay over the fastest recent packet that the buffer is steering towards.
    pub fn target_delay(&self) -> Duration {
        match self.phase {
            Phase::Playing => us_to_duration(self.target_us - self.base_us),
            _ => self.cfg.min_delay,
        }
    }

    fn current_delay(&self) -> Duration {
        match self.phase {
            Phase::Playing => us_to_duration(self.offset_us - self.base_us),
            _ => Duration::ZERO,
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Phase {
    /// Nothing received yet.
    Empty,
    /// Buffering the first packets until the initial delay passed.
    Waiting {
        start_at_us: i64,
    },
    Playing,
}

#[derive(Debug)]
struct Slot {
    /// Media timestamp (internal timeline).
    ts: i64,
    /// Duration in RTP ticks.
    dur: i64,
    /// The RTP timestamp as received.
    timestamp: u64,
    payload: Vec<u8>,
    late: bool,
}

#[derive(Debug, Clone, Copy)]
enum Due {
    /// The frame due now is here (its sequence number).
    Frame(u64),
    /// The next packet follows the last one: a silence (DTX) gap.
    Silence,
    /// Sequence numbers are missing before the next packet; `next` is it, if it is the frame right
    /// after the one due.
    Missing { gap: u64, next: Option<u64> },
    /// Nothing is buffered.
    Blind,
}

enum Anchor {
    /// A new timeline: wait for the initial delay before playing.
    Fresh,
    /// Keep playing, placing the packet at the median transit of the window.
    Rebase,
}

impl JitterBuffer {
    fn micros(&mut self, now: Instant) -> i64 {
        let epoch = *self.epoch.get_or_insert(now);
        i64::try_from(now.saturating_duration_since(epoch).as_micros()).unwrap_or(i64::MAX / 4)
    }

    fn frame_us(&self) -> i64 {
        self.cfg.frame_duration.as_micros() as i64
    }

    fn media_ts(&self, timestamp: u64) -> i64 {
        // Clamped well inside i64 so that later additions of a few frames cannot overflow.
        (i128::from(timestamp) + self.ts_offset).clamp(-(1 << 60), 1 << 60) as i64
    }

    fn ts_to_us(&self, ts: i64) -> i64 {
        (i128::from(ts) * 1_000_000 / i128::from(self.cfg.clock_rate)) as i64
    }

    fn relative_transit(&self, now_us: i64, timestamp: u64) -> i64 {
        now_us.saturating_sub(self.ts_to_us(self.media_ts(timestamp)))
    }

    fn record_transit(&mut self, now_us: i64, timestamp: u64) {
        if self.window.len() >= WINDOW {
            self.window.pop_front();
        }
        let rel = self.relative_transit(now_us, timestamp);
        self.window.push_back((now_us, rel));
    }

    /// Whether the packet cannot belong to the current timeline.
    fn is_jump(&self, now_us: i64, seq: u64, timestamp: u64) -> bool {
        let reference = match self.phase {
            Phase::Playing => self.next_seq,
            _ => self.highest_seq.unwrap_or(seq),
        };
        if seq.abs_diff(reference) > SEQ_JUMP {
            return true;
        }
        if !matches!(self.phase, Phase::Playing) {
            return false;
        }
        let margin = self.offset_us - self.relative_transit(now_us, timestamp);
        let max_us = self.cfg.max_delay.as_micros() as i64;
        margin > max_us + RESYNC_SLACK_US
            || margin < -RESYNC_SLACK_US
            || (self.late_run + 1 >= RESYNC_LATE_RUN && self.media_ts(timestamp) < self.play_ts)
    }

    fn resync(&mut self, now_us: i64, seq: u64, timestamp: u64) {
        self.stats.resyncs += 1;
        self.resync_pending = false;
        let kind = if matches!(self.phase, Phase::Playing) && !self.window.is_empty() {
            Anchor::Rebase
        } else {
            Anchor::Fresh
        };
        self.anchor(now_us, seq, timestamp, kind);
    }

    fn anchor(&mut self, now_us: i64, seq: u64, timestamp: u64, kind: Anchor) {
        self.stats.dropped += self.slots.values().filter(|s| !s.late).count() as u64;
        self.slots.clear();
        self.highest_seq = None;
        self.late_run = 0;
        self.missing_ts = 0;
        match kind {
            Anchor::Fresh => {
                let initial = match self.phase {
                    Phase::Playing => self.target_delay(),
                    _ => self.cfg.min_delay,
                };
                self.window.clear();
                self.ts_offset = -i128::from(timestamp);
                self.phase = Phase::Waiting {
                    start_at_us: now_us + initial.as_micros() as i64,
                };
            }
            Anchor::Rebase => {
                let mut rels: Vec<i64> = self.window.iter().map(|&(_, r)| r).collect();
                let mid = rels.len() / 2;
                let median = *rels.select_nth_unstable(mid).1;
                // Media time of the new packet such that its transit is the median one.
                let media_us = now_us - median;
                let media_ts = i128::from(media_us) * i128::from(self.cfg.clock_rate) / 1_000_000;
                self.ts_offset = media_ts - i128::from(timestamp);
                self.next_seq = seq;
                self.start_seq = seq;
                self.seen = 0;
            }
        }
    }

    /// A packet whose sequence number playback already passed: a duplicate or a late arrival
    /// (returns true).
    fn passed_over_arrival(&mut self, seq: u64) -> bool {
        let back = self.next_seq - 1 - seq;
        let bit = 1u128.checked_shl(back as u32).filter(|_| back < 128);
        match bit {
            Some(b) if self.seen & b != 0 => {
                self.stats.duplicates += 1;
                return false;
            }
            Some(b) => {
                self.seen |= b;
                self.stats.late += 1;
                if seq >= self.start_seq {
                    // It was counted lost when playback passed over it.
                    self.stats.lost = self.stats.lost.saturating_sub(1);
                }
            }
            None => self.stats.late += 1,
        }
        true
    }

    /// Recomputes the target offset from the window: the [`QUANTILE`] of the skew-projected
    /// transits, clamped to `[min_delay, max_delay]` above the fastest.
    fn update_target(&mut self, now_us: i64) {
        if self.window.is_empty() {
            return;
        }
        let skew = self.skew();
        let mut projected: Vec<i64> = self
            .window
            .iter()
            .map(|&(at, rel)| rel + (skew * (now_us - at) as f64) as i64)
            .collect();
        let n = projected.len();
        let k = ((n as f64 * QUANTILE).ceil() as usize).clamp(1, n) - 1;
        let quantile = *projected.select_nth_unstable(k).1;
        // The minimum is in the lower part left of k after the selection.
        let base = projected.iter().copied().min().unwrap_or(quantile);
        // At least one packet of delay: the packet after a loss must be here when the lost one
        // is due for its FEC to rebuild it (for 20 ms packets that is `min_delay`).
        let min = (self.cfg.min_delay.as_micros() as i64).max(self.ts_to_us(self.pkt_ts));
        let max = (self.cfg.max_delay.as_micros() as i64).max(min);
        self.base_us = base;
        self.target_us = quantile.clamp(base + min, base + max);
    }

    /// Least-squares slope of relative transit over arrival time: how much faster our clock
    /// runs than the sender's.
    fn skew(&self) -> f64 {
        let n = self.window.len();
        let (Some(first), Some(last)) = (self.window.front(), self.window.back()) else {
            return 0.0;
        };
        if n < SKEW_MIN_SAMPLES || last.0 - first.0 < SKEW_MIN_SPAN_US {
            return 0.0;
        }
        let (t0, r0) = *first;
        let (mut st, mut sr) = (0.0, 0.0);
        for &(t, r) in &self.window {
            st += (t - t0) as f64;
            sr += (r - r0) as f64;
        }
        let (mt, mr) = (st / n as f64, sr / n as f64);
        let (mut stt, mut str_) = (0.0, 0.0);
        for &(t, r) in &self.window {
            let dt = (t - t0) as f64 - mt;
            stt += dt * dt;
            str_ += dt * ((r - r0) as f64 - mr);
        }
        if stt <= 0.0 {
            return 0.0;
        }
        (str_ / stt).clamp(-SKEW_MAX, SKEW_MAX)
    }

    /// After a long gap between pops (the app was suspended), jumps the playout forward instead
    /// of shrinking a frame at a time.
    fn catch_up(&mut self) {
        let excess = self.offset_us - self.target_us;
        if excess <= self.cfg.max_delay.as_micros() as i64 {
            return;
        }
        let frames = excess / self.frame_us().max(1);
        self.play_ts += frames * self.frame_ts;
        self.offset_us -= frames * self.frame_us();
        self.stats.shrunk += frames as u64;
    }

    /// Removes packets whose time passed (late arrivals, or frames skipped by a catch-up), moving
    /// the sequence cursor past them.
    fn sweep(&mut self) {
        while let Some(entry) = self.slots.first_entry() {
            if entry.get().ts >= self.play_ts {
                break;
            }
            let seq = *entry.key();
            let slot = entry.remove();
            if !slot.late {
                self.stats.dropped += 1;
            }
            self.advance_past(seq);
        }
    }

    fn due(&self) -> Due {
        let Some((&seq, slot)) = self.slots.iter().next() else {
            return Due::Blind;
        };
        if slot.ts < self.play_ts + self.frame_ts {
            return Due::Frame(seq);
        }
        if seq == self.next_seq {
            return Due::Silence;
        }
        // The packet right after the lost stretch carries FEC for the packet before it (of its
        // own duration); further ones do not.
        let follows = slot.ts < self.play_ts + slot.dur + self.frame_ts;
        Due::Missing {
            gap: seq - self.next_seq,
            next: follows.then_some(seq),
        }
    }

    /// Plays the due frame (or what stands in for it) and moves to the next frame.
    fn play(&mut self, due: Due) -> Playout {
        match due {
            Due::Frame(seq) => {
                // Invariant: `due()` returned this key from `slots` and nothing removed it since.
                let slot = self.slots.remove(&seq).expect("due frame is buffered");
                self.advance_past(seq);
                self.blind_run = 0;
                self.play_ts = slot.ts + slot.dur;
                self.span_ts = slot.dur;
                self.stats.played += 1;
                Playout::Frame {
                    timestamp: slot.timestamp,
                    payload: slot.payload,
                }
            }
            Due::Silence => {
                self.play_ts += self.frame_ts;
                Playout::Idle
            }
            Due::Missing { gap, next } => {
                let lost_ts = i64::try_from(gap)
                    .unwrap_or(i64::MAX / 4)
                    .saturating_mul(self.pkt_ts);
                let out = if self.missing_ts < lost_ts {
                    let timestamp = self.rtp_ts(self.play_ts);
                    let next = next.and_then(|s| self.slots.get(&s)).map(|s| {
                        // The FEC rebuilds up to the next packet's duration, ending at it.
                        self.span_ts = (s.ts - self.play_ts).min(s.dur).max(self.frame_ts);
                        s.payload.clone()
                    });
                    self.missing_ts += self.span_ts;
                    self.stats.concealed += 1;
                    Playout::Missing { timestamp, next }
                } else {
                    // More time than missing packets cover: the rest of the gap is silence.
                    Playout::Idle
                };
                self.play_ts += self.span_ts;
                out
            }
            Due::Blind => {
                let out = self.missing(true);
                self.play_ts += self.frame_ts;
                out
            }
        }
    }

    /// A concealment request for the frame due now, or silence once the buffer has been empty
    /// for a while (`blind`): the stream has most likely gone quiet.
    fn missing(&mut self, blind: bool) -> Playout {
        if blind {
            if self.blind_run >= BLIND_CONCEAL {
                return Playout::Idle;
            }
            self.blind_run += 1;
        }
        self.stats.concealed += 1;
        Playout::Missing {
            timestamp: self.rtp_ts(self.play_ts),
            next: None,
        }
    }

    fn drop_slot(&mut self, seq: u64) {
        if let Some(slot) = self.slots.remove(&seq) {
            self.advance_past(seq);
            self.play_ts = slot.ts + slot.dur;
            self.stats.dropped += 1;
        }
    }

    /// Moves the sequence cursor past `seq`, counting the skipped numbers as lost.
    fn advance_past(&mut self, seq: u64) {
        if seq < self.next_seq {
            return;
        }
        let gap = seq - self.next_seq;
        self.stats.lost += gap;
        self.seen = self
            .seen
            .checked_shl((gap + 1).min(128) as u32)
            .unwrap_or(0)
            | 1;
        self.next_seq = seq + 1;
        self.missing_ts = 0;
    }

    fn rtp_ts(&self, media_ts: i64) -> u64 {
        u64::try_from(i128::from(media_ts) - self.ts_offset).unwrap_or(0)
    }
}

fn us_to_duration(us: i64) -> Duration {
    Duration::from_micros(us.max(0) as u64)
}
