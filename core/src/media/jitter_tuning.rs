//! The jitter buffer's tuning: how much history sets the playout delay, how it shrinks, and
//! when a packet starts a new timeline.

use std::time::Duration;

/// Relative-transit samples kept: 10 s of 20 ms frames.
pub const WINDOW: usize = 500;
/// Share of packets the playout offset waits for.
pub const QUANTILE: f64 = 0.98;
/// How far above the target (beyond one frame) the offset must be before a frame is removed.
pub const SHRINK_HYSTERESIS: Duration = Duration::from_millis(5);
/// How long a wanted shrink waits for silence or a loss before dropping a frame of speech.
pub const SHRINK_HOLD: Duration = Duration::from_millis(1500);
/// Excess (beyond a frame above the target) at which a frame of speech is dropped at once. With
/// [`SHRINK_HOLD`] this lets a sender clock 1 % fast be absorbed mostly in silences (80 % of the
/// shrinks with 2 s talk spurts), while a jitter decrease in continuous speech still decays.
pub const SHRINK_SPEECH_EXCESS: Duration = Duration::from_millis(30);
/// Late packets in a row that mean the timeline moved (a stall or a timestamp jump back).
pub const RESYNC_LATE_RUN: u32 = 5;
/// Sequence distance beyond which a packet starts a new timeline.
pub(super) const SEQ_JUMP: u64 = 1000;
/// How far off its expected arrival a packet must be to start a new timeline.
pub(super) const RESYNC_SLACK_US: i64 = 2_000_000;
/// Pops with an empty buffer that still ask for concealment before settling into silence.
pub(super) const BLIND_CONCEAL: u32 = 5;
/// Samples needed before the clock skew is estimated, and the time they must span (µs).
pub(super) const SKEW_MIN_SAMPLES: usize = 100;
pub(super) const SKEW_MIN_SPAN_US: i64 = 4_000_000;
/// Largest clock skew believed (2 %); beyond that the fit is noise.
pub(super) const SKEW_MAX: f64 = 0.02;
