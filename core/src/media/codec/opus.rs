//! Opus through libopus (`audiopus`): 48 kHz mono, VoIP application.

use audiopus::coder::{Decoder as RawDecoder, Encoder as RawEncoder};
use audiopus::{Application, Bitrate, Channels, SampleRate};

use super::{CodecError, CodecKind, Decoder, Encoder, EncoderConfig};

/// An Opus encoder with one fixed frame length.
pub(super) struct OpusEncoder {
    raw: RawEncoder,
    frame: usize,
}

impl OpusEncoder {
    pub(super) fn new(cfg: &EncoderConfig) -> Result<Self, CodecError> {
        check_frame_ms(cfg.frame_ms)?;
        let mut raw = RawEncoder::new(SampleRate::Hz48000, Channels::Mono, Application::Voip)
            .map_err(library)?;
        raw.set_bitrate(Bitrate::BitsPerSecond(clamp_bitrate(cfg.bitrate)))
            .map_err(library)?;
        // FEC only pays once loss is expected: until then it takes bits from the speech.
        raw.set_inband_fec(cfg.fec && cfg.expected_loss_pct > 0)
            .map_err(library)?;
        raw.set_encoder_ctl_request(
            OPUS_SET_MAX_BANDWIDTH_REQUEST,
            max_bandwidth(cfg.max_bandwidth_hz),
        )
        .map_err(library)?;
        raw.set_packet_loss_perc(cfg.expected_loss_pct.min(100))
            .map_err(library)?;
        raw.set_encoder_ctl_request(OPUS_SET_DTX_REQUEST, i32::from(cfg.dtx))
            .map_err(library)?;
        Ok(OpusEncoder {
            raw,
            frame: CodecKind::Opus.frame_samples(cfg.frame_ms),
        })
    }
}

impl Encoder for OpusEncoder {
    fn encode(&mut self, pcm: &[i16], out: &mut Vec<u8>) -> Result<(), CodecError> {
        if pcm.len() != self.frame {
            return Err(CodecError::BadFrameSize {
                expected: self.frame,
                got: pcm.len(),
            });
        }
        let start = out.len();
        out.resize(start + MAX_PACKET, 0);
        match self.raw.encode(pcm, &mut out[start..]) {
            Ok(n) => {
                out.truncate(start + n);
                Ok(())
            }
            Err(e) => {
                out.truncate(start);
                Err(library(e))
            }
        }
    }

    fn set_bitrate(&mut self, bps: u32) {
        // Cannot fail: the value is clamped into the range libopus accepts.
        let _ = self
            .raw
            .set_bitrate(Bitrate::BitsPerSecond(clamp_bitrate(bps)));
    }

    fn set_fec(&mut self, on: bool, expected_loss_pct: u8) {
        // Neither call can fail on a live encoder with an in-range value.
        let _ = self.raw.set_inband_fec(on);
        let _ = self.raw.set_packet_loss_perc(expected_loss_pct.min(100));
    }

    fn set_frame_ms(&mut self, frame_ms: u32) -> Result<(), CodecError> {
        // libopus takes the frame size per call, so the encoder's state (and its FEC history)
        // carries over the change: no glitch at the switch.
        check_frame_ms(frame_ms)?;
        self.frame = CodecKind::Opus.frame_samples(frame_ms);
        Ok(())
    }

    fn kind(&self) -> CodecKind {
        CodecKind::Opus
    }
}

/// The libopus bandwidth constant for a highest coded frequency.
fn max_bandwidth(hz: u32) -> i32 {
    match hz {
        0..=4_000 => 1101,      // OPUS_BANDWIDTH_NARROWBAND
        4_001..=6_000 => 1102,  // OPUS_BANDWIDTH_MEDIUMBAND
        6_001..=8_000 => 1103,  // OPUS_BANDWIDTH_WIDEBAND
        8_001..=12_000 => 1104, // OPUS_BANDWIDTH_SUPERWIDEBAND
        _ => 1105,              // OPUS_BANDWIDTH_FULLBAND
    }
}

/// `OPUS_SET_MAX_BANDWIDTH_REQUEST` from opus_defines.h.
const OPUS_SET_MAX_BANDWIDTH_REQUEST: i32 = 4004;

/// An Opus decoder; concealment and FEC recovery come from libopus.
pub(super) struct OpusDecoder {
    raw: RawDecoder,
    scratch: Vec<i16>,
}

impl OpusDecoder {
    pub(super) fn new() -> Result<Self, CodecError> {
        let raw = RawDecoder::new(SampleRate::Hz48000, Channels::Mono).map_err(library)?;
        Ok(OpusDecoder {
            raw,
            scratch: vec![0; MAX_FRAME],
        })
    }

    fn run(
        &mut self,
        payload: Option<&[u8]>,
        samples: usize,
        fec: bool,
    ) -> Result<usize, CodecError> {
        let buf = &mut self.scratch[..samples];
        self.raw
            .decode(payload, buf, fec)
            .map_err(|e| match payload {
                Some(_) => CodecError::MalformedPayload(e.to_string()),
                None => library(e),
            })
    }
}

impl Decoder for OpusDecoder {
    fn decode(&mut self, payload: &[u8], out: &mut Vec<i16>) -> Result<usize, CodecError> {
        if payload.is_empty() {
            return Err(CodecError::MalformedPayload("empty Opus payload".into()));
        }
        let n = self.run(Some(payload), MAX_FRAME, false)?;
        out.extend_from_slice(&self.scratch[..n]);
        Ok(n)
    }

