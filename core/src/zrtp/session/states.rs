//! The exchange as typed states (RFC 6189 §4): each state is a struct holding exactly what the
//! next step needs, and each transition consumes it. `Secure` can only be built from the proof
//! values that the Confirm MAC check and the closing of the peer's hash chain produce.
//!
//! ```text
//! Discovery ─HelloACK + peer Hello─▶ CommitSent ─DHPart1─▶ WaitConfirm1 ─Confirm1─▶ WaitConf2Ack
//!     │                                  │ peer's hvi larger                             │Conf2ACK
//!     └─Commit─▶ WaitDhPart2 ◀───────────┘                                               ▼
//!                    └─DHPart2─▶ WaitConfirm2 ─Confirm2─────────────────────────────▶ Secure
//! ```

use std::time::Instant;

use super::context::Context;
use super::relay::{RelayKeys, Relayed};
use super::retained::{CacheOutcome, Retained};
use super::{SecureInfo, ZrtpFailure, ZrtpOutput, ZrtpState};
use crate::srtp::{MasterKeys, SrtpProfile};
use crate::zrtp::agreement::KeyPair;
use crate::zrtp::algorithms::{
    AlgoId, AlgorithmKind, AuthTag, CipherAlgorithm, HashAlgorithm, KeyAgreement, Negotiated,
    SasType,
};
use crate::zrtp::cache::RetainedSecret;
use crate::zrtp::error::ZrtpError;
use crate::zrtp::kdf::{self, MatchedSecrets};
use crate::zrtp::keys::{Role, SessionKeys};
use crate::zrtp::message::{
    Commit, CommitKind, ConfirmBody, DhPart, Encrypted, HashImage, Hello, Message, Zid,
    ZRTP_VERSION,
};

use proof::{ChainClosed, ConfirmVerified, HelloVerified};

/// A transition's result: the next state, or why the exchange ends.
pub(super) type Step = Result<Phase, ZrtpFailure>;

/// Every state of the exchange.
#[derive(Debug)]
pub(super) enum Phase {
    Discovery(Discovery),
    CommitSent(CommitSent),
    WaitDhPart2(WaitDhPart2),
    WaitConfirm1(WaitConfirm1),
    WaitConfirm2(WaitConfirm2),
    WaitConf2Ack(WaitConf2Ack),
    Secure(Secure),
    Failed,
}

impl Phase {
    pub(super) fn initial() -> Phase {
        Phase::Discovery(Discovery {
            peer_hello: None,
            hello_acked: false,
        })
    }

    pub(super) fn state(&self) -> ZrtpState {
        match self {
            Phase::Discovery(_) => ZrtpState::Discovery,
            Phase::CommitSent(_) | Phase::WaitDhPart2(_) => ZrtpState::KeyAgreement,
            Phase::WaitConfirm1(_) | Phase::WaitConfirm2(_) | Phase::WaitConf2Ack(_) => {
                ZrtpState::Confirming
            }
            Phase::Secure(_) => ZrtpState::Secure,
            Phase::Failed => ZrtpState::Failed,
        }
    }

    /// Our first Hello went out: a peer Hello that came earlier may now lead to Commit.
    pub(super) fn on_started(self, ctx: &mut Context, now: Instant) -> Step {
        match self {
            Phase::Discovery(d) => d.maybe_commit(ctx, now),
            other => Ok(other),
        }
    }

    pub(super) fn on_message(
        self,
        ctx: &mut Context,
        now: Instant,
        msg: Message,
        raw: &[u8],
    ) -> Step {
        // Messages every live state answers the same way.
        match (&self, &msg) {
            (Phase::Failed, Message::Error(_)) => {
                ctx.transmit_ack(Message::ErrorAck);
                return Ok(self);
            }
            (Phase::Failed, Message::ErrorAck) => {
                if ctx.retransmitting("Error") {
                    ctx.stop_timer();
                }
                return Ok(self);
            }
            (Phase::Failed, _) => return Ok(self),
            (_, Message::Error(code)) => {
                ctx.transmit_ack(Message::ErrorAck);
                // The peer gave up before its Hello ever matched what its SDP announced:
                // the mismatch is the news for the user.
                if matches!(self, Phase::Discovery(_)) && ctx.foreign_hello_seen {
                    return Err(ZrtpFailure::HelloHashMismatch);
                }
                return Err(ZrtpFailure::PeerError(*code));
            }
            (Phase::Discovery(_), _) => {}
            // The peer repeats its Hello until our HelloACK gets through.
            (_, Message::Hello(_)) => {
                if self.peer_hello_raw() == Some(raw) {
                    ctx.transmit_ack(Message::HelloAck);
                }
                return Ok(self);
            }
            _ => {}
        }
        match self {
            Phase::Discovery(s) => s.on_message(ctx, now, msg, raw),
            Phase::CommitSent(s) => s.on_message(ctx, now, msg, raw),
            Phase::WaitDhPart2(s) => s.on_message(ctx, msg, raw),
            Phase::WaitConfirm1(s) => s.on_message(ctx, now, msg),
            Phase::WaitConfirm2(s) => s.on_message(ctx, msg, raw),
            Phase::WaitConf2Ack(s) => s.on_message(ctx, msg),
            Phase::Secure(s) => s.on_message(ctx, msg),
            Phase::Failed => Ok(Phase::Failed),
        }
    }

