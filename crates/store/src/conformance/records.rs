//! What every [`RecordStore`] backend must do.

use crate::{ConsentEvent, DeleteOutcome, RecordMeta, RecordRow, RecordStore, StoreError};

/// A plausible record, for backend tests.
pub fn record_row_for_tests(id: &str, subject: &str, created_at: i64) -> RecordRow {
    RecordRow {
        meta: RecordMeta {
            id: id.to_owned(),
            subject: subject.to_owned(),
            kind: "conversation".into(),
            data_class: "general".into(),
            region: Some("eu".into()),
            purpose: Some("support".into()),
            content_type: "text/plain".into(),
            redacted: true,
            size: 11,
            created_at,
            expires_at: Some(created_at + 86_400),
            legal_hold: false,
            tenant: None,
        },
        ciphertext: format!("sealed {id}").into_bytes(),
    }
}

fn consent(subject: &str, purpose: &str, granted: bool, at: i64) -> ConsentEvent {
    ConsentEvent {
        subject: subject.to_owned(),
        purpose: purpose.to_owned(),
        granted,
        at,
        evidence: format!("form at {at}"),
        recorded_by: "user:u1".into(),
    }
}

fn ids(metas: &[RecordMeta]) -> Vec<&str> {
    metas.iter().map(|m| m.id.as_str()).collect()
}

/// Runs every records check against a fresh, empty store.
pub async fn run_records<S: RecordStore>(store: &S) {
    records_round_trip_and_list_by_subject(store).await;
    delete_respects_legal_hold(store).await;
    sweep_deletes_exactly_the_expired_unheld_records(store).await;
    erasure_spares_holds_and_other_subjects(store).await;
    the_latest_consent_event_decides(store).await;
    tenant_erasure_spares_holds_and_other_tenants(store).await;
    subject_regions_pin_and_unpin(store).await;
}

async fn records_round_trip_and_list_by_subject<S: RecordStore>(store: &S) {
    let mut a = record_row_for_tests("r-a1", "subj-a", 1_000);
    a.meta.region = None;
    a.meta.purpose = None;
    a.meta.expires_at = None;
    let b = record_row_for_tests("r-a2", "subj-a", 900);
    let c = record_row_for_tests("r-b1", "subj-b", 950);
    for r in [&a, &b, &c] {
        store.insert_record(r).await.unwrap();
    }
    let err = store.insert_record(&a).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict), "{err}");
    assert_eq!(store.record("r-a1").await.unwrap(), Some(a.clone()));
    assert_eq!(store.record("r-none").await.unwrap(), None);
    assert_eq!(
        ids(&store.list_records("subj-a").await.unwrap()),
        ["r-a2", "r-a1"]
    );
    assert_eq!(
        store.subject_records("subj-a").await.unwrap(),
        [b.clone(), a.clone()]
    );
    assert!(store.list_records("subj-none").await.unwrap().is_empty());
}

async fn delete_respects_legal_hold<S: RecordStore>(store: &S) {
    store
        .insert_record(&record_row_for_tests("r-d1", "subj-d", 1_000))
        .await
        .unwrap();
    assert!(store.set_legal_hold("r-d1", true).await.unwrap());
    assert!(!store.set_legal_hold("r-nope", true).await.unwrap());
    assert_eq!(
        store.delete_record("r-d1").await.unwrap(),
        DeleteOutcome::Held
    );
    assert!(store.record("r-d1").await.unwrap().unwrap().meta.legal_hold);
    assert!(store.set_legal_hold("r-d1", false).await.unwrap());
    assert_eq!(
        store.delete_record("r-d1").await.unwrap(),
        DeleteOutcome::Deleted
    );
    assert_eq!(
        store.delete_record("r-d1").await.unwrap(),
        DeleteOutcome::NotFound
    );
}

async fn sweep_deletes_exactly_the_expired_unheld_records<S: RecordStore>(store: &S) {
    // Expiries 10_000 + i for i in 0..7; a hold on #2, #5 never expires.
    for i in 0..7i64 {
        let mut r = record_row_for_tests(&format!("r-s{i}"), "subj-s", 5_000 + i);
        r.meta.expires_at = (i != 5).then_some(10_000 + i);
        store.insert_record(&r).await.unwrap();
    }
    store.set_legal_hold("r-s2", true).await.unwrap();
    assert!(store.sweep_expired(9_999, 10).await.unwrap().is_empty());
    // Due at 10_004: #0..=#4 except the held #2; in batches of 2.
    let first = store.sweep_expired(10_004, 2).await.unwrap();
    assert_eq!(ids(&first), ["r-s0", "r-s1"]);
    let second = store.sweep_expired(10_004, 2).await.unwrap();
    assert_eq!(ids(&second), ["r-s3", "r-s4"]);
    assert!(store.sweep_expired(10_004, 2).await.unwrap().is_empty());
    assert_eq!(
        ids(&store.list_records("subj-s").await.unwrap()),
        ["r-s2", "r-s5", "r-s6"]
    );
    let last = store.sweep_expired(10_006, 100).await.unwrap();
    assert_eq!(ids(&last), ["r-s6"]);
}

