//! [`SrtpSession`]: one call's SRTP/SRTCP state, both directions.
//!
//! AES-CM and AES-GCM run on `webrtc-srtp`. Its replay protection is off unless asked for, so we
//! ask for it in both SRTP and SRTCP. We also check what it would otherwise trust: packet lengths
//! before it indexes into them, the SRTCP E flag (it returns an E=0 packet without checking the
//! tag), and the number of SSRCs (it keeps state for every SSRC it is shown, authentic or not).

use twofish::Twofish;
use webrtc_srtp::context::Context;
use webrtc_srtp::option::{srtcp_replay_protection, srtp_replay_protection};
use webrtc_srtp::protection_profile::ProtectionProfile;

use super::twofish_cm::{check_rtcp, rtp_header_len, CmContext};
use super::{MasterKeys, SrtpError, SrtpProfile};

/// Packets a receiver accepts out of order behind the newest one (RFC 3711 §3.3.2 asks for at
/// least 64; libsrtp uses 128).
pub const REPLAY_WINDOW: usize = 128;

/// SSRCs one direction keeps state for. A call has one or two; the bound stops a flood of
/// packets with made-up SSRCs from growing memory.
pub const MAX_SSRCS: usize = 32;

/// SRTP and SRTCP protection for one media stream: `protect_*` with our keys for what we send,
/// `unprotect_*` with the peer's keys for what we receive.
pub struct SrtpSession {
    profile: SrtpProfile,
    outbound: Engine,
    inbound: Engine,
}

impl SrtpSession {
    /// Builds both directions. `local` keys protect what we send, `remote` keys unprotect what
    /// the peer sends; both must be for `profile`.
    pub fn new(
        profile: SrtpProfile,
        local: &MasterKeys,
        remote: &MasterKeys,
    ) -> Result<Self, SrtpError> {
        if local.profile() != profile || remote.profile() != profile {
            return Err(SrtpError::ProfileMismatch);
        }
        Ok(SrtpSession {
            profile,
            outbound: Engine::new(local, false)?,
            inbound: Engine::new(remote, true)?,
        })
    }

    pub fn profile(&self) -> SrtpProfile {
        self.profile
    }

    /// Encrypts and authenticates one RTP packet, returning the SRTP packet.
    pub fn protect_rtp(&mut self, packet: &[u8]) -> Result<Vec<u8>, SrtpError> {
        rtp_header_len(packet)?;
        match &mut self.outbound {
            Engine::Webrtc(e) => {
                e.admit_rtp(packet)?;
                e.ctx
                    .encrypt_rtp(packet)
                    .map(|b| b.to_vec())
                    .map_err(map_error)
            }
            Engine::Twofish(c) => c.protect_rtp(packet),
        }
    }

    /// Authenticates, replay-checks and decrypts one SRTP packet, returning the RTP packet.
    pub fn unprotect_rtp(&mut self, packet: &[u8]) -> Result<Vec<u8>, SrtpError> {
        let header_len = rtp_header_len(packet)?;
        if packet.len() < header_len + self.profile.rtp_tag_len() {
            return Err(SrtpError::TooShort {
                what: "SRTP",
                len: packet.len(),
            });
        }
        match &mut self.inbound {
            Engine::Webrtc(e) => {
                e.admit_rtp(packet)?;
                e.ctx
                    .decrypt_rtp(packet)
                    .map(|b| b.to_vec())
                    .map_err(map_error)
            }
            Engine::Twofish(c) => c.unprotect_rtp(packet),
        }
    }

    /// Encrypts and authenticates one RTCP compound packet, appending the SRTCP index.
    pub fn protect_rtcp(&mut self, packet: &[u8]) -> Result<Vec<u8>, SrtpError> {
        check_rtcp(packet, 8)?;
        match &mut self.outbound {
            Engine::Webrtc(e) => {
                e.admit_rtcp(packet)?;
                e.ctx
                    .encrypt_rtcp(packet)
                    .map(|b| b.to_vec())
                    .map_err(map_error)
            }
            Engine::Twofish(c) => c.protect_rtcp(packet),
        }
    }

    /// Authenticates, replay-checks and decrypts one SRTCP packet. Packets with the E flag
    /// clear are refused: we always encrypt SRTCP and expect the peer to do the same.
    pub fn unprotect_rtcp(&mut self, packet: &[u8]) -> Result<Vec<u8>, SrtpError> {
        let tag_len = self.profile.rtcp_tag_len();
        check_rtcp(packet, 8 + 4 + tag_len)?;
        // The E||index word precedes the HMAC tag but follows the GCM tag (RFC 7714 §17).
        let word_at = if self.profile.is_aead() {
            packet.len() - 4
        } else {
            packet.len() - 4 - tag_len
        };
        if packet[word_at] & 0x80 == 0 {
            return Err(SrtpError::UnencryptedSrtcp);
        }
        match &mut self.inbound {
            Engine::Webrtc(e) => {
                e.admit_rtcp(packet)?;
                e.ctx
                    .decrypt_rtcp(packet)
                    .map(|b| b.to_vec())
                    .map_err(map_error)
            }
            Engine::Twofish(c) => c.unprotect_rtcp(packet),
        }
    }
}

