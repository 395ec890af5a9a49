//! Keys derived from s0 (RFC 6189 §4.5.2–§4.5.3), shared-secret ids (§4.3.1), retained-secret
//! rotation (§4.6.1), and the CFB encryption and MAC of Confirm and SASrelay (§5.7, §5.13).

use cfb_mode::cipher::{AsyncStreamCipher, InnerIvInit, KeyInit};
use rand::{CryptoRng, RngCore};
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, Zeroizing};

use super::algorithms::{CipherAlgorithm, HashAlgorithm, Negotiated, SasType};
use super::error::{PeerMisbehaved, ZrtpError};
use super::kdf::{kdf, truncated_mac};
use super::message::{ConfirmBody, Encrypted, HashImage, SasRelayBody, SecretId};
use super::sas;

/// Which side of the exchange we are (the Initiator sent Commit).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Sent Commit, DHPart2 and Confirm2.
    Initiator,
    /// Sent DHPart1 and Confirm1.
    Responder,
}

/// Everything §4.5.2–§4.5.3 derives from s0 and KDF_Context. Zeroed on drop.
#[derive(Clone)]
pub struct SessionKeys {
    /// SRTP master key of the Initiator's media.
    pub srtp_key_i: Vec<u8>,
    /// SRTP master salt of the Initiator's media (112 bits).
    pub srtp_salt_i: [u8; 14],
    /// SRTP master key of the Responder's media.
    pub srtp_key_r: Vec<u8>,
    /// SRTP master salt of the Responder's media.
    pub srtp_salt_r: [u8; 14],
    /// MAC key of the Initiator's Confirm2 / GoClear.
    pub mac_key_i: Vec<u8>,
    /// MAC key of the Responder's Confirm1 / GoClear.
    pub mac_key_r: Vec<u8>,
    /// Cipher key of the Initiator's Confirm2.
    pub zrtp_key_i: Vec<u8>,
    /// Cipher key of the Responder's Confirm1.
    pub zrtp_key_r: Vec<u8>,
    /// sashash (256 bits); the SAS is rendered from its leftmost bits.
    pub sas_hash: [u8; 32],
    /// ZRTPSess: keys later multistream sessions.
    pub zrtp_session: Vec<u8>,
    /// ExportedKey for applications.
    pub exported_key: Vec<u8>,
    /// The new retained secret rs1 to store in the cache once the exchange completes.
    pub new_rs1: [u8; 32],
}

impl std::fmt::Debug for SessionKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionKeys { .. }")
    }
}

impl Drop for SessionKeys {
    fn drop(&mut self) {
        for v in [
            &mut self.srtp_key_i,
            &mut self.srtp_key_r,
            &mut self.mac_key_i,
            &mut self.mac_key_r,
            &mut self.zrtp_key_i,
            &mut self.zrtp_key_r,
            &mut self.zrtp_session,
            &mut self.exported_key,
        ] {
            v.zeroize();
        }
        self.srtp_salt_i.zeroize();
        self.srtp_salt_r.zeroize();
        self.sas_hash.zeroize();
        self.new_rs1.zeroize();
    }
}

impl SessionKeys {
    /// Derive every key of §4.5.2–§4.5.3 from s0 and KDF_Context.
    pub fn derive(n: &Negotiated, s0: &[u8], kdf_context: &[u8]) -> SessionKeys {
        let h = n.hash;
        let key_len = n.cipher.key_len();
        let k = |label: &str, len: usize| kdf(h, s0, label, kdf_context, len);
        let arr14 = |v: Vec<u8>| {
            let mut a = [0u8; 14];
            a.copy_from_slice(&v);
            a
        };
        let arr32 = |v: Vec<u8>| {
            let mut a = [0u8; 32];
            a.copy_from_slice(&v);
            a
        };
        SessionKeys {
            srtp_key_i: k("Initiator SRTP master key", key_len),
            srtp_salt_i: arr14(k("Initiator SRTP master salt", 14)),
            srtp_key_r: k("Responder SRTP master key", key_len),
            srtp_salt_r: arr14(k("Responder SRTP master salt", 14)),
            mac_key_i: k("Initiator HMAC key", h.digest_len()),
            mac_key_r: k("Responder HMAC key", h.digest_len()),
            zrtp_key_i: k("Initiator ZRTP key", key_len),
            zrtp_key_r: k("Responder ZRTP key", key_len),
            sas_hash: arr32(k("SAS", 32)),
            zrtp_session: k("ZRTP Session Key", h.digest_len()),
            exported_key: k("Exported key", h.digest_len()),
            new_rs1: arr32(k("retained secret", 32)),
        }
    }

