//! The ZRTP key schedule's hashing: hash chain (§9), message MACs, hvi (§4.4.1.1),
//! total_hash and s0 (§4.4.1.4), and the KDF (§4.5.1).
//!
//! Two hashes are in play. The hash chain, the MACs of Hello/Commit/DHPart and the SDP
//! `a=zrtp-hash` use the *implicit* hash, SHA-256, because they are computed before any
//! negotiation. hvi, total_hash, s0, the KDF and the Confirm MAC use the *negotiated* hash.

use hmac::{Hmac, Mac as _};
use rand::{CryptoRng, RngCore};
use sha2::{Digest, Sha256, Sha384};
use subtle::ConstantTimeEq;

use super::algorithms::HashAlgorithm;
use super::error::{PeerMisbehaved, ZrtpError};
use super::message::{mac_covered, HashImage, Mac, Zid};

/// The sender's hash chain H0 → H1 → H2 → H3, each the SHA-256 of the one before (§9).
/// H3 goes in Hello, H2 in Commit, H1 in DHPart, H0 in Confirm; each reveal lets the peer check
/// the MAC of the earlier message keyed by it.
#[derive(Clone, PartialEq, Eq)]
pub struct HashChain {
    /// Random root, revealed last (in Confirm).
    pub h0: HashImage,
    /// SHA-256(H0).
    pub h1: HashImage,
    /// SHA-256(H1).
    pub h2: HashImage,
    /// SHA-256(H2).
    pub h3: HashImage,
}

impl std::fmt::Debug for HashChain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // H0 stays secret until Confirm: keep it out of logs.
        f.debug_struct("HashChain")
            .field("h3", &self.h3)
            .finish_non_exhaustive()
    }
}

impl HashChain {
    /// A chain from a fresh random H0.
    pub fn generate(rng: &mut (impl RngCore + CryptoRng)) -> HashChain {
        let mut h0 = [0u8; 32];
        rng.fill_bytes(&mut h0);
        HashChain::from_h0(HashImage(h0))
    }

    /// The chain grown from a given H0.
    pub fn from_h0(h0: HashImage) -> HashChain {
        let h1 = next_image(&h0);
        let h2 = next_image(&h1);
        let h3 = next_image(&h2);
        HashChain { h0, h1, h2, h3 }
    }
}

/// The next image up the chain: SHA-256 of this one.
pub fn next_image(h: &HashImage) -> HashImage {
    HashImage(Sha256::digest(h.0).into())
}

/// Check that `revealed` hashes to `expected` (the image the peer sent one message earlier).
pub fn verify_chain_link(revealed: &HashImage, expected: &HashImage) -> Result<(), ZrtpError> {
    if bool::from(next_image(revealed).0.ct_eq(&expected.0)) {
        Ok(())
    } else {
        Err(PeerMisbehaved::BadHashChain.into())
    }
}

/// The MAC a Hello, Commit or DHPart carries: HMAC-SHA-256 keyed by the hash-chain image the
/// sender reveals next, over the encoded message up to the MAC, truncated to 64 bits.
pub fn message_mac(key: &HashImage, covered: &[u8]) -> Mac {
    let full = hmac(HashAlgorithm::S256, &key.0, &[covered]);
    let mut out = [0u8; 8];
    out.copy_from_slice(&full[..8]);
    Mac(out)
}

/// Check the trailing MAC of a received Hello, Commit or DHPart (its raw bytes) with the key
/// the peer revealed later.
pub fn verify_message_mac(key: &HashImage, raw_message: &[u8]) -> Result<(), ZrtpError> {
    let (covered, mac) = mac_covered(raw_message).ok_or(PeerMisbehaved::BadMessageMac)?;
    if bool::from(message_mac(key, covered).0.ct_eq(mac)) {
        Ok(())
    } else {
        Err(PeerMisbehaved::BadMessageMac.into())
    }
}

/// Fill the MAC of an encoded Hello, Commit or DHPart in place (the last eight bytes).
pub fn seal_message(key: &HashImage, encoded: &mut [u8]) {
    let len = encoded.len();
    let n = len.saturating_sub(8);
    let mac = message_mac(key, &encoded[..n]);
    encoded[n..].copy_from_slice(&mac.0[..len - n]);
}

/// The `a=zrtp-hash` value of an encoded Hello: SHA-256 of the whole message (§8.1).
pub fn hello_hash(hello_message: &[u8]) -> [u8; 32] {
    Sha256::digest(hello_message).into()
}

/// hvi = hash(initiator's DHPart2 || responder's Hello), truncated to 256 bits (§4.4.1.1).
pub fn hvi(hash: HashAlgorithm, dhpart2: &[u8], responder_hello: &[u8]) -> [u8; 32] {
    let full = digest(hash, &[dhpart2, responder_hello]);
    let mut out = [0u8; 32];
    out.copy_from_slice(&full[..32]);
    out
}

