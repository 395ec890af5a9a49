//! What `sipher` prints: human-readable lines or one JSON object per line.

use serde_json::json;

use sipher::engine::media::MediaEvent;
use sipher::engine::PhoneEvent;
use sipher::sip::ua::{CallState, RegState, UaEvent};
use sipher::zrtp::session::CacheState;

pub(crate) fn status_line(status: Option<u16>, reason: Option<&str>) -> String {
    match (status, reason) {
        (Some(s), Some(r)) => format!("{s} {r}"),
        (Some(s), None) => s.to_string(),
        (None, Some(r)) => r.to_string(),
        (None, None) => "unknown reason".to_string(),
    }
}

/// When the process started, for event time stamps.
pub(crate) fn started() -> std::time::Instant {
    static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    *START.get_or_init(std::time::Instant::now)
}

/// Prints events, human-readable or as JSON lines.
pub(crate) struct Output {
    json: bool,
    who: &'static str,
}

impl Output {
    pub(crate) fn new(json: bool, who: &'static str) -> Output {
        Output { json, who }
    }

    pub(crate) fn event(&self, ev: &PhoneEvent) {
        if self.json {
            if let Some(mut v) = json_event(ev) {
                v["t_ms"] = json!(started().elapsed().as_millis() as u64);
                if !self.who.is_empty() {
                    v["phone"] = json!(self.who);
                }
                line(&v.to_string());
            }
        } else if let Some(text) = human_event(ev) {
            if self.who.is_empty() {
                line(&text);
            } else {
                line(&format!("{:>5}: {text}", self.who));
            }
        }
    }
}

/// Prints a line and flushes it (tests read events as they happen). A closed stdout (e.g. the
/// reader went away) must not bring the phone down.
pub(crate) fn line(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{text}").and_then(|_| out.flush());
}

pub(crate) fn json_event(ev: &PhoneEvent) -> Option<serde_json::Value> {
    Some(match ev {
        PhoneEvent::Listening { transport, addr } => json!({
            "event": "listening", "transport": transport.as_str().to_ascii_lowercase(), "addr": addr.to_string()
        }),
        PhoneEvent::Ua(UaEvent::Registration {
            state,
            status,
            reason,
            expires,
        }) => json!({
            "event": "registration", "state": state.as_str(), "status": status, "reason": reason, "expires": expires
        }),
        PhoneEvent::Ua(UaEvent::Call {
            call,
            state,
            status,
            reason,
            peer,
            by,
        }) => json!({
            "event": "call", "call": call.0, "state": state.as_str(), "status": status, "reason": reason,
            "peer": peer, "by": by.map(|b| b.as_str())
        }),
        PhoneEvent::Ua(UaEvent::Media {
            call, media, srtp, ..
        }) => json!({
            "event": "media", "call": call.0, "codec": media.codec.name, "clock_rate": media.codec.clock_rate,
            "payload_type": media.codec.payload_type.get(), "remote_rtp": media.remote_rtp.to_string(),
            "direction": media.local_direction.as_str(),
            "srtp": srtp.as_ref().and_then(|k| k.profile.sdes_name())
        }),
        PhoneEvent::Ua(UaEvent::Security { call, info }) => json!({
            "event": "security", "call": call.0, "mode": info.mode, "suite": info.suite,
            "tls_first_hop": info.tls_first_hop, "insecure": info.insecure, "reason": info.reason,
            "badge": info.badge, "signalling_badge": info.signalling_badge
        }),
        PhoneEvent::Ua(UaEvent::Malformed { source, reason }) => json!({
            "event": "malformed", "source": source.to_string(), "reason": reason
        }),
        PhoneEvent::Warning(message) => json!({ "event": "warning", "message": message }),
        PhoneEvent::Media(MediaEvent::Quality { call, figures }) => {
            let (r, j) = (&figures.report, &figures.jitter);
            json!({
                "event": "quality", "call": call.0, "mos": r.mos, "loss": r.loss_fraction,
                "cumulative_lost": r.cumulative_lost, "jitter_ms": r.jitter_ms, "rtt_ms": r.rtt_ms,
                "packets_sent": figures.packets_sent, "packets_received": figures.packets_received,
                "jb_delay_ms": j.current_delay.as_secs_f64() * 1000.0,
                "jb_target_ms": j.target_delay.as_secs_f64() * 1000.0,
                "late": j.late, "lost": j.lost, "concealed": j.concealed, "played": j.played
            })
        }
        PhoneEvent::Media(MediaEvent::Dtmf { call, digit }) => {
            json!({ "event": "dtmf", "call": call.0, "digit": digit.to_string() })
        }
        PhoneEvent::Media(MediaEvent::ZrtpSecure { call, info }) => json!({
            "event": "security", "call": call.0, "mode": "zrtp", "sas": info.sas,
            "cipher": info.cipher_name(), "key_agreement": info.key_agreement.id().to_string(),
            "badge": info.badge(), "verified": info.verified, "status": info.status(),
            "cache": info.cache.as_str(), "pbx": info.pbx_peer,
            "sas_relayed": info.sas_relayed, "enrollment_offered": info.enrollment_offered, "auth_tag": info.auth_tag.id().to_string(),
            "hash": info.hash.id().to_string(), "insecure": false
        }),
        PhoneEvent::Media(MediaEvent::ZrtpFailed { call, reason }) => json!({
            "event": "security", "call": call.0, "mode": "failed", "reason": reason, "insecure": true,
            "badge": "ZRTP failed: not encrypted"
        }),
        PhoneEvent::Media(MediaEvent::PlayFinished { call }) => {
            json!({ "event": "play_finished", "call": call.0 })
        }
        PhoneEvent::Media(MediaEvent::Error { call, error }) => {
            json!({ "event": "error", "call": call.0, "error": error })
        }
        PhoneEvent::CallPlaced { call, uri } => {
            json!({ "event": "call_placed", "call": call.0, "uri": uri })
        }
        PhoneEvent::CommandFailed { command, error } => json!({
            "event": "error", "command": command, "error": error
        }),
        PhoneEvent::Ua(UaEvent::KeepAlive { .. }) | PhoneEvent::Stopped => return None,
    })
}

