//! WAV files as audio devices: what is recorded plays back, foreign formats come out as 48 kHz
//! mono of the right length, and the loop/silence options shape playback.

use std::path::PathBuf;

use sipher::audio::{
    AudioError, AudioSink, AudioSource, NullSink, NullSource, ToneSource, WavSink, WavSource,
    WavSourceOptions, DEVICE_RATE, FRAME_SAMPLES,
};

/// A fresh path in the system temp dir, unique per process and test.
fn temp_wav(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sipher-audio-wav-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(format!("{name}.wav"))
}

/// Plays a source to its end (at most `max_frames`) and returns all samples.
fn drain(src: &mut dyn AudioSource, max_frames: usize) -> (Vec<i16>, usize) {
    let mut all = Vec::new();
    let mut frame = [0i16; FRAME_SAMPLES];
    for n in 0..max_frames {
        if !src.read_frame(&mut frame) {
            assert!(frame.iter().all(|&s| s == 0), "end of stream is silent");
            return (all, n);
        }
        all.extend_from_slice(&frame);
    }
    (all, max_frames)
}

/// Amplitude of `freq` in `s` at 48 kHz (single-bin DFT).
fn level_at(s: &[i16], freq: f64) -> f64 {
    let (mut re, mut im) = (0.0, 0.0);
    for (i, &x) in s.iter().enumerate() {
        let ph = std::f64::consts::TAU * freq * i as f64 / f64::from(DEVICE_RATE);
        re += f64::from(x) * ph.cos();
        im += f64::from(x) * ph.sin();
    }
    2.0 * (re * re + im * im).sqrt() / s.len() as f64
}

#[test]
fn recording_plays_back_sample_for_sample() {
    let path = temp_wav("roundtrip");
    let mut tone = ToneSource::new(1000.0, 12_000);
    let mut sent = Vec::new();
    let mut sink = WavSink::create(&path, DEVICE_RATE).unwrap();
    let mut frame = [0i16; FRAME_SAMPLES];
    for _ in 0..50 {
        assert!(tone.read_frame(&mut frame));
        sink.write_frame(&frame);
        sent.extend_from_slice(&frame);
    }
    sink.finish().unwrap();
    sink.finish().unwrap(); // idempotent

    let mut src = WavSource::open(&path).unwrap();
    assert_eq!(src.file_rate(), DEVICE_RATE);
    let (got, frames) = drain(&mut src, 1000);
    assert_eq!(frames, 50);
    assert_eq!(got, sent);
}

#[test]
fn recording_at_16k_is_resampled_both_ways() {
    let path = temp_wav("rec16k");
    let mut sink = WavSink::create(&path, 16_000).unwrap();
    let mut tone = ToneSource::new(1000.0, 10_000);
    let mut frame = [0i16; FRAME_SAMPLES];
    for _ in 0..50 {
        tone.read_frame(&mut frame);
        sink.write_frame(&frame);
    }
    sink.finish().unwrap();
    let reader = hound::WavReader::open(&path).unwrap();
    assert_eq!(reader.spec().sample_rate, 16_000);
    assert_eq!(reader.spec().channels, 1);
    assert_eq!(
        reader.duration(),
        16_000,
        "one second of audio, not more, not less"
    );

    let (got, frames) = drain(&mut WavSource::open(&path).unwrap(), 1000);
    assert_eq!(frames, 50);
    let level = level_at(&got[4_800..43_200], 1000.0);
    assert!((level - 10_000.0).abs() < 200.0, "1 kHz level {level}");
    // On time: the resampler delay is compensated, so the tone's phase lines up with the original.
    let mut reference = ToneSource::new(1000.0, 10_000);
    let mut ref_frame = [0i16; FRAME_SAMPLES];
    let mut err = 0.0;
    for (i, chunk) in got.chunks(FRAME_SAMPLES).enumerate() {
        reference.read_frame(&mut ref_frame);
        if (5..45).contains(&i) {
            err += chunk
                .iter()
                .zip(&ref_frame)
                .map(|(&a, &b)| f64::from(a - b).abs())
                .sum::<f64>();
        }
    }
    let mean_err = err / (40.0 * FRAME_SAMPLES as f64);
    assert!(
        mean_err < 300.0,
        "mean error against the original {mean_err}"
    );
}

