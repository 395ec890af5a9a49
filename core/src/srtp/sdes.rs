//! SDP Security Descriptions (RFC 4568): `a=crypto` parse/print and offer/answer.
//!
//! `a=crypto:<tag> <crypto-suite> inline:<base64 key||salt>[|<lifetime>][|<MKI>:<length>]
//! [<session-params>]`. We parse everything the grammar allows, then refuse clearly what we do not
//! support: MKIs (one master key per direction, so no MKI on the wire), more than one key, and
//! session parameters that change the transform (`UNENCRYPTED_*`, `UNAUTHENTICATED_SRTP`, FEC,
//! `KDR` other than 0). `WSH` (a window-size hint) is accepted and ignored.
//!
//! ```
//! use sipher::srtp::sdes::{answer_offer, CryptoAttribute};
//! use rand::SeedableRng;
//!
//! let offer = [
//!     CryptoAttribute::parse("a=crypto:1 AES_CM_128_HMAC_SHA1_80 \
//!         inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^20|1:4").unwrap(),
//!     CryptoAttribute::parse("a=crypto:2 AES_CM_128_HMAC_SHA1_32 \
//!         inline:NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Zj").unwrap(),
//! ];
//! let mut rng = rand::rngs::StdRng::seed_from_u64(1);
//! let agreed = answer_offer(&offer, &mut rng).unwrap();
//! // Tag 1 carries an MKI, which we refuse, so tag 2 is chosen.
//! assert_eq!(agreed.answer.tag, 2);
//! assert!(agreed.answer.to_string().starts_with("a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:"));
//! ```

use std::fmt;

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;

use super::{MasterKeys, SrtpProfile};

/// Longest `a=crypto` value we read; real ones are under 200 bytes.
pub const MAX_CRYPTO_LEN: usize = 1024;
/// Most session parameters we read on one line.
pub const MAX_SESSION_PARAMS: usize = 8;

/// One parsed `a=crypto` attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CryptoAttribute {
    /// Decimal tag, 1 to 999999999 (RFC 4568 §9.1), echoed by the answer.
    pub tag: u32,
    pub keys: MasterKeys,
    /// Packets the key may protect, if the peer said (`2^20` or decimal).
    pub lifetime: Option<u64>,
    /// Master key identifier, if present: value and length in bytes on the wire.
    pub mki: Option<Mki>,
    pub session_params: Vec<SessionParam>,
}

/// `<MKI value>:<MKI length>` from the key parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mki {
    pub value: u64,
    pub len: u8,
}

/// An SDES session parameter (RFC 4568 §6.3).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionParam {
    /// `KDR=n`: key derivation rate 2^n.
    Kdr(u8),
    UnencryptedSrtp,
    UnencryptedSrtcp,
    UnauthenticatedSrtp,
    /// `WSH=n`: replay window size hint.
    WindowSizeHint(u64),
    /// `FEC_ORDER`, `FEC_KEY` or anything not defined by RFC 4568, kept verbatim.
    Other(String),
}

/// Why an `a=crypto` line could not be parsed or cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SdesError {
    #[error("a=crypto value of {len} bytes exceeds {max}")]
    TooLong { len: usize, max: usize },
    #[error("a=crypto needs a tag, a crypto-suite and key parameters")]
    MissingField,
    #[error("bad a=crypto tag {0:?}")]
    BadTag(String),
    #[error("unknown or unsupported crypto-suite {0:?}")]
    UnknownSuite(String),
    #[error("key method {0:?} is not inline")]
    BadKeyMethod(String),
    #[error("key parameter is not valid base64")]
    BadBase64,
    #[error("key||salt must be {expected} bytes for this suite, got {got}")]
    WrongKeyLength { expected: usize, got: usize },
    #[error("bad key lifetime {0:?}")]
    BadLifetime(String),
    #[error("bad MKI {0:?}")]
    BadMki(String),
    #[error("bad session parameter {0:?}")]
    BadSessionParam(String),
    #[error("more than {max} session parameters")]
    TooManySessionParams { max: usize },

    // Well-formed, but we refuse it.
    #[error("MKI is not supported (one master key per direction)")]
    MkiUnsupported,
    #[error("more than one master key on one line is not supported")]
    MultipleKeysUnsupported,
    #[error("session parameter {0:?} is not supported")]
    UnsupportedSessionParam(String),
    #[error("no offered crypto line is acceptable: {0:?}")]
    NoAcceptableOffer(Vec<SdesError>),
    #[error("answer tag {0} matches no offered line with the same suite")]
    AnswerDoesNotMatchOffer(u32),
}

