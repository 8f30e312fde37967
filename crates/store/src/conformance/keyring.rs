//! What every [`KeyringStore`] backend must do.

use crate::{KeyringStore, StoreError, StoredDataKey, StoredKek};

fn kek(version: u32) -> StoredKek {
    StoredKek {
        version,
        created_at: 1_000 + i64::from(version),
        sealed: vec![version as u8; 60],
    }
}

/// A plausible wrapped data key, for backend tests.
pub fn data_key_for_tests(owner: &str, kek_version: u32, fill: u8) -> StoredDataKey {
    StoredDataKey {
        owner: owner.to_owned(),
        kek_version,
        wrapped: vec![fill; 61],
        created_at: 2_000,
    }
}

/// Runs every key-store check against a fresh, empty store.
pub async fn run_keyring<S: KeyringStore>(store: &S) {
    master_keys_are_versioned(store).await;
    the_first_data_key_of_an_owner_wins(store).await;
    rewrap_replaces_only_the_expected_version(store).await;
    destroyed_keys_are_gone(store).await;
}

async fn master_keys_are_versioned<S: KeyringStore>(store: &S) {
    assert!(store.keks().await.unwrap().is_empty());
    assert_eq!(store.min_decryption_version().await.unwrap(), 1);
    store.insert_kek(&kek(2)).await.unwrap();
    store.insert_kek(&kek(1)).await.unwrap();
    let err = store.insert_kek(&kek(2)).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict), "{err}");
    assert_eq!(store.keks().await.unwrap(), [kek(1), kek(2)]);
    store.set_min_decryption_version(2).await.unwrap();
    assert_eq!(store.min_decryption_version().await.unwrap(), 2);
}

async fn the_first_data_key_of_an_owner_wins<S: KeyringStore>(store: &S) {
    let first = data_key_for_tests("subject:s1", 1, 0xa1);
    let second = data_key_for_tests("subject:s1", 1, 0xb2);
    assert_eq!(store.insert_data_key(&first).await.unwrap(), first);
    assert_eq!(store.insert_data_key(&second).await.unwrap(), first);
    assert_eq!(store.data_key("subject:s1").await.unwrap(), Some(first));
    assert_eq!(store.data_key("subject:none").await.unwrap(), None);
}

async fn rewrap_replaces_only_the_expected_version<S: KeyringStore>(store: &S) {
    for (owner, v) in [("subject:w1", 1), ("subject:w2", 2), ("tenant:w3", 1)] {
        store
            .insert_data_key(&data_key_for_tests(owner, v, 7))
            .await
            .unwrap();
    }
    let below: Vec<String> = store
        .data_keys_below(2, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|k| k.owner)
        .filter(|o| o.ends_with("w1") || o.ends_with("w2") || o.ends_with("w3"))
        .collect();
    assert_eq!(below, ["subject:w1", "tenant:w3"]);
    assert_eq!(store.data_keys_below(2, 1).await.unwrap().len(), 1);
    let rewrapped = data_key_for_tests("subject:w1", 2, 9);
    assert!(store.replace_data_key(&rewrapped, 1).await.unwrap());
    // A second rewrap that read the old version loses.
    assert!(!store
        .replace_data_key(&data_key_for_tests("subject:w1", 2, 10), 1)
        .await
        .unwrap());
    let stored = store.data_key("subject:w1").await.unwrap().unwrap();
    assert_eq!((stored.kek_version, stored.wrapped), (2, vec![9; 61]));
    assert_eq!(stored.created_at, 2_000);
    assert!(!store
        .replace_data_key(&data_key_for_tests("subject:gone", 2, 1), 1)
        .await
        .unwrap());
}

async fn destroyed_keys_are_gone<S: KeyringStore>(store: &S) {
    store
        .insert_data_key(&data_key_for_tests("subject:d1", 1, 3))
        .await
        .unwrap();
    assert!(store.destroy_data_key("subject:d1").await.unwrap());
    assert!(!store.destroy_data_key("subject:d1").await.unwrap());
    assert_eq!(store.data_key("subject:d1").await.unwrap(), None);
    // A new key may be made for the owner afterwards (a returning user).
    let fresh = data_key_for_tests("subject:d1", 2, 4);
    assert_eq!(store.insert_data_key(&fresh).await.unwrap(), fresh);

    // By prefix and by suffix; % and _ are plain characters.
    for owner in [
        "tenant:a%/subject:x_1",
        "tenant:a%/subject:y",
        "tenant:ab/subject:x_1",
        "subject:x_1",
        "subject:xz1",
    ] {
        store
            .insert_data_key(&data_key_for_tests(owner, 1, 5))
            .await
            .unwrap();
    }
    assert_eq!(
        store
            .destroy_data_keys_matching(Some("tenant:a%/"), None)
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        store
            .destroy_data_keys_matching(None, Some("/subject:x_1"))
            .await
            .unwrap(),
        1
    );
    assert!(store.data_key("subject:x_1").await.unwrap().is_some());
    assert!(store.data_key("subject:xz1").await.unwrap().is_some());
    assert!(store
        .data_key("tenant:ab/subject:x_1")
        .await
        .unwrap()
        .is_none());
}
