//! HTTP Digest authentication for SIP (RFC 3261 §22, RFC 2617, RFC 7616, RFC 8760), sans-IO.
//!
//! Client side: parse `WWW-Authenticate` / `Proxy-Authenticate` values into a [`Challenge`], pick
//! the strongest one with [`select_challenge`], and keep a [`DigestClient`] per realm that
//! produces `Authorization` / `Proxy-Authorization` values and counts nonce uses. Server side (the
//! simulated registrar and tests): [`Challenge`] prints as a header value and [`verify`] checks
//! credentials against it. Randomness (the cnonce) is injected; nothing here reads a clock.

use std::fmt;

use md5::Md5;
use rand::RngCore;
use sha2::{Digest, Sha256};

use syntax::{parse_auth_header, Params, Quoted, RawChallenge};

mod syntax;

/// Longest header value we parse; real challenges are a few hundred bytes.
pub const MAX_HEADER_LEN: usize = 8 * 1024;
/// Most parameters accepted in one challenge or credentials value.
pub const MAX_PARAMS: usize = 64;
/// Most challenges accepted in one header value.
pub const MAX_CHALLENGES: usize = 16;

/// Why a challenge or credentials value could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    #[error("empty authentication header")]
    Empty,
    #[error("authentication header longer than {MAX_HEADER_LEN} bytes")]
    TooLong,
    #[error("more than {MAX_PARAMS} parameters or {MAX_CHALLENGES} challenges")]
    TooManyParameters,
    #[error("unsupported authentication scheme {0:?}")]
    UnsupportedScheme(String),
    #[error("unsupported digest algorithm {0:?}")]
    UnsupportedAlgorithm(String),
    #[error("no supported qop among {0:?}")]
    UnsupportedQop(String),
    #[error("malformed authentication header at byte {at}: {reason}")]
    Malformed { at: usize, reason: &'static str },
    #[error("parameter {0:?} appears twice")]
    DuplicateParameter(String),
    #[error("required parameter {0:?} missing")]
    MissingParameter(&'static str),
    #[error("bad nonce count {0:?}")]
    BadNonceCount(String),
    // Verification failures: the peer sent credentials that do not fit our challenge.
    #[error("credentials are for another realm")]
    RealmMismatch,
    #[error("credentials use an old or unknown nonce (answer with stale=true)")]
    StaleNonce,
    #[error("credentials use another algorithm than the challenge")]
    AlgorithmMismatch,
    #[error("credentials use a qop the challenge did not offer")]
    QopMismatch,
    #[error("credentials do not echo the challenge's opaque value")]
    OpaqueMismatch,
    #[error("wrong digest response (bad username or password)")]
    ResponseMismatch,
}

/// Digest hash algorithm. `*Sess` variants hash the client nonce into HA1 (RFC 7616 §3.4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    Md5,
    Md5Sess,
    Sha256,
    Sha256Sess,
}

