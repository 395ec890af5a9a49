//! A seeded virtual-time network for ZRTP endpoints: each node talks to one peer node over a
//! link that can delay, reorder, drop, duplicate and tamper with packets. The driver is bounded
//! in steps and in virtual time, so a livelock fails the test instead of hanging it.

#![allow(dead_code)]

use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sipher::zrtp::algorithms::{
    AlgorithmOffer, CipherAlgorithm, HashAlgorithm, KeyAgreement, SasType,
};
use sipher::zrtp::message::Zid;
use sipher::zrtp::packet::{encode_packet, parse_packet};
use sipher::zrtp::session::{
    SecureInfo, ZrtpConfig, ZrtpEndpoint, ZrtpFailure, ZrtpOutput, ZrtpState,
};

/// Changes a message in flight: (sending node, message bytes between header and CRC). The
/// packet is framed again with a correct CRC, as an attacker on the path would.
pub type Tamper = Box<dyn FnMut(usize, &mut Vec<u8>)>;

pub struct Net {
    pub nodes: Vec<ZrtpEndpoint>,
    /// `peer[i]` receives what node `i` sends.
    peer: Vec<usize>,
    rng: StdRng,
    pub loss: f64,
    pub duplicate: f64,
    pub delay: Duration,
    /// Extra random delay up to this, which reorders packets.
    pub jitter: Duration,
    pub tamper: Option<Tamper>,
    pub now: Instant,
    start: Instant,
    in_flight: Vec<(Instant, u64, usize, Vec<u8>)>,
    next_id: u64,
    pub secure: Vec<Vec<SecureInfo>>,
    pub failed: Vec<Vec<ZrtpFailure>>,
    /// Every message type each node sent, in order (first eight bytes of the type block).
    pub sent: Vec<Vec<String>>,
}

impl Net {
    /// Nodes with the given configs; `links` pairs them up (both directions).
    pub fn new(configs: Vec<ZrtpConfig>, links: &[(usize, usize)], seed: u64) -> Net {
        let mut rng = StdRng::seed_from_u64(seed);
        #[allow(clippy::disallowed_methods)] // the virtual-time origin; nothing reads it again
        let now = Instant::now();
        let nodes: Vec<ZrtpEndpoint> = configs
            .into_iter()
            .enumerate()
            .map(|(i, cfg)| ZrtpEndpoint::new(cfg, 0x1000 + i as u32, now, &mut rng))
            .collect();
        let mut peer = vec![usize::MAX; nodes.len()];
        for &(a, b) in links {
            peer[a] = b;
            peer[b] = a;
        }
        let n = nodes.len();
        Net {
            nodes,
            peer,
            rng,
            loss: 0.0,
            duplicate: 0.0,
            delay: Duration::from_millis(20),
            jitter: Duration::ZERO,
            tamper: None,
            now,
            start: now,
            in_flight: Vec::new(),
            next_id: 0,
            secure: vec![Vec::new(); n],
            failed: vec![Vec::new(); n],
            sent: vec![Vec::new(); n],
        }
    }

    /// Two nodes, 0 and 1, linked.
    pub fn pair(a: ZrtpConfig, b: ZrtpConfig, seed: u64) -> Net {
        Net::new(vec![a, b], &[(0, 1)], seed)
    }

    /// Start every node and run until nothing is left to do or `limit` of virtual time.
    pub fn run(&mut self, limit: Duration) {
        for node in &mut self.nodes {
            node.start(self.now);
        }
        for _ in 0..200_000 {
            self.drain();
            let next_packet = self.in_flight.iter().map(|p| (p.0, p.1)).min();
            let next_timer = self
                .nodes
                .iter()
                .filter_map(ZrtpEndpoint::poll_timeout)
                .min();
            let next = match (next_packet, next_timer) {
                (Some((t, _)), Some(u)) => t.min(u),
                (Some((t, _)), None) => t,
                (None, Some(u)) => u,
                (None, None) => return,
            };
            if next - self.start > limit {
                return;
            }
            self.now = self.now.max(next);
            match next_packet {
                Some((t, id)) if t <= self.now => {
                    let pos = self.in_flight.iter().position(|p| p.1 == id).unwrap();
                    let (_, _, to, packet) = self.in_flight.swap_remove(pos);
                    self.nodes[to].handle_packet(self.now, &packet);
                }
                _ => {
                    for node in &mut self.nodes {
                        if node.poll_timeout().is_some_and(|t| t <= self.now) {
                            node.handle_timeout(self.now);
                        }
                    }
                }
            }
        }
        panic!("the exchange did not settle within the step bound");
    }

