//! ZRTP messages (RFC 6189 §5.1–§5.16): typed values, a parser that never panics on hostile
//! input, and an encoder. Every message starts with the 0x505a preamble, its length in 32-bit
//! words (preamble, length and type included) and an eight-byte ASCII type block.
//!
//! Parsing checks structure only. MACs, hash-chain links and algorithm choices are checked by
//! the key schedule ([`super::kdf`]) against the raw bytes the peer sent, which the caller keeps.

use super::algorithms::{AlgoId, KeyAgreement};
use super::error::{PeerMisbehaved, ZrtpError};

/// The protocol version we speak and put in Hello.
pub const ZRTP_VERSION: [u8; 4] = *b"1.10";

/// Message preamble.
pub const PREAMBLE: u16 = 0x505a;

/// Largest public value we accept in DHPart (DH3k needs 384 bytes; this leaves room for any
/// classical key agreement while bounding what a peer can make us hold).
pub const MAX_PUBLIC_VALUE_LEN: usize = 1024;

/// A ZRTP endpoint identifier (96 bits, §4.9), fixed per installation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Zid(pub [u8; 12]);

/// One image of the hash chain H0..H3 (§9): 256 bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct HashImage(pub [u8; 32]);

/// A truncated 64-bit MAC as carried in messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Mac(pub [u8; 8]);

/// An 8-byte identifier of a shared secret (rs1IDr, auxsecretIDi, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct SecretId(pub [u8; 8]);

/// A ZRTP Error message code (§5.9). Unknown codes are kept as sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ErrorCode(pub u32);

impl ErrorCode {
    /// Malformed packet (CRC OK, but wrong structure).
    pub const MALFORMED_PACKET: ErrorCode = ErrorCode(0x10);
    /// Critical software error.
    pub const CRITICAL_SOFTWARE_ERROR: ErrorCode = ErrorCode(0x20);
    /// Unsupported ZRTP version.
    pub const UNSUPPORTED_VERSION: ErrorCode = ErrorCode(0x30);
    /// Hello components mismatch.
    pub const HELLO_MISMATCH: ErrorCode = ErrorCode(0x40);
    /// Hash type not supported.
    pub const UNSUPPORTED_HASH: ErrorCode = ErrorCode(0x51);
    /// Cipher type not supported.
    pub const UNSUPPORTED_CIPHER: ErrorCode = ErrorCode(0x52);
    /// Public key exchange not supported.
    pub const UNSUPPORTED_KEY_AGREEMENT: ErrorCode = ErrorCode(0x53);
    /// SRTP auth tag not supported.
    pub const UNSUPPORTED_AUTH_TAG: ErrorCode = ErrorCode(0x54);
    /// SAS rendering scheme not supported.
    pub const UNSUPPORTED_SAS: ErrorCode = ErrorCode(0x55);
    /// No shared secret available, DH mode required.
    pub const NO_SHARED_SECRET: ErrorCode = ErrorCode(0x56);
    /// Bad pvi or pvr (== 1, 0, or p-1).
    pub const BAD_PUBLIC_VALUE: ErrorCode = ErrorCode(0x61);
    /// hvi != hashed data.
    pub const BAD_HVI: ErrorCode = ErrorCode(0x62);
    /// Received relayed SAS from untrusted MiTM.
    pub const UNTRUSTED_MITM: ErrorCode = ErrorCode(0x63);
    /// Bad Confirm packet MAC.
    pub const BAD_CONFIRM_MAC: ErrorCode = ErrorCode(0x70);
    /// Nonce reuse.
    pub const NONCE_REUSE: ErrorCode = ErrorCode(0x80);
    /// Equal ZIDs in Hello.
    pub const EQUAL_ZID: ErrorCode = ErrorCode(0x90);
    /// SSRC collision.
    pub const SSRC_COLLISION: ErrorCode = ErrorCode(0x91);
    /// Service unavailable.
    pub const SERVICE_UNAVAILABLE: ErrorCode = ErrorCode(0xa0);
    /// Protocol timeout error.
    pub const PROTOCOL_TIMEOUT: ErrorCode = ErrorCode(0xb0);
    /// GoClear message received, but not allowed.
    pub const GOCLEAR_NOT_ALLOWED: ErrorCode = ErrorCode(0x100);
}

