//! The media task of a call: the RTP socket, the audio devices and a 20 ms clock around the
//! sans-IO [`MediaSession`].

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::net::UdpSocket;
use tokio::sync::mpsc;

use crate::audio::{AudioSink, AudioSource, NullSink, NullSource, WavSink, WavSource, DEVICE_RATE};
use crate::media::codec::{CodecKind, EncoderConfig, OpusFmtp};
use crate::media::ptime;
use crate::media::session::{MediaOutput, MediaParams, MediaSession, QualityFigures, DEVICE_FRAME};
use crate::sdp::Negotiated;
use crate::sip::ua::{CallHandle, SrtpKeys};
use crate::srtp::SrtpSession;
use crate::zrtp::session::{SecureInfo as ZrtpSecureInfo, ZrtpConfig};

/// Where a call's audio comes from and goes to.
#[derive(Debug, Clone, Default)]
pub struct AudioConfig {
    /// Speech to send (a WAV file at any rate); silence when absent.
    pub play: Option<PathBuf>,
    /// Where to write what arrives (48 kHz mono WAV); discarded when absent.
    pub record: Option<PathBuf>,
}

/// What the media task reports.
#[derive(Debug, Clone, PartialEq)]
pub enum MediaEvent {
    Quality {
        call: CallHandle,
        figures: QualityFigures,
    },
    Dtmf {
        call: CallHandle,
        digit: char,
    },
    /// ZRTP is secure: show the SAS for the users to compare.
    ZrtpSecure {
        call: CallHandle,
        info: Box<ZrtpSecureInfo>,
    },
    /// ZRTP failed (no media flows if the call requires encryption).
    ZrtpFailed {
        call: CallHandle,
        reason: String,
    },
    /// The file given with `play` has been sent completely.
    PlayFinished {
        call: CallHandle,
    },
    Error {
        call: CallHandle,
        error: String,
    },
}

pub(super) enum MediaCommand {
    Update(Negotiated),
    Dtmf(String),
    Mute(bool),
    Stop,
}

/// Handle on a running media task.
pub(super) struct MediaTask {
    commands: mpsc::UnboundedSender<MediaCommand>,
}

impl MediaTask {
    pub(super) fn update(&self, negotiated: Negotiated) {
        let _ = self.commands.send(MediaCommand::Update(negotiated));
    }
    pub(super) fn dtmf(&self, digits: String) {
        let _ = self.commands.send(MediaCommand::Dtmf(digits));
    }
    pub(super) fn mute(&self, on: bool) {
        let _ = self.commands.send(MediaCommand::Mute(on));
    }
    pub(super) fn stop(&self) {
        let _ = self.commands.send(MediaCommand::Stop);
    }
}

/// The media parameters of a negotiated stream, or why it cannot be played.
pub fn params_from(
    negotiated: &Negotiated,
    encoder: &EncoderConfig,
    require_srtp: bool,
) -> Result<MediaParams, String> {
    let codec = CodecKind::from_sdp_name(&negotiated.codec.name, negotiated.codec.clock_rate)
        .ok_or_else(|| format!("codec {} is not supported", negotiated.codec.name))?;
    // RFC 7587: the peer's fmtp says what its decoder takes (FEC, DTX, bitrate cap, ptime).
    let mut encoder = *encoder;
    let (mut peer_ptime, mut peer_maxptime) = (negotiated.ptime, negotiated.max_ptime);
    let codec_bps = match codec {
        CodecKind::Opus => {
            let fmtp = OpusFmtp::parse(negotiated.codec.fmtp.as_deref().unwrap_or(""));
            encoder = fmtp.encoder_config(&encoder);
            peer_ptime = peer_ptime.or(fmtp.ptime);
            peer_maxptime = peer_maxptime.or(fmtp.max_ptime);
            encoder.bitrate
        }
        CodecKind::Pcmu | CodecKind::Pcma => 64_000,
    };
    // Packet time: what the peer allows (a=maxptime, a=ptime), longer from the start when the
    // negotiated bandwidth is low; the session then adapts it to RTCP reports.
    encoder.max_frame_ms = ptime::allowed_max(codec, peer_ptime, peer_maxptime);
    encoder.frame_ms = ptime::initial(
        codec_bps,
        negotiated.bandwidth_kbps,
        peer_ptime,
        encoder.max_frame_ms,
    );
    Ok(MediaParams {
        codec,
        payload_type: negotiated.codec.payload_type.get(),
        remote: negotiated.remote_rtp,
        remote_rtcp: negotiated.remote_rtcp,
        send: negotiated.local_direction.sends(),
        receive: negotiated.local_direction.receives(),
        telephone_event: negotiated.telephone_event.map(|p| p.get()),
        encoder,
        require_srtp,
        zrtp: None,
    })
}

