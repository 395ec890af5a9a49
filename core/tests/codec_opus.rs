//! Opus through libopus: a voice-like signal survives encode/decode, a dropped frame comes back
//! from the next packet's in-band FEC, DTX shrinks silence, bad input is refused with typed errors.
#![cfg(feature = "opus")]

use sipher::media::codec::{new_decoder, new_encoder, CodecError, CodecKind, EncoderConfig};

const FRAME: usize = 960;

/// Voice-like syllables: a 150 Hz fundamental with falling harmonics and a gliding pitch, in four
/// bursts a second (a steady tone would look like background noise to the encoder's VAD).
fn voice(i: usize) -> i16 {
    let t = i as f32 / 48_000.0;
    let f0 = 150.0 + 20.0 * (t * 3.0).sin();
    let mut s = 0.0;
    for h in 1..=8 {
        s += (t * f0 * h as f32 * std::f32::consts::TAU).sin() / h as f32;
    }
    let envelope = (t * 4.0 * std::f32::consts::PI).sin().powi(2);
    (s * 6000.0 * envelope) as i16
}

/// Best normalised correlation of `b` against `a` over lags 0..max_lag (b runs late).
fn best_correlation(a: &[i16], b: &[i16], max_lag: usize) -> (usize, f64) {
    let mut best = (0, f64::MIN);
    for lag in 0..max_lag {
        let n = a.len().min(b.len() - lag);
        let (mut ab, mut aa, mut bb) = (0.0, 0.0, 0.0);
        for i in 0..n {
            let (x, y) = (f64::from(a[i]), f64::from(b[i + lag]));
            ab += x * y;
            aa += x * x;
            bb += y * y;
        }
        let c = ab / (aa * bb).sqrt().max(1.0);
        if c > best.1 {
            best = (lag, c);
        }
    }
    best
}

fn encode_all(cfg: &EncoderConfig, frames: usize) -> (Vec<i16>, Vec<Vec<u8>>) {
    let mut enc = new_encoder(CodecKind::Opus, cfg).unwrap();
    let pcm: Vec<i16> = (0..frames * FRAME).map(voice).collect();
    let packets = pcm
        .chunks(FRAME)
        .map(|f| {
            let mut p = Vec::new();
            enc.encode(f, &mut p).unwrap();
            p
        })
        .collect();
    (pcm, packets)
}

#[test]
fn voice_survives_a_round_trip() {
    let (pcm, packets) = encode_all(&EncoderConfig::default(), 50);
    let mut dec = new_decoder(CodecKind::Opus).unwrap();
    let mut out = Vec::new();
    for p in &packets {
        assert!(
            p.len() > 10 && p.len() < 200,
            "24 kbit/s is about 60 bytes, got {}",
            p.len()
        );
        assert_eq!(dec.decode(p, &mut out).unwrap(), FRAME);
    }
    // Skip the first 200 ms while the encoder settles; the codec delay is a few ms.
    let (lag, corr) = best_correlation(&pcm[9600..40_000], &out[9600..], 1000);
    assert!(corr > 0.9, "correlation {corr} at lag {lag}");
    assert!(lag < 600, "codec delay {lag} samples");
}

#[test]
fn dropped_frame_is_recovered_from_the_next_packets_fec() {
    let cfg = EncoderConfig {
        fec: true,
        expected_loss_pct: 20,
        ..EncoderConfig::default()
    };
    let (pcm, packets) = encode_all(&cfg, 40);
    let lost = 30;
    let mut dec = new_decoder(CodecKind::Opus).unwrap();
    let mut out = Vec::new();
    for p in &packets[..lost] {
        dec.decode(p, &mut out).unwrap();
    }
    let before = out.len();
    assert!(
        dec.decode_fec(&packets[lost + 1], FRAME, &mut out).unwrap(),
        "FEC data present"
    );
    assert_eq!(out.len() - before, FRAME);
    dec.decode(&packets[lost + 1], &mut out).unwrap();
    // The recovered frame resembles what was sent (FEC is a coarser copy of it), clearly better
    // than plain concealment does (about 0.7 on this signal).
    let sent = &pcm[lost * FRAME..(lost + 1) * FRAME];
    let (_, corr) = best_correlation(&sent[..FRAME - 600], &out[before..], 600);
    assert!(corr > 0.85, "recovered frame correlation {corr}");

    // Without FEC in the stream there is nothing to recover from.
    let (_, plain) = encode_all(&EncoderConfig { fec: false, ..cfg }, 40);
    let mut dec = new_decoder(CodecKind::Opus).unwrap();
    for p in &plain[..lost] {
        dec.decode(p, &mut Vec::new()).unwrap();
    }
    assert!(!dec
        .decode_fec(&plain[lost + 1], FRAME, &mut Vec::new())
        .unwrap());
}