    /// sasvalue: the leftmost 32 bits of sashash (§4.5.2).
    pub fn sas_value(&self) -> u32 {
        u32::from_be_bytes([
            self.sas_hash[0],
            self.sas_hash[1],
            self.sas_hash[2],
            self.sas_hash[3],
        ])
    }

    /// The SAS as the user reads it, in the negotiated rendering.
    pub fn sas(&self, rendering: SasType) -> String {
        sas::render(rendering, &self.sas_hash)
    }

    /// (cipher key, MAC key) protecting the Confirm that `sender` sends.
    pub fn confirm_keys(&self, sender: Role) -> (&[u8], &[u8]) {
        match sender {
            Role::Initiator => (&self.zrtp_key_i, &self.mac_key_i),
            Role::Responder => (&self.zrtp_key_r, &self.mac_key_r),
        }
    }
}

/// The cached retained secrets for one peer ZID (§4.6.1).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct RetainedSecrets {
    /// Newest retained secret.
    pub rs1: Option<[u8; 32]>,
    /// The one before.
    pub rs2: Option<[u8; 32]>,
}

impl std::fmt::Debug for RetainedSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RetainedSecrets")
            .field("rs1", &self.rs1.is_some())
            .field("rs2", &self.rs2.is_some())
            .finish()
    }
}

impl RetainedSecrets {
    /// After a successful exchange: rs2 takes the old rs1, rs1 the new one (§4.6.1).
    pub fn rotate(&mut self, new_rs1: [u8; 32]) {
        self.rs2 = self.rs1.take();
        self.rs1 = Some(new_rs1);
    }
}

/// The ids both sides compute for one shared secret: the Initiator sends `initiator` in
/// DHPart2 and expects `responder` in DHPart1, and vice versa.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecretIds {
    /// The id the Initiator sends.
    pub initiator: SecretId,
    /// The id the Responder sends.
    pub responder: SecretId,
}

/// rs1IDi = MAC(rs1, "Initiator"), rs1IDr = MAC(rs1, "Responder"), 64 bits, negotiated hash
/// (§4.3.1); the same for rs2 and the pbxsecret.
pub fn retained_secret_ids(hash: HashAlgorithm, secret: &[u8]) -> SecretIds {
    SecretIds {
        initiator: SecretId(truncated_mac(hash, secret, b"Initiator").0),
        responder: SecretId(truncated_mac(hash, secret, b"Responder").0),
    }
}

/// auxsecretIDi = MAC(auxsecret, H3 of Initiator), auxsecretIDr = MAC(auxsecret, H3 of
/// Responder) (§4.3.1).
pub fn aux_secret_ids(
    hash: HashAlgorithm,
    aux: &[u8],
    initiator_h3: &HashImage,
    responder_h3: &HashImage,
) -> SecretIds {
    SecretIds {
        initiator: SecretId(truncated_mac(hash, aux, &initiator_h3.0).0),
        responder: SecretId(truncated_mac(hash, aux, &responder_h3.0).0),
    }
}

/// A random id, sent when we have no such secret so the peer cannot tell (§4.3.1).
pub fn random_secret_id(rng: &mut (impl RngCore + CryptoRng)) -> SecretId {
    let mut id = [0u8; 8];
    rng.fill_bytes(&mut id);
    SecretId(id)
}

/// Encrypt a Confirm body with the sender's zrtpkey under `iv` and MAC the ciphertext with its
/// mackey (§5.7).
pub fn seal_confirm(
    n: &Negotiated,
    keys: &SessionKeys,
    sender: Role,
    iv: [u8; 16],
    body: &ConfirmBody,
) -> Result<Encrypted, ZrtpError> {
    let (key, mac_key) = keys.confirm_keys(sender);
    seal(n.cipher, n.hash, key, mac_key, iv, body.encode()?)
}

