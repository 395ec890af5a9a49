//! The resampler keeps what a listener hears: tone frequency and level survive 48k->8k->48k, the
//! band edge is respected, and block-wise streaming equals one-shot processing.

use sipher::media::codec::Resampler;

fn tone(freq: f64, rate: u32, n: usize, amp: f64) -> Vec<i16> {
    (0..n)
        .map(|i| (amp * (std::f64::consts::TAU * freq * i as f64 / f64::from(rate)).sin()) as i16)
        .collect()
}

fn rms(s: &[i16]) -> f64 {
    (s.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>() / s.len() as f64).sqrt()
}

/// Amplitude of `freq` in `s` (single-bin DFT).
fn level_at(s: &[i16], freq: f64, rate: u32) -> f64 {
    let (mut re, mut im) = (0.0, 0.0);
    for (i, &x) in s.iter().enumerate() {
        let ph = std::f64::consts::TAU * freq * i as f64 / f64::from(rate);
        re += f64::from(x) * ph.cos();
        im += f64::from(x) * ph.sin();
    }
    2.0 * (re * re + im * im).sqrt() / s.len() as f64
}

fn run_blocks(r: &mut Resampler, input: &[i16], block: usize) -> Vec<i16> {
    let mut out = Vec::new();
    for b in input.chunks(block) {
        r.process(b, &mut out);
    }
    out
}

#[test]
fn a_1khz_tone_survives_48k_to_8k_and_back() {
    let input = tone(1000.0, 48_000, 48_000, 10_000.0);
    let mut down = Resampler::new(48_000, 8_000).unwrap();
    let mut up = Resampler::new(8_000, 48_000).unwrap();
    let mid = run_blocks(&mut down, &input, 960);
    assert_eq!(mid.len(), 8_000);
    let out = run_blocks(&mut up, &mid, 160);
    assert_eq!(out.len(), 48_000);
    // Judge the steady middle part, away from the filters' start-up.
    let steady = &out[4_800..43_200];
    let level = level_at(steady, 1000.0, 48_000);
    assert!((level - 10_000.0).abs() < 200.0, "1 kHz level {level}");
    // Almost all energy is still at 1 kHz: the residual after removing it is tiny (> 50 dB SNR).
    let total = rms(steady);
    let residual = (total.powi(2) - (level / 2f64.sqrt()).powi(2))
        .max(0.0)
        .sqrt();
    assert!(residual < total * 0.003, "residual {residual} of {total}");
}

#[test]
fn downsampling_removes_what_the_lower_rate_cannot_carry() {
    // 6 kHz cannot exist at 8 kHz; it must not alias down to 2 kHz.
    let input = tone(6000.0, 48_000, 48_000, 10_000.0);
    let mut down = Resampler::new(48_000, 8_000).unwrap();
    let mid = run_blocks(&mut down, &input, 960);
    let alias = level_at(&mid[800..], 2000.0, 8_000);
    assert!(alias < 10.0, "alias at 2 kHz: {alias}");
    // A 3 kHz tone (inside the band) passes.
    let input = tone(3000.0, 48_000, 48_000, 10_000.0);
    let mut down = Resampler::new(48_000, 8_000).unwrap();
    let mid = run_blocks(&mut down, &input, 960);
    let pass = level_at(&mid[800..], 3000.0, 8_000);
    assert!((pass - 10_000.0).abs() < 300.0, "3 kHz level {pass}");
}

#[test]
fn every_supported_rate_round_trips_a_tone() {
    for rate in [8_000u32, 16_000, 22_050, 32_000, 44_100] {
        let input = tone(440.0, 48_000, 48_000, 8_000.0);
        let mut there = Resampler::new(48_000, rate).unwrap();
        let mut back = Resampler::new(rate, 48_000).unwrap();
        let mid = run_blocks(&mut there, &input, 960);
        assert_eq!(
            mid.len(),
            rate as usize,
            "{rate}: one second in, one second out"
        );
        let out = run_blocks(&mut back, &mid, rate as usize / 50);
        assert_eq!(out.len(), 48_000);
        let level = level_at(&out[4_800..43_200], 440.0, 48_000);
        assert!((level - 8_000.0).abs() < 100.0, "{rate}: level {level}");
    }
}

#[test]
fn streaming_in_odd_blocks_equals_one_shot() {
    let input = tone(700.0, 44_100, 10_000, 9_000.0);
    let mut a = Resampler::new(44_100, 48_000).unwrap();
    let mut b = Resampler::new(44_100, 48_000).unwrap();
    let whole = run_blocks(&mut a, &input, input.len());
    let pieces = run_blocks(&mut b, &input, 37);
    assert_eq!(whole, pieces);
    let mut tail_a = Vec::new();
    assert_eq!(a.flush(&mut tail_a), a.delay());
}

#[test]
fn equal_rates_copy() {
    let mut r = Resampler::new(48_000, 48_000).unwrap();
    let mut out = Vec::new();
    r.process(&[1, 2, 3], &mut out);
    assert_eq!(out, [1, 2, 3]);
    assert_eq!(r.delay(), 0);
}
