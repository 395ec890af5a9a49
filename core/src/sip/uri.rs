//! SIP and SIPS URIs (RFC 3261 §19.1), including IPv6 references and escaped characters.
//! Parsing is in [`super::parse`].

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::message::{Params, Transport};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    Sip,
    Sips,
}

/// The host part of a URI or Via.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Host {
    /// A domain name, stored lower-case.
    Domain(String),
    V4(Ipv4Addr),
    V6(Ipv6Addr),
}

impl Host {
    pub fn ip(&self) -> Option<IpAddr> {
        match self {
            Host::Domain(_) => None,
            Host::V4(a) => Some(IpAddr::V4(*a)),
            Host::V6(a) => Some(IpAddr::V6(*a)),
        }
    }
}

impl From<IpAddr> for Host {
    fn from(ip: IpAddr) -> Host {
        match ip {
            IpAddr::V4(a) => Host::V4(a),
            IpAddr::V6(a) => Host::V6(a),
        }
    }
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Domain(d) => f.write_str(d),
            Host::V4(a) => write!(f, "{a}"),
            Host::V6(a) => write!(f, "[{a}]"),
        }
    }
}

/// A `sip:` or `sips:` URI. `user` and `password` are stored unescaped; they are escaped again
/// when the URI is written. Parameter and header values are stored as they arrived (escaped).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uri {
    pub scheme: Scheme,
    pub user: Option<String>,
    pub password: Option<String>,
    pub host: Host,
    pub port: Option<u16>,
    pub params: Params,
    /// `?name=value&...` headers.
    pub headers: Vec<(String, String)>,
}

impl Uri {
    pub fn new(scheme: Scheme, user: Option<&str>, host: Host, port: Option<u16>) -> Uri {
        Uri {
            scheme,
            user: user.map(str::to_string),
            password: None,
            host,
            port,
            params: Params::default(),
            headers: Vec::new(),
        }
    }

    /// The `transport=` parameter, if it names a transport we know.
    pub fn transport_param(&self) -> Option<Transport> {
        match self
            .params
            .value("transport")?
            .to_ascii_lowercase()
            .as_str()
        {
            "udp" => Some(Transport::Udp),
            "tcp" => Some(Transport::Tcp),
            "tls" => Some(Transport::Tls),
            _ => None,
        }
    }

    /// Whether the URI carries the `lr` (loose routing) parameter.
    pub fn is_loose_route(&self) -> bool {
        self.params.contains("lr")
    }
}

impl fmt::Display for Uri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.scheme {
            Scheme::Sip => "sip:",
            Scheme::Sips => "sips:",
        })?;
        if let Some(u) = &self.user {
            f.write_str(&escape(u, USER_UNRESERVED))?;
            if let Some(p) = &self.password {
                write!(f, ":{}", escape(p, PASSWORD_UNRESERVED))?;
            }
            f.write_str("@")?;
        }
        write!(f, "{}", self.host)?;
        if let Some(p) = self.port {
            write!(f, ":{p}")?;
        }
        write!(f, "{}", self.params)?;
        for (i, (n, v)) in self.headers.iter().enumerate() {
            write!(f, "{}{n}={v}", if i == 0 { '?' } else { '&' })?;
        }
        Ok(())
    }
}

/// Characters besides alphanumerics and RFC 3261 `mark` that may stand unescaped in `user`.
const USER_UNRESERVED: &str = "-_.!~*'()&=+$,;?/";
const PASSWORD_UNRESERVED: &str = "-_.!~*'()&=+$,";

fn escape(s: &str, allowed: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || allowed.as_bytes().contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
