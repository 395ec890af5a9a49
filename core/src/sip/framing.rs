//! Sans-IO framing of SIP over a byte stream (TCP, TLS; RFC 3261 §18.3) with RFC 5626 §3.5.1
//! CRLF keep-alives.
//!
//! The engine pushes whatever it read from the connection and drains [`StreamFramer::next`]
//! until it yields `None`. A message ends after its header block plus Content-Length bytes;
//! Content-Length is mandatory on streams. After an error the stream cannot be re-synchronised:
//! the framer yields nothing more and the caller should close the connection.

use super::parse::MAX_MESSAGE_LEN;

/// One unit cut from the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// One whole message (header block and body), ready for [`super::parse::parse_message`].
    Message(Vec<u8>),
    /// A double CRLF: the peer asks for a keep-alive answer, a single CRLF.
    KeepAlivePing,
    /// A lone CRLF: the answer to our ping.
    KeepAlivePong,
}

/// Why the stream cannot be framed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FramingError {
    #[error("message without Content-Length on a stream")]
    MissingContentLength,
    #[error("bad Content-Length: {0}")]
    BadContentLength(String),
    #[error("message larger than {MAX_MESSAGE_LEN} bytes")]
    TooLarge,
}

/// Cuts a byte stream into SIP messages and keep-alives. The buffer never holds more than
/// one message's limit beyond what the caller pushed since the last drain.
#[derive(Debug, Default)]
pub struct StreamFramer {
    buf: Vec<u8>,
    /// How far the search for the end of the header block has got, so that a message arriving
    /// byte by byte is scanned once, not once per byte.
    scanned: usize,
    /// The header block has been read: where it ends and how long the body is.
    pending: Option<(usize, usize)>,
    failed: bool,
}

impl StreamFramer {
    pub fn new() -> StreamFramer {
        StreamFramer::default()
    }

    /// Appends bytes read from the connection. Ignored once the framer has failed.
    pub fn push(&mut self, bytes: &[u8]) {
        if !self.failed {
            self.buf.extend_from_slice(bytes);
        }
    }

    /// Bytes buffered but not yet returned as a frame.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// The next complete frame, `None` if more bytes are needed (or after an error).
    #[allow(clippy::should_implement_trait)] // Not an iterator: `None` means "not yet".
    pub fn next(&mut self) -> Option<Result<Frame, FramingError>> {
        if self.failed {
            return None;
        }
        match self.next_frame() {
            Ok(Some(frame)) => Some(Ok(frame)),
            Ok(None) => None,
            Err(e) => {
                self.failed = true;
                self.buf = Vec::new();
                Some(Err(e))
            }
        }
    }

    fn next_frame(&mut self) -> Result<Option<Frame>, FramingError> {
        if self.pending.is_none() {
            if self.buf.starts_with(b"\r\n\r\n") {
                self.consume(4);
                return Ok(Some(Frame::KeepAlivePing));
            }
            match self.buf.as_slice() {
                // A CRLF that may still become a ping once more bytes arrive. A lone CRLF
                // with nothing after it is a pong: waiting would hide the answer to our ping.
                [b'\r', b'\n', b'\r'] | [b'\r'] => return Ok(None),
                [b'\r', b'\n', ..] => {
                    self.consume(2);
                    return Ok(Some(Frame::KeepAlivePong));
                }
                _ => {}
            }
            let Some(head_end) = self.find_head_end() else {
                if self.buf.len() > MAX_MESSAGE_LEN {
                    return Err(FramingError::TooLarge);
                }
                return Ok(None);
            };
            let body_len = content_length(&self.buf[..head_end])?;
            if head_end + 4 + body_len > MAX_MESSAGE_LEN {
                return Err(FramingError::TooLarge);
            }
            self.pending = Some((head_end, body_len));
        }
        match self.pending {
            Some((head_end, body_len)) if self.buf.len() >= head_end + 4 + body_len => {
                let rest = self.buf.split_off(head_end + 4 + body_len);
                let msg = std::mem::replace(&mut self.buf, rest);
                self.pending = None;
                self.scanned = 0;
                Ok(Some(Frame::Message(msg)))
            }
            _ => Ok(None),
        }
    }

    fn consume(&mut self, n: usize) {
        self.buf.drain(..n);
        self.scanned = 0;
    }

    /// The index of the `\r\n\r\n` that ends the header block, searching only new bytes.
    fn find_head_end(&mut self) -> Option<usize> {
        let from = self.scanned.saturating_sub(3);
        let found = self.buf[from..]
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .map(|i| from + i);
        self.scanned = self.buf.len();
        found
    }
}

