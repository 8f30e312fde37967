//! `amanah_audit`'s parsers and verifier on arbitrary input.
//!
//! The input is given to three checks (see `amanah_audit::fuzz_checks`):
//! `Event::from_json` on its longest valid UTF-8 prefix (an accepted event
//! round-trips through `to_json` with equal canonical bytes);
//! `Checkpoint::from_text` and `parse_checkpoint_file` (an accepted
//! checkpoint round-trips, verifying it does not panic); and, read as
//! tampering ops of 3 bytes (delete, swap, duplicate, edit, rewrite with
//! recomputed hashes, truncate), the verifier on a damaged 24-event chain
//! with a checkpoint every 5: never panics, every change is reported
//! except a truncation or rewrite after the last checkpoint, and no damage
//! is reported after the position where it happened.
#![no_main]

use amanah_audit::fuzz_checks::{check_checkpoint_text, check_event_json, check_tampering};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    check_event_json(data);
    check_checkpoint_text(data);
    check_tampering(data);
});