/// Check the MAC of a received Confirm, then decrypt and parse it.
pub fn open_confirm(
    n: &Negotiated,
    keys: &SessionKeys,
    sender: Role,
    enc: &Encrypted,
) -> Result<ConfirmBody, ZrtpError> {
    let (key, mac_key) = keys.confirm_keys(sender);
    ConfirmBody::parse(&open(n.cipher, n.hash, key, mac_key, enc)?)
}

/// Encrypt and MAC a SASrelay body (same keys as the sender's Confirm).
pub fn seal_sas_relay(
    n: &Negotiated,
    keys: &SessionKeys,
    sender: Role,
    iv: [u8; 16],
    body: &SasRelayBody,
) -> Result<Encrypted, ZrtpError> {
    let (key, mac_key) = keys.confirm_keys(sender);
    seal(n.cipher, n.hash, key, mac_key, iv, body.encode()?)
}

/// Check, decrypt and parse a SASrelay body.
pub fn open_sas_relay(
    n: &Negotiated,
    keys: &SessionKeys,
    sender: Role,
    enc: &Encrypted,
) -> Result<SasRelayBody, ZrtpError> {
    let (key, mac_key) = keys.confirm_keys(sender);
    SasRelayBody::parse(&open(n.cipher, n.hash, key, mac_key, enc)?)
}

/// CFB-encrypt `data` in place with the negotiated block cipher (128-bit blocks, full-block
/// feedback; the last block may be partial).
pub fn cfb_encrypt(
    cipher: CipherAlgorithm,
    key: &[u8],
    iv: &[u8; 16],
    data: &mut [u8],
) -> Result<(), ZrtpError> {
    cfb(cipher, key, iv, data, true)
}

/// CFB-decrypt `data` in place.
pub fn cfb_decrypt(
    cipher: CipherAlgorithm,
    key: &[u8],
    iv: &[u8; 16],
    data: &mut [u8],
) -> Result<(), ZrtpError> {
    cfb(cipher, key, iv, data, false)
}

fn seal(
    cipher: CipherAlgorithm,
    hash: HashAlgorithm,
    key: &[u8],
    mac_key: &[u8],
    iv: [u8; 16],
    plaintext: Vec<u8>,
) -> Result<Encrypted, ZrtpError> {
    let mut ciphertext = plaintext;
    cfb_encrypt(cipher, key, &iv, &mut ciphertext)?;
    let mac = truncated_mac(hash, mac_key, &ciphertext);
    Ok(Encrypted {
        mac,
        iv,
        ciphertext,
    })
}

fn open(
    cipher: CipherAlgorithm,
    hash: HashAlgorithm,
    key: &[u8],
    mac_key: &[u8],
    enc: &Encrypted,
) -> Result<Zeroizing<Vec<u8>>, ZrtpError> {
    let mac = truncated_mac(hash, mac_key, &enc.ciphertext);
    if !bool::from(mac.0.ct_eq(&enc.mac.0)) {
        return Err(PeerMisbehaved::BadConfirmMac.into());
    }
    let mut plain = Zeroizing::new(enc.ciphertext.clone());
    cfb_decrypt(cipher, key, &enc.iv, &mut plain)?;
    Ok(plain)
}

fn cfb(
    cipher: CipherAlgorithm,
    key: &[u8],
    iv: &[u8; 16],
    data: &mut [u8],
    encrypt: bool,
) -> Result<(), ZrtpError> {
    if key.len() != cipher.key_len() {
        return Err(ZrtpError::Encode("cipher key has the wrong length"));
    }
    let bad = |_| ZrtpError::Encode("cipher key has the wrong length");
    macro_rules! run {
        ($block:ty) => {{
            let inner = <$block>::new_from_slice(key).map_err(bad)?;
            if encrypt {
                cfb_mode::Encryptor::<$block>::inner_iv_slice_init(inner, iv)
                    .map_err(bad)?
                    .encrypt(data);
            } else {
                cfb_mode::Decryptor::<$block>::inner_iv_slice_init(inner, iv)
                    .map_err(bad)?
                    .decrypt(data);
            }
        }};
    }
    match cipher {
        CipherAlgorithm::Aes1 => run!(aes::Aes128),
        CipherAlgorithm::Aes3 => run!(aes::Aes256),
        CipherAlgorithm::Twofish1 | CipherAlgorithm::Twofish3 => run!(twofish::Twofish),
    }
    Ok(())
}
