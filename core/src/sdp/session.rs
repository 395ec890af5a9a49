//! The SDP data model, its parser and its printer (RFC 8866 §5).

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use super::SdpError;

/// Largest SDP body we parse; real audio offers are well under 2 KiB.
pub const MAX_SDP_LEN: usize = 16 * 1024;
/// Most m= sections accepted.
pub const MAX_MEDIA: usize = 16;
/// Most formats accepted on one m= line.
pub const MAX_FORMATS: usize = 64;
/// Most a= (and other unmodelled) lines accepted per section.
pub const MAX_ATTRIBUTES: usize = 128;

/// A parsed session description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionDescription {
    pub origin: Origin,
    pub session_name: String,
    /// Session-level c=, the default for media sections without their own.
    pub connection: Option<Connection>,
    pub timing: Vec<Timing>,
    /// Session-level a= lines, in order.
    pub attributes: Vec<Attribute>,
    pub media: Vec<MediaDescription>,
    /// Session-level lines not modelled above (i, u, e, p, b, r, z, k, unknown), in input order.
    pub other_lines: Vec<OtherLine>,
}

/// The o= line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub username: String,
    /// Kept as text: RFC 8866 allows any number of digits.
    pub session_id: String,
    /// Raised by one each time the description changes (RFC 3264 §8).
    pub session_version: u64,
    /// `IP4` or `IP6`.
    pub address_type: String,
    /// Usually an IP address; RFC 8866 also allows a host name here.
    pub address: String,
}

/// A c= line with an IPv4 or IPv6 address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    pub address: IpAddr,
    /// Multicast `/ttl[/count]` suffix, verbatim without the first slash.
    pub suffix: Option<String>,
}

impl Connection {
    pub fn new(address: IpAddr) -> Self {
        Connection {
            address,
            suffix: None,
        }
    }
}

/// A t= line (NTP seconds; `0 0` means unbounded).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    pub start: u64,
    pub stop: u64,
}

/// An a= line: `a=name` or `a=name:value`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribute {
    pub name: String,
    pub value: Option<String>,
}

impl Attribute {
    pub fn flag(name: impl Into<String>) -> Self {
        Attribute {
            name: name.into(),
            value: None,
        }
    }

    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Self {
        Attribute {
            name: name.into(),
            value: Some(value.into()),
        }
    }
}

/// A line kept verbatim because we do not model it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtherLine {
    pub kind: char,
    pub value: String,
}

/// One m= section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaDescription {
    /// `audio`, `video`, ...
    pub kind: String,
    /// 0 rejects or disables the stream (RFC 3264 §6).
    pub port: u16,
    pub port_count: Option<u16>,
    /// `RTP/AVP`, `RTP/SAVP`, ...
    pub proto: String,
    /// Payload type numbers for RTP profiles (checked to be 0..=127 when parsed).
    pub formats: Vec<String>,
    pub connection: Option<Connection>,
    pub attributes: Vec<Attribute>,
    /// Media-level lines not modelled above (i, b, k, unknown), in input order.
    pub other_lines: Vec<OtherLine>,
}

/// An RTP payload type, 0..=127.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PayloadType(u8);

impl PayloadType {
    /// `None` above 127 (the marker bit shares the byte).
    pub const fn new(pt: u8) -> Option<PayloadType> {
        if pt <= 127 {
            Some(PayloadType(pt))
        } else {
            None
        }
    }

    pub const fn get(self) -> u8 {
        self.0
    }
}

impl fmt::Display for PayloadType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl FromStr for PayloadType {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        // u8::from_str accepts a leading '+', which is not a valid format.
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(());
        }
        s.parse::<u8>().ok().and_then(PayloadType::new).ok_or(())
    }
}

/// A parsed `a=rtpmap:<pt> <name>/<clock rate>[/<channels>]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtpMap {
    pub payload_type: PayloadType,
    pub encoding: String,
    pub clock_rate: u32,
    /// 1 when not given.
    pub channels: u8,
}

/// A parsed `a=rtcp:<port> [IN IP4 <address>]` (RFC 3605).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rtcp {
    pub port: u16,
    pub address: Option<IpAddr>,
}

/// Media direction (RFC 3264 §5.1); `SendRecv` when no attribute says otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    SendRecv,
    SendOnly,
    RecvOnly,
    Inactive,
}

impl Direction {
    pub fn from_flags(send: bool, recv: bool) -> Direction {
        match (send, recv) {
            (true, true) => Direction::SendRecv,
            (true, false) => Direction::SendOnly,
            (false, true) => Direction::RecvOnly,
            (false, false) => Direction::Inactive,
        }
    }

