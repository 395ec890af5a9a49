//! RTP packets (RFC 3550 §5), extended sequence numbers and timestamps, and the sending side's
//! stamping of outgoing packets. Sans-IO: parsing never panics on hostile input, and the only
//! randomness (initial SSRC, sequence number and timestamp offset) is injected.
//!
//! ```
//! use sipher::media::rtp::{MediaTime, RtpPacket, RtpSender, SeqExtender, SeqNo};
//!
//! let mut sender = RtpSender::new(&mut rand::thread_rng());
//! let packet = sender.packet(0, true, MediaTime::new(160, 8000), vec![0xff; 160]);
//! let received = RtpPacket::parse(&packet.to_bytes()).unwrap();
//! assert_eq!(received, packet);
//! let mut seq = SeqExtender::new();
//! assert_eq!(seq.extend(received.header.sequence), Some(SeqNo(received.header.sequence.into())));
//! ```

use rand::RngCore;

/// A synchronisation source identifier (RFC 3550 §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ssrc(pub u32);

/// An extended RTP sequence number: the 16-bit wire value plus the count of wraps seen
/// (RFC 3550 A.1). It only grows while the sender behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SeqNo(pub u64);

impl SeqNo {
    /// The 16-bit value carried on the wire.
    pub fn wire(self) -> u16 {
        // Truncation intended: the wire carries the low 16 bits.
        self.0 as u16
    }
}

/// A media timestamp as an extended tick count at a clock rate (STYLE.md §3), never a wrapping
/// `u32`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MediaTime {
    pub ticks: u64,
    /// Ticks per second, e.g. 8000 for PCMU, 48000 for Opus.
    pub rate: u32,
}

impl MediaTime {
    pub fn new(ticks: u64, rate: u32) -> MediaTime {
        MediaTime { ticks, rate }
    }

    /// The time in seconds from the stream's origin; `0.0` for a zero clock rate.
    pub fn as_secs_f64(self) -> f64 {
        if self.rate == 0 {
            return 0.0;
        }
        self.ticks as f64 / f64::from(self.rate)
    }
}

/// The fixed header fields of an RTP packet. Padding is not modelled: it is removed when parsing
/// and never added when serialising.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtpHeader {
    pub marker: bool,
    /// 0..=127; [`RtpPacket::to_bytes`] writes only the low 7 bits.
    pub payload_type: u8,
    pub sequence: u16,
    pub timestamp: u32,
    pub ssrc: Ssrc,
    /// At most 15 contributing sources (the header's 4-bit count).
    pub csrc: Vec<u32>,
    /// The header extension: profile-defined 16 bits and its data, a multiple of 4 bytes.
    pub extension: Option<(u16, Vec<u8>)>,
}

/// An RTP packet: header and payload, padding removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtpPacket {
    pub header: RtpHeader,
    pub payload: Vec<u8>,
}

/// Why bytes are not an RTP packet. Every variant is something the peer did.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RtpError {
    #[error("RTP packet of {len} bytes is shorter than its {need}-byte header")]
    Truncated { len: usize, need: usize },
    #[error("RTP version {0}; only version 2 is supported")]
    BadVersion(u8),
    #[error("RTP padding count {count} does not fit a packet of {len} bytes")]
    BadPadding { count: u8, len: usize },
}

/// The fixed header length in bytes.
pub const RTP_HEADER_LEN: usize = 12;
/// The largest CSRC list the 4-bit count can describe.
pub const MAX_CSRC: usize = 15;

