//! `logging::redact` on arbitrary text.
//!
//! Asserts: never panics; the output contains no Amanah API key with a
//! visible secret, i.e. nothing matching `amk_[0-9a-f]{8}_[0-9A-Za-z]{8,}`
//! (the redacted form `amk_<id>_***REDACTED***` does not match: `*` follows
//! the underscore); and the secret of every key-shaped string in the input
//! is absent from the output (this caught `seeds/redact/adjacent_keys`).
#![no_main]

use std::sync::LazyLock;

use amanah_gateway::logging::redact;
use libfuzzer_sys::fuzz_target;
use regex::Regex;

static VISIBLE_KEY: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"amk_[0-9a-f]{8}_[0-9A-Za-z]{8,}").unwrap());
static KEY_SECRET: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"amk_[0-9a-f]{8}_([0-9A-Za-z]{8,})").unwrap());

fuzz_target!(|data: &[u8]| {
    let line = match std::str::from_utf8(data) {
        Ok(s) => s,
        Err(e) => std::str::from_utf8(&data[..e.valid_up_to()]).unwrap(),
    };
    let out = redact(line);
    if let Some(m) = VISIBLE_KEY.find(&out) {
        panic!(
            "redact({line:?}) = {out:?} still shows an API key: {:?}",
            m.as_str()
        );
    }
    for c in KEY_SECRET.captures_iter(line) {
        assert!(!out.contains(&c[1]), "redact({line:?}) = {out:?} leaks {:?}", &c[1]);
    }
});
