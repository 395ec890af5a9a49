//! Parsers for single header values and URIs: `Uri`, `Via`, `NameAddr`, `CSeq`, header
//! parameters and hosts (RFC 3261 §19.1, §20, §25; RFC 5118 for IPv6 references).
//!
//! Every function works on `&str` but only ever slices at the byte index of an ASCII delimiter
//! it found itself, so a slice can never fall inside a multi-byte character.

use std::net::{Ipv4Addr, Ipv6Addr};

use crate::sip::message::{CSeq, HeaderError, Method, NameAddr, Params, Transport, Via};
use crate::sip::uri::{Host, Scheme, Uri};

impl Uri {
    /// Parses a `sip:` or `sips:` URI. The user and password are unescaped; parameters and
    /// `?headers` are kept as sent. Any other scheme is an error whose reason starts with
    /// "unsupported scheme".
    pub fn parse(s: &str) -> Result<Uri, HeaderError> {
        let bad = |reason: String| malformed("URI", reason);
        let colon = s.find(':').ok_or_else(|| bad("no scheme".into()))?;
        let (scheme, rest) = (&s[..colon], &s[colon + 1..]);
        let scheme = if scheme.eq_ignore_ascii_case("sip") {
            Scheme::Sip
        } else if scheme.eq_ignore_ascii_case("sips") {
            Scheme::Sips
        } else {
            return Err(bad(format!("unsupported scheme {scheme}")));
        };

        // `@` may not appear unescaped in userinfo, parameters or headers, so the first one
        // ends the userinfo. The user part may itself contain `;` and `?`.
        let (user, password, rest) = match rest.find('@') {
            Some(at) => {
                let userinfo = &rest[..at];
                let (user, password) = match userinfo.find(':') {
                    Some(c) => (&userinfo[..c], Some(&userinfo[c + 1..])),
                    None => (userinfo, None),
                };
                if user.is_empty() {
                    return Err(bad("empty user".into()));
                }
                let user = unescape(user, is_user_char).map_err(|e| bad(format!("user: {e}")))?;
                let password = password
                    .map(|p| unescape(p, is_password_char))
                    .transpose()
                    .map_err(|e| bad(format!("password: {e}")))?;
                (Some(user), password, &rest[at + 1..])
            }
            None => (None, None, rest),
        };

        let (rest, headers) = match rest.find('?') {
            Some(q) => (&rest[..q], Some(&rest[q + 1..])),
            None => (rest, None),
        };
        let (hostport, params) = match rest.find(';') {
            Some(semi) => (&rest[..semi], Some(&rest[semi + 1..])),
            None => (rest, None),
        };
        let (host, port) = parse_hostport(hostport).map_err(bad)?;
        let host = parse_host(host).map_err(bad)?;

        let mut uri_params = Params::default();
        for p in params.into_iter().flat_map(|p| p.split(';')) {
            let (name, value) = match p.find('=') {
                Some(eq) => (&p[..eq], Some(&p[eq + 1..])),
                None => (p, None),
            };
            if name.is_empty() {
                return Err(bad("empty parameter name".into()));
            }
            check_escaped(name, is_param_char).map_err(|e| bad(format!("parameter: {e}")))?;
            if let Some(v) = value {
                check_escaped(v, is_param_char).map_err(|e| bad(format!("parameter: {e}")))?;
            }
            uri_params
                .0
                .push((name.to_string(), value.map(str::to_string)));
        }

        let mut uri_headers = Vec::new();
        for h in headers.into_iter().flat_map(|h| h.split('&')) {
            let eq = h
                .find('=')
                .ok_or_else(|| bad("URI header without =".into()))?;
            let (name, value) = (&h[..eq], &h[eq + 1..]);
            if name.is_empty() {
                return Err(bad("empty URI header name".into()));
            }
            check_escaped(name, is_hnv_char).map_err(|e| bad(format!("URI header: {e}")))?;
            check_escaped(value, is_hnv_char).map_err(|e| bad(format!("URI header: {e}")))?;
            uri_headers.push((name.to_string(), value.to_string()));
        }

        Ok(Uri {
            scheme,
            user,
            password,
            host,
            port,
            params: uri_params,
            headers: uri_headers,
        })
    }
}