    fn conceal(&mut self, samples: usize, out: &mut Vec<i16>) -> Result<usize, CodecError> {
        check_length(samples)?;
        let n = self.run(None, samples, false)?;
        out.extend_from_slice(&self.scratch[..n]);
        Ok(n)
    }

    fn decode_fec(
        &mut self,
        next_payload: &[u8],
        samples: usize,
        out: &mut Vec<i16>,
    ) -> Result<bool, CodecError> {
        check_length(samples)?;
        // libopus falls back to plain concealment when the packet has no LBRR data; report that
        // as "not recovered" so the caller can tell real recovery from a guess.
        if !has_lbrr(next_payload) {
            return Ok(false);
        }
        let n = self.run(Some(next_payload), samples, true)?;
        out.extend_from_slice(&self.scratch[..n]);
        Ok(true)
    }
}

/// Whether a mono Opus packet carries SILK in-band FEC (LBRR) data for the previous frame. This is
/// libopus 1.5's `opus_packet_has_lbrr`, which older system libraries lack: the LBRR flag is the
/// range coder's first bit after the per-frame VAD flags, so it is a plain bit of the first byte
/// of the first frame.
pub(super) fn has_lbrr(packet: &[u8]) -> bool {
    let Some(&toc) = packet.first() else {
        return false;
    };
    let config = toc >> 3;
    if config >= 16 {
        return false; // CELT only: no SILK layer
    }
    // SILK frames per Opus frame: 10 and 20 ms carry one, 40 ms two, 60 ms three.
    let silk_frames = match config & 3 {
        0 | 1 => 1,
        2 => 2,
        _ => 3,
    };
    // Hybrid configurations (12..=15) only come in 10 and 20 ms, whose code is the low bit.
    let silk_frames = if config >= 12 { 1 } else { silk_frames };
    match first_frame(packet) {
        Some(&first) => (first >> (7 - silk_frames)) & 1 == 1,
        None => false,
    }
}

/// The first byte of the first frame of an Opus packet (RFC 6716 §3.2), if there is one.
fn first_frame(packet: &[u8]) -> Option<&u8> {
    let toc = *packet.first()?;
    let offset = match toc & 3 {
        0 | 1 => 1,
        2 => {
            // One or two bytes give the first frame's length.
            let b = *packet.get(1)?;
            if b < 252 {
                2
            } else {
                3
            }
        }
        _ => {
            let count = *packet.get(1)?;
            let (vbr, padded, frames) = (count & 0x80 != 0, count & 0x40 != 0, count & 0x3F);
            let mut i = 2;
            if padded {
                // Padding length bytes: each 255 adds 254 and continues; bounded by the packet.
                while *packet.get(i)? == 255 {
                    i += 1;
                }
                i += 1;
            }
            if vbr {
                for _ in 1..frames {
                    i += if *packet.get(i)? < 252 { 1 } else { 2 };
                }
            }
            i
        }
    };
    packet.get(offset)
}

const OPUS_SET_DTX_REQUEST: i32 = 4016;
/// RFC 6716 §3.4: no packet is larger than 1275 bytes per frame; 60 ms in three frames fits here.
const MAX_PACKET: usize = 4000;
/// 120 ms at 48 kHz, the longest packet duration.
const MAX_FRAME: usize = 5760;

fn check_frame_ms(frame_ms: u32) -> Result<(), CodecError> {
    if !matches!(frame_ms, 10 | 20 | 40 | 60) {
        return Err(CodecError::InvalidConfig(
            "Opus frames are 10, 20, 40 or 60 ms",
        ));
    }
    Ok(())
}

fn clamp_bitrate(bps: u32) -> i32 {
    bps.clamp(6_000, 510_000) as i32
}

fn check_length(samples: usize) -> Result<(), CodecError> {
    // libopus produces whole multiples of 2.5 ms (120 samples), up to 120 ms.
    if samples == 0 || samples > MAX_FRAME || samples / 120 * 120 != samples {
        return Err(CodecError::BadConcealLength(samples));
    }
    Ok(())
}

fn library(e: audiopus::Error) -> CodecError {
    CodecError::Library(e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lbrr_flag_is_found_in_every_packet_layout() {
        // SILK-only WB 20 ms (config 9); first frame byte 0b1100_0000: VAD and LBRR set.
        let flagged = 0b1100_0000;
        assert!(has_lbrr(&[9 << 3, flagged, 0]));
        assert!(!has_lbrr(&[9 << 3, 0b1000_0000, 0]), "VAD only");
        // Code 1 (two equal frames): the first frame starts right after the TOC.
        assert!(has_lbrr(&[(9 << 3) | 1, flagged, 0, 0, 0]));
        // Code 2 with a two-byte first-frame length.
        assert!(has_lbrr(&[(9 << 3) | 2, 252, 1, flagged]));
        assert!(!has_lbrr(&[(9 << 3) | 2, 252, 1]), "truncated");
        // Code 3: VBR, padded (255 then 3 = 257 bytes of padding), three frames (two lengths).
        assert!(has_lbrr(&[(9 << 3) | 3, 0xC3, 255, 3, 10, 253, 0, flagged]));
        // 60 ms SILK (config 11) carries three VAD flags before LBRR.
        assert!(has_lbrr(&[11 << 3, 0b0001_0000]));
        assert!(!has_lbrr(&[11 << 3, 0b1110_0000]));
        // CELT-only packets have no SILK layer.
        assert!(!has_lbrr(&[20 << 3, 0xFF]));
        assert!(!has_lbrr(&[]));
    }
}
