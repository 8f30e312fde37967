//! Throughput and memory of `Analyzer::standard()` over a JSONL file
//! (`{"text", ...}` lines), as `bench/pii/run.sh` measures it.
//!
//! ```sh
//! cargo build --release -p amanah-pii --example throughput
//! taskset -c 0 target/release/examples/throughput [--passes N] [--min-seconds S] DATASET.jsonl
//! ```
//!
//! The texts are read into memory first, then the analyzer is built (timed:
//! `load_seconds`) and run once over every text (`first_pass_seconds`: it
//! builds the lazily made word lists and warms the regex caches). Then timed
//! passes of `analyze` over all texts follow, at least `--passes` (default
//! 5) and until `--min-seconds` (default 3) have gone by; `seconds` is the
//! median pass, from which `mb_per_s` (10^6 bytes of UTF-8 text per second)
//! and `us_per_text` follow.
//!
//! Memory (MB = 10^6 bytes, from `/proc/self/status`): `engine_rss_mb` is
//! VmRSS after the warm-up pass minus VmRSS before the analyzer was built
//! (the analyzer, its lazily built tables and what the allocator keeps);
//! `peak_rss_mb` is VmHWM at the end, the whole process (texts included).
//!
//! On-CPU time of the timed passes comes from `/proc/self/schedstat`:
//! `cpu_share` = CPU time / wall time, below ~0.95 when other processes took
//! the core, and `mb_per_cpu_s` is throughput per CPU second, the steadier
//! figure on a busy machine. Prints one JSON line.
use std::time::Instant;

use amanah_pii::Analyzer;

fn main() {
    let mut passes = 5usize;
    let mut min_seconds = 3.0f64;
    let mut path = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--passes" => {
                passes = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .expect("--passes N")
            }
            "--min-seconds" => {
                min_seconds = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .expect("--min-seconds S")
            }
            _ => path = Some(a),
        }
    }
    let path = path.expect("usage: throughput [--passes N] [--min-seconds S] DATASET.jsonl");
    let input = std::fs::read_to_string(&path).expect("reading the dataset");
    let texts: Vec<String> = input
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("a JSON line");
            v["text"].as_str().expect("a \"text\" string").to_owned()
        })
        .collect();
    drop(input);
    let bytes: usize = texts.iter().map(String::len).sum();

    let rss_before = status_kb("VmRSS:");
    let t0 = Instant::now();
    let analyzer = Analyzer::standard();
    let load_seconds = t0.elapsed().as_secs_f64();
    let t0 = Instant::now();
    let mut detections = 0usize;
    for t in &texts {
        detections += analyzer.analyze(t).len();
    }
    let first_pass_seconds = t0.elapsed().as_secs_f64();
    let rss_after = status_kb("VmRSS:");

    let mut walls = Vec::new();
    let cpu0 = on_cpu_ns();
    let start = Instant::now();
    while walls.len() < passes || start.elapsed().as_secs_f64() < min_seconds {
        let t0 = Instant::now();
        timed_pass(&analyzer, &texts);
        walls.push(t0.elapsed().as_secs_f64());
    }
    let total_wall = start.elapsed().as_secs_f64();
    let cpu_share = match (cpu0, on_cpu_ns()) {
        (Some(a), Some(b)) => Some((b - a) as f64 / 1e9 / total_wall),
        _ => None,
    };
    walls.sort_by(f64::total_cmp);
    let seconds = walls[walls.len() / 2];
    let mb = bytes as f64 / 1e6;
    let mb_kb = |kb: Option<u64>| kb.map(|k| round(k as f64 * 1024.0 / 1e6, 2));
    let row = serde_json::json!({
        "dataset": path,
        "texts": texts.len(),
        "bytes": bytes,
        "detections": detections,
        "passes": walls.len(),
        "seconds": round(seconds, 6),
        "seconds_min": round(walls[0], 6),
        "seconds_max": round(walls[walls.len() - 1], 6),
        "mb_per_s": round(mb / seconds, 3),
        "texts_per_s": round(texts.len() as f64 / seconds, 1),
        "us_per_text": round(seconds * 1e6 / texts.len() as f64, 3),
        "cpu_share": cpu_share.map(|s| round(s, 3)),
        "mb_per_cpu_s": cpu_share.map(|s| round(mb * walls.len() as f64 / (total_wall * s), 3)),
        "load_seconds": round(load_seconds, 6),
        "first_pass_seconds": round(first_pass_seconds, 6),
        "engine_rss_mb": match (rss_before, rss_after) {
            (Some(a), Some(b)) => Some(round(b.saturating_sub(a) as f64 * 1024.0 / 1e6, 2)),
            _ => None,
        },
        "rss_mb": mb_kb(status_kb("VmRSS:")),
        "peak_rss_mb": mb_kb(status_kb("VmHWM:")),
    });
    println!("{row}");
}

/// One timed pass over every text, a function of its own for profilers.
#[inline(never)]
fn timed_pass(analyzer: &Analyzer, texts: &[String]) {
    for t in texts {
        std::hint::black_box(analyzer.analyze(std::hint::black_box(t)));
    }
}

/// A `/proc/self/status` field in kB.
fn status_kb(field: &str) -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with(field))?;
    line[field.len()..].split_whitespace().next()?.parse().ok()
}

/// Nanoseconds the main thread has spent on a CPU.
fn on_cpu_ns() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/schedstat").ok()?;
    s.split_whitespace().next()?.parse().ok()
}

fn round(x: f64, digits: i32) -> f64 {
    let m = 10f64.powi(digits);
    (x * m).round() / m
}