    fn peer_hello_raw(&self) -> Option<&[u8]> {
        match self {
            Phase::Discovery(s) => s.peer_hello.as_ref().map(|p| &p.raw[..]),
            Phase::CommitSent(s) => Some(&s.peer.raw),
            Phase::WaitDhPart2(s) => Some(&s.peer.raw),
            Phase::WaitConfirm1(s) => Some(&s.peer.hello_raw),
            Phase::WaitConfirm2(s) => Some(&s.peer.hello_raw),
            Phase::WaitConf2Ack(s) => Some(&s.peer_hello_raw),
            Phase::Secure(s) => Some(&s.peer_hello_raw),
            Phase::Failed => None,
        }
    }
}

/// The peer's Hello as received; its MAC is checked once H2 arrives.
#[derive(Debug)]
pub(super) struct PeerHello {
    raw: Vec<u8>,
    hello: Hello,
}

/// What later states need of the peer once its Hello is known.
#[derive(Debug)]
pub(super) struct Peer {
    zid: Zid,
    pbx: bool,
    hello_raw: Vec<u8>,
}

/// Sending Hello; waiting for the peer's Hello and for HelloACK.
#[derive(Debug)]
pub(super) struct Discovery {
    peer_hello: Option<PeerHello>,
    hello_acked: bool,
}

impl Discovery {
    fn on_message(mut self, ctx: &mut Context, now: Instant, msg: Message, raw: &[u8]) -> Step {
        match msg {
            Message::Hello(hello) => {
                if hello.zid == ctx.cfg.zid {
                    return Err(ZrtpFailure::EqualZid);
                }
                // Not the Hello the signalled peer announced: dropped like any forgery, so an
                // injected packet cannot end the exchange; if only such Hellos come, the
                // timeout names the mismatch.
                if ctx
                    .cfg
                    .peer_hello_hash
                    .is_some_and(|expected| kdf::hello_hash(raw) != expected)
                {
                    ctx.foreign_hello_seen = true;
                    return Ok(Phase::Discovery(self));
                }
                match hello.version {
                    v if v == ZRTP_VERSION => {}
                    // A newer peer answers with a Hello of our version (§4.1.1): wait for it.
                    v if v > ZRTP_VERSION => return Ok(Phase::Discovery(self)),
                    v => return Err(ZrtpFailure::UnsupportedVersion(v)),
                }
                match &self.peer_hello {
                    None => {
                        self.peer_hello = Some(PeerHello {
                            raw: raw.to_vec(),
                            hello,
                        })
                    }
                    // Another Hello than the first one (another H3): not ours to trust.
                    Some(p) if p.raw != raw => return Ok(Phase::Discovery(self)),
                    Some(_) => {}
                }
                ctx.transmit_ack(Message::HelloAck);
                self.maybe_commit(ctx, now)
            }
            Message::HelloAck if ctx.started() => {
                self.hello_acked = true;
                if ctx.retransmitting("Hello") {
                    ctx.stop_timer();
                }
                self.maybe_commit(ctx, now)
            }
            // A Commit is an implicit HelloACK (§4.1). Its H2 must lead to the H3 of the Hello
            // we hold and key that Hello's MAC; a Commit that fails is not from the Hello's
            // sender and is dropped without leaving this state.
            Message::Commit(commit) => {
                let checked = self
                    .peer_hello
                    .as_ref()
                    .map(|peer| proof::check_hello(&commit.h2, peer));
                match (self.peer_hello, checked) {
                    (Some(peer), Some(Ok(hello_ok))) => {
                        ctx.stop_timer();
                        WaitDhPart2::accept(ctx, peer, hello_ok, commit, raw, None)
                    }
                    (peer_hello, _) => Ok(Phase::Discovery(Discovery { peer_hello, ..self })),
                }
            }
            _ => Ok(Phase::Discovery(self)),
        }
    }

