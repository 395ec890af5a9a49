//! SIP: messages, parsing, transactions, dialogs and the user agent (all sans-IO).

pub mod auth;
pub mod framing;
pub mod message;
pub mod parse;
pub mod transaction;
pub mod ua;
pub mod uri;

pub use message::*;
pub use parse::{parse_message, ParseError, ParseErrorKind};
pub use uri::{Host, Scheme, Uri};
