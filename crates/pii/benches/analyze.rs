//! `Analyzer::analyze` on a few representative texts (see `bench/pii/`).
//!
//! ```sh
//! cargo bench -p amanah-pii --bench analyze -- --warm-up-time 1 --measurement-time 2
//! ```
//!
//! The analyzer is built once and warmed (its word lists are made lazily on
//! first use), so every figure is the steady-state cost of one call.
use std::hint::black_box;

use amanah_pii::Analyzer;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

const CHAT: &str =
    "Hi, this is Maria Gonzalez, can you send the report to maria.gonzalez@example.com?";

const PARAGRAPH: &str = "Please ship the replacement to Robert Chen, 1420 Oak Hill Drive, \
Apt 3B, Springfield, IL 62704. He can be reached at (217) 555-0143 during business hours. \
The order was paid with card 4111 1111 1111 1111, expiring 09/27, on March 3, 2024.";

const NO_PII: &str = "The quarterly planning meeting covered the roadmap, the hiring plan and \
the budget for the next release; everyone agreed to revisit the open questions next week.";

/// About 4 KB: ordinary prose with a few identifiers spread through it.
fn long_text() -> String {
    let parts = [
        "The support team reviewed the ticket backlog this morning and sorted the open issues by age. ",
        NO_PII,
        " ",
        CHAT,
        " The customer said the invoice had been sent twice and asked for a refund of the second charge. ",
        "Our records show the account was opened in 2019 and the contact on file is John Miller, who \
can be called at 415-555-0199 or written to at j.miller@example.org. ",
        "Nothing else in the conversation needed follow-up, and the ticket was closed after the refund went through. ",
    ];
    let mut s = String::new();
    while s.len() < 4096 {
        for p in parts {
            s.push_str(p);
        }
    }
    let mut end = 4096;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.truncate(end);
    s
}

fn bench_analyze(c: &mut Criterion) {
    let analyzer = Analyzer::standard();
    let long = long_text();
    let cases: [(&str, &str); 4] = [
        ("chat_name_email", CHAT),
        ("paragraph_address_phone_card", PARAGRAPH),
        ("no_pii", NO_PII),
        ("text_4kb", &long),
    ];
    for (_, text) in cases {
        black_box(analyzer.analyze(text));
    }
    let mut g = c.benchmark_group("analyze");
    for (name, text) in cases {
        g.throughput(Throughput::Bytes(text.len() as u64));
        g.bench_function(name, |b| b.iter(|| analyzer.analyze(black_box(text))));
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(std::time::Duration::from_millis(500))
        .measurement_time(std::time::Duration::from_secs(2))
        .sample_size(50);
    targets = bench_analyze
}
criterion_main!(benches);
