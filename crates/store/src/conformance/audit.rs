//! What every [`AuditStore`] backend must do.

use crate::{AuditRow, AuditStore, CheckpointRow, StoreError};

fn event(seq: i64) -> AuditRow {
    AuditRow {
        seq,
        time_unix_ms: 1_000 * seq,
        event: format!("{{\"seq\":{seq}}}"),
        prev_hash: vec![seq as u8; 32],
        hash: vec![seq as u8 + 1; 32],
    }
}

/// Runs every audit-store check against a fresh, empty store.
pub async fn run_audit<S: AuditStore>(store: &S) {
    assert_eq!(store.last().await.unwrap(), None);
    let batch: Vec<AuditRow> = (1..=5).map(event).collect();
    store.append(&batch).await.unwrap();
    assert_eq!(store.last().await.unwrap(), Some(event(5)));
    // A batch with a taken seq is refused whole.
    let err = store.append(&[event(6), event(3)]).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict), "{err}");
    assert_eq!(store.last().await.unwrap(), Some(event(5)));
    // Rows come back in the order written, whatever their seq says.
    store.append(&[event(7), event(6)]).await.unwrap();
    let seqs: Vec<i64> = store
        .events_from(1, 100)
        .await
        .unwrap()
        .iter()
        .map(|r| r.seq)
        .collect();
    assert_eq!(seqs, [1, 2, 3, 4, 5, 7, 6]);
    // Paging by row position sees every row once, in the order written.
    let mut paged = Vec::new();
    let mut after = 0;
    loop {
        let page = store.events_by_row(after, 3).await.unwrap();
        let Some((last, _)) = page.last() else { break };
        after = *last;
        paged.extend(page.into_iter().map(|(_, r)| r.seq));
    }
    assert_eq!(paged, [1, 2, 3, 4, 5, 7, 6]);
    let newest: Vec<i64> = store
        .last_rows(3)
        .await
        .unwrap()
        .iter()
        .map(|(_, r)| r.seq)
        .collect();
    assert_eq!(newest, [5, 7, 6], "the newest rows, in the order written");
    assert_eq!(store.last_rows(0).await.unwrap(), []);
    let from: Vec<i64> = store
        .events_from(4, 2)
        .await
        .unwrap()
        .iter()
        .map(|r| r.seq)
        .collect();
    assert_eq!(from, [4, 5]);
    let since: Vec<i64> = store
        .events_since(6_000, 10)
        .await
        .unwrap()
        .iter()
        .map(|r| r.seq)
        .collect();
    assert_eq!(since, [7, 6]);

    let cp = CheckpointRow {
        seq: 4,
        time_unix_ms: 4_500,
        text: "checkpoint 4".into(),
    };
    store.put_checkpoint(&cp).await.unwrap();
    assert_eq!(store.checkpoints().await.unwrap(), [cp]);
    // Pruning stops at a checkpoint, never elsewhere.
    assert!(store.prune_before(3).await.is_err());
    assert_eq!(store.prune_before(4).await.unwrap(), 3);
    let first = store.events_from(0, 1).await.unwrap();
    assert_eq!(first[0].seq, 4);
}
