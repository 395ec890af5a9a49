//! Any byte stream, cut into pushes of fuzzer-chosen sizes, through `StreamFramer`: no panic,
//! no growth beyond the message limit, and the frames do not depend on how the stream was cut.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sipher::sip::framing::{Frame, FramingError, StreamFramer};
use sipher::sip::parse::{parse_message, MAX_MESSAGE_LEN};

fuzz_target!(|data: &[u8]| {
    // The first byte picks the chunk size, the rest is the stream.
    let Some((&size, stream)) = data.split_first() else {
        return;
    };
    let chunked = frames(stream, usize::from(size % 64) + 1);
    let whole = frames(stream, stream.len().max(1));
    // A CRLF at the very end of a push is a pong unless more bytes follow, so chunking may
    // split a ping in two; compare only message frames and errors.
    let messages = |f: &[Result<Frame, FramingError>]| -> Vec<_> {
        f.iter()
            .filter(|r| !matches!(r, Ok(Frame::KeepAlivePing | Frame::KeepAlivePong)))
            .cloned()
            .collect()
    };
    if !chunked.iter().chain(&whole).any(|r| r.is_err()) {
        assert_eq!(messages(&chunked), messages(&whole));
    }
    for frame in chunked {
        if let Ok(Frame::Message(m)) = frame {
            assert!(m.len() <= MAX_MESSAGE_LEN);
            let _ = parse_message(&m);
        }
    }
});

fn frames(stream: &[u8], chunk: usize) -> Vec<Result<Frame, FramingError>> {
    let mut framer = StreamFramer::new();
    let mut out = Vec::new();
    for piece in stream.chunks(chunk) {
        framer.push(piece);
        // Bounded: every frame consumes at least one buffered byte.
        for _ in 0..=stream.len() {
            match framer.next() {
                Some(f) => out.push(f),
                None => break,
            }
        }
        assert!(framer.buffered() <= MAX_MESSAGE_LEN + chunk);
    }
    out
}
