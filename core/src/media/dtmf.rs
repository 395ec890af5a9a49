//! DTMF digits as RTP telephone-events (RFC 4733), sans-IO: the 4-byte payload, the packets a
//! sender produces for one digit, and a receiver that reports each digit exactly once.
//!
//! Every packet of one event carries the RTP timestamp of the event's start; the caller stamps
//! them with [`RtpSender::packet`](super::rtp::RtpSender::packet) at the same media time, each
//! with its own sequence number.

use std::time::{Duration, Instant};

/// The telephone-event payload (RFC 4733 §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TelephoneEvent {
    /// The event code: 0–9, 10 `*`, 11 `#`, 12–15 `A`–`D`, others per the RFC 4734 registry.
    pub event: u8,
    /// The E bit: this packet ends the event.
    pub end: bool,
    /// Power level as −dBm0, 0..=63.
    pub volume: u8,
    /// Duration so far in timestamp units.
    pub duration: u16,
}

/// Why a telephone-event cannot be read or sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DtmfError {
    /// The peer sent a payload shorter than the 4-byte event.
    #[error("telephone-event payload of {0} bytes, need 4")]
    Truncated(usize),
    #[error("{0:?} is not a DTMF digit")]
    UnknownDigit(char),
    /// Zero, longer than [`MAX_DURATION`], or longer than one event's 16-bit duration field
    /// holds at the clock rate.
    #[error("DTMF duration {0:?} cannot be sent")]
    BadDuration(Duration),
}

impl TelephoneEvent {
    /// Parses the first event of a payload; trailing bytes are ignored.
    pub fn parse(payload: &[u8]) -> Result<TelephoneEvent, DtmfError> {
        let b = payload
            .get(..4)
            .ok_or(DtmfError::Truncated(payload.len()))?;
        Ok(TelephoneEvent {
            event: b[0],
            end: b[1] & 0x80 != 0,
            volume: b[1] & 0x3f,
            duration: u16::from_be_bytes([b[2], b[3]]),
        })
    }

    /// The 4-byte payload; the volume keeps its low 6 bits, the reserved bit is zero.
    pub fn to_bytes(&self) -> [u8; 4] {
        let [d0, d1] = self.duration.to_be_bytes();
        [
            self.event,
            u8::from(self.end) << 7 | (self.volume & 0x3f),
            d0,
            d1,
        ]
    }
}

/// The event code of a DTMF digit: `0`–`9`, `*`, `#`, `A`–`D` (either case).
pub fn event_for_digit(digit: char) -> Option<u8> {
    match digit {
        // In range, so the casts are lossless.
        '0'..='9' => Some(digit as u8 - b'0'),
        '*' => Some(10),
        '#' => Some(11),
        'A'..='D' => Some(digit as u8 - b'A' + 12),
        'a'..='d' => Some(digit as u8 - b'a' + 12),
        _ => None,
    }
}

/// The DTMF digit of an event code, `None` for non-DTMF events (flash, tones, …).
pub fn digit_for_event(event: u8) -> Option<char> {
    match event {
        0..=9 => Some(char::from(b'0' + event)),
        10 => Some('*'),
        11 => Some('#'),
        12..=15 => Some(char::from(b'A' + event - 12)),
        _ => None,
    }
}

/// Interval between packets updating an ongoing event (RFC 4733 §2.5.1.2 suggests 50 ms).
pub const UPDATE_INTERVAL: Duration = Duration::from_millis(50);
/// Spacing of the three end packets, so that one short loss burst does not take all three.
pub const END_SPACING: Duration = Duration::from_millis(20);
/// The longest digit we send; longer ones would need segmenting (RFC 4733 §2.5.1.3).
pub const MAX_DURATION: Duration = Duration::from_secs(10);
/// Volume used when the caller has no preference: −10 dBm0.
pub const DEFAULT_VOLUME: u8 = 10;

/// One packet of a digit: when to send it (from the digit's start), its marker bit and payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DtmfPacket {
    pub send_after: Duration,
    pub marker: bool,
    pub event: TelephoneEvent,
}

