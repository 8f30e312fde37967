//! Incident response: lockdown (503 for everyone but administrators),
//! mass revocation, and the report a breach notification needs.
//!
//! Lockdown is a setting in the store, so `amanah incident lockdown on`
//! reaches every gateway on that store: each one re-reads it every
//! [`LOCKDOWN_POLL`] and raises the `lockdown` alert when it changes.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use amanah_audit::{DetailValue, Event, Outcome};
use amanah_store::{RevokeOutcome, SettingRecord, Store, StoreError};
use serde::Serialize;
use tokio::sync::watch;

use crate::keys::{KeyError, KeyService};
use crate::users::{UserError, UserService};

/// The setting that holds the lockdown state (`on` or `off`).
pub const LOCKDOWN_SETTING: &str = "lockdown";
/// How soon a gateway follows a lockdown set by another process.
pub const LOCKDOWN_POLL: Duration = Duration::from_secs(1);

/// Whether this gateway is in lockdown, as the store last said.
pub struct Lockdown {
    active: AtomicBool,
    store: Arc<dyn Store>,
    /// The setting as last read, to notice changes.
    seen: Mutex<Option<SettingRecord>>,
}

impl std::fmt::Debug for Lockdown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lockdown")
            .field("active", &self.active())
            .finish_non_exhaustive()
    }
}

impl Lockdown {
    /// Reads the current state; a gateway started during an incident
    /// starts locked down.
    pub async fn load(store: Arc<dyn Store>) -> Result<Self, StoreError> {
        let setting = store.setting(LOCKDOWN_SETTING).await?;
        Ok(Self {
            active: AtomicBool::new(is_on(setting.as_ref())),
            store,
            seen: Mutex::new(setting),
        })
    }

    pub fn active(&self) -> bool {
        self.active.load(Ordering::Relaxed)
    }

    /// Re-reads the setting; returns it when it changed since last read.
    pub async fn refresh(&self) -> Result<Option<SettingRecord>, StoreError> {
        let setting = self.store.setting(LOCKDOWN_SETTING).await?;
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        if *seen == setting {
            return Ok(None);
        }
        self.active
            .store(is_on(setting.as_ref()), Ordering::Relaxed);
        seen.clone_from(&setting);
        Ok(setting)
    }
}

fn is_on(setting: Option<&SettingRecord>) -> bool {
    setting.is_some_and(|s| s.value == "on")
}

/// Turns lockdown on or off in the store (every gateway on it follows
/// within [`LOCKDOWN_POLL`]).
pub async fn set_lockdown(
    store: &dyn Store,
    on: bool,
    by: &str,
    now: i64,
) -> Result<(), StoreError> {
    store
        .put_setting(&SettingRecord {
            name: LOCKDOWN_SETTING.to_owned(),
            value: if on { "on" } else { "off" }.to_owned(),
            updated_at: now,
            updated_by: by.to_owned(),
        })
        .await
}

/// Follows the lockdown setting until `shutdown`, logging each change.
/// (Its alert comes from the `incident.lockdown` event the changing
/// process wrote, which the audit writer shows to the rules.)
pub async fn follow_lockdown(lockdown: Arc<Lockdown>, mut shutdown: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(LOCKDOWN_POLL);
    loop {
        tokio::select! {
            _ = tick.tick() => match lockdown.refresh().await {
                Ok(Some(changed)) => tracing::warn!(
                    target: "amanah::incident",
                    state = %changed.value,
                    by = %changed.updated_by,
                    "lockdown changed"
                ),
                Ok(None) => {}
                Err(e) => tracing::warn!(
                    target: "amanah::incident",
                    error = %e,
                    "the lockdown setting could not be read; keeping the last known state"
                ),
            },
            _ = shutdown.changed() => return,
        }
    }
}

