//! The records and enums of the Kotlin API, and their conversion from the engine's types.

use serde::{Deserialize, Serialize};

use crate::engine::account::{EncryptionName, TransportName};
use crate::engine::{AccountSettings, CodecLists, NetworkKind};
use crate::media::session::QualityFigures;
use crate::sip::ua::{self, RegState};
use crate::zrtp::session::{CacheState, SecureInfo};

/// How the phone starts (see [`default_phone_settings`]).
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct PhoneSettings {
    /// App-private directory for the ZRTP identity (ZID), the retained-secret cache and the
    /// accounts (`accounts.json`). Created if missing.
    pub data_dir: String,
    /// Local IP address to bind (`0.0.0.0` for every interface).
    pub bind_address: String,
    /// Local SIP port for peer-to-peer use (0 = any); an account's `local_port` wins.
    pub sip_port: u16,
    /// Transport of peer-to-peer calls (with an account, the account's).
    pub transport: TransportKind,
    /// Media encryption of peer-to-peer calls (with an account, the account's).
    pub media_encryption: MediaEncryption,
    /// The network the device is on now: it picks the account's codec list.
    pub network: NetworkType,
    /// The ZRTP SAS rendering the user prefers (the other stays offered).
    pub sas_rendering: SasRendering,
}

/// One SIP account as the user edits it (see [`default_account`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, uniffi::Record)]
pub struct AccountConfig {
    pub user: String,
    pub password: String,
    pub domain: String,
    pub auth_user: Option<String>,
    pub display_name: Option<String>,
    pub transport: TransportKind,
    /// Registrar port; default 5060 (5061 for TLS), or SRV when the domain is a name.
    pub port: Option<u16>,
    pub outbound_proxy: Option<String>,
    pub tls: TlsConfig,
    pub media_encryption: MediaEncryption,
    /// Allow SDES keys over signalling that is not TLS (the call is then reported insecure).
    pub allow_insecure_sdes: bool,
    pub codecs: CodecConfig,
    /// Registration lifetime asked for, in seconds.
    pub expires: u32,
    /// Local SIP port (None = any).
    pub local_port: Option<u16>,
    /// Only enabled accounts register; the first enabled one is the active account.
    pub enabled: bool,
}

/// TLS settings of an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, uniffi::Record)]
pub struct TlsConfig {
    /// A PEM file with an extra CA to trust (e.g. a self-hosted server's).
    pub ca_file: Option<String>,
    /// Insecure, for testing only: the server's certificate is not checked.
    pub accept_any_certificate: bool,
}

/// Codec lists (preference order, names `opus`, `pcmu`, `pcma`) and Opus bitrates per network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, uniffi::Record)]
pub struct CodecConfig {
    pub wifi: Vec<String>,
    pub mobile: Vec<String>,
    pub opus_bitrate_wifi: u32,
    pub opus_bitrate_mobile: u32,
}

/// A stored account.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Account {
    pub id: String,
    pub config: AccountConfig,
    /// The engine runs with this account now.
    pub active: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, uniffi::Enum)]
pub enum TransportKind {
    Udp,
    Tcp,
    Tls,
}

/// Media encryption policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, uniffi::Enum)]
pub enum MediaEncryption {
    None,
    /// SDES-SRTP or no call.
    Srtp,
    SrtpOptional,
    /// ZRTP or no call: keys agreed end to end, SAS compared by voice.
    Zrtp,
    ZrtpOptional,
}

/// How the ZRTP SAS is shown: four characters (B32) or two PGP words (B256).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum SasRendering {
    B32,
    B256,
}

