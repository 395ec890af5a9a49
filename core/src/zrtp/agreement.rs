//! Key agreement operations (RFC 6189 §5.1.5, §4.4.1.1): finite-field DH over the RFC 3526
//! 2048- and 3072-bit MODP groups, ECDH on P-256 and P-384, and X25519, with the public-value
//! checks the RFC requires. Randomness is injected; nothing here reads a clock or a socket.

use crypto_bigint::modular::runtime_mod::{DynResidue, DynResidueParams};
use crypto_bigint::{Uint, U2048, U3072, U512};
use elliptic_curve::sec1::ToEncodedPoint;
use rand::{CryptoRng, RngCore};
use zeroize::Zeroizing;

use super::algorithms::{AlgorithmKind, KeyAgreement};
use super::error::{PeerMisbehaved, ZrtpError};

/// Our half of one key agreement: the secret and the public value (`pv`) for DHPart.
pub struct KeyPair {
    secret: Secret,
    public_value: Vec<u8>,
}

/// The agreed DHResult (§4.4.1.4): the padded DH value, the EC x-coordinate, or the X25519
/// output. Zeroed on drop.
pub struct DhResult(pub Zeroizing<Vec<u8>>);

impl std::fmt::Debug for DhResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DhResult(..)")
    }
}

impl std::fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyPair")
            .field("key_agreement", &self.key_agreement())
            .finish_non_exhaustive()
    }
}