/// Hello (§5.2): announces version, ZID, hash-chain top H3, flags and algorithm lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hello {
    /// Protocol version, "1.10".
    pub version: [u8; 4],
    /// Free-form client identifier, space padded.
    pub client_id: [u8; 16],
    /// Top of the sender's hash chain.
    pub h3: HashImage,
    /// Sender's ZID.
    pub zid: Zid,
    /// S: the sender can sign the SAS.
    pub signature_capable: bool,
    /// M: the sender is a trusted MiTM (PBX).
    pub mitm: bool,
    /// P: the sender is passive (never initiates).
    pub passive: bool,
    /// Hash ids, in preference order (at most 7 per list).
    pub hashes: Vec<AlgoId>,
    /// Cipher ids.
    pub ciphers: Vec<AlgoId>,
    /// Auth tag ids.
    pub auth_tags: Vec<AlgoId>,
    /// Key agreement ids.
    pub key_agreements: Vec<AlgoId>,
    /// SAS rendering ids.
    pub sas_types: Vec<AlgoId>,
    /// HMAC keyed by H2 over the message up to the MAC.
    pub mac: Mac,
}

/// The variable part of a Commit, which says which exchange follows (§5.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommitKind {
    /// Diffie-Hellman mode: hash commitment to DHPart2 and the Responder's Hello.
    Dh {
        /// hvi (§4.4.1.1).
        hvi: [u8; 32],
    },
    /// Multistream mode (key agreement `Mult`).
    Multistream {
        /// Random nonce.
        nonce: [u8; 16],
    },
    /// Preshared mode (key agreement `Prsh`).
    Preshared {
        /// Random nonce.
        nonce: [u8; 16],
        /// Identifies the preshared key.
        key_id: [u8; 8],
    },
}

/// Commit (§5.4): the Initiator's algorithm choices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commit {
    /// Initiator's H2.
    pub h2: HashImage,
    /// Initiator's ZID.
    pub zid: Zid,
    /// Chosen hash.
    pub hash: AlgoId,
    /// Chosen cipher.
    pub cipher: AlgoId,
    /// Chosen auth tag.
    pub auth_tag: AlgoId,
    /// Chosen key agreement.
    pub key_agreement: AlgoId,
    /// Chosen SAS rendering.
    pub sas: AlgoId,
    /// Mode-specific part.
    pub kind: CommitKind,
    /// HMAC keyed by H1.
    pub mac: Mac,
}

/// DHPart1 / DHPart2 (§5.5, §5.6): public value and shared-secret ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DhPart {
    /// Sender's H1.
    pub h1: HashImage,
    /// rs1IDr (DHPart1) or rs1IDi (DHPart2).
    pub rs1_id: SecretId,
    /// rs2 id.
    pub rs2_id: SecretId,
    /// auxsecret id.
    pub aux_secret_id: SecretId,
    /// pbxsecret id.
    pub pbx_secret_id: SecretId,
    /// Public value (pvr / pvi), length set by the key agreement.
    pub public_value: Vec<u8>,
    /// HMAC keyed by H0.
    pub mac: Mac,
}

/// The MAC-protected, CFB-encrypted tail shared by Confirm1/2 and SASrelay (§5.7, §5.13).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encrypted {
    /// HMAC (negotiated hash, mackeyi/r) over `ciphertext`, truncated to 64 bits.
    pub mac: Mac,
    /// CFB initialisation vector.
    pub iv: [u8; 16],
    /// The encrypted body ([`ConfirmBody`] or [`SasRelayBody`] once decrypted).
    pub ciphertext: Vec<u8>,
}