impl RtpPacket {
    /// Parses one RTP packet (version 2). Padding is checked and removed; the CSRC list and the
    /// header extension must fit in the buffer.
    pub fn parse(buf: &[u8]) -> Result<RtpPacket, RtpError> {
        let len = buf.len();
        let truncated = |need: usize| RtpError::Truncated { len, need };
        if len < RTP_HEADER_LEN {
            return Err(truncated(RTP_HEADER_LEN));
        }
        let version = buf[0] >> 6;
        if version != 2 {
            return Err(RtpError::BadVersion(version));
        }
        let has_padding = buf[0] & 0x20 != 0;
        let has_extension = buf[0] & 0x10 != 0;
        let csrc_count = usize::from(buf[0] & 0x0f);
        let marker = buf[1] & 0x80 != 0;
        let payload_type = buf[1] & 0x7f;
        let sequence = u16::from_be_bytes([buf[2], buf[3]]);
        let timestamp = be32(&buf[4..8]);
        let ssrc = Ssrc(be32(&buf[8..12]));

        let mut pos = RTP_HEADER_LEN;
        let csrc_end = pos + 4 * csrc_count;
        if len < csrc_end {
            return Err(truncated(csrc_end));
        }
        let csrc = buf[pos..csrc_end].chunks_exact(4).map(be32).collect();
        pos = csrc_end;

        let mut extension = None;
        if has_extension {
            if len < pos + 4 {
                return Err(truncated(pos + 4));
            }
            let profile = u16::from_be_bytes([buf[pos], buf[pos + 1]]);
            let words = usize::from(u16::from_be_bytes([buf[pos + 2], buf[pos + 3]]));
            let ext_end = pos + 4 + 4 * words;
            if len < ext_end {
                return Err(truncated(ext_end));
            }
            extension = Some((profile, buf[pos + 4..ext_end].to_vec()));
            pos = ext_end;
        }

        let mut end = len;
        if has_padding {
            // The last byte counts the padding including itself, so it is at least 1, and the
            // padding may not reach back into the header.
            let count = buf[len - 1];
            if count == 0 || usize::from(count) > len - pos {
                return Err(RtpError::BadPadding { count, len });
            }
            end = len - usize::from(count);
        }

        Ok(RtpPacket {
            header: RtpHeader {
                marker,
                payload_type,
                sequence,
                timestamp,
                ssrc,
                csrc,
                extension,
            },
            payload: buf[pos..end].to_vec(),
        })
    }

    /// Serialises the packet without padding. A header built by hand with more than
    /// [`MAX_CSRC`] CSRCs keeps only the first 15; extension data is zero-padded to a multiple
    /// of 4 bytes and cut at the 16-bit word count's limit.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.wire_len());
        self.write_to(&mut out);
        out
    }

    /// Appends the serialised packet to `out` (see [`RtpPacket::to_bytes`]).
    pub fn write_to(&self, out: &mut Vec<u8>) {
        let h = &self.header;
        let csrc = &h.csrc[..h.csrc.len().min(MAX_CSRC)];
        // Fits: `csrc` has at most 15 entries.
        let mut b0 = 0x80 | csrc.len() as u8;
        if h.extension.is_some() {
            b0 |= 0x10;
        }
        out.push(b0);
        out.push(u8::from(h.marker) << 7 | (h.payload_type & 0x7f));
        out.extend_from_slice(&h.sequence.to_be_bytes());
        out.extend_from_slice(&h.timestamp.to_be_bytes());
        out.extend_from_slice(&h.ssrc.0.to_be_bytes());
        for c in csrc {
            out.extend_from_slice(&c.to_be_bytes());
        }
        if let Some((profile, data)) = &h.extension {
            let words = data.len().div_ceil(4).min(usize::from(u16::MAX));
            out.extend_from_slice(&profile.to_be_bytes());
            // Fits: clamped to u16::MAX just above.
            out.extend_from_slice(&(words as u16).to_be_bytes());
            let kept = data.len().min(4 * words);
            out.extend_from_slice(&data[..kept]);
            out.resize(out.len() + (4 * words - kept), 0);
        }
        out.extend_from_slice(&self.payload);
    }

    fn wire_len(&self) -> usize {
        let ext = self
            .header
            .extension
            .as_ref()
            .map_or(0, |(_, d)| 4 + d.len() + 3);
        RTP_HEADER_LEN + 4 * self.header.csrc.len().min(MAX_CSRC) + ext + self.payload.len()
    }
}

/// What [`SeqExtender::update`] made of a sequence number (RFC 3550 A.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeqUpdate {
    /// The first packet, or one ahead of the highest so far by less than the allowed dropout.
    InOrder(SeqNo),
    /// At or behind the highest so far (a duplicate or a reordered packet), placed in its cycle.
    Late(SeqNo),
    /// The second of two sequential packets after a large jump: the sender restarted its
    /// numbering. The extended number keeps growing from here.
    Restarted(SeqNo),
    /// A large jump not (yet) confirmed by a following packet, or a late packet that would
    /// fall before the stream's first one. The packet should be dropped.
    Invalid,
}

