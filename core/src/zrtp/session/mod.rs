//! The ZRTP protocol engine (RFC 6189 §4), sans-IO: one [`ZrtpEndpoint`] per RTP stream runs
//! discovery (Hello/HelloACK), Commit contention, the Diffie-Hellman exchange and the Confirm
//! handshake, and hands out the SRTP keys and the SAS once both sides proved they hold the same
//! secret.
//!
//! The engine owns no socket, timer or clock. The caller feeds it ZRTP packets and the time,
//! then drains [`ZrtpEndpoint::poll_output`] and waits until [`ZrtpEndpoint::poll_timeout`]:
//!
//! ```
//! use std::time::{Duration, Instant};
//! use rand::{rngs::StdRng, SeedableRng};
//! use sipher::zrtp::message::Zid;
//! use sipher::zrtp::session::{ZrtpConfig, ZrtpEndpoint, ZrtpOutput, ZrtpState};
//!
//! let mut rng = StdRng::seed_from_u64(1);
//! let mut now = Instant::now();
//! let mut alice = ZrtpEndpoint::new(ZrtpConfig::new(Zid([1; 12])), 0xa, now, &mut rng);
//! let mut bob = ZrtpEndpoint::new(ZrtpConfig::new(Zid([2; 12])), 0xb, now, &mut rng);
//! alice.start(now);
//! bob.start(now);
//! let mut sas = Vec::new();
//! // A perfect link: whatever one side sends, the other receives at once.
//! for _ in 0..100 {
//!     let mut idle = true;
//!     while let Some(out) = alice.poll_output() {
//!         idle = false;
//!         match out {
//!             ZrtpOutput::Transmit(packet) => bob.handle_packet(now, &packet),
//!             ZrtpOutput::Secure(info) => sas.push(info.sas),
//!             ZrtpOutput::Failed(why) => panic!("{why}"),
//!         }
//!     }
//!     while let Some(out) = bob.poll_output() {
//!         idle = false;
//!         match out {
//!             ZrtpOutput::Transmit(packet) => alice.handle_packet(now, &packet),
//!             ZrtpOutput::Secure(info) => sas.push(info.sas),
//!             ZrtpOutput::Failed(why) => panic!("{why}"),
//!         }
//!     }
//!     if idle {
//!         // Nothing in flight: wait for the earliest timer, then let both sides act on it.
//!         let Some(next) = [alice.poll_timeout(), bob.poll_timeout()].into_iter().flatten().min()
//!         else { break };
//!         now = next;
//!         alice.handle_timeout(now);
//!         bob.handle_timeout(now);
//!     }
//! }
//! assert_eq!((alice.state(), bob.state()), (ZrtpState::Secure, ZrtpState::Secure));
//! assert_eq!(sas.len(), 2);
//! assert_eq!(sas[0], sas[1]);
//! ```

mod context;
mod relay;
mod retained;
mod states;
mod timer;

use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::{CryptoRng, RngCore};

use super::algorithms::{
    AlgorithmKind, AlgorithmOffer, AuthTag, CipherAlgorithm, HashAlgorithm, KeyAgreement, SasType,
};
use super::cache::KnownPeers;
use super::error::{PeerMisbehaved, ZrtpError};
use super::kdf::HashChain;
use super::message::{ErrorCode, HashImage, Zid};
use super::packet::parse_packet;
use crate::srtp::{MasterKeys, SrtpProfile};

use context::Context;
use states::Phase;
pub use timer::Schedule;

/// The retransmission timers of RFC 6189 §6.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ZrtpTimers {
    /// T1, for Hello: 50 ms doubling to 200 ms, 20 transmissions.
    pub t1: Schedule,
    /// T2, for Commit, DHPart2, Confirm2 and Error: 150 ms doubling to 1.2 s, 10 transmissions.
    pub t2: Schedule,
}

impl Default for ZrtpTimers {
    fn default() -> Self {
        ZrtpTimers {
            t1: Schedule {
                initial: Duration::from_millis(50),
                cap: Duration::from_millis(200),
                max_tries: 20,
            },
            t2: Schedule {
                initial: Duration::from_millis(150),
                cap: Duration::from_millis(1200),
                max_tries: 10,
            },
        }
    }
}