/// The RTP socket and the RTCP socket after it.
#[derive(Clone)]
pub(super) struct RtpSockets {
    pub rtp: Arc<UdpSocket>,
    pub rtcp: Arc<UdpSocket>,
}

/// How a call's media is protected.
pub(super) struct MediaSecurity<'a> {
    /// SDES keys, when negotiated.
    pub srtp: Option<&'a SrtpKeys>,
    /// No clear media, ever.
    pub require_srtp: bool,
    /// Run ZRTP on the media path.
    pub zrtp: Option<ZrtpConfig>,
}

pub(super) fn spawn(
    call: CallHandle,
    negotiated: &Negotiated,
    sockets: RtpSockets,
    security: MediaSecurity<'_>,
    audio: &AudioConfig,
    encoder: &EncoderConfig,
    events: mpsc::UnboundedSender<MediaEvent>,
) -> Result<MediaTask, String> {
    let MediaSecurity {
        srtp,
        require_srtp,
        zrtp,
    } = security;
    let mut params = params_from(negotiated, encoder, require_srtp)?;
    params.zrtp = zrtp;
    let uses_zrtp = params.zrtp.is_some();
    let mut session = MediaSession::new(params, Instant::now(), &mut rand::rngs::OsRng)
        .map_err(|e| e.to_string())?;
    if let Some(keys) = srtp {
        let ctx = SrtpSession::new(keys.profile, &keys.local, &keys.remote)
            .map_err(|e| format!("SRTP: {e}"))?;
        session.set_srtp(ctx);
    } else if require_srtp && !uses_zrtp {
        return Err("the call requires SRTP but no keys were negotiated: no media is sent".into());
    }
    let source: Box<dyn AudioSource> = match &audio.play {
        Some(path) => {
            Box::new(WavSource::open(path).map_err(|e| format!("{}: {e}", path.display()))?)
        }
        None => Box::new(NullSource),
    };
    let sink: Box<dyn AudioSink> = match &audio.record {
        Some(path) => Box::new(
            WavSink::create(path, DEVICE_RATE).map_err(|e| format!("{}: {e}", path.display()))?,
        ),
        None => Box::new(NullSink::default()),
    };
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(run(call, session, sockets, source, sink, rx, events));
    Ok(MediaTask { commands: tx })
}

