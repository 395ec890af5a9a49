//! ZRTP algorithm ids (RFC 6189 §5.1.2–§5.1.6) and the Initiator's choice of algorithms (§4.1.2).
//!
//! On the wire every algorithm is a four-byte ASCII id ([`AlgoId`]); Hello lists keep unknown
//! ids as they came so that a peer offering, say, `X448` or `SK32` still parses. The typed enums
//! below are the algorithms this implementation can run.

use std::fmt;

use super::error::{PeerMisbehaved, ZrtpError};
use super::message::{Commit, Hello};

/// A four-character algorithm id as carried in Hello and Commit (e.g. `S256`, `B32 `).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct AlgoId(pub [u8; 4]);

impl fmt::Debug for AlgoId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AlgoId({self})")
    }
}

impl fmt::Display for AlgoId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Peer bytes may be anything: show printable ASCII and escape the rest.
        for b in self.0 {
            if b.is_ascii_graphic() || b == b' ' {
                write!(f, "{}", b as char)?;
            } else {
                write!(f, "\\x{b:02x}")?;
            }
        }
        Ok(())
    }
}

/// The five algorithm lists of a Hello.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AlgorithmKind {
    /// Hash (`S256`, `S384`).
    Hash,
    /// Block cipher (`AES1`, `AES3`, `2FS1`, `2FS3`).
    Cipher,
    /// SRTP authentication tag (`HS32`, `HS80`).
    AuthTag,
    /// Key agreement (`DH3k`, `DH2k`, `EC25`, `EC38`, `X255`, `Mult`).
    KeyAgreement,
    /// SAS rendering (`B32 `, `B256`).
    Sas,
}

macro_rules! algorithm_enum {
    ($(#[$doc:meta])* $name:ident, $kind:expr, { $($(#[$vdoc:meta])* $variant:ident = $id:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vdoc])* $variant),+
        }

        impl $name {
            /// Every algorithm of this kind that we implement.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The wire id.
            pub fn id(self) -> AlgoId {
                match self {
                    $($name::$variant => AlgoId(*$id)),+
                }
            }

            /// The algorithm for a wire id, if we implement it.
            pub fn from_id(id: AlgoId) -> Option<Self> {
                match &id.0 {
                    $($id => Some($name::$variant),)+
                    _ => None,
                }
            }

            /// The algorithm for a wire id, or an `UnsupportedAlgorithm` error.
            pub fn require(id: AlgoId) -> Result<Self, ZrtpError> {
                Self::from_id(id).ok_or_else(|| ZrtpError::UnsupportedAlgorithm {
                    kind: $kind,
                    id: id.to_string(),
                })
            }
        }
    };
}

algorithm_enum!(
    /// Negotiated hash (§5.1.2.1); it also selects the HMAC used by the KDF.
    HashAlgorithm, AlgorithmKind::Hash, {
        /// SHA-256 (mandatory).
        S256 = b"S256",
        /// SHA-384.
        S384 = b"S384",
    }
);

algorithm_enum!(
    /// Block cipher for SRTP and the Confirm messages (§5.1.3).
    CipherAlgorithm, AlgorithmKind::Cipher, {
        /// AES with a 128-bit key (mandatory).
        Aes1 = b"AES1",
        /// AES with a 256-bit key.
        Aes3 = b"AES3",
        /// Twofish with a 128-bit key.
        Twofish1 = b"2FS1",
        /// Twofish with a 256-bit key.
        Twofish3 = b"2FS3",
    }
);

algorithm_enum!(
    /// SRTP authentication tag (§5.1.4).
    AuthTag, AlgorithmKind::AuthTag, {
        /// HMAC-SHA1 with a 32-bit tag (mandatory).
        Hs32 = b"HS32",
        /// HMAC-SHA1 with an 80-bit tag (mandatory).
        Hs80 = b"HS80",
    }
);

