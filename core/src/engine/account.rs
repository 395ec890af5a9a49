//! Account settings as users write them (a TOML file), and their resolution into what the
//! sans-IO user agent needs.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::dns::{resolve, DnsError};
use crate::sip::ua::Account;
use crate::sip::{Host, Transport, Uri};

/// One account, as in the account file.
///
/// ```toml
/// user = "1000"
/// password = "pw1000"
/// domain = "sip.example.org"
/// transport = "tls"          # udp | tcp | tls
/// port = 5061                # optional
/// outbound_proxy = "sip:proxy.example.org:5061;transport=tls"   # optional
/// ca_file = "/path/ca.pem"   # optional extra CA
/// accept_any_certificate = false   # insecure, for testing only
/// expires = 600
/// ```
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct AccountSettings {
    pub user: String,
    pub password: String,
    pub domain: String,
    #[serde(default)]
    pub auth_user: Option<String>,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default = "default_transport")]
    pub transport: TransportName,
    /// Registrar/proxy port; default 5060 (5061 for TLS), or SRV when the domain is a name.
    #[serde(default)]
    pub port: Option<u16>,
    #[serde(default)]
    pub outbound_proxy: Option<String>,
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    #[serde(default)]
    pub accept_any_certificate: bool,
    #[serde(default = "default_expires")]
    pub expires: u32,
    /// Local SIP port (0 = any).
    #[serde(default)]
    pub local_port: Option<u16>,
    /// Codecs in preference order on Wi-Fi and on mobile data (CSipSimple keeps one list per
    /// network type): names `opus`, `pcmu`, `pcma`.
    #[serde(default)]
    pub codecs: CodecLists,
    /// `none`, `srtp` (mandatory) or `srtp-optional`.
    #[serde(default)]
    pub media_encryption: Option<EncryptionName>,
    /// Allow SDES keys over signalling that is not TLS (the call is then reported insecure).
    #[serde(default)]
    pub allow_insecure_sdes: bool,
}

/// A media encryption policy as users write it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum EncryptionName {
    #[serde(rename = "none")]
    None,
    #[serde(rename = "srtp")]
    Srtp,
    #[serde(rename = "srtp-optional")]
    SrtpOptional,
    #[serde(rename = "zrtp")]
    Zrtp,
    #[serde(rename = "zrtp-optional")]
    ZrtpOptional,
}

impl From<EncryptionName> for crate::sip::ua::MediaEncryption {
    fn from(e: EncryptionName) -> Self {
        use crate::sip::ua::MediaEncryption as M;
        match e {
            EncryptionName::None => M::None,
            EncryptionName::Srtp => M::SrtpMandatory,
            EncryptionName::SrtpOptional => M::SrtpOptional,
            EncryptionName::Zrtp => M::Zrtp,
            EncryptionName::ZrtpOptional => M::ZrtpOptional,
        }
    }
}

/// The network the phone is on now: it chooses the codec list and the Opus bitrate.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NetworkKind {
    #[default]
    Wifi,
    Mobile,
}

/// Per-network codec lists and Opus bitrates.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CodecLists {
    pub wifi: Vec<String>,
    pub mobile: Vec<String>,
    pub opus_bitrate_wifi: u32,
    pub opus_bitrate_mobile: u32,
}

impl Default for CodecLists {
    /// Wideband Opus first everywhere; on mobile data a lower Opus rate (3G uplinks are
    /// narrow) and PCMU as the fallback.
    fn default() -> CodecLists {
        CodecLists {
            wifi: vec!["opus".into(), "pcmu".into(), "pcma".into()],
            mobile: vec!["opus".into(), "pcmu".into()],
            opus_bitrate_wifi: 32_000,
            opus_bitrate_mobile: 20_000,
        }
    }
}

impl CodecLists {
    /// The SDP codecs (in order) and the Opus bitrate for a network. Unknown names are an error
    /// so that a typo does not silently drop a codec.
    pub fn for_network(
        &self,
        network: NetworkKind,
    ) -> Result<(Vec<crate::sdp::Codec>, u32), AccountError> {
        let (names, bitrate) = match network {
            NetworkKind::Wifi => (&self.wifi, self.opus_bitrate_wifi),
            NetworkKind::Mobile => (&self.mobile, self.opus_bitrate_mobile),
        };
        let mut codecs = Vec::new();
        for name in names {
            let codec = match name.to_ascii_lowercase().as_str() {
                "opus" => crate::sdp::PayloadType::new(96).map(crate::sdp::Codec::opus),
                "pcmu" => Some(crate::sdp::Codec::pcmu()),
                "pcma" => Some(crate::sdp::Codec::pcma()),
                _ => None,
            };
            codecs.push(codec.ok_or_else(|| {
                AccountError::Invalid(format!("unknown codec {name:?} (known: opus, pcmu, pcma)"))
            })?);
        }
        if codecs.is_empty() {
            return Err(AccountError::Invalid("a codec list is empty".into()));
        }
        if !(6_000..=510_000).contains(&bitrate) {
            return Err(AccountError::Invalid(format!(
                "Opus bitrate {bitrate} out of 6000..510000"
            )));
        }
        Ok((codecs, bitrate))
    }
}

