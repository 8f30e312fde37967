//! `amanah_media::Sniffer` on an arbitrary upload body.
//!
//! Input: the first byte picks the chunk size (`1 + low 6 bits`, so
//! 1..=64) and, with bit 6 set, small limits (2048 bytes, 60 s, 256
//! characters) so that the size, duration and text limits are reached;
//! the rest is the body.
//!
//! Asserts (see `amanah_media::fuzz_checks::check_media_sniff`): never
//! panics; the result fed whole equals the result fed in chunks of that
//! size and, for bodies up to 8 KiB, byte by byte; an accepted verdict is
//! within the limits and counts every byte.
#![no_main]

use amanah_media::fuzz_checks::check_media_sniff;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = check_media_sniff(data);
});
