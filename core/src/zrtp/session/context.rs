//! What an endpoint keeps across states: configuration, our hash chain and Hello, the packet
//! sequence, the generator, the output queue and the one retransmission timer; and the builders
//! of the messages we send.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Instant;

use rand::rngs::StdRng;
use rand::{CryptoRng, RngCore, SeedableRng};

use super::timer::{Fire, Retransmit, Schedule};
use super::{ZrtpConfig, ZrtpFailure, ZrtpOutput};
use crate::media::rtp::Ssrc;
use crate::zrtp::agreement::KeyPair;
use crate::zrtp::algorithms::{HashAlgorithm, Negotiated};
use crate::zrtp::cache;
use crate::zrtp::kdf::{self, HashChain};
use crate::zrtp::keys::{self, Role, SessionKeys};
use crate::zrtp::message::{
    ConfirmBody, DhPart, ErrorCode, Hello, Mac, Message, Ping, PingAck, Zid, ZRTP_VERSION,
};
use crate::zrtp::packet::encode_packet;

/// The endpoint's state that outlives every phase.
pub(super) struct Context {
    pub(super) cfg: ZrtpConfig,
    ssrc: Ssrc,
    sequence: u16,
    pub(super) rng: StdRng,
    pub(super) chain: HashChain,
    /// Our Hello as sent (MAC sealed with H2): the Responder's Hello enters hvi and total_hash.
    pub(super) hello: Vec<u8>,
    started: bool,
    /// A Hello that did not match the peer's `a=zrtp-hash` arrived (and was dropped).
    pub(super) foreign_hello_seen: bool,
    out: VecDeque<ZrtpOutput>,
    timer: Option<Retransmit>,
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("zid", &self.cfg.zid)
            .field("ssrc", &self.ssrc)
            .field("timer", &self.timer.as_ref().map(|t| t.what))
            .finish_non_exhaustive()
    }
}

impl Context {
    pub(super) fn new(cfg: ZrtpConfig, ssrc: u32, rng: &mut (impl RngCore + CryptoRng)) -> Self {
        let mut seed = [0u8; 32];
        rng.fill_bytes(&mut seed);
        let mut rng = StdRng::from_seed(seed);
        let chain = match &cfg.hello {
            Some(prepared) => prepared.chain(),
            None => HashChain::generate(&mut rng),
        };
        let hello = encode_hello(&cfg, &chain);
        Context {
            cfg,
            ssrc: Ssrc(ssrc),
            sequence: 0,
            rng,
            chain,
            hello,
            started: false,
            foreign_hello_seen: false,
            out: VecDeque::new(),
            timer: None,
        }
    }

    /// Send the first Hello; false when already started.
    pub(super) fn start(&mut self, now: Instant) -> bool {
        if std::mem::replace(&mut self.started, true) {
            return false;
        }
        let hello = self.hello.clone();
        self.send_reliably(now, "Hello", hello, self.cfg.timers.t1);
        true
    }

    pub(super) fn started(&self) -> bool {
        self.started
    }

    /// Frame a message with the next sequence number and queue it for sending.
    pub(super) fn transmit(&mut self, message: &[u8]) {
        self.sequence = self.sequence.wrapping_add(1);
        let packet = encode_packet(self.sequence, self.ssrc, message);
        self.out.push_back(ZrtpOutput::Transmit(packet));
    }

    /// Send an Error once, without waiting for ErrorACK: for refusals that do not end the
    /// exchange (an untrusted SASrelay, GoClear).
    pub(super) fn transmit_error(&mut self, code: ErrorCode) {
        // An Error message is a fixed four-byte body: encoding cannot fail.
        let bytes = Message::Error(code).encode().expect("Error always encodes");
        self.transmit(&bytes);
    }

    /// PingACK for a Ping (§5.16), naming its endpoint hash and SSRC.
    pub(super) fn answer_ping(&mut self, ping: &Ping, ssrc: Ssrc) {
        let ack = Message::PingAck(PingAck {
            version: ZRTP_VERSION,
            endpoint_hash: self.endpoint_hash(),
            received_endpoint_hash: ping.endpoint_hash,
            received_ssrc: ssrc.0,
        });
        // PingACK is a fixed-size body: encoding cannot fail.
        let bytes = ack.encode().expect("PingACK always encodes");
        self.transmit(&bytes);
    }

    /// Our endpoint hash: SHA-256 of ZID and SSRC, truncated to 64 bits (§5.15).
    fn endpoint_hash(&self) -> [u8; 8] {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        h.update(self.cfg.zid.0);
        h.update(self.ssrc.0.to_be_bytes());
        let d = h.finalize();
        let mut out = [0u8; 8];
        out.copy_from_slice(&d[..8]);
        out
    }

    /// Send a bare message that has no body (HelloACK, Conf2ACK, ErrorACK).
    pub(super) fn transmit_ack(&mut self, msg: Message) {
        // The acknowledgements have no body, so encoding cannot fail.
        let bytes = msg.encode().expect("bodiless messages always encode");
        self.transmit(&bytes);
    }

    /// Send a message and retransmit it on `schedule` until [`Context::stop_timer`].
    pub(super) fn send_reliably(
        &mut self,
        now: Instant,
        what: &'static str,
        message: Vec<u8>,
        schedule: Schedule,
    ) {
        self.transmit(&message);
        self.timer = Some(Retransmit::new(what, message, now, schedule));
    }

