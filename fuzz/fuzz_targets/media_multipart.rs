//! `amanah_media::MultipartSniffer` on an arbitrary `multipart/form-data`
//! body (see `amanah_media::fuzz_checks::check_multipart_sniff`): the first
//! byte picks the chunk size, the rest is the body (boundary `fuzzb`).
//! Asserts: never panics; whole, chunked and byte-by-byte reads agree.
#![no_main]

use amanah_media::fuzz_checks::check_multipart_sniff;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = check_multipart_sniff(data);
});