    pub fn sends(self) -> bool {
        matches!(self, Direction::SendRecv | Direction::SendOnly)
    }

    pub fn receives(self) -> bool {
        matches!(self, Direction::SendRecv | Direction::RecvOnly)
    }

    /// The same stream seen from the other end.
    pub fn reversed(self) -> Direction {
        Direction::from_flags(self.receives(), self.sends())
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Direction::SendRecv => "sendrecv",
            Direction::SendOnly => "sendonly",
            Direction::RecvOnly => "recvonly",
            Direction::Inactive => "inactive",
        }
    }

    fn from_attribute(name: &str) -> Option<Direction> {
        [
            Direction::SendRecv,
            Direction::SendOnly,
            Direction::RecvOnly,
            Direction::Inactive,
        ]
        .into_iter()
        .find(|d| d.as_str().eq_ignore_ascii_case(name))
    }
}

impl SessionDescription {
    /// Parses an SDP body. Accepts CRLF or bare LF line ends and ignores blank lines.
    pub fn parse(input: &[u8]) -> Result<SessionDescription, SdpError> {
        if input.len() > MAX_SDP_LEN {
            return Err(SdpError::TooLarge {
                len: input.len(),
                max: MAX_SDP_LEN,
            });
        }
        let text = std::str::from_utf8(input).map_err(|_| SdpError::NotUtf8)?;
        Parser::default().run(text)
    }

    /// The wire form, CRLF line ends.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.to_string().into_bytes()
    }

    /// The c= that applies to `media`: its own, else the session-level one.
    pub fn connection_for<'a>(&'a self, media: &'a MediaDescription) -> Option<&'a Connection> {
        media.connection.as_ref().or(self.connection.as_ref())
    }

    /// The direction that applies to `media`: its own attribute, else the session-level one,
    /// else `sendrecv` (RFC 3264 §5.1).
    pub fn direction_for(&self, media: &MediaDescription) -> Direction {
        media
            .direction()
            .or_else(|| direction_in(&self.attributes))
            .unwrap_or(Direction::SendRecv)
    }
}

impl FromStr for SessionDescription {
    type Err = SdpError;

    fn from_str(s: &str) -> Result<Self, SdpError> {
        SessionDescription::parse(s.as_bytes())
    }
}

impl MediaDescription {
    /// The formats that are valid payload types, in preference order.
    pub fn payload_types(&self) -> Vec<PayloadType> {
        self.formats.iter().filter_map(|f| f.parse().ok()).collect()
    }

    /// True for RTP-based profiles (`RTP/AVP`, `RTP/SAVPF`, `UDP/TLS/RTP/SAVP`, ...).
    pub fn is_rtp(&self) -> bool {
        is_rtp_proto(&self.proto)
    }

    /// The first attribute with this name (names compared case-insensitively).
    pub fn attribute(&self, name: &str) -> Option<&Attribute> {
        self.attributes
            .iter()
            .find(|a| a.name.eq_ignore_ascii_case(name))
    }

    /// All values of attributes with this name.
    pub fn attribute_values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.attributes
            .iter()
            .filter(move |a| a.name.eq_ignore_ascii_case(name))
            .filter_map(|a| a.value.as_deref())
    }

    /// Every well-formed `a=rtpmap`.
    pub fn rtpmaps(&self) -> impl Iterator<Item = RtpMap> + '_ {
        self.attribute_values("rtpmap").filter_map(parse_rtpmap)
    }

    pub fn rtpmap(&self, pt: PayloadType) -> Option<RtpMap> {
        self.rtpmaps().find(|m| m.payload_type == pt)
    }

    /// The parameters of `a=fmtp:<pt> <parameters>`.
    pub fn fmtp(&self, pt: PayloadType) -> Option<&str> {
        self.attribute_values("fmtp").find_map(|v| {
            let (p, params) = v.split_once(' ')?;
            (p.parse::<PayloadType>().ok()? == pt).then(|| params.trim())
        })
    }

    /// `a=ptime` in milliseconds (a fractional value is rounded down).
    pub fn ptime(&self) -> Option<u32> {
        self.attribute("ptime")?
            .value
            .as_deref()
            .and_then(parse_millis)
    }

    /// `a=maxptime` in milliseconds.
    pub fn maxptime(&self) -> Option<u32> {
        self.attribute("maxptime")?
            .value
            .as_deref()
            .and_then(parse_millis)
    }

    /// The media-level direction attribute, if any.
    pub fn direction(&self) -> Option<Direction> {
        direction_in(&self.attributes)
    }

    /// Replaces any direction attributes with `direction`.
    pub fn set_direction(&mut self, direction: Direction) {
        self.attributes
            .retain(|a| Direction::from_attribute(&a.name).is_none());
        self.attributes.push(Attribute::flag(direction.as_str()));
    }

    pub fn rtcp(&self) -> Option<Rtcp> {
        let value = self.attribute("rtcp")?.value.as_deref()?;
        let mut fields = value.split_ascii_whitespace();
        let port = fields.next()?.parse().ok()?;
        let address = match (fields.next(), fields.next(), fields.next()) {
            (Some(net), Some(_), Some(addr)) if net.eq_ignore_ascii_case("IN") => {
                Some(addr.parse().ok()?)
            }
            (None, _, _) => None,
            _ => return None,
        };
        Some(Rtcp { port, address })
    }
}

