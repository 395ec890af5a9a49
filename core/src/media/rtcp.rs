//! RTCP compound packets (RFC 3550 §6): sender and receiver reports with report blocks, SDES
//! CNAME, BYE; APP and unknown packet types are skipped. Also NTP timestamps (§4) from a wall
//! clock value passed in, never read here.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::rtp::Ssrc;

/// One RTCP packet of a compound packet.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RtcpPacket {
    SenderReport(SenderReport),
    ReceiverReport(ReceiverReport),
    SourceDescription(Vec<SdesChunk>),
    Bye(Bye),
}

/// SR (RFC 3550 §6.4.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SenderReport {
    pub ssrc: Ssrc,
    pub ntp: NtpTime,
    pub rtp_timestamp: u32,
    pub packet_count: u32,
    pub octet_count: u32,
    /// At most 31.
    pub reports: Vec<ReportBlock>,
}

/// RR (RFC 3550 §6.4.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiverReport {
    pub ssrc: Ssrc,
    /// At most 31.
    pub reports: Vec<ReportBlock>,
}

/// A reception report block about one source (RFC 3550 §6.4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportBlock {
    /// The source this block reports on.
    pub ssrc: Ssrc,
    /// Lost fraction since the previous report, in 1/256.
    pub fraction_lost: u8,
    /// Cumulative packets lost, a 24-bit signed value (duplicates can make it negative).
    pub cumulative_lost: i32,
    /// Extended highest sequence number received (cycles in the upper 16 bits).
    pub highest_seq: u32,
    /// Interarrival jitter in timestamp units.
    pub jitter: u32,
    /// Middle 32 bits of the NTP timestamp of the last SR received from the source, or 0.
    pub lsr: u32,
    /// Delay since that SR in 1/65536 s, or 0.
    pub dlsr: u32,
}

/// One SDES chunk: a source and its CNAME. Other SDES items are skipped when parsing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SdesChunk {
    pub ssrc: Ssrc,
    /// At most 255 bytes on the wire; a longer one is cut (at a character boundary) on write.
    pub cname: Option<String>,
}

/// BYE (RFC 3550 §6.6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bye {
    /// At most 31.
    pub sources: Vec<Ssrc>,
    /// At most 255 bytes on the wire; a longer one is cut on write.
    pub reason: Option<String>,
}

/// A 64-bit NTP timestamp: seconds since 1900 in the upper half, fraction in the lower.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NtpTime(pub u64);

/// Seconds from the NTP epoch (1900) to the Unix epoch (1970).
const NTP_UNIX_OFFSET: u64 = 2_208_988_800;

impl NtpTime {
    /// The NTP time of a wall clock value the caller read. Times before 1970 map to the Unix
    /// epoch.
    pub fn from_system_time(t: SystemTime) -> NtpTime {
        let since_unix = t.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
        let secs = since_unix.as_secs().wrapping_add(NTP_UNIX_OFFSET);
        // Fraction: nanoseconds scaled to 2^-32 s; < 2^32 since nanos < 10^9.
        let frac = (u64::from(since_unix.subsec_nanos()) << 32) / 1_000_000_000;
        NtpTime(secs << 32 | frac)
    }

    /// The middle 32 bits, as carried in LSR (RFC 3550 §6.4.1).
    pub fn middle32(self) -> u32 {
        // Truncation intended: bits 16..48.
        (self.0 >> 16) as u32
    }
}

/// A duration in NTP short format units of 1/65536 s (DLSR), saturating.
pub fn duration_to_ntp_short(d: Duration) -> u32 {
    let units = d.as_nanos().saturating_mul(65_536) / 1_000_000_000;
    u32::try_from(units).unwrap_or(u32::MAX)
}

/// The duration of an NTP short value (1/65536 s units).
pub fn ntp_short_to_duration(units: u32) -> Duration {
    Duration::from_nanos(u64::from(units) * 1_000_000_000 / 65_536)
}

