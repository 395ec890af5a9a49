//! The voice path's protocol side, sans-IO: RTP/RTCP (RFC 3550), telephone-events (RFC 4733),
//! codecs, the adaptive jitter buffer, and the per-call media stream that ties them together.
pub mod codec;
pub mod demux;
pub mod dtmf;
pub mod jitter;
mod jitter_tuning;
pub mod ptime;
pub mod rtcp;
pub mod rtp;
pub mod session;
pub mod session_output;
pub mod stats;