impl fmt::Display for SessionDescription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let o = &self.origin;
        write!(f, "v=0\r\n")?;
        write!(
            f,
            "o={} {} {} IN {} {}\r\n",
            o.username, o.session_id, o.session_version, o.address_type, o.address
        )?;
        write!(f, "s={}\r\n", self.session_name)?;
        // Unmodelled lines go back where RFC 8866 §5 orders them.
        write_other(f, &self.other_lines, |k| "iuep".contains(k))?;
        if let Some(c) = &self.connection {
            write!(f, "{c}")?;
        }
        write_other(f, &self.other_lines, |k| k == 'b')?;
        for t in &self.timing {
            write!(f, "t={} {}\r\n", t.start, t.stop)?;
        }
        write_other(f, &self.other_lines, |k| "rz".contains(k))?;
        write_other(f, &self.other_lines, |k| !"iuepbrz".contains(k))?;
        for a in &self.attributes {
            write!(f, "{a}")?;
        }
        for m in &self.media {
            write!(f, "{m}")?;
        }
        Ok(())
    }
}

impl fmt::Display for MediaDescription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "m={} {}", self.kind, self.port)?;
        if let Some(n) = self.port_count {
            write!(f, "/{n}")?;
        }
        write!(f, " {}", self.proto)?;
        for fmt in &self.formats {
            write!(f, " {fmt}")?;
        }
        f.write_str("\r\n")?;
        write_other(f, &self.other_lines, |k| k == 'i')?;
        if let Some(c) = &self.connection {
            write!(f, "{c}")?;
        }
        write_other(f, &self.other_lines, |k| k != 'i')?;
        for a in &self.attributes {
            write!(f, "{a}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = if self.address.is_ipv4() { "IP4" } else { "IP6" };
        write!(f, "c=IN {kind} {}", self.address)?;
        if let Some(s) = &self.suffix {
            write!(f, "/{s}")?;
        }
        f.write_str("\r\n")
    }
}

