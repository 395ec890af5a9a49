//! Offer/answer for one audio stream (RFC 3264).

use std::net::{IpAddr, SocketAddr};

use super::session::{
    Attribute, Connection, Direction, MediaDescription, Origin, PayloadType, SessionDescription,
    Timing,
};
use super::SdpError;

/// An audio codec as offered or negotiated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Codec {
    pub payload_type: PayloadType,
    /// Encoding name as in `a=rtpmap`, e.g. `opus`, `PCMU`; compared case-insensitively.
    pub name: String,
    pub clock_rate: u32,
    pub channels: u8,
    /// `a=fmtp` parameters. In a [`Negotiated`], the peer's (they describe what it can
    /// receive); in a [`MediaConfig`], ours.
    pub fmtp: Option<String>,
}

impl Codec {
    pub fn new(payload_type: PayloadType, name: &str, clock_rate: u32, channels: u8) -> Codec {
        Codec {
            payload_type,
            name: name.to_string(),
            clock_rate,
            channels,
            fmtp: None,
        }
    }

    pub fn with_fmtp(mut self, fmtp: &str) -> Codec {
        self.fmtp = Some(fmtp.to_string());
        self
    }

    /// G.711 µ-law, static payload type 0.
    pub fn pcmu() -> Codec {
        Codec::new(static_pt(0), "PCMU", 8000, 1)
    }

    /// G.711 A-law, static payload type 8.
    pub fn pcma() -> Codec {
        Codec::new(static_pt(8), "PCMA", 8000, 1)
    }

    /// G.722, static payload type 9 (its RTP clock is 8000 for historical reasons).
    pub fn g722() -> Codec {
        Codec::new(static_pt(9), "G722", 8000, 1)
    }

    /// Opus on a dynamic payload type, with in-band FEC as Linphone offers it.
    pub fn opus(payload_type: PayloadType) -> Codec {
        Codec::new(payload_type, "opus", 48000, 2).with_fmtp("useinbandfec=1")
    }

    /// Same codec: name (case-insensitive), clock rate and channel count.
    pub fn same_format(&self, other: &Codec) -> bool {
        self.name.eq_ignore_ascii_case(&other.name)
            && self.clock_rate == other.clock_rate
            && self.channels == other.channels
    }

    fn is_telephone_event(&self) -> bool {
        self.name.eq_ignore_ascii_case(TELEPHONE_EVENT)
    }
}

/// What we can do for audio.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaConfig {
    /// In preference order.
    pub codecs: Vec<Codec>,
    /// Payload type for RFC 4733 `telephone-event/8000`, offered with events 0-16.
    pub telephone_event: Option<PayloadType>,
    /// Packet time we want to receive, in milliseconds.
    pub ptime: Option<u32>,
    /// What we are willing to do; `SendOnly` while we hold the call.
    pub direction: Direction,
    /// Where we receive RTP.
    pub rtp_address: SocketAddr,
    /// RTP profiles we accept in offers, e.g. `RTP/AVP`, `RTP/SAVP`; our offers use the first.
    pub profiles: Vec<String>,
}

impl MediaConfig {
    /// `sendrecv`, ptime 20, telephone-event on 101, profile `RTP/AVP`.
    pub fn new(rtp_address: SocketAddr, codecs: Vec<Codec>) -> MediaConfig {
        MediaConfig {
            codecs,
            telephone_event: PayloadType::new(101),
            ptime: Some(20),
            direction: Direction::SendRecv,
            rtp_address,
            profiles: vec!["RTP/AVP".to_string()],
        }
    }
}

/// The outcome of offer/answer, from our side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Negotiated {
    /// Where to send RTP. An unspecified address (`0.0.0.0`, RFC 2543 hold) means: send nothing.
    pub remote_rtp: SocketAddr,
    /// From the peer's `a=rtcp`, if given.
    pub remote_rtcp: Option<SocketAddr>,
    /// The codec to send with: the first common one.
    pub codec: Codec,
    /// All common codecs, first one first; payload types are the offerer's.
    pub codecs: Vec<Codec>,
    /// The peer's `a=ptime`: how we should packetise.
    pub ptime: Option<u32>,
    /// The peer's `a=maxptime`: the longest packets it takes, in milliseconds.
    pub max_ptime: Option<u32>,
    /// The peer's `b=AS` (media level, else session level), in kbit/s: what the stream may use.
    pub bandwidth_kbps: Option<u32>,
    /// What we do: whether we send and whether we receive.
    pub local_direction: Direction,
    /// What the peer's description said.
    pub remote_direction: Direction,
    pub telephone_event: Option<PayloadType>,
    /// The stream's RTP profile, e.g. `RTP/SAVP`.
    pub proto: String,
}