impl SeqUpdate {
    /// The extended number, unless the packet is invalid.
    pub fn seq(self) -> Option<SeqNo> {
        match self {
            SeqUpdate::InOrder(s) | SeqUpdate::Late(s) | SeqUpdate::Restarted(s) => Some(s),
            SeqUpdate::Invalid => None,
        }
    }
}

/// Extends 16-bit RTP sequence numbers to [`SeqNo`] (RFC 3550 A.1), handling wrap, reorder,
/// duplicates and sender restarts. Probation of a new source is left to the caller.
#[derive(Debug, Clone, Default)]
pub struct SeqExtender {
    /// Highest extended number seen; `None` before the first packet.
    max: Option<u64>,
    /// After a large jump: the sequence number that would confirm a restart.
    bad_seq: Option<u16>,
}

/// A forward jump of this many or more is suspicious (RFC 3550 A.1).
pub const MAX_DROPOUT: u16 = 3000;
/// A packet this far behind the highest is still taken as reordered (RFC 3550 A.1).
pub const MAX_MISORDER: u16 = 100;

impl SeqExtender {
    pub fn new() -> SeqExtender {
        SeqExtender::default()
    }

    /// Extends `seq`; `None` when the packet should be dropped (see [`SeqUpdate::Invalid`]).
    pub fn extend(&mut self, seq: u16) -> Option<SeqNo> {
        self.update(seq).seq()
    }

    /// Extends `seq` and says how it relates to the packets before it.
    pub fn update(&mut self, seq: u16) -> SeqUpdate {
        let Some(max) = self.max else {
            self.max = Some(u64::from(seq));
            return SeqUpdate::InOrder(SeqNo(u64::from(seq)));
        };
        // Truncation intended: compare within the 16-bit cycle.
        let max_low = max as u16;
        let delta = seq.wrapping_sub(max_low);
        if delta == 0 {
            return SeqUpdate::Late(SeqNo(max));
        }
        if delta < MAX_DROPOUT {
            // Ahead, possibly across a wrap.
            let ext = max + u64::from(delta);
            self.max = Some(ext);
            self.bad_seq = None;
            return SeqUpdate::InOrder(SeqNo(ext));
        }
        if delta > u16::MAX - MAX_MISORDER {
            // Behind by at most MAX_MISORDER: a duplicate or a reordered packet.
            let behind = u64::from(max_low.wrapping_sub(seq));
            return match max.checked_sub(behind) {
                Some(ext) => SeqUpdate::Late(SeqNo(ext)),
                None => SeqUpdate::Invalid,
            };
        }
        // A large jump: only believe it when the next packet follows it.
        if self.bad_seq == Some(seq) {
            // Restart in the next cycle so that extended numbers keep growing.
            let ext = (max | 0xffff) + 1 + u64::from(seq);
            self.max = Some(ext);
            self.bad_seq = None;
            return SeqUpdate::Restarted(SeqNo(ext));
        }
        self.bad_seq = Some(seq.wrapping_add(1));
        SeqUpdate::Invalid
    }

    /// The highest extended number accepted so far.
    pub fn highest(&self) -> Option<SeqNo> {
        self.max.map(SeqNo)
    }
}

/// Extends 32-bit RTP timestamps to 64 bits: each timestamp is placed nearest to the highest one
/// seen so far (within ±2^31 ticks), so wraps forward and reordering backward both work.
#[derive(Debug, Clone, Default)]
pub struct TimestampExtender {
    max: Option<u64>,
}

impl TimestampExtender {
    pub fn new() -> TimestampExtender {
        TimestampExtender::default()
    }

    /// The extended timestamp; `None` for a late packet that would fall before the stream's
    /// first cycle (only possible just after the start, across a wrap).
    pub fn extend(&mut self, ts: u32) -> Option<u64> {
        let Some(max) = self.max else {
            self.max = Some(u64::from(ts));
            return Some(u64::from(ts));
        };
        // Truncation intended: compare within the 32-bit cycle.
        let diff = ts.wrapping_sub(max as u32) as i32;
        if diff >= 0 {
            let ext = max + u64::from(diff.unsigned_abs());
            self.max = Some(ext);
            Some(ext)
        } else {
            max.checked_sub(u64::from(diff.unsigned_abs()))
        }
    }

