//! The offer/answer state of one call: our SDP session (o= id and version), the last offer we
//! made, and the negotiated result. A thin layer over [`crate::sdp`].

use std::net::{IpAddr, SocketAddr};

use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};

use super::security::{MediaEncryption, SrtpKeys};
use crate::sdp::{
    create_answer, create_offer, process_answer, reoffer, Attribute, Direction, SdpError,
    SessionDescription,
};
use crate::srtp::sdes::{self, CryptoAttribute};
use crate::srtp::SrtpProfile;
use crate::zrtp::session::{parse_zrtp_hash, PreparedHello, ZrtpConfig};

/// The SDES suites we offer, strongest first (RFC 4568, 6188, 7714).
const SDES_PROFILES: [SrtpProfile; 6] = [
    SrtpProfile::AeadAes256Gcm,
    SrtpProfile::AeadAes128Gcm,
    SrtpProfile::Aes256CmHmacSha1_80,
    SrtpProfile::Aes128CmHmacSha1_80,
    SrtpProfile::Aes256CmHmacSha1_32,
    SrtpProfile::Aes128CmHmacSha1_32,
];

pub use crate::sdp::MediaConfig;
/// What a call negotiated: remote RTP address, codec, directions.
pub type NegotiatedMedia = crate::sdp::Negotiated;

impl Default for MediaConfig {
    /// Opus, PCMU and PCMA on an RTP port the engine fills in.
    fn default() -> MediaConfig {
        use crate::sdp::{Codec, PayloadType};
        let opus = PayloadType::new(96).map(Codec::opus);
        let codecs = opus
            .into_iter()
            .chain([Codec::pcmu(), Codec::pcma()])
            .collect();
        MediaConfig::new(SocketAddr::from(([127, 0, 0, 1], 40000)), codecs)
    }
}

impl NegotiatedMedia {
    /// Whether the peer sends us media (false while it holds the call).
    pub fn remote_sends(&self) -> bool {
        self.remote_direction.sends() && !self.remote_rtp.ip().is_unspecified()
    }
}

pub(super) struct SdpSession {
    config: MediaConfig,
    session_id: u64,
    version: u64,
    /// Our last description (offer or answer), the base of re-offers.
    local: Option<SessionDescription>,
    /// The offer awaiting an answer.
    pending_offer: Option<SessionDescription>,
    encryption: MediaEncryption,
    /// Whether SDES keys may go into this call's signalling (TLS first hop, or the insecure
    /// override).
    sdes_allowed: bool,
    rng: StdRng,
    /// The SRTP keys in force, once negotiated.
    srtp: Option<SrtpKeys>,
    /// With ZRTP: our hash chain, whose Hello's hash goes into every description we send
    /// (`a=zrtp-hash`, RFC 6189 §8.1), and that value.
    zrtp_hello: Option<(PreparedHello, String)>,
    /// The `a=zrtp-hash` of the peer's last description.
    peer_zrtp_hash: Option<[u8; 32]>,
}

/// What the media path needs for ZRTP from the signalling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZrtpMedia {
    /// The hash chain whose Hello our SDP announced.
    pub hello: PreparedHello,
    /// The peer's announced Hello hash, when its SDP had one.
    pub peer_hello_hash: Option<[u8; 32]>,
}

impl SdpSession {
    pub(super) fn new(
        rng: &mut impl RngCore,
        config: MediaConfig,
        encryption: MediaEncryption,
        sdes_allowed: bool,
        zrtp: Option<&ZrtpConfig>,
    ) -> SdpSession {
        // NTP-style ids: any value that fits in 63 bits keeps naive parsers happy.
        let session_id = rng.next_u64() >> 1;
        let mut seed = [0u8; 32];
        rng.fill_bytes(&mut seed);
        // The SDES keys and the ZRTP hash chain come from this generator: a 256-bit seed.
        let mut rng = StdRng::from_seed(seed);
        let zrtp_hello = zrtp.filter(|_| encryption.is_zrtp()).map(|cfg| {
            let hello = PreparedHello::generate(&mut rng);
            let value = hello.sdp_value(cfg);
            (hello, value)
        });
        SdpSession {
            config,
            session_id,
            version: 0,
            local: None,
            pending_offer: None,
            encryption,
            sdes_allowed,
            rng,
            srtp: None,
            zrtp_hello,
            peer_zrtp_hash: None,
        }
    }

