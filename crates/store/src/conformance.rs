//! The behaviour every [`Store`] backend must show. Backends call
//! [`run_all`] from their own tests; a difference fails CI.

mod audit;
mod keyring;
mod records;

pub use audit::run_audit;
pub use keyring::{data_key_for_tests, run_keyring};
pub use records::{record_row_for_tests, run_records};

use crate::{
    ApiKeyRecord, GrantRecord, KeyStatus, KeyUse, RevokeOutcome, RoleRecord, RotateOutcome,
    ServiceBinding, SessionRecord, SettingRecord, Store, StoreError, UserRecord,
};

/// A plausible key record, for backend tests.
pub fn record_for_tests(id: &str, created_at: i64) -> ApiKeyRecord {
    record(id, created_at)
}

fn record(id: &str, created_at: i64) -> ApiKeyRecord {
    ApiKeyRecord {
        id: id.to_owned(),
        name: format!("key {id}"),
        roles: vec!["contributor".into(), "viewer".into()],
        tag: vec![7; 32],
        last4: "wxyz".into(),
        created_at,
        expires_at: created_at + 90 * 86_400,
        revoked_at: None,
        last_used_at: None,
        last_used_ip: None,
        scopes: None,
        service: None,
        replaced_by: None,
    }
}

/// A plausible user record, for backend tests.
pub fn user_for_tests(id: &str, username: &str, created_at: i64) -> UserRecord {
    UserRecord {
        id: id.to_owned(),
        username: username.to_owned(),
        roles: vec!["admin".into()],
        password_hash: None,
        setup_tag: Some(vec![9; 32]),
        setup_expires_at: Some(created_at + 86_400),
        totp_sealed: None,
        totp_enabled: false,
        totp_last_step: None,
        failed_logins: 0,
        locked_until: None,
        lockouts: 0,
        created_at,
        updated_at: created_at,
        disabled_at: None,
        version: 1,
    }
}

fn key_use(id: &str, at: i64, ip: Option<&str>) -> KeyUse {
    KeyUse {
        id: id.to_owned(),
        at,
        ip: ip.map(str::to_owned),
    }
}

/// Runs every conformance check against a fresh, empty store.
pub async fn run_all<S: Store>(store: &S) {
    ping(store).await;
    insert_then_read_round_trips(store).await;
    duplicate_id_conflicts(store).await;
    list_is_ordered_by_creation(store).await;
    revoke_is_idempotent(store).await;
    last_used_never_moves_backwards(store).await;
    key_fields_round_trip(store).await;
    rotation_keeps_one_successor_and_the_first_grace(store).await;
    one_live_service_key_per_instance(store).await;
    users_round_trip_and_update_optimistically(store).await;
    recovery_codes_are_single_use(store).await;
    sessions_touch_and_revoke(store).await;
    roles_upsert_and_delete(store).await;
    grants_list_by_principal(store).await;
    settings_upsert(store).await;
}

async fn settings_upsert<S: Store>(store: &S) {
    assert_eq!(store.setting("lockdown").await.unwrap(), None);
    let mut s = SettingRecord {
        name: "lockdown".into(),
        value: "on".into(),
        updated_at: 10,
        updated_by: "cli:root".into(),
    };
    store.put_setting(&s).await.unwrap();
    assert_eq!(store.setting("lockdown").await.unwrap(), Some(s.clone()));
    s.value = "off".into();
    s.updated_at = 20;
    s.updated_by = "user:0a1b".into();
    store.put_setting(&s).await.unwrap();
    assert_eq!(store.setting("lockdown").await.unwrap(), Some(s));
}

async fn ping<S: Store>(store: &S) {
    store.ping().await.expect("ping");
}

async fn insert_then_read_round_trips<S: Store>(store: &S) {
    let r = record("0000000a", 1_000);
    store.insert_api_key(&r).await.unwrap();
    assert_eq!(store.api_key("0000000a").await.unwrap(), Some(r));
    assert_eq!(store.api_key("ffffffff").await.unwrap(), None);
}

async fn duplicate_id_conflicts<S: Store>(store: &S) {
    let r = record("0000000b", 1_000);
    store.insert_api_key(&r).await.unwrap();
    let err = store.insert_api_key(&r).await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict), "{err}");
}

async fn list_is_ordered_by_creation<S: Store>(store: &S) {
    store
        .insert_api_key(&record("0000000d", 500))
        .await
        .unwrap();
    let ids: Vec<String> = store
        .list_api_keys()
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(ids, ["0000000d", "0000000a", "0000000b"]);
}

