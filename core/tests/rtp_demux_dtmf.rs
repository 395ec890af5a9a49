//! Classifying datagrams on the RTP port, and DTMF as RFC 4733 telephone-events end to end:
//! sender packets through RTP, the receiver reporting each digit once despite loss and
//! retransmission.
// The tests' virtual-time origin is the one clock read.
#![allow(clippy::disallowed_methods)]

use std::time::{Duration, Instant};

use sipher::media::demux::{classify, PacketKind};
use sipher::media::dtmf::{
    digit_packets, DtmfError, DtmfReceiver, DtmfSender, ReceivedDigit, TelephoneEvent,
    DEFAULT_VOLUME,
};
use sipher::media::rtcp::{write_compound, ReceiverReport, RtcpPacket};
use sipher::media::rtp::{MediaTime, RtpPacket, RtpSender, Ssrc};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn sender() -> RtpSender {
    RtpSender::with_ssrc(Ssrc(0x5eed), &mut rand::rngs::mock::StepRng::new(77, 13))
}

#[test]
fn demux_tells_rtp_rtcp_zrtp_and_stun_apart() {
    let rtp = sender()
        .packet(111, true, MediaTime::new(0, 48_000), vec![1, 2, 3])
        .to_bytes();
    assert_eq!(classify(&rtp), PacketKind::Rtp);
    let rr = RtcpPacket::ReceiverReport(ReceiverReport {
        ssrc: Ssrc(1),
        reports: vec![],
    });
    assert_eq!(classify(&write_compound(&[rr]).unwrap()), PacketKind::Rtcp);

    // ZRTP: 0x10, a sequence number, then the magic cookie "ZRTP" (RFC 6189 §5).
    let mut zrtp = vec![0x10, 0x00, 0x00, 0x01, 0x5a, 0x52, 0x54, 0x50, 0, 0, 0, 1];
    zrtp.extend_from_slice(&[
        0x50, 0x5a, 0, 3, b'H', b'e', b'l', b'l', b'o', b' ', b' ', b' ',
    ]);
    assert_eq!(classify(&zrtp), PacketKind::Zrtp);
    let mut not_zrtp = zrtp.clone();
    not_zrtp[7] = 0x51;
    assert_eq!(classify(&not_zrtp), PacketKind::Unknown);

    // STUN binding request: type 0x0001, length 0, magic cookie, transaction id.
    let mut stun = vec![0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42];
    stun.extend_from_slice(&[7; 12]);
    assert_eq!(classify(&stun), PacketKind::Stun);

    // DTLS handshake (first byte 22), TURN channel data (64), RTP version 1: not ours.
    assert_eq!(classify(&[22; 40]), PacketKind::Unknown);
    assert_eq!(classify(&[64; 40]), PacketKind::Unknown);
    let mut v1 = rtp.clone();
    v1[0] = 0x40;
    assert_eq!(classify(&v1), PacketKind::Unknown);
}

#[test]
fn demux_uses_the_rfc_5761_payload_type_range() {
    let mut s = sender();
    // Second byte 191 (marker + PT 63) is RTP, 192..=223 RTCP, 224 (marker + PT 96) RTP again.
    let mut b = |pt: u8, marker: bool| s.packet(pt, marker, MediaTime::new(0, 8000), vec![0; 8]);
    assert_eq!(classify(&b(63, true).to_bytes()), PacketKind::Rtp);
    assert_eq!(classify(&b(64, true).to_bytes()), PacketKind::Rtcp);
    assert_eq!(classify(&b(95, true).to_bytes()), PacketKind::Rtcp);
    assert_eq!(classify(&b(96, true).to_bytes()), PacketKind::Rtp);
    assert_eq!(classify(&b(72, false).to_bytes()), PacketKind::Rtp);
}

#[test]
fn a_digit_is_a_marked_start_updates_every_50_ms_and_three_end_packets() {
    let packets = digit_packets('5', ms(200), 8000, DEFAULT_VOLUME).unwrap();
    let shape: Vec<_> = packets
        .iter()
        .map(|p| {
            (
                p.send_after.as_millis(),
                p.marker,
                p.event.end,
                p.event.duration,
            )
        })
        .collect();
    assert_eq!(
        shape,
        vec![
            (0, true, false, 400),
            (50, false, false, 800),
            (100, false, false, 1200),
            (150, false, false, 1600),
            (200, false, true, 1600),
            (220, false, true, 1600),
            (240, false, true, 1600),
        ]
    );
    assert!(packets
        .iter()
        .all(|p| p.event.event == 5 && p.event.volume == DEFAULT_VOLUME));
    // An uneven duration: the last update is capped at the total.
    let odd = digit_packets('#', ms(120), 8000, 0).unwrap();
    assert_eq!(odd[2].event.duration, 960);
    assert_eq!(odd[3].event.duration, 960);
    assert_eq!(odd[3].send_after, ms(120));
}

#[test]
fn digits_that_cannot_be_sent_are_errors() {
    assert_eq!(
        digit_packets('x', ms(100), 8000, 10),
        Err(DtmfError::UnknownDigit('x'))
    );
    assert_eq!(
        digit_packets('1', ms(0), 8000, 10),
        Err(DtmfError::BadDuration(ms(0)))
    );
    // 9 s at 8 kHz is 72000 ticks: more than one event's 16-bit duration.
    assert_eq!(
        digit_packets('1', ms(9000), 8000, 10),
        Err(DtmfError::BadDuration(ms(9000)))
    );
}