/// Builds an offer with one audio stream, codecs in `config` order.
pub fn create_offer(
    config: &MediaConfig,
    session_id: u64,
    session_version: u64,
    origin_address: IpAddr,
) -> SessionDescription {
    let mut sd = base_description(config, session_id, session_version, origin_address);
    let proto = config.profiles.first().map_or("RTP/AVP", String::as_str);
    let mut media = empty_audio(config.rtp_address.port(), proto);
    for codec in config.codecs.iter().filter(|c| !c.is_telephone_event()) {
        push_codec(&mut media, codec, &codec.name, codec.fmtp.as_deref());
    }
    if let Some(pt) = config.telephone_event {
        push_codec(
            &mut media,
            &telephone_event(pt),
            TELEPHONE_EVENT,
            Some(DTMF_EVENTS),
        );
    }
    finish_media(&mut media, config);
    sd.media.push(media);
    sd
}

/// Answers `offer`: accepts its first audio stream that shares a codec with `config` and uses
/// an accepted profile, rejects every other stream with port 0 (RFC 3264 §6). Common codecs keep
/// the offerer's payload types and order.
///
/// If nothing can be accepted, the error [`SdpError::NoCommonCodec`] carries an answer rejecting
/// all streams.
pub fn create_answer(
    offer: &SessionDescription,
    config: &MediaConfig,
    session_id: u64,
    session_version: u64,
    origin_address: IpAddr,
) -> Result<(SessionDescription, Negotiated), SdpError> {
    let mut answer = base_description(config, session_id, session_version, origin_address);
    let mut negotiated = None;
    for (index, offered) in offer.media.iter().enumerate() {
        let acceptable = negotiated.is_none()
            && is_live_audio(offered)
            && config
                .profiles
                .iter()
                .any(|p| p.eq_ignore_ascii_case(&offered.proto));
        if acceptable {
            if let Some((media, n)) = answer_stream(offer, index, offered, config)? {
                answer.media.push(media);
                negotiated = Some(n);
                continue;
            }
        }
        answer.media.push(rejected(offered));
    }
    match negotiated {
        Some(n) => Ok((answer, n)),
        None => Err(SdpError::NoCommonCodec {
            answer: Some(Box::new(answer)),
        }),
    }
}

/// Reads the answer to our `offer`.
pub fn process_answer(
    offer: &SessionDescription,
    answer: &SessionDescription,
) -> Result<Negotiated, SdpError> {
    if offer.media.len() != answer.media.len() {
        return Err(SdpError::AnswerMismatch {
            what: "number of m= lines",
        });
    }
    let index = offer
        .media
        .iter()
        .position(is_live_audio)
        .ok_or(SdpError::NoAudioStream)?;
    let (ours, theirs) = (&offer.media[index], &answer.media[index]);
    if theirs.port == 0 {
        return Err(SdpError::StreamRejected);
    }
    if !theirs.proto.eq_ignore_ascii_case(&ours.proto) {
        return Err(SdpError::AnswerMismatch {
            what: "RTP profile",
        });
    }
    let offered = codecs_of(ours);
    let mut codecs = Vec::new();
    let mut telephone_event = None;
    // RFC 3264 §6.1: the answer reuses our payload types; anything else we never offered.
    for pt in theirs.payload_types() {
        let Some(codec) = offered.iter().find(|c| c.payload_type == pt) else {
            continue;
        };
        if codec.is_telephone_event() {
            telephone_event = telephone_event.or(Some(pt));
        } else if !codecs.iter().any(|c: &Codec| c.payload_type == pt) {
            codecs.push(Codec {
                fmtp: theirs.fmtp(pt).map(str::to_string),
                ..codec.clone()
            });
        }
    }
    let Some(codec) = codecs.first().cloned() else {
        return Err(SdpError::NoCommonCodec { answer: None });
    };
    let ours_dir = offer.direction_for(ours);
    let theirs_dir = answer.direction_for(theirs);
    let remote_rtp = remote_rtp(answer, index, theirs)?;
    Ok(Negotiated {
        remote_rtp,
        remote_rtcp: remote_rtcp(theirs, remote_rtp.ip()),
        codec,
        codecs,
        ptime: theirs.ptime(),
        max_ptime: theirs.maxptime(),
        bandwidth_kbps: bandwidth_as(answer, theirs),
        local_direction: Direction::from_flags(
            ours_dir.sends() && theirs_dir.receives(),
            ours_dir.receives() && theirs_dir.sends(),
        ),
        remote_direction: theirs_dir,
        telephone_event,
        proto: theirs.proto.clone(),
    })
}

/// A re-offer that puts the call on hold: our audio becomes `sendonly` (RFC 3264 §8.4).
pub fn hold_offer(previous: &SessionDescription) -> SessionDescription {
    reoffer(previous, Direction::SendOnly)
}