    /// Both Hellos made it across: initiate, unless we are passive.
    fn maybe_commit(self, ctx: &mut Context, now: Instant) -> Step {
        match self.peer_hello {
            Some(peer) if self.hello_acked && !ctx.cfg.passive => CommitSent::start(ctx, now, peer),
            peer_hello => Ok(Phase::Discovery(Discovery { peer_hello, ..self })),
        }
    }
}

/// Initiator: Commit sent, waiting for DHPart1 (or for the peer's Commit to win contention).
#[derive(Debug)]
pub(super) struct CommitSent {
    peer: PeerHello,
    n: Negotiated,
    pair: KeyPair,
    commit: Vec<u8>,
    dhpart2: Vec<u8>,
    hvi: [u8; 32],
}

impl CommitSent {
    fn start(ctx: &mut Context, now: Instant, peer: PeerHello) -> Step {
        let n = ctx.cfg.algorithms.negotiate(&peer.hello)?;
        let pair = KeyPair::generate(n.key_agreement, &mut ctx.rng)?;
        let dhpart2 = ctx.dh_part(&pair, Role::Initiator, n.hash, &peer.hello.zid)?;
        // The commitment binds our DHPart2 to the Responder's Hello (§4.4.1.1).
        let hvi = kdf::hvi(n.hash, &dhpart2, &peer.raw);
        let mut commit = Message::Commit(Commit {
            h2: ctx.chain.h2,
            zid: ctx.cfg.zid,
            hash: n.hash.id(),
            cipher: n.cipher.id(),
            auth_tag: n.auth_tag.id(),
            key_agreement: n.key_agreement.id(),
            sas: n.sas.id(),
            kind: CommitKind::Dh { hvi },
            mac: Default::default(),
        })
        .encode()?;
        kdf::seal_message(&ctx.chain.h1, &mut commit);
        ctx.send_reliably(now, "Commit", commit.clone(), ctx.cfg.timers.t2);
        Ok(Phase::CommitSent(CommitSent {
            peer,
            n,
            pair,
            commit,
            dhpart2,
            hvi,
        }))
    }

    fn on_message(self, ctx: &mut Context, now: Instant, msg: Message, raw: &[u8]) -> Step {
        match msg {
            // Contention (§4.2): the larger hvi initiates; the other side becomes Responder.
            Message::Commit(commit) => match commit.kind {
                CommitKind::Dh { hvi } if hvi > self.hvi => {
                    let Ok(hello_ok) = proof::check_hello(&commit.h2, &self.peer) else {
                        return Ok(Phase::CommitSent(self));
                    };
                    ctx.stop_timer();
                    WaitDhPart2::accept(ctx, self.peer, hello_ok, commit, raw, Some(self.pair))
                }
                _ => Ok(Phase::CommitSent(self)),
            },
            Message::DhPart1(part) => self.on_dhpart1(ctx, now, part, raw),
            _ => Ok(Phase::CommitSent(self)),
        }
    }

    fn on_dhpart1(self, ctx: &mut Context, now: Instant, part: DhPart, raw: &[u8]) -> Step {
        // H1 → H2 → H3: the Responder's Hello, which we chose algorithms from, is authentic.
        let h2 = kdf::next_image(&part.h1);
        let Ok(hello_ok) = proof::check_hello(&h2, &self.peer) else {
            return Ok(Phase::CommitSent(self));
        };
        if part.public_value == self.pair.public_value() {
            return Err(ZrtpFailure::ReflectedPublicValue);
        }
        let dh = self.pair.agree(&part.public_value)?;
        let total = kdf::total_hash(
            self.n.hash,
            &self.peer.raw,
            &self.commit,
            raw,
            &self.dhpart2,
        );
        let retained =
            Retained::match_peer(ctx, &self.n, &self.peer.hello.zid, Role::Initiator, &part);
        let keys = derive(
            &self.n,
            &dh.0,
            &ctx.cfg.zid,
            &self.peer.hello.zid,
            &total,
            retained.s1.as_ref(),
        );
        ctx.send_reliably(now, "DHPart2", self.dhpart2, ctx.cfg.timers.t2);
        Ok(Phase::WaitConfirm1(WaitConfirm1 {
            peer: Peer::from(self.peer),
            n: self.n,
            keys,
            retained,
            dhpart1: raw.to_vec(),
            peer_h1: part.h1,
            hello_ok,
        }))
    }
}

