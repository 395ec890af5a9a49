//! ITU-T G.711 µ-law and A-law, by the segment bit operations of the classic reference
//! implementation (Sun Microsystems' public-domain g711.c), which match the G.711 tables.

use super::plc::G711Plc;
use super::{CodecError, CodecKind, Decoder, Encoder};

/// Compresses a 16-bit sample to µ-law (the sample is first reduced to the 14 bits µ-law codes).
pub fn linear_to_ulaw(pcm: i16) -> u8 {
    // Bias of 0x84 in 16-bit terms, 0x21 after dropping the two bits µ-law does not code.
    const BIAS: i32 = 0x21;
    const CLIP: i32 = 8159;
    let mut val = i32::from(pcm) >> 2;
    let mask = if val < 0 {
        val = -val;
        0x7F
    } else {
        0xFF
    };
    let val = val.min(CLIP) + BIAS;
    let seg = segment(val, &SEG_UEND);
    if seg >= 8 {
        return 0x7F ^ mask;
    }
    let code = ((seg as i32) << 4) | ((val >> (seg + 1)) & 0xF);
    (code as u8) ^ mask
}

/// Expands a µ-law code to a 16-bit sample.
pub fn ulaw_to_linear(code: u8) -> i16 {
    let u = !code;
    let mut t = ((i32::from(u) & 0x0F) << 3) + 0x84;
    t <<= (u & 0x70) >> 4;
    // The largest magnitude is (0x0F << 3 + 0x84) << 7 - 0x84 = 32124, inside i16.
    (if u & 0x80 != 0 { 0x84 - t } else { t - 0x84 }) as i16
}

/// Compresses a 16-bit sample to A-law (the sample is first reduced to the 13 bits A-law codes).
pub fn linear_to_alaw(pcm: i16) -> u8 {
    let mut val = i32::from(pcm) >> 3;
    let mask = if val >= 0 {
        0xD5
    } else {
        val = -val - 1;
        0x55
    };
    let seg = segment(val, &SEG_AEND);
    if seg >= 8 {
        return 0x7F ^ mask;
    }
    let mut code = (seg as i32) << 4;
    code |= if seg < 2 {
        (val >> 1) & 0xF
    } else {
        (val >> seg) & 0xF
    };
    (code as u8) ^ mask
}

/// Expands an A-law code to a 16-bit sample.
pub fn alaw_to_linear(code: u8) -> i16 {
    let a = code ^ 0x55;
    let mut t = (i32::from(a) & 0x0F) << 4;
    let seg = (a & 0x70) >> 4;
    match seg {
        0 => t += 8,
        1 => t += 0x108,
        _ => {
            t += 0x108;
            t <<= seg - 1;
        }
    }
    // The largest magnitude is (0xF0 + 0x108) << 6 = 32256, inside i16.
    (if a & 0x80 != 0 { t } else { -t }) as i16
}

/// G.711 encoder: one byte per 8 kHz sample, any frame length.
pub(super) struct G711Encoder {
    kind: CodecKind,
}

impl G711Encoder {
    pub(super) fn new(kind: CodecKind) -> Self {
        debug_assert!(matches!(kind, CodecKind::Pcmu | CodecKind::Pcma));
        G711Encoder { kind }
    }
}

impl Encoder for G711Encoder {
    fn encode(&mut self, pcm: &[i16], out: &mut Vec<u8>) -> Result<(), CodecError> {
        let compress = if self.kind == CodecKind::Pcma {
            linear_to_alaw
        } else {
            linear_to_ulaw
        };
        out.extend(pcm.iter().map(|&s| compress(s)));
        Ok(())
    }

    fn set_bitrate(&mut self, _bps: u32) {}

    fn set_fec(&mut self, _on: bool, _expected_loss_pct: u8) {}

    fn set_frame_ms(&mut self, frame_ms: u32) -> Result<(), CodecError> {
        if frame_ms == 0 || frame_ms as usize * 8 > MAX_FRAME {
            return Err(CodecError::InvalidConfig("G.711 frames are 1 to 200 ms"));
        }
        Ok(())
    }

    fn kind(&self) -> CodecKind {
        self.kind
    }
}

/// G.711 decoder with G.711 Appendix I style concealment (see [`G711Plc`]).
pub(super) struct G711Decoder {
    kind: CodecKind,
    plc: G711Plc,
}

impl G711Decoder {
    pub(super) fn new(kind: CodecKind) -> Self {
        debug_assert!(matches!(kind, CodecKind::Pcmu | CodecKind::Pcma));
        G711Decoder {
            kind,
            plc: G711Plc::new(),
        }
    }
}

impl Decoder for G711Decoder {
    fn decode(&mut self, payload: &[u8], out: &mut Vec<i16>) -> Result<usize, CodecError> {
        let expand = if self.kind == CodecKind::Pcma {
            alaw_to_linear
        } else {
            ulaw_to_linear
        };
        let start = out.len();
        out.extend(payload.iter().map(|&c| expand(c)));
        self.plc.good_frame(&mut out[start..]);
        Ok(payload.len())
    }

    fn conceal(&mut self, samples: usize, out: &mut Vec<i16>) -> Result<usize, CodecError> {
        // A frame longer than the longest packet time (RFC 3551 allows up to 200 ms for any
        // audio payload) is a caller bug; refuse it rather than allocate without bound.
        if samples > MAX_FRAME {
            return Err(CodecError::BadConcealLength(samples));
        }
        self.plc.conceal(samples, out);
        Ok(samples)
    }

    fn decode_fec(
        &mut self,
        _next_payload: &[u8],
        _samples: usize,
        _out: &mut Vec<i16>,
    ) -> Result<bool, CodecError> {
        Ok(false)
    }
}

/// 200 ms at 8 kHz.
const MAX_FRAME: usize = 1600;

const SEG_UEND: [i32; 8] = [0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF];
const SEG_AEND: [i32; 8] = [0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF];

/// The first segment whose end is at least `val`, or 8 when there is none.
fn segment(val: i32, ends: &[i32; 8]) -> usize {
    ends.iter().position(|&end| val <= end).unwrap_or(8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ulaw_known_code_points() {
        assert_eq!(linear_to_ulaw(0), 0xFF);
        assert_eq!(linear_to_ulaw(-1), 0x7F - 0x01);
        assert_eq!(linear_to_ulaw(i16::MAX), 0x80);
        assert_eq!(linear_to_ulaw(i16::MIN), 0x00);
        assert_eq!(ulaw_to_linear(0xFF), 0);
        assert_eq!(ulaw_to_linear(0x7F), 0);
        assert_eq!(ulaw_to_linear(0x80), 32124);
        assert_eq!(ulaw_to_linear(0x00), -32124);
        assert_eq!(ulaw_to_linear(0xF0), 120);
        assert_eq!(ulaw_to_linear(0xEF), 132);
    }

    #[test]
    fn alaw_known_code_points() {
        assert_eq!(linear_to_alaw(0), 0xD5);
        assert_eq!(linear_to_alaw(-1), 0x55);
        assert_eq!(linear_to_alaw(i16::MAX), 0xAA);
        assert_eq!(linear_to_alaw(i16::MIN), 0x2A);
        assert_eq!(alaw_to_linear(0xD5), 8);
        assert_eq!(alaw_to_linear(0x55), -8);
        assert_eq!(alaw_to_linear(0xAA), 32256);
        assert_eq!(alaw_to_linear(0x2A), -32256);
    }
}
