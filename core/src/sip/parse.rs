//! The SIP parser (RFC 3261 §7, §20, §25; RFC 4475 is the torture reference).
//!
//! Network input is hostile: every function here returns a typed error and never panics.

use super::message::*;
use super::uri::Uri;

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
pub fn parse_message(_data: &[u8]) -> Result<SipMessage, ParseError> {
    todo!("parser")
}

impl Uri {
    pub fn parse(_s: &str) -> Result<Uri, HeaderError> {
        todo!("uri parser")
    }
}

impl Via {
    pub fn parse(_s: &str) -> Result<Via, HeaderError> {
        todo!("via parser")
    }
}

impl NameAddr {
    pub fn parse(_s: &str) -> Result<NameAddr, HeaderError> {
        todo!("name-addr parser")
    }
}

impl CSeq {
    pub fn parse(_s: &str) -> Result<CSeq, HeaderError> {
        todo!("cseq parser")
    }
}
