//! The SIP parser (RFC 3261 §7, §20, §25; RFC 4475 is the torture reference).
//!
//! Network input is hostile: every function here returns a typed error and never panics.
//! [`parse_message`] reads one whole message; the single-value parsers ([`Uri::parse`],
//! [`Via::parse`], [`NameAddr::parse`], [`CSeq::parse`]) live in the `values` submodule.

mod values;

use super::message::*;
use super::uri::Uri;
use values::{is_token_char, is_wsp, malformed, trim_lws};

/// The largest message accepted (a datagram, or one frame of a stream).
pub const MAX_MESSAGE_LEN: usize = 64 * 1024;
/// The most header fields (after splitting comma-joined lists, not counting Content-Length) a
/// message may carry.
pub const MAX_HEADERS: usize = 256;

/// Why a message could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseErrorKind {
    #[error("not a SIP message: {0}")]
    Syntax(String),
    #[error("unsupported SIP version {0}")]
    VersionNotSupported(String),
    #[error(transparent)]
    Header(#[from] HeaderError),
    #[error("bad Content-Length: {0}")]
    ContentLength(String),
    /// The Request-URI has a scheme other than `sip`/`sips` (the UA may answer 416).
    #[error("unsupported URI scheme {0}")]
    UnsupportedScheme(String),
    #[error("message larger than {MAX_MESSAGE_LEN} bytes")]
    TooLarge,
    #[error("more than {MAX_HEADERS} header fields")]
    TooManyHeaders,
}

/// A parse failure. When the start line and headers were readable as a request, `request`
/// holds what was read so that the receiver can still answer 400 (or 505) to it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind}")]
pub struct ParseError {
    pub kind: ParseErrorKind,
    pub request: Option<Box<Request>>,
}

/// Parses one complete message (a UDP datagram, or one frame cut from a stream).
///
/// Leading CRLFs are skipped (RFC 3261 §7.5). Without Content-Length the rest of the input is
/// the body; with it, a shorter input is an error and a longer one is cut (§18.3).
pub fn parse_message(data: &[u8]) -> Result<SipMessage, ParseError> {
    if data.len() > MAX_MESSAGE_LEN {
        return Err(ParseErrorKind::TooLarge.into());
    }
    let mut data = data;
    while let Some(rest) = data.strip_prefix(b"\r\n") {
        data = rest;
    }
    if data.is_empty() {
        return Err(syntax("empty message"));
    }
    let head_end = find(data, b"\r\n\r\n").ok_or_else(|| syntax("no end of header block"))?;
    let rest = &data[head_end + 4..];
    let head =
        std::str::from_utf8(&data[..head_end]).map_err(|_| syntax("header block is not UTF-8"))?;
    let mut lines = head.split("\r\n");
    // `split` always yields at least one item.
    let start_line = lines.next().unwrap_or_default();
    for line in head.split("\r\n") {
        if line.bytes().any(|b| (b < 0x20 && b != b'\t') || b == 0x7f) {
            return Err(syntax("control character in header block"));
        }
    }
    let start = parse_start_line(start_line)?;
    let (headers, content_length) = parse_headers(lines)?;
    let body = body(content_length, rest);

    match start {
        StartLine::Request {
            method,
            uri,
            version,
        } => {
            let uri = match (parse_request_uri(uri), &version) {
                (Ok(uri), _) => uri,
                (Err(_), Err(v)) => return Err(v.clone().into()),
                (Err(e), Ok(())) => return Err(e.into()),
            };
            let req = Request {
                method,
                uri,
                body: body.as_ref().map(|b| b.to_vec()).unwrap_or_default(),
                headers,
            };
            let verdict = version
                .and(body.map(drop))
                .and_then(|()| validate(&req.headers, Some(&req.method)));
            match verdict {
                Ok(()) => Ok(SipMessage::Request(req)),
                Err(kind) => Err(ParseError {
                    kind,
                    request: Some(Box::new(req)),
                }),
            }
        }
        StartLine::Response {
            version,
            status,
            reason,
        } => {
            version?;
            let body = body?.to_vec();
            validate(&headers, None)?;
            Ok(SipMessage::Response(Response {
                status,
                reason: reason.to_string(),
                headers,
                body,
            }))
        }
    }
}