async fn run(
    call: CallHandle,
    mut session: MediaSession,
    sockets: RtpSockets,
    mut source: Box<dyn AudioSource>,
    mut sink: Box<dyn AudioSink>,
    mut commands: mpsc::UnboundedReceiver<MediaCommand>,
    events: mpsc::UnboundedSender<MediaEvent>,
) {
    let RtpSockets {
        rtp: socket,
        rtcp: rtcp_socket,
    } = sockets;
    let mut ticker = tokio::time::interval(Duration::from_millis(20));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut capture = vec![0i16; DEVICE_FRAME];
    let mut playout = Vec::with_capacity(DEVICE_FRAME);
    let mut buf = vec![0u8; 2048];
    let mut rtcp_buf = vec![0u8; 2048];
    let mut playing = true;
    let mut muted = false;
    let mut stopping = false;
    loop {
        let rtcp_at = session.poll_timeout().map(tokio::time::Instant::from_std);
        tokio::select! {
            _ = ticker.tick() => {
                let now = Instant::now();
                if playing && !source.read_frame(&mut capture) {
                    playing = false;
                    let _ = events.send(MediaEvent::PlayFinished { call });
                }
                if !playing || muted {
                    capture.iter_mut().for_each(|s| *s = 0);
                }
                session.capture(now, &capture);
                session.playout(now, &mut playout);
                sink.write_frame(&playout);
            }
            received = socket.recv_from(&mut buf) => {
                if let Ok((n, from)) = received {
                    session.handle_datagram(Instant::now(), from, &buf[..n]);
                }
            }
            received = rtcp_socket.recv_from(&mut rtcp_buf) => {
                if let Ok((n, from)) = received {
                    session.handle_datagram(Instant::now(), from, &rtcp_buf[..n]);
                }
            }
            _ = sleep_until(rtcp_at) => session.handle_timeout(Instant::now(), std::time::SystemTime::now()),
            cmd = commands.recv() => match cmd {
                Some(MediaCommand::Update(n)) => {
                    session.update(
                        n.local_direction.sends(),
                        n.local_direction.receives(),
                        n.remote_rtp,
                        n.remote_rtcp,
                    );
                }
                Some(MediaCommand::Dtmf(digits)) => {
                    if !session.send_dtmf(&digits) {
                        let _ = events.send(MediaEvent::Error {
                            call,
                            error: format!("cannot send DTMF {digits:?}: not negotiated or not digits"),
                        });
                    }
                }
                Some(MediaCommand::Mute(on)) => muted = on,
                Some(MediaCommand::Stop) | None => {
                    session.bye(Instant::now(), "call ended");
                    stopping = true;
                }
            },
        }
        while let Some(out) = session.poll_output() {
            match out {
                MediaOutput::Transmit { dest, data } => {
                    // Never block the audio clock on the socket: drop what cannot go now.
                    send(&socket, &data, dest).await;
                }
                MediaOutput::TransmitRtcp { dest, data } => {
                    send(&rtcp_socket, &data, dest).await;
                }
                MediaOutput::Quality(figures) => {
                    let _ = events.send(MediaEvent::Quality { call, figures });
                }
                MediaOutput::Dtmf(digit) => {
                    let _ = events.send(MediaEvent::Dtmf { call, digit });
                }
                MediaOutput::ZrtpSecure(info) => {
                    let _ = events.send(MediaEvent::ZrtpSecure { call, info });
                }
                MediaOutput::ZrtpFailed(reason) => {
                    let _ = events.send(MediaEvent::ZrtpFailed { call, reason });
                }
            }
        }
        if stopping {
            break;
        }
    }
    let _ = events.send(MediaEvent::Quality {
        call,
        figures: session.quality(Instant::now()),
    });
    if let Err(e) = sink.finish() {
        let _ = events.send(MediaEvent::Error {
            call,
            error: format!("recording: {e}"),
        });
    }
}

/// Send a datagram without holding up the audio clock: at once when the socket can take it;
/// if tokio has not seen the socket writable yet (its readiness is learnt on first use, which
/// dropped the first ZRTP Hello), wait for writability a bounded 5 ms; otherwise drop it.
async fn send(socket: &UdpSocket, data: &[u8], dest: std::net::SocketAddr) {
    match socket.try_send_to(data, dest) {
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
            let _ =
                tokio::time::timeout(Duration::from_millis(5), socket.send_to(data, dest)).await;
        }
        _ => {}
    }
}

