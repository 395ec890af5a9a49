pub mod engine;
pub mod sdp;
pub mod sip;