impl Via {
    /// Parses one Via value: `SIP / 2.0 / transport sent-by *(; param)`, with LWS allowed
    /// around the slashes and the semicolons. Transports other than UDP, TCP and TLS are errors.
    pub fn parse(s: &str) -> Result<Via, HeaderError> {
        let bad = |reason: &str| malformed("Via", reason);
        let s = trim_lws(s);
        let rest = strip_prefix_ci(s, "SIP").ok_or_else(|| bad("protocol is not SIP"))?;
        let rest = trim_lws(rest)
            .strip_prefix('/')
            .ok_or_else(|| bad("expected /"))?;
        let rest = trim_lws(rest)
            .strip_prefix("2.0")
            .ok_or_else(|| bad("version is not 2.0"))?;
        let rest = trim_lws(rest)
            .strip_prefix('/')
            .ok_or_else(|| bad("expected /"))?;
        let rest = trim_lws(rest);
        let end = rest
            .bytes()
            .position(|b| !is_token_char(b))
            .unwrap_or(rest.len());
        let (transport, rest) = (&rest[..end], &rest[end..]);
        let transport = match transport.to_ascii_uppercase().as_str() {
            "UDP" => Transport::Udp,
            "TCP" => Transport::Tcp,
            "TLS" => Transport::Tls,
            "" => return Err(bad("missing transport")),
            _ => return Err(bad("unsupported transport")),
        };
        if !rest.starts_with([' ', '\t']) {
            return Err(bad("expected whitespace before sent-by"));
        }
        let rest = trim_lws(rest);
        let end = rest
            .bytes()
            .position(|b| b == b';' || is_wsp(b))
            .unwrap_or(rest.len());
        let (sent_by, rest) = (&rest[..end], &rest[end..]);
        let (host, port) = parse_hostport(sent_by).map_err(|e| bad(&e))?;
        parse_host(host).map_err(|e| bad(&e))?;
        let params = parse_header_params(rest, "Via")?;
        Ok(Via {
            transport,
            host: host.to_string(),
            port,
            params,
        })
    }
}

impl NameAddr {
    /// Parses `[display-name] <uri> *(; param)` or the bare `addr-spec *(; param)` form, in
    /// which every `;` parameter belongs to the header, not to the URI (RFC 3261 §20.10).
    /// A quoted display name is stored unescaped.
    pub fn parse(s: &str) -> Result<NameAddr, HeaderError> {
        let bad = |reason: String| malformed("name-addr", reason);
        let s = trim_lws(s);
        let (display, uri, rest) = if s.starts_with('"') {
            let (display, rest) = parse_quoted(s).map_err(|e| bad(e.into()))?;
            let (uri, rest) = parse_angle(trim_lws(rest))?;
            (Some(display), uri, rest)
        } else if let Some(lt) = s.find('<') {
            let display = trim_lws(&s[..lt]);
            if !display
                .bytes()
                .all(|b| is_token_char(b) || is_wsp(b) || b >= 0x80)
            {
                return Err(bad("display name is neither tokens nor quoted".into()));
            }
            let (uri, rest) = parse_angle(&s[lt..])?;
            (Some(display.to_string()), uri, rest)
        } else {
            let end = s.find(';').unwrap_or(s.len());
            let uri = Uri::parse(trim_lws(&s[..end]))?;
            (None, uri, &s[end..])
        };
        let params = parse_header_params(rest, "name-addr")?;
        Ok(NameAddr {
            display: display.filter(|d| !d.is_empty()),
            uri,
            params,
        })
    }
}

impl CSeq {
    /// Parses `1*DIGIT LWS Method`; the number must fit in 32 bits.
    pub fn parse(s: &str) -> Result<CSeq, HeaderError> {
        let bad = |reason: &str| malformed("CSeq", reason);
        let s = trim_lws(s);
        let split = s.bytes().position(is_wsp).ok_or_else(|| bad("no method"))?;
        let (num, method) = (&s[..split], trim_lws(&s[split..]));
        if num.is_empty() || num.len() > 10 || !num.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad("sequence number is not a 32-bit number"));
        }
        let seq: u32 = num
            .parse()
            .map_err(|_| bad("sequence number is not a 32-bit number"))?;
        if method.is_empty() || !method.bytes().all(is_token_char) {
            return Err(bad("method is not a token"));
        }
        Ok(CSeq {
            seq,
            method: Method::from_token(method),
        })
    }
}