/// What one endpoint offers and how it behaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZrtpConfig {
    /// Our ZID, fixed per installation.
    pub zid: Zid,
    /// Shown to the peer in Hello (at most 16 bytes are sent).
    pub client_id: String,
    /// Algorithm preference lists, put in Hello and used to choose when we initiate.
    pub algorithms: AlgorithmOffer,
    /// Passive (P flag): never send Commit, only answer one.
    pub passive: bool,
    /// Retransmission timers.
    pub timers: ZrtpTimers,
    /// What we remember of earlier peers (expired secrets left out by the caller).
    pub known_peers: Arc<KnownPeers>,
    /// How long the peer may keep the retained secret of this call, in seconds, sent in our
    /// Confirm (0xffff_ffff: indefinitely; 0: do not cache).
    pub cache_expiration: u32,
    /// The hash chain to use, made before the endpoint so that our Hello's hash could go into
    /// the SDP (`a=zrtp-hash`); without it the endpoint makes a fresh one.
    pub hello: Option<PreparedHello>,
    /// The peer's `a=zrtp-hash` from its SDP (§8.1): a Hello that does not hash to it is not
    /// the peer's, and the exchange fails instead of going on with it.
    pub peer_hello_hash: Option<[u8; 32]>,
    /// We are a trusted MiTM (a PBX): the M flag in Hello (§7.3). Phones leave it off.
    pub pbx: bool,
    /// As a PBX, ask the peer to enrol us (the E flag in Confirm, §7.3.1).
    pub enroll: bool,
}

/// The root of an endpoint's hash chain, made ahead of the endpoint so that the SDP can carry
/// the hash of the Hello it will send (§8.1). Secret until Confirm reveals it.
#[derive(Clone, PartialEq, Eq)]
pub struct PreparedHello {
    h0: HashImage,
}

impl std::fmt::Debug for PreparedHello {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PreparedHello { .. }")
    }
}

impl PreparedHello {
    /// A fresh random chain root.
    pub fn generate(rng: &mut (impl RngCore + CryptoRng)) -> PreparedHello {
        PreparedHello {
            h0: HashChain::generate(rng).h0,
        }
    }

    /// SHA-256 of the Hello an endpoint with `cfg` and this chain sends: the `a=zrtp-hash`
    /// value. `cfg`'s ZID, client id, algorithms and passive flag must be the endpoint's.
    pub fn hello_hash(&self, cfg: &ZrtpConfig) -> [u8; 32] {
        let chain = HashChain::from_h0(self.h0);
        crate::zrtp::kdf::hello_hash(&context::encode_hello(cfg, &chain))
    }

    /// The `a=zrtp-hash` attribute value: ZRTP version and the hash in hex (§8.1).
    pub fn sdp_value(&self, cfg: &ZrtpConfig) -> String {
        format!("1.10 {}", hex::encode(self.hello_hash(cfg)))
    }

    pub(crate) fn chain(&self) -> HashChain {
        HashChain::from_h0(self.h0)
    }
}

/// The hash in an `a=zrtp-hash` value of version 1.10, if it is one.
pub fn parse_zrtp_hash(value: &str) -> Option<[u8; 32]> {
    let (version, hash) = value.trim().split_once(' ')?;
    if version != "1.10" {
        return None;
    }
    let mut out = [0u8; 32];
    hex::decode_to_slice(hash.trim(), &mut out).ok()?;
    Some(out)
}

impl ZrtpConfig {
    /// Sipher's defaults for a ZID.
    pub fn new(zid: Zid) -> ZrtpConfig {
        ZrtpConfig {
            zid,
            client_id: "Sipher".to_owned(),
            algorithms: AlgorithmOffer::default(),
            passive: false,
            timers: ZrtpTimers::default(),
            known_peers: Arc::default(),
            cache_expiration: 0xffff_ffff,
            hello: None,
            peer_hello_hash: None,
            pbx: false,
            enroll: false,
        }
    }
}

/// Where the exchange stands, as the UI shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ZrtpState {
    /// Sending Hello, waiting for the peer's Hello and HelloACK.
    Discovery,
    /// Commit sent or received: the Diffie-Hellman exchange is under way.
    KeyAgreement,
    /// Keys derived, Confirm messages in flight.
    Confirming,
    /// Keys ready for SRTP and the SAS can be compared.
    Secure,
    /// The exchange failed; the call is not protected by ZRTP.
    Failed,
}