impl Algorithm {
    /// The token used on the wire, e.g. `SHA-256-sess`.
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Md5 => "MD5",
            Algorithm::Md5Sess => "MD5-sess",
            Algorithm::Sha256 => "SHA-256",
            Algorithm::Sha256Sess => "SHA-256-sess",
        }
    }

    /// Parses an algorithm token, case-insensitively (RFC 7616 §3.3).
    pub fn from_token(token: &str) -> Option<Algorithm> {
        [
            Algorithm::Md5,
            Algorithm::Md5Sess,
            Algorithm::Sha256,
            Algorithm::Sha256Sess,
        ]
        .into_iter()
        .find(|a| a.as_str().eq_ignore_ascii_case(token))
    }

    /// Higher is stronger; RFC 8760 §2.4 asks clients to prefer SHA-256 over MD5.
    fn strength(self) -> u8 {
        match self {
            Algorithm::Md5 | Algorithm::Md5Sess => 1,
            Algorithm::Sha256 | Algorithm::Sha256Sess => 2,
        }
    }

    fn is_session(self) -> bool {
        matches!(self, Algorithm::Md5Sess | Algorithm::Sha256Sess)
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Quality of protection (RFC 2617 §3.2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Qop {
    /// Authentication only.
    Auth,
    /// Authentication with integrity protection of the message body.
    AuthInt,
}

impl Qop {
    pub fn as_str(self) -> &'static str {
        match self {
            Qop::Auth => "auth",
            Qop::AuthInt => "auth-int",
        }
    }

    fn from_token(token: &str) -> Option<Qop> {
        if token.eq_ignore_ascii_case("auth") {
            Some(Qop::Auth)
        } else if token.eq_ignore_ascii_case("auth-int") {
            Some(Qop::AuthInt)
        } else {
            None
        }
    }
}

/// One `Digest` challenge from a 401 or 407 response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    pub realm: String,
    pub nonce: String,
    pub opaque: Option<String>,
    /// `MD5` when the challenge names none (RFC 2617 §3.2.1).
    pub algorithm: Algorithm,
    /// The supported qop options offered, in the server's order; empty means RFC 2069 style.
    pub qop: Vec<Qop>,
    pub stale: bool,
    pub domain: Option<String>,
}

impl Challenge {
    /// A challenge offering `qop="auth"`, as our simulated registrar sends.
    pub fn new(realm: impl Into<String>, nonce: impl Into<String>, algorithm: Algorithm) -> Self {
        Challenge {
            realm: realm.into(),
            nonce: nonce.into(),
            opaque: None,
            algorithm,
            qop: vec![Qop::Auth],
            stale: false,
            domain: None,
        }
    }

    /// Parses a header value holding exactly one `Digest` challenge.
    pub fn parse(value: &str) -> Result<Challenge, AuthError> {
        let mut raw = parse_auth_header(value)?;
        if raw.len() != 1 {
            return Err(AuthError::Malformed {
                at: 0,
                reason: "expected a single challenge",
            });
        }
        // The vector has exactly one element: checked just above.
        challenge_from_raw(raw.pop().expect("one challenge"))
    }

    /// True when the server rejected only the nonce, not the password (RFC 2617 §3.2.1): the
    /// client should retry with the new nonce without asking the user again.
    pub fn is_stale(&self) -> bool {
        self.stale
    }
}

impl fmt::Display for Challenge {
    /// The header value, e.g. `Digest realm="sip.example", nonce="abc", algorithm=MD5, qop="auth"`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Digest realm={}, nonce={}",
            Quoted(&self.realm),
            Quoted(&self.nonce)
        )?;
        if let Some(opaque) = &self.opaque {
            write!(f, ", opaque={}", Quoted(opaque))?;
        }
        write!(f, ", algorithm={}", self.algorithm)?;
        if !self.qop.is_empty() {
            let list: Vec<&str> = self.qop.iter().map(|q| q.as_str()).collect();
            write!(f, ", qop=\"{}\"", list.join(","))?;
        }
        if self.stale {
            f.write_str(", stale=true")?;
        }
        if let Some(domain) = &self.domain {
            write!(f, ", domain={}", Quoted(domain))?;
        }
        Ok(())
    }
}