algorithm_enum!(
    /// Key agreement (§5.1.5).
    KeyAgreement, AlgorithmKind::KeyAgreement, {
        /// 3072-bit MODP group of RFC 3526 (mandatory).
        Dh3k = b"DH3k",
        /// 2048-bit MODP group of RFC 3526.
        Dh2k = b"DH2k",
        /// ECDH on NIST P-256.
        Ec25 = b"EC25",
        /// ECDH on NIST P-384 (requires S384).
        Ec38 = b"EC38",
        /// X25519 (RFC 7748), as bzrtp offers it.
        X255 = b"X255",
        /// Multistream mode: no DH, keys from an existing ZRTP session.
        Mult = b"Mult",
    }
);

algorithm_enum!(
    /// SAS rendering (§5.1.6).
    SasType, AlgorithmKind::Sas, {
        /// Four z-base-32 characters from 20 bits (mandatory).
        B32 = b"B32 ",
        /// Two PGP words from 16 bits.
        B256 = b"B256",
    }
);

impl HashAlgorithm {
    /// Digest length in bytes.
    pub fn digest_len(self) -> usize {
        match self {
            HashAlgorithm::S256 => 32,
            HashAlgorithm::S384 => 48,
        }
    }
}

impl CipherAlgorithm {
    /// Key length in bytes (also the SRTP master key length).
    pub fn key_len(self) -> usize {
        match self {
            CipherAlgorithm::Aes1 | CipherAlgorithm::Twofish1 => 16,
            CipherAlgorithm::Aes3 | CipherAlgorithm::Twofish3 => 32,
        }
    }
}

impl KeyAgreement {
    /// Length in bytes of the public value `pv` carried in DHPart1/DHPart2 (0 for `Mult`).
    pub fn public_value_len(self) -> usize {
        match self {
            KeyAgreement::Dh3k => 384,
            KeyAgreement::Dh2k => 256,
            KeyAgreement::Ec25 => 64,
            KeyAgreement::Ec38 => 96,
            KeyAgreement::X255 => 32,
            KeyAgreement::Mult => 0,
        }
    }

    /// Rank from fastest (weakest) to slowest (strongest), per §4.1.2: when the two sides'
    /// first choices differ, the faster of the two is used.
    fn speed_rank(self) -> u8 {
        match self {
            KeyAgreement::Dh2k => 0,
            KeyAgreement::X255 => 1,
            KeyAgreement::Ec25 => 2,
            KeyAgreement::Dh3k => 3,
            KeyAgreement::Ec38 => 4,
            KeyAgreement::Mult => 5,
        }
    }
}

/// One endpoint's algorithm preferences, most preferred first. Mandatory algorithms are implied
/// by the protocol (§4.1.2) and need not be listed; [`AlgorithmOffer::hello_lists`] lists what
/// goes in our Hello.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlgorithmOffer {
    /// Hash preferences.
    pub hashes: Vec<HashAlgorithm>,
    /// Cipher preferences.
    pub ciphers: Vec<CipherAlgorithm>,
    /// Auth tag preferences.
    pub auth_tags: Vec<AuthTag>,
    /// Key agreement preferences (`Mult` is ignored for DH mode).
    pub key_agreements: Vec<KeyAgreement>,
    /// SAS rendering preferences.
    pub sas_types: Vec<SasType>,
}

impl Default for AlgorithmOffer {
    /// What bzrtp offers by default plus the faster curves: interoperable with linphone.
    fn default() -> Self {
        AlgorithmOffer {
            hashes: vec![HashAlgorithm::S256, HashAlgorithm::S384],
            ciphers: vec![CipherAlgorithm::Aes1, CipherAlgorithm::Aes3],
            auth_tags: vec![AuthTag::Hs80, AuthTag::Hs32],
            key_agreements: vec![KeyAgreement::X255, KeyAgreement::Dh3k, KeyAgreement::Mult],
            sas_types: vec![SasType::B32, SasType::B256],
        }
    }
}

/// The five algorithms an exchange runs with, as chosen by the Initiator and sent in Commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Negotiated {
    /// Hash (and HMAC) for the key schedule.
    pub hash: HashAlgorithm,
    /// Cipher for SRTP and the Confirm messages.
    pub cipher: CipherAlgorithm,
    /// SRTP authentication tag.
    pub auth_tag: AuthTag,
    /// Key agreement.
    pub key_agreement: KeyAgreement,
    /// SAS rendering.
    pub sas: SasType,
}