async fn revoke_is_idempotent<S: Store>(store: &S) {
    assert_eq!(
        store.revoke_api_key("0000000a", 2_000).await.unwrap(),
        RevokeOutcome::Revoked
    );
    assert_eq!(
        store.revoke_api_key("0000000a", 3_000).await.unwrap(),
        RevokeOutcome::AlreadyRevoked
    );
    assert_eq!(
        store.revoke_api_key("99999999", 3_000).await.unwrap(),
        RevokeOutcome::NotFound
    );
    let r = store.api_key("0000000a").await.unwrap().unwrap();
    assert_eq!(
        r.revoked_at,
        Some(2_000),
        "the first revocation time is kept"
    );
    assert_eq!(r.status(2_500), KeyStatus::Revoked);
}

async fn last_used_never_moves_backwards<S: Store>(store: &S) {
    store
        .record_api_key_use(&[
            key_use("0000000b", 5_000, Some("192.0.2.7")),
            key_use("0000000d", 6_000, None),
        ])
        .await
        .unwrap();
    store
        .record_api_key_use(&[
            key_use("0000000b", 4_000, Some("198.51.100.1")),
            key_use("missing0", 1, None),
        ])
        .await
        .unwrap();
    let b = store.api_key("0000000b").await.unwrap().unwrap();
    assert_eq!(b.last_used_at, Some(5_000));
    assert_eq!(
        b.last_used_ip.as_deref(),
        Some("192.0.2.7"),
        "an older use does not overwrite the address of a newer one"
    );
    let d = store.api_key("0000000d").await.unwrap().unwrap();
    assert_eq!(d.last_used_at, Some(6_000));
    assert_eq!(d.status(d.expires_at), KeyStatus::Expired);
    assert_eq!(d.status(d.expires_at - 1), KeyStatus::Active);
}

async fn key_fields_round_trip<S: Store>(store: &S) {
    let mut r = record("0000001a", 1_000);
    r.scopes = Some(vec!["chat".into(), "embeddings".into()]);
    r.service = Some(ServiceBinding {
        service: "transcriber".into(),
        instance: "eu-west-1/host-3".into(),
    });
    store.insert_api_key(&r).await.unwrap();
    assert_eq!(store.api_key("0000001a").await.unwrap(), Some(r));
    let mut empty_scopes = record("0000001b", 1_000);
    empty_scopes.scopes = Some(Vec::new());
    store.insert_api_key(&empty_scopes).await.unwrap();
    assert_eq!(
        store.api_key("0000001b").await.unwrap().unwrap().scopes,
        Some(Vec::new()),
        "no scopes is not the same as all routes"
    );
}

async fn rotation_keeps_one_successor_and_the_first_grace<S: Store>(store: &S) {
    let old = record("0000002a", 1_000);
    store.insert_api_key(&old).await.unwrap();
    let first = record("0000002b", 2_000);
    assert_eq!(
        store
            .rotate_api_key("0000002a", &first, 2_000 + 86_400, 2_000)
            .await
            .unwrap(),
        RotateOutcome::Rotated {
            revoked_successor: None
        }
    );
    let after = store.api_key("0000002a").await.unwrap().unwrap();
    assert_eq!(after.replaced_by.as_deref(), Some("0000002b"));
    assert_eq!(after.expires_at, 2_000 + 86_400);
    assert_eq!(after.status(2_001), KeyStatus::Grace);
    assert!(after.status(2_001).accepts());
    assert_eq!(after.status(2_000 + 86_400), KeyStatus::Expired);

    // A retry: the unseen first successor is revoked, the grace is unchanged.
    let second = record("0000002c", 3_000);
    assert_eq!(
        store
            .rotate_api_key("0000002a", &second, 3_000 + 86_400, 3_000)
            .await
            .unwrap(),
        RotateOutcome::Rotated {
            revoked_successor: Some("0000002b".into())
        }
    );
    let after = store.api_key("0000002a").await.unwrap().unwrap();
    assert_eq!(after.replaced_by.as_deref(), Some("0000002c"));
    assert_eq!(after.expires_at, 2_000 + 86_400);
    let first = store.api_key("0000002b").await.unwrap().unwrap();
    assert_eq!(first.status(3_001), KeyStatus::Revoked);
    assert_eq!(
        store
            .api_key("0000002c")
            .await
            .unwrap()
            .unwrap()
            .status(3_001),
        KeyStatus::Active
    );

    // A grace longer than the key's remaining life does not extend it.
    let short = ApiKeyRecord {
        expires_at: 1_500,
        ..record("0000002d", 1_000)
    };
    store.insert_api_key(&short).await.unwrap();
    store
        .rotate_api_key(
            "0000002d",
            &record("0000002e", 1_100),
            1_100 + 86_400,
            1_100,
        )
        .await
        .unwrap();
    assert_eq!(
        store.api_key("0000002d").await.unwrap().unwrap().expires_at,
        1_500
    );

    assert_eq!(
        store
            .rotate_api_key("0000002b", &record("0000002f", 4_000), 5_000, 4_000)
            .await
            .unwrap(),
        RotateOutcome::NotActive
    );
    assert_eq!(
        store
            .rotate_api_key("7777777f", &record("0000002f", 4_000), 5_000, 4_000)
            .await
            .unwrap(),
        RotateOutcome::NotFound
    );
    assert_eq!(
        store.api_key("0000002f").await.unwrap(),
        None,
        "nothing half-done"
    );
}

