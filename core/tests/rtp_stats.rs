//! Receiver and sender statistics (RFC 3550 A.3, A.8, §6.4.1) on synthetic arrival patterns,
//! checked against hand-computed values, and the call-quality summary built from them.
// The tests' virtual-time origin is the one clock read.
#![allow(clippy::disallowed_methods)]

use std::time::{Duration, Instant, UNIX_EPOCH};

use sipher::media::rtcp::{NtpTime, ReportBlock};
use sipher::media::rtp::{SeqNo, Ssrc};
use sipher::media::stats::{EModelCodec, QualityReport, ReceiverStats, SenderStats};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[test]
fn jitter_matches_a_hand_computed_value() {
    // 8 kHz, one packet per 20 ms (160 ticks), arriving at 0, 20, 45, 60 and 80 ms.
    // Transit differences D in ticks: 0, +40, -40, 0, so J (RFC 3550 A.8) goes
    // 0 -> 0 -> 40/16 = 2.5 -> 2.5 + (40 - 2.5)/16 = 4.84375 -> 4.84375 * 15/16 = 4.541015625.
    let t0 = Instant::now();
    let mut stats = ReceiverStats::new(Ssrc(1), 8000);
    let arrivals = [0, 20, 45, 60, 80];
    for (i, at) in arrivals.into_iter().enumerate() {
        stats.on_rtp(t0 + ms(at), 1000 + i as u16, 50_000 + 160 * i as u32);
    }
    assert_eq!(stats.jitter(), 5);
    let jitter_us = stats.jitter_duration().as_secs_f64() * 1e6;
    assert!(
        (jitter_us - 4.541015625 * 125.0).abs() < 0.01,
        "{jitter_us}"
    );
    assert_eq!(stats.report_block(t0 + ms(100)).unwrap().jitter, 5);
}

#[test]
fn steady_arrivals_have_no_jitter_even_across_a_timestamp_wrap() {
    let t0 = Instant::now();
    let mut stats = ReceiverStats::new(Ssrc(1), 48_000);
    let mut ts = u32::MAX - 960 * 5;
    for i in 0..20u16 {
        stats.on_rtp(t0 + ms(20 * u64::from(i)), i, ts);
        ts = ts.wrapping_add(960);
    }
    assert_eq!(stats.jitter(), 0);
}

#[test]
fn loss_fraction_and_cumulative_loss_across_report_intervals() {
    let t0 = Instant::now();
    let mut stats = ReceiverStats::new(Ssrc(7), 8000);
    // Interval 1: 65530..=65535, 0..=3 (10 packets across the wrap), 65533 and 1 lost.
    for seq in [65530u16, 65531, 65532, 65534, 65535, 0, 2, 3] {
        stats.on_rtp(t0, seq, 0);
    }
    assert_eq!(stats.expected(), 10);
    assert_eq!(stats.received(), 8);
    let first = stats.report_block(t0).unwrap();
    assert_eq!(first.ssrc, Ssrc(7));
    assert_eq!(first.fraction_lost, 51); // 2/10 * 256, truncated
    assert_eq!(first.cumulative_lost, 2);
    assert_eq!(first.highest_seq, 0x0001_0003); // one cycle, highest 3

    // Interval 2: 4..=13 all arrive, plus a duplicate of 9: more received than expected.
    for seq in 4..=13u16 {
        stats.on_rtp(t0, seq, 0);
    }
    assert_eq!(stats.on_rtp(t0, 9, 0), Some(SeqNo(65536 + 9)));
    let second = stats.report_block(t0).unwrap();
    assert_eq!(second.fraction_lost, 0);
    assert_eq!(second.cumulative_lost, 1);

    // Interval 3: 14..=23 with half lost (a late packet from interval 2 does not count twice
    // as expected).
    for seq in [14u16, 16, 18, 20, 22, 23] {
        stats.on_rtp(t0, seq, 0);
    }
    let third = stats.report_block(t0).unwrap();
    assert_eq!(third.fraction_lost, (4 * 256 / 10) as u8);
    assert_eq!(third.cumulative_lost, 5);

    // An interval with nothing received: expected stays, fraction 0.
    assert_eq!(stats.report_block(t0).unwrap().fraction_lost, 0);
}

