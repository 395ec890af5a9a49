//! Media encryption policy and what the user is told about a call's protection.

use crate::srtp::{MasterKeys, SrtpProfile};

/// The per-account media encryption policy (CSipSimple's modes).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum MediaEncryption {
    /// Plain RTP; an offer that insists on SRTP (RTP/SAVP) is refused with 488. (The default
    /// until ZRTP lands: SDES needs TLS, which not every account has.)
    #[default]
    None,
    /// SRTP when the peer does it (RTP/AVP with a=crypto offers), else plain RTP.
    SrtpOptional,
    /// SRTP or no call: RTP/SAVP offers; plain-only peers get 488 / the call fails.
    SrtpMandatory,
    /// ZRTP (RFC 6189) on the media path, keys agreed end to end; nothing leaves or is played
    /// in the clear before it is secure.
    Zrtp,
    /// ZRTP when the peer speaks it; plain RTP until then (and if it never does).
    ZrtpOptional,
}

impl MediaEncryption {
    /// Whether SDES (a=crypto) is wanted.
    pub fn wants_srtp(self) -> bool {
        matches!(
            self,
            MediaEncryption::SrtpOptional | MediaEncryption::SrtpMandatory
        )
    }

    pub fn is_zrtp(self) -> bool {
        matches!(self, MediaEncryption::Zrtp | MediaEncryption::ZrtpOptional)
    }

    /// Whether no media may flow unencrypted.
    pub fn is_mandatory(self) -> bool {
        matches!(self, MediaEncryption::SrtpMandatory | MediaEncryption::Zrtp)
    }
}

/// The keys a call's SRTP contexts are built from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SrtpKeys {
    pub profile: SrtpProfile,
    /// Ours: protect what we send.
    pub local: MasterKeys,
    /// The peer's: unprotect what we receive.
    pub remote: MasterKeys,
}

/// What protects a call, for the UI (CSipSimple's badges) and the `"security"` event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityInfo {
    /// `none` or `srtp-sdes` (ZRTP comes with its issue).
    pub mode: &'static str,
    /// The SRTP suite, e.g. `AES_CM_128_HMAC_SHA1_80`.
    pub suite: Option<String>,
    /// Whether the first signalling hop is TLS.
    pub tls_first_hop: bool,
    /// True when the call is not protected the way it looks, with the reason.
    pub insecure: bool,
    pub reason: Option<String>,
    /// The badge text: "SRTP" or "Not encrypted".
    pub badge: String,
    /// The signalling badge, when the first hop is TLS.
    pub signalling_badge: Option<String>,
}

impl SecurityInfo {
    pub(super) fn new(
        srtp: Option<&SrtpKeys>,
        tls_first_hop: bool,
        tls_unverified: bool,
    ) -> SecurityInfo {
        let signalling_badge =
            tls_first_hop.then(|| "TLS transport is used for immediate hop".to_string());
        match srtp {
            Some(keys) => {
                let (insecure, reason) = if tls_first_hop && tls_unverified {
                    (
                        true,
                        Some(
                            "the TLS certificate of the signalling peer was not verified: \
                             whoever answered can read the SRTP keys (SDES)"
                                .to_string(),
                        ),
                    )
                } else if tls_first_hop {
                    (false, None)
                } else {
                    (
                        true,
                        Some(
                            "SRTP keys (SDES) were exchanged over signalling that is not TLS: \
                             anyone on the path could read them"
                                .to_string(),
                        ),
                    )
                };
                SecurityInfo {
                    mode: "srtp-sdes",
                    suite: keys.profile.sdes_name().map(str::to_string),
                    tls_first_hop,
                    insecure,
                    reason,
                    badge: "SRTP".into(),
                    signalling_badge,
                }
            }
            None => SecurityInfo {
                mode: "none",
                suite: None,
                tls_first_hop,
                insecure: true,
                reason: Some("media is not encrypted".into()),
                badge: "Not encrypted".into(),
                signalling_badge,
            },
        }
    }
}
