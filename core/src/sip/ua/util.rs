//! Small helpers of the user agent: identifiers, addressing, header edits.

use std::net::SocketAddr;

use rand::RngCore;

use crate::sip::message::{HeaderName, NameAddr, Response, StatusCode, Target, Transport};
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

/// Builds a response to a request the parser rejected before it could read it whole (a bad
/// request line, a broken header block): takes Via, From, To, Call-ID and CSeq as raw text,
/// tolerating bare LF line ends, and gives up unless all five are there. Never answers an ACK
/// or a response. Control characters are dropped from what is echoed back.
pub(super) fn salvage_response(data: &[u8], status: StatusCode) -> Option<Response> {
    const MAX_VALUE: usize = 1024;
    const MAX_VIAS: usize = 16;
    let text = String::from_utf8_lossy(&data[..data.len().min(16 * 1024)]);
    let text = text.trim_start_matches(['\r', '\n']);
    let head = text.split("\r\n\r\n").next()?.split("\n\n").next()?;
    let mut lines = head.split('\n').map(|l| l.trim_end_matches('\r'));
    let start = lines.next()?;
    let method = start.split_whitespace().next()?;
    if method.starts_with("SIP/") || method.eq_ignore_ascii_case("ACK") {
        return None;
    }
    // Unfold continuation lines (RFC 3261 §7.3.1).
    let mut fields: Vec<String> = Vec::new();
    for line in lines {
        if line.starts_with([' ', '\t']) {
            if let Some(last) = fields.last_mut() {
                last.push(' ');
                last.push_str(line.trim());
            }
        } else {
            fields.push(line.to_string());
        }
    }
    let mut resp = Response::new(status);
    let (mut vias, mut seen) = (0, [false; 4]);
    for field in &fields {
        let Some((name, value)) = field.split_once(':') else {
            continue;
        };
        let name = HeaderName::from_wire(name.trim());
        let value: String = value
            .trim()
            .chars()
            .filter(|c| !c.is_control())
            .take(MAX_VALUE)
            .collect();
        let slot = match name {
            HeaderName::Via if vias < MAX_VIAS => {
                vias += 1;
                None
            }
            HeaderName::From => Some(0),
            HeaderName::To => Some(1),
            HeaderName::CallId => Some(2),
            HeaderName::CSeq => Some(3),
            _ => continue,
        };
        if let Some(i) = slot {
            if seen[i] {
                continue;
            }
            seen[i] = true;
        }
        if value.is_empty() {
            return None;
        }
        resp.headers.push(name, value);
    }
    (vias > 0 && seen.iter().all(|s| *s)).then_some(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BROKEN: &[u8] = b"INVITE sip:bad user@example.com SIP/2.0\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKx\nFrom: <sip:a@example.com>;tag=1\nTo: <sip:b@example.com>\nCall-ID: abc\nCSeq: 1 INVITE\nMax-Forwards: 70\n\n";

    #[test]
    fn broken_request_line_still_gets_its_400_with_the_dialog_headers() {
        let resp = salvage_response(BROKEN, StatusCode::BAD_REQUEST).expect("answerable");
        let text = String::from_utf8(resp.to_bytes()).unwrap();
        assert!(text.starts_with("SIP/2.0 400 "), "{text}");
        for h in [
            "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKx",
            "Call-ID: abc",
            "CSeq: 1 INVITE",
        ] {
            assert!(text.contains(h), "{h} missing in {text}");
        }
    }

    #[test]
    fn acks_responses_and_requests_without_via_are_not_answered() {
        let ack = String::from_utf8_lossy(BROKEN).replacen("INVITE sip", "ACK sip", 1);
        assert!(salvage_response(ack.as_bytes(), StatusCode::BAD_REQUEST).is_none());
        let resp = b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h\r\nFrom: a\r\nTo: b\r\nCall-ID: c\r\nCSeq: 1 X\r\n\r\n";
        assert!(salvage_response(resp, StatusCode::BAD_REQUEST).is_none());
        let no_via = String::from_utf8_lossy(BROKEN).replace("Via:", "X-Via:");
        assert!(salvage_response(no_via.as_bytes(), StatusCode::BAD_REQUEST).is_none());
    }
}