#[test]
fn concealment_fills_a_frame_and_fades() {
    let (_, packets) = encode_all(&EncoderConfig::default(), 20);
    let mut dec = new_decoder(CodecKind::Opus).unwrap();
    let mut out = Vec::new();
    for p in &packets {
        dec.decode(p, &mut out).unwrap();
    }
    let mut hidden = Vec::new();
    for _ in 0..10 {
        assert_eq!(dec.conceal(FRAME, &mut hidden).unwrap(), FRAME);
    }
    let energy = |s: &[i16]| s.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>();
    assert!(
        energy(&hidden[..FRAME]) > 0.0,
        "the first lost frame is not silence"
    );
    assert!(
        energy(&hidden[9 * FRAME..]) < 0.1 * energy(&hidden[..FRAME]),
        "long loss fades"
    );
    assert_eq!(
        dec.conceal(1000, &mut hidden),
        Err(CodecError::BadConcealLength(1000))
    );
}

#[test]
fn dtx_shrinks_silence() {
    let cfg = EncoderConfig {
        dtx: true,
        ..EncoderConfig::default()
    };
    let mut enc = new_encoder(CodecKind::Opus, &cfg).unwrap();
    let silence = vec![0i16; FRAME];
    let mut sizes = Vec::new();
    for _ in 0..30 {
        let mut p = Vec::new();
        enc.encode(&silence, &mut p).unwrap();
        sizes.push(p.len());
    }
    assert!(sizes[10..].iter().all(|&n| n <= 2), "DTX frames: {sizes:?}");
}

#[test]
fn settings_and_bad_input() {
    let mut enc = new_encoder(CodecKind::Opus, &EncoderConfig::default()).unwrap();
    assert_eq!(enc.kind(), CodecKind::Opus);
    let mut p = Vec::new();
    let err = enc.encode(&[0; 480], &mut p);
    assert_eq!(
        err,
        Err(CodecError::BadFrameSize {
            expected: 960,
            got: 480
        })
    );
    // A higher bitrate gives bigger packets for the same audio.
    let pcm: Vec<i16> = (0..FRAME * 10).map(voice).collect();
    let total = |enc: &mut Box<dyn sipher::media::codec::Encoder>| {
        let mut n = 0;
        for f in pcm.chunks(FRAME) {
            let mut p = Vec::new();
            enc.encode(f, &mut p).unwrap();
            n += p.len();
        }
        n
    };
    enc.set_bitrate(12_000);
    let low = total(&mut enc);
    enc.set_bitrate(64_000);
    let high = total(&mut enc);
    assert!(high > 2 * low, "12k: {low} bytes, 64k: {high} bytes");

    let bad = EncoderConfig {
        frame_ms: 25,
        ..EncoderConfig::default()
    };
    assert!(matches!(
        new_encoder(CodecKind::Opus, &bad),
        Err(CodecError::InvalidConfig(_))
    ));
    let mut dec = new_decoder(CodecKind::Opus).unwrap();
    let mut out = Vec::new();
    assert!(matches!(
        dec.decode(&[], &mut out),
        Err(CodecError::MalformedPayload(_))
    ));
    // Code 3 packet announcing zero frames (RFC 6716 §3.2.5 forbids M = 0).
    assert!(matches!(
        dec.decode(&[0x03, 0x00], &mut out),
        Err(CodecError::MalformedPayload(_))
    ));
    assert!(out.is_empty());
}
