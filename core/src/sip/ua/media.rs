//! The offer/answer state of one call: our SDP session (o= id and version), the last offer we
//! made, and the negotiated result. A thin layer over [`crate::sdp`].

use std::net::{IpAddr, SocketAddr};

use rand::RngCore;

use crate::sdp::{
    create_answer, create_offer, process_answer, reoffer, Direction, SdpError, SessionDescription,
};

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
}

impl SdpSession {
    pub(super) fn new(rng: &mut impl RngCore, config: MediaConfig) -> SdpSession {
        // NTP-style ids: any value that fits in 63 bits keeps naive parsers happy.
        let session_id = rng.next_u64() >> 1;
        SdpSession {
            config,
            session_id,
            version: 0,
            local: None,
            pending_offer: None,
        }
    }

    /// Whether an offer is readable and shares a codec with us.
    pub(super) fn check_offer(&self, offer: &[u8]) -> Result<(), String> {
        let offer = SessionDescription::parse(offer).map_err(|e| e.to_string())?;
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
                let config = self.config_for(local_ip, hold);
                create_offer(&config, self.session_id, self.version, local_ip)
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
        let config = self.config_for(local_ip, hold);
        self.version += 1;
        match create_answer(&offer, &config, self.session_id, self.version, local_ip) {
            Ok((sd, negotiated)) => {
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
        process_answer(&offer, &answer).map_err(|e| e.to_string())
    }

    fn config_for(&self, local_ip: IpAddr, hold: bool) -> MediaConfig {
        let mut config = self.config.clone();
        config.rtp_address = SocketAddr::new(local_ip, config.rtp_address.port());
        if hold {
            config.direction = Direction::SendOnly;
        }
        config
    }
}
