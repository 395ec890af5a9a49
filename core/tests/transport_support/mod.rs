//! Helpers shared by the transport tests (loopback only, every wait bounded).
#![allow(dead_code)]

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use sipher::engine::{TlsSettings, TransportConfig, TransportEvent};
use tokio::sync::mpsc;
use tokio::time::timeout;

pub const WAIT: Duration = Duration::from_secs(5);

/// Loopback, any ports, UDP and TCP listeners, no TLS listener.
pub fn config() -> TransportConfig {
    TransportConfig {
        bind_ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
        udp_port: Some(0),
        tcp_port: Some(0),
        tls_port: None,
        tls: TlsSettings::default(),
        keepalive_interval: Duration::from_secs(30),
    }
}

/// A small SIP request with a body, as one would send it.
pub fn sip_message(body: &str) -> Vec<u8> {
    format!(
        "MESSAGE sip:bob@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1;branch=z9hG4bK{}\r\n\
         Call-ID: c1\r\nCSeq: 1 MESSAGE\r\nContent-Length: {}\r\n\r\n{body}",
        body.len(),
        body.len()
    )
    .into_bytes()
}

pub async fn next_event(rx: &mut mpsc::Receiver<TransportEvent>) -> TransportEvent {
    timeout(WAIT, rx.recv())
        .await
        .expect("a transport event within 5 s")
        .expect("event channel open")
}

/// Asserts that no event arrives for `quiet`.
pub async fn no_event(rx: &mut mpsc::Receiver<TransportEvent>, quiet: Duration) {
    if let Ok(event) = timeout(quiet, rx.recv()).await {
        panic!("unexpected event {event:?}");
    }
}

pub fn loopback(port: u16) -> SocketAddr {
    SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port)
}
