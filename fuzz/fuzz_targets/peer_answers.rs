//! What remote peers send back, on arbitrary input: a model's JSON answer
//! read for its token usage (`usage::parse`), and each line of a mail
//! server's reply (`alerts::parse_reply_line`). Neither may panic; an
//! accepted reply line has a three-digit code and no line ending in its
//! text.
#![no_main]

use amanah_gateway::alerts::parse_reply_line;
use amanah_gateway::usage;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = usage::parse(data);
    for line in data.split(|&b| b == b'\n') {
        if let Ok(reply) = parse_reply_line(line) {
            assert!((0..=999).contains(&reply.code));
            assert!(!reply.text.contains(['\r', '\n']));
        }
    }
});