impl From<ParseErrorKind> for ParseError {
    fn from(kind: ParseErrorKind) -> ParseError {
        ParseError {
            kind,
            request: None,
        }
    }
}

impl From<HeaderError> for ParseError {
    fn from(e: HeaderError) -> ParseError {
        ParseErrorKind::Header(e).into()
    }
}

enum StartLine<'a> {
    Request {
        method: Method,
        uri: &'a str,
        /// A version error is kept until the headers are read, so a 505 can be answered.
        version: Result<(), ParseErrorKind>,
    },
    Response {
        version: Result<(), ParseErrorKind>,
        status: StatusCode,
        reason: &'a str,
    },
}

fn syntax(reason: &str) -> ParseError {
    ParseErrorKind::Syntax(reason.to_string()).into()
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// `Request-Line = Method SP Request-URI SP SIP-Version` or
/// `Status-Line = SIP-Version SP Status-Code SP Reason-Phrase`, single spaces only.
fn parse_start_line(line: &str) -> Result<StartLine<'_>, ParseError> {
    if line.len() >= 4 && line.as_bytes()[..4].eq_ignore_ascii_case(b"SIP/") {
        let sp = line.find(' ').ok_or_else(|| syntax("bad status line"))?;
        let (version, rest) = (&line[..sp], &line[sp + 1..]);
        let version = check_version(version)?;
        let code = rest.get(..3).ok_or_else(|| syntax("bad status code"))?;
        let reason = rest
            .get(3..)
            .and_then(|r| r.strip_prefix(' '))
            .ok_or_else(|| syntax("bad status line"))?;
        if !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(syntax("bad status code"));
        }
        let status = code
            .parse()
            .ok()
            .and_then(StatusCode::new)
            .ok_or_else(|| syntax("status code outside 100..699"))?;
        return Ok(StartLine::Response {
            version,
            status,
            reason,
        });
    }
    let (first, last) = match (line.find(' '), line.rfind(' ')) {
        (Some(f), Some(l)) if f < l => (f, l),
        _ => return Err(syntax("bad request line")),
    };
    let (method, uri, version) = (&line[..first], &line[first + 1..last], &line[last + 1..]);
    if method.is_empty() || !method.bytes().all(is_token_char) {
        return Err(syntax("method is not a token"));
    }
    if uri.is_empty() || uri.bytes().any(is_wsp) {
        return Err(syntax("bad request line"));
    }
    if !(version.len() >= 4 && version.as_bytes()[..4].eq_ignore_ascii_case(b"SIP/")) {
        return Err(syntax("bad request line"));
    }
    Ok(StartLine::Request {
        method: Method::from_token(method),
        uri,
        version: check_version(version)?,
    })
}

/// `SIP/1*DIGIT.1*DIGIT` (the caller checked the `SIP/` prefix). The outer error is a syntax
/// error; the inner one is a well-formed version other than 2.0.
fn check_version(v: &str) -> Result<Result<(), ParseErrorKind>, ParseError> {
    let num = v.get(4..).ok_or_else(|| syntax("bad SIP version"))?;
    let well_formed = num.split_once('.').is_some_and(|(major, minor)| {
        [major, minor]
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
    });
    if !well_formed || v.bytes().any(is_wsp) {
        return Err(syntax("bad SIP version"));
    }
    Ok(if num == "2.0" {
        Ok(())
    } else {
        Err(ParseErrorKind::VersionNotSupported(v.to_string()))
    })
}

fn parse_request_uri(s: &str) -> Result<Uri, ParseErrorKind> {
    let scheme = s.split(':').next().unwrap_or_default();
    let is_sip = scheme.eq_ignore_ascii_case("sip") || scheme.eq_ignore_ascii_case("sips");
    let scheme_syntax = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b));
    if s.contains(':') && !is_sip && scheme_syntax {
        return Err(ParseErrorKind::UnsupportedScheme(scheme.to_string()));
    }
    Uri::parse(s).map_err(|e| match e {
        HeaderError::Malformed { reason, .. } => malformed("Request-URI", reason).into(),
        other => other.into(),
    })
}

