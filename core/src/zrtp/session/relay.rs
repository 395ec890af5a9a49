//! A trusted MiTM (PBX) relaying the SAS of its other leg (RFC 6189 §7.3): the SASrelay we
//! send as a PBX, and what we make of one we receive. A relayed SAS is shown only when the
//! peer is a PBX the user enrolled (§7.3.1) and it proved, with a retained secret that
//! matched, that it is the same PBX: its ZID alone is public and proves nothing. From anyone
//! else the relay is refused with Error 0x63 and our own SAS stays on screen.
//!
//! The RFC's separate pbxsecret (s3, the "trusted MiTM key") is not kept: the retained secret
//! of the enrolment call chain plays its part.

use rand::RngCore;

use super::context::Context;
use super::{CacheState, SecureInfo};
use crate::zrtp::algorithms::{Negotiated, SasType};
use crate::zrtp::keys::{self, Role, SessionKeys};
use crate::zrtp::message::{Encrypted, ErrorCode, Message, SasRelayBody};
use crate::zrtp::sas;

/// What a received SASrelay means for the user.
pub(super) enum Relayed {
    /// From an enrolled PBX: show this instead of our own SAS.
    Trusted(Box<SecureInfo>),
    /// Authentic, but the peer is not an enrolled PBX: refused, nothing changes on screen.
    Untrusted,
    /// Not sealed with the peer's keys: dropped.
    Forged,
}

/// The keys a Secure state keeps to seal and open SASrelay.
#[derive(Debug)]
pub(super) struct RelayKeys {
    pub(super) n: Negotiated,
    pub(super) keys: SessionKeys,
    pub(super) role: Role,
}

impl RelayKeys {
    /// Check and read a SASrelay from the peer; acknowledge it if it is authentic.
    pub(super) fn receive(&self, ctx: &mut Context, info: &SecureInfo, enc: &Encrypted) -> Relayed {
        let peer = match self.role {
            Role::Initiator => Role::Responder,
            Role::Responder => Role::Initiator,
        };
        let Ok(body) = keys::open_sas_relay(&self.n, &self.keys, peer, enc) else {
            return Relayed::Forged;
        };
        let enrolled = ctx
            .cfg
            .known_peers
            .get(&info.peer_zid)
            .is_some_and(|p| p.pbx_enrolled);
        if !(info.pbx_peer && enrolled && info.cache == CacheState::Match) {
            // The Error stops its retransmissions; our session stays secure with our SAS.
            ctx.transmit_error(ErrorCode::UNTRUSTED_MITM);
            return Relayed::Untrusted;
        }
        ctx.transmit_ack(Message::RelayAck);
        let rendering = SasType::from_id(body.rendering).unwrap_or(info.sas_type);
        let mut relayed = info.clone();
        relayed.sas = sas::render(rendering, &body.sas_hash);
        relayed.sas_type = rendering;
        relayed.sas_hash = body.sas_hash;
        relayed.sas_relayed = true;
        // The users compare the far end's SAS now: nothing is verified until they do.
        relayed.verified = false;
        Relayed::Trusted(Box::new(relayed))
    }

    /// Our SASrelay carrying `other_leg`'s SAS, sealed like our Confirm.
    pub(super) fn seal(&self, ctx: &mut Context, other_leg: &SecureInfo) -> Option<Vec<u8>> {
        let body = SasRelayBody {
            sas_verified: false,
            allow_clear: false,
            disclosure: false,
            rendering: other_leg.sas_type.id(),
            sas_hash: other_leg.sas_hash,
            signature: Vec::new(),
        };
        let mut iv = [0u8; 16];
        ctx.rng.fill_bytes(&mut iv);
        let sealed = keys::seal_sas_relay(&self.n, &self.keys, self.role, iv, &body).ok()?;
        Message::SasRelay(sealed).encode().ok()
    }
}
