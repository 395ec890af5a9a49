//! ZRTP (RFC 6189) building blocks, sans-IO: packet framing and message codec, algorithm
//! negotiation, the key schedule (hash chain, hvi, s0, KDF and derived keys), the key
//! agreements (DH2k/DH3k, EC25/EC38, X25519) and SAS rendering.
//!
//! Nothing here owns a socket, a timer or a clock, and randomness is passed in. The protocol
//! state machine that strings these blocks together is built on top of them.
//!
//! ```
//! use sipher::zrtp::kdf::HashChain;
//! use sipher::zrtp::message::HashImage;
//! let chain = HashChain::from_h0(HashImage([7; 32]));
//! // Each image reveals the next one up: a peer checks H2 against the H3 it saw in Hello.
//! assert!(sipher::zrtp::kdf::verify_chain_link(&chain.h2, &chain.h3).is_ok());
//! ```

#![forbid(unsafe_code)]

pub mod agreement;
pub mod algorithms;
pub mod cache;
pub mod error;
pub mod kdf;
pub mod keys;
pub mod message;
pub mod packet;
pub mod pgp_words;
pub mod sas;
pub mod session;

pub use error::{PeerMisbehaved, ZrtpError};
