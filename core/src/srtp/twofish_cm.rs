//! Counter-mode encryption with HMAC-SHA1 authentication for SRTP and SRTCP over any 128-bit block
//! cipher: the RFC 3711 AES-CM construction (§4.1.1 keystream, §4.2 authentication, §4.3.3 key
//! derivation with kdr = 0), used with Twofish for ZRTP's `2FS1`/`2FS3` ciphers.
//!
//! GNU ZRTP (libzrtpcpp `CryptoContext::deriveSrtpKeys`, `SrtpSymCrypto`) uses Twofish in place of
//! AES both for the keystream and as the key-derivation PRF, so this module does the same.
//!
//! Twofish key setup quirk: the RustCrypto `twofish` crate declares a 256-bit `KeySize`, so
//! `KeyInit::new` only takes 32 bytes. Zero-padding a 128-bit ZRTP key to 32 bytes would give a
//! *different* cipher (the 256-bit key schedule), not Twofish-128. A 128-bit key must go through
//! `new_from_slice` with its 16 bytes, which selects the 128-bit schedule like libzrtpcpp's
//! `Twofish_prepare_key(k, 16, ...)`. The same generic code runs with AES in the tests, where the
//! RFC 3711 and RFC 6188 vectors pin the construction down.

use hmac::{Hmac, Mac};
use sha1::Sha1;
use subtle::ConstantTimeEq;
use twofish::cipher::generic_array::GenericArray;
use twofish::cipher::{consts::U16, BlockEncrypt, BlockSizeUser, KeyInit};

use super::{MasterKeys, SrtpError};

/// RFC 3711 §4.3.1 key-derivation labels.
const LABEL_RTP_ENCRYPTION: u8 = 0x00;
const LABEL_RTP_AUTH: u8 = 0x01;
const LABEL_RTP_SALT: u8 = 0x02;
const LABEL_RTCP_ENCRYPTION: u8 = 0x03;
const LABEL_RTCP_AUTH: u8 = 0x04;
const LABEL_RTCP_SALT: u8 = 0x05;

/// HMAC-SHA1 session authentication keys are 160 bits (RFC 3711 §8.2).
const AUTH_KEY_LEN: usize = 20;
const SESSION_SALT_LEN: usize = 14;
/// SRTP packet indexes are 48 bits, SRTCP indexes 31 bits (RFC 3711 §3.2.1, §3.4).
const MAX_RTP_INDEX: u64 = (1 << 48) - 1;
const MAX_RTCP_INDEX: u64 = (1 << 31) - 1;
const RTCP_E_FLAG: u32 = 0x8000_0000;

/// One direction of a counter-mode SRTP/SRTCP context.
pub(crate) struct CmContext<C> {
    rtp: SessionKeys<C>,
    rtcp: SessionKeys<C>,
    rtp_tag_len: usize,
    rtcp_tag_len: usize,
    /// Highest index and replay window per SSRC, bounded by `MAX_SSRCS`.
    rtp_streams: Vec<(u32, Window)>,
    rtcp_streams: Vec<(u32, Window)>,
}

