//! Header syntax: `scheme param=value, param="quoted", ...` possibly several challenges in a row

use std::fmt;

use super::{AuthError, MAX_CHALLENGES, MAX_HEADER_LEN, MAX_PARAMS};

/// Writes a quoted-string, escaping `"` and `\`.
pub(super) struct Quoted<'a>(pub(super) &'a str);

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"")?;
        for ch in self.0.chars() {
            if ch == '"' || ch == '\\' {
                f.write_str("\\")?;
            }
            write!(f, "{ch}")?;
        }
        f.write_str("\"")
    }
}

pub(super) struct RawChallenge {
    pub(super) scheme: String,
    /// Names lower-cased, values unquoted.
    pub(super) params: Vec<(String, String)>,
}

/// Known parameters by lower-cased name; duplicates are rejected, unknown ones ignored.
pub(super) struct Params(Vec<(String, String)>);

impl Params {
    const KNOWN: &'static [&'static str] = &[
        "realm",
        "nonce",
        "opaque",
        "algorithm",
        "qop",
        "stale",
        "domain",
        "username",
        "uri",
        "response",
        "cnonce",
        "nc",
    ];

    pub(super) fn collect(raw: Vec<(String, String)>) -> Result<Params, AuthError> {
        let mut known: Vec<(String, String)> = Vec::new();
        for (name, value) in raw {
            if !Self::KNOWN.contains(&name.as_str()) {
                continue;
            }
            if known.iter().any(|(n, _)| *n == name) {
                return Err(AuthError::DuplicateParameter(name));
            }
            known.push((name, value));
        }
        Ok(Params(known))
    }

    pub(super) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub(super) fn require(&self, name: &'static str) -> Result<String, AuthError> {
        self.get(name)
            .map(str::to_string)
            .ok_or(AuthError::MissingParameter(name))
    }
}

pub(super) fn parse_auth_header(value: &str) -> Result<Vec<RawChallenge>, AuthError> {
    if value.len() > MAX_HEADER_LEN {
        return Err(AuthError::TooLong);
    }
    let mut cur = Cursor {
        s: value.as_bytes(),
        pos: 0,
    };
    let mut out: Vec<RawChallenge> = Vec::new();
    loop {
        cur.skip_while(|b| b == b',' || is_ws(b));
        if cur.at_end() {
            break;
        }
        if out.len() >= MAX_CHALLENGES {
            return Err(AuthError::TooManyParameters);
        }
        let scheme = cur.token().ok_or(cur.error("expected a scheme"))?;
        let mut params = Vec::new();
        loop {
            cur.skip_while(|b| b == b',' || is_ws(b));
            if cur.at_end() {
                break;
            }
            let start = cur.pos;
            let name = cur.token().ok_or(cur.error("expected a parameter name"))?;
            cur.skip_while(is_ws);
            if cur.peek() != Some(b'=') {
                // A token without '=' starts the next challenge.
                cur.pos = start;
                break;
            }
            cur.pos += 1;
            cur.skip_while(is_ws);
            let value = if cur.peek() == Some(b'"') {
                cur.quoted()?
            } else {
                // Lenient: unquoted values may hold '/', '=' and such (seen in base64 nonces).
                let v = cur.take_while(|b| !(b == b',' || b == b'"' || is_ws(b)));
                if v.is_empty() {
                    return Err(cur.error("expected a parameter value"));
                }
                v.to_string()
            };
            if params.len() >= MAX_PARAMS {
                return Err(AuthError::TooManyParameters);
            }
            params.push((name.to_ascii_lowercase(), value));
            cur.skip_while(is_ws);
            match cur.peek() {
                None | Some(b',') => {}
                Some(_) => return Err(cur.error("expected ',' between parameters")),
            }
        }
        out.push(RawChallenge {
            scheme: scheme.to_string(),
            params,
        });
    }
    if out.is_empty() {
        return Err(AuthError::Empty);
    }
    Ok(out)
}

fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

struct Cursor<'a> {
    s: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn at_end(&self) -> bool {
        self.pos >= self.s.len()
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn error(&self, reason: &'static str) -> AuthError {
        AuthError::Malformed {
            at: self.pos,
            reason,
        }
    }

    fn skip_while(&mut self, f: impl Fn(u8) -> bool) {
        while self.peek().is_some_and(&f) {
            self.pos += 1;
        }
    }

    /// Bytes taken stop only at ASCII delimiters, so the slice lies on char boundaries.
    fn take_while(&mut self, f: impl Fn(u8) -> bool) -> &'a str {
        let start = self.pos;
        self.skip_while(f);
        std::str::from_utf8(&self.s[start..self.pos]).unwrap_or("")
    }

    fn token(&mut self) -> Option<&'a str> {
        let t = self.take_while(is_tchar);
        (!t.is_empty()).then_some(t)
    }

    /// Reads a quoted-string starting at the opening quote and returns it unescaped.
    fn quoted(&mut self) -> Result<String, AuthError> {
        let open = self.pos;
        self.pos += 1;
        let mut out = Vec::new();
        loop {
            match self.peek() {
                None => {
                    return Err(AuthError::Malformed {
                        at: open,
                        reason: "unterminated quote",
                    })
                }
                Some(b'"') => {
                    self.pos += 1;
                    break;
                }
                Some(b'\\') => {
                    self.pos += 1;
                    let escaped = self.peek().ok_or(AuthError::Malformed {
                        at: open,
                        reason: "unterminated quote",
                    })?;
                    out.push(escaped);
                    self.pos += 1;
                }
                Some(b) => {
                    out.push(b);
                    self.pos += 1;
                }
            }
        }
        // The input is a &str and we only removed ASCII bytes, but an escaped byte could split
        // a multi-byte character; treat that as malformed rather than panic.
        String::from_utf8(out).map_err(|_| AuthError::Malformed {
            at: open,
            reason: "bad UTF-8",
        })
    }
}
