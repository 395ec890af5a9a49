//! The engine: the only layer with IO. It drives the sans-IO protocol machines with sockets,
//! timers and DNS on a tokio runtime.
//!
//! - [`transport`]: UDP, TCP and TLS sockets, stream flows and keepalives.
//! - [`dns`]: RFC 3263 server location (SRV, A/AAAA).
//! - [`tls`]: TLS settings and rustls configuration (ring provider only).

#![allow(clippy::disallowed_methods)] // the engine is the one layer that reads the clock

pub mod account;
pub mod dns;
mod flow;
pub mod media;
pub mod phone;
pub mod tls;
pub mod transport;
pub mod zid_store;

pub use account::{AccountError, AccountSettings, CodecLists, NetworkKind};
pub use dns::{resolve, DnsError, DnsResolver};
pub use phone::{Command, Phone, PhoneConfig, PhoneError, PhoneEvent};
pub use tls::{TlsError, TlsSettings};
pub use transport::{TransportConfig, TransportError, TransportEvent, Transports};
pub use zid_store::{ZidStore, ZidStoreError};