/// Reads header fields: unfolds continuation lines, expands compact names, splits list
/// headers into one entry per value, and takes Content-Length out (it is recomputed on send).
/// A bad Content-Length is returned inside the Ok value so that the request can still be built
/// and answered with 400.
fn parse_headers<'a>(
    lines: impl Iterator<Item = &'a str>,
) -> Result<(Headers, ContentLength), ParseError> {
    let mut fields: Vec<(&str, String)> = Vec::new();
    for line in lines {
        if line.starts_with([' ', '\t']) {
            let (_, value) = fields
                .last_mut()
                .ok_or_else(|| syntax("continuation line before any header"))?;
            let more = trim_lws(line);
            if !more.is_empty() {
                if !value.is_empty() {
                    value.push(' ');
                }
                value.push_str(more);
            }
            continue;
        }
        let colon = line
            .find(':')
            .ok_or_else(|| syntax("header line without colon"))?;
        let name = line[..colon].trim_end_matches([' ', '\t']);
        if name.is_empty() || !name.bytes().all(is_token_char) {
            return Err(syntax("header name is not a token"));
        }
        // One field more than the limit: Content-Length is not stored (nor counted), and
        // `to_bytes` adds it back, so what we accept must stay acceptable once re-serialised.
        if fields.len() > MAX_HEADERS {
            return Err(ParseErrorKind::TooManyHeaders.into());
        }
        fields.push((name, trim_lws(&line[colon + 1..]).to_string()));
    }

    let mut headers = Headers::new();
    let mut content_length = Ok(None);
    for (name, value) in fields {
        let name = HeaderName::from_wire(name);
        if name == HeaderName::ContentLength {
            content_length = match (content_length, parse_content_length(&value)) {
                (Ok(None), n) => n.map(Some),
                (Ok(Some(m)), Ok(n)) if m == n => Ok(Some(n)),
                (Ok(Some(_)), Ok(_)) => {
                    Err(ParseErrorKind::ContentLength("conflicting values".into()))
                }
                (Err(e), _) | (_, Err(e)) => Err(e),
            };
        } else if name.is_list() && !value.is_empty() {
            for item in split_list(&value) {
                headers.push(name.clone(), item);
            }
        } else {
            headers.push(name, value);
        }
        if headers.len() > MAX_HEADERS {
            return Err(ParseErrorKind::TooManyHeaders.into());
        }
    }
    Ok((headers, content_length))
}

type ContentLength = Result<Option<usize>, ParseErrorKind>;

fn parse_content_length(v: &str) -> Result<usize, ParseErrorKind> {
    let bad = |r: &str| ParseErrorKind::ContentLength(r.to_string());
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad("not a number"));
    }
    match v.parse::<usize>() {
        Ok(n) if n <= MAX_MESSAGE_LEN => Ok(n),
        _ => Err(bad("too large")),
    }
}

/// The body according to Content-Length: cut if longer, an error if the input is shorter.
fn body(content_length: ContentLength, rest: &[u8]) -> Result<&[u8], ParseErrorKind> {
    match content_length? {
        None => Ok(rest),
        Some(n) => rest.get(..n).ok_or_else(|| {
            ParseErrorKind::ContentLength(format!(
                "{n} announced, {} available (truncated)",
                rest.len()
            ))
        }),
    }
}

/// Splits a comma-joined list value; commas inside quotes or `<>` do not split.
fn split_list(value: &str) -> impl Iterator<Item = &str> {
    let mut items = Vec::new();
    let (mut start, mut quoted, mut escaped, mut angle) = (0, false, false, false);
    for (i, b) in value.bytes().enumerate() {
        if quoted {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                quoted = false;
            }
            continue;
        }
        match b {
            b'"' => quoted = true,
            b'<' => angle = true,
            b'>' => angle = false,
            b',' if !angle => {
                items.push(trim_lws(&value[start..i]));
                start = i + 1;
            }
            _ => {}
        }
    }
    items.push(trim_lws(&value[start..]));
    items.into_iter().filter(|s| !s.is_empty())
}