/// Parses every challenge in the given header values and returns the strongest supported one:
/// SHA-256 before MD5 (RFC 8760 §2.4), the first listed among equals. Challenges with other
/// schemes or algorithms are skipped; if none is usable, the first error is returned.
pub fn select_challenge<'a>(
    header_values: impl IntoIterator<Item = &'a str>,
) -> Result<Challenge, AuthError> {
    let mut best: Option<Challenge> = None;
    let mut first_error = None;
    for (i, value) in header_values.into_iter().enumerate() {
        if i >= MAX_CHALLENGES {
            break;
        }
        let raws = match parse_auth_header(value) {
            Ok(raws) => raws,
            Err(e) => {
                first_error.get_or_insert(e);
                continue;
            }
        };
        for raw in raws {
            match challenge_from_raw(raw) {
                Ok(c) => {
                    let stronger = best
                        .as_ref()
                        .is_none_or(|b| c.algorithm.strength() > b.algorithm.strength());
                    if stronger {
                        best = Some(c);
                    }
                }
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
    }
    best.ok_or(first_error.unwrap_or(AuthError::Empty))
}

/// What a client should do after a new challenge arrived for a realm it already answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChallengeVerdict {
    /// Resend the request with fresh credentials.
    Retry,
    /// The server refused our credentials (not a stale nonce): stop, and tell the user.
    CredentialsRejected,
}

/// Client-side digest state for one realm: the current challenge and its nonce count.
#[derive(Debug, Clone)]
pub struct DigestClient {
    challenge: Challenge,
    nonce_count: u32,
}

impl DigestClient {
    pub fn new(challenge: Challenge) -> Self {
        DigestClient {
            challenge,
            nonce_count: 0,
        }
    }

    pub fn challenge(&self) -> &Challenge {
        &self.challenge
    }

    pub fn realm(&self) -> &str {
        &self.challenge.realm
    }

    /// How many credentials were produced for the current nonce.
    pub fn nonce_count(&self) -> u32 {
        self.nonce_count
    }

    /// Takes the challenge of a 401/407 that answered a request carrying our credentials. A new
    /// nonce resets the count. Unless the server marked our nonce stale, a rechallenge means the
    /// password was wrong; retrying would loop forever, so the verdict says to stop.
    pub fn on_challenge(&mut self, challenge: Challenge) -> ChallengeVerdict {
        let sent_credentials = self.nonce_count > 0;
        let verdict = if sent_credentials && !challenge.stale {
            ChallengeVerdict::CredentialsRejected
        } else {
            ChallengeVerdict::Retry
        };
        if challenge.nonce != self.challenge.nonce {
            self.nonce_count = 0;
        }
        self.challenge = challenge;
        verdict
    }

    /// Produces the full `Authorization` (or `Proxy-Authorization`) value for one request.
    /// `uri` is the Request-URI as sent; `body` matters only with `qop=auth-int`.
    pub fn authorization(
        &mut self,
        method: &str,
        uri: &str,
        username: &str,
        password: &str,
        body: &[u8],
        rng: &mut impl RngCore,
    ) -> String {
        let mut bytes = [0u8; 16];
        rng.fill_bytes(&mut bytes);
        let cnonce = hex::encode(bytes);
        self.authorization_with_cnonce(method, uri, username, password, body, &cnonce)
    }

    fn authorization_with_cnonce(
        &mut self,
        method: &str,
        uri: &str,
        username: &str,
        password: &str,
        body: &[u8],
        cnonce: &str,
    ) -> String {
        // Prefer plain auth; auth-int only when it is all the server accepts.
        let qop = if self.challenge.qop.contains(&Qop::Auth) {
            Some(Qop::Auth)
        } else {
            self.challenge.qop.first().copied()
        };
        self.nonce_count = self.nonce_count.saturating_add(1);
        let c = &self.challenge;
        let uses_cnonce = qop.is_some() || c.algorithm.is_session();
        let nc = format!("{:08x}", self.nonce_count);
        let input = ResponseInput {
            algorithm: c.algorithm,
            username,
            realm: &c.realm,
            password,
            nonce: &c.nonce,
            method,
            uri,
            qop,
            nc: &nc,
            cnonce: if uses_cnonce { cnonce } else { "" },
            body,
        };
        let response = input.response();

        let mut out = format!(
            "Digest username={}, realm={}, nonce={}, uri={}, response=\"{}\", algorithm={}",
            Quoted(username),
            Quoted(&c.realm),
            Quoted(&c.nonce),
            Quoted(uri),
            response,
            c.algorithm
        );
        if uses_cnonce {
            out.push_str(&format!(", cnonce={}", Quoted(cnonce)));
        }
        if let Some(qop) = qop {
            out.push_str(&format!(", qop={}, nc={nc}", qop.as_str()));
        }
        if let Some(opaque) = &c.opaque {
            out.push_str(&format!(", opaque={}", Quoted(opaque)));
        }
        out
    }
}

/// A parsed `Authorization` / `Proxy-Authorization` value (server side).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub realm: String,
    pub nonce: String,
    pub uri: String,
    pub response: String,
    pub algorithm: Algorithm,
    pub cnonce: Option<String>,
    pub opaque: Option<String>,
    pub qop: Option<Qop>,
    /// The nonce count, if sent; a registrar uses it to spot replays.
    pub nonce_count: Option<u32>,
}

