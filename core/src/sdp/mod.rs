//! SDP (RFC 8866, formerly RFC 4566) and the offer/answer model (RFC 3264) for one audio stream,
//! sans-IO.
//!
//! [`SessionDescription`] parses and prints a description, keeping every line it does not model
//! so that a parse/print round trip preserves unknown attributes such as `a=zrtp-hash` and
//! `a=crypto`. [`create_offer`], [`create_answer`] and [`process_answer`] negotiate one audio
//! stream and report the outcome as a [`Negotiated`]; [`hold_offer`] and [`resume_offer`] build
//! re-offers.
//!
//! ```
//! use std::net::{IpAddr, Ipv4Addr, SocketAddr};
//! use sipher::sdp::{create_answer, create_offer, process_answer, Codec, Direction, MediaConfig};
//!
//! let ip = IpAddr::V4(Ipv4Addr::LOCALHOST);
//! let alice = MediaConfig::new(SocketAddr::new(ip, 4000), vec![Codec::pcmu(), Codec::pcma()]);
//! let bob = MediaConfig::new(SocketAddr::new(ip, 5000), vec![Codec::pcma()]);
//! let offer = create_offer(&alice, 1, 1, ip);
//! let (answer, at_bob) = create_answer(&offer, &bob, 7, 1, ip).unwrap();
//! let at_alice = process_answer(&offer, &answer).unwrap();
//! assert_eq!(at_alice.codec.name, "PCMA");
//! assert_eq!(at_alice.remote_rtp.port(), 5000);
//! assert_eq!(at_bob.local_direction, Direction::SendRecv);
//! ```

mod negotiate;
mod session;

pub use negotiate::{
    create_answer, create_offer, hold_offer, process_answer, reoffer, resume_offer, Codec,
    MediaConfig, Negotiated,
};
pub use session::{
    Attribute, Connection, Direction, MediaDescription, Origin, OtherLine, PayloadType, Rtcp,
    RtpMap, SessionDescription, Timing, MAX_ATTRIBUTES, MAX_FORMATS, MAX_MEDIA, MAX_SDP_LEN,
};

/// Why an SDP body could not be parsed or negotiated. Line numbers count from 1.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SdpError {
    // The peer sent a description we cannot read.
    #[error("SDP body of {len} bytes exceeds {max}")]
    TooLarge { len: usize, max: usize },
    #[error("more than {max} {what}")]
    TooMany { what: &'static str, max: usize },
    #[error("SDP body is not UTF-8")]
    NotUtf8,
    #[error("line {line} is not of the form x=value")]
    MalformedLine { line: usize },
    #[error("required {0}= line missing")]
    MissingLine(char),
    #[error("media section {media} has no c= line and there is no session-level one")]
    MissingConnection { media: usize },
    #[error("line {line}: {kind}= may appear only once here")]
    DuplicateLine { line: usize, kind: char },
    #[error("line {line}: {kind}= is not allowed here")]
    UnexpectedLine { line: usize, kind: char },
    #[error("line {line}: unsupported version (only v=0)")]
    BadVersion { line: usize },
    #[error("line {line}: malformed o= line")]
    BadOrigin { line: usize },
    #[error("line {line}: malformed c= line")]
    BadConnection { line: usize },
    #[error("line {line}: malformed t= line")]
    BadTiming { line: usize },
    #[error("line {line}: malformed m= line")]
    BadMedia { line: usize },
    #[error("line {line}: bad port")]
    BadPort { line: usize },
    #[error("line {line}: bad RTP payload type")]
    BadPayloadType { line: usize },
    #[error("line {line}: malformed a={name} attribute")]
    BadAttribute { line: usize, name: String },

    // Negotiation outcomes.
    /// No offered stream can be accepted. `answer` (from [`create_answer`]) rejects every
    /// stream with port 0, for when an answer must be sent anyway (offer in a 2xx, answer in
    /// the ACK); otherwise the UA answers 488 Not Acceptable Here.
    #[error("no common codec")]
    NoCommonCodec {
        answer: Option<Box<SessionDescription>>,
    },
    /// Our own offer holds no audio stream we could have negotiated.
    #[error("the offer holds no usable audio stream")]
    NoAudioStream,
    /// The answerer set our audio stream's port to 0.
    #[error("the answer rejected the audio stream")]
    StreamRejected,
    /// The answer does not line up with the offer (RFC 3264 §6): the peer misbehaved.
    #[error("answer does not match the offer: {what}")]
    AnswerMismatch { what: &'static str },
}
