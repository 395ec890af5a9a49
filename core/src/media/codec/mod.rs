//! Voice codecs behind one small contract: G.711 µ-law and A-law (pure Rust, with packet loss
//! concealment in the style of G.711 Appendix I) and Opus (libopus through `audiopus`, behind the
//! `opus` cargo feature), plus the Opus fmtp parameters of RFC 7587 and a streaming resampler.
//!
//! Every codec works on mono `i16` PCM at its own [`CodecKind::sample_rate`]: 8 kHz for G.711,
//! 48 kHz for Opus. The device side runs at 48 kHz; [`Resampler`] bridges the two. Encoders and
//! decoders append to the caller's buffers, so one `Vec` can be reused for every frame.
//!
//! ```
//! use sipher::media::codec::{new_decoder, new_encoder, CodecKind, EncoderConfig};
//! let mut enc = new_encoder(CodecKind::Pcmu, &EncoderConfig::default()).unwrap();
//! let mut dec = new_decoder(CodecKind::Pcmu).unwrap();
//! let pcm = vec![1000i16; 160]; // 20 ms at 8 kHz
//! let mut payload = Vec::new();
//! enc.encode(&pcm, &mut payload).unwrap();
//! let mut out = Vec::new();
//! assert_eq!(dec.decode(&payload, &mut out).unwrap(), 160);
//! ```

mod fmtp;
mod g711;
#[cfg(feature = "opus")]
mod opus;
mod plc;
mod resample;

pub use fmtp::OpusFmtp;
pub use g711::{alaw_to_linear, linear_to_alaw, linear_to_ulaw, ulaw_to_linear};
pub use resample::{ResampleError, Resampler};

/// A codec this build can negotiate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CodecKind {
    /// Opus (RFC 6716, RTP payload format RFC 7587), mono, 48 kHz.
    Opus,
    /// G.711 µ-law, static payload type 0.
    Pcmu,
    /// G.711 A-law, static payload type 8.
    Pcma,
}

impl CodecKind {
    /// The codec named by an SDP `a=rtpmap` encoding name and clock rate (names compare
    /// case-insensitively, RFC 4566 §6). Opus is always announced as `opus/48000/2` (RFC 7587 §7).
    pub fn from_sdp_name(name: &str, clock_rate: u32) -> Option<CodecKind> {
        [CodecKind::Opus, CodecKind::Pcmu, CodecKind::Pcma]
            .into_iter()
            .find(|k| k.sdp_name().eq_ignore_ascii_case(name) && k.rtp_clock_rate() == clock_rate)
    }

    /// The encoding name used in `a=rtpmap`.
    pub fn sdp_name(self) -> &'static str {
        match self {
            CodecKind::Opus => "opus",
            CodecKind::Pcmu => "PCMU",
            CodecKind::Pcma => "PCMA",
        }
    }

    /// The channel count written in `a=rtpmap` (Opus is always signalled as 2, RFC 7587 §7).
    pub fn sdp_channels(self) -> Option<u8> {
        match self {
            CodecKind::Opus => Some(2),
            CodecKind::Pcmu | CodecKind::Pcma => None,
        }
    }

    /// The static RTP payload type of RFC 3551, if the codec has one.
    pub fn static_payload_type(self) -> Option<u8> {
        match self {
            CodecKind::Opus => None,
            CodecKind::Pcmu => Some(0),
            CodecKind::Pcma => Some(8),
        }
    }

    /// The RTP timestamp clock rate.
    pub fn rtp_clock_rate(self) -> u32 {
        match self {
            CodecKind::Opus => 48_000,
            CodecKind::Pcmu | CodecKind::Pcma => 8_000,
        }
    }

    /// The PCM sample rate the encoder takes and the decoder produces.
    pub fn sample_rate(self) -> u32 {
        match self {
            CodecKind::Opus => 48_000,
            CodecKind::Pcmu | CodecKind::Pcma => 8_000,
        }
    }

    /// PCM samples in one frame of `frame_ms` milliseconds at [`CodecKind::sample_rate`].
    pub fn frame_samples(self, frame_ms: u32) -> usize {
        (self.sample_rate() / 1000 * frame_ms) as usize
    }
}

/// How many samples (at [`CodecKind::sample_rate`], which is also the RTP clock) one RTP payload
/// holds: G.711 codes one byte per sample, Opus says it in its TOC byte and frame count (RFC 6716
/// §3.1). `None` for an empty or malformed payload, or one longer than Opus's 120 ms (G.711's
/// 200 ms, the most RFC 3551 allows for any audio payload). This is how the
/// receiver learns the peer's packet time, whatever it announced.
pub fn packet_samples(kind: CodecKind, payload: &[u8]) -> Option<usize> {
    match kind {
        CodecKind::Pcmu | CodecKind::Pcma => Some(payload.len()).filter(|&n| n > 0 && n <= 200 * 8),
        CodecKind::Opus => {
            let toc = *payload.first()?;
            let config = toc >> 3;
            let frame = match config {
                0..=11 => [480, 960, 1920, 2880][usize::from(config & 3)],
                12..=15 => [480, 960][usize::from(config & 1)],
                _ => [120, 240, 480, 960][usize::from(config & 3)],
            };
            let frames = match toc & 3 {
                0 => 1,
                1 | 2 => 2,
                _ => usize::from(*payload.get(1)? & 0x3F),
            };
            Some(frame * frames).filter(|&n| n > 0 && n <= 120 * 48)
        }
    }
}