/// Responder: DHPart1 sent, waiting for DHPart2.
#[derive(Debug)]
pub(super) struct WaitDhPart2 {
    peer: PeerHello,
    n: Negotiated,
    pair: KeyPair,
    commit: Vec<u8>,
    peer_h2: HashImage,
    hvi: [u8; 32],
    dhpart1: Vec<u8>,
    hello_ok: HelloVerified,
}

impl WaitDhPart2 {
    /// Take the peer's Commit, whose H2 already verified the peer's Hello: check its choices
    /// and answer with DHPart1.
    fn accept(
        ctx: &mut Context,
        peer: PeerHello,
        hello_ok: HelloVerified,
        commit: Commit,
        raw: &[u8],
        pair: Option<KeyPair>,
    ) -> Step {
        if commit.zid != peer.hello.zid {
            return Err(ZrtpFailure::CommitFromOtherZid);
        }
        let n = ctx.cfg.algorithms.accept_commit(&commit)?;
        check_bid_down(&commit, &peer.hello)?;
        let CommitKind::Dh { hvi } = commit.kind else {
            return Err(ZrtpFailure::UnsupportedMode);
        };
        let pair = match pair {
            Some(p) if p.key_agreement() == n.key_agreement => p,
            _ => KeyPair::generate(n.key_agreement, &mut ctx.rng)?,
        };
        let dhpart1 = ctx.dh_part(&pair, Role::Responder, n.hash, &peer.hello.zid)?;
        ctx.transmit(&dhpart1);
        Ok(Phase::WaitDhPart2(WaitDhPart2 {
            peer,
            n,
            pair,
            commit: raw.to_vec(),
            peer_h2: commit.h2,
            hvi,
            dhpart1,
            hello_ok,
        }))
    }

    fn on_message(self, ctx: &mut Context, msg: Message, raw: &[u8]) -> Step {
        match msg {
            // The Initiator did not get DHPart1 and repeats its Commit.
            Message::Commit(_) if raw == self.commit => {
                ctx.transmit(&self.dhpart1);
                Ok(Phase::WaitDhPart2(self))
            }
            Message::DhPart2(part) => self.on_dhpart2(ctx, part, raw),
            _ => Ok(Phase::WaitDhPart2(self)),
        }
    }

    fn on_dhpart2(self, ctx: &mut Context, part: DhPart, raw: &[u8]) -> Step {
        if kdf::hvi(self.n.hash, raw, &ctx.hello) != self.hvi {
            return Err(ZrtpFailure::BadHvi);
        }
        // H1 → H2 and the Commit MAC keyed by H1.
        if kdf::verify_chain_link(&part.h1, &self.peer_h2).is_err()
            || kdf::verify_message_mac(&part.h1, &self.commit).is_err()
        {
            return Ok(Phase::WaitDhPart2(self));
        }
        if part.public_value == self.pair.public_value() {
            return Err(ZrtpFailure::ReflectedPublicValue);
        }
        let dh = self.pair.agree(&part.public_value)?;
        let total = kdf::total_hash(self.n.hash, &ctx.hello, &self.commit, &self.dhpart1, raw);
        let retained =
            Retained::match_peer(ctx, &self.n, &self.peer.hello.zid, Role::Responder, &part);
        let keys = derive(
            &self.n,
            &dh.0,
            &self.peer.hello.zid,
            &ctx.cfg.zid,
            &total,
            retained.s1.as_ref(),
        );
        let confirm1 = ctx.confirm(&self.n, &keys, Role::Responder, retained.our_v)?;
        ctx.transmit(&confirm1);
        Ok(Phase::WaitConfirm2(WaitConfirm2 {
            peer: Peer::from(self.peer),
            n: self.n,
            keys,
            retained,
            dhpart2: raw.to_vec(),
            peer_h1: part.h1,
            confirm1,
            hello_ok: self.hello_ok,
        }))
    }
}