/// total_hash = hash(Hello of responder || Commit || DHPart1 || DHPart2) (§4.4.1.4).
pub fn total_hash(
    hash: HashAlgorithm,
    responder_hello: &[u8],
    commit: &[u8],
    dhpart1: &[u8],
    dhpart2: &[u8],
) -> Vec<u8> {
    digest(hash, &[responder_hello, commit, dhpart1, dhpart2])
}

/// KDF_Context = ZIDi || ZIDr || total_hash (§4.4.1.4).
pub fn kdf_context(zid_i: &Zid, zid_r: &Zid, total_hash: &[u8]) -> Vec<u8> {
    [&zid_i.0[..], &zid_r.0[..], total_hash].concat()
}

/// The shared secrets that matched between the two sides and enter s0 (§4.4.1.4): s1 is rs1
/// or rs2, s2 the auxsecret, s3 the pbxsecret. `None` enters as a zero length.
#[derive(Clone, Copy, Default)]
pub struct MatchedSecrets<'a> {
    /// s1: the matched retained secret.
    pub s1: Option<&'a [u8]>,
    /// s2: the auxiliary secret.
    pub s2: Option<&'a [u8]>,
    /// s3: the PBX secret.
    pub s3: Option<&'a [u8]>,
}

/// s0 = hash(counter || DHResult || "ZRTP-HMAC-KDF" || ZIDi || ZIDr || total_hash ||
/// len(s1) || s1 || len(s2) || s2 || len(s3) || s3), counter = 1 (§4.4.1.4).
pub fn s0(
    hash: HashAlgorithm,
    dh_result: &[u8],
    zid_i: &Zid,
    zid_r: &Zid,
    total_hash: &[u8],
    secrets: MatchedSecrets<'_>,
) -> Vec<u8> {
    let lens: Vec<[u8; 4]> = [secrets.s1, secrets.s2, secrets.s3]
        .iter()
        .map(|s| (s.map_or(0, <[u8]>::len) as u32).to_be_bytes())
        .collect();
    let mut parts: Vec<&[u8]> = vec![
        &[0, 0, 0, 1],
        dh_result,
        b"ZRTP-HMAC-KDF",
        &zid_i.0,
        &zid_r.0,
        total_hash,
    ];
    for (len, s) in lens.iter().zip([secrets.s1, secrets.s2, secrets.s3]) {
        parts.push(len);
        if let Some(s) = s {
            parts.push(s);
        }
    }
    digest(hash, &parts)
}

/// KDF(KI, Label, Context, L) = HMAC(KI, i || Label || 0x00 || Context || L) with i = 1 and L
/// the output length in bits, both 32-bit big-endian; the output is truncated to L bits
/// (§4.5.1). `out_len` is in bytes and at most the hash length.
pub fn kdf(hash: HashAlgorithm, ki: &[u8], label: &str, context: &[u8], out_len: usize) -> Vec<u8> {
    debug_assert!(
        out_len <= hash.digest_len(),
        "the ZRTP KDF yields at most one hash block"
    );
    let l_bits = ((out_len * 8) as u32).to_be_bytes();
    let mut full = hmac(
        hash,
        ki,
        &[&[0, 0, 0, 1], label.as_bytes(), &[0], context, &l_bits],
    );
    full.truncate(out_len);
    full
}

/// Hash of the concatenation of `parts` with the given algorithm.
pub fn digest(hash: HashAlgorithm, parts: &[&[u8]]) -> Vec<u8> {
    match hash {
        HashAlgorithm::S256 => {
            let mut h = Sha256::new();
            parts.iter().for_each(|p| h.update(p));
            h.finalize().to_vec()
        }
        HashAlgorithm::S384 => {
            let mut h = Sha384::new();
            parts.iter().for_each(|p| h.update(p));
            h.finalize().to_vec()
        }
    }
}

/// HMAC of the concatenation of `parts` with the given hash (full length).
pub fn hmac(hash: HashAlgorithm, key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    match hash {
        HashAlgorithm::S256 => {
            // HMAC accepts keys of any length; new_from_slice cannot fail for it.
            let mut m = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
            parts.iter().for_each(|p| m.update(p));
            m.finalize().into_bytes().to_vec()
        }
        HashAlgorithm::S384 => {
            // As above: HMAC keys have no length limit.
            let mut m = Hmac::<Sha384>::new_from_slice(key).expect("HMAC takes any key length");
            parts.iter().for_each(|p| m.update(p));
            m.finalize().into_bytes().to_vec()
        }
    }
}

/// A MAC truncated to the 64 bits messages carry.
pub fn truncated_mac(hash: HashAlgorithm, key: &[u8], data: &[u8]) -> Mac {
    let full = hmac(hash, key, &[data]);
    let mut out = [0u8; 8];
    out.copy_from_slice(&full[..8]);
    Mac(out)
}
