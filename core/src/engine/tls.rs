//! TLS settings and rustls configuration for SIP over TLS (RFC 3261 §26.2, RFC 5630).
//!
//! Only the `ring` crypto provider is used, so the core builds for Android without aws-lc.
//! TLS 1.2 and 1.3 are offered. Outbound connections verify the server against the webpki roots
//! plus an optional extra CA file; the listener presents a certificate from files or, without
//! them, a freshly generated self-signed one.

use std::fs::File;
use std::io::{self, BufReader};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, ServerConfig, SignatureScheme};

/// TLS options of a [`super::transport::TransportConfig`].
#[derive(Debug, Clone, Default)]
pub struct TlsSettings {
    /// Extra CA certificates (PEM) trusted in addition to the webpki roots.
    pub ca_file: Option<PathBuf>,
    /// Accept any server certificate without checking its chain or name. **Insecure**: anyone
    /// on the path can read and change the signalling (including SDES keys). For testing only;
    /// the UI must show it, see [`TlsSettings::is_insecure`].
    pub accept_any_certificate: bool,
    /// Name to verify in the server certificate of outbound connections; without it the IP
    /// address of the connection is verified (which few public certificates carry).
    pub server_name: Option<String>,
    /// Certificate chain (PEM) of the TLS listener; without it a self-signed one is generated.
    pub cert_file: Option<PathBuf>,
    /// Private key (PEM, PKCS#8, PKCS#1 or SEC1) matching `cert_file`.
    pub key_file: Option<PathBuf>,
}

impl TlsSettings {
    /// True when server certificates are not verified, so the TLS connection protects against
    /// passive eavesdroppers only.
    pub fn is_insecure(&self) -> bool {
        self.accept_any_certificate
    }
}

/// Why TLS could not be configured.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    #[error("cannot read {path}: {source}")]
    ReadFile {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("no certificate found in {0}")]
    NoCertificate(PathBuf),
    #[error("no private key found in {0}")]
    NoPrivateKey(PathBuf),
    #[error("cert_file and key_file must be given together")]
    IncompleteServerIdentity,
    #[error("invalid TLS server name {0:?}")]
    InvalidServerName(String),
    #[error("cannot generate a self-signed certificate: {0}")]
    SelfSigned(#[from] rcgen::Error),
    #[error("TLS configuration rejected: {0}")]
    Rustls(#[from] rustls::Error),
}

/// The rustls client configuration for outbound TLS flows.
pub(crate) fn client_config(settings: &TlsSettings) -> Result<Arc<ClientConfig>, TlsError> {
    let provider = provider();
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(rustls::ALL_VERSIONS)?;
    let config = if settings.accept_any_certificate {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate(provider)))
            .with_no_client_auth()
    } else {
        let mut roots = RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        if let Some(path) = &settings.ca_file {
            for cert in read_certs(path)? {
                roots.add(cert)?;
            }
        }
        builder.with_root_certificates(roots).with_no_client_auth()
    };
    Ok(Arc::new(config))
}

/// The configured name to verify in server certificates, checked once at startup.
pub(crate) fn configured_server_name(
    settings: &TlsSettings,
) -> Result<Option<ServerName<'static>>, TlsError> {
    settings
        .server_name
        .as_ref()
        .map(|name| {
            ServerName::try_from(name.clone())
                .map_err(|_| TlsError::InvalidServerName(name.clone()))
        })
        .transpose()
}

/// The listener's configuration and its certificate (PEM), from files or self-signed for
/// `localhost` and `bind_ip`.
pub(crate) fn server_config(
    settings: &TlsSettings,
    bind_ip: IpAddr,
) -> Result<(Arc<ServerConfig>, String), TlsError> {
    let (certs, key, pem) = match (&settings.cert_file, &settings.key_file) {
        (Some(cert_path), Some(key_path)) => {
            let certs = read_certs(cert_path)?;
            let key = read_key(key_path)?;
            let pem = std::fs::read_to_string(cert_path).map_err(|source| TlsError::ReadFile {
                path: cert_path.clone(),
                source,
            })?;
            (certs, key, pem)
        }
        (None, None) => self_signed(bind_ip)?,
        _ => return Err(TlsError::IncompleteServerIdentity),
    };
    let config = ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(rustls::ALL_VERSIONS)?
        .with_no_client_auth()
        .with_single_cert(certs, key)?;
    Ok((Arc::new(config), pem))
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn self_signed(
    bind_ip: IpAddr,
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>, String), TlsError> {
    let mut names = vec!["localhost".to_owned()];
    if !bind_ip.is_unspecified() {
        names.push(bind_ip.to_string());
    }
    let certified = rcgen::generate_simple_self_signed(names)?;
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(certified.key_pair.serialize_der()));
    Ok((
        vec![certified.cert.der().clone()],
        key,
        certified.cert.pem(),
    ))
}

fn open(path: &Path) -> Result<BufReader<File>, TlsError> {
    File::open(path)
        .map(BufReader::new)
        .map_err(|source| TlsError::ReadFile {
            path: path.to_owned(),
            source,
        })
}

fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs = rustls_pemfile::certs(&mut open(path)?)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|source| TlsError::ReadFile {
            path: path.to_owned(),
            source,
        })?;
    if certs.is_empty() {
        return Err(TlsError::NoCertificate(path.to_owned()));
    }
    Ok(certs)
}

fn read_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    rustls_pemfile::private_key(&mut open(path)?)
        .map_err(|source| TlsError::ReadFile {
            path: path.to_owned(),
            source,
        })?
        .ok_or_else(|| TlsError::NoPrivateKey(path.to_owned()))
}

/// Accepts every certificate chain and name (see [`TlsSettings::accept_any_certificate`]).
/// Handshake signatures are still checked, which proves only that the peer holds the key of
/// the certificate it sent, not who it is.
#[derive(Debug)]
struct AcceptAnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    #[test]
    fn half_a_server_identity_is_rejected() {
        let settings = TlsSettings {
            cert_file: Some("/nonexistent.pem".into()),
            ..Default::default()
        };
        let err = server_config(&settings, IpAddr::V4(Ipv4Addr::LOCALHOST)).unwrap_err();
        assert!(matches!(err, TlsError::IncompleteServerIdentity), "{err}");
    }

    #[test]
    fn missing_ca_file_is_a_typed_error() {
        let settings = TlsSettings {
            ca_file: Some("/nonexistent/ca.pem".into()),
            ..Default::default()
        };
        let err = client_config(&settings).unwrap_err();
        assert!(matches!(err, TlsError::ReadFile { .. }), "{err}");
    }

    #[test]
    fn server_name_is_validated() {
        assert_eq!(
            configured_server_name(&TlsSettings::default()).unwrap(),
            None
        );
        let good = TlsSettings {
            server_name: Some("sip.example.org".into()),
            ..Default::default()
        };
        assert!(configured_server_name(&good).unwrap().is_some());
        let bad = TlsSettings {
            server_name: Some("not a name!".into()),
            ..Default::default()
        };
        assert!(matches!(
            configured_server_name(&bad),
            Err(TlsError::InvalidServerName(_))
        ));
    }
}
