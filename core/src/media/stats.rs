//! RTP statistics, sans-IO: reception statistics for report blocks (RFC 3550 A.3, A.8), sender
//! counts and round-trip time from LSR/DLSR (§6.4.1), when to send RTCP (§6.2, simplified), and
//! a call-quality summary with a MOS estimate from a simplified ITU-T G.107 E-model.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use rand::RngCore;

use super::rtcp::{
    duration_to_ntp_short, ntp_short_to_duration, NtpTime, ReportBlock, SenderReport,
};
use super::rtp::{SeqExtender, SeqNo, SeqUpdate, Ssrc};

/// Reception statistics for one remote source.
#[derive(Debug, Clone)]
pub struct ReceiverStats {
    ssrc: Ssrc,
    clock_rate: u32,
    seq: SeqExtender,
    /// Extended number of the first packet since the (re)start.
    base_seq: Option<u64>,
    received: u64,
    expected_prior: u64,
    received_prior: u64,
    /// Interarrival jitter in timestamp units (RFC 3550 A.8), kept unrounded.
    jitter: f64,
    /// Arrival (in timestamp units since `origin`) and RTP timestamp of the previous packet.
    last: Option<(f64, u32)>,
    origin: Option<Instant>,
    /// LSR value and arrival time of the last SR from this source.
    last_sr: Option<(u32, Instant)>,
}

impl ReceiverStats {
    /// Statistics for `ssrc`, whose timestamps run at `clock_rate` Hz.
    pub fn new(ssrc: Ssrc, clock_rate: u32) -> ReceiverStats {
        ReceiverStats {
            ssrc,
            clock_rate,
            seq: SeqExtender::new(),
            base_seq: None,
            received: 0,
            expected_prior: 0,
            received_prior: 0,
            jitter: 0.0,
            last: None,
            origin: None,
            last_sr: None,
        }
    }

    pub fn ssrc(&self) -> Ssrc {
        self.ssrc
    }

    /// Records an RTP packet that arrived at `now`. Returns its extended sequence number, or
    /// `None` when the packet should be dropped (an unconfirmed large jump, RFC 3550 A.1).
    pub fn on_rtp(&mut self, now: Instant, sequence: u16, timestamp: u32) -> Option<SeqNo> {
        let update = self.seq.update(sequence);
        let seq = update.seq()?;
        if self.base_seq.is_none() || matches!(update, SeqUpdate::Restarted(_)) {
            // A (re)start: counts begin again here, as in RFC 3550 A.1 init_seq().
            self.base_seq = Some(seq.0);
            self.received = 0;
            self.expected_prior = 0;
            self.received_prior = 0;
        }
        self.received += 1;

        let origin = *self.origin.get_or_insert(now);
        let arrival =
            now.saturating_duration_since(origin).as_secs_f64() * f64::from(self.clock_rate);
        if let Some((last_arrival, last_ts)) = self.last {
            // D(i,j) = (Rj - Ri) - (Sj - Si), with the timestamp difference taken modulo 2^32.
            let ts_diff = f64::from(timestamp.wrapping_sub(last_ts) as i32);
            let d = (arrival - last_arrival) - ts_diff;
            self.jitter += (d.abs() - self.jitter) / 16.0;
        }
        self.last = Some((arrival, timestamp));
        Some(seq)
    }

    /// Records an SR from this source that arrived at `now`, for LSR/DLSR.
    pub fn on_sender_report(&mut self, now: Instant, ntp: NtpTime) {
        self.last_sr = Some((ntp.middle32(), now));
    }

    /// Packets expected since the (re)start: highest extended number − first + 1.
    pub fn expected(&self) -> u64 {
        match (self.seq.highest(), self.base_seq) {
            (Some(max), Some(base)) => max.0.saturating_sub(base) + 1,
            _ => 0,
        }
    }

    /// Packets received since the (re)start, duplicates included (as RFC 3550 counts them).
    pub fn received(&self) -> u64 {
        self.received
    }

    /// Cumulative packets lost; negative when duplicates outnumber losses.
    pub fn cumulative_lost(&self) -> i64 {
        // Both counts are far below 2^63 for any real stream.
        self.expected() as i64 - self.received as i64
    }