impl AlgorithmOffer {
    /// The algorithm lists for our Hello, each cut to the seven the count field allows.
    pub fn hello_lists(&self) -> [Vec<AlgoId>; 5] {
        fn ids<T: Copy>(list: &[T], id: impl Fn(T) -> AlgoId) -> Vec<AlgoId> {
            let mut out: Vec<AlgoId> = Vec::new();
            for a in list.iter().copied().map(id) {
                if !out.contains(&a) && out.len() < 7 {
                    out.push(a);
                }
            }
            out
        }
        [
            ids(&self.hashes, HashAlgorithm::id),
            ids(&self.ciphers, CipherAlgorithm::id),
            ids(&self.auth_tags, AuthTag::id),
            ids(&self.key_agreements, KeyAgreement::id),
            ids(&self.sas_types, SasType::id),
        ]
    }

    /// As Initiator: choose the algorithms for Commit from our preferences and the Responder's
    /// Hello (RFC 6189 §4.1.2). Each choice comes from the intersection of both sides' lists
    /// (mandatory algorithms implied), in our order of preference. For the key agreement, when
    /// the first common choices of the two sides differ, the faster one wins. EC38 needs S384;
    /// with it a 256-bit cipher is preferred.
    pub fn negotiate(&self, responder: &Hello) -> Result<Negotiated, ZrtpError> {
        let peer_hashes = effective(
            &responder.hashes,
            HashAlgorithm::from_id,
            &[HashAlgorithm::S256],
        );
        let own_hashes = with_mandatory(&self.hashes, &[HashAlgorithm::S256]);
        let hashes = intersect(&own_hashes, &peer_hashes);

        let own_ka: Vec<KeyAgreement> = with_mandatory(&self.key_agreements, &[KeyAgreement::Dh3k])
            .into_iter()
            .filter(|k| *k != KeyAgreement::Mult)
            .filter(|k| *k != KeyAgreement::Ec38 || hashes.contains(&HashAlgorithm::S384))
            .collect();
        let peer_ka = effective(
            &responder.key_agreements,
            KeyAgreement::from_id,
            &[KeyAgreement::Dh3k],
        );
        let own_common = intersect(&own_ka, &peer_ka);
        let peer_common = intersect(&peer_ka, &own_ka);
        let key_agreement = match (own_common.first(), peer_common.first()) {
            (Some(&a), Some(&b)) if a.speed_rank() <= b.speed_rank() => a,
            (Some(_), Some(&b)) => b,
            // Both sides always support DH3k, so this only happens if a caller filtered it out.
            _ => return Err(ZrtpError::NoCommonAlgorithm(AlgorithmKind::KeyAgreement)),
        };

        let hash = if key_agreement == KeyAgreement::Ec38 {
            HashAlgorithm::S384
        } else {
            *hashes
                .first()
                .ok_or(ZrtpError::NoCommonAlgorithm(AlgorithmKind::Hash))?
        };

        let peer_ciphers = effective(
            &responder.ciphers,
            CipherAlgorithm::from_id,
            &[CipherAlgorithm::Aes1],
        );
        let ciphers = intersect(
            &with_mandatory(&self.ciphers, &[CipherAlgorithm::Aes1]),
            &peer_ciphers,
        );
        let strong = ciphers.iter().copied().find(|c| c.key_len() == 32);
        let cipher = match (key_agreement, strong) {
            (KeyAgreement::Ec38, Some(c)) => c,
            _ => *ciphers
                .first()
                .ok_or(ZrtpError::NoCommonAlgorithm(AlgorithmKind::Cipher))?,
        };

        let mandatory_tags = [AuthTag::Hs32, AuthTag::Hs80];
        let peer_tags = effective(&responder.auth_tags, AuthTag::from_id, &mandatory_tags);
        let auth_tag = *intersect(
            &with_mandatory(&self.auth_tags, &mandatory_tags),
            &peer_tags,
        )
        .first()
        .ok_or(ZrtpError::NoCommonAlgorithm(AlgorithmKind::AuthTag))?;

        let peer_sas = effective(&responder.sas_types, SasType::from_id, &[SasType::B32]);
        let sas = *intersect(&with_mandatory(&self.sas_types, &[SasType::B32]), &peer_sas)
            .first()
            .ok_or(ZrtpError::NoCommonAlgorithm(AlgorithmKind::Sas))?;

        Ok(Negotiated {
            hash,
            cipher,
            auth_tag,
            key_agreement,
            sas,
        })
    }

