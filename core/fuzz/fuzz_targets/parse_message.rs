//! Any bytes through `parse_message`: no panic, and whatever parses must survive its own
//! serialisation: `to_bytes()` parses again to an equal message.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sipher::sip::parse::{parse_message, ParseErrorKind, MAX_MESSAGE_LEN};

fuzz_target!(|data: &[u8]| {
    let Ok(msg) = parse_message(data) else {
        return;
    };
    let bytes = msg.to_bytes();
    match parse_message(&bytes) {
        Ok(again) => assert_eq!(again, msg, "round trip changed the message"),
        // Expanding compact names and splitting lists may push a message that was just under
        // the size limit over it; that is the only acceptable failure.
        Err(e) if e.kind == ParseErrorKind::TooLarge && bytes.len() > MAX_MESSAGE_LEN => {}
        Err(e) => panic!("re-parse of {msg:?} failed: {e}"),
    }
});
