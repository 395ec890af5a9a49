//! G.711 against its code tables, and G.711 concealment as a listener would notice it.

use sipher::media::codec::{
    alaw_to_linear, linear_to_alaw, linear_to_ulaw, new_decoder, new_encoder, ulaw_to_linear,
    CodecKind, EncoderConfig,
};

#[test]
fn every_code_decodes_and_reencodes_to_itself() {
    for code in 0..=255u8 {
        let u = ulaw_to_linear(code);
        // µ-law has two zeros (0x7F is -0); both encode as +0.
        let expect = if code == 0x7F { 0xFF } else { code };
        assert_eq!(linear_to_ulaw(u), expect, "µ-law code {code:#04x} -> {u}");
        assert_eq!(
            linear_to_alaw(alaw_to_linear(code)),
            code,
            "A-law code {code:#04x}"
        );
    }
}

#[test]
fn decoded_tables_are_monotonic_and_symmetric() {
    // µ-law codes 0x80..=0xFF run from +32124 down to 0; 0x00..=0x7F mirror them.
    for c in 0x80..0xFFu8 {
        assert!(ulaw_to_linear(c) > ulaw_to_linear(c + 1));
        assert_eq!(ulaw_to_linear(c), -ulaw_to_linear(c & 0x7F));
    }
    // A-law: flipping the sign bit negates; segments grow with the even-bit-inverted code.
    for c in 0..=255u8 {
        assert_eq!(alaw_to_linear(c), -alaw_to_linear(c ^ 0x80));
    }
    let positive: Vec<i16> = (0..128u8)
        .map(|c| alaw_to_linear((c ^ 0x55) | 0x80))
        .collect();
    assert!(positive.windows(2).all(|w| w[0] < w[1]));
}

#[test]
fn quantisation_error_stays_within_the_segment_step() {
    for x in i16::MIN..=i16::MAX {
        let mag = i32::from(x).abs();
        let ue = (i32::from(ulaw_to_linear(linear_to_ulaw(x))) - i32::from(x)).abs();
        let ae = (i32::from(alaw_to_linear(linear_to_alaw(x))) - i32::from(x)).abs();
        // Both laws are logarithmic: about 4 bits of mantissa, so under 1/16 of the magnitude,
        // with a floor of a few LSBs near zero and clipping above the largest code.
        if mag <= 32_000 {
            assert!(ue <= mag / 16 + 8, "µ-law {x}: error {ue}");
            assert!(ae <= mag / 16 + 16, "A-law {x}: error {ae}");
        }
    }
}

#[test]
fn codec_round_trip_of_a_frame() {
    for kind in [CodecKind::Pcmu, CodecKind::Pcma] {
        let mut enc = new_encoder(kind, &EncoderConfig::default()).unwrap();
        let mut dec = new_decoder(kind).unwrap();
        let pcm: Vec<i16> = (0..160)
            .map(|i| ((i as f32 * 0.3).sin() * 12_000.0) as i16)
            .collect();
        let mut payload = Vec::new();
        enc.encode(&pcm, &mut payload).unwrap();
        assert_eq!(payload.len(), 160);
        let mut out = vec![7, 7]; // decode appends
        assert_eq!(dec.decode(&payload, &mut out).unwrap(), 160);
        assert_eq!(&out[..2], &[7, 7]);
        let err = pcm
            .iter()
            .zip(&out[2..])
            .map(|(&a, &b)| (a - b).abs())
            .max()
            .unwrap();
        assert!(err < 12_000 / 16, "{kind:?} max error {err}");
        let mut fec = Vec::new();
        assert!(
            !dec.decode_fec(&payload, 160, &mut fec).unwrap(),
            "G.711 has no FEC"
        );
    }
}

#[test]
fn lost_frames_are_concealed_with_bounded_decaying_audio() {
    let mut enc = new_encoder(CodecKind::Pcmu, &EncoderConfig::default()).unwrap();
    let mut dec = new_decoder(CodecKind::Pcmu).unwrap();
    // A 125 Hz voiced-like wave (pitch period 8 ms).
    let wave = |i: usize| {
        let ph = i as f32 * std::f32::consts::TAU * 125.0 / 8000.0;
        (9000.0 * ph.sin() + 3000.0 * (3.0 * ph).sin()) as i16
    };
    let mut out = Vec::new();
    let mut payload = Vec::new();
    for f in 0..5 {
        let pcm: Vec<i16> = (f * 160..(f + 1) * 160).map(wave).collect();
        payload.clear();
        enc.encode(&pcm, &mut payload).unwrap();
        dec.decode(&payload, &mut out).unwrap();
    }
    let peak = out.iter().map(|s| s.unsigned_abs()).max().unwrap();
    let mut hidden = Vec::new();
    for _ in 0..4 {
        assert_eq!(dec.conceal(160, &mut hidden).unwrap(), 160);
    }
    // Bounded by what was heard, loud at first (no gap), then fading to silence by 60 ms.
    assert!(hidden.iter().all(|s| s.unsigned_abs() <= peak));
    let energy = |s: &[i16]| s.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>() / s.len() as f64;
    let first = energy(&hidden[..80]);
    assert!(
        first > 0.5 * energy(&out[640..800]),
        "first 10 ms keep the level"
    );
    let e: Vec<f64> = hidden.chunks(80).map(energy).collect();
    assert!(e.windows(2).skip(1).all(|w| w[1] <= w[0]), "decays: {e:?}");
    assert!(hidden[480..].iter().all(|&s| s == 0), "silent after 60 ms");
    // Recovery: the next good frame is blended in, not clicked in.
    payload.clear();
    let pcm: Vec<i16> = (1460..1620).map(wave).collect(); // starts near -7000
    enc.encode(&pcm, &mut payload).unwrap();
    let mut back = Vec::new();
    dec.decode(&payload, &mut back).unwrap();
    assert!(
        back[0].unsigned_abs() < 2000,
        "starts from the faded state, got {}",
        back[0]
    );
    assert!(back[100..]
        .iter()
        .zip(&pcm[100..])
        .all(|(a, b)| (a - b).abs() < 600));
}
