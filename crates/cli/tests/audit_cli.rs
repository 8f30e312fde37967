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

    // Someone who can write the store rewrites an event with every hash
    // recomputed and deletes the stored checkpoints: the chain is intact,
    // but nothing anchors it any more (exit 2, not 0); the exported
    // anchor file still catches the rewrite.
    let tmp3 = tempfile::tempdir().unwrap();
    let dir3 = tmp3.path().join("data");
    write_log(&dir3).await;
    let anchor = tmp3.path().join("anchor.jsonl");
    let db3 = rusqlite::Connection::open(dir3.join("audit.db")).unwrap();
    let texts: Vec<String> = db3
        .prepare("SELECT text FROM audit_checkpoints ORDER BY seq")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    std::fs::write(&anchor, texts.join("\n")).unwrap();
    rewrite_from(&db3, 4);
    db3.execute("DELETE FROM audit_checkpoints", []).unwrap();
    let out = verify(&dir3, &[]);
    assert_eq!(out.status.code(), Some(2));
    let r = report(&out);
    assert_eq!(
        (r["ok"].as_bool(), r["anchored"].as_bool()),
        (Some(false), Some(false))
    );
    let out = verify(&dir3, &["--checkpoint", anchor.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(report(&out)["first_damage"]["kind"], "rewritten");
}

#[tokio::test]
async fn inserted_and_reordered_rows_in_the_file_are_named() {
    // A forged row slipped in after event 20: its own seq is unused (the
    // column is unique), it links to event 20 and hashes to itself.
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    write_log(&dir).await;
    let db = rusqlite::Connection::open(dir.join("audit.db")).unwrap();
    let prev: Vec<u8> = db
        .query_row("SELECT hash FROM audit_events WHERE seq = 20", [], |r| {
            r.get(0)
        })
        .unwrap();
    let prev: [u8; 32] = prev.as_slice().try_into().unwrap();
    let mut forged = Event::new(
        1_800_000_000_020,
        "gw-1",
        "user:mallory",
        "key.create",
        "key:evil",
        Outcome::Success,
    );
    forged.seq = 999;
    let hash = amanah_audit::event_hash(&prev, &forged);
    db.execute(
        "UPDATE audit_events SET row_order = row_order + 1000 WHERE row_order > 20",
        [],
    )
    .unwrap();
    db.execute(
        "INSERT INTO audit_events (row_order, seq, time_unix_ms, event, prev_hash, hash) VALUES (21, 999, ?1, ?2, ?3, ?4)",
        rusqlite::params![forged.time_unix_ms, forged.to_json(), prev.to_vec(), hash.to_vec()],
    )
    .unwrap();
    let out = verify(&dir, &[]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        report(&out)["first_damage"],
        serde_json::json!({"seq": 21, "kind": "inserted"})
    );

    // Events 30 and 31 swapped in the stored order.
    let tmp2 = tempfile::tempdir().unwrap();
    let dir2 = tmp2.path().join("data");
    write_log(&dir2).await;
    let db2 = rusqlite::Connection::open(dir2.join("audit.db")).unwrap();
    for sql in [
        "UPDATE audit_events SET row_order = 10000 WHERE seq = 30",
        "UPDATE audit_events SET row_order = 30 WHERE seq = 31",
        "UPDATE audit_events SET row_order = 31 WHERE seq = 30",
    ] {
        db2.execute(sql, []).unwrap();
    }
    let out = verify(&dir2, &[]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        report(&out)["first_damage"],
        serde_json::json!({"seq": 30, "kind": "reordered"})
    );
}

/// What a writer of the store without the key can do: change event `seq`
/// and recompute every hash from it on.
fn rewrite_from(db: &rusqlite::Connection, seq: i64) {
    let rows: Vec<(i64, String, Vec<u8>)> = db
        .prepare("SELECT seq, event, prev_hash FROM audit_events ORDER BY seq")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let mut prev: [u8; 32] = rows[(seq - 1) as usize].2.as_slice().try_into().unwrap();
    for (s, json, _) in rows.into_iter().filter(|r| r.0 >= seq) {
        let mut event = Event::from_json(&json).unwrap();
        if s == seq {
            event.actor = "user:mallory".into();
        }
        let hash = amanah_audit::event_hash(&prev, &event);
        db.execute(
            "UPDATE audit_events SET event = ?1, prev_hash = ?2, hash = ?3 WHERE seq = ?4",
            rusqlite::params![event.to_json(), prev.to_vec(), hash.to_vec(), s],
        )
        .unwrap();
        prev = hash;
    }
}
