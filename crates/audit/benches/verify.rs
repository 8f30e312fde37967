//! Verify rate of the audit chain: events per second checked by
//! `amanah_audit::verify` (one SHA-256 over the canonical bytes per event,
//! link and seq checks, checkpoint comparisons), over one million small
//! events with a signed checkpoint every 1000. Issue 6's goal is
//! 1,000,000 verified events per second on one core.
//!
//! A second group measures the path `amanah audit verify` takes from a
//! store, parsing each event's JSON first (100,000 events).
//!
//! ```sh
//! cargo bench -p amanah-audit --bench verify -- --warm-up-time 1 --measurement-time 5
//! ```

// Not `is_multiple_of`: that is Rust 1.87 and the workspace MSRV is 1.85.
#![allow(clippy::manual_is_multiple_of)]

use amanah_audit::{verify, Chain, Checkpoint, Event, Outcome, SigningKey, StoredEvent};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

/// About the size of the gateway's events: ~300 bytes of JSON.
fn event(i: u64) -> Event {
    Event::new(
        1_795_000_000_000 + i as i64,
        "gw-1",
        "key:0a1b2c3d",
        "model.invoke",
        "route:chat",
        Outcome::Success,
    )
    .with_client_ip("203.0.113.7")
    .with_request_id(format!("{:032x}", i.wrapping_mul(0x9e37_79b9_7f4a_7c15)))
    .with_detail("status", "200")
    .with_detail("redactions", "2")
}

fn build(n: u64) -> (Vec<StoredEvent>, Vec<Checkpoint>, SigningKey) {
    let key = SigningKey::from_seed(&[42u8; 32]).unwrap();
    let mut chain = Chain::new();
    let mut events = Vec::with_capacity(n as usize);
    let mut checkpoints = Vec::new();
    for i in 1..=n {
        events.push(StoredEvent::from(chain.append(event(i))));
        if i % 1000 == 0 {
            checkpoints.push(chain.checkpoint(&key, "gw-1", 0).unwrap());
        }
    }
    (events, checkpoints, key)
}

fn bench(c: &mut Criterion) {
    const N: u64 = 1_000_000;
    let (events, checkpoints, key) = build(N);
    let mut group = c.benchmark_group("audit_verify");
    group.sample_size(10);
    group.throughput(Throughput::Elements(N));
    group.bench_function("1M_events", |b| {
        b.iter(|| {
            let report = verify(&events, &checkpoints, key.verifying_key());
            assert_eq!(report.verified, N);
            report
        })
    });
    drop(events);

    const J: u64 = 100_000;
    let (events, checkpoints, key) = build(J);
    let rows: Vec<(String, [u8; 32], [u8; 32])> = events
        .iter()
        .map(|e| (e.event.to_json(), e.prev_hash, e.hash))
        .collect();
    group.throughput(Throughput::Elements(J));
    group.bench_function("100k_events_from_json", |b| {
        b.iter(|| {
            let stored = rows
                .iter()
                .map(|(json, prev, hash)| StoredEvent::from_parts(json, prev, hash).unwrap());
            let report = verify(stored, &checkpoints, key.verifying_key());
            assert_eq!(report.verified, J);
            report
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
