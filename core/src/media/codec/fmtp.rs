//! The Opus `a=fmtp` parameters of RFC 7587 §6.1.

use std::fmt;

use super::EncoderConfig;

/// Opus format parameters. Each field is `None` when the parameter is absent, which means the
/// RFC 7587 default. Parameters describe what the side that wrote them wants to *receive*
/// (`maxplaybackrate`, `maxaveragebitrate`, `stereo`, `cbr`, `useinbandfec`, `usedtx`) or what it
/// will send (`sprop-*`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpusFmtp {
    /// Highest audio rate the receiver will render (8000..=48000).
    pub max_playback_rate: Option<u32>,
    /// Highest audio rate the sender will capture.
    pub sprop_max_capture_rate: Option<u32>,
    /// Highest average bitrate the receiver wants, 6000..=510000 bit/s.
    pub max_average_bitrate: Option<u32>,
    /// The receiver prefers stereo.
    pub stereo: Option<bool>,
    /// The sender is likely to send stereo.
    pub sprop_stereo: Option<bool>,
    /// The receiver prefers constant bitrate.
    pub cbr: Option<bool>,
    /// The receiver can use in-band FEC.
    pub use_inband_fec: Option<bool>,
    /// The receiver prefers discontinuous transmission.
    pub use_dtx: Option<bool>,
    /// Packet time in ms.
    pub ptime: Option<u32>,
    /// Shortest packet time in ms.
    pub min_ptime: Option<u32>,
    /// Longest packet time in ms.
    pub max_ptime: Option<u32>,
}

impl OpusFmtp {
    /// Parses the value of `a=fmtp:<pt> ...` after the payload type, e.g.
    /// `minptime=10;useinbandfec=1`. Parameter names compare case-insensitively. Unknown
    /// parameters and values that are malformed or out of range are ignored, as if absent: a peer's
    /// odd fmtp should degrade to defaults, not fail the call.
    pub fn parse(s: &str) -> OpusFmtp {
        let mut f = OpusFmtp::default();
        // Bounded by the input: one pass over `;`-separated items.
        for item in s.split(';') {
            let Some((name, value)) = item.split_once('=') else {
                continue;
            };
            let (name, value) = (name.trim().to_ascii_lowercase(), value.trim());
            match name.as_str() {
                "maxplaybackrate" => f.max_playback_rate = rate(value),
                "sprop-maxcapturerate" => f.sprop_max_capture_rate = rate(value),
                "maxaveragebitrate" => {
                    f.max_average_bitrate =
                        value.parse().ok().filter(|b| (6_000..=510_000).contains(b))
                }
                "stereo" => f.stereo = flag(value),
                "sprop-stereo" => f.sprop_stereo = flag(value),
                "cbr" => f.cbr = flag(value),
                "useinbandfec" => f.use_inband_fec = flag(value),
                "usedtx" => f.use_dtx = flag(value),
                "ptime" => f.ptime = ptime(value),
                "minptime" => f.min_ptime = ptime(value),
                "maxptime" => f.max_ptime = ptime(value),
                _ => {}
            }
        }
        f
    }

    /// Our encoder settings once the remote's fmtp (what it wants to receive) is applied to
    /// `base`: the bitrate is capped by `maxaveragebitrate`, FEC is used only if the remote
    /// says it can use it, DTX if it asks for it, and `ptime` picks the frame length when Opus
    /// supports it (10, 20, 40, 60 ms).
    pub fn encoder_config(&self, base: &EncoderConfig) -> EncoderConfig {
        let mut cfg = *base;
        if let Some(max) = self.max_average_bitrate {
            cfg.bitrate = cfg.bitrate.min(max);
        }
        cfg.fec = base.fec && self.use_inband_fec == Some(true);
        cfg.dtx = base.dtx || self.use_dtx == Some(true);
        if let Some(p) = self.ptime.filter(|p| matches!(p, 10 | 20 | 40 | 60)) {
            cfg.frame_ms = p;
        }
        cfg
    }
}

impl fmt::Display for OpusFmtp {
    /// Writes the present parameters in a fixed order, `;`-separated with no spaces.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let nums = [
            ("maxplaybackrate", self.max_playback_rate),
            ("sprop-maxcapturerate", self.sprop_max_capture_rate),
            ("maxaveragebitrate", self.max_average_bitrate),
            ("ptime", self.ptime),
            ("minptime", self.min_ptime),
            ("maxptime", self.max_ptime),
        ];
        let flags = [
            ("stereo", self.stereo),
            ("sprop-stereo", self.sprop_stereo),
            ("cbr", self.cbr),
            ("useinbandfec", self.use_inband_fec),
            ("usedtx", self.use_dtx),
        ];
        let items = nums.iter().filter_map(|(n, v)| v.map(|v| (*n, v))).chain(
            flags
                .iter()
                .filter_map(|(n, v)| v.map(|v| (*n, u32::from(v)))),
        );
        for (i, (name, value)) in items.enumerate() {
            if i > 0 {
                f.write_str(";")?;
            }
            write!(f, "{name}={value}")?;
        }
        Ok(())
    }
}

fn rate(v: &str) -> Option<u32> {
    v.parse().ok().filter(|r| (8_000..=48_000).contains(r))
}

fn flag(v: &str) -> Option<bool> {
    match v {
        "0" => Some(false),
        "1" => Some(true),
        _ => None,
    }
}

fn ptime(v: &str) -> Option<u32> {
    v.parse().ok().filter(|p| (1..=120).contains(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_formats_rfc7587_parameters() {
        let f = OpusFmtp::parse("maxplaybackrate=16000; SPROP-MAXCAPTURERATE=16000;useinbandfec=1;usedtx=0;minptime=10;foo=bar;cbr=yes");
        assert_eq!(f.max_playback_rate, Some(16_000));
        assert_eq!(f.sprop_max_capture_rate, Some(16_000));
        assert_eq!(f.use_inband_fec, Some(true));
        assert_eq!(f.use_dtx, Some(false));
        assert_eq!(f.min_ptime, Some(10));
        assert_eq!(f.cbr, None, "malformed flag is ignored");
        let text = f.to_string();
        assert_eq!(
            text,
            "maxplaybackrate=16000;sprop-maxcapturerate=16000;minptime=10;useinbandfec=1;usedtx=0"
        );
        assert_eq!(OpusFmtp::parse(&text), f);
    }

    #[test]
    fn remote_fmtp_shapes_the_encoder() {
        let base = EncoderConfig {
            bitrate: 32_000,
            ..EncoderConfig::default()
        };
        let f = OpusFmtp::parse("maxaveragebitrate=20000;useinbandfec=1;usedtx=1;ptime=40");
        let cfg = f.encoder_config(&base);
        assert_eq!(
            (cfg.bitrate, cfg.fec, cfg.dtx, cfg.frame_ms),
            (20_000, true, true, 40)
        );
        let cfg = OpusFmtp::parse("maxaveragebitrate=1").encoder_config(&base);
        assert_eq!(
            (cfg.bitrate, cfg.fec),
            (32_000, false),
            "out-of-range cap ignored; no FEC"
        );
    }
}
