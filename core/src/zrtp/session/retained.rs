//! The retained-secret part of one exchange (RFC 6189 §4.3, §7.1): which cached secret
//! matched once the peer's DHPart arrived, the V flag we send, and what [`super::SecureInfo`]
//! reports about the cache.

use super::context::Context;
use super::CacheState;
use crate::zrtp::algorithms::Negotiated;
use crate::zrtp::cache::{self as retained_cache, RetainedSecret};
use crate::zrtp::keys::Role;
use crate::zrtp::message::{ConfirmBody, DhPart, Zid};

/// What the cache said once the peer's DHPart arrived: the matched secret (s1), the state,
/// and the V flag we send in our Confirm.
pub(super) struct Retained {
    pub(super) s1: Option<RetainedSecret>,
    pub(super) state: CacheState,
    /// Our cached V flag, sent only when a retained secret proves it is the same peer.
    pub(super) our_v: bool,
}

impl std::fmt::Debug for Retained {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Retained")
            .field("state", &self.state)
            .field("our_v", &self.our_v)
            .finish_non_exhaustive()
    }
}

impl Retained {
    pub(super) fn match_peer(
        ctx: &Context,
        n: &Negotiated,
        peer: &Zid,
        role: Role,
        part: &DhPart,
    ) -> Self {
        let cached = ctx.cfg.known_peers.get(peer);
        let (s1, state) =
            retained_cache::match_secrets(n.hash, cached, role, &part.rs1_id, &part.rs2_id);
        Retained {
            s1,
            state,
            our_v: state == CacheState::Match && cached.is_some_and(|c| c.verified),
        }
    }

    /// With the peer's Confirm: verified only if both sides say so (§7.1), and the secret of
    /// this call is kept no longer than either side allows (§4.9).
    pub(super) fn outcome(&self, ctx: &Context, peer_confirm: &ConfirmBody) -> CacheOutcome {
        CacheOutcome {
            state: self.state,
            verified: self.our_v && peer_confirm.sas_verified,
            expiration: ctx.cfg.cache_expiration.min(peer_confirm.cache_expiration),
            enrollment: peer_confirm.enrollment,
        }
    }
}

/// The cache's part of [`SecureInfo`].
pub(super) struct CacheOutcome {
    pub(super) state: CacheState,
    pub(super) verified: bool,
    pub(super) expiration: u32,
    /// The peer's Confirm had the E flag (enrollment, §7.3.1).
    pub(super) enrollment: bool,
}