/// The plaintext of a Confirm message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfirmBody {
    /// Sender's H0, which closes its hash chain.
    pub h0: HashImage,
    /// E: PBX enrollment.
    pub enrollment: bool,
    /// V: the sender has verified the SAS with this peer before.
    pub sas_verified: bool,
    /// A: allow clear (GoClear permitted).
    pub allow_clear: bool,
    /// D: disclosure flag.
    pub disclosure: bool,
    /// Cache expiration interval in seconds (0xffffffff: never).
    pub cache_expiration: u32,
    /// Optional signature block (a whole number of words, at most 511).
    pub signature: Vec<u8>,
}

/// The plaintext of a SASrelay message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SasRelayBody {
    /// V: SAS verified flag.
    pub sas_verified: bool,
    /// A: allow clear.
    pub allow_clear: bool,
    /// D: disclosure flag.
    pub disclosure: bool,
    /// Rendering scheme of the relayed SAS.
    pub rendering: AlgoId,
    /// The trusted MiTM's sashash.
    pub sas_hash: [u8; 32],
    /// Optional signature block.
    pub signature: Vec<u8>,
}

/// Ping (§5.15).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ping {
    /// Version.
    pub version: [u8; 4],
    /// Sender's endpoint hash.
    pub endpoint_hash: [u8; 8],
}

/// PingACK (§5.16).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PingAck {
    /// Version.
    pub version: [u8; 4],
    /// Sender's endpoint hash.
    pub endpoint_hash: [u8; 8],
    /// The endpoint hash of the Ping being answered.
    pub received_endpoint_hash: [u8; 8],
    /// The SSRC of the Ping being answered.
    pub received_ssrc: u32,
}

/// Any ZRTP message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// Hello.
    Hello(Hello),
    /// HelloACK.
    HelloAck,
    /// Commit.
    Commit(Commit),
    /// DHPart1 (Responder).
    DhPart1(DhPart),
    /// DHPart2 (Initiator).
    DhPart2(DhPart),
    /// Confirm1 (Responder).
    Confirm1(Encrypted),
    /// Confirm2 (Initiator).
    Confirm2(Encrypted),
    /// Conf2ACK.
    Conf2Ack,
    /// Error.
    Error(ErrorCode),
    /// ErrorACK.
    ErrorAck,
    /// GoClear: parsed so it can be answered, never honoured by Sipher.
    GoClear {
        /// clear_mac.
        clear_mac: Mac,
    },
    /// ClearACK.
    ClearAck,
    /// SASrelay.
    SasRelay(Encrypted),
    /// RelayACK.
    RelayAck,
    /// Ping.
    Ping(Ping),
    /// PingACK.
    PingAck(PingAck),
}

