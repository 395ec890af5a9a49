pub mod audio;
pub mod engine;
pub mod media;
pub mod sdp;
pub mod sip;
pub mod srtp;
pub mod zrtp;
