//! Two media sessions in virtual time over a seeded lossy, jittery link: what one side says,
//! the other hears.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use sipher::media::codec::{CodecKind, EncoderConfig};
use sipher::media::session::{MediaOutput, MediaParams, MediaSession, DEVICE_FRAME, DEVICE_RATE};

const A: &str = "127.0.0.1:4000";
const B: &str = "127.0.0.1:5000";

struct Link {
    rng: StdRng,
    delay: Duration,
    jitter_ms: f64,
    loss: f64,
    queue: BinaryHeap<Reverse<(Instant, u64, SocketAddr, SocketAddr, Vec<u8>)>>,
    n: u64,
    lost: u64,
}

impl Link {
    fn send(&mut self, now: Instant, from: SocketAddr, to: SocketAddr, data: Vec<u8>) {
        if self.rng.gen_bool(self.loss) {
            self.lost += 1;
            return;
        }
        // Normal-ish jitter from the sum of uniforms, clamped at zero.
        let j: f64 =
            (0..4).map(|_| self.rng.gen_range(-1.0..1.0)).sum::<f64>() * self.jitter_ms / 1.15;
        let delay = (self.delay.as_secs_f64() * 1000.0 + j).max(0.0);
        self.n += 1;
        self.queue.push(Reverse((
            now + Duration::from_secs_f64(delay / 1000.0),
            self.n,
            from,
            to,
            data,
        )));
    }
}

fn params(codec: CodecKind, pt: u8, remote: &str) -> MediaParams {
    MediaParams {
        codec,
        payload_type: pt,
        remote: remote.parse().unwrap(),
        remote_rtcp: None,
        send: true,
        receive: true,
        telephone_event: Some(101),
        encoder: EncoderConfig::default(),
        require_srtp: false,
        zrtp: None,
    }
}

fn tone(frame: usize, freq: f64) -> Vec<i16> {
    (0..DEVICE_FRAME)
        .map(|i| {
            let t = (frame * DEVICE_FRAME + i) as f64 / f64::from(DEVICE_RATE);
            (8000.0 * (2.0 * std::f64::consts::PI * freq * t).sin()) as i16
        })
        .collect()
}

/// What B got besides audio.
#[derive(Default)]
struct Extras {
    digits: String,
    a_bitrates: Vec<u32>,
}

/// Runs A -> B for `frames` 20 ms frames; returns what B played and B's final quality.
fn run(
    codec: CodecKind,
    pt: u8,
    loss: f64,
    jitter_ms: f64,
    seed: u64,
    frames: usize,
) -> (Vec<i16>, sipher::media::session::QualityFigures) {
    let (heard, q, _) = run_with(codec, pt, loss, jitter_ms, seed, frames, None);
    (heard, q)
}

fn run_with(
    codec: CodecKind,
    pt: u8,
    loss: f64,
    jitter_ms: f64,
    seed: u64,
    frames: usize,
    dtmf: Option<&str>,
) -> (Vec<i16>, sipher::media::session::QualityFigures, Extras) {
    let mut extras = Extras::default();
    let t0 = Instant::now();
    let wall = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    let (a_addr, b_addr): (SocketAddr, SocketAddr) = (A.parse().unwrap(), B.parse().unwrap());
    let mut a =
        MediaSession::new(params(codec, pt, B), t0, &mut StdRng::seed_from_u64(seed)).unwrap();
    let mut b = MediaSession::new(
        params(codec, pt, A),
        t0,
        &mut StdRng::seed_from_u64(seed + 1),
    )
    .unwrap();
    let mut link = Link {
        rng: StdRng::seed_from_u64(seed),
        delay: Duration::from_millis(60),
        jitter_ms,
        loss,
        queue: BinaryHeap::new(),
        n: 0,
        lost: 0,
    };
    let mut heard = Vec::new();
    let mut out = Vec::new();
    for f in 0..frames {
        let now = t0 + Duration::from_millis(20 * f as u64);
        // Deliver everything due by now.
        while link.queue.peek().is_some_and(|Reverse((t, ..))| *t <= now) {
            let Reverse((t, _, from, to, data)) = link.queue.pop().unwrap();
            if to.port() == b_addr.port() || to.port() == b_addr.port() + 1 {
                b.handle_datagram(t, from, &data);
            } else {
                a.handle_datagram(t, from, &data);
            }
        }
        if f == 50 {
            if let Some(d) = dtmf {
                assert!(a.send_dtmf(d), "telephone-event was negotiated");
            }
        }
        a.capture(now, &tone(f, 1000.0));
        b.capture(now, &vec![0; DEVICE_FRAME]);
        b.playout(now, &mut out);
        assert_eq!(
            out.len(),
            DEVICE_FRAME,
            "playout must give exactly one device frame"
        );
        heard.extend_from_slice(&out);
        a.playout(now, &mut out);
        a.handle_timeout(now, wall + Duration::from_millis(20 * f as u64));
        b.handle_timeout(now, wall + Duration::from_millis(20 * f as u64));
        for (s, from) in [(&mut a, a_addr), (&mut b, b_addr)] {
            while let Some(o) = s.poll_output() {
                match o {
                    MediaOutput::Transmit { dest, data }
                    | MediaOutput::TransmitRtcp { dest, data } => link.send(now, from, dest, data),
                    MediaOutput::Dtmf(d) if from == b_addr => extras.digits.push(d),
                    _ => {}
                }
            }
        }
        if extras.a_bitrates.last() != Some(&a.bitrate()) {
            extras.a_bitrates.push(a.bitrate());
        }
    }
    let q = b.quality(t0 + Duration::from_millis(20 * frames as u64));
    (heard, q, extras)
}

