//! `config::load` on arbitrary TOML text, no environment overrides.
//!
//! Asserts: `load` never panics; it returns `Ok(Config)` or `Err(Problems)`
//! with at least one problem, and both render (`Debug`/`Display`) without
//! panicking. Secrets are never resolved (`prepare`/`check` are not called),
//! so the run touches no file and no environment variable.
#![no_main]

use std::path::PathBuf;

use amanah_gateway::config::{load, Source};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Arbitrary UTF-8: the longest valid prefix of the input.
    let text = match std::str::from_utf8(data) {
        Ok(s) => s,
        Err(e) => std::str::from_utf8(&data[..e.valid_up_to()]).unwrap(),
    };
    let source = Source {
        file: Some(("fuzz.toml".to_owned(), text.to_owned())),
        env: Vec::new(),
        data_dir: None,
        base_dir: Some(PathBuf::from("/fuzz-base")),
    };
    match load(&source) {
        Ok(config) => {
            let _ = format!("{config:?}");
        }
        Err(problems) => {
            assert!(!problems.0.is_empty(), "Err(Problems) with no problem");
            let _ = problems.to_string();
        }
    }
});