impl std::fmt::Debug for SrtpSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SrtpSession")
            .field("profile", &self.profile)
            .finish_non_exhaustive()
    }
}

enum Engine {
    Webrtc(Box<WebrtcEngine>),
    Twofish(Box<CmContext<Twofish>>),
}

impl Engine {
    fn new(keys: &MasterKeys, inbound: bool) -> Result<Self, SrtpError> {
        let profile = match keys.profile() {
            SrtpProfile::Aes128CmHmacSha1_80 => ProtectionProfile::Aes128CmHmacSha1_80,
            SrtpProfile::Aes128CmHmacSha1_32 => ProtectionProfile::Aes128CmHmacSha1_32,
            SrtpProfile::Aes256CmHmacSha1_80 => ProtectionProfile::Aes256CmHmacSha1_80,
            SrtpProfile::Aes256CmHmacSha1_32 => ProtectionProfile::Aes256CmHmacSha1_32,
            SrtpProfile::AeadAes128Gcm => ProtectionProfile::AeadAes128Gcm,
            SrtpProfile::AeadAes256Gcm => ProtectionProfile::AeadAes256Gcm,
            SrtpProfile::Twofish128CmHmacSha1_80
            | SrtpProfile::Twofish128CmHmacSha1_32
            | SrtpProfile::Twofish256CmHmacSha1_80
            | SrtpProfile::Twofish256CmHmacSha1_32 => {
                return Ok(Engine::Twofish(Box::new(CmContext::new(keys)?)))
            }
        };
        let (rtp_opt, rtcp_opt) = if inbound {
            (
                Some(srtp_replay_protection(REPLAY_WINDOW)),
                Some(srtcp_replay_protection(REPLAY_WINDOW)),
            )
        } else {
            (None, None)
        };
        let ctx =
            Context::new(keys.key(), keys.salt(), profile, rtp_opt, rtcp_opt).map_err(map_error)?;
        Ok(Engine::Webrtc(Box::new(WebrtcEngine {
            ctx,
            rtp_ssrcs: Vec::new(),
            rtcp_ssrcs: Vec::new(),
        })))
    }
}

struct WebrtcEngine {
    ctx: Context,
    /// SSRCs `ctx` holds state for; it adds one for any packet it is shown.
    rtp_ssrcs: Vec<u32>,
    rtcp_ssrcs: Vec<u32>,
}

impl WebrtcEngine {
    fn admit_rtp(&mut self, packet: &[u8]) -> Result<(), SrtpError> {
        // Callers checked the 12-byte fixed header.
        let ssrc = u32::from_be_bytes([packet[8], packet[9], packet[10], packet[11]]);
        admit(&mut self.rtp_ssrcs, ssrc)
    }

    fn admit_rtcp(&mut self, packet: &[u8]) -> Result<(), SrtpError> {
        // Callers checked the 8-byte header.
        let ssrc = u32::from_be_bytes([packet[4], packet[5], packet[6], packet[7]]);
        admit(&mut self.rtcp_ssrcs, ssrc)
    }
}

fn admit(ssrcs: &mut Vec<u32>, ssrc: u32) -> Result<(), SrtpError> {
    if ssrcs.contains(&ssrc) {
        return Ok(());
    }
    if ssrcs.len() >= MAX_SSRCS {
        return Err(SrtpError::TooManySsrcs { max: MAX_SSRCS });
    }
    ssrcs.push(ssrc);
    Ok(())
}

fn map_error(e: webrtc_srtp::Error) -> SrtpError {
    use webrtc_srtp::Error as E;
    match e {
        E::SrtpSsrcDuplicated(_, seq) => SrtpError::Replayed {
            index: u64::from(seq),
        },
        E::SrtcpSsrcDuplicated(_, index) => SrtpError::Replayed {
            index: index as u64,
        },
        E::ErrDuplicated => SrtpError::Replayed { index: 0 },
        E::RtpFailedToVerifyAuthTag
        | E::RtcpFailedToVerifyAuthTag
        | E::ErrFailedToVerifyAuthTag
        | E::AesGcm(_) => SrtpError::AuthenticationFailed,
        E::ErrTooShortRtp | E::SrtpTooSmall(..) => SrtpError::TooShort {
            what: "SRTP",
            len: 0,
        },
        E::ErrTooShortRtcp | E::SrtcpTooSmall(..) | E::RtcpInvalidLengthAuthTag(..) => {
            SrtpError::TooShort {
                what: "SRTCP",
                len: 0,
            }
        }
        E::ErrExceededMaxPackets => SrtpError::KeyExhausted,
        E::SrtpMasterKeyLength(expected, got) => SrtpError::KeyLength { expected, got },
        E::SrtpSaltLength(expected, got) => SrtpError::SaltLength { expected, got },
        other => SrtpError::Backend(other.to_string()),
    }
}