    pub fn elapsed(&self) -> Duration {
        self.now - self.start
    }

    pub fn states(&self) -> Vec<ZrtpState> {
        self.nodes.iter().map(ZrtpEndpoint::state).collect()
    }

    fn drain(&mut self) {
        for i in 0..self.nodes.len() {
            while let Some(out) = self.nodes[i].poll_output() {
                match out {
                    ZrtpOutput::Transmit(packet) => self.send(i, packet),
                    ZrtpOutput::Secure(info) => self.secure[i].push(info),
                    ZrtpOutput::Failed(why) => self.failed[i].push(why),
                }
            }
        }
    }

    fn send(&mut self, from: usize, mut packet: Vec<u8>) {
        let raw = parse_packet(&packet).expect("endpoints send well-formed packets");
        self.sent[from].push(
            String::from_utf8_lossy(&raw.message[4..12])
                .trim()
                .to_owned(),
        );
        if let Some(tamper) = self.tamper.as_mut() {
            let (sequence, ssrc) = (raw.sequence, raw.ssrc);
            let mut message = raw.message.to_vec();
            tamper(from, &mut message);
            packet = encode_packet(sequence, ssrc, &message);
        }
        let to = self.peer[from];
        if to == usize::MAX || self.rng.gen_bool(self.loss) {
            return;
        }
        let copies = if self.rng.gen_bool(self.duplicate) {
            2
        } else {
            1
        };
        for _ in 0..copies {
            let jitter = self.jitter.mul_f64(self.rng.gen::<f64>());
            self.next_id += 1;
            self.in_flight.push((
                self.now + self.delay + jitter,
                self.next_id,
                to,
                packet.clone(),
            ));
        }
    }
}

/// A config that prefers exactly these algorithms.
pub fn config(zid: u8, ka: KeyAgreement, cipher: CipherAlgorithm, sas: SasType) -> ZrtpConfig {
    let mut cfg = ZrtpConfig::new(Zid([zid; 12]));
    let hashes = if ka == KeyAgreement::Ec38 {
        vec![HashAlgorithm::S384, HashAlgorithm::S256]
    } else {
        vec![HashAlgorithm::S256]
    };
    cfg.algorithms = AlgorithmOffer {
        hashes,
        ciphers: vec![cipher],
        auth_tags: vec![sipher::zrtp::algorithms::AuthTag::Hs80],
        key_agreements: vec![ka],
        sas_types: vec![sas],
    };
    cfg
}

/// The message type of a message (its type block, trimmed).
pub fn message_type(message: &[u8]) -> String {
    String::from_utf8_lossy(&message[4..12]).trim().to_owned()
}

/// Offset of the public value in a DHPart message: header 12, H1 32, four ids 32.
pub const DHPART_PV: usize = 76;
/// Offset of hvi in a DH Commit: header 12, H2 32, ZID 12, five algorithm ids 20.
pub const COMMIT_HVI: usize = 76;

/// Both nodes Secure, once each, with the same SAS and mirrored SRTP keys.
pub fn assert_secure_pair(net: &Net, a: usize, b: usize) -> (SecureInfo, SecureInfo) {
    assert!(
        net.failed[a].is_empty() && net.failed[b].is_empty(),
        "failures: {:?}",
        net.failed
    );
    assert_eq!(net.secure[a].len(), 1, "node {a} reports Secure once");
    assert_eq!(net.secure[b].len(), 1, "node {b} reports Secure once");
    assert_eq!(net.nodes[a].state(), ZrtpState::Secure);
    assert_eq!(net.nodes[b].state(), ZrtpState::Secure);
    let (x, y) = (net.secure[a][0].clone(), net.secure[b][0].clone());
    assert_eq!(x.sas, y.sas);
    assert_eq!(x.local_srtp, y.remote_srtp);
    assert_eq!(x.remote_srtp, y.local_srtp);
    assert_ne!(x.local_srtp, x.remote_srtp);
    assert_eq!(x.rs1, y.rs1);
    assert_ne!(
        x.we_are_initiator, y.we_are_initiator,
        "exactly one initiator"
    );
    assert_eq!(
        (
            x.cipher,
            x.auth_tag,
            x.key_agreement,
            x.hash,
            x.sas_type,
            x.srtp_profile
        ),
        (
            y.cipher,
            y.auth_tag,
            y.key_agreement,
            y.hash,
            y.sas_type,
            y.srtp_profile
        )
    );
    (x, y)
}