impl<C> CmContext<C>
where
    C: BlockEncrypt + KeyInit + BlockSizeUser<BlockSize = U16>,
{
    pub(crate) fn new(keys: &MasterKeys) -> Result<Self, SrtpError> {
        let profile = keys.profile();
        let master = C::new_from_slice(keys.key()).map_err(|_| SrtpError::KeyLength {
            expected: profile.key_len(),
            got: keys.key().len(),
        })?;
        Ok(CmContext {
            rtp: SessionKeys::derive(
                &master,
                keys,
                [LABEL_RTP_ENCRYPTION, LABEL_RTP_AUTH, LABEL_RTP_SALT],
            )?,
            rtcp: SessionKeys::derive(
                &master,
                keys,
                [LABEL_RTCP_ENCRYPTION, LABEL_RTCP_AUTH, LABEL_RTCP_SALT],
            )?,
            rtp_tag_len: profile.rtp_tag_len(),
            rtcp_tag_len: profile.rtcp_tag_len(),
            rtp_streams: Vec::new(),
            rtcp_streams: Vec::new(),
        })
    }

    pub(crate) fn protect_rtp(&mut self, packet: &[u8]) -> Result<Vec<u8>, SrtpError> {
        let header_len = rtp_header_len(packet)?;
        let (ssrc, seq) = rtp_ssrc_seq(packet);
        let slot = stream_slot(&self.rtp_streams, ssrc)?;
        let index = match slot {
            Some(i) => estimate_index(self.rtp_streams[i].1.highest, seq),
            None => u64::from(seq),
        };
        if index > MAX_RTP_INDEX {
            return Err(SrtpError::KeyExhausted);
        }
        let mut out = Vec::with_capacity(packet.len() + self.rtp_tag_len);
        out.extend_from_slice(packet);
        let iv = packet_iv(&self.rtp.salt, ssrc, index);
        apply_keystream(&self.rtp.cipher, &iv, &mut out[header_len..]);
        let tag = self.rtp.tag(&out, Some(roc(index)));
        out.extend_from_slice(&tag[..self.rtp_tag_len]);
        match slot {
            Some(i) => self.rtp_streams[i].1.accept(index),
            None => self.rtp_streams.push((ssrc, Window::new(index))),
        }
        Ok(out)
    }

    pub(crate) fn unprotect_rtp(&mut self, packet: &[u8]) -> Result<Vec<u8>, SrtpError> {
        let header_len = rtp_header_len(packet)?;
        if packet.len() < header_len + self.rtp_tag_len {
            return Err(SrtpError::TooShort {
                what: "SRTP",
                len: packet.len(),
            });
        }
        let (ssrc, seq) = rtp_ssrc_seq(packet);
        let slot = stream_slot(&self.rtp_streams, ssrc)?;
        let index = match slot {
            Some(i) => {
                let window = &self.rtp_streams[i].1;
                let index = estimate_index(window.highest, seq);
                window.check(index)?;
                index
            }
            None => u64::from(seq),
        };
        let (body, tag) = packet.split_at(packet.len() - self.rtp_tag_len);
        let expected = self.rtp.tag(body, Some(roc(index)));
        if !bool::from(tag.ct_eq(&expected[..self.rtp_tag_len])) {
            return Err(SrtpError::AuthenticationFailed);
        }
        let mut out = body.to_vec();
        let iv = packet_iv(&self.rtp.salt, ssrc, index);
        apply_keystream(&self.rtp.cipher, &iv, &mut out[header_len..]);
        match slot {
            Some(i) => self.rtp_streams[i].1.accept(index),
            None => self.rtp_streams.push((ssrc, Window::new(index))),
        }
        Ok(out)
    }

    pub(crate) fn protect_rtcp(&mut self, packet: &[u8]) -> Result<Vec<u8>, SrtpError> {
        check_rtcp(packet, 8)?;
        let ssrc = rtcp_ssrc(packet);
        let slot = stream_slot(&self.rtcp_streams, ssrc)?;
        let index = match slot {
            Some(i) => self.rtcp_streams[i].1.highest + 1,
            None => 0,
        };
        if index > MAX_RTCP_INDEX {
            return Err(SrtpError::KeyExhausted);
        }
        let mut out = Vec::with_capacity(packet.len() + 4 + self.rtcp_tag_len);
        out.extend_from_slice(packet);
        let iv = packet_iv(&self.rtcp.salt, ssrc, index);
        apply_keystream(&self.rtcp.cipher, &iv, &mut out[8..]);
        // Checked above: index fits in 31 bits.
        out.extend_from_slice(&(index as u32 | RTCP_E_FLAG).to_be_bytes());
        let tag = self.rtcp.tag(&out, None);
        out.extend_from_slice(&tag[..self.rtcp_tag_len]);
        match slot {
            Some(i) => self.rtcp_streams[i].1.accept(index),
            None => self.rtcp_streams.push((ssrc, Window::new(index))),
        }
        Ok(out)
    }

    pub(crate) fn unprotect_rtcp(&mut self, packet: &[u8]) -> Result<Vec<u8>, SrtpError> {
        check_rtcp(packet, 8 + 4 + self.rtcp_tag_len)?;
        let ssrc = rtcp_ssrc(packet);
        let (body, tag) = packet.split_at(packet.len() - self.rtcp_tag_len);
        let word_at = body.len() - 4;
        let word = u32::from_be_bytes([
            body[word_at],
            body[word_at + 1],
            body[word_at + 2],
            body[word_at + 3],
        ]);
        if word & RTCP_E_FLAG == 0 {
            return Err(SrtpError::UnencryptedSrtcp);
        }
        let index = u64::from(word & !RTCP_E_FLAG);
        let slot = stream_slot(&self.rtcp_streams, ssrc)?;
        if let Some(i) = slot {
            self.rtcp_streams[i].1.check(index)?;
        }
        let expected = self.rtcp.tag(body, None);
        if !bool::from(tag.ct_eq(&expected[..self.rtcp_tag_len])) {
            return Err(SrtpError::AuthenticationFailed);
        }
        let mut out = body[..word_at].to_vec();
        let iv = packet_iv(&self.rtcp.salt, ssrc, index);
        apply_keystream(&self.rtcp.cipher, &iv, &mut out[8..]);
        match slot {
            Some(i) => self.rtcp_streams[i].1.accept(index),
            None => self.rtcp_streams.push((ssrc, Window::new(index))),
        }
        Ok(out)
    }
}

