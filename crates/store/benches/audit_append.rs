//! Durable append rate of the audit log's SQLite store: events committed
//! per second, WAL mode with `synchronous = FULL` (each commit is on disk
//! before it returns), in batches of 1, 64 and 512 events per transaction
//! (group commit: the gateway's audit writer gathers the events that
//! arrive while the previous commit is in flight). Issue 6's goal is
//! 50,000 durable appends per second.
//!
//! ```sh
//! cargo bench -p amanah-store --bench audit_append
//! ```

use std::sync::atomic::{AtomicI64, Ordering};

use amanah_store::{AuditRow, AuditStore, SqliteAuditStore};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

/// A realistic event: about 300 bytes of JSON and two 32-byte hashes.
fn row(seq: i64) -> AuditRow {
    let time = 1_795_000_000_000 + seq;
    AuditRow {
        seq,
        time_unix_ms: time,
        event: format!(
            "{{\"v\":1,\"seq\":{seq},\"time_unix_ms\":{time},\"node\":\"gw-1\",\"actor\":\"key:0a1b2c3d\",\"action\":\"model.invoke\",\"resource\":\"route:chat\",\"outcome\":\"success\",\"client_ip\":\"203.0.113.7\",\"request_id\":\"6f1c2d0e9b8a7c6d5e4f3a2b1c0d9e8f\",\"details\":{{\"status\":\"200\",\"redactions\":\"2\"}}}}"
        ),
        prev_hash: vec![0xab; 32],
        hash: vec![0xcd; 32],
    }
}

fn append(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteAuditStore::open(&dir.path().join("audit.db")).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let next = AtomicI64::new(1);
    let mut group = c.benchmark_group("audit_append_durable");
    for batch in [1usize, 64, 512] {
        group.throughput(Throughput::Elements(batch as u64));
        group.bench_with_input(BenchmarkId::from_parameter(batch), &batch, |b, &batch| {
            b.iter(|| {
                let first = next.fetch_add(batch as i64, Ordering::Relaxed);
                let rows: Vec<AuditRow> = (first..first + batch as i64).map(row).collect();
                rt.block_on(store.append(&rows)).unwrap();
            })
        });
    }
    group.finish();
}

criterion_group!(benches, append);
criterion_main!(benches);
