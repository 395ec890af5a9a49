//! Small helpers of the user agent: identifiers, addressing, header edits.

use std::net::SocketAddr;

use rand::RngCore;

use crate::sip::message::{HeaderName, NameAddr, Response, Target, Transport};
use crate::sip::uri::{Scheme, Uri};

/// A random token of `len` characters from an alphabet safe in tags, branches and Call-IDs.
pub(super) fn random_token(rng: &mut impl RngCore, len: usize) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    (0..len)
        .map(|_| ALPHABET[(rng.next_u32() as usize) % ALPHABET.len()] as char)
        .collect()
}

/// Adds `;tag=` to the To header of a response if it has none.
pub(super) fn add_to_tag(resp: &mut Response, tag: &str) {
    if let Some(to) = resp.headers.get(&HeaderName::To) {
        if let Ok(mut na) = NameAddr::parse(to) {
            if na.tag().is_none() {
                na.params.set("tag", Some(tag.to_string()));
                resp.headers.set(HeaderName::To, na.to_string());
            }
        }
    }
}

/// The address a URI names directly, if its host is an IP literal (no DNS in the sans-IO
/// layer). The transport comes from `transport=`, `sips:`, or the default.
pub(super) fn uri_target(uri: &Uri, default: Transport) -> Option<Target> {
    let ip = uri.host.ip()?;
    let transport = uri
        .transport_param()
        .unwrap_or(if uri.scheme == Scheme::Sips {
            Transport::Tls
        } else {
            default
        });
    let port = uri.port.unwrap_or(transport.default_port());
    Some(Target {
        transport,
        addr: SocketAddr::new(ip, port),
    })
}
