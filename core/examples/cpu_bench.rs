//! CPU per call-minute of the voice path, and of the codecs alone. Prints a table.
//!
//!     cargo run --release --example cpu_bench [-- MINUTES]
//!
//! "Media path" is one phone's share of a call: capture -> resample -> encode -> RTP, and
//! RTP -> jitter buffer -> decode -> resample -> playout, plus RTCP, for one minute of audio
//! in each direction (both sessions of a pair are run and the total halved). Time is measured
//! single-threaded in a tight loop (virtual time, no sleeping), so wall time is CPU time.

use std::time::{Duration, Instant, SystemTime};

use sipher::audio::{AudioSource, ToneSource};
use sipher::media::codec::{new_decoder, new_encoder, CodecKind, EncoderConfig};
use sipher::media::session::{MediaOutput, MediaParams, MediaSession, DEVICE_FRAME};

fn main() {
    let minutes: u32 = std::env::args()
        .nth(1)
        .and_then(|m| m.parse().ok())
        .unwrap_or(1);
    let frames = minutes as usize * 3000;
    println!("CPU per call-minute, {minutes} minute(s) of audio per row, release build, one core");
    println!(
        "{:<34} {:>14} {:>12}",
        "what", "ms per minute", "% of a core"
    );
    for (codec, pt, name) in [
        (CodecKind::Opus, 96, "media path, Opus 32 kbit/s"),
        (CodecKind::Pcmu, 0, "media path, PCMU"),
    ] {
        let t = media_path(codec, pt, frames);
        row(name, t, minutes);
    }
    for (codec, name) in [
        (CodecKind::Opus, "libopus encode+decode alone"),
        (CodecKind::Pcmu, "G.711 encode+decode alone"),
    ] {
        let t = codec_only(codec, frames);
        row(name, t, minutes);
    }
}

fn row(name: &str, t: Duration, minutes: u32) {
    let per_min = t.as_secs_f64() * 1000.0 / f64::from(minutes);
    println!("{name:<34} {per_min:>14.1} {:>12.3}", per_min / 600.0);
}

fn media_path(codec: CodecKind, pt: u8, frames: usize) -> Duration {
    let params = |remote: &str| MediaParams {
        codec,
        payload_type: pt,
        remote: remote.parse().expect("literal address"),
        remote_rtcp: None,
        send: true,
        receive: true,
        telephone_event: Some(101),
        encoder: EncoderConfig::default(),
        require_srtp: false,
        zrtp: None,
    };
    let t0 = Instant::now();
    let mut a = MediaSession::new(
        params("127.0.0.1:2"),
        t0,
        &mut <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(1),
    )
    .expect("session");
    let mut b = MediaSession::new(
        params("127.0.0.1:1"),
        t0,
        &mut <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(2),
    )
    .expect("session");
    let mut src_a = ToneSource::new(440.0, 8000);
    let mut src_b = ToneSource::new(620.0, 8000);
    let (mut fa, mut fb) = (vec![0i16; DEVICE_FRAME], vec![0i16; DEVICE_FRAME]);
    let mut out = Vec::with_capacity(DEVICE_FRAME);
    let start = Instant::now();
    for f in 0..frames {
        let now = t0 + Duration::from_millis(20 * f as u64);
        let wall = SystemTime::UNIX_EPOCH + Duration::from_millis(20 * f as u64);
        src_a.read_frame(&mut fa);
        src_b.read_frame(&mut fb);
        a.capture(now, &fa);
        b.capture(now, &fb);
        let mut to_b = Vec::new();
        let mut to_a = Vec::new();
        while let Some(o) = a.poll_output() {
            if let MediaOutput::Transmit { data, .. } | MediaOutput::TransmitRtcp { data, .. } = o {
                to_b.push(data);
            }
        }
        while let Some(o) = b.poll_output() {
            if let MediaOutput::Transmit { data, .. } | MediaOutput::TransmitRtcp { data, .. } = o {
                to_a.push(data);
            }
        }
        for d in to_b {
            b.handle_datagram(now, "127.0.0.1:1".parse().expect("literal"), &d);
        }
        for d in to_a {
            a.handle_datagram(now, "127.0.0.1:2".parse().expect("literal"), &d);
        }
        a.playout(now, &mut out);
        b.playout(now, &mut out);
        a.handle_timeout(now, wall);
        b.handle_timeout(now, wall);
    }
    start.elapsed() / 2
}

fn codec_only(codec: CodecKind, frames: usize) -> Duration {
    let mut enc = new_encoder(codec, &EncoderConfig::default()).expect("encoder");
    let mut dec = new_decoder(codec).expect("decoder");
    let n = codec.frame_samples(20);
    let mut src = ToneSource::new(440.0, 8000);
    let mut frame48 = vec![0i16; DEVICE_FRAME];
    let mut pcm = Vec::with_capacity(n);
    let (mut payload, mut out) = (Vec::with_capacity(1500), Vec::with_capacity(n));
    let start = Instant::now();
    for _ in 0..frames {
        src.read_frame(&mut frame48);
        pcm.clear();
        pcm.extend(frame48.iter().step_by(DEVICE_FRAME / n).take(n));
        payload.clear();
        enc.encode(&pcm, &mut payload).expect("encode");
        out.clear();
        dec.decode(&payload, &mut out).expect("decode");
    }
    start.elapsed()
}
