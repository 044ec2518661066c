//! Every text frame Twilio (or anyone who got past the upgrade) can send on a Media Stream goes
//! through `stream_message::parse`: it must answer every input with a message or an error,
//! never a panic, a hang or an allocation beyond the frame's size.
#![no_main]
#![forbid(unsafe_code)]

use diala_trunk::twilio::stream_message::{MAX_PAYLOAD_BYTES, StreamEvent, parse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(StreamEvent::Media { media, .. }) = parse(text) {
        // A payload the parser accepted is within the limit it promises.
        assert!(media.payload.len() <= MAX_PAYLOAD_BYTES);
    }
});