/// The packets for one digit lasting `duration` at `clock_rate` Hz: a first packet with the
/// marker bit, updates every [`UPDATE_INTERVAL`] whose duration covers the interval being sent,
/// then three end packets with the full duration (RFC 4733 §2.5.1). All carry one timestamp.
pub fn digit_packets(
    digit: char,
    duration: Duration,
    clock_rate: u32,
    volume: u8,
) -> Result<Vec<DtmfPacket>, DtmfError> {
    let event = event_for_digit(digit).ok_or(DtmfError::UnknownDigit(digit))?;
    let ticks = |d: Duration| d.as_nanos() * u128::from(clock_rate) / 1_000_000_000;
    let total = u16::try_from(ticks(duration))
        .ok()
        .filter(|&t| t > 0 && duration <= MAX_DURATION)
        .ok_or(DtmfError::BadDuration(duration))?;
    let mut packets = Vec::new();
    let mut at = Duration::ZERO;
    // Bounded: at most MAX_DURATION / UPDATE_INTERVAL = 200 updates.
    while at < duration {
        let covered = (at + UPDATE_INTERVAL).min(duration);
        packets.push(DtmfPacket {
            send_after: at,
            marker: at.is_zero(),
            event: TelephoneEvent {
                event,
                end: false,
                volume,
                // At most `total`, which fits.
                duration: u16::try_from(ticks(covered)).unwrap_or(total),
            },
        });
        at += UPDATE_INTERVAL;
    }
    for i in 0..3 {
        packets.push(DtmfPacket {
            send_after: duration + END_SPACING * i,
            marker: false,
            event: TelephoneEvent {
                event,
                end: true,
                volume,
                duration: total,
            },
        });
    }
    Ok(packets)
}

/// Sends one digit: the packets of [`digit_packets`] released as time passes.
#[derive(Debug, Clone)]
pub struct DtmfSender {
    start: Instant,
    packets: Vec<DtmfPacket>,
    next: usize,
}

impl DtmfSender {
    /// A digit that starts at `now`.
    pub fn new(
        now: Instant,
        digit: char,
        duration: Duration,
        clock_rate: u32,
        volume: u8,
    ) -> Result<DtmfSender, DtmfError> {
        Ok(DtmfSender {
            start: now,
            packets: digit_packets(digit, duration, clock_rate, volume)?,
            next: 0,
        })
    }

    /// The next packet due at `now`, if any; call until `None`.
    pub fn poll_packet(&mut self, now: Instant) -> Option<DtmfPacket> {
        let p = *self.packets.get(self.next)?;
        if self.start + p.send_after > now {
            return None;
        }
        self.next += 1;
        Some(p)
    }

    /// When the next packet is due; `None` once all were sent.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.packets
            .get(self.next)
            .map(|p| self.start + p.send_after)
    }

    pub fn is_done(&self) -> bool {
        self.next >= self.packets.len()
    }
}

/// A digit the peer pressed, reported once per event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReceivedDigit {
    pub digit: char,
    /// The RTP timestamp of the event's start.
    pub timestamp: u32,
}

/// Turns telephone-event packets into digits, each reported once when its first packet
/// (whichever survived) arrives: a new timestamp is a new event, and updates and retransmitted
/// end packets of the current event are absorbed.
#[derive(Debug, Clone, Default)]
pub struct DtmfReceiver {
    current: Option<Current>,
}

#[derive(Debug, Clone, Copy)]
struct Current {
    timestamp: u32,
    event: u8,
    ended: bool,
}

impl DtmfReceiver {
    pub fn new() -> DtmfReceiver {
        DtmfReceiver::default()
    }

    /// Handles one telephone-event packet with its RTP marker bit and timestamp.
    pub fn handle(
        &mut self,
        marker: bool,
        timestamp: u32,
        event: &TelephoneEvent,
    ) -> Option<ReceivedDigit> {
        if let Some(cur) = &mut self.current {
            if timestamp == cur.timestamp {
                cur.ended |= event.end;
                return None;
            }
            // Truncation intended: signed distance modulo 2^32.
            let ahead = timestamp.wrapping_sub(cur.timestamp) as i32;
            if ahead < 0 {
                // A straggler from an earlier event.
                return None;
            }
            // A long event is sent in segments with new timestamps and no marker (RFC 4733
            // §2.5.1.3); a segment follows within one 16-bit duration of the previous one.
            if !marker && !cur.ended && event.event == cur.event && ahead <= 0x1_0000 {
                cur.timestamp = timestamp;
                cur.ended = event.end;
                return None;
            }
        }
        self.current = Some(Current {
            timestamp,
            event: event.event,
            ended: event.end,
        });
        digit_for_event(event.event).map(|digit| ReceivedDigit { digit, timestamp })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_digit_maps_to_its_event_and_back() {
        for (i, d) in "0123456789*#ABCD".chars().enumerate() {
            assert_eq!(event_for_digit(d), Some(i as u8));
            assert_eq!(digit_for_event(i as u8), Some(d));
        }
        assert_eq!(event_for_digit('b'), Some(13));
        assert_eq!(event_for_digit('E'), None);
        assert_eq!(digit_for_event(16), None);
    }

    #[test]
    fn payload_round_trip_and_rfc_layout() {
        let e = TelephoneEvent {
            event: 11,
            end: true,
            volume: 10,
            duration: 800,
        };
        assert_eq!(e.to_bytes(), [11, 0x8a, 0x03, 0x20]);
        assert_eq!(TelephoneEvent::parse(&e.to_bytes()), Ok(e));
        assert_eq!(
            TelephoneEvent::parse(&[1, 2, 3]),
            Err(DtmfError::Truncated(3))
        );
    }
}