    /// What the media path needs for ZRTP, when this call runs it.
    pub(super) fn zrtp(&self) -> Option<Box<ZrtpMedia>> {
        self.zrtp_hello.as_ref().map(|(hello, _)| {
            Box::new(ZrtpMedia {
                hello: hello.clone(),
                peer_hello_hash: self.peer_zrtp_hash,
            })
        })
    }

    /// The SRTP keys negotiated so far.
    pub(super) fn srtp(&self) -> Option<&SrtpKeys> {
        self.srtp.as_ref()
    }

    /// Whether our offers can be made at all: SRTP is mandatory but SDES may not be used here.
    pub(super) fn offer_refusal(&self) -> Option<String> {
        (self.encryption == MediaEncryption::SrtpMandatory && !self.sdes_allowed).then(|| {
            "SRTP is mandatory but the signalling is not TLS: SDES would send the media keys in \
             clear (use TLS, or allow insecure SDES for this account)"
                .to_string()
        })
    }

    /// Whether an offer is readable and shares a codec with us.
    pub(super) fn check_offer(&self, offer: &[u8]) -> Result<(), String> {
        let offer = SessionDescription::parse(offer).map_err(|e| e.to_string())?;
        self.answer_crypto_plan(&offer)?;
        let config = self.config_for(self.config.rtp_address.ip(), false);
        create_answer(
            &offer,
            &config,
            self.session_id,
            self.version,
            config.rtp_address.ip(),
        )
        .map(|_| ())
        .map_err(|e| e.to_string())
    }

    /// Our offer; `hold` makes it `sendonly`.
    pub(super) fn offer(&mut self, local_ip: IpAddr, hold: bool) -> Vec<u8> {
        let direction = if hold {
            Direction::SendOnly
        } else {
            Direction::SendRecv
        };
        let sd = match &self.local {
            Some(prev) => reoffer(prev, direction),
            None => {
                self.version = 1;
                let mut config = self.config_for(local_ip, hold);
                let srtp = self.encryption.wants_srtp() && self.sdes_allowed;
                let savp = srtp && self.encryption == MediaEncryption::SrtpMandatory;
                config.profiles = vec![if savp { "RTP/SAVP" } else { "RTP/AVP" }.to_string()];
                let mut sd = create_offer(&config, self.session_id, self.version, local_ip);
                if srtp {
                    let lines = sdes::create_offer(&SDES_PROFILES, &mut self.rng);
                    add_crypto(&mut sd, lines.iter());
                }
                self.add_zrtp_hash(&mut sd);
                sd
            }
        };
        self.version = sd.origin.session_version;
        self.pending_offer = Some(sd.clone());
        self.local = Some(sd.clone());
        sd.to_bytes()
    }

    /// Forgets an offer the peer refused; the next one builds on the last accepted state.
    pub(super) fn rollback_offer(&mut self) {
        self.pending_offer = None;
    }

    /// Answers the peer's offer; `hold` keeps us `sendonly` (or `inactive`).
    pub(super) fn answer(
        &mut self,
        local_ip: IpAddr,
        offer: &[u8],
        hold: bool,
    ) -> Result<(Vec<u8>, NegotiatedMedia), String> {
        let offer = SessionDescription::parse(offer).map_err(|e| e.to_string())?;
        let use_srtp = self.answer_crypto_plan(&offer)?;
        let config = self.config_for(local_ip, hold);
        self.version += 1;
        match create_answer(&offer, &config, self.session_id, self.version, local_ip) {
            Ok((mut sd, negotiated)) => {
                if use_srtp {
                    let line = self.answer_crypto(&offer)?;
                    add_crypto(&mut sd, std::iter::once(&line));
                } else {
                    self.srtp = None;
                }
                self.add_zrtp_hash(&mut sd);
                self.peer_zrtp_hash = zrtp_hash(&offer);
                self.local = Some(sd.clone());
                Ok((sd.to_bytes(), negotiated))
            }
            Err(SdpError::NoCommonCodec { .. }) => Err("no common codec".to_string()),
            Err(e) => Err(e.to_string()),
        }
    }

