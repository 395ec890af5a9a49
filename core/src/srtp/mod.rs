//! SRTP and SRTCP (RFC 3711) contexts and SDES key exchange (RFC 4568), sans-IO.
//!
//! [`SrtpSession`] protects what we send and unprotects what we receive, each direction keyed by
//! its own [`MasterKeys`]. The AES-CM (RFC 3711, RFC 6188) and AES-GCM (RFC 7714) profiles run on
//! `webrtc-srtp` with replay protection switched on; the Twofish-CM profiles that ZRTP can agree
//! on (`2FS1`/`2FS3`) run on a small counter-mode transform of our own with the same construction.
//! [`sdes`] parses, prints and negotiates `a=crypto` lines.
//!
//! ```
//! use sipher::srtp::{MasterKeys, SrtpProfile, SrtpSession};
//!
//! let profile = SrtpProfile::Aes128CmHmacSha1_80;
//! let alice_keys = MasterKeys::new(profile, &[1; 16], &[2; 14]).unwrap();
//! let bob_keys = MasterKeys::new(profile, &[3; 16], &[4; 14]).unwrap();
//! let mut alice = SrtpSession::new(profile, &alice_keys, &bob_keys).unwrap();
//! let mut bob = SrtpSession::new(profile, &bob_keys, &alice_keys).unwrap();
//!
//! // A minimal RTP packet: V=2, PT 0, seq 1, timestamp 160, SSRC 0x11223344, two payload bytes.
//! let rtp = [0x80, 0, 0, 1, 0, 0, 0, 160, 0x11, 0x22, 0x33, 0x44, 0xAB, 0xCD];
//! let srtp = alice.protect_rtp(&rtp).unwrap();
//! assert_eq!(srtp.len(), rtp.len() + 10);
//! assert_eq!(bob.unprotect_rtp(&srtp).unwrap(), rtp);
//! // The same packet a second time is a replay.
//! assert!(bob.unprotect_rtp(&srtp).is_err());
//! ```

pub mod context;
pub mod sdes;
mod twofish_cm;

pub use context::{SrtpSession, MAX_SSRCS, REPLAY_WINDOW};

use std::fmt;

/// An SRTP protection profile: cipher, key and salt sizes, and authentication tag length.
///
/// The first six are the SDES suites we speak (RFC 4568, RFC 6188, RFC 7714); the Twofish ones
/// exist only for ZRTP-keyed sessions and have no SDES name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SrtpProfile {
    Aes128CmHmacSha1_80,
    Aes128CmHmacSha1_32,
    Aes256CmHmacSha1_80,
    Aes256CmHmacSha1_32,
    AeadAes128Gcm,
    AeadAes256Gcm,
    /// ZRTP cipher `2FS1` with HMAC-SHA1-80 (`HS80`).
    Twofish128CmHmacSha1_80,
    /// ZRTP cipher `2FS1` with HMAC-SHA1-32 (`HS32`).
    Twofish128CmHmacSha1_32,
    /// ZRTP cipher `2FS3` with HMAC-SHA1-80.
    Twofish256CmHmacSha1_80,
    /// ZRTP cipher `2FS3` with HMAC-SHA1-32.
    Twofish256CmHmacSha1_32,
}

impl SrtpProfile {
    /// Every profile, SDES suites first, in our order of preference for an SDES offer.
    pub const ALL: [SrtpProfile; 10] = [
        SrtpProfile::Aes128CmHmacSha1_80,
        SrtpProfile::Aes128CmHmacSha1_32,
        SrtpProfile::Aes256CmHmacSha1_80,
        SrtpProfile::Aes256CmHmacSha1_32,
        SrtpProfile::AeadAes128Gcm,
        SrtpProfile::AeadAes256Gcm,
        SrtpProfile::Twofish128CmHmacSha1_80,
        SrtpProfile::Twofish128CmHmacSha1_32,
        SrtpProfile::Twofish256CmHmacSha1_80,
        SrtpProfile::Twofish256CmHmacSha1_32,
    ];

    /// The crypto-suite name used in `a=crypto`, or `None` for profiles SDES cannot carry.
    pub fn sdes_name(self) -> Option<&'static str> {
        match self {
            SrtpProfile::Aes128CmHmacSha1_80 => Some("AES_CM_128_HMAC_SHA1_80"),
            SrtpProfile::Aes128CmHmacSha1_32 => Some("AES_CM_128_HMAC_SHA1_32"),
            SrtpProfile::Aes256CmHmacSha1_80 => Some("AES_256_CM_HMAC_SHA1_80"),
            SrtpProfile::Aes256CmHmacSha1_32 => Some("AES_256_CM_HMAC_SHA1_32"),
            SrtpProfile::AeadAes128Gcm => Some("AEAD_AES_128_GCM"),
            SrtpProfile::AeadAes256Gcm => Some("AEAD_AES_256_GCM"),
            _ => None,
        }
    }

    /// The profile named by an SDES crypto-suite, if we support it.
    pub fn from_sdes_name(name: &str) -> Option<SrtpProfile> {
        SrtpProfile::ALL
            .into_iter()
            .find(|p| p.sdes_name() == Some(name))
    }

    /// Master key length in bytes.
    pub fn key_len(self) -> usize {
        match self {
            SrtpProfile::Aes128CmHmacSha1_80
            | SrtpProfile::Aes128CmHmacSha1_32
            | SrtpProfile::AeadAes128Gcm
            | SrtpProfile::Twofish128CmHmacSha1_80
            | SrtpProfile::Twofish128CmHmacSha1_32 => 16,
            SrtpProfile::Aes256CmHmacSha1_80
            | SrtpProfile::Aes256CmHmacSha1_32
            | SrtpProfile::AeadAes256Gcm
            | SrtpProfile::Twofish256CmHmacSha1_80
            | SrtpProfile::Twofish256CmHmacSha1_32 => 32,
        }
    }

    /// Master salt length in bytes: 112 bits for counter mode, 96 bits for GCM (RFC 7714 §12).
    pub fn salt_len(self) -> usize {
        if self.is_aead() {
            12
        } else {
            14
        }
    }

    /// Bytes the SRTP transform adds to an RTP packet (authentication tag or GCM tag).
    pub fn rtp_tag_len(self) -> usize {
        match self {
            SrtpProfile::AeadAes128Gcm | SrtpProfile::AeadAes256Gcm => 16,
            SrtpProfile::Aes128CmHmacSha1_32
            | SrtpProfile::Aes256CmHmacSha1_32
            | SrtpProfile::Twofish128CmHmacSha1_32
            | SrtpProfile::Twofish256CmHmacSha1_32 => 4,
            _ => 10,
        }
    }

    /// Bytes of SRTCP authentication tag. The 32-bit profiles still use an 80-bit SRTCP tag
    /// (RFC 4568 §6.2, RFC 5764 §4.1.2), as libsrtp does.
    pub fn rtcp_tag_len(self) -> usize {
        if self.is_aead() {
            16
        } else {
            10
        }
    }

    /// Whether this is an AEAD (GCM) profile.
    pub fn is_aead(self) -> bool {
        matches!(
            self,
            SrtpProfile::AeadAes128Gcm | SrtpProfile::AeadAes256Gcm
        )
    }
}

