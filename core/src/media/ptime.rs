//! Packet time, sans-IO: how many milliseconds of audio each RTP packet we send carries.
//!
//! Longer packets cost less on the wire: an IPv4/UDP/RTP header is 40 bytes, i.e. 16 kbit/s at
//! 20 ms packets, 8 at 40 ms and 5.3 at 60 ms, beside 12–32 kbit/s of Opus. On a narrow link
//! (a low `b=AS` or Opus `maxaveragebitrate`) or one that is congested (heavy loss, long round
//! trips as a 3G queue fills), fewer and longer packets leave room for the speech. On a good link
//! 20 ms packets lose less audio per lost packet and add less delay, so we come back to them.
//!
//! The peer decides how long our packets may be: `a=maxptime` (RFC 4566 §6), else `a=ptime` for
//! G.711 (a peer that announces nothing gets 20 ms: linphonec and baresip take 20 ms), and
//! for Opus up to 120 ms unless its `maxptime` says less (RFC 7587 §4.3); we use 20, 40 or 60 ms.

use super::codec::CodecKind;

/// Packet times we send, shortest first.
pub const PTIMES_MS: [u32; 3] = [20, 40, 60];
/// Loss (%) in one RTCP report that lengthens our packets. High on purpose: bursty 3G loss
/// reaches 10–16 % in single 5 s windows at ≈3 % on average (measured on the bench's
/// `3g-typical`: lengthening there cost 0.5 PESQ), and longer packets lose more speech per loss;
/// a congested link shows up first as a long round trip.
pub const UP_LOSS_PCT: u8 = 20;
/// Round trip that lengthens our packets: a queue building up on the path.
pub const UP_RTT_MS: f32 = 350.0;
/// A report at or under this loss and under [`DOWN_RTT_MS`] counts as good.
pub const DOWN_LOSS_PCT: u8 = 3;
pub const DOWN_RTT_MS: f32 = 250.0;
/// Good reports in a row before packets shorten again (RTCP comes every ~5 s: ≈15 s).
pub const DOWN_AFTER_GOOD: u32 = 3;
/// Bytes of IPv4 + UDP + RTP headers per packet.
const HEADER_BYTES: u32 = 40;

/// The longest packet time (20, 40 or 60 ms) the peer allows us to send.
pub fn allowed_max(codec: CodecKind, peer_ptime: Option<u32>, peer_maxptime: Option<u32>) -> u32 {
    let limit = match codec {
        CodecKind::Opus => peer_maxptime.unwrap_or(120),
        CodecKind::Pcmu | CodecKind::Pcma => peer_maxptime.or(peer_ptime).unwrap_or(20),
    };
    longest_within(limit)
}

/// The packet time to start with: the peer's `a=ptime` if it is one we send, at least as long as
/// the negotiated bandwidth needs, and never above `max`.
///
/// `codec_bps` is the codec's rate (Opus: our bitrate after the peer's `maxaveragebitrate`;
/// G.711: 64 000); `bandwidth_kbps` the peer's `b=AS`, which counts the headers too.
pub fn initial(
    codec_bps: u32,
    bandwidth_kbps: Option<u32>,
    peer_ptime: Option<u32>,
    max: u32,
) -> u32 {
    let wanted = peer_ptime
        .filter(|p| PTIMES_MS.contains(p))
        .unwrap_or(PTIMES_MS[0]);
    let fits = |p: u32| match bandwidth_kbps {
        Some(kbps) => codec_bps + HEADER_BYTES * 8 * 1000 / p <= kbps.saturating_mul(1000),
        None => true,
    };
    // A low Opus rate is a narrow link even without b=AS: at 16 kbit/s the headers of 20 ms
    // packets would double the bits on the wire.
    let by_rate = if codec_bps <= 10_000 {
        60
    } else if codec_bps <= 16_000 {
        40
    } else {
        20
    };
    let by_bandwidth = PTIMES_MS
        .into_iter()
        .find(|&p| fits(p))
        .unwrap_or(PTIMES_MS[2]);
    wanted
        .max(by_rate)
        .max(by_bandwidth)
        .min(max.max(PTIMES_MS[0]))
}

/// Adapts the packet time to RTCP reports, with hysteresis: one heavy report lengthens the
/// packets a step, [`DOWN_AFTER_GOOD`] good ones in a row shorten them a step, never below where
/// the call started nor above what the peer allows.
#[derive(Debug, Clone)]
pub struct PacketTime {
    base: u32,
    max: u32,
    current: u32,
    good: u32,
}

impl PacketTime {
    pub fn new(base: u32, max: u32) -> PacketTime {
        let max = longest_within(max);
        let base = longest_within(base).min(max);
        PacketTime {
            base,
            max,
            current: base,
            good: 0,
        }
    }

    /// The packet time in use now (ms).
    pub fn current(&self) -> u32 {
        self.current
    }