    /// The peer answered the message being retransmitted.
    pub(super) fn stop_timer(&mut self) {
        self.timer = None;
    }

    /// Whether the message being retransmitted is this one.
    pub(super) fn retransmitting(&self, what: &str) -> bool {
        self.timer.as_ref().is_some_and(|t| t.what == what)
    }

    pub(super) fn deadline(&self) -> Option<Instant> {
        self.timer.as_ref().map(Retransmit::deadline)
    }

    /// Retransmit what is due; returns what timed out when the limit was reached.
    pub(super) fn fire_timer(&mut self, now: Instant) -> Option<&'static str> {
        let timer = self.timer.as_mut()?;
        if now < timer.deadline() {
            return None;
        }
        match timer.fire(now) {
            Fire::Resend(message) => {
                let message = message.to_vec();
                self.transmit(&message);
                None
            }
            Fire::GiveUp => {
                let what = timer.what;
                self.timer = None;
                Some(what)
            }
        }
    }

    pub(super) fn emit(&mut self, output: ZrtpOutput) {
        self.out.push_back(output);
    }

    pub(super) fn poll_output(&mut self) -> Option<ZrtpOutput> {
        self.out.pop_front()
    }

    /// Give up: tell the peer where the RFC has a code for it, then the caller. An Error is
    /// retransmitted until ErrorACK unless the peer is gone or told us first.
    pub(super) fn fail(&mut self, now: Instant, failure: ZrtpFailure) {
        self.timer = None;
        if let Some(code) = failure.error_code() {
            // An Error message is a fixed four-byte body: encoding cannot fail.
            let bytes = Message::Error(code).encode().expect("Error always encodes");
            if matches!(failure, ZrtpFailure::Timeout(_)) {
                self.transmit(&bytes);
            } else {
                self.send_reliably(now, "Error", bytes, self.cfg.timers.t2);
            }
        }
        self.emit(ZrtpOutput::Failed(failure));
    }

    /// Our DHPart1 (Responder) or DHPart2 (Initiator), MAC sealed with H0. The ids of the
    /// secrets we retained for `peer` are MACs of them; every other id is random, so the peer
    /// cannot tell which secrets we lack (§4.3.1).
    pub(super) fn dh_part(
        &mut self,
        pair: &KeyPair,
        role: Role,
        hash: HashAlgorithm,
        peer: &Zid,
    ) -> Result<Vec<u8>, ZrtpFailure> {
        let known = Arc::clone(&self.cfg.known_peers);
        let (rs1_id, rs2_id) = cache::our_secret_ids(hash, known.get(peer), role, &mut self.rng);
        let part = DhPart {
            h1: self.chain.h1,
            rs1_id,
            rs2_id,
            aux_secret_id: keys::random_secret_id(&mut self.rng),
            pbx_secret_id: keys::random_secret_id(&mut self.rng),
            public_value: pair.public_value().to_vec(),
            mac: Mac::default(),
        };
        let msg = match role {
            Role::Initiator => Message::DhPart2(part),
            Role::Responder => Message::DhPart1(part),
        };
        let mut bytes = msg.encode()?;
        kdf::seal_message(&self.chain.h0, &mut bytes);
        Ok(bytes)
    }

    /// Our Confirm1 (Responder) or Confirm2 (Initiator), revealing H0, with our V flag.
    pub(super) fn confirm(
        &mut self,
        n: &Negotiated,
        keys: &SessionKeys,
        role: Role,
        sas_verified: bool,
    ) -> Result<Vec<u8>, ZrtpFailure> {
        let body = ConfirmBody {
            h0: self.chain.h0,
            enrollment: self.cfg.pbx && self.cfg.enroll,
            sas_verified,
            allow_clear: false,
            disclosure: false,
            cache_expiration: self.cfg.cache_expiration,
            signature: Vec::new(),
        };
        let mut iv = [0u8; 16];
        self.rng.fill_bytes(&mut iv);
        let sealed = keys::seal_confirm(n, keys, role, iv, &body)?;
        let msg = match role {
            Role::Initiator => Message::Confirm2(sealed),
            Role::Responder => Message::Confirm1(sealed),
        };
        Ok(msg.encode()?)
    }
}

pub(super) fn encode_hello(cfg: &ZrtpConfig, chain: &HashChain) -> Vec<u8> {
    let mut client_id = [b' '; 16];
    for (dst, src) in client_id.iter_mut().zip(cfg.client_id.bytes()) {
        *dst = src;
    }
    let [hashes, ciphers, auth_tags, key_agreements, sas_types] = cfg.algorithms.hello_lists();
    let hello = Message::Hello(Hello {
        version: ZRTP_VERSION,
        client_id,
        h3: chain.h3,
        zid: cfg.zid,
        signature_capable: false,
        mitm: cfg.pbx,
        passive: cfg.passive,
        hashes,
        ciphers,
        auth_tags,
        key_agreements,
        sas_types,
        mac: Mac::default(),
    });
    // hello_lists keeps at most seven ids per list, which is all encoding can refuse.
    let mut bytes = hello
        .encode()
        .expect("hello_lists bounds every list to seven");
    kdf::seal_message(&chain.h2, &mut bytes);
    bytes
}