    /// The extended timestamp as media time at `rate` (see [`TimestampExtender::extend`]).
    pub fn extend_media(&mut self, ts: u32, rate: u32) -> Option<MediaTime> {
        self.extend(ts).map(|ticks| MediaTime::new(ticks, rate))
    }
}

/// Stamps outgoing packets of one source: SSRC, consecutive sequence numbers from a random
/// start, and timestamps from extended media time plus a random offset (RFC 3550 §5.1).
#[derive(Debug, Clone)]
pub struct RtpSender {
    pub ssrc: Ssrc,
    /// The sequence number of the next packet.
    pub seq: u16,
    /// Added (wrapping) to media ticks to form the wire timestamp.
    pub ts_offset: u32,
}

impl RtpSender {
    /// A sender with random SSRC, initial sequence number and timestamp offset.
    pub fn new(rng: &mut impl RngCore) -> RtpSender {
        RtpSender::with_ssrc(Ssrc(rng.next_u32()), rng)
    }

    /// A sender with a chosen SSRC and random initial sequence number and timestamp offset.
    pub fn with_ssrc(ssrc: Ssrc, rng: &mut impl RngCore) -> RtpSender {
        // Truncation intended: any 16 random bits.
        let seq = rng.next_u32() as u16;
        RtpSender {
            ssrc,
            seq,
            ts_offset: rng.next_u32(),
        }
    }

    /// The wire timestamp for a media time.
    pub fn timestamp(&self, time: MediaTime) -> u32 {
        // Truncation intended: the wire timestamp wraps.
        self.ts_offset.wrapping_add(time.ticks as u32)
    }

    /// Builds the next packet, consuming a sequence number.
    pub fn packet(
        &mut self,
        payload_type: u8,
        marker: bool,
        time: MediaTime,
        payload: Vec<u8>,
    ) -> RtpPacket {
        let sequence = self.seq;
        self.seq = self.seq.wrapping_add(1);
        RtpPacket {
            header: RtpHeader {
                marker,
                payload_type: payload_type & 0x7f,
                sequence,
                timestamp: self.timestamp(time),
                ssrc: self.ssrc,
                csrc: Vec::new(),
                extension: None,
            },
            payload,
        }
    }
}

fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extender_wraps_and_places_reordered_packets_before_the_wrap() {
        let mut x = SeqExtender::new();
        assert_eq!(x.extend(65534), Some(SeqNo(65534)));
        assert_eq!(x.extend(1), Some(SeqNo(65537)));
        assert_eq!(x.update(65535), SeqUpdate::Late(SeqNo(65535)));
        assert_eq!(x.extend(2), Some(SeqNo(65538)));
        assert_eq!(x.highest(), Some(SeqNo(65538)));
    }

    #[test]
    fn timestamp_extender_wraps_forward_and_tolerates_reorder() {
        let mut x = TimestampExtender::new();
        assert_eq!(x.extend(u32::MAX - 159), Some(u64::from(u32::MAX) - 159));
        assert_eq!(x.extend(160), Some(u64::from(u32::MAX) + 161));
        assert_eq!(x.extend(u32::MAX), Some(u64::from(u32::MAX)));
        assert_eq!(x.extend(320), Some(u64::from(u32::MAX) + 321));
        // Late packet that would land before the first cycle.
        let mut y = TimestampExtender::new();
        y.extend(10);
        assert_eq!(y.extend(u32::MAX - 10), None);
    }

    #[test]
    fn payload_type_above_127_is_masked_on_write() {
        let mut rng = rand::rngs::mock::StepRng::new(7, 1);
        let mut s = RtpSender::new(&mut rng);
        let p = s.packet(0xff, true, MediaTime::new(0, 8000), vec![]);
        assert_eq!(p.header.payload_type, 0x7f);
        let back = RtpPacket::parse(&p.to_bytes()).unwrap();
        assert!(back.header.marker);
        assert_eq!(back.header.payload_type, 0x7f);
    }
}