impl fmt::Display for Attribute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.value {
            Some(v) => write!(f, "a={}:{v}\r\n", self.name),
            None => write!(f, "a={}\r\n", self.name),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Parsing helpers

fn write_other(
    f: &mut fmt::Formatter<'_>,
    lines: &[OtherLine],
    select: impl Fn(char) -> bool,
) -> fmt::Result {
    for l in lines.iter().filter(|l| select(l.kind)) {
        write!(f, "{}={}\r\n", l.kind, l.value)?;
    }
    Ok(())
}

fn direction_in(attributes: &[Attribute]) -> Option<Direction> {
    attributes
        .iter()
        .rev()
        .find_map(|a| Direction::from_attribute(&a.name))
}

pub(super) fn is_rtp_proto(proto: &str) -> bool {
    proto.split('/').any(|p| p.eq_ignore_ascii_case("RTP"))
}

fn parse_millis(v: &str) -> Option<u32> {
    let int = v.trim().split('.').next()?;
    int.parse().ok()
}

fn parse_rtpmap(value: &str) -> Option<RtpMap> {
    let (pt, rest) = value.split_once(' ')?;
    let mut parts = rest.trim().split('/');
    let encoding = parts.next()?.to_string();
    let clock_rate: u32 = parts.next()?.parse().ok()?;
    let channels = match parts.next() {
        Some(c) => c.parse().ok().filter(|&c| c > 0)?,
        None => 1,
    };
    if encoding.is_empty() || clock_rate == 0 || parts.next().is_some() {
        return None;
    }
    Some(RtpMap {
        payload_type: pt.parse().ok()?,
        encoding,
        clock_rate,
        channels,
    })
}

#[derive(Default)]
struct Parser {
    line: usize,
    seen_version: bool,
    origin: Option<Origin>,
    session_name: Option<String>,
    connection: Option<Connection>,
    timing: Vec<Timing>,
    attributes: Vec<Attribute>,
    other_lines: Vec<OtherLine>,
    media: Vec<MediaDescription>,
}

impl Parser {
    fn run(mut self, text: &str) -> Result<SessionDescription, SdpError> {
        for (index, raw) in text.split('\n').enumerate() {
            self.line = index + 1;
            let raw = raw.strip_suffix('\r').unwrap_or(raw);
            if raw.is_empty() {
                continue;
            }
            let bytes = raw.as_bytes();
            if bytes.len() < 2 || !bytes[0].is_ascii_lowercase() || bytes[1] != b'=' {
                return Err(SdpError::MalformedLine { line: self.line });
            }
            let kind = char::from(bytes[0]);
            // The first two bytes are ASCII, so index 2 is a char boundary.
            let value = &raw[2..];
            if !self.seen_version {
                if kind != 'v' {
                    return Err(SdpError::MissingLine('v'));
                }
                if value.trim() != "0" {
                    return Err(SdpError::BadVersion { line: self.line });
                }
                self.seen_version = true;
                continue;
            }
            if kind == 'm' {
                self.start_media(value)?;
            } else if self.media.is_empty() {
                self.session_line(kind, value)?;
            } else {
                self.media_line(kind, value)?;
            }
        }
        if !self.seen_version {
            return Err(SdpError::MissingLine('v'));
        }
        let origin = self.origin.ok_or(SdpError::MissingLine('o'))?;
        let session_name = self.session_name.ok_or(SdpError::MissingLine('s'))?;
        if self.timing.is_empty() {
            return Err(SdpError::MissingLine('t'));
        }
        if self.connection.is_none() {
            if let Some(i) = self.media.iter().position(|m| m.connection.is_none()) {
                return Err(SdpError::MissingConnection { media: i + 1 });
            }
        }
        Ok(SessionDescription {
            origin,
            session_name,
            connection: self.connection,
            timing: self.timing,
            attributes: self.attributes,
            media: self.media,
            other_lines: self.other_lines,
        })
    }

    fn session_line(&mut self, kind: char, value: &str) -> Result<(), SdpError> {
        let line = self.line;
        let dup = SdpError::DuplicateLine { line, kind };
        match kind {
            'v' => return Err(dup),
            'o' if self.origin.is_some() => return Err(dup),
            'o' => self.origin = Some(parse_origin(value).ok_or(SdpError::BadOrigin { line })?),
            's' if self.session_name.is_some() => return Err(dup),
            's' => self.session_name = Some(value.to_string()),
            'c' if self.connection.is_some() => return Err(dup),
            'c' => self.connection = Some(parse_connection(value, line)?),
            't' => {
                if self.timing.len() >= MAX_ATTRIBUTES {
                    return Err(SdpError::TooMany {
                        what: "t= lines",
                        max: MAX_ATTRIBUTES,
                    });
                }
                self.timing
                    .push(parse_timing(value).ok_or(SdpError::BadTiming { line })?);
            }
            'a' => push_attribute(&mut self.attributes, value, line)?,
            _ => push_other(&mut self.other_lines, kind, value)?,
        }
        Ok(())
    }

    fn media_line(&mut self, kind: char, value: &str) -> Result<(), SdpError> {
        let line = self.line;
        // A media section exists: media_line is only called when `self.media` is non-empty.
        let m = self.media.last_mut().expect("inside a media section");
        match kind {
            'c' if m.connection.is_some() => Err(SdpError::DuplicateLine { line, kind }),
            'c' => {
                m.connection = Some(parse_connection(value, line)?);
                Ok(())
            }
            'a' => push_attribute(&mut m.attributes, value, line),
            'v' | 'o' | 's' | 'u' | 'e' | 'p' | 't' | 'r' | 'z' => {
                Err(SdpError::UnexpectedLine { line, kind })
            }
            _ => push_other(&mut m.other_lines, kind, value),
        }
    }

