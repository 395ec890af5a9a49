pub mod audio;
pub mod engine;
pub mod ffi;
pub mod media;
pub mod sdp;
pub mod sip;
pub mod srtp;
pub mod zrtp;

uniffi::setup_scaffolding!();
