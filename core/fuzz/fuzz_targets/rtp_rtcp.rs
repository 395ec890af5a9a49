//! Any datagram through the RTP port's parsers: demux, RTP, RTCP and telephone-events. No
//! panic, and whatever parses re-serialises to something that parses back the same.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sipher::media::demux::classify;
use sipher::media::dtmf::TelephoneEvent;
use sipher::media::rtcp::{parse_compound, write_compound};
use sipher::media::rtp::RtpPacket;

fuzz_target!(|data: &[u8]| {
    let _ = classify(data);

    if let Ok(packet) = RtpPacket::parse(data) {
        // Padding is dropped and the header re-encoded, so compare parsed values.
        let again = RtpPacket::parse(&packet.to_bytes()).expect("a serialised packet parses");
        assert_eq!(again, packet);
        if let Ok(event) = TelephoneEvent::parse(&packet.payload) {
            let bytes = event.to_bytes();
            assert_eq!(TelephoneEvent::parse(&bytes), Ok(event));
        }
    }

    if let Ok(packets) = parse_compound(data) {
        // Parsed lists hold at most 31 entries, so writing cannot fail. Non-UTF-8 text is
        // replaced (and may then be cut at 255 bytes), so only the second round trip is exact.
        let bytes = write_compound(&packets).expect("parsed packets can be written");
        assert_eq!(bytes.len() % 4, 0);
        if !bytes.is_empty() {
            let once = parse_compound(&bytes).expect("a written compound parses");
            let twice = parse_compound(&write_compound(&once).expect("writable")).expect("parses");
            assert_eq!(once, twice);
        }
    }
});