/// A transport name as users write it.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum TransportName {
    Udp,
    Tcp,
    Tls,
}

impl From<TransportName> for Transport {
    fn from(t: TransportName) -> Transport {
        match t {
            TransportName::Udp => Transport::Udp,
            TransportName::Tcp => Transport::Tcp,
            TransportName::Tls => Transport::Tls,
        }
    }
}

fn default_transport() -> TransportName {
    TransportName::Udp
}
fn default_expires() -> u32 {
    600
}

/// Why an account cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AccountError {
    #[error("cannot read account file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("account file {path}: {message}")]
    Syntax { path: PathBuf, message: String },
    #[error("account: {0}")]
    Invalid(String),
    #[error("cannot resolve the server {host}: {source}")]
    Dns { host: String, source: DnsError },
    #[error("the server {0} has no address")]
    NoAddress(String),
}

impl AccountSettings {
    pub fn load(path: &Path) -> Result<AccountSettings, AccountError> {
        let text = std::fs::read_to_string(path).map_err(|source| AccountError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let settings: AccountSettings =
            toml::from_str(&text).map_err(|e| AccountError::Syntax {
                path: path.to_path_buf(),
                message: e.to_string(),
            })?;
        settings.validate()?;
        Ok(settings)
    }

    /// The checks a loaded account file passes: user and domain, expiry, outbound proxy,
    /// codec lists. For settings built in code (the app's FFI), before they are used.
    pub fn validate(&self) -> Result<(), AccountError> {
        if self.user.is_empty() || self.user.chars().any(|c| c.is_control() || c == '@') {
            return Err(AccountError::Invalid(
                "user must be a plain user name".into(),
            ));
        }
        if self.domain.is_empty() || self.domain.chars().any(|c| c.is_whitespace() || c == '@') {
            return Err(AccountError::Invalid(
                "domain must be a host name or address".into(),
            ));
        }
        if self.expires == 0 {
            return Err(AccountError::Invalid(
                "expires must be at least 1 second".into(),
            ));
        }
        if let Some(p) = &self.outbound_proxy {
            Uri::parse(p).map_err(|e| AccountError::Invalid(format!("outbound_proxy: {e}")))?;
        }
        self.codecs.for_network(NetworkKind::Wifi)?;
        self.codecs.for_network(NetworkKind::Mobile)?;
        Ok(())
    }

    pub fn transport(&self) -> Transport {
        self.transport.into()
    }

    /// The URI requests are sent to first: the outbound proxy, else the domain.
    pub fn server_uri(&self) -> Result<Uri, AccountError> {
        if let Some(p) = &self.outbound_proxy {
            return Uri::parse(p)
                .map_err(|e| AccountError::Invalid(format!("outbound_proxy: {e}")));
        }
        let host = match self.domain.parse::<std::net::IpAddr>() {
            Ok(ip) => Host::from(ip),
            Err(_) => Host::Domain(self.domain.to_ascii_lowercase()),
        };
        let mut uri = Uri::new(crate::sip::Scheme::Sip, None, host, self.port);
        if self.transport() != Transport::Udp {
            uri.params.set(
                "transport",
                Some(self.transport().as_str().to_ascii_lowercase()),
            );
        }
        Ok(uri)
    }

    /// Resolves the server (RFC 3263) and builds the UA's account.
    pub async fn resolve(&self) -> Result<Account, AccountError> {
        let server_uri = self.server_uri()?;
        let transport = server_uri.transport_param().unwrap_or(self.transport());
        let targets = resolve(&server_uri.host, server_uri.port, transport)
            .await
            .map_err(|source| AccountError::Dns {
                host: server_uri.host.to_string(),
                source,
            })?;
        let server = *targets
            .first()
            .ok_or_else(|| AccountError::NoAddress(server_uri.host.to_string()))?;
        Ok(Account {
            user: self.user.clone(),
            auth_user: self.auth_user.clone(),
            password: self.password.clone(),
            domain: self.domain.clone(),
            display_name: self.display_name.clone(),
            server,
            outbound_proxy: self.outbound_proxy.as_ref().map(|_| server_uri),
            expires: self.expires,
        })
    }

    /// The host name TLS must verify: the proxy's or the domain's, when it is a name.
    pub fn tls_server_name(&self) -> Option<String> {
        match self.server_uri().ok()?.host {
            Host::Domain(d) => Some(d),
            _ => None,
        }
    }
}
