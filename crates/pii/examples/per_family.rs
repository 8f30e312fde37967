//! Development aid: time per recognizer family over a JSONL file on stdin.
use std::io::Read;
use std::time::Instant;

use amanah_pii::{recognizers as r, Analyzer, AnalyzerBuilder};

/// A family's `register` function.
type Register = fn(AnalyzerBuilder) -> AnalyzerBuilder;

fn main() {
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input).unwrap();
    let texts: Vec<String> = input
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["text"].as_str().map(str::to_owned))
        .collect();
    let bytes: usize = texts.iter().map(String::len).sum();
    let families: [(&str, Register); 9] = [
        ("contact", r::contact::register),
        ("financial", r::financial::register),
        ("identifiers", r::identifiers::register),
        ("network", r::network::register),
        ("secrets", r::secrets::register),
        ("temporal", r::temporal::register),
        ("person", r::person::register),
        ("places", r::places::register),
        ("organizations", r::organizations::register),
    ];
    for (name, register) in families {
        let a = register(Analyzer::builder()).build();
        for t in &texts {
            a.analyze(t);
        }
        let start = Instant::now();
        for t in &texts {
            a.analyze(t);
        }
        let s = start.elapsed().as_secs_f64();
        println!(
            "{name:14} {:8.1} us/text {:7.2} MB/s",
            s * 1e6 / texts.len() as f64,
            bytes as f64 / s / 1e6
        );
    }
}