/// RFC 3261 §25.1 `token` characters.
pub(super) fn is_token_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&b)
}

pub(super) fn is_wsp(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// Trims spaces and tabs (what is left of LWS once continuation lines are unfolded).
pub(super) fn trim_lws(s: &str) -> &str {
    s.trim_matches([' ', '\t'])
}

pub(super) fn malformed(header: &'static str, reason: impl Into<String>) -> HeaderError {
    HeaderError::Malformed {
        header,
        reason: reason.into(),
    }
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

/// Splits `host[:port]` where host may be an `[IPv6]` reference; returns the host as written.
fn parse_hostport(s: &str) -> Result<(&str, Option<u16>), String> {
    let (host, port) = if s.starts_with('[') {
        let close = s.find(']').ok_or("unterminated IPv6 reference")?;
        let after = &s[close + 1..];
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p),
            None if after.is_empty() => None,
            None => return Err("junk after IPv6 reference".into()),
        };
        (&s[..close + 1], port)
    } else {
        match s.find(':') {
            Some(c) => (&s[..c], Some(&s[c + 1..])),
            None => (s, None),
        }
    };
    let port = port.map(parse_port).transpose()?;
    Ok((host, port))
}

fn parse_port(p: &str) -> Result<u16, String> {
    if p.is_empty() || p.len() > 5 || !p.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("bad port {p:?}"));
    }
    // At most five ASCII digits, so this fits in u32; the range check is what can fail.
    let n: u32 = p.parse().map_err(|_| format!("bad port {p:?}"))?;
    u16::try_from(n).map_err(|_| format!("port {n} out of range"))
}

/// Parses a host: `[IPv6]`, dotted IPv4, or a host name (stored lower-case).
fn parse_host(s: &str) -> Result<Host, String> {
    if let Some(inner) = s.strip_prefix('[') {
        let inner = inner
            .strip_suffix(']')
            .ok_or("unterminated IPv6 reference")?;
        return inner
            .parse::<Ipv6Addr>()
            .map(Host::V6)
            .map_err(|_| format!("bad IPv6 reference {s:?}"));
    }
    if let Ok(v4) = s.parse::<Ipv4Addr>() {
        return Ok(Host::V4(v4));
    }
    if s.is_empty() || s.len() > 255 {
        return Err("bad host length".into());
    }
    let name = s.strip_suffix('.').unwrap_or(s);
    let mut top = "";
    for label in name.split('.') {
        let ok = !label.is_empty()
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            && !label.starts_with('-')
            && !label.ends_with('-');
        if !ok {
            return Err(format!("bad host name {s:?}"));
        }
        top = label;
    }
    // A top label starting with a digit would make `1.2.3.256` a valid host name.
    if !top.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return Err(format!("bad host {s:?}"));
    }
    Ok(Host::Domain(s.to_ascii_lowercase()))
}

/// Parses `*( SEMI name [EQUAL value] )` after a Via sent-by or a name-addr. Values are
/// `token`, `host` or `quoted-string` and are kept as sent (quotes included).
fn parse_header_params(s: &str, header: &'static str) -> Result<Params, HeaderError> {
    let bad = |reason: &str| malformed(header, reason);
    let s = trim_lws(s);
    let mut params = Params::default();
    if s.is_empty() {
        return Ok(params);
    }
    let s = s
        .strip_prefix(';')
        .ok_or_else(|| bad("junk before parameters"))?;
    for p in split_outside_quotes(s, b';').map_err(bad)? {
        let (name, value) = match p.find('=') {
            Some(eq) => (trim_lws(&p[..eq]), Some(trim_lws(&p[eq + 1..]))),
            None => (trim_lws(p), None),
        };
        if name.is_empty() || !name.bytes().all(is_token_char) {
            return Err(bad("parameter name is not a token"));
        }
        if let Some(v) = value {
            let ok = if v.starts_with('"') {
                matches!(parse_quoted(v), Ok((_, rest)) if rest.is_empty())
            } else {
                !v.is_empty()
                    && v.bytes()
                        .all(|b| is_token_char(b) || b == b'[' || b == b']' || b == b':')
            };
            if !ok {
                return Err(bad("bad parameter value"));
            }
        }
        params.0.push((name.to_string(), value.map(str::to_string)));
    }
    Ok(params)
}