impl Message {
    /// The eight-byte type block.
    pub fn type_block(&self) -> &'static [u8; 8] {
        match self {
            Message::Hello(_) => b"Hello   ",
            Message::HelloAck => b"HelloACK",
            Message::Commit(_) => b"Commit  ",
            Message::DhPart1(_) => b"DHPart1 ",
            Message::DhPart2(_) => b"DHPart2 ",
            Message::Confirm1(_) => b"Confirm1",
            Message::Confirm2(_) => b"Confirm2",
            Message::Conf2Ack => b"Conf2ACK",
            Message::Error(_) => b"Error   ",
            Message::ErrorAck => b"ErrorACK",
            Message::GoClear { .. } => b"GoClear ",
            Message::ClearAck => b"ClearACK",
            Message::SasRelay(_) => b"SASrelay",
            Message::RelayAck => b"RelayACK",
            Message::Ping(_) => b"Ping    ",
            Message::PingAck(_) => b"PingACK ",
        }
    }

    /// Parse one message (the bytes between packet header and CRC).
    pub fn parse(buf: &[u8]) -> Result<Message, ZrtpError> {
        if buf.len() < 12 {
            return Err(PeerMisbehaved::LengthMismatch {
                declared_words: 0,
                actual_bytes: buf.len(),
            }
            .into());
        }
        let preamble = u16::from_be_bytes([buf[0], buf[1]]);
        if preamble != PREAMBLE {
            return Err(PeerMisbehaved::BadPreamble(preamble).into());
        }
        let words = u16::from_be_bytes([buf[2], buf[3]]);
        if usize::from(words) * 4 != buf.len() {
            return Err(PeerMisbehaved::LengthMismatch {
                declared_words: words,
                actual_bytes: buf.len(),
            }
            .into());
        }
        let mut type_block = [0u8; 8];
        type_block.copy_from_slice(&buf[4..12]);
        let mut r = Reader { buf: &buf[12..] };
        let fixed = |name: &'static str, want: u16| -> Result<(), ZrtpError> {
            if words == want {
                Ok(())
            } else {
                Err(PeerMisbehaved::BadMessageLength {
                    message: name,
                    words,
                }
                .into())
            }
        };
        let at_least = |name: &'static str, min: u16| -> Result<(), ZrtpError> {
            if words >= min {
                Ok(())
            } else {
                Err(PeerMisbehaved::BadMessageLength {
                    message: name,
                    words,
                }
                .into())
            }
        };
        let msg = match &type_block {
            b"Hello   " => {
                at_least("Hello", 22)?;
                Message::Hello(parse_hello(&mut r, words)?)
            }
            b"HelloACK" => fixed("HelloACK", 3).map(|_| Message::HelloAck)?,
            b"Commit  " => Message::Commit(parse_commit(&mut r, words)?),
            b"DHPart1 " | b"DHPart2 " => {
                at_least("DHPart", 21)?;
                let part = DhPart {
                    h1: HashImage(r.array()?),
                    rs1_id: SecretId(r.array()?),
                    rs2_id: SecretId(r.array()?),
                    aux_secret_id: SecretId(r.array()?),
                    pbx_secret_id: SecretId(r.array()?),
                    public_value: {
                        let pv_len = r.remaining().saturating_sub(8);
                        if pv_len > MAX_PUBLIC_VALUE_LEN {
                            return Err(PeerMisbehaved::BadMessageLength {
                                message: "DHPart",
                                words,
                            }
                            .into());
                        }
                        r.take(pv_len)?.to_vec()
                    },
                    mac: Mac(r.array()?),
                };
                if type_block[6] == b'1' {
                    Message::DhPart1(part)
                } else {
                    Message::DhPart2(part)
                }
            }
            b"Confirm1" | b"Confirm2" => {
                at_least("Confirm", 19)?;
                let enc = parse_encrypted(&mut r)?;
                if type_block[7] == b'1' {
                    Message::Confirm1(enc)
                } else {
                    Message::Confirm2(enc)
                }
            }
            b"Conf2ACK" => fixed("Conf2ACK", 3).map(|_| Message::Conf2Ack)?,
            b"Error   " => {
                fixed("Error", 4)?;
                Message::Error(ErrorCode(u32::from_be_bytes(r.array()?)))
            }
            b"ErrorACK" => fixed("ErrorACK", 3).map(|_| Message::ErrorAck)?,
            b"GoClear " => {
                fixed("GoClear", 5)?;
                Message::GoClear {
                    clear_mac: Mac(r.array()?),
                }
            }
            b"ClearACK" => fixed("ClearACK", 3).map(|_| Message::ClearAck)?,
            b"SASrelay" => {
                at_least("SASrelay", 19)?;
                Message::SasRelay(parse_encrypted(&mut r)?)
            }
            b"RelayACK" => fixed("RelayACK", 3).map(|_| Message::RelayAck)?,
            b"Ping    " => {
                fixed("Ping", 6)?;
                Message::Ping(Ping {
                    version: r.array()?,
                    endpoint_hash: r.array()?,
                })
            }
            b"PingACK " => {
                fixed("PingACK", 9)?;
                Message::PingAck(PingAck {
                    version: r.array()?,
                    endpoint_hash: r.array()?,
                    received_endpoint_hash: r.array()?,
                    received_ssrc: u32::from_be_bytes(r.array()?),
                })
            }
            _ => return Err(PeerMisbehaved::UnknownMessageType(type_block).into()),
        };
        Ok(msg)
    }

    /// Encode the message (preamble, length, type block, body). Fails only for values that
    /// cannot be represented (too many algorithms, a public value or signature of odd size).
    pub fn encode(&self) -> Result<Vec<u8>, ZrtpError> {
        let mut body = Vec::new();
        match self {
            Message::Hello(h) => encode_hello(h, &mut body)?,
            Message::Commit(c) => {
                body.extend_from_slice(&c.h2.0);
                body.extend_from_slice(&c.zid.0);
                for id in [c.hash, c.cipher, c.auth_tag, c.key_agreement, c.sas] {
                    body.extend_from_slice(&id.0);
                }
                match &c.kind {
                    CommitKind::Dh { hvi } => body.extend_from_slice(hvi),
                    CommitKind::Multistream { nonce } => body.extend_from_slice(nonce),
                    CommitKind::Preshared { nonce, key_id } => {
                        body.extend_from_slice(nonce);
                        body.extend_from_slice(key_id);
                    }
                }
                body.extend_from_slice(&c.mac.0);
            }
            Message::DhPart1(d) | Message::DhPart2(d) => {
                if d.public_value.len() % 4 != 0 || d.public_value.len() > MAX_PUBLIC_VALUE_LEN {
                    return Err(ZrtpError::Encode(
                        "public value is not a whole number of words",
                    ));
                }
                body.extend_from_slice(&d.h1.0);
                for id in [d.rs1_id, d.rs2_id, d.aux_secret_id, d.pbx_secret_id] {
                    body.extend_from_slice(&id.0);
                }
                body.extend_from_slice(&d.public_value);
                body.extend_from_slice(&d.mac.0);
            }
            Message::Confirm1(e) | Message::Confirm2(e) | Message::SasRelay(e) => {
                if e.ciphertext.len() % 4 != 0 || e.ciphertext.len() < 40 {
                    return Err(ZrtpError::Encode("encrypted part has an invalid length"));
                }
                body.extend_from_slice(&e.mac.0);
                body.extend_from_slice(&e.iv);
                body.extend_from_slice(&e.ciphertext);
            }
            Message::Error(code) => body.extend_from_slice(&code.0.to_be_bytes()),
            Message::GoClear { clear_mac } => body.extend_from_slice(&clear_mac.0),
            Message::Ping(p) => {
                body.extend_from_slice(&p.version);
                body.extend_from_slice(&p.endpoint_hash);
            }
            Message::PingAck(p) => {
                body.extend_from_slice(&p.version);
                body.extend_from_slice(&p.endpoint_hash);
                body.extend_from_slice(&p.received_endpoint_hash);
                body.extend_from_slice(&p.received_ssrc.to_be_bytes());
            }
            Message::HelloAck
            | Message::Conf2Ack
            | Message::ErrorAck
            | Message::ClearAck
            | Message::RelayAck => {}
        }
        let words = u16::try_from((body.len() + 12) / 4)
            .map_err(|_| ZrtpError::Encode("message too long"))?;
        let mut out = Vec::with_capacity(body.len() + 12);
        out.extend_from_slice(&PREAMBLE.to_be_bytes());
        out.extend_from_slice(&words.to_be_bytes());
        out.extend_from_slice(self.type_block());
        out.extend_from_slice(&body);
        Ok(out)
    }
}