/// A re-offer that resumes a held call: our audio becomes `sendrecv`.
pub fn resume_offer(previous: &SessionDescription) -> SessionDescription {
    reoffer(previous, Direction::SendRecv)
}

/// `previous` (our last description) with the live audio streams set to `direction` and the
/// o= version raised by one, as RFC 3264 §8 requires for a changed description.
pub fn reoffer(previous: &SessionDescription, direction: Direction) -> SessionDescription {
    let mut sd = previous.clone();
    sd.origin.session_version = sd.origin.session_version.wrapping_add(1);
    // A session-level direction would still apply to other streams; the media-level one wins.
    sd.attributes.retain(|a| {
        !["sendrecv", "sendonly", "recvonly", "inactive"]
            .iter()
            .any(|d| a.name.eq_ignore_ascii_case(d))
    });
    for media in sd.media.iter_mut().filter(|m| is_live_audio(m)) {
        media.set_direction(direction);
    }
    sd
}

// ---------------------------------------------------------------------------------------------
// Helpers

const TELEPHONE_EVENT: &str = "telephone-event";
/// DTMF digits 0-9, *, #, A-D and flash (RFC 4733 §3.2).
const DTMF_EVENTS: &str = "0-16";

/// RFC 3551 §6 static audio payload types that need no rtpmap.
const STATIC_AUDIO: &[(u8, &str, u32)] = &[
    (0, "PCMU", 8000),
    (3, "GSM", 8000),
    (4, "G723", 8000),
    (8, "PCMA", 8000),
    (9, "G722", 8000),
    (18, "G729", 8000),
];

fn static_pt(pt: u8) -> PayloadType {
    // Only called with the static numbers above, all below 128.
    PayloadType::new(pt).expect("static payload types are below 128")
}

fn telephone_event(pt: PayloadType) -> Codec {
    Codec::new(pt, TELEPHONE_EVENT, 8000, 1)
}

fn is_live_audio(m: &MediaDescription) -> bool {
    m.kind.eq_ignore_ascii_case("audio") && m.port != 0 && m.is_rtp()
}

/// The codecs a media section describes, in its order: from `a=rtpmap`, or the static table.
fn codecs_of(m: &MediaDescription) -> Vec<Codec> {
    m.payload_types()
        .into_iter()
        .filter_map(|pt| {
            let mut codec = match m.rtpmap(pt) {
                Some(map) => Codec::new(pt, &map.encoding, map.clock_rate, map.channels),
                None => {
                    let &(_, name, rate) = STATIC_AUDIO.iter().find(|s| s.0 == pt.get())?;
                    Codec::new(pt, name, rate, 1)
                }
            };
            codec.fmtp = m.fmtp(pt).map(str::to_string);
            Some(codec)
        })
        .collect()
}

fn answer_stream(
    offer: &SessionDescription,
    index: usize,
    offered: &MediaDescription,
    config: &MediaConfig,
) -> Result<Option<(MediaDescription, Negotiated)>, SdpError> {
    let remote = codecs_of(offered);
    let mut common: Vec<(Codec, &Codec)> = Vec::new();
    for codec in remote.iter().filter(|c| !c.is_telephone_event()) {
        let local = config.codecs.iter().find(|l| l.same_format(codec));
        let duplicate = common
            .iter()
            .any(|(c, _)| c.payload_type == codec.payload_type);
        if let (Some(local), false) = (local, duplicate) {
            common.push((codec.clone(), local));
        }
    }
    let Some(first) = common.first().map(|(c, _)| c.clone()) else {
        return Ok(None);
    };
    let dtmf = config
        .telephone_event
        .and_then(|ours| {
            remote
                .iter()
                .find(|c| c.same_format(&telephone_event(ours)))
        })
        .map(|c| c.payload_type);

    let mut media = empty_audio(config.rtp_address.port(), &offered.proto);
    for (remote_codec, local) in &common {
        // The payload number and name are the offerer's; fmtp describes what we receive.
        push_codec(
            &mut media,
            remote_codec,
            &remote_codec.name,
            local.fmtp.as_deref(),
        );
    }
    if let Some(pt) = dtmf {
        push_codec(
            &mut media,
            &telephone_event(pt),
            TELEPHONE_EVENT,
            Some(DTMF_EVENTS),
        );
    }
    let remote_direction = offer.direction_for(offered);
    let local_direction = Direction::from_flags(
        config.direction.sends() && remote_direction.receives(),
        config.direction.receives() && remote_direction.sends(),
    );
    finish_media(
        &mut media,
        &MediaConfig {
            direction: local_direction,
            ..config.clone()
        },
    );

    let remote_rtp = remote_rtp(offer, index, offered)?;
    let negotiated = Negotiated {
        remote_rtp,
        remote_rtcp: remote_rtcp(offered, remote_rtp.ip()),
        codec: first,
        codecs: common.into_iter().map(|(c, _)| c).collect(),
        ptime: offered.ptime(),
        max_ptime: offered.maxptime(),
        bandwidth_kbps: bandwidth_as(offer, offered),
        local_direction,
        remote_direction,
        telephone_event: dtmf,
        proto: offered.proto.clone(),
    };
    Ok(Some((media, negotiated)))
}