impl From<SasRendering> for crate::zrtp::algorithms::SasType {
    fn from(s: SasRendering) -> Self {
        match s {
            SasRendering::B32 => crate::zrtp::algorithms::SasType::B32,
            SasRendering::B256 => crate::zrtp::algorithms::SasType::B256,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum NetworkType {
    Wifi,
    Mobile,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum LogLevel {
    Error,
    Warn,
    Info,
    Debug,
    Trace,
}

/// The active account's registration.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RegistrationInfo {
    /// The active account; None when no account is enabled (peer to peer only).
    pub account_id: Option<String>,
    pub state: RegistrationState,
    /// The registrar's last final status, if any.
    pub status: Option<u16>,
    pub reason: Option<String>,
    /// Seconds the registrar granted.
    pub expires: Option<u32>,
    /// Set when `state` is `FAILED`: what the user should fix.
    pub failure: Option<RegistrationFailure>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum RegistrationState {
    /// No account is active.
    NoAccount,
    Idle,
    Registering,
    Registered,
    Failed,
    Unregistering,
    Unregistered,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum RegistrationFailure {
    /// 401/403/407: the user name or password is wrong.
    WrongCredentials,
    /// The registrar refused for another reason (see `status`).
    Refused,
    /// No answer, no route, or the server's name did not resolve.
    Unreachable,
}

/// A call as the UI shows it.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct CallInfo {
    /// Unique for the lifetime of the `Phone` object.
    pub id: u64,
    /// The peer's URI (or name) as the signalling gave it.
    pub peer: String,
    pub incoming: bool,
    pub state: CallState,
    /// The final SIP status when the call failed or was refused.
    pub status: Option<u16>,
    pub reason: Option<String>,
    /// Who ended it, once ended.
    pub ended_by: Option<CallParty>,
    pub muted: bool,
    pub security: Option<SecurityInfo>,
    pub quality: Option<CallQuality>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum CallState {
    /// INVITE sent, nothing heard back yet.
    Calling,
    /// Ringing here, waiting to be answered.
    Incoming,
    /// The callee's phone rings.
    Ringing,
    Connected,
    /// We put the call on hold.
    Held,
    /// The peer put the call on hold.
    RemoteHold,
    Ended,
    Failed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum CallParty {
    Local,
    Remote,
}

/// How a call's media is protected.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SecurityInfo {
    pub mode: SecurityMode,
    /// What the call screen shows: "ZRTP - Verified", "ZRTP - Not verified", "SRTP",
    /// "Not encrypted".
    pub status: String,
    /// CSipSimple's badge, e.g. "AES-256/X255" (ZRTP) or the SRTP suite.
    pub badge: String,
    /// e.g. "AES-256" (ZRTP) or "AES_CM_128_HMAC_SHA1_80" (SDES).
    pub cipher: Option<String>,
    /// ZRTP key agreement, e.g. "X255", "DH3k".
    pub key_agreement: Option<String>,
    /// The short authentication string the users compare by voice (ZRTP).
    pub sas: Option<String>,
    /// The users confirmed the SAS (now or in an earlier call with this peer).
    pub verified: bool,
    /// The peer is a ZRTP PBX (trusted man in the middle): the protection ends there.
    pub pbx: bool,
    /// What the ZRTP retained-secret cache said about the peer.
    pub cache: Option<ZrtpCache>,
    /// Whether the first signalling hop is TLS.
    pub signalling_tls: bool,
    /// True when the call is not protected the way it looks, with the reason.
    pub insecure: bool,
    pub insecure_reason: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum SecurityMode {
    None,
    SrtpSdes,
    Zrtp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ZrtpCache {
    /// First call with this peer: compare the SAS.
    New,
    /// The peer holds the secret of earlier calls.
    Match,
    /// Secrets were cached for this peer and none matched: a man in the middle, or the peer
    /// lost its cache. Compare the SAS.
    Mismatch,
}

/// Call quality figures (sent every few seconds while media flows).
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct CallQuality {
    /// Estimated mean opinion score, 1.0..=4.5.
    pub mos: f32,
    /// Fraction lost in the last report interval, 0.0..=1.0.
    pub loss_fraction: f32,
    pub cumulative_lost: i64,
    pub jitter_ms: f32,
    pub rtt_ms: Option<f32>,
    pub packets_sent: u64,
    pub packets_received: u64,
}

/// What observers receive. On subscribing, an observer first gets the current state: one
/// `Registration` and one `Call` per call in progress.
#[derive(Debug, Clone, PartialEq, uniffi::Enum)]
pub enum PhoneEvent {
    Registration {
        info: RegistrationInfo,
    },
    /// A call appeared or its state, security, mute or quality changed.
    Call {
        info: CallInfo,
    },
    /// A DTMF digit arrived on a call.
    Dtmf {
        call: u64,
        digit: String,
    },
    /// A command was accepted but the engine could not carry it out.
    CommandFailed {
        command: String,
        message: String,
    },
    /// Something the user must know about the phone's security or health.
    Warning {
        message: String,
    },
    /// The engine stopped (restart, stop, or a fault when `error` is set).
    EngineStopped {
        error: Option<String>,
    },
}

/// Settings for peer-to-peer use with everything else at its default: bind all interfaces, any
/// port, UDP, ZRTP, Wi-Fi.
#[uniffi::export]
pub fn default_phone_settings(data_dir: String) -> PhoneSettings {
    PhoneSettings {
        data_dir,
        bind_address: "0.0.0.0".into(),
        sip_port: 0,
        transport: TransportKind::Udp,
        media_encryption: MediaEncryption::Zrtp,
        network: NetworkType::Wifi,
        sas_rendering: SasRendering::B32,
    }
}

/// An enabled account with the core's defaults: UDP, ZRTP, the default codec lists, 600 s.
#[uniffi::export]
pub fn default_account(user: String, password: String, domain: String) -> AccountConfig {
    let codecs = CodecLists::default();
    AccountConfig {
        user,
        password,
        domain,
        auth_user: None,
        display_name: None,
        transport: TransportKind::Udp,
        port: None,
        outbound_proxy: None,
        tls: TlsConfig {
            ca_file: None,
            accept_any_certificate: false,
        },
        media_encryption: MediaEncryption::Zrtp,
        allow_insecure_sdes: false,
        codecs: CodecConfig {
            wifi: codecs.wifi,
            mobile: codecs.mobile,
            opus_bitrate_wifi: codecs.opus_bitrate_wifi,
            opus_bitrate_mobile: codecs.opus_bitrate_mobile,
        },
        expires: 600,
        local_port: None,
        enabled: true,
    }
}

impl AccountConfig {
    /// The engine's settings, checked the way the engine's account file is checked.
    pub(super) fn to_settings(&self) -> Result<AccountSettings, super::PhoneError> {
        use super::PhoneError;
        let settings = AccountSettings {
            user: self.user.clone(),
            password: self.password.clone(),
            domain: self.domain.clone(),
            auth_user: self.auth_user.clone(),
            display_name: self.display_name.clone(),
            transport: match self.transport {
                TransportKind::Udp => TransportName::Udp,
                TransportKind::Tcp => TransportName::Tcp,
                TransportKind::Tls => TransportName::Tls,
            },
            port: self.port,
            outbound_proxy: self.outbound_proxy.clone(),
            ca_file: self.tls.ca_file.as_ref().map(Into::into),
            accept_any_certificate: self.tls.accept_any_certificate,
            expires: self.expires,
            local_port: self.local_port,
            codecs: CodecLists {
                wifi: self.codecs.wifi.clone(),
                mobile: self.codecs.mobile.clone(),
                opus_bitrate_wifi: self.codecs.opus_bitrate_wifi,
                opus_bitrate_mobile: self.codecs.opus_bitrate_mobile,
            },
            media_encryption: Some(self.media_encryption.into()),
            allow_insecure_sdes: self.allow_insecure_sdes,
        };
        settings
            .validate()
            .map_err(|e| PhoneError::invalid("account", e))?;
        settings
            .server_uri()
            .map_err(|e| PhoneError::invalid("outbound_proxy", e))?;
        Ok(settings)
    }
}

impl From<MediaEncryption> for EncryptionName {
    fn from(m: MediaEncryption) -> EncryptionName {
        match m {
            MediaEncryption::None => EncryptionName::None,
            MediaEncryption::Srtp => EncryptionName::Srtp,
            MediaEncryption::SrtpOptional => EncryptionName::SrtpOptional,
            MediaEncryption::Zrtp => EncryptionName::Zrtp,
            MediaEncryption::ZrtpOptional => EncryptionName::ZrtpOptional,
        }
    }
}

impl From<MediaEncryption> for ua::MediaEncryption {
    fn from(m: MediaEncryption) -> ua::MediaEncryption {
        EncryptionName::from(m).into()
    }
}

impl From<TransportKind> for crate::sip::Transport {
    fn from(t: TransportKind) -> crate::sip::Transport {
        match t {
            TransportKind::Udp => crate::sip::Transport::Udp,
            TransportKind::Tcp => crate::sip::Transport::Tcp,
            TransportKind::Tls => crate::sip::Transport::Tls,
        }
    }
}

impl From<NetworkType> for NetworkKind {
    fn from(n: NetworkType) -> NetworkKind {
        match n {
            NetworkType::Wifi => NetworkKind::Wifi,
            NetworkType::Mobile => NetworkKind::Mobile,
        }
    }
}

impl RegistrationInfo {
    pub(super) fn no_account() -> RegistrationInfo {
        RegistrationInfo {
            account_id: None,
            state: RegistrationState::NoAccount,
            status: None,
            reason: None,
            expires: None,
            failure: None,
        }
    }

    /// The registration as the engine reported it.
    pub(super) fn from_engine(
        account_id: Option<String>,
        state: RegState,
        status: Option<u16>,
        reason: Option<String>,
        expires: Option<u32>,
    ) -> RegistrationInfo {
        let state = match state {
            RegState::Idle => RegistrationState::Idle,
            RegState::Registering => RegistrationState::Registering,
            RegState::Registered => RegistrationState::Registered,
            RegState::Failed => RegistrationState::Failed,
            RegState::Unregistering => RegistrationState::Unregistering,
            RegState::Unregistered => RegistrationState::Unregistered,
        };
        let failure = (state == RegistrationState::Failed).then_some(match status {
            Some(401 | 403 | 407) => RegistrationFailure::WrongCredentials,
            Some(_) => RegistrationFailure::Refused,
            None => RegistrationFailure::Unreachable,
        });
        RegistrationInfo {
            account_id,
            state,
            status,
            reason,
            expires,
            failure,
        }
    }

    /// The typed error of a failed registration.
    pub(super) fn error(&self) -> Option<super::PhoneError> {
        let reason = self.reason.clone().unwrap_or_default();
        match self.failure? {
            RegistrationFailure::WrongCredentials => Some(super::PhoneError::WrongCredentials {
                status: self.status.unwrap_or_default(),
                reason,
            }),
            _ => Some(super::PhoneError::RegistrationFailed {
                status: self.status,
                reason,
            }),
        }
    }
}

impl From<ua::CallState> for CallState {
    fn from(s: ua::CallState) -> CallState {
        match s {
            ua::CallState::Calling => CallState::Calling,
            ua::CallState::Incoming => CallState::Incoming,
            ua::CallState::Ringing => CallState::Ringing,
            // "Resumed" is an event; the call is connected again.
            ua::CallState::Connected | ua::CallState::Resumed => CallState::Connected,
            ua::CallState::Held => CallState::Held,
            ua::CallState::RemoteHold => CallState::RemoteHold,
            ua::CallState::Ended => CallState::Ended,
            ua::CallState::Failed => CallState::Failed,
        }
    }
}

impl From<ua::Party> for CallParty {
    fn from(p: ua::Party) -> CallParty {
        match p {
            ua::Party::Local => CallParty::Local,
            ua::Party::Remote => CallParty::Remote,
        }
    }
}

impl From<&SecureInfo> for SecurityInfo {
    fn from(info: &SecureInfo) -> SecurityInfo {
        SecurityInfo {
            mode: SecurityMode::Zrtp,
            status: info.status().into(),
            badge: info.badge(),
            cipher: Some(info.cipher_name().into()),
            key_agreement: Some(info.key_agreement.id().to_string().trim().to_string()),
            sas: Some(info.sas.clone()),
            verified: info.verified,
            pbx: info.pbx_peer,
            cache: Some(match info.cache {
                CacheState::New => ZrtpCache::New,
                CacheState::Match => ZrtpCache::Match,
                CacheState::Mismatch => ZrtpCache::Mismatch,
            }),
            signalling_tls: false,
            insecure: false,
            insecure_reason: None,
        }
    }
}

impl From<&ua::SecurityInfo> for SecurityInfo {
    fn from(info: &ua::SecurityInfo) -> SecurityInfo {
        SecurityInfo {
            mode: if info.mode == "srtp-sdes" {
                SecurityMode::SrtpSdes
            } else {
                SecurityMode::None
            },
            status: info.badge.clone(),
            badge: info.suite.clone().unwrap_or_else(|| info.badge.clone()),
            cipher: info.suite.clone(),
            key_agreement: None,
            sas: None,
            verified: false,
            pbx: false,
            cache: None,
            signalling_tls: info.tls_first_hop,
            insecure: info.insecure,
            insecure_reason: info.reason.clone(),
        }
    }
}

impl From<&QualityFigures> for CallQuality {
    fn from(q: &QualityFigures) -> CallQuality {
        CallQuality {
            mos: q.report.mos,
            loss_fraction: q.report.loss_fraction,
            cumulative_lost: i64::from(q.report.cumulative_lost),
            jitter_ms: q.report.jitter_ms,
            rtt_ms: q.report.rtt_ms,
            packets_sent: q.packets_sent,
            packets_received: q.packets_received,
        }
    }
}
