//! What a [`super::session::MediaSession`] hands the engine: datagrams to send, quality
//! figures, DTMF and ZRTP news; and why a session cannot start.

use std::net::SocketAddr;

use super::codec::ResampleError;
use super::jitter::JitterStats;
use super::stats::QualityReport;
use crate::zrtp::session::SecureInfo as ZrtpSecureInfo;

/// Something the engine must do or show.
#[derive(Debug, Clone, PartialEq)]
pub enum MediaOutput {
    /// An RTP packet, sent from the RTP socket.
    Transmit {
        dest: SocketAddr,
        data: Vec<u8>,
    },
    /// An RTCP packet, sent from the RTCP socket (RTP port + 1: we do not multiplex, RFC 5761
    /// is not negotiated).
    TransmitRtcp {
        dest: SocketAddr,
        data: Vec<u8>,
    },
    Quality(QualityFigures),
    /// A DTMF digit the peer sent (RFC 4733).
    Dtmf(char),
    /// ZRTP reached its secure state: SRTP now runs on its keys; show the SAS.
    ZrtpSecure(Box<ZrtpSecureInfo>),
    /// ZRTP failed: the call is not protected by it (and stays silent if encryption is required).
    ZrtpFailed(String),
}

/// Figures for the `"quality"` event: what the user's ear gets.
#[derive(Debug, Clone, PartialEq)]
pub struct QualityFigures {
    pub report: QualityReport,
    pub jitter: JitterStats,
    pub packets_sent: u64,
    pub packets_received: u64,
}

/// Why a session cannot start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MediaError {
    #[error("codec: {0}")]
    Codec(#[from] super::codec::CodecError),
    #[error("resampler: {0}")]
    Resample(#[from] ResampleError),
}

/// Counters of SRTP failures, for diagnostics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SrtpCounters {
    /// Packets dropped because they failed authentication or replay checks.
    pub rejected: u64,
    /// Clear packets dropped because the call requires SRTP.
    pub clear_dropped: u64,
}
