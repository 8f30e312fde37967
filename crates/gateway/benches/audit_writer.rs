//! Durable audit events per second through the gateway's audit writer:
//! `AuditLog::record` returns once the event's transaction is on disk
//! (SQLite WAL, `synchronous = FULL`, so every commit is an fsync), and the
//! writer gathers whatever arrived meanwhile into one commit (group
//! commit). `concurrency` requests wait at once, as under load; with 1,
//! every event is its own commit — what a writer without group commit
//! does, the alternative this is measured against. `full` waits for the
//! disk (survives power loss), `normal` for the OS (survives the
//! gateway's crash). Issue 6's goal is 50,000 durable appends per second.
//!
//! ```sh
//! cargo bench -p amanah-gateway --bench audit_writer
//! ```

use std::sync::Arc;
use std::time::{Duration, Instant};

use amanah_audit::Outcome;
use amanah_gateway::audit::{detail_hasher, AuditLog, AuditNote};
use amanah_gateway::config::{AuditConfig, AuditFailure};
use amanah_store::{AuditStore, AuditSync, SqliteAuditStore};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

/// An audit log on a fresh file with `sync`, its writer running until the
/// returned sender is dropped.
fn open_log(
    rt: &tokio::runtime::Runtime,
    dir: &std::path::Path,
    sync: AuditSync,
) -> (Arc<AuditLog>, tokio::sync::watch::Sender<bool>) {
    let config = AuditConfig {
        store: dir.join("audit.db"),
        signing_key: dir.join("audit-signing.key"),
        node: "bench".into(),
        checkpoint_every_events: 1000,
        checkpoint_every: Duration::from_secs(60),
        checkpoint_file: None,
        checkpoint_webhook: None,
        retention: None,
        on_failure: AuditFailure::Closed,
        sync,
    };
    rt.block_on(async {
        let store: Arc<dyn AuditStore> =
            Arc::new(SqliteAuditStore::open_with(&config.store, sync).unwrap());
        let (log, writer) =
            AuditLog::open(&config, store, detail_hasher(&[9u8; 32]).unwrap(), None)
                .await
                .unwrap();
        let (stop, rx) = tokio::sync::watch::channel(false);
        tokio::spawn(writer.run(rx));
        (Arc::new(log), stop)
    })
}

fn record_durable(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut group = c.benchmark_group("audit_record_durable");
    group.throughput(Throughput::Elements(1));
    for (sync, name) in [(AuditSync::Full, "full"), (AuditSync::Normal, "normal")] {
        let dir = tempfile::tempdir().unwrap();
        let (log, _stop) = open_log(&rt, dir.path(), sync);
        for concurrency in [1usize, 64, 512] {
            group.bench_with_input(
                BenchmarkId::new(name, concurrency),
                &concurrency,
                |b, &concurrency| {
                    b.iter_custom(|iters| {
                        rt.block_on(record_concurrently(&log, iters, concurrency))
                    });
                },
            );
        }
    }
    group.finish();
}

/// Writes `iters` events from `concurrency` tasks; the time it took.
async fn record_concurrently(log: &Arc<AuditLog>, iters: u64, concurrency: usize) -> Duration {
    let started = Instant::now();
    let tasks: Vec<_> = (0..concurrency)
        .map(|t| {
            let log = Arc::clone(log);
            let n = iters / concurrency as u64 + u64::from((t as u64) < iters % concurrency as u64);
            tokio::spawn(async move {
                for _ in 0..n {
                    let mut note = AuditNote::default();
                    note.sensitive("subject", "alice@example.com");
                    note.detail("status", "200");
                    let mut event = log
                        .event(
                            "key:0a1b2c3d",
                            "model.invoke",
                            "route:chat",
                            Outcome::Success,
                        )
                        .with_client_ip("203.0.113.7")
                        .with_request_id("6f1c2d0e9b8a7c6d5e4f3a2b1c0d9e8f");
                    log.add_details(&mut event, note);
                    log.record(event).await.unwrap();
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    started.elapsed()
}

criterion_group!(benches, record_durable);
criterion_main!(benches);
