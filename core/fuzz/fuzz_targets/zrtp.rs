//! ZRTP packet framing, message parser and encrypted-body parsers on arbitrary bytes: they must
//! return Err rather than panic, and anything that parses must encode back to the same bytes
//! once re-parsed (encode -> parse is the identity).
#![no_main]

use libfuzzer_sys::fuzz_target;
use sipher::zrtp::message::{ConfirmBody, Message, SasRelayBody};
use sipher::zrtp::packet::parse_packet;

fuzz_target!(|data: &[u8]| {
    let message = match parse_packet(data) {
        Ok(raw) => raw.message,
        Err(_) => data,
    };
    if let Ok(msg) = Message::parse(message) {
        if let Ok(bytes) = msg.encode() {
            assert_eq!(Message::parse(&bytes).ok().as_ref(), Some(&msg));
        }
    }
    if let Ok(body) = ConfirmBody::parse(data) {
        let bytes = body.encode().expect("a parsed body encodes");
        assert_eq!(ConfirmBody::parse(&bytes).ok(), Some(body));
    }
    if let Ok(body) = SasRelayBody::parse(data) {
        let bytes = body.encode().expect("a parsed body encodes");
        assert_eq!(SasRelayBody::parse(&bytes).ok(), Some(body));
    }
});