    /// Interarrival jitter in timestamp units.
    pub fn jitter(&self) -> u32 {
        // Saturating float-to-int cast; jitter is non-negative.
        self.jitter.round() as u32
    }

    /// Interarrival jitter as a duration.
    pub fn jitter_duration(&self) -> Duration {
        if self.clock_rate == 0 {
            return Duration::ZERO;
        }
        Duration::from_secs_f64(self.jitter / f64::from(self.clock_rate))
    }

    /// The report block for this source at `now`, and the start of a new report interval (the
    /// fraction lost counts from the previous call). `None` before the first packet.
    pub fn report_block(&mut self, now: Instant) -> Option<ReportBlock> {
        let highest = self.seq.highest()?;
        let expected = self.expected();
        let expected_interval = expected.saturating_sub(self.expected_prior);
        let received_interval = self.received.saturating_sub(self.received_prior);
        self.expected_prior = expected;
        self.received_prior = self.received;
        let lost_interval = expected_interval as i64 - received_interval as i64;
        let fraction_lost = if expected_interval == 0 || lost_interval <= 0 {
            0
        } else {
            // lost_interval <= expected_interval, so the quotient is at most 256.
            ((lost_interval as u64) * 256 / expected_interval).min(255) as u8
        };
        let (lsr, dlsr) = match self.last_sr {
            Some((lsr, at)) => (
                lsr,
                duration_to_ntp_short(now.saturating_duration_since(at)),
            ),
            None => (0, 0),
        };
        Some(ReportBlock {
            ssrc: self.ssrc,
            fraction_lost,
            // Clamped into the 24-bit field, so the cast is lossless.
            cumulative_lost: self.cumulative_lost().clamp(-0x80_0000, 0x7f_ffff) as i32,
            // Truncation intended: cycles in the upper 16 bits, modulo 2^32.
            highest_seq: highest.0 as u32,
            jitter: self.jitter(),
            lsr,
            dlsr,
        })
    }
}

/// The sending side of one source: packet and octet counts for SRs, and the SRs we sent, for
/// round-trip times.
#[derive(Debug, Clone, Default)]
pub struct SenderStats {
    packets: u32,
    octets: u32,
    /// LSR value and send time of our most recent SRs, newest last.
    sent_srs: VecDeque<(u32, Instant)>,
}

/// How many of our SRs we remember for matching LSR values (about a minute at 5 s intervals).
const REMEMBERED_SRS: usize = 12;

impl SenderStats {
    pub fn new() -> SenderStats {
        SenderStats::default()
    }

    /// Records an RTP packet sent with `payload_len` payload octets (header and padding are not
    /// counted, RFC 3550 §6.4.1). Counts wrap as the RFC allows.
    pub fn on_rtp_sent(&mut self, payload_len: usize) {
        self.packets = self.packets.wrapping_add(1);
        // Truncation intended: the octet count wraps modulo 2^32.
        self.octets = self.octets.wrapping_add(payload_len as u32);
    }

    pub fn packets(&self) -> u32 {
        self.packets
    }

    pub fn octets(&self) -> u32 {
        self.octets
    }

    /// Builds the SR about to be sent at `now`, whose wall clock reads `ntp` and whose media
    /// clock reads `rtp_timestamp`, and remembers it for [`SenderStats::rtt`].
    pub fn sender_report(
        &mut self,
        now: Instant,
        ssrc: Ssrc,
        ntp: NtpTime,
        rtp_timestamp: u32,
        reports: Vec<ReportBlock>,
    ) -> SenderReport {
        if self.sent_srs.len() == REMEMBERED_SRS {
            self.sent_srs.pop_front();
        }
        self.sent_srs.push_back((ntp.middle32(), now));
        SenderReport {
            ssrc,
            ntp,
            rtp_timestamp,
            packet_count: self.packets,
            octet_count: self.octets,
            reports,
        }
    }

