//! `amanah audit verify` on a real audit.db: an intact log verifies, and
//! tampering with the SQLite file is named at the right sequence number.

use std::path::Path;
use std::process::{Command, Output};

use amanah_audit::{Chain, Event, Outcome, SigningKey};
use amanah_store::{AuditRow, AuditStore, CheckpointRow, SqliteAuditStore};

fn verify(dir: &Path, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_amanah"))
        .args(["audit", "verify", "--json"])
        .args(extra)
        .arg("--data-dir")
        .arg(dir)
        .env_remove("AMANAH_CONFIG")
        .env_remove("AMANAH_DATA_DIR")
        .output()
        .unwrap()
}

/// 50 events with a signed checkpoint every 10, written as the gateway
/// will write them.
async fn write_log(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    let key = SigningKey::from_seed(&[7u8; 32]).unwrap();
    std::fs::write(
        dir.join("audit-signing.pub"),
        key.verifying_key().to_base64(),
    )
    .unwrap();
    let store = SqliteAuditStore::open(&dir.join("audit.db")).unwrap();
    let mut chain = Chain::new();
    for i in 1..=50i64 {
        let event = Event::new(
            1_800_000_000_000 + i,
            "gw-1",
            "key:0a1b2c3d",
            "model.invoke",
            "route:chat",
            Outcome::Success,
        );
        let c = chain.append(event);
        store
            .append(&[AuditRow {
                seq: c.event.seq as i64,
                time_unix_ms: c.event.time_unix_ms,
                event: c.event.to_json(),
                prev_hash: c.prev_hash.to_vec(),
                hash: c.hash.to_vec(),
            }])
            .await
            .unwrap();
        if i % 10 == 0 {
            let cp = chain
                .checkpoint(&key, "gw-1", 1_800_000_000_000 + i)
                .unwrap();
            store
                .put_checkpoint(&CheckpointRow {
                    seq: cp.seq as i64,
                    time_unix_ms: cp.time_unix_ms,
                    text: cp.to_text(),
                })
                .await
                .unwrap();
        }
    }
}

fn report(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stderr)))
}

#[tokio::test]
async fn intact_and_tampered_logs() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    write_log(&dir).await;
    let out = verify(&dir, &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r = report(&out);
    assert_eq!(
        (r["ok"].as_bool(), r["verified"].as_u64()),
        (Some(true), Some(50))
    );

    // Modify event 23 in the file.
    let db = rusqlite::Connection::open(dir.join("audit.db")).unwrap();
    db.execute(
        "UPDATE audit_events SET event = replace(event, 'model.invoke', 'model.invokE') WHERE seq = 23",
        [],
    )
    .unwrap();
    let out = verify(&dir, &[]);
    assert_eq!(out.status.code(), Some(1));
    let r = report(&out);
    assert_eq!(
        r["first_damage"],
        serde_json::json!({"seq": 23, "kind": "modified"})
    );

    // Delete it instead.
    db.execute("DELETE FROM audit_events WHERE seq = 23", [])
        .unwrap();
    let r = report(&verify(&dir, &[]));
    assert_eq!(
        r["first_damage"],
        serde_json::json!({"seq": 23, "kind": "deleted"})
    );

    // Truncate after 37: the checkpoint at 40 says the log went further.
    let tmp2 = tempfile::tempdir().unwrap();
    let dir2 = tmp2.path().join("data");
    write_log(&dir2).await;
    let db2 = rusqlite::Connection::open(dir2.join("audit.db")).unwrap();
    db2.execute("DELETE FROM audit_events WHERE seq > 37", [])
        .unwrap();
    let r = report(&verify(&dir2, &[]));
    assert_eq!(r["first_damage"]["kind"], "truncated", "{r}");
    assert_eq!(r["first_damage"]["seq"], 38);
}