impl Commit {
    /// The key agreement as a typed value, if we implement it.
    pub fn key_agreement(&self) -> Option<KeyAgreement> {
        KeyAgreement::from_id(self.key_agreement)
    }
}

impl ConfirmBody {
    /// Encode the plaintext that Confirm1/Confirm2 encrypts.
    pub fn encode(&self) -> Result<Vec<u8>, ZrtpError> {
        let sig_words = signature_words(&self.signature)?;
        let flags = u32::from(self.enrollment) << 3
            | u32::from(self.sas_verified) << 2
            | u32::from(self.allow_clear) << 1
            | u32::from(self.disclosure);
        let mut out = Vec::with_capacity(40 + self.signature.len());
        out.extend_from_slice(&self.h0.0);
        out.extend_from_slice(&((sig_words << 8) | flags).to_be_bytes());
        out.extend_from_slice(&self.cache_expiration.to_be_bytes());
        out.extend_from_slice(&self.signature);
        Ok(out)
    }

    /// Parse a decrypted Confirm body.
    pub fn parse(buf: &[u8]) -> Result<ConfirmBody, ZrtpError> {
        let mut r = Reader { buf };
        let h0 = HashImage(r.array()?);
        let word = u32::from_be_bytes(r.array()?);
        let cache_expiration = u32::from_be_bytes(r.array()?);
        let signature = parse_signature(&mut r, word)?;
        Ok(ConfirmBody {
            h0,
            enrollment: word & 0x08 != 0,
            sas_verified: word & 0x04 != 0,
            allow_clear: word & 0x02 != 0,
            disclosure: word & 0x01 != 0,
            cache_expiration,
            signature,
        })
    }
}