async fn one_live_service_key_per_instance<S: Store>(store: &S) {
    let binding = ServiceBinding {
        service: "ingest".into(),
        instance: "us-east/a".into(),
    };
    let service_key = |id: &str, at: i64| ApiKeyRecord {
        service: Some(binding.clone()),
        ..record(id, at)
    };
    store
        .insert_api_key(&service_key("0000003a", 1_000))
        .await
        .unwrap();
    let err = store
        .insert_api_key(&service_key("0000003b", 1_100))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict), "{err}");
    // Another instance of the same service is fine.
    store
        .insert_api_key(&ApiKeyRecord {
            service: Some(ServiceBinding {
                service: "ingest".into(),
                instance: "us-east/b".into(),
            }),
            ..record("0000003c", 1_100)
        })
        .await
        .unwrap();
    // Rotation hands the slot to the successor.
    store
        .rotate_api_key("0000003a", &service_key("0000003d", 1_200), 2_000, 1_200)
        .await
        .unwrap();
    // Revocation frees it.
    store.revoke_api_key("0000003d", 1_300).await.unwrap();
    let expiring = ApiKeyRecord {
        expires_at: 1_500,
        ..service_key("0000003e", 1_400)
    };
    store.insert_api_key(&expiring).await.unwrap();
    // Expiry frees it too.
    store
        .insert_api_key(&service_key("0000003f", 1_500))
        .await
        .unwrap();
    assert_eq!(
        store
            .api_key("0000003e")
            .await
            .unwrap()
            .unwrap()
            .status(1_500),
        KeyStatus::Revoked
    );
}

async fn users_round_trip_and_update_optimistically<S: Store>(store: &S) {
    let u = user_for_tests("u1", "alice", 1_000);
    store.insert_user(&u).await.unwrap();
    assert_eq!(store.user("u1").await.unwrap(), Some(u.clone()));
    assert_eq!(store.user_by_name("alice").await.unwrap(), Some(u.clone()));
    assert_eq!(store.user_by_name("bob").await.unwrap(), None);
    let err = store
        .insert_user(&user_for_tests("u2", "alice", 1_000))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict), "{err}");
    store
        .insert_user(&user_for_tests("u0", "bob", 900))
        .await
        .unwrap();
    let names: Vec<String> = store
        .list_users()
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.username)
        .collect();
    assert_eq!(names, ["bob", "alice"]);

    let mut changed = u.clone();
    changed.password_hash = Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into());
    changed.setup_tag = None;
    changed.setup_expires_at = None;
    changed.totp_sealed = Some(vec![1, 2, 3]);
    changed.totp_enabled = true;
    changed.totp_last_step = Some(55);
    changed.failed_logins = 3;
    changed.locked_until = Some(9_000);
    changed.lockouts = 2;
    changed.updated_at = 2_000;
    changed.disabled_at = Some(2_000);
    changed.roles = vec!["analyst".into()];
    let v = store.update_user(&changed).await.unwrap();
    assert_eq!(v, u.version + 1);
    let stored = store.user("u1").await.unwrap().unwrap();
    assert_eq!(
        stored,
        UserRecord {
            version: v,
            ..changed.clone()
        }
    );
    // A writer holding the old version loses.
    let err = store.update_user(&changed).await.unwrap_err();
    assert!(matches!(err, StoreError::Stale), "{err}");
}

async fn recovery_codes_are_single_use<S: Store>(store: &S) {
    store
        .set_recovery_codes("u1", &[vec![1; 32], vec![2; 32]])
        .await
        .unwrap();
    assert_eq!(store.unused_recovery_codes("u1").await.unwrap(), 2);
    assert!(store
        .consume_recovery_code("u1", &[1; 32], 5_000)
        .await
        .unwrap());
    assert!(!store
        .consume_recovery_code("u1", &[1; 32], 5_001)
        .await
        .unwrap());
    assert!(!store
        .consume_recovery_code("u0", &[2; 32], 5_001)
        .await
        .unwrap());
    assert!(!store
        .consume_recovery_code("u1", &[3; 32], 5_001)
        .await
        .unwrap());
    assert_eq!(store.unused_recovery_codes("u1").await.unwrap(), 1);
    store
        .set_recovery_codes("u1", &[vec![4; 32]])
        .await
        .unwrap();
    assert!(!store
        .consume_recovery_code("u1", &[2; 32], 5_002)
        .await
        .unwrap());
    assert_eq!(store.unused_recovery_codes("u1").await.unwrap(), 1);
}