/// What the engine wants the caller to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ZrtpOutput {
    /// Send this ZRTP packet to the peer on the RTP port.
    Transmit(Vec<u8>),
    /// The exchange succeeded: keys for SRTP and the SAS. Reported once, and again with
    /// `sas_relayed` set (same keys) when an enrolled PBX relays the far end's SAS.
    Secure(SecureInfo),
    /// The exchange failed (reported once). An Error message went to the peer where the RFC
    /// asks for one.
    Failed(ZrtpFailure),
}

/// The result of a successful exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecureInfo {
    /// The SAS as the users read it to each other.
    pub sas: String,
    /// How the SAS is rendered.
    pub sas_type: SasType,
    /// Negotiated cipher.
    pub cipher: CipherAlgorithm,
    /// Negotiated SRTP authentication tag.
    pub auth_tag: AuthTag,
    /// Negotiated key agreement.
    pub key_agreement: KeyAgreement,
    /// Negotiated hash.
    pub hash: HashAlgorithm,
    /// The peer's Hello had the M flag: it is a PBX (trusted MiTM) and the call ends there.
    pub pbx_peer: bool,
    /// The peer's ZID (the key of the retained-secret cache).
    pub peer_zid: Zid,
    /// The SRTP profile for the cipher and auth tag.
    pub srtp_profile: SrtpProfile,
    /// Keys for what we send.
    pub local_srtp: MasterKeys,
    /// Keys for what the peer sends.
    pub remote_srtp: MasterKeys,
    /// We sent the Commit that won.
    pub we_are_initiator: bool,
    /// The new retained secret to cache for `peer_zid` (§4.6.1).
    pub rs1: [u8; 32],
    /// What the retained-secret cache said about the peer.
    pub cache: CacheState,
    /// Both sides confirmed this peer's SAS in an earlier call and a retained secret proved
    /// it is the same peer: "ZRTP - Verified". Set by the user's confirmation otherwise.
    pub verified: bool,
    /// How long the new retained secret may be kept, in seconds (the shorter of both sides'
    /// Confirm; 0xffff_ffff = indefinitely, 0 = not at all), §4.9 and §5.7.
    pub cache_expiration: u32,
    /// sashash, from which the SAS is rendered; a PBX relays it to its other leg.
    pub sas_hash: [u8; 32],
    /// The peer is a PBX that asks to be enrolled as a trusted MiTM (§7.3.1): confirming
    /// this call's SAS enrols it.
    pub enrollment_offered: bool,
    /// `sas` is the far end's SAS, relayed by an enrolled PBX (§7.3), not our own with the
    /// PBX. Reported as a second [`ZrtpOutput::Secure`] with the same keys.
    pub sas_relayed: bool,
}

impl SecureInfo {
    /// The cipher as CSipSimple shows it.
    pub fn cipher_name(&self) -> &'static str {
        match self.cipher {
            CipherAlgorithm::Aes1 => "AES-128",
            CipherAlgorithm::Aes3 => "AES-256",
            CipherAlgorithm::Twofish1 => "TwoFish-128",
            CipherAlgorithm::Twofish3 => "Twofish-256",
        }
    }

    /// CSipSimple's badge: "AES-256/EC25", with "/EndAtMitM" when the peer is a PBX.
    pub fn badge(&self) -> String {
        let mut b = format!("{}/{}", self.cipher_name(), self.key_agreement.id());
        if self.pbx_peer {
            b += "/EndAtMitM";
        }
        b
    }

    /// "ZRTP - Verified" or "ZRTP - Not verified".
    pub fn status(&self) -> &'static str {
        if self.verified {
            "ZRTP - Verified"
        } else {
            "ZRTP - Not verified"
        }
    }
}

/// What the retained-secret cache (RFC 6189 §4.3, §4.9) said about the peer of an exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CacheState {
    /// Nothing was cached for this peer: a first call (or a cache that was wiped). The SAS
    /// must be compared.
    New,
    /// A cached secret matched: the peer holds the secret of our earlier calls.
    Match,
    /// We had secrets for this peer and none matched: a man in the middle, or the peer lost
    /// its cache. An alarm: compare the SAS; nothing is verified.
    Mismatch,
}

impl CacheState {
    pub fn as_str(self) -> &'static str {
        match self {
            CacheState::New => "new",
            CacheState::Match => "match",
            CacheState::Mismatch => "mismatch",
        }
    }
}