impl fmt::Display for SrtpProfile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.sdes_name() {
            Some(name) => f.write_str(name),
            None => fmt::Debug::fmt(self, f),
        }
    }
}

/// A master key and master salt of the right lengths for one profile.
///
/// `Debug` never prints the key material.
#[derive(Clone, PartialEq, Eq)]
pub struct MasterKeys {
    profile: SrtpProfile,
    key: Vec<u8>,
    salt: Vec<u8>,
}

impl MasterKeys {
    /// Checks the lengths against `profile`.
    pub fn new(profile: SrtpProfile, key: &[u8], salt: &[u8]) -> Result<Self, SrtpError> {
        if key.len() != profile.key_len() {
            return Err(SrtpError::KeyLength {
                expected: profile.key_len(),
                got: key.len(),
            });
        }
        if salt.len() != profile.salt_len() {
            return Err(SrtpError::SaltLength {
                expected: profile.salt_len(),
                got: salt.len(),
            });
        }
        Ok(MasterKeys {
            profile,
            key: key.to_vec(),
            salt: salt.to_vec(),
        })
    }

    /// Fresh random key and salt for `profile`.
    pub fn generate(profile: SrtpProfile, rng: &mut impl rand::RngCore) -> Self {
        let mut key = vec![0; profile.key_len()];
        let mut salt = vec![0; profile.salt_len()];
        rng.fill_bytes(&mut key);
        rng.fill_bytes(&mut salt);
        MasterKeys { profile, key, salt }
    }

    /// Splits `key || salt` as carried in an SDES `inline:` parameter.
    pub fn from_concatenated(profile: SrtpProfile, bytes: &[u8]) -> Result<Self, SrtpError> {
        let want = profile.key_len() + profile.salt_len();
        if bytes.len() != want {
            return Err(SrtpError::KeyLength {
                expected: want,
                got: bytes.len(),
            });
        }
        let (key, salt) = bytes.split_at(profile.key_len());
        MasterKeys::new(profile, key, salt)
    }

    pub fn profile(&self) -> SrtpProfile {
        self.profile
    }

    pub fn key(&self) -> &[u8] {
        &self.key
    }

    pub fn salt(&self) -> &[u8] {
        &self.salt
    }

    /// `key || salt`, the SDES `inline:` payload before base64.
    pub fn concatenated(&self) -> Vec<u8> {
        [self.key.as_slice(), self.salt.as_slice()].concat()
    }
}

impl fmt::Debug for MasterKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MasterKeys")
            .field("profile", &self.profile)
            .finish_non_exhaustive()
    }
}

impl Drop for MasterKeys {
    fn drop(&mut self) {
        // Best effort: the allocator may have copied the bytes before, but do not leave them here.
        self.key.iter_mut().for_each(|b| *b = 0);
        self.salt.iter_mut().for_each(|b| *b = 0);
    }
}

/// Why a packet could not be protected or unprotected, or a context not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SrtpError {
    // Setup errors.
    #[error("master key must be {expected} bytes, got {got}")]
    KeyLength { expected: usize, got: usize },
    #[error("master salt must be {expected} bytes, got {got}")]
    SaltLength { expected: usize, got: usize },
    #[error("local and remote keys are for different profiles")]
    ProfileMismatch,

    // The peer (or someone on the path) sent something we refuse.
    #[error("{what} packet of {len} bytes is too short")]
    TooShort { what: &'static str, len: usize },
    #[error("not an RTP/RTCP version 2 packet")]
    BadVersion,
    #[error("authentication failed")]
    AuthenticationFailed,
    #[error("replayed or too old packet (index {index})")]
    Replayed { index: u64 },
    #[error("SRTCP packet with the E flag clear: we never accept unencrypted SRTCP")]
    UnencryptedSrtcp,
    #[error("more than {max} SSRCs in one direction")]
    TooManySsrcs { max: usize },

    // Our side.
    #[error("the key has protected 2^48 SRTP or 2^31 SRTCP packets and must be replaced")]
    KeyExhausted,
    #[error("SRTP backend error: {0}")]
    Backend(String),
}