fn remote_rtp(
    sd: &SessionDescription,
    index: usize,
    m: &MediaDescription,
) -> Result<SocketAddr, SdpError> {
    // The parser guarantees a c= line, but a description may also be built by hand.
    let connection = sd
        .connection_for(m)
        .ok_or(SdpError::MissingConnection { media: index + 1 })?;
    Ok(SocketAddr::new(connection.address, m.port))
}

fn remote_rtcp(m: &MediaDescription, rtp_ip: IpAddr) -> Option<SocketAddr> {
    let rtcp = m.rtcp()?;
    Some(SocketAddr::new(rtcp.address.unwrap_or(rtp_ip), rtcp.port))
}

fn base_description(
    config: &MediaConfig,
    session_id: u64,
    session_version: u64,
    origin_address: IpAddr,
) -> SessionDescription {
    SessionDescription {
        origin: Origin {
            username: "sipher".to_string(),
            session_id: session_id.to_string(),
            session_version,
            address_type: if origin_address.is_ipv4() {
                "IP4"
            } else {
                "IP6"
            }
            .to_string(),
            address: origin_address.to_string(),
        },
        session_name: "Sipher".to_string(),
        connection: Some(Connection::new(config.rtp_address.ip())),
        timing: vec![Timing { start: 0, stop: 0 }],
        attributes: Vec::new(),
        media: Vec::new(),
        other_lines: Vec::new(),
    }
}

fn empty_audio(port: u16, proto: &str) -> MediaDescription {
    MediaDescription {
        kind: "audio".to_string(),
        port,
        port_count: None,
        proto: proto.to_string(),
        formats: Vec::new(),
        connection: None,
        attributes: Vec::new(),
        other_lines: Vec::new(),
    }
}

/// Adds a format with its rtpmap and fmtp, skipping a payload type already present.
fn push_codec(media: &mut MediaDescription, codec: &Codec, name: &str, fmtp: Option<&str>) {
    let pt = codec.payload_type.to_string();
    if media.formats.contains(&pt) {
        return;
    }
    let mut map = format!("{pt} {name}/{}", codec.clock_rate);
    if codec.channels != 1 {
        map.push_str(&format!("/{}", codec.channels));
    }
    media.attributes.push(Attribute::new("rtpmap", map));
    if let Some(fmtp) = fmtp {
        media
            .attributes
            .push(Attribute::new("fmtp", format!("{pt} {fmtp}")));
    }
    media.formats.push(pt);
}

fn finish_media(media: &mut MediaDescription, config: &MediaConfig) {
    // What our receiver plays (the jitter buffer takes packets of any length up to Opus's 120 ms):
    // it lets the peer lengthen its packets on a poor link, G.711 included (RFC 4566 §6).
    media
        .attributes
        .push(Attribute::new("maxptime", MAX_PTIME_MS.to_string()));
    if let Some(ptime) = config.ptime {
        media
            .attributes
            .push(Attribute::new("ptime", ptime.to_string()));
    }
    media.set_direction(config.direction);
}

/// The longest packet time we announce that we receive (`a=maxptime`).
pub const MAX_PTIME_MS: u32 = 60;

/// `b=AS:<kbit/s>` of a stream, else of the session (RFC 4566 §5.8).
fn bandwidth_as(sd: &SessionDescription, media: &MediaDescription) -> Option<u32> {
    let as_of = |lines: &[super::session::OtherLine]| {
        lines.iter().filter(|l| l.kind == 'b').find_map(|l| {
            let (kind, value) = l.value.split_once(':')?;
            kind.trim()
                .eq_ignore_ascii_case("AS")
                .then(|| value.trim().parse().ok())
                .flatten()
        })
    };
    as_of(&media.other_lines).or_else(|| as_of(&sd.other_lines))
}

/// Rejects a stream: same media and profile, port 0, formats echoed (RFC 3264 §6).
fn rejected(offered: &MediaDescription) -> MediaDescription {
    MediaDescription {
        port: 0,
        port_count: None,
        connection: None,
        attributes: Vec::new(),
        other_lines: Vec::new(),
        ..offered.clone()
    }
}

#[cfg(test)]
#[path = "negotiate_tests.rs"]
mod tests;