/// Initiator: keys derived and DHPart2 sent, waiting for Confirm1.
#[derive(Debug)]
pub(super) struct WaitConfirm1 {
    peer: Peer,
    n: Negotiated,
    keys: SessionKeys,
    retained: Retained,
    dhpart1: Vec<u8>,
    peer_h1: HashImage,
    hello_ok: HelloVerified,
}

impl WaitConfirm1 {
    fn on_message(self, ctx: &mut Context, now: Instant, msg: Message) -> Step {
        let Message::Confirm1(sealed) = msg else {
            return Ok(Phase::WaitConfirm1(self));
        };
        let (body, confirm_ok) =
            proof::open_confirm(&self.n, &self.keys, Role::Responder, &sealed)?;
        let closed = proof::close_chain(self.hello_ok, &body.h0, &self.peer_h1, &self.dhpart1)?;
        let our_v = self.retained.our_v;
        let confirm2 = ctx.confirm(&self.n, &self.keys, Role::Initiator, our_v)?;
        ctx.send_reliably(now, "Confirm2", confirm2, ctx.cfg.timers.t2);
        let peer_hello_raw = self.peer.hello_raw.clone();
        let outcome = self.retained.outcome(ctx, &body);
        let secure = Secure::new(
            self.n,
            &self.keys,
            Role::Initiator,
            self.peer,
            outcome,
            closed,
            confirm_ok,
        )?;
        Ok(Phase::WaitConf2Ack(WaitConf2Ack {
            secure,
            peer_hello_raw,
        }))
    }
}

/// Responder: Confirm1 sent, waiting for Confirm2.
#[derive(Debug)]
pub(super) struct WaitConfirm2 {
    peer: Peer,
    n: Negotiated,
    keys: SessionKeys,
    retained: Retained,
    dhpart2: Vec<u8>,
    peer_h1: HashImage,
    confirm1: Vec<u8>,
    hello_ok: HelloVerified,
}

impl WaitConfirm2 {
    fn on_message(self, ctx: &mut Context, msg: Message, raw: &[u8]) -> Step {
        match msg {
            // Confirm1 was lost and the Initiator repeats DHPart2.
            Message::DhPart2(_) if raw == self.dhpart2 => {
                ctx.transmit(&self.confirm1);
                Ok(Phase::WaitConfirm2(self))
            }
            Message::Confirm2(sealed) => {
                let (body, confirm_ok) =
                    proof::open_confirm(&self.n, &self.keys, Role::Initiator, &sealed)?;
                let closed =
                    proof::close_chain(self.hello_ok, &body.h0, &self.peer_h1, &self.dhpart2)?;
                ctx.transmit_ack(Message::Conf2Ack);
                let outcome = self.retained.outcome(ctx, &body);
                let secure = Secure::new(
                    self.n,
                    &self.keys,
                    Role::Responder,
                    self.peer,
                    outcome,
                    closed,
                    confirm_ok,
                )?;
                ctx.emit(ZrtpOutput::Secure(secure.info.clone()));
                Ok(Phase::Secure(secure))
            }
            _ => Ok(Phase::WaitConfirm2(self)),
        }
    }
}

/// Initiator: Confirm2 sent, waiting for Conf2ACK. The keys are proven already.
#[derive(Debug)]
pub(super) struct WaitConf2Ack {
    secure: Secure,
    peer_hello_raw: Vec<u8>,
}

impl WaitConf2Ack {
    fn on_message(self, ctx: &mut Context, msg: Message) -> Step {
        match msg {
            Message::Conf2Ack => {
                ctx.stop_timer();
                ctx.emit(ZrtpOutput::Secure(self.secure.info.clone()));
                Ok(Phase::Secure(Secure {
                    peer_hello_raw: self.peer_hello_raw,
                    ..self.secure
                }))
            }
            _ => Ok(Phase::WaitConf2Ack(self)),
        }
    }
}

/// Keys agreed and confirmed by both sides.
#[derive(Debug)]
pub(super) struct Secure {
    info: SecureInfo,
    role: Role,
    peer_hello_raw: Vec<u8>,
    /// For SASrelay in either direction.
    relay: RelayKeys,
}

