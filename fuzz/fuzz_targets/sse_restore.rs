//! `privacy::sse::SseRestorer` on an arbitrary server-sent event stream.
//!
//! Input: the first byte picks the chunk size (`1..=64`), the rest is the
//! stream, restored with `<PERSON_1>` and `<EMAIL_ADDRESS_1>` known.
//!
//! Asserts (see `amanah_gateway::privacy::fuzz_checks::check_sse_restore`):
//! never panics; UTF-8 in, UTF-8 out; a stream with no `<`, `%` or `\`
//! passes byte for byte; the output does not depend on the chunk size
//! (up to an empty line a `\r`|`\n` cut adds after a rewritten event).
#![no_main]

use amanah_gateway::privacy::fuzz_checks::check_sse_restore;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| check_sse_restore(data));