#[test]
fn stereo_44k1_file_is_read_as_mono_48k_of_the_right_length() {
    let path = temp_wav("stereo441");
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: 44_100,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(&path, spec).unwrap();
    // 1.5 s: left a 1 kHz tone, right silent, so the mono mix is the tone at half level.
    for i in 0..66_150 {
        let s = (8000.0 * (std::f64::consts::TAU * 1000.0 * i as f64 / 44_100.0).sin()) as i16;
        w.write_sample(s).unwrap();
        w.write_sample(0i16).unwrap();
    }
    w.finalize().unwrap();

    let mut src = WavSource::open(&path).unwrap();
    assert_eq!(src.file_rate(), 44_100);
    let (got, frames) = drain(&mut src, 1000);
    assert_eq!(frames, 75, "1.5 s is 75 frames of 20 ms");
    assert_eq!(got.len(), 72_000);
    let level = level_at(&got[4_800..67_200], 1000.0);
    assert!((level - 4_000.0).abs() < 100.0, "mono level {level}");
}

#[test]
fn silence_options_and_looping_shape_playback() {
    let path = temp_wav("loop");
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: DEVICE_RATE,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(&path, spec).unwrap();
    for _ in 0..9_600 {
        w.write_sample(1000i16).unwrap(); // 200 ms of DC
    }
    w.finalize().unwrap();

    let options = WavSourceOptions {
        looping: false,
        lead_silence_ms: 100,
        tail_silence_ms: 60,
    };
    let (got, frames) = drain(
        &mut WavSource::open_with(&path, options.clone()).unwrap(),
        100,
    );
    assert_eq!(got.len(), 4_800 + 9_600 + 2_880, "lead + file + tail");
    assert_eq!(frames, 18);
    assert!(got[..4_800].iter().all(|&s| s == 0));
    assert!(got[4_800..14_400].iter().all(|&s| s == 1000));
    assert!(got[14_400..].iter().all(|&s| s == 0));

    let looping = WavSourceOptions {
        looping: true,
        ..options
    };
    let (got, frames) = drain(&mut WavSource::open_with(&path, looping).unwrap(), 100);
    assert_eq!(frames, 100, "a looping file never ends");
    // Period: 200 ms of file + 60 ms of silence, after the 100 ms lead.
    for pass in 0..5 {
        let start = 4_800 + pass * (9_600 + 2_880);
        assert!(
            got[start..start + 9_600].iter().all(|&s| s == 1000),
            "pass {pass}"
        );
        assert!(
            got[start + 9_600..start + 12_480].iter().all(|&s| s == 0),
            "gap {pass}"
        );
    }
}

#[test]
fn other_sample_formats_are_scaled_to_16_bits() {
    let path = temp_wav("formats");
    for (bits, format, value, expect) in [
        (
            24u16,
            hound::SampleFormat::Int,
            f64::from(0x12_3456),
            0x1234,
        ),
        (8, hound::SampleFormat::Int, f64::from(0x12), 0x1200),
        (32, hound::SampleFormat::Float, 0.25, 0x2000),
    ] {
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: DEVICE_RATE,
            bits_per_sample: bits,
            sample_format: format,
        };
        let mut w = hound::WavWriter::create(&path, spec).unwrap();
        for _ in 0..960 {
            match format {
                hound::SampleFormat::Int if bits == 8 => w.write_sample(value as i8).unwrap(),
                hound::SampleFormat::Int => w.write_sample(value as i32).unwrap(),
                hound::SampleFormat::Float => w.write_sample(value as f32).unwrap(),
            }
        }
        w.finalize().unwrap();
        let (got, _) = drain(&mut WavSource::open(&path).unwrap(), 10);
        assert_eq!(got.len(), 960);
        assert!(got.iter().all(|&s| s == expect), "{bits}-bit: {}", got[0]);
    }
}

#[test]
fn missing_file_and_dropped_sink() {
    let missing = temp_wav("does-not-exist");
    let _ = std::fs::remove_file(&missing);
    assert!(matches!(WavSource::open(&missing), Err(AudioError::Io(_))));

    // A sink dropped without `finish` still leaves a readable file with everything written.
    let path = temp_wav("dropped");
    {
        let mut sink = WavSink::create(&path, DEVICE_RATE).unwrap();
        for _ in 0..3 {
            sink.write_frame(&[500; FRAME_SAMPLES]);
        }
    }
    assert_eq!(
        hound::WavReader::open(&path).unwrap().duration(),
        3 * FRAME_SAMPLES as u32
    );
}

#[test]
fn null_devices() {
    let mut frame = [5i16; FRAME_SAMPLES];
    assert!(NullSource.read_frame(&mut frame));
    assert!(frame.iter().all(|&s| s == 0));
    let mut sink = NullSink::default();
    sink.write_frame(&frame);
    sink.write_frame(&frame);
    assert_eq!(sink.samples(), 2 * FRAME_SAMPLES as u64);
    sink.finish().unwrap();
}
