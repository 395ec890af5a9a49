//! Retained secrets (RFC 6189 §4.3, §4.6.1, §4.9): what an endpoint remembers of each peer ZID
//! between calls, and how the secrets of both sides are matched in an exchange.
//!
//! Storage is not here: the caller hands an exchange a snapshot of what it knows
//! ([`KnownPeers`], expired secrets already left out) and stores what the exchange reports in
//! [`super::session::SecureInfo`]. A matched secret enters s0, so a man in the middle who was
//! not in the earlier calls cannot produce the same keys without the users noticing: the
//! secrets fail to match and the exchange says [`CacheState::Mismatch`].

use std::collections::BTreeMap;

use rand::{CryptoRng, RngCore};
use subtle::ConstantTimeEq;

use super::algorithms::HashAlgorithm;
use super::keys::{self, Role};
use super::message::{SecretId, Zid};
use super::session::CacheState;

/// A retained secret (256 bits).
pub type RetainedSecret = [u8; 32];

/// What we remember of one peer.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct CachedPeer {
    /// The newest retained secret.
    pub rs1: Option<RetainedSecret>,
    /// The one before it.
    pub rs2: Option<RetainedSecret>,
    /// The users compared the SAS with this peer and confirmed it (the V flag, §7.1).
    pub verified: bool,
    /// The peer is a PBX the user enrolled as a trusted MiTM (§7.3.1): only its SASrelay
    /// is believed.
    pub pbx_enrolled: bool,
}

impl std::fmt::Debug for CachedPeer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachedPeer")
            .field("rs1", &self.rs1.is_some())
            .field("rs2", &self.rs2.is_some())
            .field("verified", &self.verified)
            .field("pbx_enrolled", &self.pbx_enrolled)
            .finish()
    }
}

impl CachedPeer {
    /// Whether any secret is cached: with one, a failed match is a mismatch, not a first call.
    pub fn has_secrets(&self) -> bool {
        self.rs1.is_some() || self.rs2.is_some()
    }
}

/// The cache as an exchange sees it: peer ZID → what we remember.
pub type KnownPeers = BTreeMap<Zid, CachedPeer>;

/// The rs1ID and rs2ID we put in our DHPart (§4.3.1): MACs of our secrets under our role's
/// label, or random ids for secrets we lack so an observer cannot tell.
pub fn our_secret_ids(
    hash: HashAlgorithm,
    peer: Option<&CachedPeer>,
    role: Role,
    rng: &mut (impl RngCore + CryptoRng),
) -> (SecretId, SecretId) {
    let mut id = |secret: Option<&RetainedSecret>| match secret {
        Some(s) => pick(keys::retained_secret_ids(hash, s), role),
        None => keys::random_secret_id(rng),
    };
    let rs1 = id(peer.and_then(|p| p.rs1.as_ref()));
    let rs2 = id(peer.and_then(|p| p.rs2.as_ref()));
    (rs1, rs2)
}

/// s1 of the exchange and what it says about the peer, from the ids in the peer's DHPart.
///
/// Both sides must pick the same secret, so the candidates are tried in one order named by
/// role (§4.3): the Initiator's rs1 with the Responder's rs1, then with its rs2, then the
/// Initiator's rs2 with the Responder's rs1, then with its rs2.
pub fn match_secrets(
    hash: HashAlgorithm,
    ours: Option<&CachedPeer>,
    our_role: Role,
    peer_rs1_id: &SecretId,
    peer_rs2_id: &SecretId,
) -> (Option<RetainedSecret>, CacheState) {
    let Some(ours) = ours.filter(|p| p.has_secrets()) else {
        return (None, CacheState::New);
    };
    let peer_role = match our_role {
        Role::Initiator => Role::Responder,
        Role::Responder => Role::Initiator,
    };
    // Does our secret equal the peer's secret that sent `id`? Then its MAC under the peer's
    // label is that id.
    let same = |secret: &Option<RetainedSecret>, id: &SecretId| {
        secret.as_ref().is_some_and(|s| {
            let expected = pick(keys::retained_secret_ids(hash, s), peer_role);
            bool::from(expected.0.ct_eq(&id.0))
        })
    };
    // (our secret, the peer's id) per candidate, in the Initiator-first order above.
    let candidates: [(&Option<RetainedSecret>, &SecretId); 4] = match our_role {
        Role::Initiator => [
            (&ours.rs1, peer_rs1_id),
            (&ours.rs1, peer_rs2_id),
            (&ours.rs2, peer_rs1_id),
            (&ours.rs2, peer_rs2_id),
        ],
        Role::Responder => [
            (&ours.rs1, peer_rs1_id),
            (&ours.rs2, peer_rs1_id),
            (&ours.rs1, peer_rs2_id),
            (&ours.rs2, peer_rs2_id),
        ],
    };
    for (secret, id) in candidates {
        if same(secret, id) {
            return (*secret, CacheState::Match);
        }
    }
    (None, CacheState::Mismatch)
}

