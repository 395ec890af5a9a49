//! RTCP compound packets (RFC 3550 §6): round trips, skipped packet types, padding, and
//! malformed input.

use std::time::{Duration, UNIX_EPOCH};

use sipher::media::rtcp::{
    parse_compound, write_compound, Bye, NtpTime, ReceiverReport, ReportBlock, RtcpError,
    RtcpPacket, SdesChunk, SenderReport,
};
use sipher::media::rtp::Ssrc;

fn block(ssrc: u32, lost: i32) -> ReportBlock {
    ReportBlock {
        ssrc: Ssrc(ssrc),
        fraction_lost: 25,
        cumulative_lost: lost,
        highest_seq: 0x0001_0005,
        jitter: 123,
        lsr: 0xabcd_ef01,
        dlsr: 65_536,
    }
}

fn compound() -> Vec<RtcpPacket> {
    vec![
        RtcpPacket::SenderReport(SenderReport {
            ssrc: Ssrc(0x1111_1111),
            ntp: NtpTime::from_system_time(UNIX_EPOCH + Duration::from_secs(1_700_000_000)),
            rtp_timestamp: 0x8000_0001,
            packet_count: 500,
            octet_count: 80_000,
            reports: vec![block(0x2222_2222, 7), block(0x3333_3333, -8_388_608)],
        }),
        RtcpPacket::SourceDescription(vec![
            SdesChunk {
                ssrc: Ssrc(0x1111_1111),
                cname: Some("alice@192.0.2.1".into()),
            },
            SdesChunk {
                ssrc: Ssrc(0x4444_4444),
                cname: Some("abc".into()),
            },
            SdesChunk {
                ssrc: Ssrc(0x5555_5555),
                cname: None,
            },
        ]),
        RtcpPacket::Bye(Bye {
            sources: vec![Ssrc(0x1111_1111)],
            reason: Some("call ended".into()),
        }),
    ]
}

/// Offsets where each packet of `bytes` ends.
fn boundaries(bytes: &[u8]) -> Vec<usize> {
    let mut ends = Vec::new();
    let mut pos = 0;
    while pos + 4 <= bytes.len() {
        pos += 4 * (usize::from(u16::from_be_bytes([bytes[pos + 2], bytes[pos + 3]])) + 1);
        ends.push(pos);
    }
    ends
}

#[test]
fn sr_sdes_bye_compound_round_trips() {
    let packets = compound();
    let bytes = write_compound(&packets).unwrap();
    assert_eq!(bytes.len() % 4, 0);
    assert_eq!(bytes[0], 0x80 | 2);
    assert_eq!(bytes[1], 200);
    // SR: 4 header + 24 sender info + 2 * 24 blocks = 76 bytes = 19 words, length field 18.
    assert_eq!(u16::from_be_bytes([bytes[2], bytes[3]]), 18);
    assert_eq!(parse_compound(&bytes), Ok(packets));
}

#[test]
fn rr_and_empty_bye_round_trip() {
    let packets = vec![
        RtcpPacket::ReceiverReport(ReceiverReport {
            ssrc: Ssrc(1),
            reports: vec![],
        }),
        RtcpPacket::ReceiverReport(ReceiverReport {
            ssrc: Ssrc(1),
            reports: (0..31).map(|i| block(i, i as i32)).collect(),
        }),
        RtcpPacket::Bye(Bye {
            sources: vec![],
            reason: None,
        }),
    ];
    let bytes = write_compound(&packets).unwrap();
    assert_eq!(&bytes[..8], &[0x80, 201, 0, 1, 0, 0, 0, 1]);
    assert_eq!(parse_compound(&bytes), Ok(packets));
}

#[test]
fn more_than_31_blocks_cannot_be_written() {
    let rr = RtcpPacket::ReceiverReport(ReceiverReport {
        ssrc: Ssrc(1),
        reports: (0..32).map(|i| block(i, 0)).collect(),
    });
    assert!(matches!(
        write_compound(&[rr]),
        Err(RtcpError::TooMany { .. })
    ));
}

#[test]
fn app_feedback_and_unknown_packets_are_skipped() {
    let mut bytes = write_compound(&compound()[..1]).unwrap();
    // APP: name "TEST" and 4 bytes of data.
    bytes.extend_from_slice(&[
        0x81, 204, 0, 3, 0, 0, 0, 9, b'T', b'E', b'S', b'T', 1, 2, 3, 4,
    ]);
    // A generic NACK (RFC 4585) and an unassigned type.
    bytes.extend_from_slice(&[0x81, 205, 0, 3, 0, 0, 0, 9, 0, 0, 0, 8, 0, 1, 0, 0]);
    bytes.extend_from_slice(&[0x80, 199, 0, 0]);
    bytes.extend_from_slice(&write_compound(&compound()[2..]).unwrap());
    let parsed = parse_compound(&bytes).unwrap();
    assert_eq!(parsed, vec![compound()[0].clone(), compound()[2].clone()]);
}

