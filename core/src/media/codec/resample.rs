//! A streaming polyphase windowed-sinc resampler for rational rate ratios (8, 16, 22.05, 32,
//! 44.1, 48 kHz and the like).
//!
//! With `L/M` the reduced ratio of output to input rate, output sample `k` sits at input position
//! `k·M/L`; it is the sum of `2W` input samples weighted by a Kaiser-windowed sinc whose cutoff is
//! 0.92 of the lower Nyquist frequency, so both images (upsampling) and aliases (downsampling)
//! are suppressed. One filter phase per distinct fractional position is precomputed. The output
//! runs a whole number of output samples late ([`Resampler::delay`]), so callers can trim it
//! exactly, and a block of `n` inputs yields exactly `n·L/M` outputs whenever that is whole:
//! 20 ms in gives 20 ms out at every supported rate.

use std::f64::consts::PI;

/// Why a resampler could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ResampleError {
    /// A rate of 0, or above 384 kHz.
    #[error("unsupported sample rate {0}")]
    BadRate(u32),
    /// The reduced ratio needs more filter phases than is reasonable (e.g. 48000 to 47999).
    #[error("rate ratio {from}:{to} needs too many filter phases")]
    RatioTooFine { from: u32, to: u32 },
}

/// Converts a mono `i16` stream from one sample rate to another, one block at a time.
#[derive(Debug, Clone)]
pub struct Resampler {
    from: u32,
    to: u32,
    /// Output rate / gcd.
    up: u64,
    /// Input rate / gcd.
    down: u64,
    /// Half the number of taps per phase.
    half: usize,
    /// `up` phases of `2 * half` taps each.
    table: Vec<f32>,
    /// Input not yet consumed, from absolute input index `buf_start` (may be negative: the stream
    /// is preceded by silence).
    buf: Vec<f32>,
    buf_start: i64,
    /// Inputs taken so far and outputs produced so far.
    taken: u64,
    made: u64,
}

impl Resampler {
    /// A resampler from `from` Hz to `to` Hz. Equal rates give a plain copy.
    pub fn new(from: u32, to: u32) -> Result<Resampler, ResampleError> {
        for r in [from, to] {
            if r == 0 || r > 384_000 {
                return Err(ResampleError::BadRate(r));
            }
        }
        let g = gcd(u64::from(from), u64::from(to));
        let (up, down) = (u64::from(to) / g, u64::from(from) / g);
        if up > 1024 || down > 1024 {
            return Err(ResampleError::RatioTooFine { from, to });
        }
        // Cutoff in cycles per input sample, below the lower of the two Nyquist frequencies.
        let cutoff = 0.5 * ROLLOFF * (up as f64 / down as f64).min(1.0);
        let half = (ZERO_CROSSINGS as f64 / (2.0 * cutoff)).ceil() as usize;
        let table = if up == down {
            Vec::new()
        } else {
            build_table(up as usize, half, cutoff)
        };
        let mut r = Resampler {
            from,
            to,
            up,
            down,
            half,
            table,
            buf: Vec::new(),
            buf_start: 0,
            taken: 0,
            made: 0,
        };
        r.reset();
        Ok(r)
    }

    /// Input rate in Hz.
    pub fn from_rate(&self) -> u32 {
        self.from
    }

    /// Output rate in Hz.
    pub fn to_rate(&self) -> u32 {
        self.to
    }

    /// How late the output runs, in whole output samples: output `k` is the input signal at
    /// output time `k - delay`.
    pub fn delay(&self) -> usize {
        if self.up == self.down {
            return 0;
        }
        (self.half as u64 * self.up).div_ceil(self.down) as usize
    }

    /// Feeds `input` and appends every output sample it makes possible to `out`; returns how
    /// many were appended. After `n` inputs in total, `ceil(n·to/from)` outputs were made.
    pub fn process(&mut self, input: &[i16], out: &mut Vec<i16>) -> usize {
        if self.up == self.down {
            out.extend_from_slice(input);
            return input.len();
        }
        self.buf.extend(input.iter().map(|&s| f32::from(s)));
        self.taken += input.len() as u64;
        let taps = 2 * self.half;
        let before = out.len();
        // Output k is the input signal at input position (k - delay)·M/L; its last tap is at
        // floor((k - delay)·M/L) + half <= floor(k·M/L), which is there while k·M < taken·L.
        while self.made * self.down < self.taken * self.up {
            let (centre, phase) = self.position(self.made);
            let first = (centre - self.half as i64 + 1 - self.buf_start) as usize;
            let window = &self.buf[first..first + taps];
            let coeffs = &self.table[phase * taps..(phase + 1) * taps];
            let acc: f32 = window.iter().zip(coeffs).map(|(x, h)| x * h).sum();
            out.push(acc.round().clamp(f32::from(i16::MIN), f32::from(i16::MAX)) as i16);
            self.made += 1;
        }
        // Drop input no future output reaches.
        let keep_from = self.position(self.made).0 - self.half as i64 + 1;
        let drop = (keep_from - self.buf_start).clamp(0, self.buf.len() as i64) as usize;
        self.buf.drain(..drop);
        self.buf_start += drop as i64;
        out.len() - before
    }

