//! Packet loss concealment for G.711 at 8 kHz, after ITU-T G.711 Appendix I, simplified:
//!
//! - At the start of an erasure the pitch period (5 to 15 ms) is found by normalised
//!   cross-correlation over the last 20 ms of history; the last period is then repeated.
//! - Appendix I smooths the seam by overlap-adding a quarter period into already played history,
//!   which costs 3.75 ms of delay. Here the quarter period at the *end* of the repeated buffer is
//!   cross-faded with the quarter period that precedes it one pitch earlier instead, so every wrap
//!   of the loop is smooth and no delay is added; only the first seam (real signal to the first
//!   synthetic sample) is left as the pitch repetition makes it.
//! - Appendix I widens the repeated buffer to two and three periods as the erasure grows; this
//!   variant repeats a single period throughout, which is slightly more buzzy on long losses.
//! - Gain is 1 for the first 10 ms, then falls linearly by 20% per 10 ms, reaching silence at
//!   60 ms, as in Appendix I.
//! - On the first good frame after an erasure the synthetic signal is continued and cross-faded
//!   into the real one over 4 ms, plus 4 ms per further 10 ms of erasure, at most 10 ms.

/// Concealment state for one G.711 stream.
pub(super) struct G711Plc {
    /// The last `HISTORY` output samples, oldest first.
    history: Vec<f32>,
    /// Samples synthesised in the current erasure; 0 when the last frame was good.
    erased: usize,
    /// One pitch period of signal to loop, with its tail smoothed into its head.
    period: Vec<f32>,
    /// Read position in `period`.
    pos: usize,
}

impl G711Plc {
    pub(super) fn new() -> Self {
        G711Plc {
            history: vec![0.0; HISTORY],
            erased: 0,
            period: Vec::new(),
            pos: 0,
        }
    }

    /// Takes a correctly received frame, blending it in if it ends an erasure.
    pub(super) fn good_frame(&mut self, frame: &mut [i16]) {
        if self.erased > 0 {
            let extra_10ms = (self.erased.saturating_sub(1)) / TEN_MS;
            let fade = (FOUR_MS * (1 + extra_10ms)).min(TEN_MS).min(frame.len());
            for (i, s) in frame.iter_mut().take(fade).enumerate() {
                let w = (i + 1) as f32 / (fade + 1) as f32;
                let synth = self.next_synthetic();
                *s = to_i16(synth * (1.0 - w) + f32::from(*s) * w);
            }
            self.erased = 0;
        }
        self.remember(frame.iter().map(|&s| f32::from(s)));
    }

    /// Appends `samples` of synthetic signal to `out`.
    pub(super) fn conceal(&mut self, samples: usize, out: &mut Vec<i16>) {
        if self.erased == 0 {
            self.start_erasure();
        }
        let start = out.len();
        for _ in 0..samples {
            let s = self.next_synthetic();
            out.push(to_i16(s));
        }
        let synth: Vec<f32> = out[start..].iter().map(|&s| f32::from(s)).collect();
        self.remember(synth.into_iter());
    }

    fn start_erasure(&mut self) {
        let p = self.pitch();
        let n = self.history.len();
        self.period = self.history[n - p..].to_vec();
        // Cross-fade the last quarter period into the signal that preceded the period's start, so
        // the loop's wrap from tail to head follows a real transition of the signal.
        let q = p / 4;
        for i in 0..q {
            let w = (i + 1) as f32 / (q + 1) as f32;
            let earlier = self.history[n - p - q + i];
            let tail = &mut self.period[p - q + i];
            *tail = *tail * (1.0 - w) + earlier * w;
        }
        self.pos = 0;
    }

    /// The next looped sample with the erasure's attenuation applied; advances the erasure.
    fn next_synthetic(&mut self) -> f32 {
        if self.period.is_empty() {
            return 0.0;
        }
        let s = self.period[self.pos];
        self.pos = (self.pos + 1) % self.period.len();
        let gain = if self.erased < TEN_MS {
            1.0
        } else {
            (1.0 - 0.2 * (self.erased - TEN_MS) as f32 / TEN_MS as f32).max(0.0)
        };
        self.erased = self.erased.saturating_add(1);
        s * gain
    }

    /// The lag in `MIN_PITCH..=MAX_PITCH` with the best normalised correlation between the last
    /// `CORR_WINDOW` samples and the samples one lag earlier.
    fn pitch(&self) -> usize {
        let n = self.history.len();
        let recent = &self.history[n - CORR_WINDOW..];
        let mut best = (MAX_PITCH, f32::MIN);
        for lag in MIN_PITCH..=MAX_PITCH {
            let earlier = &self.history[n - CORR_WINDOW - lag..n - lag];
            let (mut dot, mut energy) = (0.0f32, 0.0f32);
            for (a, b) in recent.iter().zip(earlier) {
                dot += a * b;
                energy += b * b;
            }
            let score = if energy > 0.0 {
                dot / energy.sqrt()
            } else {
                0.0
            };
            if score > best.1 {
                best = (lag, score);
            }
        }
        best.0
    }

    fn remember(&mut self, samples: impl Iterator<Item = f32>) {
        self.history.extend(samples);
        let excess = self.history.len().saturating_sub(HISTORY);
        self.history.drain(..excess);
    }
}

const TEN_MS: usize = 80;
const FOUR_MS: usize = 32;
const MIN_PITCH: usize = 40;
const MAX_PITCH: usize = 120;
const CORR_WINDOW: usize = 160;
/// Enough for the correlation window at the longest lag plus a quarter period before it.
const HISTORY: usize = CORR_WINDOW + MAX_PITCH + MAX_PITCH / 4 + 1;

fn to_i16(x: f32) -> i16 {
    x.round().clamp(f32::from(i16::MIN), f32::from(i16::MAX)) as i16
}

#[cfg(test)]
mod tests {
    use super::*;

    fn voiced(n: usize, period: usize) -> Vec<i16> {
        // A pulse-like periodic wave, richer than a sine, like a voiced vowel.
        (0..n)
            .map(|i| {
                let ph = (i % period) as f32 / period as f32 * std::f32::consts::TAU;
                (8000.0 * ph.sin() + 3000.0 * (2.0 * ph).sin() + 1500.0 * (3.0 * ph).cos()) as i16
            })
            .collect()
    }

    #[test]
    fn finds_the_pitch_of_a_periodic_signal() {
        let mut plc = G711Plc::new();
        let mut frame = voiced(480, 57);
        plc.good_frame(&mut frame);
        assert_eq!(plc.pitch(), 57);
    }

    #[test]
    fn concealment_continues_the_waveform_then_fades_out() {
        let mut plc = G711Plc::new();
        let sig = voiced(800, 64);
        let mut first = sig[..480].to_vec();
        plc.good_frame(&mut first);
        let mut out = Vec::new();
        plc.conceal(80, &mut out);
        // The first 10 ms repeat the pitch period: close to what the signal really did.
        let err: f32 = out
            .iter()
            .zip(&sig[480..560])
            .map(|(&a, &b)| (f32::from(a) - f32::from(b)).abs())
            .sum();
        let level: f32 = sig[480..560].iter().map(|&s| (s as f32).abs()).sum();
        assert!(err < 0.05 * level, "error {err} vs level {level}");
        let peak = sig.iter().map(|s| s.unsigned_abs()).max().unwrap_or(0);
        plc.conceal(480, &mut out);
        assert!(out.iter().all(|s| s.unsigned_abs() <= peak));
        assert!(out[480..].iter().all(|&s| s == 0), "silent after 60 ms");
    }
}
