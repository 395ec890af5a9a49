//! One call's audio stream, sans-IO: capture frames in, RTP out; RTP in, playout frames out;
//! RTCP reports both ways; quality figures for the user.
//!
//! The engine calls [`MediaSession::capture`] and [`MediaSession::playout`] once per 20 ms
//! frame of the audio device (48 kHz mono); the packets on the wire may be longer (20, 40 or
//! 60 ms, see [`super::ptime`]): capture gathers frames into packets, playout decodes a packet
//! and plays it out over as many device frames as it lasts. It calls [`MediaSession::handle_datagram`] for each datagram
//! on the RTP port, [`MediaSession::handle_timeout`] at [`MediaSession::poll_timeout`], and
//! drains [`MediaSession::poll_output`].

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime};

use rand::rngs::StdRng;
use rand::{CryptoRng, RngCore, SeedableRng};

use super::codec::{
    new_decoder, new_encoder, packet_samples, CodecKind, Decoder, Encoder, EncoderConfig, Resampler,
};
use super::demux::{classify, PacketKind};
use super::dtmf::{DtmfReceiver, DtmfSender, TelephoneEvent};
use super::jitter::{JitterBuffer, JitterConfig, Playout};
use super::ptime::PacketTime;
use super::rtcp::{parse_compound, write_compound, Bye, NtpTime, ReceiverReport, RtcpPacket};
use super::rtp::{MediaTime, RtpPacket, RtpSender, Ssrc, TimestampExtender};
pub use super::session_output::{MediaError, MediaOutput, QualityFigures, SrtpCounters};
use super::stats::{EModelCodec, QualityReport, ReceiverStats, RtcpScheduler, SenderStats};
use crate::srtp::SrtpSession;
use crate::zrtp::session::{ZrtpConfig, ZrtpEndpoint, ZrtpOutput};

/// The audio device rate: 48 kHz mono (kept equal to `crate::audio::DEVICE_RATE`).
pub const DEVICE_RATE: u32 = 48_000;

/// Samples per 20 ms frame at the device rate.
pub const DEVICE_FRAME: usize = (DEVICE_RATE as usize) / 50;

/// What a session is set up with, from the negotiated SDP.
#[derive(Debug, Clone)]
pub struct MediaParams {
    pub codec: CodecKind,
    pub payload_type: u8,
    /// Where to send RTP (until symmetric RTP latches to where packets really come from).
    pub remote: SocketAddr,
    /// Where to send RTCP: the peer's `a=rtcp`, else its RTP port + 1 (RFC 3550 §11).
    pub remote_rtcp: Option<SocketAddr>,
    pub send: bool,
    pub receive: bool,
    pub telephone_event: Option<u8>,
    pub encoder: EncoderConfig,
    /// Never send or accept clear RTP/RTCP (the account requires encryption): without an
    /// SRTP context the session stays silent.
    pub require_srtp: bool,
    /// Run ZRTP (RFC 6189) on the RTP port; its keys then protect the stream.
    pub zrtp: Option<ZrtpConfig>,
}

pub struct MediaSession {
    params: MediaParams,
    rng: StdRng,
    encoder: Box<dyn Encoder>,
    decoder: Box<dyn Decoder>,
    to_codec: Resampler,
    from_codec: Resampler,
    /// Captured samples at the codec rate waiting for a whole frame.
    capture_fifo: VecDeque<i16>,
    /// Decoded samples at the device rate waiting to be played.
    playout_fifo: VecDeque<i16>,
    /// Decoded samples at the codec rate not yet played (the rest of a 40/60 ms packet).
    decoded: VecDeque<i16>,
    /// The packet time we send, adapted to RTCP reports.
    ptime: PacketTime,
    sender: RtpSender,
    sender_stats: SenderStats,
    /// RTP media time of the next captured frame, in codec clock ticks.
    media_time: u64,
    /// The remote SSRC we play, once seen.
    remote_ssrc: Option<Ssrc>,
    ts: TimestampExtender,
    jitter: JitterBuffer,
    /// Reception statistics of the remote source, once it sent something.
    receiver: Option<ReceiverStats>,
    /// The last report the peer sent about our stream.
    peer_report: Option<QualityReport>,
    rtcp: RtcpScheduler,
    /// Symmetric RTP (NAT): where the peer's packets come from, once they do.
    latched: Option<SocketAddr>,
    /// The same for RTCP.
    rtcp_latched: Option<SocketAddr>,
    last_rtt_ms: Option<f32>,
    out: VecDeque<MediaOutput>,
    encoded: Vec<u8>,
    pcm: Vec<i16>,
    /// SRTP protection, when the call is encrypted.
    srtp: Option<SrtpSession>,
    /// The ZRTP exchange, when the call uses ZRTP.
    zrtp: Option<ZrtpEndpoint>,
    srtp_counters: SrtpCounters,
    /// Digits waiting to be sent, and the one being sent with the media time it started at.
    dtmf_queue: VecDeque<char>,
    dtmf: Option<(DtmfSender, u64)>,
    dtmf_gap_until: Option<Instant>,
    dtmf_in: DtmfReceiver,
    /// The bitrate we send at now (adapted to reported loss).
    bitrate: u32,
    clean_reports: u32,
}