    /// Forgets all input, as if newly built.
    pub fn reset(&mut self) {
        // The stream is preceded by silence, back to the first tap of output 0.
        let lead = 2 * self.half + (self.down / self.up) as usize + 2;
        self.buf.clear();
        self.buf.resize(lead, 0.0);
        self.buf_start = -(lead as i64);
        self.taken = 0;
        self.made = 0;
    }

    /// Pushes the samples still inside the filter out by feeding silence: appends
    /// [`Resampler::delay`] output samples.
    pub fn flush(&mut self, out: &mut Vec<i16>) -> usize {
        if self.up == self.down {
            return 0;
        }
        let target = self.made + self.delay() as u64;
        let mut n = 0;
        while self.made < target {
            let zeros = [0i16; 64];
            let before = out.len();
            self.process(&zeros, out);
            n += out.len() - before;
        }
        let excess = (self.made - target) as usize;
        out.truncate(out.len() - excess);
        self.made = target;
        n - excess
    }
}

impl Resampler {
    /// The input sample at or before output `k`'s position, and the filter phase for the rest.
    fn position(&self, k: u64) -> (i64, usize) {
        let units = (k as i64 - self.delay() as i64) * self.down as i64;
        (
            units.div_euclid(self.up as i64),
            units.rem_euclid(self.up as i64) as usize,
        )
    }
}

const ROLLOFF: f64 = 0.92;
const ZERO_CROSSINGS: usize = 16;
const KAISER_BETA: f64 = 8.6;

/// Kaiser-windowed sinc taps for each of `phases` fractional offsets, each phase normalised to
/// unit gain at DC so no phase adds ripple.
fn build_table(phases: usize, half: usize, cutoff: f64) -> Vec<f32> {
    let taps = 2 * half;
    let mut table = Vec::with_capacity(phases * taps);
    let i0_beta = bessel_i0(KAISER_BETA);
    for phase in 0..phases {
        let frac = phase as f64 / phases as f64;
        let start = table.len();
        for j in 0..taps {
            // Tap j weighs input centre + j - (half - 1), at distance t from the output position.
            let t = (j as f64 - (half as f64 - 1.0)) - frac;
            let x = 2.0 * cutoff * t;
            let sinc = if x.abs() < 1e-12 {
                1.0
            } else {
                (PI * x).sin() / (PI * x)
            };
            let r = t / half as f64;
            let window = if r.abs() >= 1.0 {
                0.0
            } else {
                bessel_i0(KAISER_BETA * (1.0 - r * r).sqrt()) / i0_beta
            };
            table.push(sinc * window);
        }
        let sum: f64 = table[start..].iter().sum();
        for h in &mut table[start..] {
            *h /= sum;
        }
    }
    table.into_iter().map(|h| h as f32).collect()
}

/// The modified Bessel function of the first kind, order 0 (power series).
fn bessel_i0(x: f64) -> f64 {
    let (mut sum, mut term) = (1.0, 1.0);
    let q = x * x / 4.0;
    for k in 1..50 {
        term *= q / (k * k) as f64;
        sum += term;
        if term < sum * 1e-12 {
            break;
        }
    }
    sum
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_of_20ms_give_20ms() {
        for (from, to) in [
            (48_000, 8_000),
            (8_000, 48_000),
            (44_100, 48_000),
            (48_000, 22_050),
        ] {
            let mut r = Resampler::new(from, to).unwrap();
            let block = vec![100i16; from as usize / 50];
            let mut out = Vec::new();
            for _ in 0..5 {
                assert_eq!(
                    r.process(&block, &mut out),
                    to as usize / 50,
                    "{from}->{to}"
                );
            }
        }
    }

    #[test]
    fn rejects_silly_rates() {
        assert_eq!(
            Resampler::new(0, 8000).err(),
            Some(ResampleError::BadRate(0))
        );
        assert!(matches!(
            Resampler::new(48_000, 47_999),
            Err(ResampleError::RatioTooFine { .. })
        ));
    }
}