/// Encoder settings. G.711 ignores everything but `frame_ms`, which it does not enforce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EncoderConfig {
    /// Target bitrate in bits per second (Opus accepts 6000..=510000).
    pub bitrate: u32,
    /// Opus in-band forward error correction (LBRR), useful from a few percent of loss.
    pub fec: bool,
    /// Packet loss the encoder should expect, 0..=100; it sizes the FEC data.
    pub expected_loss_pct: u8,
    /// Opus discontinuous transmission: silent frames shrink to 1 or 2 bytes.
    pub dtx: bool,
    /// Frame duration, which is also the packet time we start with; Opus accepts 10, 20, 40 and
    /// 60 ms.
    pub frame_ms: u32,
    /// The longest packet time the session may move to on a poor link (20, 40 or 60 ms; what
    /// the peer allows, see `media::ptime`). 20 keeps the packets at `frame_ms`.
    pub max_frame_ms: u32,
    /// Highest audio frequency Opus may code, in Hz (4000 narrowband … 20000 fullband).
    /// Wideband (8000, "HD voice") by default: at phone bitrates every bit then goes to the
    /// speech band (measured: 32 kbit/s fullband scores 4.05 PESQ-WB, wideband 4.36).
    pub max_bandwidth_hz: u32,
}

impl Default for EncoderConfig {
    /// Wideband voice at 32 kbit/s in 20 ms frames. In-band FEC is allowed but sized for 0 %
    /// loss, so it costs nothing until RTCP reports loss (measured: at 24 kbit/s, FEC sized for
    /// 5 % loss costs 0.8 PESQ-WB on a clean link; see BENCHMARKS.md).
    fn default() -> Self {
        EncoderConfig {
            bitrate: 32_000,
            fec: true,
            expected_loss_pct: 0,
            dtx: false,
            frame_ms: 20,
            max_frame_ms: 20,
            max_bandwidth_hz: 8_000,
        }
    }
}

/// Packet loss (%) Opus FEC is sized for from the first packet on mobile data, before any RTCP
/// report: 3G links lose a few percent, in bursts.
pub const MOBILE_EXPECTED_LOSS_PCT: u8 = 5;

impl EncoderConfig {
    /// The same settings for a phone on mobile data: in-band FEC (if the peer's fmtp allows it)
    /// sized for [`MOBILE_EXPECTED_LOSS_PCT`] from the start, and never less for the call.
    pub fn for_mobile(self) -> EncoderConfig {
        EncoderConfig {
            expected_loss_pct: self.expected_loss_pct.max(MOBILE_EXPECTED_LOSS_PCT),
            ..self
        }
    }
}

/// Turns PCM frames into RTP payloads.
pub trait Encoder: Send {
    /// Encodes one frame of mono PCM at the codec's sample rate and appends the payload to
    /// `out`. Opus needs exactly one frame of the configured `frame_ms`; with DTX on, a payload
    /// of 1 or 2 bytes is a silence frame the caller may leave unsent.
    fn encode(&mut self, pcm: &[i16], out: &mut Vec<u8>) -> Result<(), CodecError>;
    /// Changes the target bitrate (no-op for G.711).
    fn set_bitrate(&mut self, bps: u32);
    /// Switches in-band FEC and the loss it is sized for (no-op for G.711).
    fn set_fec(&mut self, on: bool, expected_loss_pct: u8);
    /// Changes the frame length `encode` takes from the next frame on (packet-time adaptation).
    /// Opus takes 10, 20, 40 and 60 ms; G.711 codes any length and only checks the range.
    fn set_frame_ms(&mut self, frame_ms: u32) -> Result<(), CodecError>;
    /// Which codec this is.
    fn kind(&self) -> CodecKind;
}

/// Turns RTP payloads back into PCM, and hides lost packets.
pub trait Decoder: Send {
    /// Decodes one payload, appends mono PCM at the codec's sample rate to `out` and returns the
    /// number of samples appended.
    fn decode(&mut self, payload: &[u8], out: &mut Vec<i16>) -> Result<usize, CodecError>;
    /// Packet loss concealment for one frame of `samples`.
    fn conceal(&mut self, samples: usize, out: &mut Vec<i16>) -> Result<usize, CodecError>;
    /// Recover the lost frame before `next_payload` from its in-band FEC (Opus); false if not possible.
    fn decode_fec(
        &mut self,
        next_payload: &[u8],
        samples: usize,
        out: &mut Vec<i16>,
    ) -> Result<bool, CodecError>;
}