impl SasRelayBody {
    /// Encode the plaintext that SASrelay encrypts.
    pub fn encode(&self) -> Result<Vec<u8>, ZrtpError> {
        let sig_words = signature_words(&self.signature)?;
        let flags = u32::from(self.sas_verified) << 2
            | u32::from(self.allow_clear) << 1
            | u32::from(self.disclosure);
        let mut out = Vec::with_capacity(40 + self.signature.len());
        out.extend_from_slice(&((sig_words << 8) | flags).to_be_bytes());
        out.extend_from_slice(&self.rendering.0);
        out.extend_from_slice(&self.sas_hash);
        out.extend_from_slice(&self.signature);
        Ok(out)
    }

    /// Parse a decrypted SASrelay body.
    pub fn parse(buf: &[u8]) -> Result<SasRelayBody, ZrtpError> {
        let mut r = Reader { buf };
        let word = u32::from_be_bytes(r.array()?);
        let rendering = AlgoId(r.array()?);
        let sas_hash = r.array()?;
        let signature = parse_signature(&mut r, word)?;
        Ok(SasRelayBody {
            sas_verified: word & 0x04 != 0,
            allow_clear: word & 0x02 != 0,
            disclosure: word & 0x01 != 0,
            rendering,
            sas_hash,
            signature,
        })
    }
}

/// The bytes a message MAC covers: the whole message minus its trailing eight-byte MAC (Hello,
/// Commit, DHPart1/2). None when the message is too short to carry one.
pub fn mac_covered(message: &[u8]) -> Option<(&[u8], &[u8])> {
    message.len().checked_sub(8).map(|n| message.split_at(n))
}

/// A bounds-checked cursor over peer bytes; every read fails instead of panicking.
struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    fn remaining(&self) -> usize {
        self.buf.len()
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], ZrtpError> {
        if n > self.buf.len() {
            return Err(PeerMisbehaved::BadEncryptedBody.into());
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], ZrtpError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }
}

fn parse_hello(r: &mut Reader<'_>, words: u16) -> Result<Hello, ZrtpError> {
    let version = r.array()?;
    let client_id = r.array()?;
    let h3 = HashImage(r.array()?);
    let zid = Zid(r.array()?);
    let flags: [u8; 4] = r.array()?;
    let counts = [
        flags[1] & 0x0f,
        flags[2] >> 4,
        flags[2] & 0x0f,
        flags[3] >> 4,
        flags[3] & 0x0f,
    ];
    if counts.iter().any(|c| *c > 7)
        || usize::from(words) != 22 + counts.iter().map(|c| usize::from(*c)).sum::<usize>()
    {
        return Err(PeerMisbehaved::BadAlgorithmCount.into());
    }
    let mut lists: [Vec<AlgoId>; 5] = Default::default();
    for (list, count) in lists.iter_mut().zip(counts) {
        for _ in 0..count {
            list.push(AlgoId(r.array()?));
        }
    }
    let [hashes, ciphers, auth_tags, key_agreements, sas_types] = lists;
    Ok(Hello {
        version,
        client_id,
        h3,
        zid,
        signature_capable: flags[0] & 0x40 != 0,
        mitm: flags[0] & 0x20 != 0,
        passive: flags[0] & 0x10 != 0,
        hashes,
        ciphers,
        auth_tags,
        key_agreements,
        sas_types,
        mac: Mac(r.array()?),
    })
}

