//! `amanah_pii::Analyzer::standard().analyze` on arbitrary text (the
//! longest valid UTF-8 prefix).
//!
//! Asserts: never panics; detections are sorted, disjoint, non-empty, on
//! character boundaries, inside the text, with scores in `0.0..=1.0`.
#![no_main]

use std::sync::OnceLock;

use amanah_pii::Analyzer;
use libfuzzer_sys::fuzz_target;

fn analyzer() -> &'static Analyzer {
    static ANALYZER: OnceLock<Analyzer> = OnceLock::new();
    ANALYZER.get_or_init(Analyzer::standard)
}

fuzz_target!(|data: &[u8]| {
    let text = match std::str::from_utf8(data) {
        Ok(s) => s,
        Err(e) => std::str::from_utf8(&data[..e.valid_up_to()]).unwrap(),
    };
    let found = analyzer().analyze(text);
    let mut last_end = 0;
    for d in &found {
        assert!(d.start >= last_end, "overlap or disorder in {text:?}");
        assert!(d.start < d.end && d.end <= text.len());
        assert!(text.is_char_boundary(d.start) && text.is_char_boundary(d.end));
        assert!((0.0..=1.0).contains(&d.score));
        last_end = d.end;
    }
});
