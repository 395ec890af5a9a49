//! The ZRTP error taxonomy: what went wrong locally, and what the peer did wrong.

use super::algorithms::AlgorithmKind;

/// Everything the ZRTP building blocks can refuse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ZrtpError {
    /// The peer sent something a correct ZRTP endpoint never sends.
    #[error("peer misbehaved: {0}")]
    PeerMisbehaved(#[from] PeerMisbehaved),
    /// Negotiation found no algorithm of this kind that both sides support.
    #[error("no common {0:?} algorithm")]
    NoCommonAlgorithm(AlgorithmKind),
    /// The operation needs an algorithm this implementation does not have (e.g. `Mult` for a DH
    /// exchange, or an unknown id).
    #[error("unsupported {kind:?} algorithm {id}")]
    UnsupportedAlgorithm {
        /// Which list the algorithm belongs to.
        kind: AlgorithmKind,
        /// Its four-character wire id.
        id: String,
    },
    /// A value we were asked to encode does not fit the wire format (caller bug, not peer input).
    #[error("cannot encode: {0}")]
    Encode(&'static str),
}

/// What the peer did that a conforming endpoint never does. Each variant names the offence.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PeerMisbehaved {
    /// The packet is shorter than the fixed header, message header and CRC.
    #[error("packet of {0} bytes is too short for ZRTP")]
    PacketTooShort(usize),
    /// The first 16 bits are not 0x1000.
    #[error("packet header is not ZRTP (first bytes {0:#06x})")]
    BadHeader(u16),
    /// The magic cookie is not 'ZRTP'.
    #[error("magic cookie {0:#010x} is not 'ZRTP'")]
    BadMagicCookie(u32),
    /// The CRC-32C trailer does not match the packet.
    #[error("CRC mismatch")]
    BadCrc,
    /// The message does not start with the 0x505a preamble.
    #[error("message preamble {0:#06x} is not 0x505a")]
    BadPreamble(u16),
    /// The length field (in 32-bit words) disagrees with the bytes present.
    #[error("message length field says {declared_words} words but {actual_bytes} bytes arrived")]
    LengthMismatch {
        /// The length field as sent.
        declared_words: u16,
        /// The number of message bytes actually present.
        actual_bytes: usize,
    },
    /// The message type block names no ZRTP message.
    #[error("unknown message type {0:?}")]
    UnknownMessageType([u8; 8]),
    /// The message has the wrong length for its type.
    #[error("{message} has an invalid length of {words} words")]
    BadMessageLength {
        /// The message type.
        message: &'static str,
        /// The length field as sent.
        words: u16,
    },
    /// A Hello advertised more than seven algorithms of one kind, or lengths disagree.
    #[error("Hello algorithm counts are invalid")]
    BadAlgorithmCount,
    /// A Commit names a key agreement that does not match its form (DH, multistream, preshared).
    #[error("Commit form does not match its key agreement {0}")]
    CommitFormMismatch(String),
    /// The Commit chose an algorithm we never offered and which is not mandatory.
    #[error("Commit chose {kind:?} algorithm {id} that we did not offer")]
    UnofferedAlgorithm {
        /// Which list the algorithm belongs to.
        kind: AlgorithmKind,
        /// Its four-character wire id.
        id: String,
    },
    /// A DH public value had the wrong length for the agreed key agreement.
    #[error("public value of {actual} bytes, expected {expected}")]
    BadPublicValueLength {
        /// Bytes the key agreement requires.
        expected: usize,
        /// Bytes received.
        actual: usize,
    },
    /// A finite-field public value outside 1 < pv < p-1 (RFC 6189 §4.4.1.1).
    #[error("DH public value out of range")]
    DhValueOutOfRange,
    /// An elliptic-curve public value that is not a point on the curve.
    #[error("EC public value is not a point on the curve")]
    PointNotOnCurve,
    /// An X25519 public value that yields an all-zero shared secret (low-order point).
    #[error("X25519 public value is a low-order point")]
    LowOrderPoint,
    /// A message MAC (keyed by the hash chain) does not verify.
    #[error("message MAC does not verify")]
    BadMessageMac,
    /// A hash-chain image does not hash to the previously revealed one.
    #[error("hash chain does not verify")]
    BadHashChain,
    /// The Confirm / SASrelay MAC over the encrypted part does not verify.
    #[error("confirm MAC does not verify")]
    BadConfirmMac,
    /// The decrypted Confirm / SASrelay body is malformed (e.g. signature length overruns).
    #[error("encrypted body is malformed")]
    BadEncryptedBody,
}

impl ZrtpError {
    /// True when the fault lies with the peer (so the caller may answer with a ZRTP Error).
    pub fn is_peer_fault(&self) -> bool {
        matches!(self, ZrtpError::PeerMisbehaved(_))
    }
}