async fn erasure_spares_holds_and_other_subjects<S: RecordStore>(store: &S) {
    for (id, subject) in [
        ("r-e1", "subj-e"),
        ("r-e2", "subj-e"),
        ("r-e3", "subj-e"),
        ("r-f1", "subj-f"),
    ] {
        store
            .insert_record(&record_row_for_tests(id, subject, 1_000))
            .await
            .unwrap();
    }
    store.set_legal_hold("r-e2", true).await.unwrap();
    store
        .record_consent(&consent("subj-e", "support", true, 1_000))
        .await
        .unwrap();
    store
        .record_consent(&consent("subj-f", "support", true, 1_000))
        .await
        .unwrap();
    store
        .set_subject_regions("subj-e", Some(&["eu".to_owned()]))
        .await
        .unwrap();
    let erased = store.erase_subject("subj-e").await.unwrap();
    assert_eq!(ids(&erased.deleted), ["r-e1", "r-e3"]);
    assert_eq!(ids(&erased.held), ["r-e2"]);
    assert_eq!(erased.consents_deleted, 1);
    assert_eq!(ids(&store.list_records("subj-e").await.unwrap()), ["r-e2"]);
    assert!(store.consents("subj-e").await.unwrap().is_empty());
    assert_eq!(store.subject_regions("subj-e").await.unwrap(), None);
    assert_eq!(ids(&store.list_records("subj-f").await.unwrap()), ["r-f1"]);
    assert!(store.has_consent("subj-f", "support").await.unwrap());
    // Erasing again, or an unknown subject, is not an error.
    let again = store.erase_subject("subj-e").await.unwrap();
    assert!(again.deleted.is_empty());
    assert_eq!(ids(&again.held), ["r-e2"]);
}

async fn the_latest_consent_event_decides<S: RecordStore>(store: &S) {
    assert!(!store.has_consent("subj-c", "marketing").await.unwrap());
    store
        .record_consent(&consent("subj-c", "marketing", true, 100))
        .await
        .unwrap();
    assert!(store.has_consent("subj-c", "marketing").await.unwrap());
    assert!(!store.has_consent("subj-c", "support").await.unwrap());
    // Withdrawn in the same second it was granted: the later entry wins.
    store
        .record_consent(&consent("subj-c", "marketing", false, 100))
        .await
        .unwrap();
    assert!(!store.has_consent("subj-c", "marketing").await.unwrap());
    // An event back-dated before the withdrawal does not override it.
    store
        .record_consent(&consent("subj-c", "marketing", true, 50))
        .await
        .unwrap();
    assert!(!store.has_consent("subj-c", "marketing").await.unwrap());
    store
        .record_consent(&consent("subj-c", "marketing", true, 200))
        .await
        .unwrap();
    assert!(store.has_consent("subj-c", "marketing").await.unwrap());
    let history = store.consents("subj-c").await.unwrap();
    let seen: Vec<(i64, bool)> = history.iter().map(|e| (e.at, e.granted)).collect();
    assert_eq!(seen, [(50, true), (100, true), (100, false), (200, true)]);
    assert_eq!(history[1], consent("subj-c", "marketing", true, 100));
}

async fn subject_regions_pin_and_unpin<S: RecordStore>(store: &S) {
    assert_eq!(store.subject_regions("subj-r").await.unwrap(), None);
    let eu = vec!["eu".to_owned(), "ch".to_owned()];
    store
        .set_subject_regions("subj-r", Some(&eu))
        .await
        .unwrap();
    assert_eq!(store.subject_regions("subj-r").await.unwrap(), Some(eu));
    let us = vec!["us".to_owned()];
    store
        .set_subject_regions("subj-r", Some(&us))
        .await
        .unwrap();
    assert_eq!(store.subject_regions("subj-r").await.unwrap(), Some(us));
    store.set_subject_regions("subj-r", None).await.unwrap();
    assert_eq!(store.subject_regions("subj-r").await.unwrap(), None);
    // Tenants have pins of their own: the same id as a subject is another pin.
    store
        .set_subject_regions("acme", Some(&["us".to_owned()]))
        .await
        .unwrap();
    store
        .set_tenant_regions("acme", Some(&["eu".to_owned()]))
        .await
        .unwrap();
    assert_eq!(
        store.tenant_regions("acme").await.unwrap(),
        Some(vec!["eu".to_owned()])
    );
    assert_eq!(
        store.subject_regions("acme").await.unwrap(),
        Some(vec!["us".to_owned()])
    );
    store.set_tenant_regions("acme", None).await.unwrap();
    assert_eq!(store.tenant_regions("acme").await.unwrap(), None);
}

async fn tenant_erasure_spares_holds_and_other_tenants<S: RecordStore>(store: &S) {
    for (id, tenant) in [
        ("r-t1", Some("acme")),
        ("r-t2", Some("acme")),
        ("r-t3", Some("globex")),
        ("r-t4", None),
    ] {
        let mut r = record_row_for_tests(id, "subj-t", 1_000);
        r.meta.tenant = tenant.map(str::to_owned);
        store.insert_record(&r).await.unwrap();
    }
    assert_eq!(
        store
            .record("r-t1")
            .await
            .unwrap()
            .unwrap()
            .meta
            .tenant
            .as_deref(),
        Some("acme")
    );
    store.set_legal_hold("r-t2", true).await.unwrap();
    store
        .set_tenant_regions("acme", Some(&["eu".to_owned()]))
        .await
        .unwrap();
    let erased = store.erase_tenant("acme").await.unwrap();
    assert_eq!(ids(&erased.deleted), ["r-t1"]);
    assert_eq!(ids(&erased.held), ["r-t2"]);
    assert_eq!(store.tenant_regions("acme").await.unwrap(), None);
    assert_eq!(
        ids(&store.list_records("subj-t").await.unwrap()),
        ["r-t2", "r-t3", "r-t4"]
    );
}