fn encode_hello(h: &Hello, body: &mut Vec<u8>) -> Result<(), ZrtpError> {
    let lists = [
        &h.hashes,
        &h.ciphers,
        &h.auth_tags,
        &h.key_agreements,
        &h.sas_types,
    ];
    if lists.iter().any(|l| l.len() > 7) {
        return Err(ZrtpError::Encode(
            "more than seven algorithms in a Hello list",
        ));
    }
    // Each count fits in four bits: checked just above.
    let c: Vec<u8> = lists.iter().map(|l| l.len() as u8).collect();
    body.extend_from_slice(&h.version);
    body.extend_from_slice(&h.client_id);
    body.extend_from_slice(&h.h3.0);
    body.extend_from_slice(&h.zid.0);
    let b0 = u8::from(h.signature_capable) << 6 | u8::from(h.mitm) << 5 | u8::from(h.passive) << 4;
    body.extend_from_slice(&[b0, c[0], c[1] << 4 | c[2], c[3] << 4 | c[4]]);
    for list in lists {
        for id in list.iter() {
            body.extend_from_slice(&id.0);
        }
    }
    body.extend_from_slice(&h.mac.0);
    Ok(())
}

fn parse_commit(r: &mut Reader<'_>, words: u16) -> Result<Commit, ZrtpError> {
    if !matches!(words, 25 | 27 | 29) {
        return Err(PeerMisbehaved::BadMessageLength {
            message: "Commit",
            words,
        }
        .into());
    }
    let h2 = HashImage(r.array()?);
    let zid = Zid(r.array()?);
    let ids: [AlgoId; 5] = [
        AlgoId(r.array()?),
        AlgoId(r.array()?),
        AlgoId(r.array()?),
        AlgoId(r.array()?),
        AlgoId(r.array()?),
    ];
    let ka = ids[3];
    let kind = match (&ka.0, words) {
        (b"Mult", 25) => CommitKind::Multistream { nonce: r.array()? },
        (b"Prsh", 27) => CommitKind::Preshared {
            nonce: r.array()?,
            key_id: r.array()?,
        },
        (b"Mult" | b"Prsh", _) | (_, 25 | 27) => {
            return Err(PeerMisbehaved::CommitFormMismatch(ka.to_string()).into());
        }
        _ => CommitKind::Dh { hvi: r.array()? },
    };
    Ok(Commit {
        h2,
        zid,
        hash: ids[0],
        cipher: ids[1],
        auth_tag: ids[2],
        key_agreement: ka,
        sas: ids[4],
        kind,
        mac: Mac(r.array()?),
    })
}

fn parse_encrypted(r: &mut Reader<'_>) -> Result<Encrypted, ZrtpError> {
    let mac = Mac(r.array()?);
    let iv = r.array()?;
    let ciphertext = r.take(r.remaining())?.to_vec();
    Ok(Encrypted {
        mac,
        iv,
        ciphertext,
    })
}

fn signature_words(signature: &[u8]) -> Result<u32, ZrtpError> {
    if !signature.len().is_multiple_of(4) || signature.len() / 4 > 511 {
        return Err(ZrtpError::Encode(
            "signature must be whole words, at most 511",
        ));
    }
    // At most 511 after the check above.
    Ok((signature.len() / 4) as u32)
}

fn parse_signature(r: &mut Reader<'_>, word: u32) -> Result<Vec<u8>, ZrtpError> {
    let sig_len = ((word >> 8) & 0x1ff) as usize * 4;
    if r.remaining() != sig_len {
        return Err(PeerMisbehaved::BadEncryptedBody.into());
    }
    Ok(r.take(sig_len)?.to_vec())
}