#[test]
fn a_restarted_sender_restarts_the_counts() {
    let t0 = Instant::now();
    let mut stats = ReceiverStats::new(Ssrc(7), 8000);
    for seq in [10u16, 12] {
        stats.on_rtp(t0, seq, 0);
    }
    assert_eq!(stats.cumulative_lost(), 1);
    assert_eq!(stats.on_rtp(t0, 40_000, 0), None);
    assert!(stats.on_rtp(t0, 40_001, 0).is_some());
    stats.on_rtp(t0, 40_002, 0);
    assert_eq!(stats.expected(), 2);
    assert_eq!(stats.cumulative_lost(), 0);
}

#[test]
fn report_block_carries_lsr_and_dlsr_of_the_last_sr() {
    let t0 = Instant::now();
    let mut stats = ReceiverStats::new(Ssrc(3), 8000);
    assert_eq!(
        stats.report_block(t0),
        None,
        "nothing to report before the first packet"
    );
    stats.on_rtp(t0, 1, 0);
    let block = stats.report_block(t0).unwrap();
    assert_eq!((block.lsr, block.dlsr), (0, 0));

    let ntp = NtpTime::from_system_time(UNIX_EPOCH + Duration::from_millis(1_700_000_000_250));
    stats.on_sender_report(t0 + ms(100), ntp);
    let block = stats.report_block(t0 + ms(350)).unwrap();
    assert_eq!(block.lsr, ntp.middle32());
    assert_eq!(block.dlsr, 65_536 / 4); // 250 ms in 1/65536 s
}

#[test]
fn rtt_from_lsr_and_dlsr_of_the_peers_report() {
    let t0 = Instant::now();
    let mut sender = SenderStats::new();
    for len in [160, 160, 80] {
        sender.on_rtp_sent(len);
    }
    let wall = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let ntp = NtpTime::from_system_time(wall);
    let sr = sender.sender_report(t0, Ssrc(1), ntp, 1234, vec![]);
    assert_eq!((sr.packet_count, sr.octet_count), (3, 400));
    // A later SR, so the block must be matched by its LSR, not taken as the latest.
    sender.sender_report(
        t0 + ms(5000),
        Ssrc(1),
        NtpTime(ntp.0 + (5 << 32)),
        0,
        vec![],
    );

    // The peer held our first SR for 1.5 s; its report arrives 1.62 s after we sent the SR.
    let mut peer = ReceiverStats::new(Ssrc(1), 8000);
    peer.on_rtp(t0, 1, 0);
    peer.on_sender_report(t0 + ms(60), ntp);
    let block = peer.report_block(t0 + ms(1560)).unwrap();
    assert_eq!(block.dlsr, 98_304);
    let rtt = sender.rtt(t0 + ms(1620), &block).unwrap();
    assert!(rtt.abs_diff(ms(120)) < Duration::from_micros(20), "{rtt:?}");

    // No SR yet, an SR we never sent, and a DLSR longer than the elapsed time: no RTT.
    assert_eq!(
        sender.rtt(t0 + ms(1620), &ReportBlock { lsr: 0, ..block }),
        None
    );
    assert_eq!(
        sender.rtt(t0 + ms(1620), &ReportBlock { lsr: 42, ..block }),
        None
    );
    assert_eq!(sender.rtt(t0 + ms(1000), &block), None);
}

#[test]
fn quality_report_from_a_report_block() {
    let block = ReportBlock {
        ssrc: Ssrc(1),
        fraction_lost: 64,
        cumulative_lost: 30,
        highest_seq: 0,
        jitter: 240, // 30 ms at 8 kHz
        lsr: 0,
        dlsr: 0,
    };
    let q = QualityReport::from_block(&block, 8000, Some(ms(100)), EModelCodec::Pcmu);
    assert_eq!(q.loss_fraction, 0.25);
    assert_eq!(q.cumulative_lost, 30);
    assert!((q.jitter_ms - 30.0).abs() < 1e-4);
    assert_eq!(q.rtt_ms, Some(100.0));
    // Delay d = 100/2 + 2*30 + 20 = 130 ms: Id = 3.12; Ie,eff = 95*25/(25+25.1) = 47.405;
    // R = 93.2 - 3.12 - 47.405 = 42.675; MOS = 1 + 0.035 R + R (R-60)(100-R) 7e-6 = 2.197.
    assert!((q.mos - 2.197).abs() < 0.002, "{}", q.mos);

    let clean = ReportBlock {
        fraction_lost: 0,
        jitter: 8,
        ..block
    };
    let q = QualityReport::from_block(&clean, 8000, Some(ms(40)), EModelCodec::Opus);
    assert!(q.mos > 4.3, "{}", q.mos);
}