    /// The round-trip time from a report block about our source that arrived at `now`:
    /// arrival − our SR's send time − DLSR (RFC 3550 §6.4.1). `None` when the block names no SR
    /// (LSR 0), an SR we do not remember, or a DLSR longer than the time since that SR.
    pub fn rtt(&self, now: Instant, block: &ReportBlock) -> Option<Duration> {
        if block.lsr == 0 {
            return None;
        }
        let &(_, sent) = self
            .sent_srs
            .iter()
            .rev()
            .find(|(lsr, _)| *lsr == block.lsr)?;
        let elapsed = now.checked_duration_since(sent)?;
        let dlsr = ntp_short_to_duration(block.dlsr);
        // DLSR is rounded to 1/65536 s; allow that much beyond the elapsed time.
        if dlsr > elapsed + Duration::from_micros(16) {
            return None;
        }
        Some(elapsed.saturating_sub(dlsr))
    }
}

/// The nominal RTCP report interval.
pub const RTCP_INTERVAL: Duration = Duration::from_secs(5);

/// When to send the next RTCP compound packet: the nominal interval times a random factor in
/// [0.5, 1.5) (RFC 3550 §6.2), the first after half the interval (the RFC's halved initial
/// minimum). The bandwidth-scaled algorithm of A.7 is not needed for two-party calls.
#[derive(Debug, Clone)]
pub struct RtcpScheduler {
    interval: Duration,
    next: Instant,
}

impl RtcpScheduler {
    pub fn new(now: Instant, rng: &mut impl RngCore) -> RtcpScheduler {
        RtcpScheduler::with_interval(now, RTCP_INTERVAL, rng)
    }

    pub fn with_interval(
        now: Instant,
        interval: Duration,
        rng: &mut impl RngCore,
    ) -> RtcpScheduler {
        RtcpScheduler {
            interval,
            next: now + randomised(interval / 2, rng),
        }
    }

    /// When the next report is due.
    pub fn poll_timeout(&self) -> Instant {
        self.next
    }

    /// `true` when a report is due at `now`; the next one is then scheduled from `now`.
    pub fn handle_timeout(&mut self, now: Instant, rng: &mut impl RngCore) -> bool {
        if now < self.next {
            return false;
        }
        self.next = now + randomised(self.interval, rng);
        true
    }
}

/// A call-quality summary from one report block.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QualityReport {
    /// Fraction of packets lost in the last report interval, 0.0..=1.0.
    pub loss_fraction: f32,
    pub cumulative_lost: i32,
    pub jitter_ms: f32,
    pub rtt_ms: Option<f32>,
    /// Estimated mean opinion score, 1.0..=4.5.
    pub mos: f32,
}

/// The codec whose impairment the E-model applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum EModelCodec {
    Pcmu,
    Pcma,
    Opus,
}

impl EModelCodec {
    /// Equipment impairment factor Ie and packet-loss robustness Bpl. G.711 with packet loss
    /// concealment: Ie 0, Bpl 25.1 (ITU-T G.113 Appendix I). Opus is not in G.113: at the
    /// bitrates we use (24 kbit/s and up) its coding impairment on the narrowband scale is
    /// taken as 0 and its in-band concealment as more robust than G.711's, Bpl 30 (a project
    /// estimate, not an ITU value).
    fn ie_bpl(self) -> (f32, f32) {
        match self {
            EModelCodec::Pcmu | EModelCodec::Pcma => (0.0, 25.1),
            EModelCodec::Opus => (0.0, 30.0),
        }
    }

    /// Packetisation plus algorithmic delay in ms: 20 ms frames, plus Opus' 6.5 ms look-ahead.
    fn codec_delay_ms(self) -> f32 {
        match self {
            EModelCodec::Pcmu | EModelCodec::Pcma => 20.0,
            EModelCodec::Opus => 26.5,
        }
    }
}

impl QualityReport {
    /// Summarises `block` (ours about the peer, or the peer's about us) for a stream at
    /// `clock_rate` Hz, with the round-trip time if known.
    pub fn from_block(
        block: &ReportBlock,
        clock_rate: u32,
        rtt: Option<Duration>,
        codec: EModelCodec,
    ) -> QualityReport {
        let loss_fraction = f32::from(block.fraction_lost) / 256.0;
        let jitter_ms = if clock_rate == 0 {
            0.0
        } else {
            (f64::from(block.jitter) * 1000.0 / f64::from(clock_rate)) as f32
        };
        let rtt_ms = rtt.map(|d| d.as_secs_f32() * 1000.0);
        // Mouth-to-ear delay: half the RTT, a jitter buffer of about twice the jitter, and the
        // codec's own delay.
        let delay_ms = rtt_ms.unwrap_or(0.0) / 2.0 + 2.0 * jitter_ms + codec.codec_delay_ms();
        QualityReport {
            loss_fraction,
            cumulative_lost: block.cumulative_lost,
            jitter_ms,
            rtt_ms,
            mos: mos(codec, delay_ms, loss_fraction),
        }
    }
}

