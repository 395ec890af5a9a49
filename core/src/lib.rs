pub mod sdp;
pub mod sip;
pub mod engine;