/// How long each DTMF digit lasts, and the pause after it.
const DTMF_DURATION: Duration = Duration::from_millis(120);
const DTMF_GAP: Duration = Duration::from_millis(80);
/// The lowest Opus bitrate loss adaptation goes down to.
const MIN_BITRATE: u32 = 12_000;

impl MediaSession {
    /// `rng` seeds the session's own generator (256 bits): SSRC, RTCP timing and the ZRTP
    /// endpoint's keys. The engine passes the OS generator; a seeded one makes tests
    /// reproducible.
    pub fn new(
        params: MediaParams,
        now: Instant,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<MediaSession, MediaError> {
        let mut seed = [0u8; 32];
        rng.fill_bytes(&mut seed);
        let mut rng = StdRng::from_seed(seed);
        let codec = params.codec;
        let ptime = PacketTime::new(params.encoder.frame_ms, params.encoder.max_frame_ms);
        let encoder = new_encoder(
            codec,
            &EncoderConfig {
                frame_ms: ptime.current(),
                ..params.encoder
            },
        )?;
        let decoder = new_decoder(codec)?;
        let rate = codec.sample_rate();
        let jitter = JitterBuffer::new(JitterConfig {
            clock_rate: codec.rtp_clock_rate(),
            frame_duration: Duration::from_millis(20),
            min_delay: Duration::from_millis(20),
            max_delay: Duration::from_millis(400),
            max_packets: 128,
        });
        let sender = RtpSender::new(&mut rng);
        let rtcp = RtcpScheduler::new(now, &mut rng);
        let zrtp = params.zrtp.clone().map(|cfg| {
            let mut endpoint = ZrtpEndpoint::new(cfg, sender.ssrc.0, now, &mut rng);
            endpoint.start(now);
            endpoint
        });
        let mut session = MediaSession {
            encoder,
            decoder,
            to_codec: Resampler::new(DEVICE_RATE, rate)?,
            from_codec: Resampler::new(rate, DEVICE_RATE)?,
            capture_fifo: VecDeque::with_capacity(2 * DEVICE_FRAME),
            playout_fifo: VecDeque::with_capacity(4 * DEVICE_FRAME),
            decoded: VecDeque::with_capacity(codec.frame_samples(120)),
            ptime,
            sender,
            sender_stats: SenderStats::new(),
            media_time: 0,
            remote_ssrc: None,
            ts: TimestampExtender::new(),
            jitter,
            receiver: None,
            peer_report: None,
            rtcp,
            latched: None,
            rtcp_latched: None,
            last_rtt_ms: None,
            out: VecDeque::new(),
            encoded: Vec::with_capacity(1500),
            pcm: Vec::with_capacity(DEVICE_FRAME),
            srtp: None,
            zrtp,
            srtp_counters: SrtpCounters::default(),
            dtmf_queue: VecDeque::new(),
            dtmf: None,
            dtmf_gap_until: None,
            dtmf_in: DtmfReceiver::new(),
            bitrate: params.encoder.bitrate,
            clean_reports: 0,
            rng,
            params,
        };
        // The first Hello leaves now, not when the first retransmission timer fires.
        session.pump_zrtp();
        Ok(session)
    }

    /// The peer changed its offer/answer (hold, new address): keep the stream, update the rest.
    pub fn update(
        &mut self,
        send: bool,
        receive: bool,
        remote: SocketAddr,
        remote_rtcp: Option<SocketAddr>,
    ) {
        if remote != self.params.remote {
            self.latched = None;
            self.rtcp_latched = None;
        }
        self.params.send = send;
        self.params.receive = receive;
        self.params.remote = remote;
        self.params.remote_rtcp = remote_rtcp;
    }

    fn dest(&self) -> SocketAddr {
        self.latched.unwrap_or(self.params.remote)
    }

    /// Queues DTMF digits (0-9, *, #, A-D) to send as RFC 4733 telephone-events. Returns
    /// false if the peer did not negotiate telephone-event or a digit is not a DTMF digit.
    pub fn send_dtmf(&mut self, digits: &str) -> bool {
        if self.params.telephone_event.is_none()
            || !digits
                .chars()
                .all(|d| super::dtmf::event_for_digit(d).is_some())
        {
            return false;
        }
        self.dtmf_queue.extend(digits.chars());
        true
    }

    /// Sends the telephone-event packets that are due.
    fn pump_dtmf(&mut self, now: Instant) {
        let Some(pt) = self.params.telephone_event else {
            return;
        };
        if self.dtmf.is_none() && self.dtmf_gap_until.is_none_or(|t| now >= t) {
            if let Some(digit) = self.dtmf_queue.pop_front() {
                // RFC 4733 durations are in the event's clock (8 kHz as we offer it).
                if let Ok(sender) = DtmfSender::new(now, digit, DTMF_DURATION, 8_000, 10) {
                    self.dtmf = Some((sender, self.media_time));
                }
            }
        }
        let dest = self.dest();
        let Some((mut sender, start)) = self.dtmf.take() else {
            return;
        };
        let time = MediaTime::new(start, self.params.codec.rtp_clock_rate());
        while let Some(p) = sender.poll_packet(now) {
            let payload = p.event.to_bytes().to_vec();
            let packet = self.sender.packet(pt, p.marker, time, payload);
            self.sender_stats.on_rtp_sent(4);
            self.send_rtp(dest, packet.to_bytes());
        }
        if sender.is_done() {
            self.dtmf_gap_until = Some(now + DTMF_GAP);
        } else {
            self.dtmf = Some((sender, start));
        }
    }

    /// The RTCP BYE that ends our stream (RFC 3550 §6.6): send it when the call ends.
    pub fn bye(&mut self, now: Instant, reason: &str) {
        let ssrc = self.sender.ssrc;
        let report = self.receiver.as_mut().and_then(|r| r.report_block(now));
        let packets = [
            RtcpPacket::ReceiverReport(ReceiverReport {
                ssrc,
                reports: report.into_iter().collect(),
            }),
            RtcpPacket::Bye(Bye {
                sources: vec![ssrc],
                reason: Some(reason.to_string()),
            }),
        ];
        if let Ok(data) = write_compound(&packets) {
            self.send_rtcp(self.rtcp_dest(), data);
        }
    }

    /// Encrypts the media from now on (SDES or ZRTP keys).
    pub fn set_srtp(&mut self, srtp: SrtpSession) {
        self.srtp = Some(srtp);
    }

    pub fn srtp_counters(&self) -> SrtpCounters {
        self.srtp_counters
    }

    fn send_rtp(&mut self, dest: SocketAddr, data: Vec<u8>) {
        match &mut self.srtp {
            Some(srtp) => match srtp.protect_rtp(&data) {
                Ok(data) => self.out.push_back(MediaOutput::Transmit { dest, data }),
                Err(e) => tracing::warn!(error = %e, "SRTP protect failed; packet dropped"),
            },
            None if self.params.require_srtp => {}
            None => self.out.push_back(MediaOutput::Transmit { dest, data }),
        }
    }

    fn send_rtcp(&mut self, dest: SocketAddr, data: Vec<u8>) {
        match &mut self.srtp {
            Some(srtp) => match srtp.protect_rtcp(&data) {
                Ok(data) => self.out.push_back(MediaOutput::TransmitRtcp { dest, data }),
                Err(e) => tracing::warn!(error = %e, "SRTCP protect failed; packet dropped"),
            },
            None if self.params.require_srtp => {}
            None => self.out.push_back(MediaOutput::TransmitRtcp { dest, data }),
        }
    }

    /// The Opus bitrate in use now.
    pub fn bitrate(&self) -> u32 {
        self.bitrate
    }

    /// The packet time we send now, in milliseconds.
    pub fn ptime_ms(&self) -> u32 {
        self.ptime.current()
    }

    /// One 20 ms frame from the microphone (48 kHz mono).
    pub fn capture(&mut self, now: Instant, frame: &[i16]) {
        if self.params.send && !self.params.remote.ip().is_unspecified() {
            self.pump_dtmf(now);
        }
        let codec = self.params.codec;
        let ptime = self.ptime.current();
        let frame_samples = codec.frame_samples(ptime);
        self.pcm.clear();
        self.to_codec.process(frame, &mut self.pcm);
        self.capture_fifo.extend(self.pcm.iter().copied());
        // The resampler's delay can leave a frame short at first; encode whole frames only.
        while self.capture_fifo.len() >= frame_samples {
            self.pcm.clear();
            self.pcm.extend(self.capture_fifo.drain(..frame_samples));
            let ticks = u64::from(codec.rtp_clock_rate() / 1000 * ptime);
            let time = MediaTime::new(self.media_time, codec.rtp_clock_rate());
            self.media_time += ticks;
            if !self.params.send || self.params.remote.ip().is_unspecified() {
                continue;
            }
            self.encoded.clear();
            if let Err(e) = self.encoder.encode(&self.pcm, &mut self.encoded) {
                tracing::warn!(error = %e, "encoder failed; frame dropped");
                continue;
            }
            // Opus DTX: a 1–2 byte payload is a silence frame we need not send.
            if self.encoded.is_empty() || (self.params.encoder.dtx && self.encoded.len() <= 2) {
                continue;
            }
            let packet =
                self.sender
                    .packet(self.params.payload_type, false, time, self.encoded.clone());
            self.sender_stats.on_rtp_sent(self.encoded.len());
            self.send_rtp(self.dest(), packet.to_bytes());
        }
    }

    /// One 20 ms frame for the speaker (48 kHz mono), always exactly [`DEVICE_FRAME`] samples.
    pub fn playout(&mut self, now: Instant, out: &mut Vec<i16>) {
        out.clear();
        let samples = self.params.codec.frame_samples(20);
        // Bounded: every pop yields at least one frame (a packet, concealment or silence), so
        // one pop is the rule; the bound only guards against a decoder that returns nothing.
        for _ in 0..4 {
            if self.decoded.len() >= samples {
                break;
            }
            self.decode_next(now);
        }
        self.pcm.clear();
        let take = self.decoded.len().min(samples);
        self.pcm.extend(self.decoded.drain(..take));
        self.pcm.resize(samples, 0);
        let mut resampled = Vec::with_capacity(DEVICE_FRAME + 64);
        self.from_codec.process(&self.pcm, &mut resampled);
        self.playout_fifo.extend(resampled);
        let take = self.playout_fifo.len().min(DEVICE_FRAME);
        out.extend(self.playout_fifo.drain(..take));
        out.resize(DEVICE_FRAME, 0);
        // Never let the FIFO grow: the jitter buffer owns the delay.
        while self.playout_fifo.len() > 2 * DEVICE_FRAME {
            self.playout_fifo.pop_front();
        }
    }

    /// Takes what the jitter buffer has due and appends its audio (a whole packet, or as long as
    /// the concealed stretch) to `decoded`.
    fn decode_next(&mut self, now: Instant) {
        self.pcm.clear();
        let playout = self.jitter.pop(now);
        let span = self.jitter.last_span() as usize;
        let decoded = match playout {
            Playout::Frame { payload, .. } => self.decoder.decode(&payload, &mut self.pcm),
            Playout::Missing {
                next: Some(next), ..
            } => match self.decoder.decode_fec(&next, span, &mut self.pcm) {
                Ok(true) => Ok(span),
                _ => {
                    self.pcm.clear();
                    self.decoder.conceal(span, &mut self.pcm)
                }
            },
            Playout::Missing { next: None, .. } => self.decoder.conceal(span, &mut self.pcm),
            Playout::Idle => Ok(0),
        };
        if let Err(e) = decoded {
            tracing::debug!(error = %e, "decode failed; concealing");
            self.pcm.clear();
            let _ = self.decoder.conceal(span, &mut self.pcm);
        }
        if self.pcm.is_empty() || !self.params.receive {
            // Silence keeps the resampler's and the FIFO's timing intact.
            self.pcm.clear();
            self.pcm.resize(span, 0);
        }
        self.decoded.extend(self.pcm.iter().copied());
    }

    /// A datagram that arrived on the RTP port.
    pub fn handle_datagram(&mut self, now: Instant, from: SocketAddr, data: &[u8]) {
        let kind = classify(data);
        let clear;
        let data = match (&mut self.srtp, kind) {
            (Some(srtp), PacketKind::Rtp) => match srtp.unprotect_rtp(data) {
                Ok(d) => {
                    clear = d;
                    &clear[..]
                }
                Err(_) => {
                    self.srtp_counters.rejected += 1;
                    return;
                }
            },
            (Some(srtp), PacketKind::Rtcp) => match srtp.unprotect_rtcp(data) {
                Ok(d) => {
                    clear = d;
                    &clear[..]
                }
                Err(_) => {
                    self.srtp_counters.rejected += 1;
                    return;
                }
            },
            (None, PacketKind::Rtp | PacketKind::Rtcp) if self.params.require_srtp => {
                // Nothing received in the clear is played on an encrypted call.
                self.srtp_counters.clear_dropped += 1;
                return;
            }
            _ => data,
        };
        if kind == PacketKind::Zrtp {
            if let Some(z) = &mut self.zrtp {
                z.handle_packet(now, data);
                self.pump_zrtp();
            }
            return;
        }
        match kind {
            PacketKind::Rtp => self.on_rtp(now, from, data),
            PacketKind::Rtcp => {
                self.rtcp_latched = Some(from);
                self.on_rtcp(now, data)
            }
            _ => {}
        }
    }

    fn on_rtp(&mut self, now: Instant, from: SocketAddr, data: &[u8]) {
        let Ok(packet) = RtpPacket::parse(data) else {
            return;
        };
        let h = &packet.header;
        if Some(h.payload_type) == self.params.telephone_event {
            if let Ok(event) = TelephoneEvent::parse(&packet.payload) {
                if let Some(d) = self.dtmf_in.handle(h.marker, h.timestamp, &event) {
                    self.out.push_back(MediaOutput::Dtmf(d.digit));
                }
            }
            return;
        }
        if h.payload_type != self.params.payload_type {
            return;
        }
        let clock = self.params.codec.rtp_clock_rate();
        if self.remote_ssrc != Some(h.ssrc) {
            // A new source (first packet, or the peer restarted its stream): follow it.
            self.jitter.reset();
            self.ts = TimestampExtender::new();
            self.receiver = Some(ReceiverStats::new(h.ssrc, clock));
            self.remote_ssrc = Some(h.ssrc);
        }
        // Symmetric RTP: answer to where the media really comes from (NAT).
        self.latched = Some(from);
        let Some(receiver) = self.receiver.as_mut() else {
            return;
        };
        let Some(seq) = receiver.on_rtp(now, h.sequence, h.timestamp) else {
            return;
        };
        let Some(ts) = self.ts.extend(h.timestamp) else {
            return;
        };
        if self.params.receive {
            // The packet's duration comes from its payload: the peer may packetise as it likes.
            let samples = packet_samples(self.params.codec, &packet.payload).unwrap_or(0);
            let duration = u32::try_from(samples).unwrap_or(0);
            self.jitter
                .push_sized(now, seq.0, ts, duration, packet.payload);
        }
    }

    fn on_rtcp(&mut self, now: Instant, data: &[u8]) {
        let Ok(packets) = parse_compound(data) else {
            return;
        };
        for p in packets {
            let blocks = match &p {
                RtcpPacket::SenderReport(sr) => {
                    if let Some(r) = self.receiver.as_mut().filter(|r| r.ssrc() == sr.ssrc) {
                        r.on_sender_report(now, sr.ntp);
                    }
                    sr.reports.clone()
                }
                RtcpPacket::ReceiverReport(rr) => rr.reports.clone(),
                _ => Vec::new(),
            };
            let ours = self.sender.ssrc;
            for b in blocks.iter().filter(|b| b.ssrc == ours) {
                let rtt = self.sender_stats.rtt(now, b);
                if let Some(rtt) = rtt {
                    self.last_rtt_ms = Some(rtt.as_secs_f32() * 1000.0);
                }
                let codec = self.params.codec;
                self.peer_report = Some(QualityReport::from_block(
                    b,
                    codec.rtp_clock_rate(),
                    rtt,
                    emodel(codec),
                ));
                // Size Opus in-band FEC to the loss the peer reports (RFC 7587 §3.1.3): with
                // no loss it would only take bits from the speech. The loss expected from the
                // start (mobile data) stays the floor: 3G loss comes in bursts between reports.
                let loss_pct = (u32::from(b.fraction_lost) * 100 / 256) as u8;
                let fec_pct = loss_pct.max(self.params.encoder.expected_loss_pct);
                self.encoder
                    .set_fec(self.params.encoder.fec && fec_pct > 0, fec_pct);
                self.adapt_bitrate(loss_pct);
                self.adapt_ptime(loss_pct);
            }
        }
    }

    /// Steps the Opus bitrate down by a quarter while the peer reports more than 3 % loss
    /// (a congested 3G link loses packets before it delivers them late), and back up by an
    /// eighth after three clean reports in a row. G.711 has one rate and is left alone.
    fn adapt_bitrate(&mut self, loss_pct: u8) {
        if self.params.codec != CodecKind::Opus {
            return;
        }
        let max = self.params.encoder.bitrate;
        let next = if loss_pct > 3 {
            self.clean_reports = 0;
            (self.bitrate * 3 / 4).max(MIN_BITRATE)
        } else if loss_pct <= 1 {
            self.clean_reports += 1;
            if self.clean_reports >= 3 {
                self.clean_reports = 0;
                (self.bitrate + self.bitrate / 8).min(max)
            } else {
                self.bitrate
            }
        } else {
            self.bitrate
        };
        if next != self.bitrate {
            tracing::debug!(
                from = self.bitrate,
                to = next,
                loss_pct,
                "Opus bitrate adapted"
            );
            self.bitrate = next;
            self.encoder.set_bitrate(next);
        }
    }

    /// Lengthens our packets on a lossy or slow link and shortens them again when it recovers
    /// (see [`PacketTime`]); the encoder takes the new frame length from the next frame on.
    fn adapt_ptime(&mut self, loss_pct: u8) {
        let Some(next) = self.ptime.on_report(loss_pct, self.last_rtt_ms) else {
            return;
        };
        match self.encoder.set_frame_ms(next) {
            Ok(()) => tracing::debug!(ptime = next, loss_pct, "packet time adapted"),
            Err(e) => {
                // Cannot happen for the packet times PacketTime picks; stay where we are.
                tracing::warn!(error = %e, "packet time not adapted");
                self.ptime = PacketTime::new(self.ptime.current(), self.ptime.current());
            }
        }
    }

    /// RTCP time: `wall` is the wall clock for the SR's NTP timestamp.
    pub fn handle_timeout(&mut self, now: Instant, wall: SystemTime) {
        if let Some(z) = &mut self.zrtp {
            if z.poll_timeout().is_some_and(|t| t <= now) {
                z.handle_timeout(now);
                self.pump_zrtp();
            }
        }
        if !self.rtcp.handle_timeout(now, &mut self.rng) {
            return;
        }
        let block = self.receiver.as_mut().and_then(|r| r.report_block(now));
        let ssrc = self.sender.ssrc;
        let packet = if self.sender_stats.packets() > 0 {
            let ts = self.sender.timestamp(MediaTime::new(
                self.media_time,
                self.params.codec.rtp_clock_rate(),
            ));
            let sr = self.sender_stats.sender_report(
                now,
                ssrc,
                NtpTime::from_system_time(wall),
                ts,
                block.into_iter().collect(),
            );
            RtcpPacket::SenderReport(sr)
        } else {
            RtcpPacket::ReceiverReport(ReceiverReport {
                ssrc,
                reports: block.into_iter().collect(),
            })
        };
        if let Ok(data) = write_compound(&[packet]) {
            self.send_rtcp(self.rtcp_dest(), data);
        }
        self.out.push_back(MediaOutput::Quality(self.quality(now)));
    }

    fn rtcp_dest(&self) -> SocketAddr {
        // Symmetric RTCP where the peer's reports come from; else what its SDP says.
        self.rtcp_latched.unwrap_or_else(|| {
            self.params.remote_rtcp.unwrap_or_else(|| {
                let rtp = self.params.remote;
                SocketAddr::new(rtp.ip(), rtp.port().wrapping_add(1))
            })
        })
    }

    /// What we hear (our reception statistics), with the RTT from the peer's reports.
    pub fn quality(&self, now: Instant) -> QualityFigures {
        let _ = now;
        let codec = self.params.codec;
        let rtt = self
            .last_rtt_ms
            .map(|ms| Duration::from_secs_f32(ms / 1000.0));
        let report = match &self.receiver {
            Some(r) => {
                let mut probe = r.clone();
                match probe.report_block(now) {
                    Some(block) => {
                        // `report_block` reports the interval since the last report; over the
                        // whole call, use the cumulative loss instead.
                        let mut q = QualityReport::from_block(
                            &block,
                            codec.rtp_clock_rate(),
                            rtt,
                            emodel(codec),
                        );
                        let expected = r.expected().max(1) as f32;
                        q.loss_fraction = (r.cumulative_lost().max(0) as f32 / expected).min(1.0);
                        q
                    }
                    None => empty_report(),
                }
            }
            None => empty_report(),
        };
        QualityFigures {
            report,
            jitter: self.jitter.stats(),
            packets_sent: u64::from(self.sender_stats.packets()),
            packets_received: self.receiver.as_ref().map_or(0, |r| r.received()),
        }
    }

    pub fn poll_output(&mut self) -> Option<MediaOutput> {
        self.out.pop_front()
    }

    pub fn poll_timeout(&self) -> Option<Instant> {
        let rtcp = self.rtcp.poll_timeout();
        Some(
            match self.zrtp.as_ref().and_then(ZrtpEndpoint::poll_timeout) {
                Some(z) => z.min(rtcp),
                None => rtcp,
            },
        )
    }

    /// Sends what ZRTP wants sent and takes its keys once it is secure.
    fn pump_zrtp(&mut self) {
        let dest = self.dest();
        let Some(z) = &mut self.zrtp else { return };
        let mut outputs = Vec::new();
        while let Some(o) = z.poll_output() {
            outputs.push(o);
        }
        for o in outputs {
            match o {
                // ZRTP packets go out in the clear: they carry their own protection.
                ZrtpOutput::Transmit(data) => {
                    self.out.push_back(MediaOutput::Transmit { dest, data })
                }
                // A trusted PBX relayed the far end's SAS: same keys, new SAS to show.
                ZrtpOutput::Secure(info) if info.sas_relayed => {
                    self.out.push_back(MediaOutput::ZrtpSecure(Box::new(info)))
                }
                ZrtpOutput::Secure(info) => {
                    match SrtpSession::new(info.srtp_profile, &info.local_srtp, &info.remote_srtp) {
                        Ok(srtp) => {
                            self.srtp = Some(srtp);
                            self.out.push_back(MediaOutput::ZrtpSecure(Box::new(info)));
                        }
                        Err(e) => self
                            .out
                            .push_back(MediaOutput::ZrtpFailed(format!("SRTP: {e}"))),
                    }
                }
                ZrtpOutput::Failed(why) => {
                    self.out.push_back(MediaOutput::ZrtpFailed(why.to_string()))
                }
            }
        }
    }
}

fn emodel(codec: CodecKind) -> EModelCodec {
    match codec {
        CodecKind::Opus => EModelCodec::Opus,
        CodecKind::Pcmu => EModelCodec::Pcmu,
        CodecKind::Pcma => EModelCodec::Pcma,
    }
}

fn empty_report() -> QualityReport {
    QualityReport {
        loss_fraction: 0.0,
        cumulative_lost: 0,
        jitter_ms: 0.0,
        rtt_ms: None,
        mos: 0.0,
    }
}