#[test]
fn unknown_sdes_items_are_skipped_and_cname_kept() {
    // One chunk: NAME "Al", CNAME "x@y", END, padding to a word.
    let mut body = vec![0, 0, 0, 7, 2, 2, b'A', b'l', 1, 3, b'x', b'@', b'y', 0];
    body.resize(16, 0);
    let mut bytes = vec![0x81, 202, 0, 4];
    bytes.extend_from_slice(&body);
    let parsed = parse_compound(&bytes).unwrap();
    assert_eq!(
        parsed,
        vec![RtcpPacket::SourceDescription(vec![SdesChunk {
            ssrc: Ssrc(7),
            cname: Some("x@y".into())
        }])]
    );
}

#[test]
fn padding_is_allowed_only_on_the_last_packet() {
    let mut bytes = write_compound(&compound()[..1]).unwrap();
    let first_len = bytes.len();
    // Add 4 bytes of padding to the SR.
    bytes[0] |= 0x20;
    bytes.extend_from_slice(&[0, 0, 0, 4]);
    let words = (bytes.len() / 4 - 1) as u16;
    bytes[2..4].copy_from_slice(&words.to_be_bytes());
    assert_eq!(parse_compound(&bytes), Ok(compound()[..1].to_vec()));

    bytes.extend_from_slice(&write_compound(&compound()[2..]).unwrap());
    assert_eq!(parse_compound(&bytes), Err(RtcpError::PaddingNotLast));

    let mut bad = bytes[..first_len + 4].to_vec();
    *bad.last_mut().unwrap() = 0;
    assert_eq!(parse_compound(&bad), Err(RtcpError::BadPadding(0)));
}

#[test]
fn wrong_version_and_empty_input_are_errors() {
    let mut bytes = write_compound(&compound()).unwrap();
    assert_eq!(parse_compound(&[]), Err(RtcpError::Empty));
    bytes[0] &= 0x3f;
    assert_eq!(parse_compound(&bytes), Err(RtcpError::BadVersion(0)));
}

#[test]
fn every_truncation_inside_a_packet_is_an_error() {
    let bytes = write_compound(&compound()).unwrap();
    let ends = boundaries(&bytes);
    assert_eq!(ends.len(), 3);
    for cut in 1..bytes.len() {
        let result = parse_compound(&bytes[..cut]);
        if ends.contains(&cut) {
            // A cut between packets leaves a shorter, valid compound.
            assert!(result.is_ok(), "cut at {cut}");
        } else {
            assert!(result.is_err(), "cut at {cut}: {result:?}");
        }
    }
}

#[test]
fn counts_larger_than_the_body_are_errors() {
    // An RR that claims 2 blocks but carries 1.
    let rr = RtcpPacket::ReceiverReport(ReceiverReport {
        ssrc: Ssrc(1),
        reports: vec![block(2, 0)],
    });
    let mut bytes = write_compound(&[rr]).unwrap();
    bytes[0] = 0x82;
    assert!(matches!(
        parse_compound(&bytes),
        Err(RtcpError::Malformed { .. })
    ));
    // A BYE with a reason length beyond the packet.
    let bye = [0x81, 203, 0, 2, 0, 0, 0, 1, 9, b'a', b'b', b'c'];
    assert!(matches!(
        parse_compound(&bye),
        Err(RtcpError::Malformed { .. })
    ));
    // An SDES chunk without its END item.
    let sdes = [0x81, 202, 0, 2, 0, 0, 0, 1, 1, 2, b'a', b'b'];
    assert!(matches!(
        parse_compound(&sdes),
        Err(RtcpError::Malformed { .. })
    ));
}

#[test]
fn corrupted_compounds_never_panic_and_successes_round_trip() {
    let bytes = write_compound(&compound()).unwrap();
    for i in 0..bytes.len() {
        for v in [0u8, 1, 0x1f, 0x20, 0x7f, 0x80, 0x9f, 0xbf, 0xc0, 0xff] {
            let mut b = bytes.clone();
            b[i] = v;
            if let Ok(parsed) = parse_compound(&b) {
                let again = write_compound(&parsed).unwrap();
                assert_eq!(parse_compound(&again), Ok(parsed), "byte {i} = {v:#x}");
            }
        }
    }
}