/// Checks the mandatory headers (RFC 3261 §8.1.1): Via, From, To, Call-ID and CSeq must be
/// present and parse; `method` (for requests) must match the CSeq method.
fn validate(headers: &Headers, method: Option<&Method>) -> Result<(), ParseErrorKind> {
    let single = |name: HeaderName, label: &'static str| -> Result<&str, HeaderError> {
        // Only canonical (non-`Other`) names are asked for, so `==` is the right comparison.
        let mut all = headers
            .iter()
            .filter(|h| h.name == name)
            .map(|h| h.value.as_str());
        let first = all.next().ok_or(HeaderError::Missing(label))?;
        match all.next() {
            Some(_) => Err(malformed(label, "more than one value")),
            None => Ok(first),
        }
    };
    let mut vias = headers.get_all(&HeaderName::Via).peekable();
    if vias.peek().is_none() {
        return Err(HeaderError::Missing("Via").into());
    }
    for v in vias {
        Via::parse(v)?;
    }
    NameAddr::parse(single(HeaderName::From, "From")?)?;
    NameAddr::parse(single(HeaderName::To, "To")?)?;
    let call_id = single(HeaderName::CallId, "Call-ID")?;
    if call_id.is_empty() || call_id.bytes().any(|b| is_wsp(b) || b >= 0x80) {
        return Err(malformed("Call-ID", "not a word").into());
    }
    let cseq = CSeq::parse(single(HeaderName::CSeq, "CSeq")?)?;
    if let Some(m) = method {
        if cseq.method != *m {
            return Err(malformed("CSeq", "method does not match the request line").into());
        }
    }
    if headers.get(&HeaderName::MaxForwards).is_some() {
        let mf = single(HeaderName::MaxForwards, "Max-Forwards")?;
        // Leading zeros are legal (`0068`); the value itself must fit the 0..255 hop count.
        let digits = mf.trim_start_matches('0');
        if mf.is_empty() || !mf.bytes().all(|b| b.is_ascii_digit()) || digits.len() > 3 {
            return Err(malformed("Max-Forwards", "not a number 0..255").into());
        }
        if !digits.is_empty() && digits.parse::<u8>().is_err() {
            return Err(malformed("Max-Forwards", "not a number 0..255").into());
        }
    }
    for c in headers.get_all(&HeaderName::Contact) {
        if c != "*" {
            NameAddr::parse(c)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::uri::{Host, Scheme};

    fn req(head: &str) -> Vec<u8> {
        head.replace('\n', "\r\n").into_bytes()
    }

    const BASIC: &str = "INVITE sip:bob@example.com SIP/2.0
Via: SIP/2.0/UDP pc33.example.com;branch=z9hG4bK776asdhds
Max-Forwards: 70
To: Bob <sip:bob@example.com>
From: \"Alice\" <sip:alice@example.com>;tag=1928301774
Call-ID: a84b4c76e66710@pc33.example.com
CSeq: 314159 INVITE
Contact: <sip:alice@pc33.example.com>
Content-Length: 4

v=0
";

    #[test]
    fn parses_a_basic_invite() {
        let msg = parse_message(&req(BASIC)).expect("valid");
        let SipMessage::Request(r) = msg else {
            panic!("not a request")
        };
        assert_eq!(r.method, Method::Invite);
        assert_eq!(r.uri.user.as_deref(), Some("bob"));
        assert_eq!(r.uri.host, Host::Domain("example.com".into()));
        assert_eq!(r.body, b"v=0\r");
        assert_eq!(r.cseq().unwrap().seq, 314159);
        assert_eq!(r.from_header().unwrap().tag().unwrap().0, "1928301774");
        assert_eq!(r.from_header().unwrap().display.as_deref(), Some("Alice"));
        assert_eq!(r.top_via().unwrap().branch().unwrap().0, "z9hG4bK776asdhds");
        assert_eq!(r.headers.get(&HeaderName::ContentLength), None);
    }

    #[test]
    fn parses_a_response_and_round_trips() {
        let text = "SIP/2.0 180 Ringing
Via: SIP/2.0/TCP [2001:db8::1]:5070;branch=z9hG4bKx;received=192.0.2.4
From: <sip:a@b.example>;tag=1
To: <sip:c@d.example>;tag=2
Call-ID: x
CSeq: 1 INVITE

";
        let msg = parse_message(&req(text)).expect("valid");
        let SipMessage::Response(r) = &msg else {
            panic!("not a response")
        };
        assert_eq!(r.status, StatusCode::RINGING);
        assert_eq!(r.reason, "Ringing");
        let via = r.top_via().unwrap();
        assert_eq!(via.transport, Transport::Tcp);
        assert_eq!(via.host, "[2001:db8::1]");
        assert_eq!(via.port, Some(5070));
        assert_eq!(parse_message(&msg.to_bytes()).unwrap(), msg);
    }

    #[test]
    fn header_limit_counts_stored_fields_and_survives_reserialising() {
        let mut text = BASIC.replace("Content-Length: 4\n", "");
        let base = parse_message(&req(&text)).unwrap().headers().len();
        let extra: String = (base..MAX_HEADERS).map(|i| format!("X-{i}: v\n")).collect();
        text = text.replacen("Contact:", &format!("{extra}Contact:"), 1);
        let msg = parse_message(&req(&text)).expect("exactly at the limit");
        assert_eq!(msg.headers().len(), MAX_HEADERS);
        assert_eq!(parse_message(&msg.to_bytes()).unwrap(), msg);
        let over = text.replacen("Contact:", "X-over: 1\nContact:", 1);
        assert_eq!(
            parse_message(&req(&over)).unwrap_err().kind,
            ParseErrorKind::TooManyHeaders
        );
    }

    #[test]
    fn uri_parts() {
        let u = Uri::parse("sips:%61l%20ice:pa%3Ass@[2001:db8::10]:5070;transport=tcp;lr?X=%20y")
            .unwrap();
        assert_eq!(u.scheme, Scheme::Sips);
        assert_eq!(u.user.as_deref(), Some("al ice"));
        assert_eq!(u.password.as_deref(), Some("pa:ss"));
        assert_eq!(u.host, Host::V6("2001:db8::10".parse().unwrap()));
        assert_eq!(u.port, Some(5070));
        assert_eq!(u.params.value("transport"), Some("tcp"));
        assert!(u.is_loose_route());
        assert_eq!(u.headers, vec![("X".to_string(), "%20y".to_string())]);
        assert_eq!(Uri::parse(&u.to_string()).unwrap(), u);
    }

    #[test]
    fn bad_uris_are_errors() {
        for s in [
            "sip:",
            "sip:user@",
            "sip:host:70000",
            "sip:host:",
            "sip:[2001:db8::10",
            "sip:[2001:db8:::10]",
            "sip:2001:db8::10",
            "sip:a b@host",
            "sip:%zz@host",
            "tel:+123",
            "sip:1.2.3.256",
            "sip:host;=x",
        ] {
            assert!(Uri::parse(s).is_err(), "{s} should not parse");
        }
    }

    #[test]
    fn name_addr_forms() {
        let n = NameAddr::parse("\"A \\\"B\\\" \\\\ C\" <sip:a@b.example;lr>;tag=x").unwrap();
        assert_eq!(n.display.as_deref(), Some("A \"B\" \\ C"));
        assert!(n.uri.is_loose_route());
        assert_eq!(n.tag().unwrap().0, "x");
        // addr-spec form: the parameter belongs to the header, not the URI.
        let n = NameAddr::parse("sip:a@b.example;tag=y").unwrap();
        assert!(n.uri.params.0.is_empty());
        assert_eq!(n.tag().unwrap().0, "y");
        assert_eq!(n.display, None);
        assert!(NameAddr::parse("<sip:a@b.example").is_err());
        assert!(NameAddr::parse("\"unterminated <sip:a@b.example>").is_err());
        assert!(NameAddr::parse("<sip:a@b.example> junk").is_err());
    }

    #[test]
    fn cseq_forms() {
        let c = CSeq::parse("  42   NEWMETHOD ").unwrap();
        assert_eq!(c.seq, 42);
        assert_eq!(c.method, Method::Extension("NEWMETHOD".into()));
        for s in [
            "",
            "INVITE",
            "-1 INVITE",
            "4294967296 INVITE",
            "1",
            "x INVITE",
            "1 IN VITE",
        ] {
            assert!(CSeq::parse(s).is_err(), "{s:?} should not parse");
        }
    }

    #[test]
    fn via_with_spaces_and_bad_transport() {
        let v = Via::parse("SIP / 2.0 / udp host.example:5061 ; branch=z9hG4bK1 ; rport").unwrap();
        assert_eq!(v.transport, Transport::Udp);
        assert_eq!(v.host, "host.example");
        assert_eq!(v.port, Some(5061));
        assert_eq!(v.params.get("rport"), Some(None));
        assert!(Via::parse("SIP/2.0/FOO host").is_err());
        assert!(Via::parse("SIP/2.0/UDP").is_err());
        assert!(Via::parse("SIP/3.0/UDP host").is_err());
    }
}