/// Length of the RTP header (fixed part, CSRCs and extension), checked against the packet.
pub(crate) fn rtp_header_len(packet: &[u8]) -> Result<usize, SrtpError> {
    let too_short = SrtpError::TooShort {
        what: "RTP",
        len: packet.len(),
    };
    if packet.len() < 12 {
        return Err(too_short);
    }
    if packet[0] >> 6 != 2 {
        return Err(SrtpError::BadVersion);
    }
    let mut len = 12 + 4 * usize::from(packet[0] & 0x0F);
    if packet[0] & 0x10 != 0 {
        let words = packet.get(len + 2..len + 4).ok_or(too_short.clone())?;
        len += 4 + 4 * usize::from(u16::from_be_bytes([words[0], words[1]]));
    }
    if len > packet.len() {
        return Err(too_short);
    }
    Ok(len)
}

/// Checks an RTCP packet's length and version before anything reads its header.
pub(crate) fn check_rtcp(packet: &[u8], min_len: usize) -> Result<(), SrtpError> {
    if packet.len() < min_len.max(8) {
        return Err(SrtpError::TooShort {
            what: "RTCP",
            len: packet.len(),
        });
    }
    if packet[0] >> 6 != 2 {
        return Err(SrtpError::BadVersion);
    }
    Ok(())
}

/// The RTP packet index for `seq` given the highest index seen so far (RFC 3711 Appendix A).
pub(crate) fn estimate_index(highest: u64, seq: u16) -> u64 {
    let roc = highest >> 16;
    let s_l = highest as u16;
    let v = if s_l < 0x8000 {
        if seq > s_l && seq - s_l > 0x8000 {
            // A late packet from before the last wrap; at ROC 0 there is no earlier cycle.
            roc.saturating_sub(1)
        } else {
            roc
        }
    } else if s_l - 0x8000 > seq {
        roc + 1
    } else {
        roc
    };
    (v << 16) | u64::from(seq)
}

/// Highest accepted index and a sliding window of the `REPLAY_WINDOW` indexes below it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Window {
    highest: u64,
    /// Bit `n` set: index `highest - n` was accepted.
    seen: u128,
}

impl Window {
    fn new(index: u64) -> Self {
        Window {
            highest: index,
            seen: 1,
        }
    }

    fn check(&self, index: u64) -> Result<(), SrtpError> {
        if index > self.highest {
            return Ok(());
        }
        let age = self.highest - index;
        if age >= u128::BITS as u64 || self.seen & (1 << age) != 0 {
            return Err(SrtpError::Replayed { index });
        }
        Ok(())
    }

    fn accept(&mut self, index: u64) {
        if index > self.highest {
            let shift = index - self.highest;
            self.seen = if shift >= u128::BITS as u64 {
                0
            } else {
                self.seen << shift
            };
            self.seen |= 1;
            self.highest = index;
        } else if self.highest - index < u128::BITS as u64 {
            self.seen |= 1 << (self.highest - index);
        }
    }
}

/// Finds the slot of `ssrc`; `Ok(None)` when it is new and there is room for it.
fn stream_slot(streams: &[(u32, Window)], ssrc: u32) -> Result<Option<usize>, SrtpError> {
    match streams.iter().position(|(s, _)| *s == ssrc) {
        Some(i) => Ok(Some(i)),
        None if streams.len() >= super::MAX_SSRCS => Err(SrtpError::TooManySsrcs {
            max: super::MAX_SSRCS,
        }),
        None => Ok(None),
    }
}

struct SessionKeys<C> {
    cipher: C,
    salt: [u8; SESSION_SALT_LEN],
    auth: Hmac<Sha1>,
}

