//! Development aid, `amanah pii detect` without the CLI: reads
//! `{"id","text"}` lines on stdin, writes
//! `{"id","spans":[{start,end,label,score}]}` on stdout with offsets in
//! Unicode code points (Python string indices). `AMANAH_MIN_SCORE=F` sets
//! another score floor, for threshold studies.
//!
//! ```sh
//! cargo run -q --release -p amanah-pii --example detect_jsonl \
//!     < ../shared/bench/pii-dev.jsonl > /tmp/pred.jsonl
//! python3 ../shared/bench/score.py ../shared/bench/pii-dev.jsonl /tmp/pred.jsonl
//! ```

use std::io::{BufRead, Write};

use amanah_pii::Analyzer;

fn main() {
    // A score floor other than the default, for threshold studies.
    let analyzer = match std::env::var("AMANAH_MIN_SCORE") {
        Ok(v) => amanah_pii::recognizers::standard(Analyzer::builder())
            .min_score(v.parse().expect("AMANAH_MIN_SCORE: a number"))
            .build(),
        Err(_) => Analyzer::standard(),
    };
    let stdin = std::io::stdin();
    let mut out = std::io::BufWriter::new(std::io::stdout());
    for line in stdin.lock().lines() {
        let line = line.expect("reading stdin");
        if line.trim().is_empty() {
            continue;
        }
        let v: serde_json::Value = serde_json::from_str(&line).expect("a JSON line");
        let text = v["text"].as_str().unwrap_or_default();
        let to_chars = |byte: usize| text[..byte].chars().count();
        let spans: Vec<serde_json::Value> = analyzer
            .analyze(text)
            .iter()
            .map(|d| {
                serde_json::json!({
                    "start": to_chars(d.start),
                    "end": to_chars(d.end),
                    "label": d.entity.as_str(),
                    "score": d.score,
                })
            })
            .collect();
        let row = serde_json::json!({ "id": v["id"], "spans": spans });
        writeln!(out, "{row}").expect("writing stdout");
    }
}