impl Credentials {
    pub fn parse(value: &str) -> Result<Credentials, AuthError> {
        let mut raws = parse_auth_header(value)?;
        if raws.len() != 1 {
            return Err(AuthError::Malformed {
                at: 0,
                reason: "expected a single credentials",
            });
        }
        // Exactly one element: checked just above.
        let raw = raws.pop().expect("one credentials");
        if !raw.scheme.eq_ignore_ascii_case("digest") {
            return Err(AuthError::UnsupportedScheme(raw.scheme));
        }
        let p = Params::collect(raw.params)?;
        let algorithm = match p.get("algorithm") {
            None => Algorithm::Md5,
            Some(a) => {
                Algorithm::from_token(a).ok_or_else(|| AuthError::UnsupportedAlgorithm(a.into()))?
            }
        };
        let qop = match p.get("qop") {
            None => None,
            Some(q) => Some(Qop::from_token(q).ok_or_else(|| AuthError::UnsupportedQop(q.into()))?),
        };
        let nonce_count = match p.get("nc") {
            None => None,
            Some(nc) => Some(parse_nonce_count(nc)?),
        };
        Ok(Credentials {
            username: p.require("username")?,
            realm: p.require("realm")?,
            nonce: p.require("nonce")?,
            uri: p.require("uri")?,
            response: p.require("response")?,
            algorithm,
            cnonce: p.get("cnonce").map(str::to_string),
            opaque: p.get("opaque").map(str::to_string),
            qop,
            nonce_count,
        })
    }
}

/// Checks a credentials value against the challenge we sent, for a request with `method` and
/// `body`. The digest comparison runs in constant time. On [`AuthError::StaleNonce`] the server
/// should rechallenge with `stale=true`.
pub fn verify(
    credentials: &str,
    method: &str,
    password: &str,
    challenge: &Challenge,
    body: &[u8],
) -> Result<(), AuthError> {
    let cr = Credentials::parse(credentials)?;
    if cr.realm != challenge.realm {
        return Err(AuthError::RealmMismatch);
    }
    if cr.nonce != challenge.nonce {
        return Err(AuthError::StaleNonce);
    }
    if cr.algorithm != challenge.algorithm {
        return Err(AuthError::AlgorithmMismatch);
    }
    if challenge.opaque.is_some() && cr.opaque != challenge.opaque {
        return Err(AuthError::OpaqueMismatch);
    }
    let nc = match cr.qop {
        Some(q) if challenge.qop.contains(&q) => {
            let count = cr.nonce_count.ok_or(AuthError::MissingParameter("nc"))?;
            format!("{count:08x}")
        }
        None if challenge.qop.is_empty() => String::new(),
        _ => return Err(AuthError::QopMismatch),
    };
    let cnonce = match (&cr.cnonce, cr.qop.is_some() || cr.algorithm.is_session()) {
        (Some(c), true) => c.as_str(),
        (None, true) => return Err(AuthError::MissingParameter("cnonce")),
        (_, false) => "",
    };
    let expected = ResponseInput {
        algorithm: cr.algorithm,
        username: &cr.username,
        realm: &cr.realm,
        password,
        nonce: &cr.nonce,
        method,
        uri: &cr.uri,
        qop: cr.qop,
        nc: &nc,
        cnonce,
        body,
    }
    .response();
    if constant_time_eq(
        expected.as_bytes(),
        cr.response.to_ascii_lowercase().as_bytes(),
    ) {
        Ok(())
    } else {
        Err(AuthError::ResponseMismatch)
    }
}