impl CryptoAttribute {
    /// A new attribute with fresh keys and no optional parameters.
    pub fn generate(tag: u32, profile: SrtpProfile, rng: &mut impl rand::RngCore) -> Self {
        CryptoAttribute {
            tag,
            keys: MasterKeys::generate(profile, rng),
            lifetime: None,
            mki: None,
            session_params: Vec::new(),
        }
    }

    pub fn profile(&self) -> SrtpProfile {
        self.keys.profile()
    }

    /// Parses `a=crypto:...`, `crypto:...` or the bare attribute value.
    pub fn parse(line: &str) -> Result<Self, SdesError> {
        let value = line.trim_end_matches(['\r', '\n']);
        let value = value.strip_prefix("a=").unwrap_or(value);
        let value = value.strip_prefix("crypto:").unwrap_or(value);
        if value.len() > MAX_CRYPTO_LEN {
            return Err(SdesError::TooLong {
                len: value.len(),
                max: MAX_CRYPTO_LEN,
            });
        }
        let mut fields = value.split_ascii_whitespace();
        let (tag, suite, key_params) = match (fields.next(), fields.next(), fields.next()) {
            (Some(t), Some(s), Some(k)) => (t, s, k),
            _ => return Err(SdesError::MissingField),
        };
        let tag = parse_tag(tag)?;
        let profile = SrtpProfile::from_sdes_name(suite)
            .ok_or_else(|| SdesError::UnknownSuite(suite.to_owned()))?;
        if key_params.contains(';') {
            return Err(SdesError::MultipleKeysUnsupported);
        }
        let (keys, lifetime, mki) = parse_key_param(profile, key_params)?;
        let mut session_params = Vec::new();
        for p in fields {
            if session_params.len() == MAX_SESSION_PARAMS {
                return Err(SdesError::TooManySessionParams {
                    max: MAX_SESSION_PARAMS,
                });
            }
            session_params.push(parse_session_param(p)?);
        }
        Ok(CryptoAttribute {
            tag,
            keys,
            lifetime,
            mki,
            session_params,
        })
    }

    /// `Ok` when we can run SRTP with this line as it stands; otherwise the reason we refuse.
    pub fn check_supported(&self) -> Result<(), SdesError> {
        if self.mki.is_some() {
            return Err(SdesError::MkiUnsupported);
        }
        for p in &self.session_params {
            match p {
                SessionParam::Kdr(0) | SessionParam::WindowSizeHint(_) => {}
                SessionParam::Kdr(n) => {
                    return Err(SdesError::UnsupportedSessionParam(format!("KDR={n}")))
                }
                SessionParam::UnencryptedSrtp => {
                    return Err(SdesError::UnsupportedSessionParam(
                        "UNENCRYPTED_SRTP".into(),
                    ))
                }
                SessionParam::UnencryptedSrtcp => {
                    return Err(SdesError::UnsupportedSessionParam(
                        "UNENCRYPTED_SRTCP".into(),
                    ))
                }
                SessionParam::UnauthenticatedSrtp => {
                    return Err(SdesError::UnsupportedSessionParam(
                        "UNAUTHENTICATED_SRTP".into(),
                    ))
                }
                SessionParam::Other(s) => {
                    return Err(SdesError::UnsupportedSessionParam(s.clone()))
                }
            }
        }
        Ok(())
    }
}