impl Secure {
    /// The only way to a `Secure` state: the proof that the peer's chain closed over every
    /// message it sent, and that its Confirm MAC verified under the derived keys.
    fn new(
        n: Negotiated,
        keys: &SessionKeys,
        role: Role,
        peer: Peer,
        outcome: CacheOutcome,
        _closed: ChainClosed,
        _confirmed: ConfirmVerified,
    ) -> Result<Secure, ZrtpFailure> {
        let profile = srtp_profile(n.cipher, n.auth_tag);
        let initiator = MasterKeys::new(profile, &keys.srtp_key_i, &keys.srtp_salt_i);
        let responder = MasterKeys::new(profile, &keys.srtp_key_r, &keys.srtp_salt_r);
        let (Ok(initiator), Ok(responder)) = (initiator, responder) else {
            // The KDF sizes keys by the cipher the profile is made from: never reached.
            return Err(ZrtpError::Encode("SRTP key length does not fit the profile").into());
        };
        let (local_srtp, remote_srtp) = match role {
            Role::Initiator => (initiator, responder),
            Role::Responder => (responder, initiator),
        };
        Ok(Secure {
            info: SecureInfo {
                sas: keys.sas(n.sas),
                sas_type: n.sas,
                cipher: n.cipher,
                auth_tag: n.auth_tag,
                key_agreement: n.key_agreement,
                hash: n.hash,
                pbx_peer: peer.pbx,
                peer_zid: peer.zid,
                srtp_profile: profile,
                local_srtp,
                remote_srtp,
                we_are_initiator: role == Role::Initiator,
                rs1: keys.new_rs1,
                cache: outcome.state,
                verified: outcome.verified,
                cache_expiration: outcome.expiration,
                sas_hash: keys.sas_hash,
                enrollment_offered: peer.pbx && outcome.enrollment,
                sas_relayed: false,
            },
            role,
            peer_hello_raw: peer.hello_raw,
            relay: RelayKeys {
                n,
                keys: keys.clone(),
                role,
            },
        })
    }

    fn on_message(self, ctx: &mut Context, msg: Message) -> Step {
        match msg {
            // Our Conf2ACK was lost: the Initiator repeats Confirm2.
            Message::Confirm2(_) if self.role == Role::Responder => {
                ctx.transmit_ack(Message::Conf2Ack);
            }
            Message::SasRelay(enc) => {
                if let Relayed::Trusted(info) = self.relay.receive(ctx, &self.info, &enc) {
                    ctx.emit(ZrtpOutput::Secure(*info));
                }
            }
            Message::RelayAck if ctx.retransmitting("SASrelay") => ctx.stop_timer(),
            _ => {}
        }
        Ok(Phase::Secure(self))
    }

    /// As a PBX: send the SAS of our other leg (reliably, until RelayACK).
    pub(super) fn relay_sas(
        &self,
        ctx: &mut Context,
        now: Instant,
        other_leg: &SecureInfo,
    ) -> bool {
        match self.relay.seal(ctx, other_leg) {
            Some(msg) => {
                ctx.send_reliably(now, "SASrelay", msg, ctx.cfg.timers.t2);
                true
            }
            None => false,
        }
    }
}

impl From<PeerHello> for Peer {
    fn from(p: PeerHello) -> Peer {
        Peer {
            zid: p.hello.zid,
            pbx: p.hello.mitm,
            hello_raw: p.raw,
        }
    }
}

/// The SRTP profile for a ZRTP cipher and auth tag (§5.1.3, §5.1.4).
pub(super) fn srtp_profile(cipher: CipherAlgorithm, tag: AuthTag) -> SrtpProfile {
    match (cipher, tag) {
        (CipherAlgorithm::Aes1, AuthTag::Hs80) => SrtpProfile::Aes128CmHmacSha1_80,
        (CipherAlgorithm::Aes1, AuthTag::Hs32) => SrtpProfile::Aes128CmHmacSha1_32,
        (CipherAlgorithm::Aes3, AuthTag::Hs80) => SrtpProfile::Aes256CmHmacSha1_80,
        (CipherAlgorithm::Aes3, AuthTag::Hs32) => SrtpProfile::Aes256CmHmacSha1_32,
        (CipherAlgorithm::Twofish1, AuthTag::Hs80) => SrtpProfile::Twofish128CmHmacSha1_80,
        (CipherAlgorithm::Twofish1, AuthTag::Hs32) => SrtpProfile::Twofish128CmHmacSha1_32,
        (CipherAlgorithm::Twofish3, AuthTag::Hs80) => SrtpProfile::Twofish256CmHmacSha1_80,
        (CipherAlgorithm::Twofish3, AuthTag::Hs32) => SrtpProfile::Twofish256CmHmacSha1_32,
    }
}