pub(crate) fn human_event(ev: &PhoneEvent) -> Option<String> {
    Some(match ev {
        PhoneEvent::Listening { transport, addr } => format!("listening on {addr} ({transport})"),
        PhoneEvent::Ua(UaEvent::Registration {
            state,
            status,
            reason,
            expires,
        }) => {
            let mut s = format!("registration: {}", state.as_str());
            if status.is_some() || reason.is_some() {
                s += &format!(" ({})", status_line(*status, reason.as_deref()));
            }
            if let (RegState::Registered, Some(e)) = (state, expires) {
                s += &format!(", expires in {e} s");
            }
            s
        }
        PhoneEvent::Ua(UaEvent::Call {
            call,
            state,
            status,
            reason,
            peer,
            by,
        }) => {
            let mut s = format!("call {call}: {}", state.as_str().replace('_', " "));
            if matches!(state, CallState::Incoming | CallState::Calling) {
                s += &format!(" ({peer})");
            }
            if let Some(b) = by {
                s += &format!(" by {}", b.as_str());
            }
            if status.is_some() || reason.is_some() {
                s += &format!(" ({})", status_line(*status, reason.as_deref()));
            }
            s
        }
        PhoneEvent::Ua(UaEvent::Media { call, media, .. }) => format!(
            "call {call}: media {}/{} to {} ({})",
            media.codec.name,
            media.codec.clock_rate,
            media.remote_rtp,
            media.local_direction.as_str()
        ),
        PhoneEvent::Ua(UaEvent::Malformed { source, reason }) => {
            format!("malformed message from {source}: {reason}")
        }
        PhoneEvent::CommandFailed { error, .. } => format!("error: {error}"),
        PhoneEvent::Warning(message) => format!("WARNING: {message}"),
        PhoneEvent::Ua(UaEvent::Security { call, info }) => {
            let mut t = format!("call {call}: security: {}", info.badge);
            if let Some(suite) = &info.suite {
                t += &format!(" ({suite})");
            }
            if let Some(sig) = &info.signalling_badge {
                t += &format!("; {sig}");
            }
            if let (true, Some(why)) = (info.insecure, &info.reason) {
                t += &format!("; INSECURE: {why}");
            }
            t
        }
        PhoneEvent::Media(MediaEvent::Quality { call, figures }) => format!(
            "call {call}: quality MOS {:.1}, loss {:.1} %, jitter {:.0} ms, buffer {:.0} ms",
            figures.report.mos,
            figures.report.loss_fraction * 100.0,
            figures.report.jitter_ms,
            figures.jitter.current_delay.as_secs_f64() * 1000.0
        ),
        PhoneEvent::Media(MediaEvent::Dtmf { call, digit }) => format!("call {call}: DTMF {digit}"),
        PhoneEvent::Media(MediaEvent::ZrtpSecure { call, info }) => format!(
            "call {call}: security: {}, SAS {} ({}){}",
            info.status(),
            info.sas,
            info.badge(),
            match (info.verified, info.cache, info.sas_relayed) {
                (_, _, true) => " — the far end's SAS, relayed by your enrolled PBX",
                (_, CacheState::Mismatch, _) => {
                    " — ALARM: the cached secret did not match; compare the SAS by voice"
                }
                (true, _, _) => "",
                (false, _, _) if info.enrollment_offered => {
                    " — compare it by voice; confirming it enrols this PBX as trusted"
                }
                (false, _, _) => " — compare it by voice",
            }
        ),
        PhoneEvent::Media(MediaEvent::ZrtpFailed { call, reason }) => {
            format!("call {call}: security: ZRTP FAILED, not encrypted: {reason}")
        }
        PhoneEvent::Media(MediaEvent::PlayFinished { call }) => format!("call {call}: file played"),
        PhoneEvent::Media(MediaEvent::Error { call, error }) => {
            format!("call {call}: media error: {error}")
        }
        _ => return None,
    })
}