impl<C> SessionKeys<C>
where
    C: BlockEncrypt + KeyInit + BlockSizeUser<BlockSize = U16>,
{
    fn derive(master: &C, keys: &MasterKeys, labels: [u8; 3]) -> Result<Self, SrtpError> {
        let [enc_label, auth_label, salt_label] = labels;
        let mut enc = vec![0; keys.key().len()];
        derive_into(master, keys.salt(), enc_label, &mut enc);
        let mut auth = [0; AUTH_KEY_LEN];
        derive_into(master, keys.salt(), auth_label, &mut auth);
        let mut salt = [0; SESSION_SALT_LEN];
        derive_into(master, keys.salt(), salt_label, &mut salt);
        let cipher = C::new_from_slice(&enc).map_err(|_| SrtpError::KeyLength {
            expected: keys.profile().key_len(),
            got: enc.len(),
        })?;
        enc.iter_mut().for_each(|b| *b = 0);
        // HMAC accepts keys of any length, so this cannot fail.
        let auth = <Hmac<Sha1> as Mac>::new_from_slice(&auth)
            .map_err(|e| SrtpError::Backend(e.to_string()))?;
        Ok(SessionKeys { cipher, salt, auth })
    }

    /// HMAC-SHA1 over the authenticated portion, followed by the ROC for SRTP (RFC 3711 §4.2).
    fn tag(&self, authenticated: &[u8], roc: Option<u32>) -> [u8; 20] {
        let mut mac = self.auth.clone();
        mac.update(authenticated);
        if let Some(roc) = roc {
            mac.update(&roc.to_be_bytes());
        }
        mac.finalize().into_bytes().into()
    }
}

/// The RFC 3711 §4.3.3 PRF with kdr = 0: the counter-mode keystream under the master key, with
/// IV = (label << 48 XOR master salt) << 16.
pub(crate) fn derive_into<C>(master: &C, master_salt: &[u8], label: u8, out: &mut [u8])
where
    C: BlockEncrypt + BlockSizeUser<BlockSize = U16>,
{
    let mut iv = [0u8; 16];
    let n = master_salt.len().min(SESSION_SALT_LEN);
    iv[..n].copy_from_slice(&master_salt[..n]);
    iv[7] ^= label;
    out.iter_mut().for_each(|b| *b = 0);
    apply_keystream(master, &iv, out);
}

/// IV = (k_s << 16) XOR (SSRC << 64) XOR (index << 16) (RFC 3711 §4.1.1).
pub(crate) fn packet_iv(salt: &[u8; SESSION_SALT_LEN], ssrc: u32, index: u64) -> [u8; 16] {
    let mut iv = [0u8; 16];
    iv[..SESSION_SALT_LEN].copy_from_slice(salt);
    for (b, s) in iv[4..8].iter_mut().zip(ssrc.to_be_bytes()) {
        *b ^= s;
    }
    for (b, i) in iv[8..14].iter_mut().zip(&index.to_be_bytes()[2..]) {
        *b ^= i;
    }
    iv
}

/// XORs `data` with E(k, IV), E(k, IV + 1), ... (128-bit big-endian counter).
pub(crate) fn apply_keystream<C>(cipher: &C, iv: &[u8; 16], data: &mut [u8])
where
    C: BlockEncrypt + BlockSizeUser<BlockSize = U16>,
{
    let start = u128::from_be_bytes(*iv);
    for (i, chunk) in data.chunks_mut(16).enumerate() {
        let mut block = GenericArray::from(start.wrapping_add(i as u128).to_be_bytes());
        cipher.encrypt_block(&mut block);
        chunk
            .iter_mut()
            .zip(block.iter())
            .for_each(|(d, k)| *d ^= k);
    }
}

fn roc(index: u64) -> u32 {
    // The index is at most 48 bits (checked by callers), so the ROC fits in 32.
    (index >> 16) as u32
}

fn rtp_ssrc_seq(packet: &[u8]) -> (u32, u16) {
    // Callers checked that the packet holds at least the 12-byte fixed header.
    (
        u32::from_be_bytes([packet[8], packet[9], packet[10], packet[11]]),
        u16::from_be_bytes([packet[2], packet[3]]),
    )
}

fn rtcp_ssrc(packet: &[u8]) -> u32 {
    // Callers checked that the packet holds at least the 8-byte header.
    u32::from_be_bytes([packet[4], packet[5], packet[6], packet[7]])
}

#[cfg(test)]
mod tests;