// ---------------------------------------------------------------------------------------------
// Digest computation

/// Everything the response digest depends on (RFC 7616 §3.4.1).
struct ResponseInput<'a> {
    algorithm: Algorithm,
    username: &'a str,
    realm: &'a str,
    password: &'a str,
    nonce: &'a str,
    method: &'a str,
    uri: &'a str,
    qop: Option<Qop>,
    /// Eight hex digits; unused without qop.
    nc: &'a str,
    /// Empty when neither qop nor a session algorithm is in use.
    cnonce: &'a str,
    body: &'a [u8],
}

impl ResponseInput<'_> {
    fn response(&self) -> String {
        let alg = self.algorithm;
        let mut ha1 = hash(alg, &[self.username, self.realm, self.password]);
        if alg.is_session() {
            ha1 = hash(alg, &[&ha1, self.nonce, self.cnonce]);
        }
        let ha2 = match self.qop {
            Some(Qop::AuthInt) => {
                let body_hash = hash_bytes(alg, self.body);
                hash(alg, &[self.method, self.uri, &body_hash])
            }
            _ => hash(alg, &[self.method, self.uri]),
        };
        match self.qop {
            Some(q) => hash(
                alg,
                &[&ha1, self.nonce, self.nc, self.cnonce, q.as_str(), &ha2],
            ),
            None => hash(alg, &[&ha1, self.nonce, &ha2]),
        }
    }
}

/// Lower-case hex of H(parts joined by ':').
fn hash(alg: Algorithm, parts: &[&str]) -> String {
    let joined = parts.join(":");
    hash_bytes(alg, joined.as_bytes())
}

fn hash_bytes(alg: Algorithm, data: &[u8]) -> String {
    match alg {
        Algorithm::Md5 | Algorithm::Md5Sess => hex::encode(Md5::digest(data)),
        Algorithm::Sha256 | Algorithm::Sha256Sess => hex::encode(Sha256::digest(data)),
    }
}

/// Compares without an early exit so timing does not reveal how many leading bytes matched.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn parse_nonce_count(nc: &str) -> Result<u32, AuthError> {
    if nc.len() != 8 {
        return Err(AuthError::BadNonceCount(nc.into()));
    }
    u32::from_str_radix(nc, 16).map_err(|_| AuthError::BadNonceCount(nc.into()))
}

fn challenge_from_raw(raw: RawChallenge) -> Result<Challenge, AuthError> {
    if !raw.scheme.eq_ignore_ascii_case("digest") {
        return Err(AuthError::UnsupportedScheme(raw.scheme));
    }
    let p = Params::collect(raw.params)?;
    let algorithm = match p.get("algorithm") {
        None => Algorithm::Md5,
        Some(a) => {
            Algorithm::from_token(a).ok_or_else(|| AuthError::UnsupportedAlgorithm(a.into()))?
        }
    };
    let qop = match p.get("qop") {
        None => Vec::new(),
        Some(list) => {
            let offered: Vec<Qop> = list
                .split(',')
                .filter_map(|t| Qop::from_token(t.trim()))
                .collect();
            // A qop directive we cannot satisfy must not silently fall back to RFC 2069 style.
            if offered.is_empty() {
                return Err(AuthError::UnsupportedQop(list.into()));
            }
            offered
        }
    };
    Ok(Challenge {
        realm: p.require("realm")?,
        nonce: p.require("nonce")?,
        opaque: p.get("opaque").map(str::to_string),
        algorithm,
        qop,
        stale: p
            .get("stale")
            .is_some_and(|s| s.eq_ignore_ascii_case("true")),
        domain: p.get("domain").map(str::to_string),
    })
}

#[cfg(test)]
mod tests;