/// RMS and dominant frequency (from zero crossings) of the second half of a signal.
fn analyse(pcm: &[i16]) -> (f64, f64) {
    let tail = &pcm[pcm.len() / 2..];
    let rms = (tail.iter().map(|s| f64::from(*s).powi(2)).sum::<f64>() / tail.len() as f64).sqrt();
    let crossings = tail.windows(2).filter(|w| (w[0] < 0) != (w[1] < 0)).count();
    let secs = tail.len() as f64 / f64::from(DEVICE_RATE);
    (rms, crossings as f64 / 2.0 / secs)
}

#[test]
fn a_tone_sent_with_pcmu_arrives_as_the_same_tone() {
    let (heard, q) = run(CodecKind::Pcmu, 0, 0.0, 0.0, 1, 250);
    let (rms, freq) = analyse(&heard);
    assert!(
        rms > 3000.0,
        "B hears the tone loudly enough (rms {rms:.0})"
    );
    assert!(
        (freq - 1000.0).abs() < 30.0,
        "B hears 1 kHz, got {freq:.0} Hz"
    );
    assert_eq!(q.jitter.lost, 0);
    assert!(q.packets_received >= 240, "received {}", q.packets_received);
}

#[test]
fn a_tone_sent_with_opus_arrives_as_the_same_tone() {
    let (heard, q) = run(CodecKind::Opus, 96, 0.0, 0.0, 2, 250);
    let (rms, freq) = analyse(&heard);
    assert!(rms > 3000.0, "B hears the tone (rms {rms:.0})");
    assert!(
        (freq - 1000.0).abs() < 30.0,
        "B hears 1 kHz, got {freq:.0} Hz"
    );
    assert_eq!(q.jitter.lost, 0);
}

#[test]
fn opus_over_a_lossy_jittery_link_keeps_the_tone_and_counts_the_loss() {
    let (heard, q) = run(CodecKind::Opus, 96, 0.05, 20.0, 3, 500);
    let (rms, freq) = analyse(&heard);
    assert!(
        rms > 2500.0,
        "concealment and FEC keep the level (rms {rms:.0})"
    );
    assert!(
        (freq - 1000.0).abs() < 60.0,
        "still 1 kHz, got {freq:.0} Hz"
    );
    let missing = q.jitter.lost + q.jitter.late + q.jitter.concealed;
    assert!(
        missing > 0,
        "the loss is seen by the jitter buffer: {:?}",
        q.jitter
    );
    assert!(q.report.loss_fraction > 0.0, "and reported: {:?}", q.report);
}

#[test]
fn dtmf_digits_arrive_once_each_and_in_order() {
    let (_, _, extras) = run_with(CodecKind::Opus, 96, 0.0, 5.0, 4, 300, Some("159#*0"));
    assert_eq!(extras.digits, "159#*0");
}

#[test]
fn dtmf_survives_loss_of_some_packets() {
    // Each digit goes out as several packets with three end packets: 10 % loss loses no digit.
    let (_, _, extras) = run_with(CodecKind::Pcmu, 0, 0.10, 5.0, 5, 300, Some("2468"));
    assert_eq!(extras.digits, "2468");
}

#[test]
fn opus_bitrate_steps_down_when_the_peer_reports_heavy_loss() {
    // 30 s at 12 % loss: RTCP reports (every ~5 s) drive the bitrate down from 32 kbit/s.
    let (_, _, extras) = run_with(CodecKind::Opus, 96, 0.12, 10.0, 6, 1500, None);
    let first = extras.a_bitrates[0];
    let last = *extras.a_bitrates.last().unwrap();
    assert_eq!(first, 32_000);
    assert!(last < first, "bitrate went {:?}", extras.a_bitrates);
}

