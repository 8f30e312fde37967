//! `config::load` with arbitrary `AMANAH_*` environment overrides.
//!
//! Input layout: the first byte picks the file (odd: the full example
//! configuration `seeds/config_toml/example.toml`, which has a `routes`
//! array to index into; even: no file). The rest is split on NUL into
//! records, each record on its first `=` into key and value (a record with
//! no `=` gets an empty value), and every key is prefixed with `AMANAH_`.
//! Non-UTF-8 bytes are replaced (U+FFFD).
//!
//! Asserts: `load` never panics; `Err(Problems)` carries at least one
//! problem; both outcomes render without panicking. Secrets are never
//! resolved.
#![no_main]

use amanah_gateway::config::{load, Source};
use libfuzzer_sys::fuzz_target;

const BASE: &str = include_str!("../seeds/config_toml/example.toml");

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let env: Vec<(String, String)> = rest
        .split(|&b| b == 0)
        .filter(|r| !r.is_empty())
        .map(|record| {
            let (k, v) = match record.iter().position(|&b| b == b'=') {
                Some(i) => (&record[..i], &record[i + 1..]),
                None => (record, &record[record.len()..]),
            };
            (
                format!("AMANAH_{}", String::from_utf8_lossy(k)),
                String::from_utf8_lossy(v).into_owned(),
            )
        })
        .collect();
    let source = Source {
        file: (mode & 1 == 1).then(|| ("example.toml".to_owned(), BASE.to_owned())),
        env,
        data_dir: None,
        base_dir: None,
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