    fn start_media(&mut self, value: &str) -> Result<(), SdpError> {
        let line = self.line;
        if self.media.len() >= MAX_MEDIA {
            return Err(SdpError::TooMany {
                what: "m= sections",
                max: MAX_MEDIA,
            });
        }
        let mut fields = value.split_ascii_whitespace();
        let (Some(kind), Some(port), Some(proto)) = (fields.next(), fields.next(), fields.next())
        else {
            return Err(SdpError::BadMedia { line });
        };
        let (port, port_count) = match port.split_once('/') {
            Some((p, n)) => (p, Some(n.parse().map_err(|_| SdpError::BadPort { line })?)),
            None => (port, None),
        };
        let port = parse_u16(port).ok_or(SdpError::BadPort { line })?;
        let mut formats = Vec::new();
        for f in fields {
            if formats.len() >= MAX_FORMATS {
                return Err(SdpError::TooMany {
                    what: "formats",
                    max: MAX_FORMATS,
                });
            }
            if is_rtp_proto(proto) && f.parse::<PayloadType>().is_err() {
                return Err(SdpError::BadPayloadType { line });
            }
            formats.push(f.to_string());
        }
        if formats.is_empty() {
            return Err(SdpError::BadMedia { line });
        }
        self.media.push(MediaDescription {
            kind: kind.to_string(),
            port,
            port_count,
            proto: proto.to_string(),
            formats,
            connection: None,
            attributes: Vec::new(),
            other_lines: Vec::new(),
        });
        Ok(())
    }
}

fn push_attribute(list: &mut Vec<Attribute>, value: &str, line: usize) -> Result<(), SdpError> {
    if list.len() >= MAX_ATTRIBUTES {
        return Err(SdpError::TooMany {
            what: "attributes",
            max: MAX_ATTRIBUTES,
        });
    }
    let (name, value) = match value.split_once(':') {
        Some((n, v)) => (n, Some(v)),
        None => (value, None),
    };
    let bad = || SdpError::BadAttribute {
        line,
        name: name.to_string(),
    };
    if name.is_empty()
        || name
            .bytes()
            .any(|b| b.is_ascii_whitespace() || b.is_ascii_control())
    {
        return Err(bad());
    }
    // Negotiation relies on these; a broken one is an error rather than a silent skip.
    let valid = match name.to_ascii_lowercase().as_str() {
        "rtpmap" => value.and_then(parse_rtpmap).is_some(),
        "ptime" | "maxptime" => value.and_then(parse_millis).is_some(),
        _ => true,
    };
    if !valid {
        return Err(bad());
    }
    list.push(Attribute {
        name: name.to_string(),
        value: value.map(str::to_string),
    });
    Ok(())
}

fn push_other(list: &mut Vec<OtherLine>, kind: char, value: &str) -> Result<(), SdpError> {
    if list.len() >= MAX_ATTRIBUTES {
        return Err(SdpError::TooMany {
            what: "other lines",
            max: MAX_ATTRIBUTES,
        });
    }
    list.push(OtherLine {
        kind,
        value: value.to_string(),
    });
    Ok(())
}

fn parse_u16(s: &str) -> Option<u16> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn parse_origin(value: &str) -> Option<Origin> {
    let f: Vec<&str> = value.split_ascii_whitespace().take(7).collect();
    let [username, session_id, version, net, addr_type, address] = f.as_slice() else {
        return None;
    };
    if !net.eq_ignore_ascii_case("IN") || !(*addr_type == "IP4" || *addr_type == "IP6") {
        return None;
    }
    if !version.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(Origin {
        username: username.to_string(),
        session_id: session_id.to_string(),
        session_version: version.parse().ok()?,
        address_type: addr_type.to_string(),
        address: address.to_string(),
    })
}

fn parse_connection(value: &str, line: usize) -> Result<Connection, SdpError> {
    let bad = SdpError::BadConnection { line };
    let f: Vec<&str> = value.split_ascii_whitespace().take(4).collect();
    let [net, addr_type, address] = f.as_slice() else {
        return Err(bad);
    };
    if !net.eq_ignore_ascii_case("IN") {
        return Err(bad);
    }
    let (address, suffix) = match address.split_once('/') {
        Some((a, s)) => (a, Some(s.to_string())),
        None => (*address, None),
    };
    let address: IpAddr = address.parse().map_err(|_| bad.clone())?;
    let type_matches = match *addr_type {
        "IP4" => address.is_ipv4(),
        "IP6" => address.is_ipv6(),
        _ => false,
    };
    if !type_matches {
        return Err(bad);
    }
    Ok(Connection { address, suffix })
}

fn parse_timing(value: &str) -> Option<Timing> {
    let mut f = value.split_ascii_whitespace();
    let t = Timing {
        start: f.next()?.parse().ok()?,
        stop: f.next()?.parse().ok()?,
    };
    f.next().is_none().then_some(t)
}

#[cfg(test)]
#[path = "session_tests.rs"]
pub(super) mod tests;