impl fmt::Display for CryptoAttribute {
    /// Prints the whole SDP line, `a=crypto:...`, without a line ending.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Only SDES profiles can be in a CryptoAttribute built by parse; generate() callers
        // pass what they offer, and a non-SDES profile prints its Debug name.
        write!(
            f,
            "a=crypto:{} {} inline:{}",
            self.tag,
            self.profile(),
            STANDARD.encode(self.keys.concatenated())
        )?;
        if let Some(lifetime) = self.lifetime {
            if lifetime.is_power_of_two() {
                write!(f, "|2^{}", lifetime.trailing_zeros())?;
            } else {
                write!(f, "|{lifetime}")?;
            }
        }
        if let Some(mki) = self.mki {
            write!(f, "|{}:{}", mki.value, mki.len)?;
        }
        for p in &self.session_params {
            match p {
                SessionParam::Kdr(n) => write!(f, " KDR={n}")?,
                SessionParam::UnencryptedSrtp => f.write_str(" UNENCRYPTED_SRTP")?,
                SessionParam::UnencryptedSrtcp => f.write_str(" UNENCRYPTED_SRTCP")?,
                SessionParam::UnauthenticatedSrtp => f.write_str(" UNAUTHENTICATED_SRTP")?,
                SessionParam::WindowSizeHint(n) => write!(f, " WSH={n}")?,
                SessionParam::Other(s) => write!(f, " {s}")?,
            }
        }
        Ok(())
    }
}

/// The outcome of SDES negotiation for one media stream.
#[derive(Debug, Clone)]
pub struct SdesAgreement {
    pub profile: SrtpProfile,
    /// Our keys: they protect what we send.
    pub local: MasterKeys,
    /// The peer's keys: they unprotect what we receive.
    pub remote: MasterKeys,
    /// The line to put in our answer (empty `answer` when we are the offerer).
    pub answer: CryptoAttribute,
}

/// Offer lines for `profiles`, tagged 1, 2, ... with fresh keys for each (RFC 4568 §7.1.1).
/// Profiles without an SDES name are skipped.
pub fn create_offer(
    profiles: &[SrtpProfile],
    rng: &mut impl rand::RngCore,
) -> Vec<CryptoAttribute> {
    profiles
        .iter()
        .filter(|p| p.sdes_name().is_some())
        .zip(1..)
        .map(|(p, tag)| CryptoAttribute::generate(tag, *p, rng))
        .collect()
}

/// Answers an offer: the first offered line we support, in the offerer's order, answered with
/// the same tag and suite and a fresh key of ours (RFC 4568 §7.1.2).
pub fn answer_offer(
    offer: &[CryptoAttribute],
    rng: &mut impl rand::RngCore,
) -> Result<SdesAgreement, SdesError> {
    let mut refusals = Vec::new();
    for line in offer {
        match line.check_supported() {
            Ok(()) => {
                let answer = CryptoAttribute::generate(line.tag, line.profile(), rng);
                return Ok(SdesAgreement {
                    profile: line.profile(),
                    local: answer.keys.clone(),
                    remote: line.keys.clone(),
                    answer,
                });
            }
            Err(e) => refusals.push(e),
        }
    }
    Err(SdesError::NoAcceptableOffer(refusals))
}

/// Like [`answer_offer`] over raw `a=crypto` lines: lines we cannot parse (an unknown suite
/// such as `F8_128_HMAC_SHA1_80`, a bad key) are refused one by one, not the whole offer.
pub fn answer_offer_lines<'a>(
    lines: impl IntoIterator<Item = &'a str>,
    rng: &mut impl rand::RngCore,
) -> Result<SdesAgreement, SdesError> {
    let mut parsed = Vec::new();
    let mut refusals = Vec::new();
    for line in lines {
        match CryptoAttribute::parse(line) {
            Ok(a) => parsed.push(a),
            Err(e) => refusals.push(e),
        }
    }
    answer_offer(&parsed, rng).map_err(|e| match e {
        SdesError::NoAcceptableOffer(mut more) => {
            refusals.append(&mut more);
            SdesError::NoAcceptableOffer(refusals)
        }
        other => other,
    })
}

/// The offerer's side: match the answer to the line we offered with the same tag and suite.
pub fn process_answer(
    offer: &[CryptoAttribute],
    answer: &CryptoAttribute,
) -> Result<SdesAgreement, SdesError> {
    answer.check_supported()?;
    let ours = offer
        .iter()
        .find(|o| o.tag == answer.tag && o.profile() == answer.profile())
        .ok_or(SdesError::AnswerDoesNotMatchOffer(answer.tag))?;
    Ok(SdesAgreement {
        profile: ours.profile(),
        local: ours.keys.clone(),
        remote: answer.keys.clone(),
        answer: answer.clone(),
    })
}