/// s0 and every key of §4.5 for a DH-mode exchange, with the matched retained secret as s1.
fn derive(
    n: &Negotiated,
    dh: &[u8],
    zid_i: &Zid,
    zid_r: &Zid,
    total: &[u8],
    s1: Option<&RetainedSecret>,
) -> SessionKeys {
    let secrets = MatchedSecrets {
        s1: s1.map(|s| &s[..]),
        ..MatchedSecrets::default()
    };
    let s0 = zeroize::Zeroizing::new(kdf::s0(n.hash, dh, zid_i, zid_r, total, secrets));
    SessionKeys::derive(n, &s0, &kdf::kdf_context(zid_i, zid_r, total))
}

/// The Initiator's choices must come from its own Hello or the mandatory set: otherwise an
/// attacker edited a Hello to bid the exchange down.
fn check_bid_down(commit: &Commit, initiator_hello: &Hello) -> Result<(), ZrtpFailure> {
    fn offered(id: AlgoId, list: &[AlgoId], mandatory: &[AlgoId]) -> bool {
        list.contains(&id) || mandatory.contains(&id)
    }
    let checks = [
        (
            AlgorithmKind::Hash,
            commit.hash,
            &initiator_hello.hashes,
            vec![HashAlgorithm::S256.id()],
        ),
        (
            AlgorithmKind::Cipher,
            commit.cipher,
            &initiator_hello.ciphers,
            vec![CipherAlgorithm::Aes1.id()],
        ),
        (
            AlgorithmKind::AuthTag,
            commit.auth_tag,
            &initiator_hello.auth_tags,
            vec![AuthTag::Hs32.id(), AuthTag::Hs80.id()],
        ),
        (
            AlgorithmKind::KeyAgreement,
            commit.key_agreement,
            &initiator_hello.key_agreements,
            vec![KeyAgreement::Dh3k.id(), KeyAgreement::Mult.id()],
        ),
        (
            AlgorithmKind::Sas,
            commit.sas,
            &initiator_hello.sas_types,
            vec![SasType::B32.id()],
        ),
    ];
    for (kind, id, list, mandatory) in checks {
        if !offered(id, list, &mandatory) {
            return Err(ZrtpFailure::HelloMismatch(kind, id.to_string()));
        }
    }
    Ok(())
}

/// Proof values: each can only be made by the check it stands for.
mod proof {
    use super::*;

    /// The peer's Hello MAC verified with the H2 it revealed, and H2 hashes to its H3.
    #[derive(Debug)]
    pub(in super::super) struct HelloVerified(());

    /// The peer's Confirm MAC verified under the keys we derived: same DH result, same
    /// transcript.
    #[derive(Debug)]
    pub(in super::super) struct ConfirmVerified(());

    /// The peer's chain H0 → H1 → H2 → H3 is whole and every MAC it keys verified.
    #[derive(Debug)]
    pub(in super::super) struct ChainClosed(());

    pub(super) fn check_hello(
        h2: &HashImage,
        peer: &PeerHello,
    ) -> Result<HelloVerified, ZrtpError> {
        kdf::verify_chain_link(h2, &peer.hello.h3)?;
        kdf::verify_message_mac(h2, &peer.raw)?;
        Ok(HelloVerified(()))
    }

    pub(super) fn open_confirm(
        n: &Negotiated,
        keys: &SessionKeys,
        sender: Role,
        sealed: &Encrypted,
    ) -> Result<(ConfirmBody, ConfirmVerified), ZrtpError> {
        let body = crate::zrtp::keys::open_confirm(n, keys, sender, sealed)?;
        Ok((body, ConfirmVerified(())))
    }

    /// H0 → H1 and the MAC of the peer's DHPart keyed by H0. The Commit MAC (Initiator) was
    /// checked with H1 on DHPart2, the Hello MAC with H2 before that.
    pub(super) fn close_chain(
        _hello: HelloVerified,
        h0: &HashImage,
        peer_h1: &HashImage,
        peer_dhpart: &[u8],
    ) -> Result<ChainClosed, ZrtpFailure> {
        kdf::verify_chain_link(h0, peer_h1).map_err(ZrtpFailure::ChainNotClosed)?;
        kdf::verify_message_mac(h0, peer_dhpart).map_err(ZrtpFailure::ChainNotClosed)?;
        Ok(ChainClosed(()))
    }
}
