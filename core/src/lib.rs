pub mod sdp;
pub mod sip;