async fn sleep_until(at: Option<tokio::time::Instant>) {
    match at {
        Some(t) => tokio::time::sleep_until(t).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sdp::{Codec, Direction, PayloadType};

    fn negotiated(codec: Codec) -> Negotiated {
        Negotiated {
            remote_rtp: "127.0.0.1:4000".parse().unwrap(),
            remote_rtcp: None,
            codec: codec.clone(),
            codecs: vec![codec],
            ptime: Some(20),
            max_ptime: None,
            bandwidth_kbps: None,
            local_direction: Direction::SendRecv,
            remote_direction: Direction::SendRecv,
            telephone_event: PayloadType::new(101),
            proto: "RTP/AVP".into(),
        }
    }

    #[test]
    fn the_peers_opus_fmtp_shapes_our_encoder() {
        let pt = PayloadType::new(96).unwrap();
        let codec =
            Codec::opus(pt).with_fmtp("maxaveragebitrate=16000;useinbandfec=0;usedtx=1;ptime=40");
        let p = params_from(&negotiated(codec), &EncoderConfig::default(), false).unwrap();
        assert_eq!(p.encoder.bitrate, 16_000, "capped by maxaveragebitrate");
        assert!(!p.encoder.fec, "the peer cannot use FEC");
        assert!(p.encoder.dtx, "the peer asked for DTX");
        assert_eq!(p.encoder.frame_ms, 40, "the peer's fmtp ptime");
        assert_eq!(
            p.encoder.max_frame_ms, 60,
            "Opus: RFC 7587 allows long packets"
        );
        let plain = params_from(
            &negotiated(Codec::opus(pt)),
            &EncoderConfig::default(),
            false,
        )
        .unwrap();
        assert!(plain.encoder.fec && plain.encoder.bitrate == 32_000 && !plain.encoder.dtx);
    }

    #[test]
    fn the_peers_ptime_maxptime_and_bandwidth_set_our_packet_time() {
        let pt = PayloadType::new(96).unwrap();
        let defaults = EncoderConfig::default();
        let pcmu = |ptime, max_ptime, bandwidth_kbps| {
            let n = Negotiated {
                ptime,
                max_ptime,
                bandwidth_kbps,
                ..negotiated(Codec::pcmu())
            };
            let p = params_from(&n, &defaults, false).unwrap();
            (p.encoder.frame_ms, p.encoder.max_frame_ms)
        };
        // linphonec and baresip announce ptime 20 and no maxptime: G.711 stays at 20 ms.
        assert_eq!(pcmu(Some(20), None, None), (20, 20));
        assert_eq!(pcmu(None, None, None), (20, 20));
        assert_eq!(pcmu(Some(20), Some(60), None), (20, 60));
        assert_eq!(
            pcmu(Some(40), None, None),
            (40, 40),
            "the peer asked for 40 ms"
        );
        assert_eq!(
            pcmu(Some(20), Some(60), Some(72)),
            (40, 60),
            "64 + 8 fits 72 kbit/s"
        );
        let opus = |fmtp: &str, max_ptime| {
            let n = Negotiated {
                max_ptime,
                ..negotiated(Codec::opus(pt).with_fmtp(fmtp))
            };
            let p = params_from(&n, &defaults, false).unwrap();
            (p.encoder.frame_ms, p.encoder.max_frame_ms)
        };
        assert_eq!(opus("useinbandfec=1", None), (20, 60));
        assert_eq!(opus("useinbandfec=1", Some(20)), (20, 20), "a=maxptime");
        assert_eq!(opus("maxptime=40", None), (20, 40), "fmtp maxptime");
        assert_eq!(
            opus("maxaveragebitrate=12000", None),
            (40, 60),
            "narrow link"
        );
    }

    #[test]
    fn an_unknown_codec_is_refused_with_its_name() {
        let codec = Codec::new(PayloadType::new(97).unwrap(), "speex", 16000, 1);
        let err = params_from(&negotiated(codec), &EncoderConfig::default(), false).unwrap_err();
        assert!(err.contains("speex"), "{err}");
    }
}
