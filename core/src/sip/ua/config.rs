//! The static configuration of a user agent.

use std::time::Duration;

use super::media::MediaConfig;
use super::registration::Account;
use super::security::MediaEncryption;
use crate::sip::transaction::TimerConfig;
use crate::sip::Transport;
use crate::zrtp::session::ZrtpConfig;

/// Static configuration of a user agent.
#[derive(Debug, Clone)]
pub struct UaConfig {
    /// Sent as User-Agent / Server.
    pub user_agent: String,
    /// The registration account, if any. Without one the UA works peer to peer.
    pub account: Option<Account>,
    /// User part of our Contact/From when there is no account.
    pub local_user: String,
    pub timers: TimerConfig,
    pub media: MediaConfig,
    /// Keepalive interval on the registration flow (RFC 5626 §4.4.1); `None` disables it.
    pub keepalive: Option<Duration>,
    /// At most this many simultaneous calls; further INVITEs get 486.
    pub max_calls: usize,
    /// Transport for peer-to-peer requests whose URI names none (with an account, the
    /// account's server decides).
    pub transport: Transport,
    /// Media encryption policy.
    pub encryption: MediaEncryption,
    /// Allow SDES (keys in the SDP) over signalling that is not TLS; the call is then reported
    /// insecure.
    pub allow_insecure_sdes: bool,
    /// TLS server certificates are not verified (testing mode): TLS then proves nothing, and
    /// calls say so.
    pub tls_unverified: bool,
    /// Our ZRTP identity and preferences, for the `a=zrtp-hash` of calls that use ZRTP: it
    /// must be what the media path's endpoint is made from.
    pub zrtp: Option<ZrtpConfig>,
}

impl Default for UaConfig {
    fn default() -> UaConfig {
        UaConfig {
            user_agent: format!("Sipher/{}", env!("CARGO_PKG_VERSION")),
            account: None,
            local_user: "sipher".to_string(),
            timers: TimerConfig::default(),
            media: MediaConfig::default(),
            keepalive: Some(Duration::from_secs(30)),
            max_calls: 4,
            transport: Transport::Udp,
            encryption: MediaEncryption::None,
            allow_insecure_sdes: false,
            tls_unverified: false,
            zrtp: None,
        }
    }
}