/// Reads Content-Length (or its compact form `l`) from a header block. Every copy must agree.
fn content_length(head: &[u8]) -> Result<usize, FramingError> {
    let bad = |r: &str| FramingError::BadContentLength(r.to_string());
    let mut found = None;
    // The first line is the start line; it has no header to look at.
    for line in head.split(|&b| b == b'\n').skip(1) {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let name = line[..colon].trim_ascii();
        if !(name.eq_ignore_ascii_case(b"content-length") || name.eq_ignore_ascii_case(b"l")) {
            continue;
        }
        let value = line[colon + 1..].trim_ascii();
        if value.is_empty() || value.len() > 10 || !value.iter().all(u8::is_ascii_digit) {
            return Err(bad("not a number"));
        }
        // At most ten ASCII digits: valid UTF-8 that fits in u64.
        let n = std::str::from_utf8(value)
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
            .ok_or_else(|| bad("not a number"))?;
        let n = usize::try_from(n).map_err(|_| FramingError::TooLarge)?;
        if found.is_some_and(|m| m != n) {
            return Err(bad("conflicting values"));
        }
        found = Some(n);
    }
    found.ok_or(FramingError::MissingContentLength)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MSG: &[u8] = b"OPTIONS sip:a@b.example SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\n\
From: <sip:x@y.example>;tag=1\r\nTo: <sip:a@b.example>\r\nCall-ID: c1\r\nCSeq: 1 OPTIONS\r\n\
Content-Length: 5\r\n\r\nhello";

    fn drain(f: &mut StreamFramer) -> Vec<Result<Frame, FramingError>> {
        // Bounded: each frame consumes at least one byte of a finite buffer.
        std::iter::from_fn(|| f.next()).take(1000).collect()
    }

    #[test]
    fn message_split_byte_by_byte() {
        let mut f = StreamFramer::new();
        let mut out = Vec::new();
        for b in MSG.iter().chain(MSG) {
            f.push(&[*b]);
            out.extend(drain(&mut f));
        }
        assert_eq!(
            out,
            vec![
                Ok(Frame::Message(MSG.to_vec())),
                Ok(Frame::Message(MSG.to_vec()))
            ]
        );
        assert_eq!(f.buffered(), 0);
        let parsed = crate::sip::parse::parse_message(MSG).expect("valid");
        assert_eq!(parsed.body(), b"hello");
    }

    #[test]
    fn several_messages_and_keepalives_in_one_push() {
        let mut data = b"\r\n\r\n".to_vec();
        data.extend_from_slice(MSG);
        data.extend_from_slice(b"\r\n");
        data.extend_from_slice(MSG);
        data.extend_from_slice(b"\r\n\r\n");
        data.extend_from_slice(&MSG[..10]);
        let mut f = StreamFramer::new();
        f.push(&data);
        assert_eq!(
            drain(&mut f),
            vec![
                Ok(Frame::KeepAlivePing),
                Ok(Frame::Message(MSG.to_vec())),
                Ok(Frame::KeepAlivePong),
                Ok(Frame::Message(MSG.to_vec())),
                Ok(Frame::KeepAlivePing),
            ]
        );
        assert_eq!(f.buffered(), 10);
        f.push(&MSG[10..]);
        assert_eq!(drain(&mut f), vec![Ok(Frame::Message(MSG.to_vec()))]);
    }

    #[test]
    fn ping_split_across_pushes_is_still_a_ping() {
        let mut f = StreamFramer::new();
        f.push(b"\r");
        assert_eq!(f.next(), None);
        f.push(b"\n\r");
        assert_eq!(f.next(), None);
        f.push(b"\n");
        assert_eq!(f.next(), Some(Ok(Frame::KeepAlivePing)));
        f.push(b"\r\n");
        assert_eq!(f.next(), Some(Ok(Frame::KeepAlivePong)));
    }

    #[test]
    fn missing_content_length_is_an_error_and_stops_the_stream() {
        let mut f = StreamFramer::new();
        f.push(b"OPTIONS sip:a@b SIP/2.0\r\nCall-ID: x\r\n\r\n");
        assert_eq!(f.next(), Some(Err(FramingError::MissingContentLength)));
        f.push(MSG);
        assert_eq!(f.next(), None);
    }

    #[test]
    fn compact_content_length_and_bad_values() {
        let mut f = StreamFramer::new();
        f.push(b"OPTIONS sip:a@b SIP/2.0\r\nl : 2\r\n\r\nabXYZ");
        assert_eq!(
            f.next(),
            Some(Ok(Frame::Message(
                b"OPTIONS sip:a@b SIP/2.0\r\nl : 2\r\n\r\nab".to_vec()
            )))
        );
        for bad in ["-1", "", "1x", "99999999999", "2\r\nContent-Length: 3"] {
            let mut f = StreamFramer::new();
            f.push(format!("OPTIONS sip:a@b SIP/2.0\r\nContent-Length: {bad}\r\n\r\n").as_bytes());
            assert!(matches!(f.next(), Some(Err(_))), "{bad:?} accepted");
        }
    }

    #[test]
    fn oversized_header_block_and_body_are_errors() {
        let mut f = StreamFramer::new();
        f.push(b"OPTIONS sip:a@b SIP/2.0\r\n");
        let filler = vec![b'a'; 1024];
        let mut result = None;
        for _ in 0..100 {
            f.push(&filler);
            if let Some(r) = f.next() {
                result = Some(r);
                break;
            }
        }
        assert_eq!(result, Some(Err(FramingError::TooLarge)));
        assert_eq!(f.buffered(), 0);

        let mut f = StreamFramer::new();
        f.push(b"OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 65536\r\n\r\n");
        assert_eq!(f.next(), Some(Err(FramingError::TooLarge)));
    }
}