/// The E-model rating R (ITU-T G.107, simplified): R = 93.2 − Id − Ie,eff, with the default
/// R0 − Is − A = 93.2, the delay impairment Id = 0.024 d + 0.11 (d − 177.3) H(d − 177.3)
/// (Cole & Rosenbluth's fit for one-way delay d in ms) and Ie,eff = Ie + (95 − Ie) · Ppl /
/// (Ppl + Bpl) for random loss (BurstR = 1), Ppl in percent.
pub fn r_factor(codec: EModelCodec, one_way_delay_ms: f32, loss_fraction: f32) -> f32 {
    let d = one_way_delay_ms.max(0.0);
    let id = 0.024 * d + if d > 177.3 { 0.11 * (d - 177.3) } else { 0.0 };
    let (ie, bpl) = codec.ie_bpl();
    let ppl = loss_fraction.clamp(0.0, 1.0) * 100.0;
    let ie_eff = ie + (95.0 - ie) * ppl / (ppl + bpl);
    93.2 - id - ie_eff
}

/// MOS from the E-model (ITU-T G.107 Annex B): 1 + 0.035 R + R (R − 60)(100 − R) · 7e-6,
/// 1.0 below R 0 and 4.5 above R 100.
pub fn mos(codec: EModelCodec, one_way_delay_ms: f32, loss_fraction: f32) -> f32 {
    let r = r_factor(codec, one_way_delay_ms, loss_fraction);
    if r <= 0.0 {
        1.0
    } else if r >= 100.0 {
        4.5
    } else {
        1.0 + 0.035 * r + r * (r - 60.0) * (100.0 - r) * 7e-6
    }
}

/// `base` times a uniformly random factor in [0.5, 1.5).
fn randomised(base: Duration, rng: &mut impl RngCore) -> Duration {
    let factor = 0.5 + f64::from(rng.next_u32()) / f64::from(u32::MAX) / (1.0 + f64::EPSILON);
    base.mul_f64(factor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mos_falls_with_loss_and_delay() {
        let clean = mos(EModelCodec::Pcmu, 20.0, 0.0);
        assert!((4.3..=4.45).contains(&clean), "{clean}");
        let lossy = mos(EModelCodec::Pcmu, 20.0, 0.05);
        assert!(lossy < clean - 0.3, "{lossy}");
        // Opus conceals loss better than G.711 in this model.
        assert!(mos(EModelCodec::Opus, 20.0, 0.05) > lossy);
        assert!(mos(EModelCodec::Pcmu, 400.0, 0.0) < 3.7);
        assert_eq!(mos(EModelCodec::Pcmu, 2000.0, 1.0), 1.0);
    }

    #[test]
    #[allow(clippy::disallowed_methods)] // the test's virtual-time origin
    fn scheduler_spreads_reports_between_half_and_one_and_a_half_intervals() {
        let mut rng = rand::rngs::mock::StepRng::new(0, 0x1357_9bdf_2468_ace0);
        let t0 = Instant::now();
        let mut s = RtcpScheduler::new(t0, &mut rng);
        assert!(s.poll_timeout() >= t0 + Duration::from_millis(1250));
        assert!(s.poll_timeout() < t0 + Duration::from_millis(3750));
        let mut now = s.poll_timeout();
        assert!(!s.handle_timeout(now - Duration::from_millis(1), &mut rng));
        for _ in 0..20 {
            assert!(s.handle_timeout(now, &mut rng));
            let gap = s.poll_timeout() - now;
            assert!(gap >= Duration::from_millis(2500) && gap < Duration::from_millis(7500));
            now = s.poll_timeout();
        }
    }
}