/// Why an exchange failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ZrtpFailure {
    /// The peer stopped answering: our message was sent as often as the timer allows.
    #[error("no answer from the peer to our {0}")]
    Timeout(&'static str),
    /// The peer sent an Error message with this code.
    #[error("peer reported ZRTP error {:#x}", .0 .0)]
    PeerError(ErrorCode),
    /// A check of the building blocks failed (public value, Confirm MAC, algorithm choice...).
    #[error(transparent)]
    Protocol(#[from] ZrtpError),
    /// The Commit's hvi does not match the DHPart2 that followed (§4.4.1.1).
    #[error("hvi in Commit does not match DHPart2")]
    BadHvi,
    /// The peer's Hello is an older ZRTP version.
    #[error("peer speaks ZRTP version {0:?}")]
    UnsupportedVersion([u8; 4]),
    /// The peer's Hello carries our own ZID.
    #[error("peer uses our ZID")]
    EqualZid,
    /// The Commit chose an algorithm the Initiator's own Hello did not offer (bid-down).
    #[error("Commit chose {0:?} {1} that the Initiator's Hello did not offer")]
    HelloMismatch(AlgorithmKind, String),
    /// The Commit comes from another ZID than the Hello.
    #[error("Commit ZID differs from the peer's Hello")]
    CommitFromOtherZid,
    /// The peer sent our own public value back.
    #[error("peer reflected our public value")]
    ReflectedPublicValue,
    /// The peer revealed a hash image that does not fit its chain after the Confirm MAC
    /// verified: the messages we saw are not the ones the peer sent.
    #[error("peer's hash chain does not close: {0}")]
    ChainNotClosed(ZrtpError),
    /// The Commit asks for a mode we do not run (multistream, preshared).
    #[error("Commit asks for an unsupported mode")]
    UnsupportedMode,
    /// The peer's Hello does not hash to the `a=zrtp-hash` of its SDP (§8.1): someone other
    /// than the party we signalled with answers on the media path.
    #[error("the peer's Hello does not match the a=zrtp-hash of its SDP")]
    HelloHashMismatch,
}

impl ZrtpFailure {
    /// The Error code RFC 6189 §5.9 has the peer told, if any.
    pub fn error_code(&self) -> Option<ErrorCode> {
        let by_kind = |kind: &AlgorithmKind| match kind {
            AlgorithmKind::Hash => ErrorCode::UNSUPPORTED_HASH,
            AlgorithmKind::Cipher => ErrorCode::UNSUPPORTED_CIPHER,
            AlgorithmKind::AuthTag => ErrorCode::UNSUPPORTED_AUTH_TAG,
            AlgorithmKind::KeyAgreement => ErrorCode::UNSUPPORTED_KEY_AGREEMENT,
            AlgorithmKind::Sas => ErrorCode::UNSUPPORTED_SAS,
        };
        match self {
            ZrtpFailure::Timeout(_) => Some(ErrorCode::PROTOCOL_TIMEOUT),
            ZrtpFailure::PeerError(_) => None,
            ZrtpFailure::BadHvi => Some(ErrorCode::BAD_HVI),
            ZrtpFailure::UnsupportedVersion(_) => Some(ErrorCode::UNSUPPORTED_VERSION),
            ZrtpFailure::EqualZid => Some(ErrorCode::EQUAL_ZID),
            ZrtpFailure::HelloMismatch(..) | ZrtpFailure::CommitFromOtherZid => {
                Some(ErrorCode::HELLO_MISMATCH)
            }
            ZrtpFailure::ReflectedPublicValue => Some(ErrorCode::BAD_PUBLIC_VALUE),
            ZrtpFailure::ChainNotClosed(_) => Some(ErrorCode::CRITICAL_SOFTWARE_ERROR),
            ZrtpFailure::UnsupportedMode => Some(ErrorCode::UNSUPPORTED_KEY_AGREEMENT),
            // Not the peer we signalled with: nothing to tell whoever sent it.
            ZrtpFailure::HelloHashMismatch => None,
            ZrtpFailure::Protocol(e) => match e {
                ZrtpError::NoCommonAlgorithm(kind) => Some(by_kind(kind)),
                ZrtpError::UnsupportedAlgorithm { kind, .. } => Some(by_kind(kind)),
                ZrtpError::PeerMisbehaved(p) => match p {
                    PeerMisbehaved::UnofferedAlgorithm { kind, .. } => Some(by_kind(kind)),
                    PeerMisbehaved::BadPublicValueLength { .. }
                    | PeerMisbehaved::DhValueOutOfRange
                    | PeerMisbehaved::PointNotOnCurve
                    | PeerMisbehaved::LowOrderPoint => Some(ErrorCode::BAD_PUBLIC_VALUE),
                    PeerMisbehaved::BadConfirmMac | PeerMisbehaved::BadEncryptedBody => {
                        Some(ErrorCode::BAD_CONFIRM_MAC)
                    }
                    _ => Some(ErrorCode::MALFORMED_PACKET),
                },
                _ => Some(ErrorCode::CRITICAL_SOFTWARE_ERROR),
            },
        }
    }
}

/// One ZRTP endpoint for one RTP stream (our SSRC), sans-IO.
#[derive(Debug)]
pub struct ZrtpEndpoint {
    ctx: Context,
    phase: Phase,
}

impl ZrtpEndpoint {
    /// A new endpoint. `rng` seeds the endpoint's own generator (hash chain, key pairs, IVs and
    /// secret ids), so a seeded `rng` makes a whole exchange reproducible.
    pub fn new(
        cfg: ZrtpConfig,
        ssrc: u32,
        now: Instant,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Self {
        let _ = now;
        ZrtpEndpoint {
            ctx: Context::new(cfg, ssrc, rng),
            phase: Phase::initial(),
        }
    }

    /// Begin sending Hello.
    pub fn start(&mut self, now: Instant) {
        if self.ctx.start(now) {
            self.step(now, |phase, ctx| phase.on_started(ctx, now));
        }
    }

    /// A ZRTP packet from the RTP port. Anything that is not a well-formed ZRTP packet with a
    /// correct CRC is dropped, as RFC 6189 §5 asks.
    pub fn handle_packet(&mut self, now: Instant, datagram: &[u8]) {
        let Ok(packet) = parse_packet(datagram) else {
            return;
        };
        let Ok(message) = super::message::Message::parse(packet.message) else {
            return;
        };
        let raw = packet.message;
        match message {
            // Answered in every state; they never change it (§5.15, §5.16, §5.11).
            super::message::Message::Ping(ping) => self.ctx.answer_ping(&ping, packet.ssrc),
            super::message::Message::GoClear { .. } => {
                // Sipher never drops to clear media.
                self.ctx.transmit_error(ErrorCode::GOCLEAR_NOT_ALLOWED);
            }
            message => self.step(now, |phase, ctx| phase.on_message(ctx, now, message, raw)),
        }
    }

    /// As a trusted MiTM (PBX) with a secure session, relay the SAS of our other leg to this
    /// peer (§7.3). False when not secure yet or not configured as a PBX.
    pub fn relay_sas(&mut self, now: Instant, other_leg: &SecureInfo) -> bool {
        match &self.phase {
            Phase::Secure(s) if self.ctx.cfg.pbx => s.relay_sas(&mut self.ctx, now, other_leg),
            _ => false,
        }
    }

    /// Time has reached (or passed) [`ZrtpEndpoint::poll_timeout`].
    pub fn handle_timeout(&mut self, now: Instant) {
        if let Some(what) = self.ctx.fire_timer(now) {
            if matches!(self.phase, Phase::Failed) {
                return;
            }
            let failure = if self.ctx.foreign_hello_seen && self.state() == ZrtpState::Discovery {
                ZrtpFailure::HelloHashMismatch
            } else {
                ZrtpFailure::Timeout(what)
            };
            self.phase = Phase::Failed;
            self.ctx.fail(now, failure);
        }
    }

    /// The next thing to do, if any.
    pub fn poll_output(&mut self) -> Option<ZrtpOutput> {
        self.ctx.poll_output()
    }

    /// When [`ZrtpEndpoint::handle_timeout`] wants to be called next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.ctx.deadline()
    }

    /// Where the exchange stands.
    pub fn state(&self) -> ZrtpState {
        self.phase.state()
    }

    /// Run one transition: the phase is taken out, and a failure leaves `Failed` behind after
    /// telling the peer and the caller.
    fn step(&mut self, now: Instant, f: impl FnOnce(Phase, &mut Context) -> states::Step) {
        let phase = std::mem::replace(&mut self.phase, Phase::Failed);
        match f(phase, &mut self.ctx) {
            Ok(next) => self.phase = next,
            Err(failure) => self.ctx.fail(now, failure),
        }
    }
}
