//! TLS: certificate verification against the webpki roots, an extra CA file and accept-any,
//! and SIP messages over a verified flow.

mod transport_support;

use std::path::PathBuf;

use sipher::engine::{TlsSettings, TransportConfig, TransportEvent, Transports};
use sipher::sip::{Target, Transport};
use tokio::sync::mpsc::Receiver;
use transport_support::*;

/// A server with a certificate for "localhost" read from files in a fresh temp dir.
async fn tls_server(dir: &std::path::Path) -> (Transports, Receiver<TransportEvent>, PathBuf) {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let cert_file = dir.join("cert.pem");
    let key_file = dir.join("key.pem");
    std::fs::write(&cert_file, certified.cert.pem()).unwrap();
    std::fs::write(&key_file, certified.key_pair.serialize_pem()).unwrap();
    let mut cfg = config();
    cfg.tls_port = Some(0);
    cfg.tls = TlsSettings {
        cert_file: Some(cert_file.clone()),
        key_file: Some(key_file),
        ..TlsSettings::default()
    };
    let (server, events) = Transports::bind(cfg).await.unwrap();
    (server, events, cert_file)
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sipher-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn client_config(tls: TlsSettings) -> TransportConfig {
    TransportConfig { tls, ..config() }
}

fn tls_target(server: &Transports) -> Target {
    Target {
        transport: Transport::Tls,
        addr: server.local_addr(Transport::Tls).unwrap(),
    }
}

#[tokio::test]
async fn self_signed_server_is_rejected_with_webpki_roots_only() {
    let dir = temp_dir("tls-roots");
    let (server, mut server_events, _) = tls_server(&dir).await;
    let settings = TlsSettings {
        server_name: Some("localhost".into()),
        ..TlsSettings::default()
    };
    let (client, mut client_events) = Transports::bind(client_config(settings)).await.unwrap();
    assert!(!client.is_insecure());

    client.send(tls_target(&server), sip_message("hello"));
    match next_event(&mut client_events).await {
        TransportEvent::SendFailed { reason, .. } => {
            assert!(reason.contains("TLS handshake failed"), "{reason}");
        }
        other => panic!("expected SendFailed, got {other:?}"),
    }
    no_event(&mut server_events, std::time::Duration::from_millis(200)).await;
}

#[tokio::test]
async fn ca_file_makes_the_server_trusted_and_messages_flow_both_ways() {
    let dir = temp_dir("tls-ca");
    let (server, mut server_events, cert_file) = tls_server(&dir).await;
    let settings = TlsSettings {
        ca_file: Some(cert_file),
        server_name: Some("localhost".into()),
        ..TlsSettings::default()
    };
    let (client, mut client_events) = Transports::bind(client_config(settings)).await.unwrap();

    let request = sip_message("over tls");
    client.send(tls_target(&server), request.clone());
    let TransportEvent::Received { source, data, .. } = next_event(&mut server_events).await else {
        panic!("expected Received");
    };
    assert_eq!(source.transport, Transport::Tls);
    assert_eq!(data, request);

    let response = sip_message("tls response");
    server.send(source, response.clone());
    match next_event(&mut client_events).await {
        TransportEvent::Received { source, data, .. } => {
            assert_eq!(source, tls_target(&server));
            assert_eq!(data, response);
        }
        other => panic!("expected Received, got {other:?}"),
    }
}

#[tokio::test]
async fn wrong_server_name_is_rejected_even_with_the_ca_file() {
    let dir = temp_dir("tls-name");
    let (server, _server_events, cert_file) = tls_server(&dir).await;
    let settings = TlsSettings {
        ca_file: Some(cert_file),
        server_name: Some("sip.example.org".into()),
        ..TlsSettings::default()
    };
    let (client, mut client_events) = Transports::bind(client_config(settings)).await.unwrap();
    client.send(tls_target(&server), sip_message("hello"));
    assert!(matches!(
        next_event(&mut client_events).await,
        TransportEvent::SendFailed { .. }
    ));
}

#[tokio::test]
async fn accept_any_certificate_connects_to_a_generated_self_signed_listener() {
    let mut server_cfg = config();
    server_cfg.tls_port = Some(0);
    let (server, mut server_events) = Transports::bind(server_cfg).await.unwrap();
    let pem = server
        .tls_certificate_pem()
        .expect("self-signed certificate");
    assert!(pem.contains("BEGIN CERTIFICATE"));

    let settings = TlsSettings {
        accept_any_certificate: true,
        ..TlsSettings::default()
    };
    let (client, _client_events) = Transports::bind(client_config(settings)).await.unwrap();
    assert!(client.is_insecure());
    let request = sip_message("insecure but encrypted");
    client.send(tls_target(&server), request.clone());
    match next_event(&mut server_events).await {
        TransportEvent::Received { data, .. } => assert_eq!(data, request),
        other => panic!("expected Received, got {other:?}"),
    }
}