    /// One report block about our stream: the loss it reports and the round trip, if known.
    /// Returns the new packet time when it changes.
    pub fn on_report(&mut self, loss_pct: u8, rtt_ms: Option<f32>) -> Option<u32> {
        let heavy = loss_pct >= UP_LOSS_PCT || rtt_ms.is_some_and(|r| r >= UP_RTT_MS);
        let good = loss_pct <= DOWN_LOSS_PCT && rtt_ms.is_none_or(|r| r < DOWN_RTT_MS);
        let next = if heavy {
            self.good = 0;
            step(self.current, 1).min(self.max)
        } else if good {
            self.good += 1;
            if self.good >= DOWN_AFTER_GOOD {
                self.good = 0;
                step(self.current, -1).max(self.base)
            } else {
                self.current
            }
        } else {
            self.good = 0;
            self.current
        };
        (next != self.current).then(|| {
            self.current = next;
            next
        })
    }
}

/// The longest of [`PTIMES_MS`] not above `limit` (20 when all are).
fn longest_within(limit: u32) -> u32 {
    PTIMES_MS
        .into_iter()
        .rev()
        .find(|&p| p <= limit)
        .unwrap_or(PTIMES_MS[0])
}

fn step(current: u32, dir: i32) -> u32 {
    let i = PTIMES_MS.iter().position(|&p| p == current).unwrap_or(0) as i32;
    let j = (i + dir).clamp(0, PTIMES_MS.len() as i32 - 1) as usize;
    PTIMES_MS[j]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_peer_bounds_the_packet_time() {
        // G.711: only what the peer announced; nothing announced is 20 ms.
        assert_eq!(allowed_max(CodecKind::Pcmu, Some(20), None), 20);
        assert_eq!(allowed_max(CodecKind::Pcmu, None, None), 20);
        assert_eq!(allowed_max(CodecKind::Pcmu, Some(20), Some(40)), 40);
        assert_eq!(allowed_max(CodecKind::Pcma, Some(60), None), 60);
        // Opus: up to 120 ms by RFC 7587 (we stop at 60) unless maxptime says less.
        assert_eq!(allowed_max(CodecKind::Opus, Some(20), None), 60);
        assert_eq!(allowed_max(CodecKind::Opus, None, Some(20)), 20);
        assert_eq!(allowed_max(CodecKind::Opus, None, Some(50)), 40);
        assert_eq!(allowed_max(CodecKind::Opus, None, Some(10)), 20);
    }

    #[test]
    fn a_narrow_link_starts_with_longer_packets() {
        assert_eq!(initial(32_000, None, Some(20), 60), 20);
        assert_eq!(initial(32_000, None, Some(40), 60), 40, "the peer's ptime");
        assert_eq!(
            initial(32_000, None, Some(30), 60),
            20,
            "a ptime we do not send"
        );
        assert_eq!(initial(16_000, None, None, 60), 40, "low maxaveragebitrate");
        assert_eq!(initial(8_000, None, None, 60), 60);
        assert_eq!(initial(8_000, None, None, 20), 20, "capped by the peer");
        // b=AS:40 with 24 kbit/s of Opus: 24 + 16 at 20 ms fits; b=AS:36 needs 40 ms (24 + 8).
        assert_eq!(initial(24_000, Some(40), None, 60), 20);
        assert_eq!(initial(24_000, Some(36), None, 60), 40);
        assert_eq!(initial(24_000, Some(30), None, 60), 60);
        // PCMU in 64 kbit/s never fits; the longest allowed.
        assert_eq!(initial(64_000, Some(64), Some(20), 40), 40);
    }

    #[test]
    fn reports_move_the_packet_time_with_hysteresis() {
        let mut p = PacketTime::new(20, 60);
        assert_eq!(p.on_report(2, Some(200.0)), None);
        assert_eq!(
            p.on_report(12, Some(200.0)),
            None,
            "a bursty window of a 3 % link"
        );
        assert_eq!(p.on_report(25, Some(200.0)), Some(40), "heavy loss");
        assert_eq!(p.on_report(1, Some(420.0)), Some(60), "long round trip");
        assert_eq!(p.on_report(30, None), None, "already the longest allowed");
        assert_eq!(p.on_report(0, Some(180.0)), None);
        assert_eq!(p.on_report(0, Some(180.0)), None);
        assert_eq!(p.on_report(0, Some(180.0)), Some(40), "three good reports");
        assert_eq!(p.on_report(0, Some(180.0)), None);
        assert_eq!(
            p.on_report(5, Some(180.0)),
            None,
            "in between: resets the count"
        );
        assert_eq!(p.on_report(0, None), None);
        assert_eq!(p.on_report(0, None), None);
        assert_eq!(p.on_report(0, None), Some(20));
        assert_eq!(p.on_report(0, None), None);
        assert_eq!(p.on_report(0, None), None);
        assert_eq!(p.on_report(0, None), None, "never below the start");
        assert_eq!(p.current(), 20);
        let mut capped = PacketTime::new(20, 20);
        assert_eq!(
            capped.on_report(30, Some(900.0)),
            None,
            "the peer allows 20 ms only"
        );
    }
}