/// What `amanah incident revoke` revoked.
#[derive(Debug, Default, Serialize)]
pub struct Revoked {
    /// API keys revoked now (already revoked ones are not counted).
    pub keys: Vec<String>,
    /// Users whose sessions were ended and who were disabled.
    pub users: Vec<String>,
    /// Admin sessions ended.
    pub sessions: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum RevokeError {
    #[error("{0}")]
    Keys(#[from] KeyError),
    #[error("{0}")]
    Users(#[from] UserError),
}

/// Revokes one key.
pub async fn revoke_key(keys: &KeyService, id: &str, now: i64) -> Result<Revoked, RevokeError> {
    let mut out = Revoked::default();
    match keys.revoke(id, now).await? {
        RevokeOutcome::Revoked => out.keys.push(id.to_owned()),
        RevokeOutcome::AlreadyRevoked => {}
        RevokeOutcome::NotFound => return Err(KeyError::NotFound.into()),
    }
    Ok(out)
}

/// Ends every session of `username` and disables the account, so a
/// stolen password or session is worthless until an administrator
/// re-enables it (`amanah users enable`).
pub async fn revoke_user(
    users: &UserService,
    username: &str,
    now: i64,
) -> Result<Revoked, RevokeError> {
    let mut out = Revoked::default();
    users.disable(username, now).await?;
    out.sessions = users.revoke_sessions(username, now).await?;
    out.users.push(username.to_owned());
    Ok(out)
}

/// Every API key revoked and every admin session ended. Accounts stay
/// enabled: administrators sign in again (with their second factor).
pub async fn revoke_all(
    keys: &KeyService,
    users: &UserService,
    now: i64,
) -> Result<Revoked, RevokeError> {
    let mut out = Revoked::default();
    for key in keys.list(now).await? {
        if key.revoked_at.is_none() {
            if let RevokeOutcome::Revoked = keys.revoke(&key.id, now).await? {
                out.keys.push(key.id);
            }
        }
    }
    for user in users.list(now).await? {
        out.sessions += users.revoke_sessions(&user.username, now).await?;
    }
    Ok(out)
}

/// What a window of the audit log touched: the facts a breach
/// notification (GDPR art. 33, within 72 hours) is written from.
#[derive(Debug, Default, Serialize)]
pub struct Report {
    pub since_unix_ms: i64,
    pub events: u64,
    pub first_seq: Option<u64>,
    pub last_seq: Option<u64>,
    /// Actors by name, with how many events each caused and how many of
    /// them failed or were denied.
    pub actors: BTreeMap<String, ActorActivity>,
    /// Data subjects touched, by the keyed hash of their id (the log never
    /// holds the id; `amanah incident report --subject ID` checks one).
    pub subjects: BTreeMap<String, u64>,
    /// Records read, written, exported or deleted, with the actions.
    pub records: BTreeMap<String, BTreeSet<String>>,
    /// Changes to keys, users, roles, grants and the lockdown, in order.
    pub changes: Vec<Change>,
    /// Failed authentications by client address.
    pub auth_failures_by_ip: BTreeMap<String, u64>,
}

#[derive(Debug, Default, Serialize)]
pub struct ActorActivity {
    pub events: u64,
    pub refused: u64,
    pub actions: BTreeSet<String>,
    pub addresses: BTreeSet<String>,
}

#[derive(Debug, Serialize)]
pub struct Change {
    pub seq: u64,
    pub time_unix_ms: i64,
    pub actor: String,
    pub action: String,
    pub resource: String,
    pub outcome: String,
}

/// Actions that change who may do what.
const CHANGE_PREFIXES: &[&str] = &[
    "key.create",
    "key.revoke",
    "key.rotate",
    "user.",
    "role.put",
    "role.delete",
    "grant.create",
    "grant.revoke",
    "mfa.",
    "incident.",
    "keyring.",
    "subject.erase",
    "tenant.erase",
];

impl Report {
    pub fn new(since_unix_ms: i64) -> Self {
        Self {
            since_unix_ms,
            ..Self::default()
        }
    }

    /// Adds one event of the window.
    pub fn add(&mut self, e: &Event) {
        self.events += 1;
        self.first_seq.get_or_insert(e.seq);
        self.last_seq = Some(e.seq);
        let refused = matches!(e.outcome, Outcome::Failure | Outcome::Denied);
        if e.actor != "-" {
            let a = self.actors.entry(e.actor.clone()).or_default();
            a.events += 1;
            a.refused += u64::from(refused);
            a.actions.insert(e.action.clone());
            if let Some(ip) = &e.client_ip {
                a.addresses.insert(ip.clone());
            }
        }
        if let Some(DetailValue::Hmac(h)) = e.details.get("subject") {
            *self
                .subjects
                .entry(amanah_audit::hex_encode(h))
                .or_default() += 1;
        }
        if let Some(id) = e.resource.strip_prefix("record:") {
            if e.outcome == Outcome::Success {
                self.records
                    .entry(id.to_owned())
                    .or_default()
                    .insert(e.action.clone());
            }
        }
        if CHANGE_PREFIXES.iter().any(|p| e.action.starts_with(p))
            && !e.action.ends_with(".list")
            && !e.action.ends_with(".read")
        {
            self.changes.push(Change {
                seq: e.seq,
                time_unix_ms: e.time_unix_ms,
                actor: e.actor.clone(),
                action: e.action.clone(),
                resource: e.resource.clone(),
                outcome: e.outcome.to_string(),
            });
        }
        if e.action.starts_with("auth.") && e.outcome == Outcome::Failure {
            if let Some(ip) = &e.client_ip {
                *self.auth_failures_by_ip.entry(ip.clone()).or_default() += 1;
            }
        }
    }
}

/// The keyed hash a subject id is logged as, in the report's hex form.
pub fn subject_hash(audit_hasher: &amanah_audit::DetailHasher, subject: &str) -> String {
    match audit_hasher.hash("subject", subject) {
        DetailValue::Hmac(h) => amanah_audit::hex_encode(&h),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(seq: u64, actor: &str, action: &str, resource: &str, outcome: Outcome) -> Event {
        let mut e = Event::new(seq as i64, "n", actor, action, resource, outcome);
        e.seq = seq;
        e.client_ip = Some("203.0.113.9".into());
        e
    }

    #[test]
    fn the_report_names_actors_subjects_records_and_changes() {
        let hasher = amanah_audit::DetailHasher::new(&[3u8; 32]).unwrap();
        let mut r = Report::new(0);
        let mut read = event(1, "key:aa", "record.read", "record:r1", Outcome::Success);
        read.details
            .insert("subject".into(), hasher.hash("subject", "alice"));
        r.add(&read);
        r.add(&event(
            2,
            "key:aa",
            "record.read",
            "record:r2",
            Outcome::Denied,
        ));
        r.add(&event(
            3,
            "user:u1",
            "key.create",
            "key:bb",
            Outcome::Success,
        ));
        r.add(&event(4, "user:u1", "key.list", "key", Outcome::Success));
        r.add(&event(5, "-", "auth.request", "-", Outcome::Failure));
        assert_eq!(r.events, 5);
        assert_eq!((r.first_seq, r.last_seq), (Some(1), Some(5)));
        assert_eq!(r.actors["key:aa"].events, 2);
        assert_eq!(r.actors["key:aa"].refused, 1);
        assert!(!r.actors.contains_key("-"));
        assert_eq!(r.subjects[&subject_hash(&hasher, "alice")], 1);
        assert_eq!(
            r.records.keys().collect::<Vec<_>>(),
            ["r1"],
            "only what succeeded"
        );
        assert_eq!(r.changes.len(), 1, "listings are no changes");
        assert_eq!(r.changes[0].action, "key.create");
        assert_eq!(r.auth_failures_by_ip["203.0.113.9"], 1);
    }
}