    /// As Responder: accept the Initiator's choices in a DH-mode Commit only if each is one we
    /// offered (or a mandatory one), and EC38 comes with S384.
    pub fn accept_commit(&self, commit: &Commit) -> Result<Negotiated, ZrtpError> {
        fn check<T: Copy + PartialEq>(
            kind: AlgorithmKind,
            id: AlgoId,
            parse: impl Fn(AlgoId) -> Option<T>,
            own: &[T],
            mandatory: &[T],
        ) -> Result<T, ZrtpError> {
            match parse(id) {
                Some(a) if own.contains(&a) || mandatory.contains(&a) => Ok(a),
                _ => Err(PeerMisbehaved::UnofferedAlgorithm {
                    kind,
                    id: id.to_string(),
                }
                .into()),
            }
        }
        let hash = check(
            AlgorithmKind::Hash,
            commit.hash,
            HashAlgorithm::from_id,
            &self.hashes,
            &[HashAlgorithm::S256],
        )?;
        let cipher = check(
            AlgorithmKind::Cipher,
            commit.cipher,
            CipherAlgorithm::from_id,
            &self.ciphers,
            &[CipherAlgorithm::Aes1],
        )?;
        let auth_tag = check(
            AlgorithmKind::AuthTag,
            commit.auth_tag,
            AuthTag::from_id,
            &self.auth_tags,
            &[AuthTag::Hs32, AuthTag::Hs80],
        )?;
        let key_agreement = check(
            AlgorithmKind::KeyAgreement,
            commit.key_agreement,
            KeyAgreement::from_id,
            &self.key_agreements,
            &[KeyAgreement::Dh3k, KeyAgreement::Mult],
        )?;
        let sas = check(
            AlgorithmKind::Sas,
            commit.sas,
            SasType::from_id,
            &self.sas_types,
            &[SasType::B32],
        )?;
        if key_agreement == KeyAgreement::Ec38 && hash != HashAlgorithm::S384 {
            return Err(PeerMisbehaved::UnofferedAlgorithm {
                kind: AlgorithmKind::Hash,
                id: hash.id().to_string(),
            }
            .into());
        }
        Ok(Negotiated {
            hash,
            cipher,
            auth_tag,
            key_agreement,
            sas,
        })
    }
}

/// Our list with the mandatory algorithms appended when missing.
fn with_mandatory<T: Copy + PartialEq>(list: &[T], mandatory: &[T]) -> Vec<T> {
    let mut out: Vec<T> = Vec::with_capacity(list.len() + mandatory.len());
    for a in list.iter().chain(mandatory) {
        if !out.contains(a) {
            out.push(*a);
        }
    }
    out
}

/// The peer's list as algorithms we know, in its order, with the mandatory ones implied.
fn effective<T: Copy + PartialEq>(
    ids: &[AlgoId],
    parse: impl Fn(AlgoId) -> Option<T>,
    mandatory: &[T],
) -> Vec<T> {
    let known: Vec<T> = ids.iter().filter_map(|id| parse(*id)).collect();
    with_mandatory(&known, mandatory)
}

/// The items of `ours` that `theirs` also has, in our order.
fn intersect<T: Copy + PartialEq>(ours: &[T], theirs: &[T]) -> Vec<T> {
    ours.iter()
        .copied()
        .filter(|a| theirs.contains(a))
        .collect()
}