/// What can go wrong in a codec.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CodecError {
    /// The codec was left out of this build (Opus without the `opus` feature).
    #[error("codec {0:?} is not available in this build")]
    Unavailable(CodecKind),
    /// The PCM frame handed to the encoder has the wrong length.
    #[error("frame of {got} samples, the encoder needs {expected}")]
    BadFrameSize { expected: usize, got: usize },
    /// A concealment or FEC request for a frame length the codec cannot produce.
    #[error("cannot produce a frame of {0} samples")]
    BadConcealLength(usize),
    /// A setting outside what the codec supports.
    #[error("unsupported encoder setting: {0}")]
    InvalidConfig(&'static str),
    /// The peer sent a payload the decoder rejects.
    #[error("malformed payload: {0}")]
    MalformedPayload(String),
    /// The codec library failed for a reason that is not the payload's fault.
    #[error("codec library error: {0}")]
    Library(String),
}

/// An encoder for `kind` set up with `cfg`.
pub fn new_encoder(kind: CodecKind, cfg: &EncoderConfig) -> Result<Box<dyn Encoder>, CodecError> {
    match kind {
        CodecKind::Pcmu | CodecKind::Pcma => Ok(Box::new(g711::G711Encoder::new(kind))),
        #[cfg(feature = "opus")]
        CodecKind::Opus => Ok(Box::new(opus::OpusEncoder::new(cfg)?)),
        #[cfg(not(feature = "opus"))]
        CodecKind::Opus => {
            let _ = cfg;
            Err(CodecError::Unavailable(kind))
        }
    }
}

/// A decoder for `kind`.
pub fn new_decoder(kind: CodecKind) -> Result<Box<dyn Decoder>, CodecError> {
    match kind {
        CodecKind::Pcmu | CodecKind::Pcma => Ok(Box::new(g711::G711Decoder::new(kind))),
        #[cfg(feature = "opus")]
        CodecKind::Opus => Ok(Box::new(opus::OpusDecoder::new()?)),
        #[cfg(not(feature = "opus"))]
        CodecKind::Opus => Err(CodecError::Unavailable(kind)),
    }
}

/// Whether this build can encode and decode `kind`.
pub fn is_available(kind: CodecKind) -> bool {
    match kind {
        CodecKind::Pcmu | CodecKind::Pcma => true,
        CodecKind::Opus => cfg!(feature = "opus"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sdp_names_map_to_kinds() {
        assert_eq!(
            CodecKind::from_sdp_name("opus", 48_000),
            Some(CodecKind::Opus)
        );
        assert_eq!(
            CodecKind::from_sdp_name("OPUS", 48_000),
            Some(CodecKind::Opus)
        );
        assert_eq!(
            CodecKind::from_sdp_name("pcmu", 8_000),
            Some(CodecKind::Pcmu)
        );
        assert_eq!(
            CodecKind::from_sdp_name("PCMA", 8_000),
            Some(CodecKind::Pcma)
        );
        assert_eq!(CodecKind::from_sdp_name("PCMU", 16_000), None);
        assert_eq!(CodecKind::from_sdp_name("G729", 8_000), None);
        assert_eq!(CodecKind::Opus.frame_samples(20), 960);
        assert_eq!(CodecKind::Pcma.frame_samples(20), 160);
    }

    #[test]
    fn packet_durations_come_from_the_payload() {
        assert_eq!(packet_samples(CodecKind::Pcmu, &[0xFF; 480]), Some(480));
        assert_eq!(packet_samples(CodecKind::Pcma, &[]), None);
        assert_eq!(
            packet_samples(CodecKind::Pcmu, &[0; 1601]),
            None,
            "over 200 ms"
        );
        // SILK WB 20 ms (config 9), 40 ms (10), 60 ms (11), one frame each.
        assert_eq!(packet_samples(CodecKind::Opus, &[9 << 3, 0]), Some(960));
        assert_eq!(packet_samples(CodecKind::Opus, &[10 << 3, 0]), Some(1920));
        assert_eq!(packet_samples(CodecKind::Opus, &[11 << 3, 0]), Some(2880));
        // Code 1: two 20 ms frames; code 3: three 20 ms CELT frames (config 19).
        assert_eq!(
            packet_samples(CodecKind::Opus, &[(9 << 3) | 1, 0]),
            Some(1920)
        );
        assert_eq!(
            packet_samples(CodecKind::Opus, &[(19 << 3) | 3, 3]),
            Some(2880)
        );
        // Code 3 without its count byte, a zero count, and 3 × 60 ms (over 120 ms).
        assert_eq!(packet_samples(CodecKind::Opus, &[(19 << 3) | 3]), None);
        assert_eq!(packet_samples(CodecKind::Opus, &[(19 << 3) | 3, 0]), None);
        assert_eq!(packet_samples(CodecKind::Opus, &[(11 << 3) | 3, 3]), None);
        assert_eq!(packet_samples(CodecKind::Opus, &[]), None);
    }

    #[cfg(not(feature = "opus"))]
    #[test]
    fn opus_without_feature_is_unavailable() {
        let err = new_encoder(CodecKind::Opus, &EncoderConfig::default()).err();
        assert_eq!(err, Some(CodecError::Unavailable(CodecKind::Opus)));
    }
}