    /// Reads the answer to our pending offer.
    pub(super) fn process_answer(&mut self, answer: &[u8]) -> Result<NegotiatedMedia, String> {
        let offer = self
            .pending_offer
            .take()
            .ok_or("an answer without an offer")?;
        let answer = SessionDescription::parse(answer).map_err(|e| e.to_string())?;
        let negotiated = process_answer(&offer, &answer).map_err(|e| e.to_string())?;
        self.peer_zrtp_hash = zrtp_hash(&answer);
        let offered = crypto_lines(&offer);
        if offered.is_empty() {
            self.srtp = None;
            return Ok(negotiated);
        }
        match crypto_lines(&answer).first() {
            Some(line) => {
                let offered: Vec<CryptoAttribute> = offered
                    .iter()
                    .filter_map(|l| CryptoAttribute::parse(l).ok())
                    .collect();
                let answer = CryptoAttribute::parse(line).map_err(|e| e.to_string())?;
                let agreed = sdes::process_answer(&offered, &answer).map_err(|e| e.to_string())?;
                self.srtp = Some(SrtpKeys {
                    profile: agreed.profile,
                    local: agreed.local,
                    remote: agreed.remote,
                });
            }
            None if self.encryption == MediaEncryption::SrtpMandatory => {
                return Err("the peer answered without SRTP keys".into());
            }
            None => self.srtp = None,
        }
        Ok(negotiated)
    }

    /// Decides, without side effects, whether our answer to `offer` uses SRTP, or why we
    /// must refuse it.
    fn answer_crypto_plan(&self, offer: &SessionDescription) -> Result<bool, String> {
        let savp = audio(offer).is_some_and(|m| m.proto.eq_ignore_ascii_case("RTP/SAVP"));
        let has_crypto = !crypto_lines(offer).is_empty();
        let mandatory = self.encryption == MediaEncryption::SrtpMandatory;
        if !self.encryption.wants_srtp() {
            return if savp {
                Err("the peer requires SRTP and this account does not encrypt media".into())
            } else {
                Ok(false)
            };
        }
        if !self.sdes_allowed && (has_crypto || mandatory) {
            return if mandatory || savp {
                Err(
                    "SDES keys offered over signalling that is not TLS: refused, they would \
                     travel in clear"
                        .into(),
                )
            } else {
                Ok(false)
            };
        }
        if !has_crypto {
            return if mandatory || savp {
                Err("the peer offers no SRTP and this account requires it".into())
            } else {
                Ok(false)
            };
        }
        Ok(true)
    }

    /// Our a=crypto answer line: the first offered suite we support, with our key. In a
    /// re-offer of the same keys we keep ours, so the media keys do not change mid-call.
    fn answer_crypto(&mut self, offer: &SessionDescription) -> Result<CryptoAttribute, String> {
        let lines = crypto_lines(offer);
        if let Some(keys) = &self.srtp {
            for line in &lines {
                if let Ok(attr) = CryptoAttribute::parse(line) {
                    if attr.keys.concatenated() == keys.remote.concatenated() {
                        return Ok(CryptoAttribute {
                            tag: attr.tag,
                            keys: keys.local.clone(),
                            lifetime: None,
                            mki: None,
                            session_params: Vec::new(),
                        });
                    }
                }
            }
        }
        let agreed = sdes::answer_offer_lines(lines.iter().map(String::as_str), &mut self.rng)
            .map_err(|e| e.to_string())?;
        let line = agreed.answer.clone();
        self.srtp = Some(SrtpKeys {
            profile: agreed.profile,
            local: agreed.local,
            remote: agreed.remote,
        });
        Ok(line)
    }

    fn add_zrtp_hash(&self, sd: &mut SessionDescription) {
        let Some((_, value)) = &self.zrtp_hello else {
            return;
        };
        if let Some(m) = audio_mut(sd) {
            m.attributes
                .retain(|a| !a.name.eq_ignore_ascii_case("zrtp-hash"));
            m.attributes.push(Attribute {
                name: "zrtp-hash".into(),
                value: Some(value.clone()),
            });
        }
    }