#[test]
fn clean_link_keeps_the_full_opus_bitrate() {
    let (_, _, extras) = run_with(CodecKind::Opus, 96, 0.0, 5.0, 7, 1500, None);
    assert_eq!(extras.a_bitrates, vec![32_000]);
}

#[test]
fn zrtp_secures_the_stream_with_the_same_sas_on_both_sides_and_the_tone_still_arrives() {
    use sipher::zrtp::message::Zid;
    use sipher::zrtp::session::ZrtpConfig;
    let t0 = Instant::now();
    let wall = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    let (a_addr, b_addr): (SocketAddr, SocketAddr) = (A.parse().unwrap(), B.parse().unwrap());
    let mut pa = params(CodecKind::Opus, 96, B);
    pa.zrtp = Some(ZrtpConfig::new(Zid([1; 12])));
    pa.require_srtp = true;
    let mut pb = params(CodecKind::Opus, 96, A);
    pb.zrtp = Some(ZrtpConfig::new(Zid([2; 12])));
    pb.require_srtp = true;
    let mut a = MediaSession::new(pa, t0, &mut StdRng::seed_from_u64(11)).unwrap();
    let mut b = MediaSession::new(pb, t0, &mut StdRng::seed_from_u64(12)).unwrap();
    let (mut sas_a, mut sas_b) = (None, None);
    let mut heard = Vec::new();
    let mut out = Vec::new();
    let mut clear_before_secure = 0;
    for f in 0..300u64 {
        let now = t0 + Duration::from_millis(20 * f);
        a.capture(now, &tone(f as usize, 1000.0));
        b.capture(now, &vec![0; DEVICE_FRAME]);
        b.playout(now, &mut out);
        heard.extend_from_slice(&out);
        a.playout(now, &mut out);
        a.handle_timeout(now, wall);
        b.handle_timeout(now, wall);
        // An ideal link: deliver at once.
        let mut moved = true;
        while moved {
            moved = false;
            while let Some(o) = a.poll_output() {
                moved = true;
                match o {
                    MediaOutput::Transmit { data, .. } | MediaOutput::TransmitRtcp { data, .. } => {
                        if sas_a.is_none() && !sipher::zrtp::packet::is_zrtp(&data) {
                            clear_before_secure += 1;
                        }
                        b.handle_datagram(now, a_addr, &data)
                    }
                    MediaOutput::ZrtpSecure(info) => sas_a = Some(info.sas.clone()),
                    MediaOutput::ZrtpFailed(why) => panic!("A failed: {why}"),
                    _ => {}
                }
            }
            while let Some(o) = b.poll_output() {
                moved = true;
                match o {
                    MediaOutput::Transmit { data, .. } | MediaOutput::TransmitRtcp { data, .. } => {
                        a.handle_datagram(now, b_addr, &data)
                    }
                    MediaOutput::ZrtpSecure(info) => sas_b = Some(info.sas.clone()),
                    MediaOutput::ZrtpFailed(why) => panic!("B failed: {why}"),
                    _ => {}
                }
            }
        }
    }
    assert!(sas_a.is_some(), "A reached Secure");
    assert_eq!(sas_a, sas_b, "both show the same SAS");
    assert_eq!(
        clear_before_secure, 0,
        "no media left A before ZRTP was secure"
    );
    let (rms, freq) = analyse(&heard);
    assert!(
        rms > 3000.0 && (freq - 1000.0).abs() < 30.0,
        "B hears the tone through SRTP: {rms:.0} {freq:.0}"
    );
}

#[test]
fn the_first_zrtp_hello_leaves_as_soon_as_the_session_starts() {
    use sipher::zrtp::message::Zid;
    use sipher::zrtp::session::ZrtpConfig;
    #[allow(clippy::disallowed_methods)] // the time origin
    let t0 = Instant::now();
    let mut p = params(CodecKind::Pcmu, 0, B);
    p.zrtp = Some(ZrtpConfig::new(Zid([1; 12])));
    let mut s = MediaSession::new(p, t0, &mut StdRng::seed_from_u64(3)).unwrap();
    let first = s.poll_output();
    let Some(MediaOutput::Transmit { data, .. }) = first else {
        panic!("nothing to send at start: {first:?}");
    };
    assert!(sipher::zrtp::packet::is_zrtp(&data));
    assert_eq!(&data[16..24], b"Hello   ", "the first packet is our Hello");
}
