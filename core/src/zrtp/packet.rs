//! ZRTP packet framing (RFC 6189 §5): the RTP-like header, the magic cookie, the SSRC and the
//! CRC-32C trailer around one message.
//!
//! ```text
//!  0x10 0x00 | sequence (16) | 'ZRTP' 0x5a525450 | SSRC (32) | message ... | CRC-32C (32)
//! ```

use crate::media::rtp::Ssrc;

use super::error::{PeerMisbehaved, ZrtpError};

/// The magic cookie that tells ZRTP apart from RTP on the same port.
pub const MAGIC_COOKIE: u32 = 0x5a52_5450;

/// Header bytes before the message: flags/version, sequence, cookie, SSRC.
pub const HEADER_LEN: usize = 12;

/// Smallest possible packet: header, a three-word message, CRC.
pub const MIN_PACKET_LEN: usize = HEADER_LEN + 12 + 4;

/// One ZRTP packet as received: the framing is checked, the message is not parsed yet (its
/// bytes are what the MACs and hashes of the key schedule cover).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawPacket<'a> {
    /// The packet sequence number (each retransmission gets a new one).
    pub sequence: u16,
    /// The sender's SSRC.
    pub ssrc: Ssrc,
    /// The message bytes between header and CRC.
    pub message: &'a [u8],
}

/// True when `buf` looks like ZRTP rather than RTP/RTCP/STUN: version bits `0001` and the magic
/// cookie at offset 4. Cheap, no CRC: for demultiplexing only.
pub fn is_zrtp(buf: &[u8]) -> bool {
    buf.len() >= HEADER_LEN
        && buf[0] & 0xf0 == 0x10
        && u32::from_be_bytes([buf[4], buf[5], buf[6], buf[7]]) == MAGIC_COOKIE
}

/// Check the framing of a received packet: header, cookie, CRC.
pub fn parse_packet(buf: &[u8]) -> Result<RawPacket<'_>, ZrtpError> {
    if buf.len() < MIN_PACKET_LEN {
        return Err(PeerMisbehaved::PacketTooShort(buf.len()).into());
    }
    let first = u16::from_be_bytes([buf[0], buf[1]]);
    if first != 0x1000 {
        return Err(PeerMisbehaved::BadHeader(first).into());
    }
    let cookie = u32::from_be_bytes([buf[4], buf[5], buf[6], buf[7]]);
    if cookie != MAGIC_COOKIE {
        return Err(PeerMisbehaved::BadMagicCookie(cookie).into());
    }
    let (body, trailer) = buf.split_at(buf.len() - 4);
    if crc(body) != trailer {
        return Err(PeerMisbehaved::BadCrc.into());
    }
    Ok(RawPacket {
        sequence: u16::from_be_bytes([buf[2], buf[3]]),
        ssrc: Ssrc(u32::from_be_bytes([buf[8], buf[9], buf[10], buf[11]])),
        message: &body[HEADER_LEN..],
    })
}

/// Frame an encoded message into a packet.
pub fn encode_packet(sequence: u16, ssrc: Ssrc, message: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + message.len() + 4);
    out.extend_from_slice(&[0x10, 0x00]);
    out.extend_from_slice(&sequence.to_be_bytes());
    out.extend_from_slice(&MAGIC_COOKIE.to_be_bytes());
    out.extend_from_slice(&ssrc.0.to_be_bytes());
    out.extend_from_slice(message);
    let trailer = crc(&out);
    out.extend_from_slice(&trailer);
    out
}

/// The CRC-32C trailer bytes of RFC 6189 §5 for `data` (header and message).
///
/// The CRC is the Castagnoli CRC of RFC 3309, placed on the wire as SCTP places it: the
/// reflected register's low byte first. bzrtp's and GNU ZRTP's test vector for a HelloACK
/// (CRC "0x9c9edccd" in their byte-swapped notation) pins this order.
pub fn crc(data: &[u8]) -> [u8; 4] {
    crc32c::crc32c(data).to_le_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_corruption() {
        let msg = [
            0x50, 0x5a, 0x00, 0x03, b'H', b'e', b'l', b'l', b'o', b'A', b'C', b'K',
        ];
        let pkt = encode_packet(7, Ssrc(0xdead_beef), &msg);
        assert!(is_zrtp(&pkt));
        let raw = parse_packet(&pkt).unwrap();
        assert_eq!(
            (raw.sequence, raw.ssrc, raw.message),
            (7, Ssrc(0xdead_beef), &msg[..])
        );
        for i in 0..pkt.len() {
            let mut bad = pkt.clone();
            bad[i] ^= 0x01;
            assert!(parse_packet(&bad).is_err(), "flip at {i} accepted");
        }
        assert!(parse_packet(&pkt[..MIN_PACKET_LEN - 1]).is_err());
    }
}