async fn sessions_touch_and_revoke<S: Store>(store: &S) {
    let s = |tag: u8, user: &str| SessionRecord {
        tag: vec![tag; 32],
        user_id: user.to_owned(),
        created_at: 1_000,
        last_seen_at: 1_000,
        expires_at: 1_000 + 43_200,
        revoked_at: None,
    };
    store.insert_session(&s(1, "u1")).await.unwrap();
    store.insert_session(&s(2, "u1")).await.unwrap();
    store.insert_session(&s(3, "u0")).await.unwrap();
    assert_eq!(store.session(&[1; 32]).await.unwrap(), Some(s(1, "u1")));
    assert_eq!(store.session(&[9; 32]).await.unwrap(), None);
    store.touch_session(&[1; 32], 1_500).await.unwrap();
    store.touch_session(&[1; 32], 1_200).await.unwrap();
    assert_eq!(
        store.session(&[1; 32]).await.unwrap().unwrap().last_seen_at,
        1_500
    );
    assert!(store.revoke_session(&[1; 32], 1_600).await.unwrap());
    assert!(!store.revoke_session(&[1; 32], 1_700).await.unwrap());
    assert_eq!(
        store.session(&[1; 32]).await.unwrap().unwrap().revoked_at,
        Some(1_600)
    );
    assert_eq!(store.revoke_user_sessions("u1", 1_800).await.unwrap(), 1);
    assert_eq!(
        store.session(&[2; 32]).await.unwrap().unwrap().revoked_at,
        Some(1_800)
    );
    assert_eq!(
        store.session(&[3; 32]).await.unwrap().unwrap().revoked_at,
        None
    );
}

async fn roles_upsert_and_delete<S: Store>(store: &S) {
    let role = |name: &str, at: i64| RoleRecord {
        name: name.to_owned(),
        description: format!("{name} role"),
        permissions: vec!["records:read".into()],
        inherits: vec!["viewer".into()],
        created_at: at,
        updated_at: at,
    };
    store.put_role(&role("triage", 1_000)).await.unwrap();
    store.put_role(&role("auditor", 1_000)).await.unwrap();
    let mut changed = role("triage", 2_000);
    changed.permissions.push("llm:invoke".into());
    store.put_role(&changed).await.unwrap();
    let roles = store.list_roles().await.unwrap();
    assert_eq!(roles.len(), 2);
    assert_eq!(roles[0].name, "auditor");
    assert_eq!(roles[1].permissions, ["records:read", "llm:invoke"]);
    assert_eq!(
        roles[1].created_at, 1_000,
        "an update keeps the creation time"
    );
    assert_eq!(roles[1].updated_at, 2_000);
    assert!(store.delete_role("auditor").await.unwrap());
    assert!(!store.delete_role("auditor").await.unwrap());
    assert_eq!(store.list_roles().await.unwrap().len(), 1);
}

async fn grants_list_by_principal<S: Store>(store: &S) {
    let grant = |id: &str, principal: &str, at: i64| GrantRecord {
        id: id.to_owned(),
        principal: principal.to_owned(),
        role: "supervisor".into(),
        not_before: Some(at + 10),
        not_after: Some(at + 3_600),
        created_at: at,
        created_by: "user:u1".into(),
    };
    store
        .insert_grant(&grant("g2", "user:u0", 2_000))
        .await
        .unwrap();
    store
        .insert_grant(&grant("g1", "user:u0", 1_000))
        .await
        .unwrap();
    store
        .insert_grant(&grant("g3", "key:0000000b", 1_500))
        .await
        .unwrap();
    let err = store
        .insert_grant(&grant("g3", "key:0000000b", 1_500))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict), "{err}");
    let ids = |gs: Vec<GrantRecord>| gs.into_iter().map(|g| g.id).collect::<Vec<_>>();
    assert_eq!(
        ids(store.list_grants(None).await.unwrap()),
        ["g1", "g3", "g2"]
    );
    assert_eq!(
        ids(store.list_grants(Some("user:u0")).await.unwrap()),
        ["g1", "g2"]
    );
    assert_eq!(
        store.list_grants(Some("key:0000000b")).await.unwrap()[0],
        grant("g3", "key:0000000b", 1_500)
    );
    assert!(store.delete_grant("g1").await.unwrap());
    assert!(!store.delete_grant("g1").await.unwrap());
    assert_eq!(
        ids(store.list_grants(Some("user:u0")).await.unwrap()),
        ["g2"]
    );
}