fn parse_tag(s: &str) -> Result<u32, SdesError> {
    let bad = || SdesError::BadTag(s.to_owned());
    if s.is_empty() || s.len() > 9 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    s.parse().map_err(|_| bad())
}

fn parse_key_param(
    profile: SrtpProfile,
    param: &str,
) -> Result<(MasterKeys, Option<u64>, Option<Mki>), SdesError> {
    let Some(info) = param.strip_prefix("inline:") else {
        let method = param.split(':').next().unwrap_or(param);
        return Err(SdesError::BadKeyMethod(method.to_owned()));
    };
    let mut parts = info.split('|');
    // split() always yields at least one item.
    let key_b64 = parts.next().unwrap_or_default();
    // Some stacks drop the '=' padding; accept it either way.
    let lenient = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    let raw = lenient.decode(key_b64).map_err(|_| SdesError::BadBase64)?;
    let want = profile.key_len() + profile.salt_len();
    let keys =
        MasterKeys::from_concatenated(profile, &raw).map_err(|_| SdesError::WrongKeyLength {
            expected: want,
            got: raw.len(),
        })?;

    let mut lifetime = None;
    let mut mki = None;
    for part in parts {
        if part.contains(':') {
            if mki.is_some() {
                return Err(SdesError::BadMki(part.to_owned()));
            }
            mki = Some(parse_mki(part)?);
        } else {
            if lifetime.is_some() || mki.is_some() {
                return Err(SdesError::BadLifetime(part.to_owned()));
            }
            lifetime = Some(parse_lifetime(part)?);
        }
    }
    Ok((keys, lifetime, mki))
}

fn parse_lifetime(s: &str) -> Result<u64, SdesError> {
    let bad = || SdesError::BadLifetime(s.to_owned());
    if let Some(exp) = s.strip_prefix("2^") {
        let exp: u32 = exp.parse().map_err(|_| bad())?;
        // SRTP indexes are 48 bits; SRTCP 31. Larger lifetimes are meaningless.
        if exp == 0 || exp > 48 {
            return Err(bad());
        }
        return Ok(1 << exp);
    }
    match s.parse::<u64>() {
        Ok(n) if n > 0 && n <= 1 << 48 && s.bytes().all(|b| b.is_ascii_digit()) => Ok(n),
        _ => Err(bad()),
    }
}

fn parse_mki(s: &str) -> Result<Mki, SdesError> {
    let bad = || SdesError::BadMki(s.to_owned());
    let (value, len) = s.split_once(':').ok_or_else(bad)?;
    let len: u8 = len.parse().map_err(|_| bad())?;
    let value: u64 = value.parse().map_err(|_| bad())?;
    // RFC 4568 §6.1: the MKI length is 1 to 128 bytes; we can represent values up to 8 bytes.
    if len == 0 || len > 128 || (len < 8 && value >> (8 * u32::from(len)) != 0) {
        return Err(bad());
    }
    Ok(Mki { value, len })
}

fn parse_session_param(s: &str) -> Result<SessionParam, SdesError> {
    let bad = || SdesError::BadSessionParam(s.to_owned());
    Ok(match s {
        "UNENCRYPTED_SRTP" => SessionParam::UnencryptedSrtp,
        "UNENCRYPTED_SRTCP" => SessionParam::UnencryptedSrtcp,
        "UNAUTHENTICATED_SRTP" => SessionParam::UnauthenticatedSrtp,
        _ => {
            if let Some(n) = s.strip_prefix("KDR=") {
                let n: u8 = n.parse().map_err(|_| bad())?;
                if n > 24 {
                    return Err(bad());
                }
                SessionParam::Kdr(n)
            } else if let Some(n) = s.strip_prefix("WSH=") {
                SessionParam::WindowSizeHint(n.parse().map_err(|_| bad())?)
            } else {
                SessionParam::Other(s.to_owned())
            }
        }
    })
}

#[cfg(test)]
mod tests;
