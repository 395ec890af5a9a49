//! Classifies datagrams arriving on the RTP port (RFC 7983 first-byte ranges, RFC 5761 for
//! RTP/RTCP multiplexing, RFC 6189 §5 for ZRTP). Symmetric RTP latching is the session's job.

/// What a datagram on the RTP port looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PacketKind {
    Rtp,
    Rtcp,
    Zrtp,
    Stun,
    /// Anything else, DTLS and TURN channel data included: to be dropped.
    Unknown,
}

/// The ZRTP magic cookie "ZRTP" at bytes 4..8 (RFC 6189 §5).
pub const ZRTP_MAGIC_COOKIE: u32 = 0x5a52_5450;

/// Classifies a datagram by its first bytes. Only the shape is checked: the packet's own
/// parser has the last word.
pub fn classify(datagram: &[u8]) -> PacketKind {
    let Some(&first) = datagram.first() else {
        return PacketKind::Unknown;
    };
    match first {
        // STUN (RFC 7983 §7): the 20-byte header begins with two zero bits.
        0..=3 if datagram.len() >= 20 => PacketKind::Stun,
        0x10 if datagram.len() >= 12
            && u32::from_be_bytes([datagram[4], datagram[5], datagram[6], datagram[7]])
                == ZRTP_MAGIC_COOKIE =>
        {
            PacketKind::Zrtp
        }
        // Version 2 RTP or RTCP (RFC 7983 range 128..=191).
        0x80..=0xbf if datagram.len() >= 8 => {
            // RFC 5761 §4: RTCP packet types 192..=223 sit in the second byte where RTP has
            // the marker bit and payload type 64..=95, which RTP must not use when muxed.
            if (192..=223).contains(&datagram[1]) {
                PacketKind::Rtcp
            } else if datagram.len() >= 12 {
                PacketKind::Rtp
            } else {
                PacketKind::Unknown
            }
        }
        _ => PacketKind::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_and_short_datagrams_are_unknown() {
        assert_eq!(classify(&[]), PacketKind::Unknown);
        assert_eq!(classify(&[0x80, 0x00, 0, 1]), PacketKind::Unknown);
        assert_eq!(classify(&[0x00, 0x01, 0, 0]), PacketKind::Unknown);
    }
}