/// Why bytes are not an RTCP compound packet. Every variant is something the peer did, except
/// [`RtcpError::TooMany`], which is about a packet we were asked to write.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RtcpError {
    #[error("RTCP packet truncated at offset {offset}")]
    Truncated { offset: usize },
    #[error("RTCP version {0}; only version 2 is supported")]
    BadVersion(u8),
    #[error("RTCP padding in a packet that is not the last of the compound")]
    PaddingNotLast,
    #[error("RTCP padding count {0} is invalid")]
    BadPadding(u8),
    #[error("RTCP {what} does not match its header")]
    Malformed { what: &'static str },
    #[error("empty RTCP compound packet")]
    Empty,
    #[error("more than 31 {what} in one RTCP packet")]
    TooMany { what: &'static str },
}

/// The largest count the 5-bit RC/SC field holds.
pub const MAX_COUNT: usize = 31;

/// Parses a compound RTCP packet. APP and unknown packet types (including RFC 4585 feedback)
/// are skipped; unknown SDES items are skipped.
pub fn parse_compound(buf: &[u8]) -> Result<Vec<RtcpPacket>, RtcpError> {
    if buf.is_empty() {
        return Err(RtcpError::Empty);
    }
    let mut out = Vec::new();
    let mut pos = 0;
    // Bounded: each round consumes at least the 4-byte common header.
    while pos < buf.len() {
        let head = buf
            .get(pos..pos + 4)
            .ok_or(RtcpError::Truncated { offset: pos })?;
        let version = head[0] >> 6;
        if version != 2 {
            return Err(RtcpError::BadVersion(version));
        }
        let padded = head[0] & 0x20 != 0;
        let count = usize::from(head[0] & 0x1f);
        let packet_type = head[1];
        let len = 4 * (usize::from(u16::from_be_bytes([head[2], head[3]])) + 1);
        let end = pos + len;
        let packet = buf
            .get(pos..end)
            .ok_or(RtcpError::Truncated { offset: pos })?;
        let mut body = &packet[4..];
        if padded {
            if end != buf.len() {
                return Err(RtcpError::PaddingNotLast);
            }
            let pad = *body.last().ok_or(RtcpError::BadPadding(0))?;
            if pad == 0 || usize::from(pad) > body.len() {
                return Err(RtcpError::BadPadding(pad));
            }
            body = &body[..body.len() - usize::from(pad)];
        }
        match packet_type {
            200 => out.push(RtcpPacket::SenderReport(parse_sr(body, count)?)),
            201 => out.push(RtcpPacket::ReceiverReport(parse_rr(body, count)?)),
            202 => out.push(RtcpPacket::SourceDescription(parse_sdes(body, count)?)),
            203 => out.push(RtcpPacket::Bye(parse_bye(body, count)?)),
            _ => {} // APP (204), feedback (205/206), XR and unknown types: skipped.
        }
        pos = end;
    }
    Ok(out)
}

/// Serialises packets into one compound packet (no padding).
pub fn write_compound(packets: &[RtcpPacket]) -> Result<Vec<u8>, RtcpError> {
    let mut out = Vec::new();
    for p in packets {
        p.write_to(&mut out)?;
    }
    Ok(out)
}

impl RtcpPacket {
    /// Appends this packet to `out`. Fails only when a list exceeds the 5-bit count.
    pub fn write_to(&self, out: &mut Vec<u8>) -> Result<(), RtcpError> {
        let start = out.len();
        match self {
            RtcpPacket::SenderReport(sr) => {
                let count = checked_count(sr.reports.len(), "report blocks")?;
                header(out, count, 200);
                out.extend_from_slice(&sr.ssrc.0.to_be_bytes());
                out.extend_from_slice(&sr.ntp.0.to_be_bytes());
                out.extend_from_slice(&sr.rtp_timestamp.to_be_bytes());
                out.extend_from_slice(&sr.packet_count.to_be_bytes());
                out.extend_from_slice(&sr.octet_count.to_be_bytes());
                sr.reports.iter().for_each(|b| write_block(out, b));
            }
            RtcpPacket::ReceiverReport(rr) => {
                let count = checked_count(rr.reports.len(), "report blocks")?;
                header(out, count, 201);
                out.extend_from_slice(&rr.ssrc.0.to_be_bytes());
                rr.reports.iter().for_each(|b| write_block(out, b));
            }
            RtcpPacket::SourceDescription(chunks) => {
                let count = checked_count(chunks.len(), "SDES chunks")?;
                header(out, count, 202);
                for chunk in chunks {
                    out.extend_from_slice(&chunk.ssrc.0.to_be_bytes());
                    if let Some(cname) = &chunk.cname {
                        let text = cut(cname, 255);
                        out.push(1); // CNAME
                                     // Fits: `cut` keeps at most 255 bytes.
                        out.push(text.len() as u8);
                        out.extend_from_slice(text.as_bytes());
                    }
                    // The END item, then null octets to the next 32-bit boundary.
                    out.push(0);
                    pad_to_word(out, start);
                }
            }
            RtcpPacket::Bye(bye) => {
                let count = checked_count(bye.sources.len(), "BYE sources")?;
                header(out, count, 203);
                bye.sources
                    .iter()
                    .for_each(|s| out.extend_from_slice(&s.0.to_be_bytes()));
                if let Some(reason) = &bye.reason {
                    let text = cut(reason, 255);
                    // Fits: `cut` keeps at most 255 bytes.
                    out.push(text.len() as u8);
                    out.extend_from_slice(text.as_bytes());
                    pad_to_word(out, start);
                }
            }
        }
        // The length field: 32-bit words minus one. A packet of at most 31 blocks/chunks of
        // bounded size is far below 2^16 words.
        let words = (out.len() - start) / 4 - 1;
        out[start + 2..start + 4].copy_from_slice(&(words as u16).to_be_bytes());
        Ok(())
    }
}

// Helpers.

const BLOCK_LEN: usize = 24;

fn parse_sr(body: &[u8], count: usize) -> Result<SenderReport, RtcpError> {
    if body.len() < 24 + count * BLOCK_LEN {
        return Err(RtcpError::Malformed {
            what: "sender report",
        });
    }
    Ok(SenderReport {
        ssrc: Ssrc(be32(&body[0..4])),
        ntp: NtpTime(u64::from(be32(&body[4..8])) << 32 | u64::from(be32(&body[8..12]))),
        rtp_timestamp: be32(&body[12..16]),
        packet_count: be32(&body[16..20]),
        octet_count: be32(&body[20..24]),
        reports: parse_blocks(&body[24..], count),
    })
}

fn parse_rr(body: &[u8], count: usize) -> Result<ReceiverReport, RtcpError> {
    if body.len() < 4 + count * BLOCK_LEN {
        return Err(RtcpError::Malformed {
            what: "receiver report",
        });
    }
    Ok(ReceiverReport {
        ssrc: Ssrc(be32(&body[0..4])),
        reports: parse_blocks(&body[4..], count),
    })
}

/// `body` holds at least `count` blocks (checked by the caller); profile extensions after them
/// are ignored.
fn parse_blocks(body: &[u8], count: usize) -> Vec<ReportBlock> {
    body.chunks_exact(BLOCK_LEN)
        .take(count)
        .map(|b| {
            // Sign-extend the 24-bit cumulative loss.
            let cumulative_lost = (i32::from_be_bytes([b[5], b[6], b[7], 0])) >> 8;
            ReportBlock {
                ssrc: Ssrc(be32(&b[0..4])),
                fraction_lost: b[4],
                cumulative_lost,
                highest_seq: be32(&b[8..12]),
                jitter: be32(&b[12..16]),
                lsr: be32(&b[16..20]),
                dlsr: be32(&b[20..24]),
            }
        })
        .collect()
}

fn parse_sdes(body: &[u8], count: usize) -> Result<Vec<SdesChunk>, RtcpError> {
    let bad = RtcpError::Malformed { what: "SDES" };
    let mut chunks = Vec::with_capacity(count);
    let mut pos = 0;
    for _ in 0..count {
        let ssrc = Ssrc(be32(body.get(pos..pos + 4).ok_or(bad.clone())?));
        pos += 4;
        let mut cname = None;
        // Bounded: each item consumes at least one byte of the body.
        loop {
            let kind = *body.get(pos).ok_or(bad.clone())?;
            if kind == 0 {
                // END: skip to the next 32-bit boundary (counted from the body's start, which
                // is itself word aligned).
                pos = (pos + 4) & !3;
                break;
            }
            let len = usize::from(*body.get(pos + 1).ok_or(bad.clone())?);
            let text = body.get(pos + 2..pos + 2 + len).ok_or(bad.clone())?;
            if kind == 1 {
                cname = Some(String::from_utf8_lossy(text).into_owned());
            }
            pos += 2 + len;
        }
        if pos > body.len() {
            return Err(bad);
        }
        chunks.push(SdesChunk { ssrc, cname });
    }
    Ok(chunks)
}

fn parse_bye(body: &[u8], count: usize) -> Result<Bye, RtcpError> {
    let bad = RtcpError::Malformed { what: "BYE" };
    let ids = body.get(..4 * count).ok_or(bad.clone())?;
    let sources = ids.chunks_exact(4).map(|c| Ssrc(be32(c))).collect();
    let rest = &body[4 * count..];
    let reason = match rest.split_first() {
        None => None,
        Some((&len, text)) => {
            let text = text.get(..usize::from(len)).ok_or(bad)?;
            Some(String::from_utf8_lossy(text).into_owned())
        }
    };
    Ok(Bye { sources, reason })
}

fn header(out: &mut Vec<u8>, count: u8, packet_type: u8) {
    // The length is filled in once the body is written.
    out.extend_from_slice(&[0x80 | count, packet_type, 0, 0]);
}

fn checked_count(n: usize, what: &'static str) -> Result<u8, RtcpError> {
    if n > MAX_COUNT {
        return Err(RtcpError::TooMany { what });
    }
    // Fits: at most 31.
    Ok(n as u8)
}

fn write_block(out: &mut Vec<u8>, b: &ReportBlock) {
    out.extend_from_slice(&b.ssrc.0.to_be_bytes());
    out.push(b.fraction_lost);
    let lost = b.cumulative_lost.clamp(-0x80_0000, 0x7f_ffff).to_be_bytes();
    out.extend_from_slice(&lost[1..]);
    out.extend_from_slice(&b.highest_seq.to_be_bytes());
    out.extend_from_slice(&b.jitter.to_be_bytes());
    out.extend_from_slice(&b.lsr.to_be_bytes());
    out.extend_from_slice(&b.dlsr.to_be_bytes());
}

fn pad_to_word(out: &mut Vec<u8>, start: usize) {
    let words = (out.len() - start).div_ceil(4);
    out.resize(start + 4 * words, 0);
}

/// The longest prefix of `s` of at most `max` bytes that ends on a character boundary.
fn cut(s: &str, max: usize) -> &str {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ntp_time_of_a_known_instant() {
        // 2000-01-01T00:00:00.5Z is 3155673600.5 s after 1900.
        let t = UNIX_EPOCH + Duration::from_millis(946_684_800_500);
        let ntp = NtpTime::from_system_time(t);
        assert_eq!(ntp.0 >> 32, 3_155_673_600);
        assert_eq!(ntp.0 & 0xffff_ffff, 0x8000_0000);
        assert_eq!(ntp.middle32(), (3_155_673_600u32 << 16) | 0x8000);
    }

    #[test]
    fn negative_cumulative_loss_survives_the_24_bit_field() {
        let block = ReportBlock {
            ssrc: Ssrc(1),
            fraction_lost: 0,
            cumulative_lost: -3,
            highest_seq: 0,
            jitter: 0,
            lsr: 0,
            dlsr: 0,
        };
        let rr = RtcpPacket::ReceiverReport(ReceiverReport {
            ssrc: Ssrc(2),
            reports: vec![block],
        });
        let bytes = write_compound(std::slice::from_ref(&rr)).unwrap();
        assert_eq!(parse_compound(&bytes).unwrap(), vec![rr]);
    }
}