impl KeyPair {
    /// A fresh key pair. `Mult` has no key pair and is refused.
    pub fn generate(
        ka: KeyAgreement,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<KeyPair, ZrtpError> {
        let secret_len = match ka {
            // 512-bit exponents: twice the strength of the largest cipher (§5.1.5).
            KeyAgreement::Dh2k | KeyAgreement::Dh3k => 64,
            KeyAgreement::Ec25 | KeyAgreement::X255 => 32,
            KeyAgreement::Ec38 => 48,
            KeyAgreement::Mult => return Err(unsupported(ka)),
        };
        // A handful of tries: the chance that random bytes are not a valid EC scalar is about
        // 2^-32 for P-256 and far less for the others.
        for _ in 0..8 {
            let mut bytes = Zeroizing::new(vec![0u8; secret_len]);
            rng.fill_bytes(&mut bytes);
            if let Ok(pair) = KeyPair::from_secret(ka, &bytes) {
                return Ok(pair);
            }
        }
        Err(ZrtpError::Encode(
            "random generator produced no valid secret",
        ))
    }

    /// A key pair from given secret bytes (DH: exponent, up to 64 bytes; EC: scalar; X25519:
    /// the 32-byte key). For known-answer tests and for callers with their own generator.
    pub fn from_secret(ka: KeyAgreement, secret: &[u8]) -> Result<KeyPair, ZrtpError> {
        let bad = || ZrtpError::Encode("invalid secret for this key agreement");
        let secret = match ka {
            KeyAgreement::Dh2k | KeyAgreement::Dh3k => {
                if secret.is_empty() || secret.len() > 64 {
                    return Err(bad());
                }
                let mut padded = Zeroizing::new([0u8; 64]);
                padded[64 - secret.len()..].copy_from_slice(secret);
                let x = U512::from_be_slice(&padded[..]);
                if bool::from(crypto_bigint::Zero::is_zero(&x)) {
                    return Err(bad());
                }
                if ka == KeyAgreement::Dh2k {
                    Secret::Dh2k(x)
                } else {
                    Secret::Dh3k(x)
                }
            }
            KeyAgreement::Ec25 => {
                Secret::Ec25(p256::SecretKey::from_slice(secret).map_err(|_| bad())?)
            }
            KeyAgreement::Ec38 => {
                Secret::Ec38(p384::SecretKey::from_slice(secret).map_err(|_| bad())?)
            }
            KeyAgreement::X255 => {
                let bytes: [u8; 32] = secret.try_into().map_err(|_| bad())?;
                Secret::X255(x25519_dalek::StaticSecret::from(bytes))
            }
            KeyAgreement::Mult => return Err(unsupported(ka)),
        };
        let public_value = match &secret {
            Secret::Dh2k(x) => dh_public(&modp_2048(), x),
            Secret::Dh3k(x) => dh_public(&modp_3072(), x),
            Secret::Ec25(sk) => sk.public_key().to_encoded_point(false).as_bytes()[1..].to_vec(),
            Secret::Ec38(sk) => sk.public_key().to_encoded_point(false).as_bytes()[1..].to_vec(),
            Secret::X255(sk) => x25519_dalek::PublicKey::from(sk).as_bytes().to_vec(),
        };
        Ok(KeyPair {
            secret,
            public_value,
        })
    }

    /// Which key agreement this pair is for.
    pub fn key_agreement(&self) -> KeyAgreement {
        match self.secret {
            Secret::Dh2k(_) => KeyAgreement::Dh2k,
            Secret::Dh3k(_) => KeyAgreement::Dh3k,
            Secret::Ec25(_) => KeyAgreement::Ec25,
            Secret::Ec38(_) => KeyAgreement::Ec38,
            Secret::X255(_) => KeyAgreement::X255,
        }
    }

    /// The public value for DHPart1/DHPart2 (`pvr`/`pvi`).
    pub fn public_value(&self) -> &[u8] {
        &self.public_value
    }

    /// Combine with the peer's public value after checking it (§4.4.1.1: 1 < pv < p-1 for DH,
    /// a curve point for EC, a contributory result for X25519).
    pub fn agree(&self, peer_public_value: &[u8]) -> Result<DhResult, ZrtpError> {
        check_public_value(self.key_agreement(), peer_public_value)?;
        let shared = match &self.secret {
            Secret::Dh2k(x) => dh_shared(&modp_2048(), x, peer_public_value),
            Secret::Dh3k(x) => dh_shared(&modp_3072(), x, peer_public_value),
            Secret::Ec25(sk) => {
                let pk = p256::PublicKey::from_sec1_bytes(&sec1(peer_public_value))
                    .map_err(|_| PeerMisbehaved::PointNotOnCurve)?;
                let s =
                    elliptic_curve::ecdh::diffie_hellman(sk.to_nonzero_scalar(), pk.as_affine());
                s.raw_secret_bytes().to_vec()
            }
            Secret::Ec38(sk) => {
                let pk = p384::PublicKey::from_sec1_bytes(&sec1(peer_public_value))
                    .map_err(|_| PeerMisbehaved::PointNotOnCurve)?;
                let s =
                    elliptic_curve::ecdh::diffie_hellman(sk.to_nonzero_scalar(), pk.as_affine());
                s.raw_secret_bytes().to_vec()
            }
            Secret::X255(sk) => {
                let mut bytes = [0u8; 32];
                bytes.copy_from_slice(peer_public_value);
                let s = sk.diffie_hellman(&x25519_dalek::PublicKey::from(bytes));
                if !s.was_contributory() {
                    return Err(PeerMisbehaved::LowOrderPoint.into());
                }
                s.as_bytes().to_vec()
            }
        };
        Ok(DhResult(Zeroizing::new(shared)))
    }
}

/// Check a peer's public value for the key agreement without using it: length, and the range
/// or curve check of §4.4.1.1 (X25519's low-order check needs the agreement itself).
pub fn check_public_value(ka: KeyAgreement, pv: &[u8]) -> Result<(), ZrtpError> {
    if ka == KeyAgreement::Mult {
        return Err(unsupported(ka));
    }
    let expected = ka.public_value_len();
    if pv.len() != expected {
        return Err(PeerMisbehaved::BadPublicValueLength {
            expected,
            actual: pv.len(),
        }
        .into());
    }
    let ok = match ka {
        KeyAgreement::Dh2k => dh_in_range(&modp_2048(), pv),
        KeyAgreement::Dh3k => dh_in_range(&modp_3072(), pv),
        KeyAgreement::Ec25 => p256::PublicKey::from_sec1_bytes(&sec1(pv)).is_ok(),
        KeyAgreement::Ec38 => p384::PublicKey::from_sec1_bytes(&sec1(pv)).is_ok(),
        KeyAgreement::X255 | KeyAgreement::Mult => true,
    };
    match (ok, ka) {
        (true, _) => Ok(()),
        (false, KeyAgreement::Dh2k | KeyAgreement::Dh3k) => {
            Err(PeerMisbehaved::DhValueOutOfRange.into())
        }
        (false, _) => Err(PeerMisbehaved::PointNotOnCurve.into()),
    }
}

enum Secret {
    Dh2k(U512),
    Dh3k(U512),
    Ec25(p256::SecretKey),
    Ec38(p384::SecretKey),
    X255(x25519_dalek::StaticSecret),
}

impl Drop for Secret {
    fn drop(&mut self) {
        // The EC and X25519 secrets zeroize themselves; wipe the DH exponents here.
        if let Secret::Dh2k(x) | Secret::Dh3k(x) = self {
            *x = U512::ZERO;
        }
    }
}

fn unsupported(ka: KeyAgreement) -> ZrtpError {
    ZrtpError::UnsupportedAlgorithm {
        kind: AlgorithmKind::KeyAgreement,
        id: ka.id().to_string(),
    }
}

/// The SEC1 uncompressed encoding of a ZRTP EC public value (x || y).
fn sec1(pv: &[u8]) -> Vec<u8> {
    [&[0x04][..], pv].concat()
}

fn modp_2048() -> U2048 {
    U2048::from_be_hex(&MODP_2048_HEX.concat())
}

fn modp_3072() -> U3072 {
    U3072::from_be_hex(&MODP_3072_HEX.concat())
}

fn dh_in_range<const L: usize>(p: &Uint<L>, pv: &[u8]) -> bool {
    // Length was checked by the caller to be exactly the modulus size.
    let y = Uint::<L>::from_be_slice(pv);
    let p_minus_1 = p.wrapping_sub(&Uint::ONE);
    y > Uint::ONE && y < p_minus_1
}

fn dh_public<const L: usize>(p: &Uint<L>, x: &U512) -> Vec<u8> {
    let params = DynResidueParams::new(p);
    let g = DynResidue::new(&Uint::<L>::from_u8(2), params);
    to_be_bytes(&g.pow_bounded_exp(x, 512).retrieve())
}

fn dh_shared<const L: usize>(p: &Uint<L>, x: &U512, pv: &[u8]) -> Vec<u8> {
    let params = DynResidueParams::new(p);
    // Length and range were checked by `check_public_value`.
    let y = DynResidue::new(&Uint::<L>::from_be_slice(pv), params);
    to_be_bytes(&y.pow_bounded_exp(x, 512).retrieve())
}

/// Big-endian bytes of a fixed-size integer, leading zeros kept (the DHResult is padded to the
/// modulus length).
fn to_be_bytes<const L: usize>(x: &Uint<L>) -> Vec<u8> {
    x.as_words()
        .iter()
        .rev()
        .flat_map(|w| w.to_be_bytes())
        .collect()
}

/// RFC 3526 group 14 prime (2048-bit MODP), generator 2, in hex.
const MODP_2048_HEX: &[&str] = &[
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74",
    "020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437",
    "4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED",
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF05",
    "98DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB",
    "9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B",
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF695581718",
    "3995497CEA956AE515D2261898FA051015728E5A8AACAA68FFFFFFFFFFFFFFFF",
];

/// RFC 3526 group 15 prime (3072-bit MODP), generator 2, in hex.
const MODP_3072_HEX: &[&str] = &[
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74",
    "020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437",
    "4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED",
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF05",
    "98DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB",
    "9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B",
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF695581718",
    "3995497CEA956AE515D2261898FA051015728E5A8AAAC42DAD33170D04507A33",
    "A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7",
    "ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864",
    "D87602733EC86A64521F2B18177B200CBBE117577A615D6C770988C0BAD946E2",
    "08E24FA074E5AB3143DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF",
];