/// Sends `digits` through an `RtpSender`, RTP serialisation and parsing, dropping the packets
/// whose index (over the whole sequence) `drop` names; returns what the receiver reported.
fn send_and_receive(digits: &str, drop: impl Fn(usize) -> bool) -> Vec<ReceivedDigit> {
    let mut rtp = sender();
    let mut receiver = DtmfReceiver::new();
    let t0 = Instant::now();
    let mut media = 0u64;
    let mut index = 0;
    let mut heard = Vec::new();
    for digit in digits.chars() {
        let start = t0 + Duration::from_millis(media / 8);
        let mut tone = DtmfSender::new(start, digit, ms(100), 8000, DEFAULT_VOLUME).unwrap();
        // Bounded: each step releases a packet or moves to its due time.
        for _ in 0..100 {
            let Some(due) = tone.poll_timeout() else {
                break;
            };
            while let Some(p) = tone.poll_packet(due) {
                let packet = rtp.packet(
                    101,
                    p.marker,
                    MediaTime::new(media, 8000),
                    p.event.to_bytes().to_vec(),
                );
                let wire = packet.to_bytes();
                if !drop(index) {
                    let got = RtpPacket::parse(&wire).unwrap();
                    let event = TelephoneEvent::parse(&got.payload).unwrap();
                    heard.extend(receiver.handle(got.header.marker, got.header.timestamp, &event));
                }
                index += 1;
            }
        }
        assert!(tone.is_done());
        // The next digit starts 200 ms later in media time.
        media += 1600;
    }
    heard
}

#[test]
fn each_digit_is_reported_once() {
    let heard = send_and_receive("0123456789*#ABCD", |_| false);
    let digits: String = heard.iter().map(|d| d.digit).collect();
    assert_eq!(digits, "0123456789*#ABCD");
    // Each with its own start timestamp, 1600 ticks apart.
    assert!(heard
        .windows(2)
        .all(|w| w[1].timestamp.wrapping_sub(w[0].timestamp) == 1600));
}

#[test]
fn repeated_digits_with_all_end_packets_lost_are_still_two_digits() {
    // A 100 ms digit is 2 updates + 3 end packets: drop every end packet.
    let heard = send_and_receive("55", |i| i % 5 >= 2);
    assert_eq!(heard.iter().map(|d| d.digit).collect::<String>(), "55");
}

#[test]
fn a_digit_whose_start_and_updates_were_lost_is_reported_from_its_end_packet() {
    // Keep only the last end packet of each digit.
    let heard = send_and_receive("19", |i| i % 5 != 4);
    assert_eq!(heard.iter().map(|d| d.digit).collect::<String>(), "19");
}

#[test]
fn retransmitted_and_straggling_packets_do_not_repeat_a_digit() {
    let mut r = DtmfReceiver::new();
    let ev = |event, end, duration| TelephoneEvent {
        event,
        end,
        volume: 10,
        duration,
    };
    assert_eq!(
        r.handle(true, 1000, &ev(3, false, 400)).map(|d| d.digit),
        Some('3')
    );
    for _ in 0..3 {
        assert_eq!(r.handle(false, 1000, &ev(3, true, 800)), None);
    }
    assert_eq!(
        r.handle(true, 3000, &ev(4, false, 400)).map(|d| d.digit),
        Some('4')
    );
    // A straggling end packet of the first digit.
    assert_eq!(r.handle(false, 1000, &ev(3, true, 800)), None);
    // Non-DTMF events (16 is hook flash) are consumed but not reported.
    assert_eq!(r.handle(true, 5000, &ev(16, false, 400)), None);
    // The same digit pressed again, properly ended before: a new event.
    assert_eq!(r.handle(false, 7000, &ev(16, true, 800)), None);
    assert_eq!(
        r.handle(true, 9000, &ev(4, false, 400)).map(|d| d.digit),
        Some('4')
    );
}

#[test]
fn a_long_event_sent_in_segments_is_one_digit() {
    let mut r = DtmfReceiver::new();
    let ev = |end, duration| TelephoneEvent {
        event: 0,
        end,
        volume: 10,
        duration,
    };
    assert!(r.handle(true, 0, &ev(false, 0xffff)).is_some());
    // The next segment starts where the first one's 16-bit duration ran out, without marker.
    assert_eq!(r.handle(false, 0xffff, &ev(false, 400)), None);
    assert_eq!(r.handle(false, 0xffff, &ev(true, 800)), None);
    assert!(r.handle(true, 0xffff + 2000, &ev(false, 400)).is_some());
}

#[test]
fn wrapping_timestamps_are_new_events() {
    let mut r = DtmfReceiver::new();
    let ev = |event, end| TelephoneEvent {
        event,
        end,
        volume: 10,
        duration: 800,
    };
    assert!(r.handle(true, u32::MAX - 100, &ev(1, true)).is_some());
    assert!(r.handle(true, 1500, &ev(2, true)).is_some());
}

#[test]
fn a_low_clock_rate_cannot_stretch_a_digit_past_the_maximum() {
    assert!(digit_packets('1', Duration::from_secs(5), 1000, 10).is_ok());
    assert_eq!(
        digit_packets('1', Duration::from_secs(60), 1000, 10),
        Err(DtmfError::BadDuration(Duration::from_secs(60)))
    );
}