    fn config_for(&self, local_ip: IpAddr, hold: bool) -> MediaConfig {
        let mut config = self.config.clone();
        config.profiles = if self.encryption.wants_srtp() && self.sdes_allowed {
            vec!["RTP/AVP".into(), "RTP/SAVP".into()]
        } else {
            vec!["RTP/AVP".into()]
        };
        config.rtp_address = SocketAddr::new(local_ip, config.rtp_address.port());
        if hold {
            config.direction = Direction::SendOnly;
        }
        config
    }
}

/// The first live audio stream of a description.
fn audio(sd: &SessionDescription) -> Option<&crate::sdp::MediaDescription> {
    sd.media
        .iter()
        .find(|m| m.kind.eq_ignore_ascii_case("audio") && m.port != 0)
}

fn audio_mut(sd: &mut SessionDescription) -> Option<&mut crate::sdp::MediaDescription> {
    sd.media
        .iter_mut()
        .find(|m| m.kind.eq_ignore_ascii_case("audio") && m.port != 0)
}

/// The peer's announced Hello hash (version 1.10): on the audio stream, else for the session.
fn zrtp_hash(sd: &SessionDescription) -> Option<[u8; 32]> {
    let media = audio(sd)
        .into_iter()
        .flat_map(|m| m.attribute_values("zrtp-hash"));
    let session = sd
        .attributes
        .iter()
        .filter(|a| a.name.eq_ignore_ascii_case("zrtp-hash"))
        .filter_map(|a| a.value.as_deref());
    media.chain(session).find_map(parse_zrtp_hash)
}

/// The a=crypto values of the audio stream.
fn crypto_lines(sd: &SessionDescription) -> Vec<String> {
    audio(sd)
        .map(|m| m.attribute_values("crypto").map(str::to_string).collect())
        .unwrap_or_default()
}

/// Adds a=crypto lines to the audio stream.
fn add_crypto<'a>(sd: &mut SessionDescription, lines: impl Iterator<Item = &'a CryptoAttribute>) {
    let Some(m) = sd
        .media
        .iter_mut()
        .find(|m| m.kind.eq_ignore_ascii_case("audio") && m.port != 0)
    else {
        return;
    };
    m.attributes
        .retain(|a| !a.name.eq_ignore_ascii_case("crypto"));
    for line in lines {
        let text = line.to_string();
        let value = text.strip_prefix("a=crypto:").unwrap_or(&text).to_string();
        m.attributes.push(Attribute {
            name: "crypto".into(),
            value: Some(value),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hands out a fixed byte stream: two of them that agree on their first `n` bytes show
    /// whether anything after those bytes reaches the keys.
    struct Bytes(Vec<u8>, usize);

    impl RngCore for Bytes {
        fn next_u32(&mut self) -> u32 {
            let mut b = [0u8; 4];
            self.fill_bytes(&mut b);
            u32::from_le_bytes(b)
        }
        fn next_u64(&mut self) -> u64 {
            let mut b = [0u8; 8];
            self.fill_bytes(&mut b);
            u64::from_le_bytes(b)
        }
        fn fill_bytes(&mut self, dest: &mut [u8]) {
            for d in dest {
                *d = self.0.get(self.1).copied().unwrap_or(0);
                self.1 += 1;
            }
        }
        fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand::Error> {
            self.fill_bytes(dest);
            Ok(())
        }
    }

    fn crypto_offer(stream: Vec<u8>) -> String {
        let mut s = SdpSession::new(
            &mut Bytes(stream, 0),
            MediaConfig::default(),
            MediaEncryption::SrtpMandatory,
            true,
            None,
        );
        let offer = String::from_utf8(s.offer("127.0.0.1".parse().unwrap(), false)).unwrap();
        offer
            .lines()
            .filter(|l| l.starts_with("a=crypto"))
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn sdes_keys_depend_on_a_full_256_bit_seed() {
        // Bytes 0..8 are the session id; the key generator's seed follows. With a 64-bit seed
        // the last bytes would not matter and keys could be searched for.
        let a = vec![1u8; 40];
        let mut b = a.clone();
        b[39] = 2;
        let (ka, kb) = (crypto_offer(a), crypto_offer(b));
        assert!(ka.contains("inline:"), "{ka}");
        assert_ne!(ka, kb);
    }
}