/// Splits on `sep` where it is not inside a quoted string.
fn split_outside_quotes(s: &str, sep: u8) -> Result<Vec<&str>, &'static str> {
    let mut out = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (i, b) in s.bytes().enumerate() {
        if quoted {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                quoted = false;
            }
        } else if b == b'"' {
            quoted = true;
        } else if b == sep {
            out.push(&s[start..i]);
            start = i + 1;
        }
    }
    if quoted {
        return Err("unterminated quoted string");
    }
    out.push(&s[start..]);
    Ok(out)
}

/// Parses a quoted-string at the start of `s`; returns its unescaped content and the rest.
fn parse_quoted(s: &str) -> Result<(String, &str), &'static str> {
    let body = s.strip_prefix('"').ok_or("expected quoted string")?;
    let mut out = Vec::new();
    let mut escaped = false;
    for (i, b) in body.bytes().enumerate() {
        if escaped {
            // quoted-pair = "\" (%x00-09 / %x0B-0C / %x0E-7F); CR and LF cannot be escaped.
            if b == b'\r' || b == b'\n' || b >= 0x80 {
                return Err("bad escape in quoted string");
            }
            out.push(b);
            escaped = false;
        } else if b == b'\\' {
            escaped = true;
        } else if b == b'"' {
            // The input was a &str and escapes only remove ASCII backslashes.
            let text = String::from_utf8(out).map_err(|_| "bad UTF-8 in quoted string")?;
            return Ok((text, &body[i + 1..]));
        } else if b < 0x20 && b != b'\t' || b == 0x7f {
            return Err("control character in quoted string");
        } else {
            out.push(b);
        }
    }
    Err("unterminated quoted string")
}

/// Parses `<uri>` at the start of `s`; returns the URI and what follows `>`.
fn parse_angle(s: &str) -> Result<(Uri, &str), HeaderError> {
    let inner = s
        .strip_prefix('<')
        .ok_or_else(|| malformed("name-addr", "expected <"))?;
    let close = inner
        .find('>')
        .ok_or_else(|| malformed("name-addr", "missing >"))?;
    Ok((Uri::parse(&inner[..close])?, &inner[close + 1..]))
}

fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b)
}
fn is_user_char(b: u8) -> bool {
    is_unreserved(b) || b"&=+$,;?/".contains(&b)
}
fn is_password_char(b: u8) -> bool {
    is_unreserved(b) || b"&=+$,".contains(&b)
}
fn is_param_char(b: u8) -> bool {
    is_unreserved(b) || b"[]/:&+$".contains(&b)
}
fn is_hnv_char(b: u8) -> bool {
    is_unreserved(b) || b"[]/?:+$".contains(&b)
}

/// Checks that `s` holds only `allowed` characters and well-formed `%HH` escapes.
fn check_escaped(s: &str, allowed: fn(u8) -> bool) -> Result<(), String> {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let ok = b
                .get(i + 1..i + 3)
                .is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit));
            if !ok {
                return Err("bad % escape".into());
            }
            i += 3;
        } else if allowed(b[i]) {
            i += 1;
        } else {
            return Err(format!("character {:?} not allowed", b[i] as char));
        }
    }
    Ok(())
}

/// Decodes `%HH` escapes after checking the characters; the result must be UTF-8.
fn unescape(s: &str, allowed: fn(u8) -> bool) -> Result<String, String> {
    check_escaped(s, allowed)?;
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            // check_escaped guaranteed two hex digits follow.
            let hex = std::str::from_utf8(&b[i + 1..i + 3]).map_err(|_| "bad % escape")?;
            out.push(u8::from_str_radix(hex, 16).map_err(|_| "bad % escape")?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| "escaped bytes are not UTF-8".into())
}