fn pick(ids: keys::SecretIds, role: Role) -> SecretId {
    match role {
        Role::Initiator => ids.initiator,
        Role::Responder => ids.responder,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    const H: HashAlgorithm = HashAlgorithm::S256;

    fn peer(rs1: Option<u8>, rs2: Option<u8>) -> CachedPeer {
        CachedPeer {
            rs1: rs1.map(|b| [b; 32]),
            rs2: rs2.map(|b| [b; 32]),
            verified: false,
            pbx_enrolled: false,
        }
    }

    /// Both sides' view of the match, as each computes it from the other's DHPart ids.
    fn both(
        initiator: &CachedPeer,
        responder: &CachedPeer,
    ) -> (
        (Option<RetainedSecret>, CacheState),
        (Option<RetainedSecret>, CacheState),
    ) {
        let mut rng = StdRng::seed_from_u64(3);
        let (i1, i2) = our_secret_ids(H, Some(initiator), Role::Initiator, &mut rng);
        let (r1, r2) = our_secret_ids(H, Some(responder), Role::Responder, &mut rng);
        (
            match_secrets(H, Some(initiator), Role::Initiator, &r1, &r2),
            match_secrets(H, Some(responder), Role::Responder, &i1, &i2),
        )
    }

    #[test]
    fn the_same_rs1_matches_on_both_sides() {
        let (i, r) = both(&peer(Some(1), Some(2)), &peer(Some(1), Some(2)));
        assert_eq!(i, (Some([1; 32]), CacheState::Match));
        assert_eq!(r, i);
    }

    #[test]
    fn a_side_that_missed_the_last_update_still_matches_through_rs2() {
        // The Responder stored the newest secret 3; the Initiator's call ended before it did.
        let (i, r) = both(&peer(Some(1), Some(0)), &peer(Some(3), Some(1)));
        assert_eq!(i, (Some([1; 32]), CacheState::Match));
        assert_eq!(r, i, "both pick the same secret");
        let (i, r) = both(&peer(Some(3), Some(1)), &peer(Some(1), Some(0)));
        assert_eq!(i, (Some([1; 32]), CacheState::Match));
        assert_eq!(r, i);
    }

    #[test]
    fn different_secrets_are_a_mismatch_and_no_secret_is_new() {
        let (i, r) = both(&peer(Some(1), Some(2)), &peer(Some(7), Some(8)));
        assert_eq!(i, (None, CacheState::Mismatch));
        assert_eq!(r, (None, CacheState::Mismatch));
        // One side wiped its cache: it sees a first call, the other side raises the alarm.
        let (i, r) = both(&peer(Some(1), None), &CachedPeer::default());
        assert_eq!(i, (None, CacheState::Mismatch));
        assert_eq!(r, (None, CacheState::New));
    }

    #[test]
    fn secrets_we_lack_get_random_ids() {
        let mut rng = StdRng::seed_from_u64(9);
        let a = our_secret_ids(H, None, Role::Initiator, &mut rng);
        let b = our_secret_ids(H, None, Role::Initiator, &mut rng);
        assert_ne!(a, b);
        let known = peer(Some(5), None);
        let c = our_secret_ids(H, Some(&known), Role::Initiator, &mut rng);
        let d = our_secret_ids(H, Some(&known), Role::Initiator, &mut rng);
        assert_eq!(c.0, d.0, "a real secret's id is stable");
        assert_ne!(c.1, d.1, "the missing rs2 is random each time");
    }
}
