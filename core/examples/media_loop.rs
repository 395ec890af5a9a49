//! Offline check of the voice path: a WAV file through two media sessions in virtual time (no
//! network impairment), written to another WAV for scoring (scripts/bench/score.py).
//!
//!     cargo run --release --example media_loop -- IN.wav OUT.wav [opus|pcmu|pcma]

use std::time::{Duration, Instant, SystemTime};

use sipher::audio::{AudioSink, AudioSource, WavSink, WavSource};
use sipher::media::codec::{CodecKind, EncoderConfig};
use sipher::media::session::{MediaOutput, MediaParams, MediaSession, DEVICE_FRAME};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (input, output) = (&args[1], &args[2]);
    let (codec, pt) = match args.get(3).map(String::as_str) {
        Some("pcmu") => (CodecKind::Pcmu, 0),
        Some("pcma") => (CodecKind::Pcma, 8),
        _ => (CodecKind::Opus, 96),
    };
    let params = |remote: &str| MediaParams {
        codec,
        payload_type: pt,
        remote: remote.parse().unwrap(),
        remote_rtcp: None,
        send: true,
        receive: true,
        telephone_event: None,
        encoder: EncoderConfig {
            bitrate: std::env::var("BITRATE")
                .ok()
                .and_then(|b| b.parse().ok())
                .unwrap_or(EncoderConfig::default().bitrate),
            ..EncoderConfig::default()
        },
        require_srtp: false,
        zrtp: None,
    };
    let t0 = Instant::now();
    let mut a = MediaSession::new(
        params("127.0.0.1:2"),
        t0,
        &mut <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(1),
    )
    .unwrap();
    let mut b = MediaSession::new(
        params("127.0.0.1:1"),
        t0,
        &mut <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(2),
    )
    .unwrap();
    let mut src = WavSource::open(input).unwrap();
    let mut sink = WavSink::create(output, 48_000).unwrap();
    let mut frame = vec![0i16; DEVICE_FRAME];
    let mut out = Vec::new();
    let mut f = 0u64;
    let mut tail = 0;
    while tail < 25 {
        let now = t0 + Duration::from_millis(20 * f);
        if !src.read_frame(&mut frame) {
            frame.iter_mut().for_each(|s| *s = 0);
            tail += 1;
        }
        a.capture(now, &frame);
        while let Some(o) = a.poll_output() {
            if let MediaOutput::Transmit { data, .. } | MediaOutput::TransmitRtcp { data, .. } = o {
                b.handle_datagram(
                    now + Duration::from_millis(1),
                    "127.0.0.1:1".parse().unwrap(),
                    &data,
                );
            }
        }
        b.playout(now + Duration::from_millis(10), &mut out);
        sink.write_frame(&out);
        a.handle_timeout(now, SystemTime::UNIX_EPOCH);
        f += 1;
    }
    sink.finish().unwrap();
    eprintln!("{:?}", b.quality(t0 + Duration::from_millis(20 * f)).jitter);
}
