//! Development aid: time per recognizer family over a JSONL file on stdin.
//!
//! ```sh
//! cargo run --release -p amanah-pii --example per_family [ROUNDS] [FAMILY...] < dev.jsonl
//! cargo run --release -p amanah-pii --example per_family dump < dev.jsonl > candidates.txt
//! ```
//!
//! Each family is timed `ROUNDS` times (default 5) and the fastest round is
//! printed, as other processes on the machine make single rounds noisy.
//! `dump` prints every family's detections at score floor 0 for each text,
//! a finer oracle than the standard analyzer's output when optimizing.
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
    let families: [(&str, Register); 13] = [
        ("contact", r::contact::register),
        ("financial", r::financial::register),
        ("identifiers", r::identifiers::register),
        ("network", r::network::register),
        ("secrets", r::secrets::register),
        ("temporal", r::temporal::register),
        ("person", r::person::register),
        ("places", r::places::register),
        ("organizations", r::organizations::register),
        // places, one recognizer at a time
        ("  location", |b| {
            b.recognizer(r::places::LocationRecognizer::new())
        }),
        ("  street", |b| {
            b.recognizer(r::places::StreetAddressRecognizer::new())
        }),
        ("  zip", |b| {
            b.recognizer(r::places::ZipCodeRecognizer::new())
        }),
        ("  nrp", |b| b.recognizer(r::places::NrpRecognizer::new())),
    ];
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().is_some_and(|a| a == "dump") {
        for (name, register) in families.into_iter().filter(|(n, _)| !n.starts_with(' ')) {
            let a = register(Analyzer::builder()).min_score(0.0).build();
            for (i, t) in texts.iter().enumerate() {
                for d in a.analyze(t) {
                    println!(
                        "{name} {i} {} {} {} {}",
                        d.start,
                        d.end,
                        d.entity.as_str(),
                        d.score
                    );
                }
            }
        }
        return;
    }
    let rounds: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(5);
    let only: Vec<&String> = args
        .iter()
        .filter(|a| a.parse::<usize>().is_err())
        .collect();
    let mut total = 0.0;
    for (name, register) in families {
        if only.is_empty() && name.starts_with(' ') {
            continue;
        }
        if !only.is_empty() && !only.iter().any(|o| o.as_str() == name.trim()) {
            continue;
        }
        let a = register(Analyzer::builder()).build();
        for t in &texts {
            a.analyze(t);
        }
        let mut best = f64::INFINITY;
        for _ in 0..rounds {
            let start = Instant::now();
            timed_round(&a, &texts);
            best = best.min(start.elapsed().as_secs_f64());
        }
        if !name.starts_with(' ') {
            total += best;
        }
        println!(
            "{name:14} {:8.2} us/text {:7.2} MB/s",
            best * 1e6 / texts.len() as f64,
            bytes as f64 / best / 1e6
        );
    }
    println!(
        "{:14} {:8.2} us/text",
        "total",
        total * 1e6 / texts.len() as f64
    );
}

/// One timed pass, a function of its own so that a profiler can restrict
/// itself to it (`valgrind --tool=callgrind --toggle-collect=per_family::timed_round`),
/// leaving out the first pass, which builds the word lists and warms the
/// regex caches.
#[inline(never)]
fn timed_round(analyzer: &Analyzer, texts: &[String]) {
    for t in texts {
        std::hint::black_box(analyzer.analyze(t));
    }
}
